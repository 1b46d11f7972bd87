// One agent, several resources: a real ztagent started with --config
// advertises two SSH resources, each a real OpenSSH sshd with its own host
// key, and a third whose address has nothing listening. Calls reach each
// sshd (its log shows the call's certificate) and the third fails with the
// agent's reason, audited; list_hosts, zt://hosts and ztctl ls show the
// three with kind, labels and state. Restarted without one of them, the
// agent refuses a dial for it (unknown_resource) while the broker's
// approved claims still list it, and the audit says so. A file with an
// unknown key stops ztagent with FILE:LINE; a second agent advertising a
// resource name the first owns is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, joinToken, mcpConnect, sshHostKey, startAgent,
  startBroker, stopChecked, tmpdir, until, ztctl, ztctlHome,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';

let broker;
let bot;        // an MCP client whose role runs ssh_exec on staging
let botTok;
let sshA;       // resource web1
let sshB;       // resource web1-db
let deadPort;   // resource web1-gone: nothing listens
let USER;
let web1;       // the running agent
const agentDir = path.join(tmpdir('zt-agent-'), 'data');
const confDir = tmpdir('zt-agent-conf-');
const others = [];

const exec = (host, command) => bot.callTool({ name: 'ssh_exec',
  arguments: { host, login: USER, command } });
const text = (r) => r.content.map((c) => c.text).join('\n');
const hosts = async () => (await bot.callTool({ name: 'list_hosts', arguments: {} }))
  .structuredContent.hosts;
const connects = (name) => auditEvents(broker, 'agent.connect').filter((e) => e.actor === `agent:${name}`);

// A configuration file (mode 0600, as ztagent requires) of web1 with the
// given resources.
function config(file, resources, extra = '') {
  const p = path.join(confDir, file);
  const res = resources.map((r) => `  - name: ${r.name}\n    kind: ssh\n    address: ${r.address}\n`
    + `    host_key_file: ${r.keyFile}\n${r.labels ? `    labels: {${r.labels}}\n` : ''}`).join('');
  fs.writeFileSync(p, `# web1 and what it reaches\nlabels: {env: staging}\n${extra}resources:\n${res}`,
    { mode: 0o600 });
  return p;
}

let resources;

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  const userCa = admin(broker, 'ca', 'ssh-user-pub').stdout;
  sshA = startSshd({ userCa });
  sshB = startSshd({ userCa });
  USER = sshA.user;
  applyRole(broker, `kind: role\nname: ops\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [ssh_exec, list_hosts]\n');
  const closed = net.createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  deadPort = closed.address().port;
  await new Promise((r) => closed.close(r));
  resources = [
    { name: 'web1', address: `127.0.0.1:${sshA.port}`, keyFile: sshA.hostKey, labels: 'team: web' },
    { name: 'web1-db', address: `127.0.0.1:${sshB.port}`, keyFile: sshB.hostKey, labels: 'tier: db' },
    { name: 'web1-gone', address: `127.0.0.1:${deadPort}`, keyFile: sshHostKey() },
  ];
  web1 = await startAgent(broker, agentDir, 'web1',
    { token: joinToken(broker), config: config('agent.yaml', resources) });
  assert.ok(web1.joined, web1.out?.stderr);
  botTok = botToken(broker, 'ops-bot', { roles: 'ops' });
  bot = await mcpConnect(broker, botTok);
  await until(async () => (await hosts()).filter((h) => h.online).length === 3,
    'the three resources online', 30000);
});

after(async () => {
  await bot?.close();
  await web1?.stop?.();
  for (const a of others) if (a.stop) await a.stop();
  await stopChecked(broker);
  sshA?.stop();
  sshB?.stop();
});

test('list_hosts, zt://hosts and ztctl ls show each resource with kind, labels and state', async () => {
  const list = await hosts();
  assert.deepEqual(list.map((h) => [h.name, h.kind, h.agent, h.online, h.labels]), [
    ['web1', 'ssh', 'web1', true, { env: 'staging', team: 'web' }],
    ['web1-db', 'ssh', 'web1', true, { env: 'staging', tier: 'db' }],
    ['web1-gone', 'ssh', 'web1', true, { env: 'staging' }],
  ]);
  const read = await bot.readResource({ uri: 'zt://hosts/web1-db' });
  const one = JSON.parse(read.contents[0].text);
  assert.deepEqual([one.name, one.kind, one.agent, one.labels], ['web1-db', 'ssh', 'web1',
    { env: 'staging', tier: 'db' }]);
  const c = connects('web1').at(-1);
  assert.deepEqual(c.details.advertised.resources.map((r) => [r.name, r.address]),
    resources.map((r) => [r.name, r.address]));

  const ls = await ztctl(['ls'], { home: ztctlHome(broker, 'ops-bot', botTok, ['ops']) });
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^NAME\s+KIND\s+AGENT\s+STATE\s+LABELS$/m);
  assert.match(ls.stdout, /^web1\s+ssh\s+web1\s+online\s+env=staging,team=web$/m);
  assert.match(ls.stdout, /^web1-db\s+ssh\s+web1\s+online\s+env=staging,tier=db$/m);
  assert.match(ls.stdout, /^web1-gone\s+ssh\s+web1\s+online\s+env=staging$/m);
});

test('a call to each SSH resource reaches its own sshd', async () => {
  for (const [name, sshd, other] of [['web1', sshA, sshB], ['web1-db', sshB, sshA]]) {
    const r = await exec(name, 'id -un');
    assert.equal(r.isError, false, text(r));
    assert.equal(r.structuredContent.stdout, `${USER}\n`);
    const done = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
    assert.equal(done.outcome, 'success');
    assert.equal(done.details.host, name);
    const accepted = `Accepted certificate ID "zt:bot:ops-bot:${done.details.conn_id}"`;
    sshd.assertLogged(accepted);
    assert.ok(!other.log().includes(accepted), `${name}'s call reached only its own sshd`);
  }
});

