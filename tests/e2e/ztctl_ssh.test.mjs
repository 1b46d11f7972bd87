// `ztctl ssh` end to end, driven through a real pseudo-terminal
// (tests/tools/pty_run): ztctl -> a real broker's /ws/ssh (WebSocket over
// TLS) -> a real ztagent's reverse tunnel -> a real OpenSSH sshd trusting
// only the broker's SSH user CA. The shell's output, exit status and window
// size arrive; the terminal comes back cooked on every way out (the shell
// exiting, ~., the broker killed with SIGKILL); a command keeps stdout and
// stderr apart; policy, per-session MFA and the audit decide as for MCP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, startAgent, startBroker, stopChecked, tmpdir, totp,
  step, until, ZTCTL, ztctl, ztctlAccount, ztctlHome,
} from './lib/zt.mjs';
import { connectProxy } from './lib/proxy.mjs';
import { startSshd, ztctlTerminal } from './lib/sshd.mjs';

let broker;
let sshd;
let agent;
let USER;
let dev;        // {home, secret, step}: a user with role "term"
let ops;        // a user with role "term-mfa" (per_session, 1m), logged in at the start
let opsAt;      // when ops logged in (ms)
let shellEnd;   // the end event of the first shell session
let fwdMfa;     // a user whose forwards need a step-up each (per_call), logged in at the start

// ztctl ssh ARGS in a 80x24 terminal (lib/sshd.mjs).
const terminal = ztctlTerminal;

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  USER = sshd.user;
  applyRole(broker, `kind: role\nname: term\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [ssh_shell, ssh_exec, list_hosts]\n');
  applyRole(broker, `kind: role\nname: term-mfa\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [ssh_shell]\noptions:\n  mfa: per_session\n  mfa_window: 1m\n');
  applyRole(broker, 'kind: role\nname: lister\nallow:\n  tools: [list_hosts]\n');
  applyRole(broker, `kind: role\nname: fwd\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [port_forward]\noptions:\n  port_forwarding: true\n');
  applyRole(broker, `kind: role\nname: nofwd\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [port_forward]\n');
  applyRole(broker, `kind: role\nname: term-typed\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [ssh_shell]\noptions:\n  record_input: true\n');
  const join = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  agent = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
    token: join, hostKey: sshd.hostKey, labels: 'env=staging', ssh: `127.0.0.1:${sshd.port}`, extra: [] });
  assert.ok(agent.joined, agent.out?.stderr);
  dev = await ztctlAccount(broker, 'dev', 'term');
  ops = await ztctlAccount(broker, 'ops1', 'term-mfa');
  opsAt = Date.now();
  applyRole(broker, `kind: role\nname: fwd-mfa\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [port_forward]\noptions:\n  port_forwarding: true\n  mfa: per_call\n');
  fwdMfa = await ztctlAccount(broker, 'fwdmfa', 'fwd-mfa');
});

after(async () => {
  await agent?.stop();
  await stopChecked(broker);
  sshd?.stop();
});

// A session left idle: checked after the MFA test's wait, past the HTTPS
// port's idle timeout (60 s), which an upgraded connection must not have.
let idle;
let idleAt;

test('an idle session starts (checked later)', async () => {
  idle = terminal(dev.home, [`${USER}@web1`]);
  idle.type('stty size\r');
  await idle.waitFor(/24 80/, 'the idle shell');
  idleAt = Date.now();
});

test('a shell: what is typed runs, the size and its changes arrive, the exit status is ztctl\'s', async () => {
  const t = terminal(dev.home, [`${USER}@web1`]);
  t.type('stty size\r');
  await t.waitFor(/24 80/, 'the first size');
  t.resize();
  await until(() => { t.type('stty size\r'); return /30 100/.test(t.out); }, 'the new size', 10000);
  t.type('echo h""i; exit 3\r');
  const r = await t.done;
  assert.equal(r.code, 3, r.err);
  assert.match(r.out, /\bhi\b/);
  assert.match(r.err, /terminal cooked/);
  const ends = auditEvents(broker, 'tool.ssh_shell.result');
  assert.equal(ends.at(-1).outcome, 'success');
  assert.equal(ends.at(-1).details.exit_status, 3);
  assert.equal(ends.at(-1).details.status, 'exited');
  shellEnd = ends.at(-1);
});

// The session above was recorded: it plays back with what it showed, not
// what was typed (the role records no input); its end event binds the
// file, so one byte changed is named by audit verify.
test('the session plays back, and an edited recording is named by audit verify', async () => {
  const rec = shellEnd.details.recording;
  assert.match(rec.id, /^[0-9a-f]{32}$/);
  const file = path.join(broker.dataDir, 'recordings', `${rec.id}.cast`);
  assert.equal(fs.statSync(file).size, rec.bytes);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const ls = await ztctl(['recordings', 'ls'], { home: dev.home });
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, new RegExp(rec.id));
  const play = await ztctl(['play', rec.id, '--speed', '100'], { home: dev.home });
  assert.equal(play.code, 0, play.stderr);
  assert.match(play.stdout, /\bhi\b/);
  assert.match(play.stdout, /24 80/);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l));
  assert.ok(lines.some((e) => e[1] === 'r' && e[2] === '100x30'), 'the resize is recorded');
  assert.ok(!lines.some((e) => e[1] === 'i'), 'no input without record_input');
  assert.equal(admin(broker, 'audit', 'verify').code, 0);
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf('hi');
  bytes[at] = 'X'.charCodeAt(0);
  fs.writeFileSync(file, bytes);
  const v = admin(broker, 'audit', 'verify');
  assert.equal(v.code, 1);
  assert.match(v.stdout, new RegExp(`#${shellEnd.seq}\\b`));
  assert.match(v.stdout + v.stderr, new RegExp(rec.id));
  bytes[at] = 'h'.charCodeAt(0);
  fs.writeFileSync(file, bytes);
  assert.equal(admin(broker, 'audit', 'verify').code, 0);
});

