// Revocation reaches what already runs: an MCP session lives no longer
// than the bearer token that opened it. Removing a bot or locking a user
// (offline, with `ztbroker admin`, while the broker serves) ends their
// sessions within a second: a running ssh_exec is killed on the host and
// audited as cancelled, its result withheld (the call gets an error saying
// why), the session's GET stream closes, and an mcp.session event says
// why. A session answers only the token that opened it. Fixtures as in
// ssh_exec_tool.test.mjs: a real sshd behind a real agent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, brokerFetch, READONLY_ROLE, request, sdk, startAgent,
  startBroker, stopChecked, tmpdir, until, userToken,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';

let broker;
let sshd;
let S;
let USER;
let agent;

const pidAlive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  USER = sshd.user;
  applyRole(broker, `kind: role\nname: exec\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [ssh_exec, list_hosts]\n');
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  agent = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1',
    { token, hostKey: sshd.hostKey, labels: 'env=staging', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(agent.joined, agent.out?.stderr);
});

after(async () => {
  await agent?.stop();
  await stopChecked(broker);
  sshd?.stop();
});

// The SDK over HTTP with token; `streams` counts the standalone GET
// streams it opened and those the broker ended.
async function connect(token) {
  const streams = { opened: 0, ended: 0 };
  const f = brokerFetch(broker);
  const fetch = async (url, init = {}) => {
    const r = await f(url, init);
    if ((init.method ?? 'GET') !== 'GET' || r.status !== 200 || !r.body) return r;
    streams.opened++;
    const body = r.body.pipeThrough(new TransformStream({ flush() { streams.ended++; } }));
    return new Response(body, { status: r.status, headers: r.headers });
  };
  const client = new S.Client({ name: 'zt-e2e-revoke', version: '1.0.0' }, { capabilities: {} });
  client.onerror = () => {}; // its reconnection attempts after the end are refused
  const transport = new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch, requestInit: { headers: { Authorization: `Bearer ${token}` } },
    reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 100,
      maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1 },
  });
  await client.connect(transport);
  await until(() => streams.opened === 1, 'the standalone stream is open');
  return { client, streams, transport };
}

// Starts `sleep 30; echo done` on web1 through client; resolves to
// {call, pid} once the command runs.
async function longCall(client) {
  const pidFile = path.join(tmpdir('zt-revoke-'), 'pid');
  fs.chmodSync(path.dirname(pidFile), 0o777);
  const call = client.callTool({ name: 'ssh_exec', arguments: { host: 'web1', login: USER,
    command: `echo $$ > ${pidFile}; sleep 30; echo done` } }, undefined, { timeout: 60000 });
  call.catch(() => {});
  await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '',
    'the command runs');
  return { call, pid: Number(fs.readFileSync(pidFile, 'utf8')) };
}

// What revocation owes: the call ends with the reason and no result, the
// command is gone, the audit has both ends, the GET stream closed.
async function assertEnded(actor, c, { call, pid }, why) {
  await assert.rejects(call, new RegExp(`the MCP session ended: ${why}`));
  try {
    await until(() => !pidAlive(pid), 'the command is killed on the host', 5000);
  } finally {
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await until(() => auditEvents(broker, 'tool.ssh_exec.result').some((e) => e.actor === actor
    && e.outcome === 'cancelled' && e.details.status === 'cancelled'), 'the cancelled outcome audited');
  assert.ok(!auditEvents(broker, 'tool.ssh_exec.result').some((e) => e.actor === actor
    && e.outcome === 'success'), 'no result');
  const end = auditEvents(broker, 'mcp.session').filter((e) => e.actor === actor).at(-1);
  assert.equal(end.outcome, 'revoked');
  assert.match(end.details.reason, new RegExp(why));
  await until(() => c.streams.ended >= 1, 'the GET stream is closed');
}

test('ztbroker admin bots rm ends the bot\'s sessions and what they run', async () => {
  const c = await connect(botToken(broker, 'doomed-bot', { roles: 'exec' }));
  const running = await longCall(c.client);
  const rm = admin(broker, 'bots', 'rm', 'doomed-bot');
  assert.equal(rm.code, 0, rm.stderr);
  await assertEnded('bot:doomed-bot', c, running, 'identity removed');
  await c.client.close();
});

test('ztbroker admin users lock ends the user\'s sessions and what they run', async () => {
  const c = await connect(await userToken(broker, 'doomed-alice', 'exec'));
  const running = await longCall(c.client);
  const lock = admin(broker, 'users', 'lock', 'doomed-alice');
  assert.equal(lock.code, 0, lock.stderr);
  await assertEnded('user:doomed-alice', c, running, 'identity locked');
  await c.client.close();
});

test('a session answers only the token that opened it; a logout ends it', async () => {
  const first = botToken(broker, 'two-token-bot', { roles: 'exec' });
  const second = admin(broker, 'bots', 'token', 'two-token-bot').stdout.match(/^token: (ztb_\S+)$/m)[1];
  const c = await connect(first);
  const sid = c.transport.sessionId;
  const ping = (token) => request(broker, 'POST', '/mcp', { token, body: { jsonrpc: '2.0', id: 9, method: 'ping' },
    headers: { Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': sid } });
  assert.equal((await ping(first)).status, 200);
  // The same bot, another token: as foreign as another identity's.
  assert.equal((await ping(second)).status, 404);
  assert.ok(auditEvents(broker, 'mcp.session').some((e) => e.actor === 'bot:two-token-bot'
    && e.details.reason === 'session id with another token'));
  // The token logs out (over the API, in the broker itself): its session ends.
  const out = await request(broker, 'POST', '/v1/logout', { token: first });
  assert.equal(out.status, 200, JSON.stringify(out.body));
  await until(() => c.streams.ended >= 1, 'the GET stream is closed');
  const end = auditEvents(broker, 'mcp.session').filter((e) => e.actor === 'bot:two-token-bot').at(-1);
  assert.equal(end.outcome, 'revoked');
  assert.equal(end.details.reason, 'token revoked');
  assert.equal((await ping(second)).status, 404);
  await c.client.close();
});

test('a session ends when its token expires', async () => {
  const c = await connect(botToken(broker, 'brief-bot', { roles: 'exec', ttl: '2s' }));
  // Checked at least every 10 s, without any write to the store.
  await until(() => c.streams.ended >= 1, 'the GET stream is closed', 20000);
  const end = auditEvents(broker, 'mcp.session').filter((e) => e.actor === 'bot:brief-bot').at(-1);
  assert.equal(end.details.reason, 'token expired');
  await c.client.close();
});

test('the sessions of one token cost one check of it', async () => {
  // A broker of its own, so that its log counts only these sessions.
  const b = await startBroker({ args: ['--log-level', 'debug'] });
  try {
    applyRole(b, READONLY_ROLE);
    const one = botToken(b, 'many-sessions-bot');
    const other = botToken(b, 'one-session-bot');
    const init = (token) => request(b, 'POST', '/mcp', { token, headers: { Accept: 'application/json, text/event-stream' },
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25',
        capabilities: {}, clientInfo: { name: 'raw', version: '1' } } } });
    for (const token of [one, one, one, other]) assert.equal((await init(token)).status, 200);
    // A write from another process: the broker checks the tokens at once.
    botToken(b, 'bystander-bot');
    await until(() => /checked 2 credential\(s\) of 4 session\(s\)/.test(b.log.join('')),
      'one check per token');
    assert.doesNotMatch(b.log.join(''), /checked [34] credential/);
  } finally {
    await stopChecked(b);
  }
});
