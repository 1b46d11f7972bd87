// MCP over Streamable HTTP against the real broker, with the official SDK
// client: a bot token, tools, progress, cancellation, an elicitation round
// trip; then every refusal the transport owes, each with the spec's status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, brokerFetch, READONLY_ROLE, request, sdk, startBroker,
  userToken, stopChecked, tmpdir, until, ZTBROKER,
} from './lib/zt.mjs';
import { toolBehaviourTests } from './lib/mcp_behaviour.mjs';

let broker;
let S;

before(async () => {
  S = await sdk();
  broker = await startBroker({
    args: ['--diagnostic-tools', '--allowed-origin', 'https://app.example.com',
      '--log-level', process.env.ZT_LOG_LEVEL || 'info'],
  });
  applyRole(broker, READONLY_ROLE);
});
after(() => stopChecked(broker));

async function connect(token, capabilities = {}) {
  const client = new S.Client({ name: 'zt-e2e', version: '1.0.0' }, { capabilities });
  const transport = new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker),
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

const INIT = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const ACCEPT = 'application/json, text/event-stream';

function mcp(token, body, headers = {}) {
  return request(broker, 'POST', '/mcp', {
    token, body, headers: { Accept: ACCEPT, ...headers },
  });
}

describe('a bot over Streamable HTTP', () => {
  let token;
  let c;
  before(async () => {
    token = botToken(broker, 'mcp-bot');
    c = await connect(token, { elicitation: {} });
  });
  after(async () => { await c?.client.close(); });

  test('initialize negotiates the latest version and lists the tools', async () => {
    assert.equal(c.transport.protocolVersion, '2025-11-25');
    const { tools } = await c.client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('whoami'));
    assert.ok(names.includes('diag_progress'));
    assert.equal(tools.find((t) => t.name === 'whoami').annotations.readOnlyHint, true);
  });

  test('whoami returns the caller\'s identity', async () => {
    const r = await c.client.callTool({ name: 'whoami', arguments: {} });
    assert.deepEqual(r.structuredContent, { kind: 'bot', name: 'mcp-bot', roles: ['readonly'] });
    assert.match(r.content[0].text, /bot mcp-bot/);
  });

  toolBehaviourTests(() => ({ client: c.client, broker, S }));
});