test('a role with record_input: true records what is typed too', async () => {
  const typist = await ztctlAccount(broker, 'typist', 'term-typed');
  const t = terminal(typist.home, [`${USER}@web1`]);
  t.type('echo typed-secret-ish; exit 0\r');
  const r = await t.done;
  assert.equal(r.code, 0, r.out + r.err);
  const rec = auditEvents(broker, 'tool.ssh_shell.result').at(-1).details.recording;
  const lines = fs.readFileSync(path.join(broker.dataDir, 'recordings', `${rec.id}.cast`), 'utf8')
    .trim().split('\n').slice(1).map((l) => JSON.parse(l));
  assert.match(lines.filter((e) => e[1] === 'i').map((e) => e[2]).join(''), /echo typed-secret-ish/);
});

test('~. ends a session whatever runs, and the terminal is restored', async () => {
  const t = terminal(dev.home, [`${USER}@web1`]);
  t.type('stty size\r');
  await t.waitFor(/24 80/, 'the shell');
  t.type('sleep 100\r');
  t.type('\r~.');
  const r = await t.done;
  assert.equal(r.code, 255);
  assert.match(r.out + r.err, /closed \(~\.\)/);
  assert.match(r.err, /terminal cooked/);
});

test('a command: stdout and stderr apart, its status, no terminal unless -t', async () => {
  const r = await ztctl(['ssh', `${USER}@web1`, 'echo out; echo err >&2; test -t 0; exit 7'],
    { home: dev.home });
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.match(r.stderr, /^err$/m);
  const input = await ztctl(['ssh', `${USER}@web1`, 'wc -c'], { home: dev.home, input: 'twelve bytes' });
  assert.equal(input.stdout.trim(), '12');
  const ev = auditEvents(broker, 'tool.ssh_exec').at(-1);
  assert.equal(ev.outcome, 'allowed');
  assert.equal(ev.details.command, 'wc -c');
});

