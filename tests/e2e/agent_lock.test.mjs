// Cutting off a compromised host's agent before its certificate runs out:
// `ztctl agents lock` (the admin API) and `ztbroker admin agents lock`
// (offline, seen by the running broker within a second). Either way, with
// the agent connected: its control connection drops and a command running
// through it ends, its reconnects are refused (its log says locked), an
// ssh_exec to it fails saying so, a renewal is refused; unlocked, it comes
// back by itself. Everything is audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, joinToken, mcpConnect, startAgent, startBroker,
  stopChecked, tmpdir, until, ztctl, ztctlLogin,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';
import { readFrame, sendFrame, tunnelConnect } from './lib/tunnel.mjs';

let broker;
let sshd;
let home;     // ztctl as ada, an administrator
let bot;      // an MCP client allowed ssh_exec on web1
let web1;
const dir = path.join(tmpdir('zt-agent-'), 'data');

const exec = (command, opts) => bot.callTool({ name: 'ssh_exec',
  arguments: { host: 'web1', login: sshd.user, command, timeout_s: 60 } }, undefined, opts);
const text = (r) => r.content.map((c) => c.text).join('\n');
const online = async () => (await bot.callTool({ name: 'list_hosts', arguments: {} }))
  .structuredContent.hosts.find((h) => h.name === 'web1')?.online;
const times = (re) => (web1.out.stderr.match(re) ?? []).length;

// A renewal with web1's own certificate and key, as its agent would ask.
async function renew() {
  const csr = execFileSync('openssl', ['req', '-new', '-key', path.join(dir, 'agent.key'),
    '-subj', '/CN=web1'], { encoding: 'utf8' });
  const s = await tunnelConnect(broker, { agentDir: dir });
  sendFrame(s, { type: 'renew', csr });
  const reply = await readFrame(s);
  s.destroy();
  return reply;
}

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  const r = admin(broker, 'roles', 'apply', '-f', 'examples/roles/admin.yaml');
  assert.equal(r.code, 0, r.stderr);
  home = await ztctlLogin(broker, 'ada', 'admin');
  applyRole(broker, `kind: role\nname: ops\nallow:\n  hosts: {env: test}\n  logins: [${sshd.user}]\n`
    + '  tools: [ssh_exec, list_hosts]\n');
  bot = await mcpConnect(broker, botToken(broker, 'ops-bot', { roles: 'ops' }));
  web1 = await startAgent(broker, dir, 'web1', { token: joinToken(broker), hostKey: sshd.hostKey,
    labels: 'env=test', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(web1.joined, web1.out?.stderr);
  await until(online, 'web1 online');
});

after(async () => {
  await bot?.close();
  await web1?.stop?.();
  await stopChecked(broker);
  sshd?.stop();
});

// Locks web1 with lock() while a command runs through it, checks that it is
// cut off, unlocks it with unlock() and waits for it to serve again.
async function cutOff(lock, unlock, actor) {
  const closed = times(/the broker closed the control connection: agent locked by an administrator \(locked\)/g);
  const refused = times(/the broker refused this agent for now: agent locked by an administrator \(locked\)/g);
  let running;
  const started = new Promise((r) => { running = r; });
  const long = exec('sleep 30; echo late', { onprogress: () => running() });
  await started;

  await lock();
  // The command's stream is ended, not left to finish.
  const cut = await long;
  assert.equal(cut.isError, true, text(cut));
  assert.doesNotMatch(text(cut), /late/);
  // The control connection dropped, and the agent is refused when it tries again.
  await until(() => times(/the broker closed the control connection: agent locked by an administrator \(locked\)/g) > closed,
    'the control connection ended with "locked"');
  await until(() => times(/the broker refused this agent for now: agent locked by an administrator \(locked\)/g) > refused,
    'a reconnect refused', 60000);
  assert.equal(web1.proc.exitCode, null, 'the agent keeps trying');
  const r = await exec('id -un');
  assert.equal(r.isError, true);
  assert.equal(text(r), 'host locked: an administrator locked the agent of web1');
  const reply = await renew();
  assert.equal(reply.type, 'error');
  assert.equal(reply.code, 'locked');
  assert.match(admin(broker, 'agents', 'ls').stdout, /^web1\s+\S+\s+\S+\s+locked\s+env=test$/m);
  assert.equal(auditEvents(broker, 'agent.lock').at(-1).actor, actor);
  assert.equal(auditEvents(broker, 'agent.disconnect').at(-1).details.reason,
    'locked by an administrator');
  assert.ok(auditEvents(broker, 'agent.connect').some((e) => e.outcome === 'failure'
    && e.details.reason === 'locked'));
  assert.ok(auditEvents(broker, 'agent.renew').some((e) => e.details.reason === 'locked'));

  await unlock();
  assert.equal(auditEvents(broker, 'agent.unlock').at(-1).actor, actor);
  await until(async () => {
    const x = await exec('id -un');
    return !x.isError && x.structuredContent.stdout === `${sshd.user}\n`;
  }, 'web1 serves again after the unlock', 60000);
  assert.equal((await renew()).type, 'join_ok');
}

test('locked over the API: cut off at once, refused, let back by unlock', async () => {
  await cutOff(async () => {
    const r = await ztctl(['agents', 'lock', 'web1'], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'agent web1: locked: its connections are ended\n');
  }, async () => {
    const r = await ztctl(['agents', 'unlock', 'web1'], { home });
    assert.equal(r.code, 0, r.stderr);
  }, 'user:ada');
});

test('locked offline: the running broker cuts it off within a second', async () => {
  await until(online, 'web1 online');
  await cutOff(async () => {
    const r = admin(broker, 'agents', 'lock', 'web1');
    assert.equal(r.code, 0, r.stderr);
  }, async () => {
    const r = admin(broker, 'agents', 'unlock', 'web1');
    assert.equal(r.code, 0, r.stderr);
  }, `admin:${execFileSync('id', ['-un'], { encoding: 'utf8' }).trim()}`);
});

test('lock and unlock check their argument', async () => {
  let r = await ztctl(['agents', 'lock', 'nobody'], { home });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no agent nobody/);
  r = admin(broker, 'agents', 'lock', 'Not A Name');
  assert.equal(r.code, 2);
  r = await ztctl(['agents', 'lock'], { home });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage: ztctl agents/);
});