test('a resource whose address has nothing listening fails with the agent\'s reason, audited', async () => {
  const r = await exec('web1-gone', 'id -un');
  assert.equal(r.isError, true);
  const why = new RegExp(`the agent of web1-gone could not open the stream: cannot connect to 127\\.0\\.0\\.1:${deadPort}`);
  assert.match(text(r), why);
  const done = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.equal(done.outcome, 'failure');
  assert.equal(done.details.host, 'web1-gone');
  assert.match(done.details.error, why);
});

test('restarted without a resource, the agent refuses a dial for it while the broker still lists it', async () => {
  assert.equal(await web1.stop(), 0);
  const before = connects('web1').length;
  web1 = await startAgent(broker, agentDir, 'web1',
    { config: config('agent-2.yaml', [resources[0], resources[2]]) });
  assert.ok(web1.joined, web1.out?.stderr);
  assert.match(web1.out.stdout, /joined earlier/);
  await until(() => connects('web1').length > before, 'the agent connects again', 30000);
  assert.equal(connects('web1').at(-1).details.claims, 'pending');
  // The removal waits for an administrator; the approved claims keep it.
  assert.match(admin(broker, 'agents', 'ls').stdout, /^ {2}- ssh web1-db +127\.0\.0\.1:\d+ /m);
  const claim = auditEvents(broker, 'agent.claims').at(-1);
  assert.equal(claim.outcome, 'pending');
  assert.deepEqual(claim.details.new.resources.map((x) => x.name), ['web1', 'web1-gone']);
  await until(async () => (await hosts()).find((h) => h.name === 'web1-db')?.online,
    'web1-db listed, online with its agent', 30000);

  const r = await exec('web1-db', 'id -un');
  assert.equal(r.isError, true);
  assert.match(text(r), /the agent of web1-db refused: this agent advertises no resource web1-db \(unknown_resource\)/);
  const done = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.equal(done.outcome, 'failure');
  assert.equal(done.details.host, 'web1-db');
  assert.match(done.details.error, /unknown_resource/);
  assert.ok(!sshB.log().includes(`zt:bot:ops-bot:${done.details.conn_id}`));
  // The resource it kept still serves.
  const ok = await exec('web1', 'id -un');
  assert.equal(ok.isError, false, text(ok));
});

test('a configuration file with an unknown key stops ztagent with its file and line', async () => {
  const file = config('bad.yaml', [resources[0]], 'max_stream: 4\n');
  const bad = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web7',
    { token: joinToken(broker), config: file });
  assert.equal(bad.code, 2, bad.out.stdout);
  assert.match(bad.out.stderr, new RegExp(`^ztagent: ${file}:3: unknown key "max_stream" in the file`));
  // No join was tried: the token was not spent on a file that does not load.
  assert.equal(auditEvents(broker, 'agent.join').filter((e) => e.actor === 'agent:web7').length, 0);
});

test('a second agent advertising a resource name the first owns is refused', async () => {
  const file = path.join(confDir, 'db2.yaml');
  fs.writeFileSync(file, `resources:\n  - name: web1-db\n    kind: ssh\n    address: 127.0.0.1:22\n`
    + `    host_key_file: ${sshHostKey()}\n`, { mode: 0o600 });
  const db2 = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'db2',
    { token: joinToken(broker), config: file });
  others.push(db2);
  const code = db2.joined ? await db2.exited : db2.code;
  assert.equal(code, 1, db2.out.stdout);
  assert.match(db2.out.stderr, /\(resource_taken\)/);
  assert.match(JSON.stringify(auditEvents(broker).filter((e) => e.actor === 'agent:db2')),
    /resource name web1-db is taken by agent web1/);
  assert.equal((await hosts()).filter((h) => h.name === 'web1-db').length, 1);
  assert.equal((await hosts()).find((h) => h.name === 'web1-db').agent, 'web1');
});
