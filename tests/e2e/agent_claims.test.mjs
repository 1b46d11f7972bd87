// What an agent may claim is fixed when it joins. Its first hello's labels,
// SSH target and host key are approved; an agent restarted with other
// labels keeps its approved ones for policy (ztctl policy test, an MCP
// call) while the change waits, audited, until an administrator approves it
// (ztctl agents approve, or ztbroker admin agents approve offline); a new
// host key keeps it out until then; a host key another agent holds is
// refused; a join token bound to a name refuses any other name, and the
// labels it carries win over the agent's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, joinToken, mcpConnect, sshHostKey, startAgent,
  startBroker, stopChecked, tmpdir, until, ztctl, ztctlLogin,
} from './lib/zt.mjs';

let broker;
let home;       // ztctl as ada, an administrator
let bot;        // an MCP client whose role sees every host
const agents = [];
const web1Dir = path.join(tmpdir('zt-agent-'), 'data');
const web1Key = sshHostKey();

const zt = (...args) => ztctl(args, { home });

async function agent(dir, name, opts) {
  const a = await startAgent(broker, dir, name, opts);
  agents.push(a);
  return a;
}

// web1 as its agent runs it: its data directory and host key, these labels.
async function web1(labels, { token = null, hostKey = web1Key } = {}) {
  return agent(web1Dir, 'web1', { token, hostKey, labels });
}

async function hostLabels(name) {
  const r = await bot.callTool({ name: 'list_hosts', arguments: {} });
  return r.structuredContent.hosts.find((h) => h.name === name)?.labels;
}

async function decision(host) {
  const r = await zt('policy', 'test', '--bot', 'ops', '--tool', 'ssh_exec', '--host', host);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return r.stdout;
}

const connects = (name) => auditEvents(broker, 'agent.connect').filter((e) => e.actor === `agent:${name}`);
const online = async (name) => (await hostLabels(name)) !== undefined
  && (await bot.callTool({ name: 'list_hosts', arguments: {} })).structuredContent.hosts
    .find((h) => h.name === name).online;

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  let r = admin(broker, 'roles', 'apply', '-f', 'examples/roles/admin.yaml');
  assert.equal(r.code, 0, r.stderr);
  home = await ztctlLogin(broker, 'ada', 'admin');
  applyRole(broker, 'kind: role\nname: ops\nallow:\n  hosts: {env: dev}\n  tools: [ssh_exec]\n');
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  hosts: {env: "*"}\n  tools: [list_hosts]\n');
  r = admin(broker, 'bots', 'add', 'ops', '--roles', 'ops');
  assert.equal(r.code, 0, r.stderr);
  bot = await mcpConnect(broker, botToken(broker, 'viewer', { roles: 'viewer' }));
});

after(async () => {
  await bot?.close();
  for (const a of agents) if (a.stop) await a.stop();
  await stopChecked(broker);
});

test('relabelled, an agent keeps its approved labels until an administrator approves', async () => {
  const first = await web1('env=dev', { token: joinToken(broker) });
  assert.ok(first.joined, first.out?.stderr);
  await until(() => online('web1'), 'web1 online');
  const c0 = connects('web1').at(-1);
  assert.equal(c0.outcome, 'success');
  assert.equal(c0.details.claims, 'first');
  assert.deepEqual(c0.details.advertised.labels, { env: 'dev' });
  assert.equal(c0.details.advertised.resources.length, 1);
  assert.equal(c0.details.advertised.resources[0].name, 'web1');
  assert.equal(c0.details.advertised.resources[0].kind, 'ssh');
  assert.equal(c0.details.advertised.resources[0].address, '127.0.0.1:22');
  assert.match(c0.details.advertised.resources[0].host_key, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.match(await decision('web1'), /^ALLOW\n.*\(env=dev\)/);
  assert.equal(await first.stop(), 0);

  // Restarted as a production host: still dev for policy, the change waits.
  const relabelled = await web1('env=prod');
  assert.ok(relabelled.joined, relabelled.out?.stderr);
  await until(() => connects('web1').length === 2, 'the second connect');
  assert.equal(connects('web1').at(-1).outcome, 'success');
  assert.equal(connects('web1').at(-1).details.claims, 'pending');
  assert.match(await decision('web1'), /^ALLOW\n.*\(env=dev\)/);
  assert.deepEqual(await hostLabels('web1'), { env: 'dev' });
  const claim = auditEvents(broker, 'agent.claims').at(-1);
  assert.equal(claim.actor, 'agent:web1');
  assert.equal(claim.outcome, 'pending');
  assert.deepEqual(claim.details.old.labels, { env: 'dev' });
  assert.deepEqual(claim.details.new.labels, { env: 'prod' });
  assert.deepEqual(claim.details.new.resources, claim.details.old.resources);

  // Pending, as ztctl and the offline verb both show it.
  const ls = await zt('agents', 'ls');
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^NAME\s+KEY\s+LAST SEEN\s+STATE\s+LABELS$/m);
  assert.match(ls.stdout, /^web1\s+sha256:[0-9a-f]{12}\s+\S+\s+pending\s+env=dev$/m);
  assert.match(ls.stdout, /^ {2}pending since \S+: labels env=prod \(approved: env=dev\)$/m);
  assert.equal(admin(broker, 'agents', 'ls').stdout, ls.stdout);

  // Approved: policy sees production at once, the agent never reconnected.
  const ok = await zt('agents', 'approve', 'web1');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'agent web1: its claims are approved\n');
  assert.match(await decision('web1'), /^DENY\n/);
  assert.deepEqual(await hostLabels('web1'), { env: 'prod' });
  const approved = auditEvents(broker, 'agent.approve').at(-1);
  assert.equal(approved.actor, 'user:ada');
  assert.deepEqual([approved.details.old.labels, approved.details.new.labels],
    [{ env: 'dev' }, { env: 'prod' }]);
  assert.match((await zt('agents', 'ls')).stdout, /^web1\s+\S+\s+\S+\s+approved\s+env=prod$/m);
  const again = await zt('agents', 'approve', 'web1');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /agent web1 has no claims waiting for approval/);
  assert.equal(connects('web1').length, 2);
});

