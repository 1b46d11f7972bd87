// The hosts a caller may see, from real agents: the MCP list_hosts tool,
// the zt://hosts/NAME resources and GET /v1/hosts agree, show labels and
// online state, and show only what the caller's roles allow; a caller
// whose roles do not allow list_hosts sees no host through any of them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, auditEvents, botToken, brokerFetch, request, sdk, sshHostKey, startAgent, startBroker,
  stopChecked, tmpdir, until, ztctl, ztctlHome,
} from './lib/zt.mjs';

let broker;
let S;
const agents = [];

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  const roles = {
    'staging-viewer': 'allow:\n  hosts: {env: staging}\n  tools: [list_hosts]\n',
    // May act on staging hosts, but was never given the inventory.
    'staging-exec': 'allow:\n  hosts: {env: staging}\n  tools: [ssh_exec]\n',
    // Every tool on staging hosts except the inventory.
    'no-inventory': 'allow:\n  hosts: {env: staging}\ndeny:\n  tools: [list_hosts]\n',
  };
  for (const [name, body] of Object.entries(roles)) {
    const role = path.join(tmpdir('zt-role-'), 'r.yaml');
    fs.writeFileSync(role, `kind: role\nname: ${name}\n${body}`);
    assert.equal(admin(broker, 'roles', 'apply', '-f', role).code, 0);
  }
  const hostKey = sshHostKey();
  for (const [name, labels] of [['web1', 'env=staging,team=web'], ['db1', 'env=prod']]) {
    const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
    const a = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), name, { token, hostKey, labels });
    assert.ok(a.joined, a.out?.stderr);
    agents.push(a);
  }
});
after(async () => {
  for (const a of agents) await a.stop();
  await stopChecked(broker);
});

async function connect(token) {
  const client = new S.Client({ name: 'zt-e2e', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
  }));
  return client;
}

test('list_hosts, resources and /v1/hosts show the allowed hosts with their state', async () => {
  const token = botToken(broker, 'viewer', { roles: 'staging-viewer' });
  await until(async () => (await request(broker, 'GET', '/v1/hosts', { token })).body.hosts?.[0]?.online,
    'web1 online');
  const api = await request(broker, 'GET', '/v1/hosts', { token });
  assert.equal(api.status, 200);
  assert.deepEqual(api.body.hosts.map((h) => h.name), ['web1']);
  assert.deepEqual(api.body.hosts[0].labels, { env: 'staging', team: 'web' });

  const client = await connect(token);
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'list_hosts'));
  const r = await client.callTool({ name: 'list_hosts', arguments: {} });
  assert.deepEqual(r.structuredContent.hosts.map((h) => [h.name, h.online]), [['web1', true]]);
  // The gate's two events: the decision with its rule, then the outcome.
  const ev = auditEvents(broker, 'tool.list_hosts').at(-1);
  assert.deepEqual([ev.actor, ev.source, ev.outcome, ev.details.rule],
    ['bot:viewer', '127.0.0.1', 'allowed', 'allow: role staging-viewer allows tool list_hosts']);
  const done = auditEvents(broker, 'tool.list_hosts.result').at(-1);
  assert.deepEqual([done.actor, done.outcome, done.details.hosts, done.details.call_id],
    ['bot:viewer', 'success', 1, ev.details.call_id]);
  const { resources } = await client.listResources();
  assert.deepEqual(resources.map((x) => x.uri), ['zt://hosts/web1']);
  const read = await client.readResource({ uri: 'zt://hosts/web1' });
  assert.equal(JSON.parse(read.contents[0].text).name, 'web1');
  // A host the caller may not see is as unknown as one that does not exist.
  await assert.rejects(client.readResource({ uri: 'zt://hosts/db1' }), /-32002|not found/i);
  await client.close();
  // ztctl ls shows the same, from a profile holding this identity's token.
  const home = ztctlHome(broker, 'viewer', token, ['staging-viewer']);
  const ls = await ztctl(['ls'], { home });
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^NAME\s+KIND\s+AGENT\s+STATE\s+LABELS$/m);
  assert.match(ls.stdout, /^web1\s+ssh\s+web1\s+online\s+env=staging,team=web$/m);
  assert.doesNotMatch(ls.stdout, /db1/);
});

test('a stopped agent shows offline', async () => {
  const token = botToken(broker, 'viewer2', { roles: 'staging-viewer' });
  await agents[0].stop();
  await until(async () => (await request(broker, 'GET', '/v1/hosts', { token })).body.hosts[0].online === false,
    'web1 offline');
});

// Every way to the inventory asks the same question (the list_hosts
// decision), so none of them shows a host to a caller it refuses.
async function refusedOverMcp(token, roles, rule) {
  const client = await connect(token);
  const { tools } = await client.listTools();
  assert.ok(!tools.some((t) => t.name === 'list_hosts'));
  assert.deepEqual((await client.listResources()).resources, []);
  for (const uri of ['zt://hosts/web1', 'zt://hosts/db1', 'zt://hosts/nosuch']) {
    await assert.rejects(client.readResource({ uri }), (e) => e.code === -32002, uri);
  }
  const r = await client.callTool({ name: 'list_hosts', arguments: {} });
  assert.equal(r.isError, true);
  assert.equal(r.content[0].text, rule);
  const ev = auditEvents(broker, 'tool.list_hosts').at(-1);
  assert.deepEqual([ev.actor, ev.source, ev.outcome, ev.details.rule],
    [`bot:bot-${roles}`, '127.0.0.1', 'denied', rule]);
  await client.close();
}

for (const [name, roles, rule] of [
  ['with no role at all', 'no-such-role', 'deny: no role allows tool list_hosts'],
  ['that allow other tools only', 'staging-exec', 'deny: no role allows tool list_hosts'],
  ['that deny list_hosts', 'no-inventory', 'deny: role no-inventory denies tool list_hosts'],
]) {
  test(`roles ${name} see no host through any way to the inventory`, async () => {
    const token = botToken(broker, `bot-${roles}`, { roles });
    const api = await request(broker, 'GET', '/v1/hosts', { token });
    assert.equal(api.status, 403, JSON.stringify(api.body));
    assert.deepEqual(api.body.error, { code: 'forbidden', message: rule });
    if (roles === 'no-such-role') {
      // Roles with no stored document allow nothing: no MCP session at all.
      await assert.rejects(connect(token), /no usable role/);
    } else {
      await refusedOverMcp(token, roles, rule);
    }
    const home = ztctlHome(broker, `bot-${roles}`, token, [roles]);
    const ls = await ztctl(['ls'], { home });
    assert.equal(ls.code, 1, ls.stdout);
    assert.match(ls.stderr, new RegExp(rule));
    assert.doesNotMatch(ls.stdout, /web1/);
  });
}
