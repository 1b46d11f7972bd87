// The broker remembers its agents across restarts: a host whose agent
// joined is listed offline, with its labels, by a restarted broker and
// comes back online when its agent reconnects; another machine with a
// validly issued certificate for the same name is still refused (audited);
// `admin agents rm` (audited as agent.unbind) frees the name for a new key,
// and the running broker honours it at the next connection.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, auditEvents, botToken, request, sshHostKey, startAgent, startBroker, stopChecked,
  tmpdir, until,
} from './lib/zt.mjs';

const TUNNEL = ['--tunnel-listen', '127.0.0.1:0'];
let broker;
let hostKey;
let token;
const agents = [];

before(async () => {
  broker = await startBroker({ args: TUNNEL });
  hostKey = sshHostKey();
  const role = path.join(tmpdir('zt-role-'), 'r.yaml');
  fs.writeFileSync(role, 'kind: role\nname: viewer\nallow:\n  hosts: {env: staging}\n'
    + '  tools: [list_hosts]\n');
  assert.equal(admin(broker, 'roles', 'apply', '-f', role).code, 0);
  token = botToken(broker, 'viewer', { roles: 'viewer' });
});
after(async () => {
  for (const a of agents) if (a.stop) await a.stop('SIGKILL');
  await stopChecked(broker);
});

function newToken() {
  const r = admin(broker, 'tokens', 'add');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.match(/^token: (ztj_\S+)$/m)[1];
}

async function agent(dir, name, joinToken = null) {
  const a = await startAgent(broker, dir, name,
    { token: joinToken, hostKey, labels: 'env=staging,team=web' });
  agents.push(a);
  return a;
}

async function host(name) {
  const r = await request(broker, 'GET', '/v1/hosts', { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.hosts.find((h) => h.name === name);
}

// The key pin `admin agents ls` shows for name (its first 12 hex digits).
function listedPin(name) {
  const r = admin(broker, 'agents', 'ls');
  assert.equal(r.code, 0, r.stderr);
  const m = r.stdout.match(new RegExp(`^${name}\\s+(sha256:[0-9a-f]{12})\\s+(\\S+)\\s+approved\\s+(.*)$`, 'm'));
  return m && { pin: m[1], lastSeen: m[2], labels: m[3] };
}

async function restartBroker() {
  await stopChecked(broker);
  broker = await startBroker({ dir: broker.dir, args: TUNNEL });
}

const refusals = () => auditEvents(broker, 'agent.connect').filter((e) => e.actor === 'agent:web1'
  && e.outcome === 'failure' && /another agent's key/.test(e.details.reason));

test('a known host survives a restart: listed offline, its name still bound', async () => {
  const dir1 = path.join(tmpdir('zt-agent-'), 'data');
  const web1 = await agent(dir1, 'web1', newToken());
  assert.ok(web1.joined, web1.out?.stderr);
  await until(async () => (await host('web1'))?.online, 'web1 online');
  const before1 = listedPin('web1');
  assert.ok(before1, admin(broker, 'agents', 'ls').stdout);
  assert.equal(before1.labels, 'env=staging,team=web');

  // Restarted on the same data directory: the agent (still dialling the
  // old port) is gone, but the host is listed, offline, with its labels.
  await restartBroker();
  assert.equal(await web1.stop('SIGKILL'), null);
  const h = await host('web1');
  assert.ok(h, 'web1 listed after the restart');
  assert.equal(h.online, false);
  assert.deepEqual(h.labels, { env: 'staging', team: 'web' });
  assert.ok(h.last_seen > 0);
  // The same binding (last seen moves on: the disconnect is recorded).
  const kept = listedPin('web1');
  assert.deepEqual([kept.pin, kept.labels], [before1.pin, before1.labels]);
  assert.ok(kept.lastSeen >= before1.lastSeen);

  // Another machine, its own key and a fresh join token: a valid
  // certificate for web1, and still refused with no web1 connected.
  const impostorDir = path.join(tmpdir('zt-agent-'), 'data');
  const impostor = await agent(impostorDir, 'web1', newToken());
  assert.ok(impostor.joined, impostor.out?.stderr);
  assert.equal(await impostor.exited, 1);
  assert.match(impostor.out.stderr, /another agent holds this name/);
  await until(() => refusals().length === 1, 'the refusal audited');
  assert.equal((await host('web1')).online, false);

  // The real web1 comes back without a token and is online again.
  const again = await agent(dir1, 'web1');
  assert.ok(again.joined, again.out?.stderr);
  assert.match(again.out.stdout, /joined earlier/);
  await until(async () => (await host('web1'))?.online, 'web1 online after the restart');

  // Stopped, then its name freed by the operator while the broker runs:
  // the impostor's key (a rebuilt host) takes the name at its next try.
  assert.equal(await again.stop(), 0);
  await until(async () => (await host('web1'))?.online === false, 'web1 offline');
  const rm = admin(broker, 'agents', 'rm', 'web1');
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, /agent web1 removed/);
  const unbind = auditEvents(broker, 'agent.unbind');
  assert.equal(unbind.length, 1);
  assert.equal(unbind[0].outcome, 'success');
  assert.equal(unbind[0].details.agent, 'web1');
  assert.ok(unbind[0].details.key_pin.startsWith(before1.pin));
  assert.equal(listedPin('web1'), null);
  assert.equal(admin(broker, 'agents', 'rm', 'web1').code, 1);

  const rebuilt = await agent(impostorDir, 'web1');
  assert.ok(rebuilt.joined, rebuilt.out?.stderr);
  await until(async () => (await host('web1'))?.online, 'the new key online as web1');
  const after1 = listedPin('web1');
  assert.ok(after1);
  assert.notEqual(after1.pin, before1.pin);

  // Now the old key is the stranger, across a restart too.
  assert.equal(await rebuilt.stop(), 0);
  await restartBroker();
  assert.deepEqual(listedPin('web1')?.pin, after1.pin);
  const old = await agent(dir1, 'web1');
  assert.ok(old.joined, old.out?.stderr);
  assert.equal(await old.exited, 1);
  assert.match(old.out.stderr, /another agent holds this name/);
  await until(() => refusals().length === 2, 'the old key refused');
});

test('agents rm checks its argument', () => {
  const unbinds = auditEvents(broker, 'agent.unbind').length;
  let r = admin(broker, 'agents', 'rm', 'nobody');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no agent nobody/);
  r = admin(broker, 'agents', 'rm', 'Not A Name');
  assert.equal(r.code, 2);
  r = admin(broker, 'agents', 'rm');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /agents ls \| agents approve NAME \| agents lock NAME \| agents unlock NAME \| agents rm NAME/);
  assert.equal(auditEvents(broker, 'agent.unbind').length, unbinds);
});