test('an agent advertising another agent\'s host key is refused', async () => {
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  const db1 = await agent(dir, 'db1', { token: joinToken(broker), hostKey: web1Key, labels: 'env=dev' });
  assert.ok(db1.joined, db1.out?.stderr);
  assert.equal(await db1.exited, 1);
  assert.match(db1.out.stderr, /this SSH host key belongs to another agent \(host_key_taken\)/);
  const refused = connects('db1').at(-1);
  assert.equal(refused.outcome, 'failure');
  assert.equal(refused.details.reason, 'the SSH host key of db1 is approved for agent web1');
  const claim = auditEvents(broker, 'agent.claims').at(-1);
  assert.equal(claim.actor, 'agent:db1');
  assert.equal(claim.outcome, 'denied');
  assert.equal(claim.details.host_key_of, 'web1');
  assert.equal(claim.details.resource, 'db1');
  assert.doesNotMatch(admin(broker, 'agents', 'ls').stdout, /^db1 /m);
  assert.equal(await hostLabels('db1'), undefined);
});

test('a new host key keeps the agent out until approved (offline here)', async () => {
  await until(() => online('web1'), 'web1 online');
  agents.at(-2).proc.kill('SIGTERM'); // the relabelled web1
  await until(async () => !(await online('web1')), 'web1 offline');
  const rebuilt = sshHostKey();
  const out = await web1('env=prod', { hostKey: rebuilt });
  assert.ok(out.joined, out.out?.stderr);
  assert.equal(await out.exited, 1);
  assert.match(out.out.stderr, /the SSH host key differs from the approved one.*\(host_key_changed\)/);
  assert.match(admin(broker, 'agents', 'ls').stdout, /^ {2}pending since \S+:\n {2}~ ssh web1 +127\.0\.0\.1:22 +SHA256:\S+$/m);
  assert.equal(auditEvents(broker, 'agent.claims').at(-1).outcome, 'pending');

  const ok = admin(broker, 'agents', 'approve', 'web1');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(auditEvents(broker, 'agent.approve').at(-1).actor.startsWith('admin:'), true);
  const back = await web1('env=prod', { hostKey: rebuilt });
  assert.ok(back.joined, back.out?.stderr);
  await until(() => online('web1'), 'web1 back with its new host key');
  assert.equal(connects('web1').at(-1).details.claims, 'approved');
  // Its old host key is free for another name now.
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  const db2 = await agent(dir, 'db2', { token: joinToken(broker), hostKey: web1Key, labels: 'env=dev' });
  assert.ok(db2.joined, db2.out?.stderr);
  await until(() => online('db2'), 'db2 online with web1\'s old host key');
});

