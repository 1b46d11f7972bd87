// MCP 2026-07-28 on the real broker with a real agent and a real OpenSSH
// sshd: the v2 SDK client (stateless) and the v1 SDK client (a session)
// run ssh_exec at the same time; a call held for an approval completes
// through input_required with the v2 client (the page in a URL-mode input
// request, the approval's id in the sealed requestState) and through URL
// elicitation with the v1 client; a requestState replayed by another
// identity, or after it expired, is refused and recorded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  admin, approver, applyRole, auditEvents, botToken, brokerFetch, mcpConnect, request, sdk,
  startAgent, startBroker, stopChecked, tmpdir, until, ztctl,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';
import { rpc as statelessRpc, taskUntil, TASKS } from './lib/stateless.mjs';

// Long enough for a round trip under the sanitizers, short enough to
// outwait in a test.
const STATE_TTL_S = 8;

let broker;
let sshd;
let USER;
let S;
const agents = [];
const clients = [];

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0',
    '--mcp-state-ttl', `${STATE_TTL_S}s`] });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  USER = sshd.user;
  const base = `allow:\n  hosts: {env: staging}\n  logins: [${USER}]\n  tools: [ssh_exec, list_hosts]\n`;
  applyRole(broker, `kind: role\nname: plain\n${base}`);
  applyRole(broker, `kind: role\nname: guarded\n${base}options:\n  approval: {by: [oncall], ttl: 20m}\n`);
  applyRole(broker, 'kind: role\nname: oncall\nallow:\n  tools: [list_hosts]\n');
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  const a = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
    token, hostKey: sshd.hostKey, labels: 'env=staging', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(a.joined, a.out?.stderr);
  agents.push(a);
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const a of agents) await a.stop();
  await stopChecked(broker);
  sshd?.stop();
});

// A v2 SDK client on the stateless era (server/discover first).
async function v2Connect(token, capabilities = {}) {
  const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
  const c = new Client({ name: 'zt-e2e-v2', version: '1.0.0' },
    { capabilities, versionNegotiation: { mode: 'auto' } });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
  }));
  clients.push(c);
  return c;
}

const exec = (client, command) => client.callTool({ name: 'ssh_exec',
  arguments: { host: 'web1', login: USER, command } }, undefined, { timeout: 120000 });

// A raw stateless tools/call of ssh_exec by token, from a client that
// takes URL elicitation; resolves to the JSON-RPC response.
const rawExec = (token, command, extra = {}) => statelessRpc(broker, token, 'tools/call',
  { name: 'ssh_exec', arguments: { host: 'web1', login: USER, command }, ...extra },
  { elicitation: { url: {} } });

test('the v2 and v1 SDK clients run whoami, list_hosts and ssh_exec at the same time', async () => {
  const token = botToken(broker, 'both-bot', { roles: 'plain' });
  const v2 = await v2Connect(token);
  const v1 = await mcpConnect(broker, token);
  clients.push(v1);
  await until(async () => (await v1.callTool({ name: 'list_hosts', arguments: {} }))
    .structuredContent.hosts[0]?.online, 'web1 online');
  const calls = await Promise.all([v2, v1].flatMap((c) => [
    c.callTool({ name: 'whoami', arguments: {} }),
    c.callTool({ name: 'list_hosts', arguments: {} }),
    exec(c, `echo ${c === v2 ? 'stateless' : 'session'}`),
  ]));
  for (const r of calls) assert.equal(r.isError, false, JSON.stringify(r));
  assert.equal(calls[2].structuredContent.stdout, 'stateless\n');
  assert.equal(calls[5].structuredContent.stdout, 'session\n');
  assert.equal(calls[1].structuredContent.hosts[0].name, 'web1');
  const ran = auditEvents(broker, 'tool.ssh_exec').filter((e) => e.actor === 'bot:both-bot' &&
    e.outcome === 'allowed');
  assert.equal(ran.length, 2);
});

