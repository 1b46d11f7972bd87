// The broker's process and its log, end to end: a request URL cannot forge
// log lines or put terminal escapes into the broker's stderr, and a crash
// of ztbroker or ztagent writes no core file (which would hold the keys).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { admin, request, sshHostKey, startBroker, stopChecked, tmpdir, ZTAGENT, ZTBROKER } from './lib/zt.mjs';

let broker;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  await stopChecked(broker);
});

test('a URL with %0a and %1b forges no log line and no terminal escape', async () => {
  const r = await request(broker, 'GET', '/v1/x%0aforged%1b[31m');
  assert.equal(r.status, 404);
  let log = '';
  // The request line is logged after the answer is made; wait for it.
  for (let i = 0; i < 50 && !/GET \/v1\/x/.test(log); i++) {
    await new Promise((res) => setTimeout(res, 100));
    log = broker.log.join('');
  }
  const line = log.split('\n').find((l) => l.includes('GET /v1/x'));
  assert.ok(line, `the request is logged:\n${log}`);
  assert.match(line, /GET \/v1\/x\\nforged\\x1b\[31m 404 from 127\.0\.0\.1$/);
  assert.ok(!log.split('\n').some((l) => l.startsWith('forged')), log);
  assert.ok(!log.includes('\x1b'), 'no ESC byte in the log');
});

// Runs cmd in a fresh directory from a shell that allows core files of any
// size (core_pattern "core" writes them into the working directory), waits
// for ready on stdout, sends SIGABRT and returns the names in that
// directory once the process is gone.
async function abortWithCoreLimitRaised(cmd, args, ready, env = {}) {
  const cwd = tmpdir('zt-core-');
  const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const proc = spawn('sh', ['-c', `ulimit -c unlimited && exec ${quoted}`],
    { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('close', (code, sig) => r({ code, sig })));
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { out += d; if (ready.test(out)) resolve(); });
    exited.then((e) => reject(new Error(`exited early ${JSON.stringify(e)}: ${err}`)));
  });
  const limits = fs.readFileSync(`/proc/${proc.pid}/limits`, 'utf8');
  proc.kill('SIGABRT');
  const e = await exited;
  assert.equal(e.sig, 'SIGABRT', err);
  return { names: fs.readdirSync(cwd), limits };
}

test('ztbroker killed by SIGABRT writes no core file despite ulimit -c unlimited', async () => {
  const dir = tmpdir('zt-core-data-');
  const { names, limits } = await abortWithCoreLimitRaised(ZTBROKER,
    ['serve', '--data-dir', path.join(dir, 'data'), '--listen', '127.0.0.1:0'], /^CA pin: /m);
  assert.match(limits, /^Max core file size\s+0\s+0\s/m);
  assert.deepEqual(names.filter((n) => n.startsWith('core')), []);
});

test('ztagent killed by SIGABRT writes no core file despite ulimit -c unlimited', async () => {
  const tb = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  try {
    const token = admin(tb, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
    const { names, limits } = await abortWithCoreLimitRaised(ZTAGENT, ['--broker',
      `127.0.0.1:${tb.tunnelPort}`, '--ca-pin', tb.pin, '--data-dir', path.join(tmpdir(), 'data'),
      '--name', 'core1', '--ssh-host-key', sshHostKey()], /joined as/, { ZT_JOIN_TOKEN: token });
    assert.match(limits, /^Max core file size\s+0\s+0\s/m);
    assert.deepEqual(names.filter((n) => n.startsWith('core')), []);
  } finally {
    await stopChecked(tb);
  }
});
