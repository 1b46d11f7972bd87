// ssh_exec.test.mjs - resources/ssh_exec.c proven against a real sshd (tests/fixtures/sshd.sh)
// through tests/tools/ssh_exec_once: a fresh per-call certificate logs in as the requested
// login, exit codes and stderr pass through, output is capped, timeout and cancellation kill
// the command (root included) and close the channel, a wrong host key is refused before authentication, an unknown login
// fails authentication, and sshd logs the per-call key id.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, startSshd } from './lib/sshd.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = process.env.ZT_BUILD ?? path.join(root, 'build');
const once = path.join(build, 'tests/tools/ssh_exec_once');

let sshd;
let dir;
let caDir;
const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
let port;
let hostKey;
let callNo = 0;

function run(command, { port: p = port, login = user, timeoutMs = 10000, maxOutput, cancelAfterMs,
  hostKeyFile = hostKey, callId } = {}) {
  callId ??= `${process.pid}-${++callNo}`;
  const args = ['--ca-dir', caDir, '--port', String(p), '--host-key-file', hostKeyFile,
    '--login', login, '--timeout-ms', String(timeoutMs), '--call-id', callId,
    '--serial', String(1000 + callNo)];
  if (maxOutput !== undefined) args.push('--max-output', String(maxOutput));
  if (cancelAfterMs !== undefined) args.push('--cancel-after-ms', String(cancelAfterMs));
  args.push('--', command);
  const r = spawnSync(once, args, { encoding: 'utf8', timeout: 60000,
    maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `ssh_exec_once failed: ${r.stderr}`);
  return { ...JSON.parse(r.stdout), callId };
}

before(() => {
  sshd = startSshd();
  ({ port, caDir, dir } = sshd);
  hostKey = sshd.hostKey;
});

after(() => sshd?.stop());

test('id -un returns the requested login and sshd logs the per-call key id', () => {
  const r = run('id -un');
  assert.equal(r.status, 'ok', r.error);
  assert.equal(r.exit_code, 0);
  assert.equal(r.stdout, `${user}\n`);
  assert.equal(r.stderr, '');
  assert.equal(r.error, '');
  assert.equal(r.key_id, `zt:user:e2e:${r.callId}`);
  sshd.assertLogged(`Accepted certificate ID "${r.key_id}" (serial ${r.serial})`);
});

test('exit codes pass through and stderr is captured separately', () => {
  const r = run("echo to-out; echo to-err >&2; sh -c 'exit 3'");
  assert.equal(r.status, 'ok', r.error);
  assert.equal(r.exit_code, 3);
  assert.equal(r.stdout, 'to-out\n');
  assert.equal(r.stderr, 'to-err\n');
  assert.equal(r.truncated_stdout, false);
  assert.equal(r.truncated_stderr, false);
});

test('output past --max-output is truncated and flagged, on both streams', () => {
  // 3 MB on each stream, interleaved: reading one stream only would deadlock.
  const r = run('for i in 1 2 3; do head -c 1000000 /dev/zero | tr "\\0" a; ' +
    'head -c 1000000 /dev/zero | tr "\\0" b >&2; done; exit 5', { maxOutput: 1000 });
  assert.equal(r.status, 'ok', r.error);
  assert.equal(r.exit_code, 5);
  assert.equal(r.stdout, 'a'.repeat(1000));
  assert.equal(r.stderr, 'b'.repeat(1000));
  assert.equal(r.truncated_stdout, true);
  assert.equal(r.truncated_stderr, true);
  const small = run('echo 12345', { maxOutput: 6 });
  assert.equal(small.stdout, '12345\n');
  assert.equal(small.truncated_stdout, false);
});

// A command that records its pid (its process group: sshd makes it a session
// leader), then outlives any call.
function longCommand() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-exec-'));
  fs.chmodSync(d, 0o777);
  const pidFile = path.join(d, 'pid');
  return { pidFile, command: `echo $$ > ${pidFile}; echo started; sleep 30; echo late` };
}

// Waits until no process is left in group pgid; kills any that is (no
// stray processes either way) and fails.
function assertGroupKilled(pidFile) {
  const pgid = fs.readFileSync(pidFile, 'utf8').trim();
  const alive = () => spawnSync('pgrep', ['-g', pgid]).status === 0;
  for (let i = 0; i < 50 && alive(); i++) sleep(100);
  const left = alive();
  if (left) spawnSync('pkill', ['-KILL', '-g', pgid]);
  fs.rmSync(path.dirname(pidFile), { recursive: true, force: true });
  assert.equal(left, false, `process group ${pgid} still runs on the host`);
}

