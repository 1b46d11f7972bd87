// Warm SSH connections, end to end: the official MCP SDK client -> a real
// broker -> a real agent's tunnel -> a real OpenSSH sshd. Ten calls in a
// row ride one SSH connection (sshd logs one accepted certificate, the
// connection's), each still decided and audited on its own; locking the
// user closes it at once; past its life (--ssh-conn-ttl) the next call
// gets a new connection with a new certificate; one that died is replaced
// for the next call without an error; a dropped tunnel fails the call in
// flight clearly and the next call, once the agent is back, gets a new
// connection. The connections the housekeeping closes are on record
// (ssh.conn.closed), with why.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, auditEvents, mcpConnect, startAgent, startBroker, stopChecked, tmpdir, until, userToken,
} from './lib/zt.mjs';
import { startSshHost } from './lib/sshd.mjs';

const TTL_S = 20;
let broker;
let sshd;
let agent;
let agentDir;

const online = async (client) => until(async () => (await client.callTool({ name: 'list_hosts',
  arguments: {} })).structuredContent.hosts[0]?.online, 'web1 online');

const exec = (client, command) => client.callTool({ name: 'ssh_exec',
  arguments: { host: 'web1', login: sshd.user, command } });

// Whether sshd saw the connection from port close.
const closedLog = (port) => new RegExp(`(Closing connection to|Connection closed by) 127\\.0\\.0\\.1 port ${port}\\b`)
  .test(sshd.log());

// The client port of the SSH connection whose certificate has key id.
function portOf(keyId) {
  const lines = sshd.log().split('\n');
  const i = lines.findIndex((l) => l.includes(`Accepted certificate ID "${keyId}"`));
  assert.ok(i >= 0, `sshd accepted ${keyId}`);
  const m = lines.slice(i).join('\n').match(/Accepted publickey for \S+ from 127\.0\.0\.1 port (\d+)/);
  return m[1];
}

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0', '--ssh-conn-ttl', `${TTL_S}s`] });
  const h = await startSshHost(broker, { role: 'kind: role\nname: warm\nallow:\n  hosts: {env: test}\n'
    + '  logins: [LOGIN]\n  tools: [ssh_exec, list_hosts]\n' });
  sshd = h.sshd;
  agent = h.agent;
  agentDir = h.dir;
});

after(async () => {
  await agent?.stop?.();
  await stopChecked(broker);
  sshd?.stop();
});

test('ten calls in a row ride one connection; past its life a new one is minted', async () => {
  const client = await mcpConnect(broker, await userToken(broker, 'wanda', 'warm'));
  await online(client);
  const before = auditEvents(broker, 'tool.ssh_exec.result').length;
  const t0 = Date.now();
  for (let i = 0; i < 10; i++) {
    const r = await exec(client, `echo ${i}`);
    assert.equal(r.structuredContent.stdout, `${i}\n`);
  }
  const done = auditEvents(broker, 'tool.ssh_exec.result').slice(before);
  assert.equal(done.length, 10);
  const conn = done[0].details.conn_id;
  assert.deepEqual(done.map((e) => e.details.conn_id), Array(10).fill(conn));
  assert.deepEqual(done.map((e) => e.details.conn_reused), [false, ...Array(9).fill(true)]);
  // Each call decided and audited on its own, all on one certificate.
  assert.equal(new Set(done.map((e) => e.details.call_id)).size, 10);
  assert.equal(new Set(done.map((e) => e.details.cert_serial)).size, 1);
  const keyId = `zt:user:wanda:${conn}`;
  assert.equal(sshd.log().split(`Accepted certificate ID "${keyId}"`).length - 1, 1);

  // Past its life the connection is retired (closed by the housekeeping),
  // and the next call mints a new certificate on a new one.
  const port = portOf(keyId);
  // (The connection's life is long enough for ten calls on a busy machine.)
  assert.ok(Date.now() - t0 < (TTL_S - 2) * 1000, 'ten calls took longer than a connection lives');
  assert.ok(!closedLog(port), 'kept open between the calls');
  await until(() => closedLog(port), 'the expired connection is closed', (TTL_S + 5) * 1000);
  const r = await exec(client, 'echo again');
  assert.equal(r.structuredContent.stdout, 'again\n');
  const next = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.notEqual(next.details.conn_id, conn);
  assert.equal(next.details.conn_reused, false);
  assert.notEqual(next.details.cert_serial, done[0].details.cert_serial);
  sshd.assertLogged(`Accepted certificate ID "zt:user:wanda:${next.details.conn_id}"`);
  await client.close();
});