describe('refusals', () => {
  let token;
  before(() => { token = botToken(broker, 'refusal-bot'); });

  test('no token: 401 pointing at the resource metadata', async () => {
    const r = await mcp(undefined, INIT);
    assert.equal(r.status, 401);
    assert.match(r.headers['www-authenticate'], /^Bearer resource_metadata="https:\/\/[^"]+\/\.well-known\/oauth-protected-resource\/mcp"$/);
    // The port's standard headers, as on every /v1 answer.
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(r.headers['strict-transport-security'], /^max-age=\d+/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.body.error.code, 'missing_token');
    const m = await request(broker, 'GET', '/.well-known/oauth-protected-resource/mcp');
    assert.equal(m.status, 200);
    assert.equal(m.body.resource, `${broker.url}/mcp`);
    assert.deepEqual(m.body.bearer_methods_supported, ['header']);
  });

  test('bad, expired and revoked tokens: 401 naming why', async () => {
    let r = await mcp('ztb_not_a_real_token', INIT);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_token');
    const short = botToken(broker, 'short-bot', { ttl: '1s' });
    await new Promise((res) => setTimeout(res, 2100));
    r = await mcp(short, INIT);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'token_expired');
    const user = await userToken(broker, 'mcp-user', 'readonly');
    r = await mcp(user, INIT);
    assert.equal(r.status, 200);
    await request(broker, 'POST', '/v1/logout', { token: user });
    r = await mcp(user, INIT);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'token_revoked');
  });

  test('a flood of bad tokens from one address: 429, and the audit log stays quiet', async () => {
    // A broker of its own: the quiet period would touch the other tests.
    const b = await startBroker();
    applyRole(b, READONLY_ROLE);
    let stopped = false;
    try {
      const post = (token) => request(b, 'POST', '/mcp', { token, body: INIT,
        headers: { Accept: ACCEPT } });
      for (let i = 0; i < 20; i++) assert.equal((await post(`ztb_bad_${i}`)).status, 401);
      for (let i = 0; i < 5; i++) {
        const r = await post(`ztb_bad_more_${i}`);
        assert.equal(r.status, 429);
        assert.equal(r.body.error.code, 'rate_limited');
        assert.ok(Number(r.headers['retry-after']) > 0, JSON.stringify(r.headers));
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
      }
      // One event per kind while the period runs: the first bad token, the
      // first 429; and the start of the quiet period.
      let ev = auditEvents(b, 'auth.token');
      assert.deepEqual(ev.filter((e) => e.outcome === 'failure').map((e) => e.details.reason),
        ['invalid_token', 'rate_limited']);
      assert.equal(ev.filter((e) => e.outcome === 'blocked').length, 1);
      // A valid token from the same address is not held back.
      assert.equal((await post(botToken(b, 'flood-bot'))).status, 200);
      // At stop, the summaries count the rest: nothing went unrecorded.
      await stopChecked(b);
      stopped = true;
      ev = auditEvents(b, 'auth.token').filter((e) => e.details.aggregated);
      assert.deepEqual(ev.map((e) => [e.details.reason, e.details.repeats, e.source]).sort(),
        [['invalid_token', 19, '127.0.0.1'], ['rate_limited', 4, '127.0.0.1']]);
    } finally {
      if (!stopped) await stopChecked(b);
    }
  });

  test('a foreign Origin or Host: 403', async () => {
    let r = await mcp(token, INIT, { Origin: 'https://evil.example.com' });
    assert.equal(r.status, 403);
    r = await mcp(token, INIT, { Host: 'evil.example.com' });
    assert.equal(r.status, 403);
    r = await mcp(token, INIT, { Origin: `https://127.0.0.1:${broker.port}` });
    assert.equal(r.status, 200);
    // An origin allowed with --allowed-origin; a look-alike is not.
    r = await mcp(token, INIT, { Origin: 'https://app.example.com' });
    assert.equal(r.status, 200);
    r = await mcp(token, INIT, { Origin: 'https://app.example.com.evil.example' });
    assert.equal(r.status, 403);
  });

  test('an Origin must match scheme, host and port, not the host alone', async () => {
    // Another local service's page (http, another port) is not the broker.
    for (const origin of ['http://localhost:31337', `http://127.0.0.1:${broker.port}`,
      'https://localhost:31337', `https://localhost:${broker.port + 1}`, 'https://localhost',
      'http://app.example.com', 'https://app.example.com:8443', 'null']) {
      const r = await mcp(token, INIT, { Origin: origin });
      assert.equal(r.status, 403, origin);
      assert.equal(r.body.error.code, -32600, origin);
    }
    for (const origin of [`https://localhost:${broker.port}`, `https://LOCALHOST:${broker.port}`,
      'https://app.example.com:443']) {
      const r = await mcp(token, INIT, { Origin: origin });
      assert.equal(r.status, 200, origin);
    }
  });

  test('the body must be application/json exactly (parameters allowed)', async () => {
    for (const type of ['application/jsonx', 'application/json x', 'application/json-seq',
      'text/plain']) {
      const r = await mcp(token, INIT, { 'Content-Type': type });
      assert.equal(r.status, 415, type);
    }
    const r = await mcp(token, INIT, { 'Content-Type': 'application/json; charset=utf-8' });
    assert.equal(r.status, 200);
    // The JSON API is as strict.
    const l = await request(broker, 'POST', '/v1/login', { body: { user: 'x', password: 'y', otp: '1' },
      headers: { 'Content-Type': 'application/jsonx' } });
    assert.equal(l.status, 415);
    assert.equal(l.body.error.code, 'unsupported_media_type');
  });

  test('session ids: bound to their identity, unknown ones 404, DELETE ends them', async () => {
    const r = await mcp(token, INIT);
    assert.equal(r.status, 200);
    const sid = r.headers['mcp-session-id'];
    assert.match(sid, /^[A-Za-z0-9_-]{40,}$/);
    const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
    let p = await mcp(token, ping, { 'Mcp-Session-Id': sid });
    assert.equal(p.status, 200);
    const other = botToken(broker, 'other-bot');
    p = await mcp(other, ping, { 'Mcp-Session-Id': sid });
    assert.equal(p.status, 404);
    p = await mcp(token, ping, { 'Mcp-Session-Id': 'no-such-session' });
    assert.equal(p.status, 404);
    // Without a session id it is a stateless (2026-07-28) request, and
    // without its _meta a bad one: the answer names both ways.
    p = await mcp(token, ping);
    assert.equal(p.status, 400);
    assert.equal(p.body.error.code, -32602);
    assert.match(p.body.error.message, /Mcp-Session-Id/);
    const d = await request(broker, 'DELETE', '/mcp', { token, headers: { 'Mcp-Session-Id': sid } });
    assert.equal(d.status, 200);
    p = await mcp(token, ping, { 'Mcp-Session-Id': sid });
    assert.equal(p.status, 404);
    const audit = admin(broker, 'audit', 'ls', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((e) => e.type === 'mcp.session' && e.actor === 'bot:other-bot' && e.outcome === 'failure'));
  });

  test('protocol version, Accept, size, JSON and message shape', async () => {
    const s = await mcp(token, INIT);
    const sid = s.headers['mcp-session-id'];
    const ping = { jsonrpc: '2.0', id: 3, method: 'ping' };
    let r = await mcp(token, ping, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '1999-01-01' });
    assert.equal(r.status, 400);
    r = await mcp(token, ping, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-06-18' });
    assert.equal(r.status, 200);
    r = await request(broker, 'POST', '/mcp', { token, body: ping, headers: { Accept: 'application/json', 'Mcp-Session-Id': sid } });
    assert.equal(r.status, 406);
    r = await request(broker, 'POST', '/mcp', { token, raw: `{"jsonrpc":"2.0","id":4,"method":"ping","params":{"x":"${'a'.repeat(5 * 1024 * 1024)}"}}`, headers: { Accept: ACCEPT, 'Mcp-Session-Id': sid } });
    assert.equal(r.status, 413);
    r = await request(broker, 'POST', '/mcp', { token, raw: '{"jsonrpc": "2.0", "id": 5,', headers: { Accept: ACCEPT, 'Mcp-Session-Id': sid } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32700);
    r = await mcp(token, { jsonrpc: '2.0', id: 6, method: 'notifications/initialized' }, { 'Mcp-Session-Id': sid });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32600);
    r = await mcp(token, [ping], { 'Mcp-Session-Id': sid });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32600);
  });
});

