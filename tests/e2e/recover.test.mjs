// An unclean stop, end to end: a real broker runs a long ssh_exec through a
// real agent and sshd, is killed with SIGKILL mid-call, and on its next
// start records broker.recover and closes the call with an "interrupted"
// outcome; the chain still verifies. A clean stop leaves nothing to
// recover, and a second serve on the same data directory is refused. A
// call held for approval when the broker dies is withdrawn at the next
// start. A background job running then is ended as interrupted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, auditEvents, botToken, brokerFetch, sdk, startAgent, startBroker, stopChecked, tmpdir,
  until, ZTBROKER,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';

const TUNNEL = ['--tunnel-listen', '127.0.0.1:0'];
let broker;
let sshd;
let agent;
let S;
let pid;        // the command's process on the host, killed at the end
const agentDir = path.join(tmpdir('zt-agent-'), 'data');

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: TUNNEL });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  const role = path.join(tmpdir('zt-role-'), 'r.yaml');
  fs.writeFileSync(role, `kind: role\nname: runner\nallow:\n  hosts: {env: test}\n  logins: [${sshd.user}]\n`
    + '  tools: [ssh_exec, list_hosts]\n');
  assert.equal(admin(broker, 'roles', 'apply', '-f', role).code, 0);
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  agent = await startAgent(broker, agentDir, 'box1',
    { token, hostKey: sshd.hostKey, labels: 'env=test', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(agent.joined, agent.out?.stderr);
});

after(async () => {
  if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
  await agent?.stop();
  await stopChecked(broker);
  sshd?.stop();
});

test('a call cut by kill -9 is closed as interrupted at the next start', async () => {
  const client = new S.Client({ name: 'zt-e2e-recover', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker),
    requestInit: { headers: { Authorization: `Bearer ${botToken(broker, 'runner-bot', { roles: 'runner' })}` } },
  }));
  await until(async () => (await client.callTool({ name: 'list_hosts', arguments: {} }))
    .structuredContent.hosts.some((h) => h.online), 'box1 online');

  const pidFile = path.join(tmpdir('zt-recover-'), 'pid');
  fs.chmodSync(path.dirname(pidFile), 0o777);
  const call = client.callTool({ name: 'ssh_exec', arguments: { host: 'box1', login: sshd.user,
    command: `echo $$ > ${pidFile}; exec sleep 30` } }, undefined, { timeout: 60000 });
  call.catch(() => {}); // the broker dies under it
  await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '',
    'the command runs');
  pid = Number(fs.readFileSync(pidFile, 'utf8'));
  const allowed = auditEvents(broker, 'tool.ssh_exec').at(-1);
  assert.equal(allowed.outcome, 'allowed');
  const callId = allowed.details.call_id;

  // While it runs, the data directory is this broker's alone.
  await assert.rejects(startBroker({ dir: broker.dir, args: TUNNEL }),
    /another ztbroker serve is running on .*data \(it holds .*serve\.lock\)/);

  broker.proc.kill('SIGKILL');
  const killed = await broker.stop();
  assert.equal(killed.sig, 'SIGKILL');
  await client.close().catch(() => {});
  assert.equal(auditEvents(broker, 'tool.ssh_exec.result').filter((e) => e.details.call_id === callId)
    .length, 0, 'nothing recorded how the call ended');

  broker = await startBroker({ dir: broker.dir, args: TUNNEL });
  const all = auditEvents(broker);
  const recover = all.filter((e) => e.type === 'broker.recover');
  assert.equal(recover.length, 1);
  assert.deepEqual(recover[0].details.call_ids, [callId]);
  assert.equal(recover[0].details.open_calls, 1);
  assert.match(recover[0].details.reason, /did not stop cleanly/);
  // Bounded: only the killed run's events, which begin after its start.
  assert.ok(recover[0].details.after_seq >= all.find((e) => e.type === 'broker.start').seq - 1);
  const outcome = all.filter((e) => e.details.call_id === callId);
  assert.deepEqual(outcome.map((e) => [e.type, e.outcome]),
    [['tool.ssh_exec', 'allowed'], ['tool.ssh_exec.result', 'interrupted']]);
  const closed = outcome[1];
  assert.equal(closed.actor, 'bot:runner-bot');
  assert.equal(closed.source, '127.0.0.1');
  assert.equal(closed.details.status, 'interrupted');
  assert.equal(closed.details.allowed_seq, allowed.seq);
  assert.equal(closed.details.command_sha256, allowed.details.command_sha256);
  assert.ok(recover[0].seq < closed.seq && closed.seq < all.filter((e) => e.type === 'broker.start').at(-1).seq);
  assert.match(broker.log.join(''),
    /did not stop cleanly: \d+ audit events checked; calls without an outcome, now closed as interrupted: 1/);
  assert.match(execFileSync(ZTBROKER, ['admin', '--data-dir', broker.dataDir, 'audit', 'verify'],
    { encoding: 'utf8' }), /ok|verified/i);

  // A clean stop leaves nothing to recover.
  await stopChecked(broker);
  broker = await startBroker({ dir: broker.dir, args: TUNNEL });
  assert.equal(auditEvents(broker, 'broker.recover').length, 1);
  assert.equal(fs.statSync(path.join(broker.dataDir, 'serve.lock')).mode & 0o777, 0o600);
});

