// `ztctl cp` end to end (cli/cli_cmd_cp.h): the real ztctl, logged in as a
// user with the role "files", -> a real broker (file_read / file_write with
// transfer "link" over MCP, then the one-time link) -> a real ztagent -> a
// real OpenSSH sshd (lib/files.mjs). What arrives on either side, what a
// refusal leaves (the local file as it was), the exit codes, and `ztctl ls
// -q` and the bash completion of HOST: on the same broker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  applyRole, auditEvents, BUILD, tmpdir, totp, ZTCTL, ztctl, ztctlAccount, ztctlLogin,
} from './lib/zt.mjs';
import { startFiles } from './lib/files.mjs';

let F;
let A;       // the allowed tree on the "host"
let home;    // ZT_HOME of the logged-in user
let local;   // the test's local directory

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
// ztctl with the user's profile, and USER set as ssh would read it.
const cp = (...args) => ztctl(['cp', ...args], { home, env: { USER: F.user } });
const leftovers = (dir) => fs.readdirSync(dir).filter((n) => n.includes('.ztcp-'));

before(async () => {
  F = await startFiles({ fileMax: '1M', botName: 'cp-bot' });
  A = F.allowed;
  home = await ztctlLogin(F.broker, 'cpuser', 'files');
  local = tmpdir('zt-cp-local-');
});

after(async () => {
  await F?.stop();
  if (local) fs.rmSync(local, { recursive: true, force: true });
});

test('a 20 MiB file goes up and comes back whole, streamed through the links; audited as the user', async () => {
  const data = crypto.randomBytes(20 * 1024 * 1024);
  const src = path.join(local, 'src.bin');
  fs.writeFileSync(src, data);

  const up = await cp(src, `web1:${A}/big.bin`);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout + up.stderr, '', 'quiet when stderr is not a terminal');
  assert.equal(sha256(fs.readFileSync(path.join(A, 'big.bin'))), sha256(data));

  const dst = path.join(local, 'copy.bin');
  const down = await cp(`${F.user}@web1:${A}/big.bin`, dst);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(sha256(fs.readFileSync(dst)), sha256(data));
  assert.deepEqual(leftovers(local), []);

  // The same through the gate as any call: both ends audited for the user.
  const ends = auditEvents(F.broker, 'file.transfer').filter((e) => e.actor === 'user:cpuser');
  assert.deepEqual(ends.map((e) => [e.details.direction, e.details.status, e.details.bytes,
    e.details.sha256]), [['write', 'ok', data.length, sha256(data)], ['read', 'ok', data.length, sha256(data)]]);

  // A directory on either side takes the other side's name.
  const into = path.join(local, 'into');
  fs.mkdirSync(into);
  const r1 = await cp(`web1:${A}/big.bin`, into);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(sha256(fs.readFileSync(path.join(into, 'big.bin'))), sha256(data));
  const r2 = await cp(src, `web1:${A}/`);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(sha256(fs.readFileSync(path.join(A, 'src.bin'))), sha256(data));
});

test('a downloaded file gets the remote mode less the umask; an empty file is copied too', async () => {
  fs.writeFileSync(path.join(A, 'run.sh'), '#!/bin/sh\n');
  fs.chmodSync(path.join(A, 'run.sh'), 0o750);
  const r = await cp(`web1:${A}/run.sh`, path.join(local, 'run.sh'));
  assert.equal(r.code, 0, r.stderr);
  const umask = process.umask();
  assert.equal(fs.statSync(path.join(local, 'run.sh')).mode & 0o777, 0o750 & ~umask);

  fs.writeFileSync(path.join(local, 'empty'), '');
  const e = await cp(path.join(local, 'empty'), `web1:${A}/empty`);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(fs.readFileSync(path.join(A, 'empty')).length, 0);
});

test('a path the role denies: exit 1 with the rule, and the local file is left as it was', async () => {
  fs.writeFileSync(path.join(A, 'private', 'secret.txt'), 'secret\n');
  const dst = path.join(local, 'keep.txt');
  fs.writeFileSync(dst, 'keep me\n');

  const r = await cp(`web1:${A}/private/secret.txt`, dst);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ztctl cp: deny: role files denies tool file_read .* path ".*\/private\/secret\.txt"/m);
  assert.equal(fs.readFileSync(dst, 'utf8'), 'keep me\n');
  assert.deepEqual(leftovers(local), []);

  const w = await cp(dst, `web1:${A}/private/new.txt`);
  assert.equal(w.code, 1);
  assert.match(w.stderr, /^ztctl cp: deny: role files denies tool file_write /m);
  assert.ok(!fs.existsSync(path.join(A, 'private', 'new.txt')));
});