test('a warm connection that died is replaced for the next call, transparently', async () => {
  const client = await mcpConnect(broker, await userToken(broker, 'wendy', 'warm'));
  await online(client);
  assert.equal((await exec(client, 'true')).isError, false);
  const first = auditEvents(broker, 'tool.ssh_exec.result').at(-1).details.conn_id;
  // sshd's process for that connection dies (as in an sshd restart).
  const port = portOf(`zt:user:wendy:${first}`);
  const pids = execFileSync('pgrep', ['-P', String(sshd.pid)], { encoding: 'utf8' }).trim().split('\n');
  for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
  await until(() => closedLog(port) || pids.every((p) => !fs.existsSync(`/proc/${p}`)), 'the connection is gone');
  const r = await exec(client, 'echo replaced');
  assert.equal(r.isError, false, JSON.stringify(r));
  assert.equal(r.structuredContent.stdout, 'replaced\n');
  const next = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.notEqual(next.details.conn_id, first);
  assert.equal(next.details.conn_reused, false);
  // It was the call that found the dead connection, not a sweep.
  assert.match(broker.log.join(''), new RegExp(`warm connection ${first} to web1 died .*; replacing it`));
  await client.close();
});

test('locking the user closes its warm connection at once', async () => {
  const client = await mcpConnect(broker, await userToken(broker, 'walt', 'warm'));
  await online(client);
  assert.equal((await exec(client, 'true')).isError, false);
  const conn = auditEvents(broker, 'tool.ssh_exec.result').at(-1).details.conn_id;
  const port = portOf(`zt:user:walt:${conn}`);
  // Warm after the call; checked before the lock, whose effect may come
  // before the admin command has even returned.
  assert.ok(!closedLog(port), 'kept open after the call');
  const t0 = Date.now();
  assert.equal(admin(broker, 'users', 'lock', 'walt').code, 0);
  await until(() => closedLog(port), 'the locked user\'s connection is closed', 4000);
  assert.ok(Date.now() - t0 < 4000);
  const closed = auditEvents(broker, 'ssh.conn.closed').find((e) => e.details.conn_id === conn);
  assert.equal(closed.actor, 'user:walt');
  assert.equal(closed.details.reason, 'credential no longer valid');
  assert.equal(closed.details.key_id, `zt:user:walt:${conn}`);
  // The next call is refused: the session went with the token.
  await assert.rejects(exec(client, 'true'));
  await client.close().catch(() => {});
});

test('a dropped tunnel fails the call in flight clearly; the next call gets a new connection', async () => {
  const tina = await mcpConnect(broker, await userToken(broker, 'tina', 'warm'));
  const tom = await mcpConnect(broker, await userToken(broker, 'tom', 'warm'));
  await online(tina);
  assert.equal((await exec(tina, 'true')).isError, false);
  const first = auditEvents(broker, 'tool.ssh_exec.result').at(-1).details.conn_id;
  assert.equal((await exec(tom, 'true')).isError, false);
  const idle = auditEvents(broker, 'tool.ssh_exec.result').at(-1).details.conn_id;
  // The agent dies while tina's command runs; tom's connection is idle.
  const started = path.join(tmpdir('zt-warm-'), 'started');
  const inflight = exec(tina, `touch ${started}; sleep 5; echo late`);
  await until(() => fs.existsSync(started), 'the command started');
  await agent.stop('SIGKILL');
  const r = await inflight;
  assert.equal(r.isError, true, JSON.stringify(r));
  assert.match(r.content[0].text, /^connect_failed on web1 as \S+: the connection was lost while the command ran/);
  const failed = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.equal(failed.outcome, 'failure');
  assert.equal(failed.details.conn_id, first);
  // The housekeeping closes tom's idle connection: its host is gone.
  await until(() => auditEvents(broker, 'ssh.conn.closed').some((e) => e.details.conn_id === idle),
    'the idle connection is closed on record');
  const closed = auditEvents(broker, 'ssh.conn.closed').find((e) => e.details.conn_id === idle);
  assert.equal(closed.actor, 'user:tom');
  assert.match(closed.details.reason, /^(host offline|connection lost)$/);
  // The agent comes back: the next calls get new connections.
  agent = await startAgent(broker, agentDir, 'web1', {
    hostKey: sshd.hostKey, labels: 'env=test', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(agent.joined, agent.out?.stderr);
  await online(tina);
  for (const [client, old] of [[tina, first], [tom, idle]]) {
    const r2 = await exec(client, 'echo back');
    assert.equal(r2.isError, false, JSON.stringify(r2));
    assert.equal(r2.structuredContent.stdout, 'back\n');
    const next = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
    assert.notEqual(next.details.conn_id, old);
    assert.equal(next.details.conn_reused, false);
  }
  await tina.close();
  await tom.close();
});