test('a call held for approval when the broker dies is withdrawn at the next start', async () => {
  const role = path.join(tmpdir('zt-role-'), 'held.yaml');
  fs.writeFileSync(role, `kind: role\nname: held\nallow:\n  hosts: {env: test}\n  logins: [${sshd.user}]\n`
    + '  tools: [ssh_exec]\noptions:\n  approval: {by: [oncall]}\n');
  assert.equal(admin(broker, 'roles', 'apply', '-f', role).code, 0);
  const client = new S.Client({ name: 'zt-e2e-recover', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker),
    requestInit: { headers: { Authorization: `Bearer ${botToken(broker, 'held-bot', { roles: 'held' })}` } },
  }));
  const call = client.callTool({ name: 'ssh_exec', arguments: { host: 'box1', login: sshd.user,
    command: 'echo never' } }, undefined, { timeout: 60000 });
  call.catch(() => {}); // the broker dies under it
  let requested;
  await until(() => (requested = auditEvents(broker, 'approval.requested').at(-1)), 'the call is held');
  broker.proc.kill('SIGKILL');
  await broker.stop();
  await client.close().catch(() => {});
  broker = await startBroker({ dir: broker.dir, args: TUNNEL });
  const withdrawn = auditEvents(broker, 'approval.withdrawn').at(-1);
  assert.deepEqual([withdrawn.actor, withdrawn.details.requests], ['broker', 1]);
  assert.match(withdrawn.details.reason, /the broker restarted/);
  assert.ok(withdrawn.seq > requested.seq);
  // A clean restart finds nothing more to withdraw, and nothing ran.
  await stopChecked(broker);
  broker = await startBroker({ dir: broker.dir, args: TUNNEL });
  assert.equal(auditEvents(broker, 'approval.withdrawn').at(-1).seq, withdrawn.seq);
  assert.equal(auditEvents(broker, 'tool.ssh_exec').filter((e) => e.actor === 'bot:held-bot').length, 0);
});

