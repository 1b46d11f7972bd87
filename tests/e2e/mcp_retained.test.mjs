// What the MCP transport keeps of its SSE streams for clients that resume
// (Last-Event-ID) is bounded in bytes, per session and in all; a client
// that resumes too late, or whose answer could not be kept, gets a clear
// JSON-RPC error for its request, never a silent gap. Small bounds set by
// flags; diag_output makes answers of a given size.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRole, botToken, brokerFetch, READONLY_ROLE, request, sdk, startBroker, stopChecked, until,
} from './lib/zt.mjs';

let broker;
let S;

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--diagnostic-tools', '--log-level', 'debug',
    '--mcp-retained-bytes-per-session', '100K', '--mcp-retained-bytes', '110K'] });
  applyRole(broker, READONLY_ROLE);
});
after(() => stopChecked(broker));

const ACCEPT = 'application/json, text/event-stream';

// A raw session of bot name (on broker b, with token if given): call(id,
// args) and resume(lastEventId) resolve to the SSE events as [{id, data}],
// data parsed.
async function session(name, { b = broker, token = botToken(b, name) } = {}) {
  const init = await request(b, 'POST', '/mcp', { token, headers: { Accept: ACCEPT }, body: {
    jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } } });
  assert.equal(init.status, 200);
  const sid = init.headers['mcp-session-id'];
  const headers = { Accept: ACCEPT, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' };
  await request(b, 'POST', '/mcp', { token, headers, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  const events = (text) => String(text).split('\n\n').filter((b) => /^data: ./m.test(b)).map((b) => ({
    id: b.match(/^id: (\S+)$/m)?.[1],
    data: JSON.parse(b.match(/^data: (.*)$/m)[1]),
  }));
  const priming = (text) => String(text).match(/^id: (\S+)$/m)?.[1];
  return {
    async call(id, args) {
      const r = await request(b, 'POST', '/mcp', { token, headers, body: {
        jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'diag_output', arguments: args } } });
      assert.equal(r.status, 200);
      return { lastId: priming(r.body), events: events(r.body) };
    },
    async resume(lastId) {
      const r = await request(b, 'GET', '/mcp', { token, headers: {
        ...headers, Accept: 'text/event-stream', 'Last-Event-ID': lastId } });
      return { status: r.status, events: r.status === 200 ? events(r.body) : [], body: r.body };
    },
  };
}

// Waits until broker b says the stream of `who` finished (debug log).
const finished = (no, who, b = broker) => until(() => new RegExp(`stream ${no} of a session of ${who} finished, \\d+ bytes kept`)
  .test(b.log.join('')), `stream ${no} of ${who} finished`);

test('a client that resumes in time gets the answer it missed', async () => {
  const s = await session('replay-ok');
  const a = await s.call(2, { bytes: 1000, reconnect: true });
  assert.equal(a.lastId, '1_0');
  assert.deepEqual(a.events, []);
  await finished(1, 'bot:replay-ok');
  const r = await s.resume(a.lastId);
  assert.equal(r.status, 200);
  assert.equal(r.events.at(-1).data.id, 2);
  assert.equal(r.events.at(-1).data.result.content[0].text.length, 1000);
});

test('past the session\'s bound the oldest unread answer is dropped; resuming it is a clear error', async () => {
  const s = await session('replay-late');
  const a = await s.call(2, { bytes: 60000, reconnect: true });
  await finished(1, 'bot:replay-late');
  // 60 kB more do not fit next to it in 100 kB: the unread answer goes.
  const b = await s.call(3, { bytes: 60000 });
  assert.equal(b.events.at(-1).data.result.content[0].text.length, 60000);
  const r = await s.resume(a.lastId);
  assert.equal(r.status, 200);
  const err = r.events.at(-1).data;
  assert.equal(err.id, 2);
  assert.equal(err.error.code, -32603);
  assert.match(err.error.message, /messages of this request after event 1_0 were dropped/);
  assert.match(err.error.message, /at most 102400 bytes/);
});

test('past the bound of all sessions, another session\'s unread answer is dropped', async () => {
  const s1 = await session('replay-one');
  const s2 = await session('replay-two');
  const c = await s2.call(2, { bytes: 60000, reconnect: true });
  await finished(1, 'bot:replay-two');
  // 60 kB in one session, 60 kB in another: over 110 kB in all.
  const d = await s1.call(2, { bytes: 60000 });
  assert.equal(d.events.at(-1).data.result.content[0].text.length, 60000);
  const r = await s2.resume(c.lastId);
  assert.equal(r.events.at(-1).data.id, 2);
  assert.match(r.events.at(-1).data.error.message, /were dropped/);
});

test('an answer larger than a session may keep is a clear error, not a hang', async () => {
  const client = new S.Client({ name: 'zt-e2e-retained', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker),
    requestInit: { headers: { Authorization: `Bearer ${botToken(broker, 'replay-big')}` } },
  }));
  await assert.rejects(client.callTool({ name: 'diag_output', arguments: { bytes: 150000 } }),
    /dropped before they could be delivered/);
  // The session goes on.
  const r = await client.callTool({ name: 'diag_output', arguments: { bytes: 10 } });
  assert.equal(r.content[0].text, 'xxxxxxxxxx');
  await client.close();
});

test('one identity\'s sessions together keep at most its share; others\' answers stay', async () => {
  // A broker of its own: 100 kB per session, 150 kB per identity, plenty
  // in all.
  const b = await startBroker({ args: ['--diagnostic-tools', '--log-level', 'debug',
    '--mcp-retained-bytes-per-session', '100K', '--mcp-retained-bytes-per-identity', '150K',
    '--mcp-retained-bytes', '1M'] });
  try {
    applyRole(b, READONLY_ROLE);
    // The oldest unread answer is another identity's.
    const other = await session('hoard-other', { b });
    const o = await other.call(2, { bytes: 60000, reconnect: true });
    await finished(1, 'bot:hoard-other', b);
    // Two unread answers of one bot, in two sessions: 120 kB of its 150.
    const token = botToken(b, 'hoarder');
    const [s1, s2, s3] = [await session('', { b, token }), await session('', { b, token }),
      await session('', { b, token })];
    const a1 = await s1.call(2, { bytes: 60000, reconnect: true });
    await until(() => (b.log.join('').match(/stream 1 of a session of bot:hoarder finished/g) ?? []).length === 1,
      'the first unread answer kept');
    const a2 = await s2.call(2, { bytes: 60000, reconnect: true });
    await until(() => (b.log.join('').match(/stream 1 of a session of bot:hoarder finished/g) ?? []).length === 2,
      'the second unread answer kept');
    // A third answer of the bot, in a third session, does not fit in its
    // share: the bot's oldest unread answer goes, not the other bot's.
    const a3 = await s3.call(2, { bytes: 60000 });
    assert.equal(a3.events.at(-1).data.result.content[0].text.length, 60000);
    const r1 = await s1.resume(a1.lastId);
    assert.equal(r1.events.at(-1).data.id, 2);
    assert.match(r1.events.at(-1).data.error.message, /were dropped before they could be delivered/);
    assert.match(r1.events.at(-1).data.error.message, /an identity 153600/);
    for (const [s, a] of [[s2, a2], [other, o]]) {
      const r = await s.resume(a.lastId);
      assert.equal(r.events.at(-1).data.result.content[0].text.length, 60000);
    }
  } finally {
    await stopChecked(b);
  }
});