test('a missing remote file: exit 1 with a clear error, nothing written locally', async () => {
  const dst = path.join(local, 'never.txt');
  const r = await cp(`web1:${A}/no-such.txt`, dst);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ztctl cp: .*no such file/im);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(!fs.existsSync(dst));
  assert.deepEqual(leftovers(local), []);

  // A missing local file, and a relative remote path (the broker's word).
  const m = await cp(path.join(local, 'nope'), `web1:${A}/x`);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /^ztctl cp: .*nope: No such file or directory$/m);
  const rel = await cp(`web1:relative.txt`, dst);
  assert.equal(rel.code, 1);
  assert.match(rel.stderr, /^ztctl cp: .*absolute/m);
});

test('a call held for the caller\'s MFA step-up: the message says where to answer; cp waits, then copies', async () => {
  applyRole(F.broker, `kind: role\nname: files-mfa\nallow:\n  hosts: {env: staging}\n  logins: [${F.user}]\n`
    + `  tools: ["file_*", list_hosts]\n  paths: ["${A}/**"]\noptions:\n  mfa: per_call\n`);
  const mia = await ztctlAccount(F.broker, 'mia', 'files-mfa');
  fs.writeFileSync(path.join(A, 'held.txt'), 'held\n');
  const dst = path.join(local, 'held.txt');
  // Not a terminal on standard input: no prompt, only the message.
  const p = spawn(ZTCTL, ['cp', `web1:${A}/held.txt`, dst], {
    env: { ...process.env, ZT_HOME: mia.home, USER: F.user }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const done = new Promise((resolve) => p.on('close', (code) => resolve(code)));
  const id = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no held-call message: ${stderr}`)), 15000);
    p.stderr.on('data', (d) => {
      stderr += d;
      const m = stderr.match(/run `ztctl approve (\S+)`/);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
  });
  assert.match(stderr, /^ztctl cp: zt holds this call \(file_read on web1\) until it gets an MFA step-up by the caller/m);
  assert.ok(!fs.existsSync(dst));
  const up = await ztctl(['approve', id, '--otp', totp(mia.secret, mia.step + 1)], { home: mia.home });
  assert.equal(up.code, 0, up.stderr);
  assert.equal(await done, 0, stderr);
  assert.equal(fs.readFileSync(dst, 'utf8'), 'held\n');
});

test('usage errors exit 2', async () => {
  for (const args of [[], ['only-one'], ['a', 'b'], [`web1:${A}/a`, `web1:${A}/b`], ['-x', 'a', 'web1:/b'],
    ['a', 'b', 'c'], ['@web1:/a', 'b']]) {
    const r = await cp(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: ztctl cp/);
  }
  const h = await cp('--help');
  assert.equal(h.code, 0);
  assert.match(h.stdout, /usage: ztctl cp/);
});

test('ls -q prints only host names; bash completes HOST: for cp from them', async () => {
  const ls = await ztctl(['ls', '-q'], { home });
  assert.equal(ls.code, 0, ls.stderr);
  assert.equal(ls.stdout, 'web1\n');
  const script = spawnSync(ZTCTL, ['completion', 'bash'], { encoding: 'utf8' }).stdout;
  // words: COMP_WORDS as bash splits the line (at COMP_WORDBREAKS too).
  const complete = (line, words = line.split(/\s+/)) => {
    const r = spawnSync('bash', ['-c', `${script}\nCOMP_LINE='${line}'; COMP_POINT=${line.length}; `
      + `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; `
      + '_ztctl; printf "%s\\n" "${COMPREPLY[@]}"'], {
      encoding: 'utf8', cwd: local,
      env: { ...process.env, PATH: `${BUILD}:${process.env.PATH}`, ZT_HOME: home },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(complete('ztctl cp we'), ['web1:']);
  // bash splits "me@we" at '@': the candidate is what follows it.
  assert.deepEqual(complete(`ztctl cp ${F.user}@we`, ['ztctl', 'cp', F.user, '@', 'we']), ['web1:']);
  assert.ok(complete('ztctl cp ke').includes('keep.txt'));
});