test('a command outliving the timeout gives TIMEOUT, not its output, and is killed', () => {
  const { pidFile, command } = longCommand();
  // Long enough for the handshake even under a sanitizer: the command runs.
  const r = run(command, { timeoutMs: 2500 });
  assert.equal(r.status, 'timeout');
  assert.equal(r.exit_code, -1);
  assert.match(r.error, /^timed out after 2500 ms while running; the command was killed and the channel closed$/);
  assertGroupKilled(pidFile);
  // It did not wait for the command: what came after the deadline never did.
  assert.doesNotMatch(r.stdout, /late/);
  assert.ok(r.duration_ms >= 2400, `stopped before the deadline: ${r.duration_ms} ms`);
});

test('progress is reported about once a second while a command runs', () => {
  const r = run('echo started; sleep 2.6; echo done');
  assert.equal(r.status, 'ok', r.error);
  assert.equal(r.stdout, 'started\ndone\n');
  // About once a second: at least twice in 2.6 s, never more than once per
  // second the call took (plus the first).
  assert.ok(r.progress_calls >= 2 && r.progress_calls <= Math.floor(r.duration_ms / 1000) + 1,
    `progress ${r.progress_calls} in ${r.duration_ms} ms`);
  // The last report counts the output so far: "started", or all of it when
  // the command started late on a busy host and its third second came
  // after "done" arrived (before EOF). Either way, not a fixed timing.
  assert.ok(['started\n'.length, 'started\ndone\n'.length].includes(r.progress_last_out),
    `progress_last_out ${r.progress_last_out}`);
});

test('cancellation gives CANCELLED, not the output after it, and kills the command', () => {
  const { pidFile, command } = longCommand();
  const r = run(command, { cancelAfterMs: 2000 });
  assert.equal(r.status, 'cancelled');
  assert.equal(r.exit_code, -1);
  assert.match(r.error, /^cancelled while running; the command was killed/);
  assertGroupKilled(pidFile);
  assert.doesNotMatch(r.stdout, /late/);
  assert.ok(r.duration_ms >= 1900, `ended before the cancellation: ${r.duration_ms} ms`);
});

test('a different host key gives HOSTKEY_MISMATCH before any auth attempt', () => {
  const other = path.join(dir, 'other_host_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'other', '-f', other]);
  const before = sshd.log().length;
  const r = run('id -un', { hostKeyFile: `${other}.pub` });
  assert.equal(r.status, 'hostkey_mismatch');
  assert.equal(r.stdout, '');
  assert.match(r.error, /host key/);
  sleep(300);
  const tail = sshd.log().slice(before);
  assert.ok(!tail.includes(r.key_id), `sshd saw the key id:\n${tail}`);
  assert.doesNotMatch(tail, /Accepted|Failed publickey|certificate/i, tail);
});

test('a login that does not exist on the host gives AUTH_FAILED', () => {
  const login = `zt-nouser-${process.pid}`;
  const r = run('id -un', { login });
  assert.equal(r.status, 'auth_failed');
  assert.equal(r.exit_code, -1);
  assert.equal(r.stdout, '');
  assert.ok(r.error.includes(login), r.error);
  sshd.assertLogged(`Invalid user ${login}`);
});

test('a server that never answers: timeout and cancellation during the handshake', async () => {
  // The kernel completes the TCP connection from the listen backlog; nothing ever speaks.
  const server = net.createServer(() => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const silent = server.address().port;
  try {
    const t = run('true', { port: silent, timeoutMs: 800 });
    assert.equal(t.status, 'timeout');
    assert.match(t.error, /during SSH handshake/);
    assert.ok(t.duration_ms >= 700, `stopped before the deadline: ${t.duration_ms} ms`);
    // Cancelled, so well before its 10 s deadline (that would say "timeout").
    const c = run('true', { port: silent, timeoutMs: 10000, cancelAfterMs: 300 });
    assert.equal(c.status, 'cancelled');
    assert.match(c.error, /during SSH handshake/);
  } finally {
    server.close();
  }
});
