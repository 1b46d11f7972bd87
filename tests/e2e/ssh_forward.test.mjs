// ssh_forward.test.mjs - resources/ssh_forward.c proven against a real sshd
// (tests/fixtures/sshd.sh) through tests/tools/ssh_forward_once: 1 MiB of
// random bytes through a direct-tcpip channel to a TCP echo server on
// loopback and back, unchanged, with the counters; a forward to a port
// where nothing listens, to an sshd configured without forwarding, and
// with a certificate that does not permit it, each refused with the
// reason (and the connection still forwarding after a refusal); a bad
// request refused before anything is sent.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSshd } from './lib/sshd.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = process.env.ZT_BUILD ?? path.join(root, 'build');
const tool = path.join(build, 'tests/tools/ssh_forward_once');
let sshd, closedSshd, echo, echoPort;

// Runs the tool (asynchronously: the echo server lives in this process)
// with input on stdin; resolves {status, stdout (Buffer), stderr}.
function forward(server, args, input = Buffer.alloc(0)) {
  return new Promise((resolve, reject) => {
    const p = spawn(tool, ['--ca-dir', server.caDir, '--port', String(server.port),
      '--host-key-file', server.hostKey, '--login', server.user, ...args]);
    const out = [], err = [];
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('error', reject);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
    });
    p.stdin.on('error', () => {});  // a refused forward may exit before reading it all
    p.stdin.end(input);
  });
}

// A port on 127.0.0.1 where nothing listens (just freed by a listener).
async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  sshd = startSshd();
  // A second sshd trusting the same CA, with forwarding turned off.
  closedSshd = startSshd({ userCa: fs.readFileSync(path.join(sshd.dir, 'user_ca.pub')),
    extraConfig: 'AllowTcpForwarding no\n' });
  closedSshd.caDir = sshd.caDir;
  echo = net.createServer((s) => s.pipe(s));
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = echo.address().port;
});

after(async () => {
  sshd?.stop();
  closedSshd?.stop();
  if (echo) await new Promise((r) => echo.close(r));
});

test('1 MiB of random bytes goes through the forward and comes back unchanged', async () => {
  const data = crypto.randomBytes(1 << 20);
  const r = await forward(sshd, ['--to-port', String(echoPort)], data);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.length, data.length);
  assert.ok(r.stdout.equals(data), 'the bytes that came back differ');
  assert.match(r.stderr, new RegExp(`^sent ${data.length} received ${data.length}$`, 'm'));
});

test('a forward to a port where nothing listens is refused: connect failed', async () => {
  const port = await closedPort();
  const r = await forward(sshd, ['--to-port', String(port)], Buffer.from('x'));
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`ssh_forward_once: .*: the host refused the forward to ` +
    `127\\.0\\.0\\.1:${port}: connect failed`));
});

test('after a refusal the same connection forwards', async () => {
  const data = crypto.randomBytes(4096);
  const r = await forward(sshd, ['--refused-first', String(await closedPort()),
    '--to-port', String(echoPort)], data);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.equals(data), 'the bytes that came back differ');
});

test('an sshd with AllowTcpForwarding no refuses: administratively prohibited', async () => {
  const r = await forward(closedSshd, ['--to-port', String(echoPort)], Buffer.from('x'));
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`the host refused the forward to 127\\.0\\.0\\.1:${echoPort}: ` +
    'administratively prohibited'));
});

test('a certificate without permit-port-forwarding is refused the same way', async () => {
  const r = await forward(sshd, ['--no-permit', '--to-port', String(echoPort)], Buffer.from('x'));
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /the host refused the forward to .*: administratively prohibited/);
});

test('a bad request is refused before anything is sent', async () => {
  for (const args of [['--to-port', '0'], ['--to-port', '65536'],
    ['--to-port', String(echoPort), '--to-host', 'a\x01b'],
    ['--to-port', String(echoPort), '--to-host', 'x'.repeat(256)]]) {
    const r = await forward(sshd, args);
    assert.equal(r.status, 4, `${JSON.stringify(args)}: ${r.stderr}`);
    assert.match(r.stderr, /bad forward request/);
  }
});