describe('sessions per identity', () => {
  let b;
  before(async () => {
    b = await startBroker({ args: ['--mcp-sessions-per-identity', '3'] });
    applyRole(b, READONLY_ROLE);
  });
  after(() => stopChecked(b));
  const init = (token) => request(b, 'POST', '/mcp', { token, body: INIT, headers: { Accept: ACCEPT } });

  test('one identity cannot take every session: past its share, a clear 429', async () => {
    const a = botToken(b, 'bot-a');
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await init(a);
      assert.equal(r.status, 200);
      ids.push(r.headers['mcp-session-id']);
    }
    const r = await init(a);
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, -32600);
    assert.match(r.body.error.message, /Too many MCP sessions: bot:bot-a already holds 3/);
    assert.match(r.body.error.message, /DELETE/);
    // Another identity still gets one.
    const other = await init(botToken(b, 'bot-b'));
    assert.equal(other.status, 200);
    // A session ended gives its place back.
    const d = await request(b, 'DELETE', '/mcp', { token: a, headers: { 'Mcp-Session-Id': ids[0] } });
    assert.equal(d.status, 200);
    assert.equal((await init(a)).status, 200);
    const ev = auditEvents(b, 'mcp.session').filter((e) => e.actor === 'bot:bot-a');
    assert.ok(ev.some((e) => e.outcome === 'failure' && e.details.reason === 'too many sessions'));
  });

  test('the bounds\' flags: a count is a plain number, a size may say K, M or G', () => {
    // Each is refused before the broker starts; a value it took would
    // start it, and the spawn would time out.
    const serve = (...args) => spawnSync(ZTBROKER, ['serve', '--data-dir',
      path.join(tmpdir(), 'data'), '--listen', '127.0.0.1:0', ...args],
    { encoding: 'utf8', timeout: 10000 });
    for (const [args, why] of [
      [['--mcp-sessions-per-identity', '1K'], /--mcp-sessions-per-identity must be from 1 to 4096/],
      [['--mcp-sessions-per-identity', '0'], /--mcp-sessions-per-identity must be from 1 to 4096/],
      [['--mcp-retained-bytes', '1T'], /--mcp-retained-bytes takes a size from 4K to 1024G/],
      [['--http-head-timeout', '2h'], /--http-head-timeout must be a duration from 1s to 1h/],
      [['--session-ttl', '0'], /--session-ttl must be a duration from 1s to 1d/],
    ]) {
      const r = serve(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why);
    }
  });

  test('an identity whose roles allow nothing gets no session', async () => {
    for (const [name, roles, why] of [
      ['bot-ghost', 'ghost,gone', /bot:bot-ghost has no usable role: no role document named ghost,gone is stored/],
      ['bot-ghost2', 'ghost', /bot:bot-ghost2 has no usable role: no role document named ghost is stored/]]) {
      const token = botToken(b, name, { roles });
      const r = await init(token);
      assert.equal(r.status, 403, name);
      assert.equal(r.body.error.code, -32600);
      assert.match(r.body.error.message, why);
      assert.equal(r.headers['mcp-session-id'], undefined);
      // Asking again and again costs one event per identity and period.
      for (let i = 0; i < 5; i++) assert.equal((await init(token)).status, 403);
      const ev = auditEvents(b, 'mcp.session').filter((e) => e.actor === `bot:${name}`);
      assert.equal(ev.length, 1, JSON.stringify(ev));
      assert.equal(ev[0].outcome, 'failure');
      assert.match(ev[0].details.reason, why);
    }
    // One stored role among the names is enough.
    assert.equal((await init(botToken(b, 'bot-some', { roles: 'ghost,readonly' }))).status, 200);
  });
});