test('a token bound to a name refuses another name; the labels it carries win', async () => {
  const add = await zt('tokens', 'add', '--name', 'web5', '--labels', 'env=prod,team=web');
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /^name: web5 \(the only name this token joins\)$/m);
  assert.match(add.stdout, /^labels: env=prod,team=web \(the agent's own are not used\)$/m);
  assert.match(add.stdout, /^ {2}ztagent .* --name web5 --token ztj_\S+$/m);
  const token = add.stdout.match(/^token: (ztj_\S+)$/m)[1];
  const id = add.stdout.match(/^id: ([0-9a-f]{12})$/m)[1];
  const ev = auditEvents(broker, 'token.add').find((e) => e.details.token === id);
  assert.equal(ev.details.name, 'web5');
  assert.deepEqual(ev.details.labels, { env: 'prod', team: 'web' });

  const wrong = await agent(path.join(tmpdir('zt-agent-'), 'data'), 'web6',
    { token, hostKey: sshHostKey(), labels: 'env=dev' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.out.stderr, /this join token is for another name \(token_name\)/);
  // Not spent by the wrong name.
  assert.match((await zt('tokens', 'ls')).stdout,
    new RegExp(`^${id}\\s+\\S+\\s+1\\s+valid\\s+user:ada\\s+web5\\s+env=prod,team=web$`, 'm'));

  const web5 = await agent(path.join(tmpdir('zt-agent-'), 'data'), 'web5',
    { token, hostKey: sshHostKey(), labels: 'env=dev' });
  assert.ok(web5.joined, web5.out?.stderr);
  await until(() => online('web5'), 'web5 online');
  assert.deepEqual(await hostLabels('web5'), { env: 'prod', team: 'web' });
  assert.match(await decision('web5'), /^DENY\n/);
  const c = connects('web5').at(-1);
  assert.equal(c.details.token_labels, true);
  assert.deepEqual(c.details.advertised.labels, { env: 'dev' });
  // What it advertised differs: on record, waiting, not applied.
  assert.match(admin(broker, 'agents', 'ls').stdout,
    /^web5\s+\S+\s+\S+\s+pending\s+env=prod,team=web\n {4}ssh web5 .*\n {2}pending since \S+: labels env=dev \(approved: env=prod,team=web\)$/m);
  // The offline verb and the API bind tokens alike.
  const off = admin(broker, 'tokens', 'add', '--name', 'web7', '--labels', 'env=qa');
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /--name web7 --token/);
  assert.equal(admin(broker, 'tokens', 'add', '--name', 'Web 7').code, 2);
  assert.equal(admin(broker, 'tokens', 'add', '--labels', 'env').code, 2);
});

test('a known agent joining again: a token that names it relabels it, one that does not waits', async () => {
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  const hostKey = sshHostKey();
  // Joins again with its key: the certificate gone, a token in hand.
  const rejoin = async (token) => {
    fs.rmSync(path.join(dir, 'agent.crt'));
    return agent(dir, 'web8', { token, hostKey, labels: 'env=dev' });
  };
  let a = await agent(dir, 'web8', { token: joinToken(broker), hostKey, labels: 'env=dev' });
  assert.ok(a.joined, a.out?.stderr);
  await until(() => online('web8'), 'web8 online');
  assert.equal(await a.stop(), 0);

  // A multi-use onboarding token that names no agent, in the hands of a
  // compromised web8: its labels wait for approval like an advertised change.
  a = await rejoin(joinToken(broker, '--uses', '5', '--labels', 'env=prod'));
  assert.ok(a.joined, a.out?.stderr);
  await until(() => connects('web8').length === 2, 'web8 back');
  const c = connects('web8').at(-1);
  assert.equal(c.outcome, 'success');
  assert.equal(c.details.claims, 'pending');
  assert.equal(c.details.token_labels, true);
  assert.deepEqual(await hostLabels('web8'), { env: 'dev' });
  assert.match(await decision('web8'), /^ALLOW\n.*\(env=dev\)/);
  const claim = auditEvents(broker, 'agent.claims').at(-1);
  assert.equal(claim.actor, 'agent:web8');
  assert.equal(claim.outcome, 'pending');
  assert.deepEqual([claim.details.old.labels, claim.details.new.labels],
    [{ env: 'dev' }, { env: 'prod' }]);
  assert.match(admin(broker, 'agents', 'ls').stdout,
    /^web8\s+\S+\s+\S+\s+pending\s+env=dev\n {4}ssh web8 .*\n {2}pending since \S+: labels env=prod \(approved: env=dev\)$/m);
  assert.equal(await a.stop(), 0);

  // A token bound to web8 is an administrator's word for it: its labels apply.
  a = await rejoin(joinToken(broker, '--name', 'web8', '--labels', 'env=qa'));
  assert.ok(a.joined, a.out?.stderr);
  await until(() => connects('web8').length === 3, 'web8 back again');
  assert.equal(connects('web8').at(-1).details.token_labels, true);
  assert.deepEqual(await hostLabels('web8'), { env: 'qa' });
  assert.match(await decision('web8'), /^DENY\n/);
  assert.equal(await a.stop(), 0);
});