test('through an HTTPS proxy (HTTPS_PROXY): the WebSocket rides its CONNECT', async () => {
  const proxy = await connectProxy();
  try {
    const r = await ztctl(['ssh', `${USER}@web1`, 'echo via-proxy'], { home: dev.home,
      env: { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: '', no_proxy: '' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'via-proxy\n');
    assert.ok(proxy.seen.includes(`127.0.0.1:${broker.port}`), JSON.stringify(proxy.seen));
  } finally {
    proxy.close();
  }
});

test('refusals: a role without the tool, an unknown host, a bad token; each says why', async () => {
  const lister = await ztctlAccount(broker, 'lister1', 'lister');
  const denied = await ztctl(['ssh', `${USER}@web1`], { home: lister.home });
  assert.equal(denied.code, 255);
  assert.match(denied.stderr, /deny/);
  const unknown = await ztctl(['ssh', `${USER}@nope`, 'true'], { home: dev.home });
  assert.equal(unknown.code, 255);
  assert.match(unknown.stderr, /no host named nope/);
  const none = tmpdir('zt-home-');
  const nolog = await ztctl(['ssh', 'web1'], { home: none });
  assert.equal(nolog.code, 255);
  const forged = ztctlHome(broker, 'dev', `zts_${'A'.repeat(43)}`);
  const bad = await ztctl(['ssh', `${USER}@web1`, 'true'], { home: forged });
  assert.equal(bad.code, 255);
  assert.match(bad.stderr, /refused the session \(HTTP 401\).*\(run ztctl login\)/);
  const usage = await ztctl(['ssh'], { home: dev.home });
  assert.equal(usage.code, 2);
});

// The login proved a second factor; once mfa_window (1m) has passed since,
// a session needs a step-up: asked for in the terminal, then good for the
// window.
test('per_session MFA: the first session asks for a code in the terminal, the next one does not', async () => {
  await until(() => Date.now() - opsAt > 62000, 'the login older than mfa_window', 70000);
  await until(() => Date.now() - idleAt > 65000, 'the idle session past 60 s', 70000);
  idle.type('echo still-here; exit 4\r');
  const idled = await idle.done;
  assert.equal(idled.code, 4, idled.out + idled.err);
  assert.match(idled.out, /still-here/);
  const t = terminal(ops.home, [`${USER}@web1`]);
  await t.waitFor(/one-time code: /, 'the code prompt');
  assert.match(t.out, /until it gets an MFA step-up by the caller/);
  t.type(`${totp(ops.secret, step())}\r`);
  t.type('echo stepped; exit 0\r');
  const r = await t.done;
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /stepped/);
  assert.equal(auditEvents(broker, 'mfa.stepup').at(-1)?.actor, 'user:ops1');
  const second = terminal(ops.home, [`${USER}@web1`]);
  second.type('exit 5\r');
  const r2 = await second.done;
  assert.equal(r2.code, 5, r2.out + r2.err);
  assert.doesNotMatch(r2.out, /one-time code/);
  assert.equal(auditEvents(broker, 'tool.ssh_shell').at(-1).details.released_by, 'session step-up');
});

// A TCP echo server on loopback (the sshd's host): resolves {port, close}.
function echoServer() {
  return new Promise((resolve) => {
    const srv = net.createServer((c) => c.pipe(c));
    srv.listen(0, '127.0.0.1', () => resolve({ port: srv.address().port, close: () => srv.close() }));
  });
}

// A free local port (listened on, then closed).
function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

// Sends data through localhost:port and resolves what came back once the
// other side closed (or '' when the connection was refused or cut).
function throughPort(port, data) {
  return new Promise((resolve) => {
    const chunks = [];
    const c = net.connect(port, '127.0.0.1', () => c.end(data));
    c.on('data', (d) => chunks.push(d));
    c.on('error', () => resolve(Buffer.alloc(0)));
    c.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

test('ztctl ssh -L forwards to a TCP server behind the agent only for a role with port_forwarding', async () => {
  const echo = await echoServer();
  const yes = await ztctlAccount(broker, 'fwder', 'fwd');
  const no = await ztctlAccount(broker, 'nofwder', 'nofwd');
  const run = async (who) => {
    const port = await freePort();
    const p = spawn(ZTCTL, ['ssh', '-N', '-L', `${port}:127.0.0.1:${echo.port}`, `${USER}@web1`],
      { env: { ...process.env, ZT_HOME: who.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    await until(() => new Promise((ok) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); ok(true); });
      c.on('error', () => ok(false));
    }), 'the -L port listening');
    return { port, p, err: () => err };
  };
  try {
    const a = await run(yes);
    const data = crypto.randomBytes(256 * 1024);
    const back = await throughPort(a.port, data);
    assert.ok(back.equals(data), `echoed ${back.length} of ${data.length} bytes: ${a.err()}`);
    // Two at once, each its own call.
    const [b1, b2] = await Promise.all([throughPort(a.port, 'one'), throughPort(a.port, 'two')]);
    assert.equal(`${b1}|${b2}`, 'one|two');
    a.p.kill('SIGTERM');
    // Each connection is a call of its own (the probe that saw the port listen too).
    const ends = auditEvents(broker, 'tool.port_forward.result').filter((e) => e.actor === 'user:fwder');
    assert.equal(ends.length, 4);
    assert.ok(ends.every((e) => e.details.to === `127.0.0.1:${echo.port}` && e.outcome === 'success'));
    const big = ends.find((e) => e.details.bytes_in === data.length);
    assert.equal(big?.details.bytes_out, data.length);

    const n = await run(no);
    const refused = await throughPort(n.port, 'nothing');
    assert.equal(refused.length, 0);
    await until(() => /port forwarding/.test(n.err()), `the refusal said: ${n.err()}`);
    n.p.kill('SIGTERM');
    const denied = auditEvents(broker, 'tool.port_forward').filter((e) => e.actor === 'user:nofwder');
    assert.equal(denied.at(-1).outcome, 'denied');
  } finally {
    echo.close();
  }
});

// And at the next start the recording the killed run left is bound as it
// is then (recording.recovered), so audit verify holds it to that.
// ztctl ssh -N leaves its terminal cooked: a forward held for the caller's
// own step-up asks for the code there (after the MFA test's wait, the
// login's code is long used).
test('ztctl ssh -N -L: a forward held for a step-up asks for the code in the terminal', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const t = terminal(fwdMfa.home, ['-N', '-L', `${port}:127.0.0.1:${echo.port}`, `${USER}@web1`]);
  try {
    await until(() => new Promise((ok) => {
      const c = net.connect(port, '127.0.0.1', () => ok(c));
      c.on('error', () => ok(false));
    }).then((c) => { if (c) { t.probe = c; return true; } return false; }), 'the -L port listening');
    await t.waitFor(/one-time code: /, 'the code prompt');
    await until(() => step() > fwdMfa.step, 'a code the login did not use', 40000);
    t.type(`${totp(fwdMfa.secret, step())}\r`);
    const back = await new Promise((resolve) => {
      t.probe.on('data', (d) => resolve(String(d)));
      t.probe.write('after-step-up');
    });
    assert.equal(back, 'after-step-up');
    t.probe.destroy();
    const allowed = auditEvents(broker, 'tool.port_forward').filter((e) => e.actor === 'user:fwdmfa');
    assert.equal(allowed.at(-1).outcome, 'allowed');
    assert.equal(allowed.at(-1).details.released_by, 'step-up');
  } finally {
    t.p.kill('SIGTERM');
    echo.close();
  }
});

test('the broker killed mid-session: ztctl says so, exits 255, the terminal is cooked again; the next start binds the recording', async () => {
  let b2 = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  const s2 = startSshd({ userCa: admin(b2, 'ca', 'ssh-user-pub').stdout });
  applyRole(b2, `kind: role\nname: term\nallow:\n  hosts: {env: staging}\n  logins: [${s2.user}]\n`
    + '  tools: [ssh_shell]\n');
  const join = admin(b2, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  const a2 = await startAgent(b2, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
    token: join, hostKey: s2.hostKey, labels: 'env=staging', ssh: `127.0.0.1:${s2.port}`, extra: [] });
  try {
    const u = await ztctlAccount(b2, 'dev2', 'term');
    const t = terminal(u.home, [`${s2.user}@web1`]);
    t.type('stty size\r');
    await t.waitFor(/24 80/, 'the shell');
    b2.proc.kill('SIGKILL');
    const r = await t.done;
    assert.equal(r.code, 255);
    assert.match(r.out, /the connection to the broker was lost/);
    assert.match(r.err, /terminal cooked/);
    await b2.stop();
    b2 = await startBroker({ dir: b2.dir, args: ['--tunnel-listen', '127.0.0.1:0'] });
    const rec = auditEvents(b2, 'recording.recovered').at(-1);
    assert.equal(rec?.actor, 'user:dev2');
    const file = path.join(b2.dataDir, 'recordings', `${rec.details.recording.id}.cast`);
    assert.equal(fs.statSync(file).size, rec.details.recording.bytes);
    assert.match(fs.readFileSync(file, 'utf8'), /24 80/);
    assert.equal(admin(b2, 'audit', 'verify').code, 0);
    fs.appendFileSync(file, '[9.9, "o", "added later"]\n');
    const v = admin(b2, 'audit', 'verify');
    assert.equal(v.code, 1);
    assert.match(v.stdout, new RegExp(`#${rec.seq}\\b`));
  } finally {
    await a2.stop();
    await stopChecked(b2);
    s2.stop();
  }
});