describe('calls per identity', () => {
  let b;
  before(async () => {
    b = await startBroker({ args: ['--diagnostic-tools', '--mcp-calls-per-identity', '2'] });
    applyRole(b, READONLY_ROLE);
  });
  after(() => stopChecked(b));
  const client = async (token) => {
    const c = new S.Client({ name: 'zt-e2e-calls', version: '1.0.0' }, { capabilities: {} });
    await c.connect(new S.StreamableHTTPClientTransport(new URL(`${b.url}/mcp`), {
      fetch: brokerFetch(b), requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    return c;
  };
  const whoami = async (c) => (await c.callTool({ name: 'whoami', arguments: {} })).structuredContent.name;

  test('one identity cannot take every call thread: past its share, that call fails clearly', async () => {
    const token = botToken(b, 'busy-bot');
    const [one, two, other] = [await client(token), await client(token), await client(botToken(b, 'calm-bot'))];
    // Two long calls of busy-bot, over two sessions; both run once each
    // sent a progress notification.
    const stops = [new AbortController(), new AbortController()];
    const running = [false, false];
    const calls = [one, two].map((c, i) => c.callTool({ name: 'diag_progress',
      arguments: { steps: 100, interval_ms: 500 } }, undefined,
    { signal: stops[i].signal, timeout: 120000, onprogress: () => { running[i] = true; } }));
    calls.forEach((c) => c.catch(() => {}));
    try {
      await until(() => running[0] && running[1], 'both calls run');
      // A third call of busy-bot, from either session, is refused at once:
      // a JSON-RPC error for that request, naming the bound.
      for (const c of [one, two]) {
        await assert.rejects(whoami(c), (e) => {
          assert.equal(e.code, -32029);
          assert.match(e.message, /bot:busy-bot already runs 2, the most one identity may run at once/);
          return true;
        });
      }
      // Another identity is not held back.
      assert.equal(await whoami(other), 'calm-bot');
      // A call that ends gives its place back.
      stops[0].abort('test cancels');
      await until(async () => whoami(two).then(() => true, () => false), 'a place again');
      // Audited once per identity and period; the repeats are summed up
      // when it ends.
      const ev = auditEvents(b, 'mcp.call').filter((e) => e.actor === 'bot:busy-bot'
        && !e.details.aggregated);
      assert.equal(ev.length, 1, JSON.stringify(ev));
      assert.equal(ev[0].outcome, 'failure');
      assert.equal(ev[0].details.reason, 'too many calls');
    } finally {
      stops.forEach((s) => s.abort('done'));
      await Promise.all([one, two, other].map((c) => c.close()));
    }
  });
});