test('a held call completes through input_required with the v2 client', async () => {
  const ivan = await approver(broker, 'ivan');
  const v2 = await v2Connect(botToken(broker, 'held-v2', { roles: 'guarded' }),
    { elicitation: { url: {} } });
  const asked = [];
  // The person opens the page and approves; then the client answers.
  // The id is the page's last segment (the v2 SDK hands the handler the
  // revision's URL request: message, mode and url).
  v2.setRequestHandler('elicitation/create', async (req) => {
    asked.push(req.params);
    const id = req.params.url.split('/').pop();
    const yes = await ztctl(['approve', id, '--otp', ivan.code()], { home: ivan.home });
    assert.equal(yes.code, 0, yes.stderr);
    return { action: 'accept' };
  });
  const r = await exec(v2, 'echo approved-stateless');
  assert.equal(r.isError, false, JSON.stringify(r));
  assert.equal(r.structuredContent.stdout, 'approved-stateless\n');
  assert.equal(asked.length, 1);
  assert.equal(asked[0].mode, 'url');
  const id = asked[0].url.match(/\/#\/approvals\/([0-9a-f]{32})$/)?.[1];
  assert.ok(id, asked[0].url);
  const ev = auditEvents(broker, 'tool.ssh_exec').filter((e) => e.actor === 'bot:held-v2' &&
    e.outcome === 'allowed');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].details.approval_id, id);
  assert.equal(ev[0].details.released_by, 'user:ivan');
});

test('a held call completes through URL elicitation with the v1 client', async () => {
  const judy = await approver(broker, 'judy');
  const v1 = new S.Client({ name: 'zt-e2e-v1', version: '1.0.0' },
    { capabilities: { elicitation: { url: {} } } });
  let shown = null;
  v1.setRequestHandler(S.types.ElicitRequestSchema, async (req) => {
    shown = req.params;
    const yes = await ztctl(['approve', req.params.elicitationId, '--otp', judy.code()],
      { home: judy.home });
    assert.equal(yes.code, 0, yes.stderr);
    return { action: 'accept' };
  });
  await v1.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: {
      Authorization: `Bearer ${botToken(broker, 'held-v1', { roles: 'guarded' })}` } },
  }));
  clients.push(v1);
  const r = await exec(v1, 'echo approved-session');
  assert.equal(r.structuredContent?.stdout, 'approved-session\n', JSON.stringify(r));
  assert.equal(shown.mode, 'url');
});

describe('requestState that does not hold', () => {
  let first;
  let aToken;
  before(async () => {
    aToken = botToken(broker, 'state-a', { roles: 'guarded' });
    first = await rawExec(aToken, 'echo replayed');
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    assert.equal(first.result.inputRequests.approval.params.mode, 'url');
  });

  test('another identity\'s is refused and recorded', async () => {
    const other = botToken(broker, 'state-b', { roles: 'guarded' });
    const r = await rawExec(other, 'echo replayed', {
      requestState: first.result.requestState,
      inputResponses: { approval: { action: 'accept' } },
    });
    assert.equal(r.error?.code, -32602, JSON.stringify(r));
    assert.match(r.error.message, /requestState refused: issued to another identity/);
    const ev = auditEvents(broker, 'mcp.call').filter((e) => e.actor === 'bot:state-b');
    assert.ok(ev.some((e) => e.outcome === 'failure' &&
      /requestState refused: issued to another identity/.test(e.details?.reason)), JSON.stringify(ev));
    // Nothing of bot:state-b ran or was held.
    assert.ok(!auditEvents(broker, 'approval.requested').some((e) => e.actor === 'bot:state-b'));
  });

  test('one replayed after it expired is refused and recorded', async () => {
    await new Promise((r) => setTimeout(r, (STATE_TTL_S + 1) * 1000));
    const r = await rawExec(aToken, 'echo replayed', {
      requestState: first.result.requestState,
      inputResponses: { approval: { action: 'accept' } },
    });
    assert.equal(r.error?.code, -32602, JSON.stringify(r));
    assert.match(r.error.message, /requestState refused: expired/);
    const ev = auditEvents(broker, 'mcp.call').filter((e) => e.actor === 'bot:state-a');
    assert.ok(ev.some((e) => /requestState refused: expired/.test(e.details?.reason)),
      JSON.stringify(ev));
    assert.ok(!auditEvents(broker, 'tool.ssh_exec').some((e) => e.actor === 'bot:state-a' &&
      e.outcome === 'allowed'), 'nothing ran');
  });
});