// After a restart of the broker: a client as bot (a new one, with roles),
// and the agent started again, joined already: the broker's tunnel port
// changed with the restart. Resolves once box1 is online.
async function afterRestart(bot, roles) {
  const client = new S.Client({ name: 'zt-e2e-recover', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker),
    requestInit: { headers: { Authorization: `Bearer ${botToken(broker, bot, { roles })}` } },
  }));
  await agent.stop();
  agent = await startAgent(broker, agentDir, 'box1',
    { hostKey: sshd.hostKey, labels: 'env=test', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(agent.joined, agent.out?.stderr);
  await until(async () => (await client.callTool({ name: 'list_hosts', arguments: {} }))
    .structuredContent.hosts.some((h) => h.online), 'box1 online');
  return client;
}

test('a background job running when the broker dies is ended as interrupted at the next start', async () => {
  const client = await afterRestart('job-bot', 'runner');
  const pidFile = path.join(tmpdir('zt-recover-'), 'pid');
  fs.chmodSync(path.dirname(pidFile), 0o777);
  const r = await client.callTool({ name: 'ssh_exec', arguments: { host: 'box1', login: sshd.user,
    command: `echo $$ > ${pidFile}; exec sleep 30`, background: true } });
  assert.equal(r.isError, false, JSON.stringify(r));
  const jobId = r.structuredContent.job;
  await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '',
    'the job runs');
  pid = Number(fs.readFileSync(pidFile, 'utf8'));
  const start = auditEvents(broker, 'job.start').at(-1);
  assert.equal(start.details.job_id, jobId);

  broker.proc.kill('SIGKILL');
  await broker.stop();
  await client.close().catch(() => {});
  broker = await startBroker({ dir: broker.dir, args: TUNNEL });
  const recover = auditEvents(broker, 'broker.recover').at(-1);
  assert.deepEqual(recover.details.job_ids, [jobId]);
  assert.equal(recover.details.open_jobs, 1);
  const end = auditEvents(broker, 'job.end').filter((e) => e.details.job_id === jobId);
  assert.equal(end.length, 1);
  assert.equal(end[0].outcome, 'interrupted');
  assert.equal(end[0].actor, 'bot:job-bot');
  assert.equal(end[0].details.start_seq, start.seq);
  assert.match(end[0].details.reason, /may still run on the host/);
  assert.match(broker.log.join(''), /jobs without an end, likewise: 1/);
});

test('a transfer link open when the broker dies is ended as interrupted at the next start', async () => {
  const dir = fs.realpathSync(tmpdir('zt-recover-link-'));
  fs.chmodSync(dir, 0o755);
  const file = path.join(dir, 'data.bin');
  fs.writeFileSync(file, 'some bytes\n', { mode: 0o644 });
  const role = path.join(tmpdir('zt-role-'), 'r.yaml');
  fs.writeFileSync(role, `kind: role\nname: reader\nallow:\n  hosts: {env: test}\n  logins: [${sshd.user}]\n`
    + `  tools: [file_read, list_hosts]\n  paths: ["${dir}/**"]\n`);
  assert.equal(admin(broker, 'roles', 'apply', '-f', role).code, 0);
  const client = await afterRestart('link-bot', 'reader');
  const r = await client.callTool({ name: 'file_read', arguments: { host: 'box1', login: sshd.user,
    path: file, transfer: 'link' } });
  assert.equal(r.isError, false, JSON.stringify(r));
  const linkId = r.structuredContent.link.url.split('/').at(-1);
  const offered = auditEvents(broker, 'tool.file_read.result').at(-1);
  assert.equal(offered.details.link_id, linkId);

  broker.proc.kill('SIGKILL');
  await broker.stop();
  await client.close().catch(() => {});
  broker = await startBroker({ dir: broker.dir, args: TUNNEL });
  const recover = auditEvents(broker, 'broker.recover').at(-1);
  assert.deepEqual(recover.details.link_ids, [linkId]);
  assert.equal(recover.details.open_links, 1);
  const end = auditEvents(broker, 'file.transfer').filter((e) => e.details.link_id === linkId);
  assert.equal(end.length, 1);
  assert.equal(end[0].outcome, 'interrupted');
  assert.equal(end[0].actor, 'bot:link-bot');
  assert.equal(end[0].details.result_seq, offered.seq);
  assert.equal(end[0].details.path_resolved, file);
  assert.match(broker.log.join(''), /transfer links, likewise: 1/);
  fs.rmSync(dir, { recursive: true, force: true });
});