describe('ssh_exec as a task (the tasks extension)', () => {
  const rpc = (token, method, params, caps = TASKS) => statelessRpc(broker, token, method, params,
    caps);
  const until_status = (token, taskId, want, caps = TASKS) => taskUntil(broker, token, taskId,
    want, caps);

  const execParams = (command) => ({ name: 'ssh_exec',
    arguments: { host: 'web1', login: USER, command } });

  test('runs, is polled to its result, and is another identity\'s to nobody', async () => {
    const token = botToken(broker, 'task-bot', { roles: 'plain' });
    const created = await rpc(token, 'tools/call', execParams('echo from-a-task'));
    assert.equal(created.result?.resultType, 'task', JSON.stringify(created));
    const { taskId } = created.result;
    const done = await until_status(token, taskId, ['completed', 'failed', 'cancelled']);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.result.structuredContent.stdout, 'from-a-task\n');
    // Another identity asking for it learns nothing.
    const other = await rpc(botToken(broker, 'task-other', { roles: 'plain' }), 'tasks/get', { taskId });
    assert.equal(other.error?.code, -32602);
    // Without the extension the same call runs at once.
    const sync = await rpc(token, 'tools/call', execParams('echo at-once'), {});
    assert.equal(sync.result?.structuredContent?.stdout, 'at-once\n', JSON.stringify(sync));
  });

  test('is cancelled', async () => {
    const token = botToken(broker, 'task-cancel', { roles: 'plain' });
    const created = await rpc(token, 'tools/call', execParams('sleep 30'));
    const { taskId } = created.result;
    await until_status(token, taskId, ['working']);
    const ack = await rpc(token, 'tasks/cancel', { taskId });
    assert.deepEqual(ack.result, { resultType: 'complete' });
    const t = await until_status(token, taskId, ['cancelled', 'completed', 'failed']);
    assert.equal(t.status, 'cancelled');
  });

  test('stops when its bot is removed', async () => {
    const token = botToken(broker, 'task-revoked', { roles: 'plain' });
    const created = await rpc(token, 'tools/call', execParams('sleep 60'));
    const { taskId } = created.result;
    await until_status(token, taskId, ['working']);
    await until(() => auditEvents(broker, 'tool.ssh_exec').some((e) =>
      e.actor === 'bot:task-revoked' && e.outcome === 'allowed'), 'the command started');
    const t0 = Date.now();
    const r = admin(broker, 'bots', 'rm', 'task-revoked');
    assert.equal(r.code, 0, r.stderr);
    // The command's end is recorded long before its 60 s.
    await until(() => auditEvents(broker, 'tool.ssh_exec.result').some((e) =>
      e.actor === 'bot:task-revoked'), 'the task ended', 20000);
    assert.ok(Date.now() - t0 < 20000);
    const end = auditEvents(broker, 'tool.ssh_exec.result').find((e) => e.actor === 'bot:task-revoked');
    assert.notEqual(end.outcome, 'success', JSON.stringify(end));
  });

  test('held for an approval: input_required on the task, answered with tasks/update', async () => {
    const kim = await approver(broker, 'kim');
    const token = botToken(broker, 'task-held', { roles: 'guarded' });
    const caps = { elicitation: { url: {} }, ...TASKS };
    const created = await rpc(token, 'tools/call', execParams('echo approved-task'), caps);
    const { taskId } = created.result;
    const asked = await until_status(token, taskId, ['input_required', 'failed'], caps);
    assert.equal(asked.status, 'input_required', JSON.stringify(asked));
    const page = asked.inputRequests.approval.params;
    assert.equal(page.mode, 'url');
    const yes = await ztctl(['approve', page.url.split('/').pop(), '--otp', kim.code()],
      { home: kim.home });
    assert.equal(yes.code, 0, yes.stderr);
    const ack = await rpc(token, 'tasks/update',
      { taskId, inputResponses: { approval: { action: 'accept' } } }, caps);
    assert.deepEqual(ack.result, { resultType: 'complete' });
    const done = await until_status(token, taskId, ['completed', 'failed', 'cancelled'], caps);
    assert.equal(done.result?.structuredContent?.stdout, 'approved-task\n', JSON.stringify(done));
    const ev = auditEvents(broker, 'tool.ssh_exec').filter((e) => e.actor === 'bot:task-held' &&
      e.outcome === 'allowed');
    assert.equal(ev.at(-1).details.released_by, 'user:kim');
  });
});
