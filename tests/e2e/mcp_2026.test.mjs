// MCP protocol revision 2026-07-28 against the real broker, over HTTPS
// with a bearer token, on the same /mcp as 2025-11-25: the official v2 SDK
// client (@modelcontextprotocol/client) beside the v1 SDK client; a tool
// refused from its Mcp-Name header before the body is read; a forged
// requestState refused and recorded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import {
  admin, applyRole, auditEvents, botToken, brokerFetch, mcpConnect, READONLY_ROLE, request,
  startBroker, stopChecked, until,
} from './lib/zt.mjs';

const V = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': {},
};

let broker;
let token;

before(async () => {
  broker = await startBroker();
  applyRole(broker, READONLY_ROLE);
  token = botToken(broker, 'era-bot');
});
after(() => stopChecked(broker));

// A raw stateless POST: the headers the revision asks for, then extra.
function post(body, headers = {}) {
  const h = {
    Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': V,
    'Mcp-Method': body.method, ...headers,
  };
  if (body.params?.name !== undefined && !('Mcp-Name' in headers)) h['Mcp-Name'] = body.params.name;
  return request(broker, 'POST', '/mcp', { token, body, headers: h });
}

// The JSON-RPC response in a JSON or SSE body.
function answer(r) {
  if (typeof r.body === 'object') return r.body;
  const events = String(r.body).split('\n').filter((l) => l.startsWith('data: ') && l.length > 6)
    .map((l) => JSON.parse(l.slice(6)));
  return events.find((e) => e.id !== undefined && (e.result || e.error));
}

describe('the stateless era on the broker', () => {
  test('server/discover names both eras and zt', async () => {
    const r = await post({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: META } });
    assert.equal(r.status, 200);
    const res = r.body.result;
    assert.equal(res.resultType, 'complete');
    assert.deepEqual(res.supportedVersions.slice(0, 2), [V, '2025-11-25']);
    assert.equal(res._meta['io.modelcontextprotocol/serverInfo'].name, 'zt');
    assert.ok(res.capabilities.tools);
    assert.equal(typeof res.ttlMs, 'number');
    assert.ok(['private', 'public'].includes(res.cacheScope));
  });

  test('tools/list is the caller\'s, cacheable, in a fixed order', async () => {
    const a = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: META } });
    const b = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: META } });
    const names = a.body.result.tools.map((t) => t.name);
    assert.ok(names.includes('list_hosts') && names.includes('whoami'));
    assert.ok(!names.includes('ssh_exec'), 'a tool the role never allows is not listed');
    assert.deepEqual(b.body.result.tools.map((t) => t.name), names);
    assert.equal(a.body.result.cacheScope, 'private');
  });

  test('a header that disagrees with the body is refused', async () => {
    const body = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'whoami', _meta: META } };
    let r = await post(body, { 'Mcp-Method': 'tools/list' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32020);
    assert.equal(r.body.id, 4);
    r = await post(body, { 'Mcp-Name': 'list_hosts' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32020);
    r = await post(body, { 'MCP-Protocol-Version': '2025-11-25' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32020);
  });

  test('a tool the roles never allow is refused from Mcp-Name, before the body is parsed',
    async () => {
      const raw = '{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": ';
      const headers = {
        Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': V,
        'Mcp-Method': 'tools/call',
      };
      // The same unparseable body naming an allowed tool is a parse error:
      // the body is read then, and fails.
      let r = await request(broker, 'POST', '/mcp', { token, raw, headers: { ...headers, 'Mcp-Name': 'list_hosts' } });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, -32700);
      r = await request(broker, 'POST', '/mcp', { token, raw, headers: { ...headers, 'Mcp-Name': 'ssh_exec' } });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, -32602);
      assert.match(r.body.error.message, /Unknown tool: ssh_exec/);
      const ev = auditEvents(broker, 'mcp.call').filter((e) => e.actor === 'bot:era-bot');
      assert.ok(ev.some((e) => e.outcome === 'failure' && /ssh_exec refused from its Mcp-Name/.test(e.details?.reason)),
        JSON.stringify(ev));
    });

  test('the W3C trace context of a call is in its audit events', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const call = (id, traceparent) => post({ jsonrpc: '2.0', id, method: 'tools/call', params: {
      name: 'list_hosts', arguments: {},
      _meta: { ...META, traceparent, tracestate: 'zt=e2e,vendor=x' } } });
    assert.ok(!answer(await call(20, tp)).error);
    assert.ok(!answer(await call(21, '00-00000000000000000000000000000000-00f067aa0ba902b7-01')).error);
    const ev = auditEvents(broker, 'tool.list_hosts').filter((e) => e.actor === 'bot:era-bot');
    const byId = (id) => ev.filter((e) => e.details.request_id === id);
    assert.ok(byId('20').length >= 1);
    for (const e of byId('20')) {
      assert.equal(e.details.traceparent, tp);
      assert.equal(e.details.tracestate, 'zt=e2e,vendor=x');
    }
    // A trace id of zeros is not one: nothing is recorded of it.
    for (const e of byId('21')) assert.equal(e.details.traceparent, undefined);
  });

  test('a forged requestState is refused and recorded', async () => {
    const r = await post({
      jsonrpc: '2.0', id: 6, method: 'tools/call',
      params: { name: 'whoami', arguments: {}, requestState: 'eyJ2IjoxfQ.Zm9yZ2Vk', _meta: META },
    });
    const a = answer(r);
    assert.equal(a.id, 6);
    assert.equal(a.error.code, -32602);
    assert.match(a.error.message, /requestState refused: forged or malformed/);
    const ev = auditEvents(broker, 'mcp.call').filter((e) => e.actor === 'bot:era-bot');
    assert.ok(ev.some((e) => e.outcome === 'failure' && /requestState refused: forged/.test(e.details?.reason)),
      JSON.stringify(ev));
  });
});

describe('the v2 and the v1 SDK clients side by side', () => {
  let v2;
  let v1;
  before(async () => {
    const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
    // 'auto': server/discover first, the stateless era when it answers.
    v2 = new Client({ name: 'zt-e2e-v2', version: '1.0.0' },
      { capabilities: {}, versionNegotiation: { mode: 'auto' } });
    await v2.connect(new StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
      fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }));
    v1 = await mcpConnect(broker, token);
  });
  after(async () => {
    await v2?.close();
    await v1?.close();
  });

  test('each calls whoami and list_hosts at the same time', async () => {
    assert.equal(v2.getNegotiatedProtocolVersion(), '2026-07-28');
    const [w2, h2, w1, h1] = await Promise.all([
      v2.callTool({ name: 'whoami', arguments: {} }),
      v2.callTool({ name: 'list_hosts', arguments: {} }),
      v1.callTool({ name: 'whoami', arguments: {} }),
      v1.callTool({ name: 'list_hosts', arguments: {} }),
    ]);
    for (const r of [w2, h2, w1, h1]) assert.ok(!r.isError, JSON.stringify(r));
    assert.match(JSON.stringify(w2.content), /era-bot/);
    assert.match(JSON.stringify(w1.content), /era-bot/);
    // Only the v1 client opened a session.
    const sessions = auditEvents(broker, 'mcp.session').filter((e) => e.actor === 'bot:era-bot' &&
      e.details?.reason === 'created');
    assert.equal(sessions.length, 1, JSON.stringify(sessions));
  });
});

describe('subscriptions/listen and revocation', () => {
  // Opens a stateless POST and collects the JSON-RPC messages of its SSE
  // stream as they come; {messages, ended, close()}.
  function stream(tok, body) {
    const out = { messages: [], ended: false };
    const data = JSON.stringify(body);
    const req = https.request({
      host: '127.0.0.1', port: broker.port, method: 'POST', path: '/mcp', ca: broker.caPem,
      checkServerIdentity: (_, cert) => tls.checkServerIdentity('127.0.0.1', cert),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok}`,
        Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': V,
        'Mcp-Method': body.method, ...(body.params.name ? { 'Mcp-Name': body.params.name } : {}) },
    }, (res) => {
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line.startsWith('data:') && line.length > 6) out.messages.push(JSON.parse(line.slice(5)));
        }
      });
      res.on('end', () => { out.ended = true; });
      res.on('error', () => { out.ended = true; });
    });
    req.on('error', () => { out.ended = true; });
    req.end(data);
    out.close = () => req.destroy();
    return out;
  }

  test('a listener hears that the tools changed when a role does, tagged with its id', async () => {
    const tok = botToken(broker, 'listen-bot');
    const s = stream(tok, { jsonrpc: '2.0', id: 'L1', method: 'subscriptions/listen',
      params: { _meta: META, notifications: { toolsListChanged: true, promptsListChanged: true } } });
    await until(() => s.messages.length >= 1, 'the acknowledgement');
    const ack = s.messages[0];
    assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.params.notifications, { toolsListChanged: true });
    assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 'L1');
    applyRole(broker, 'kind: role\nname: listen-extra\nallow:\n  tools: [list_hosts]\n');
    await until(() => s.messages.some((m) => m.method === 'notifications/tools/list_changed'),
      'notifications/tools/list_changed');
    const n = s.messages.find((m) => m.method === 'notifications/tools/list_changed');
    assert.equal(n.params._meta['io.modelcontextprotocol/subscriptionId'], 'L1');
    s.close();
  });

  test('removing the bot ends its listen stream and its running stateless call', async () => {
    const tok = botToken(broker, 'gone-bot');
    const s = stream(tok, { jsonrpc: '2.0', id: 'L2', method: 'subscriptions/listen',
      params: { _meta: META, notifications: { toolsListChanged: true } } });
    await until(() => s.messages.length >= 1, 'the acknowledgement');
    const r = admin(broker, 'bots', 'rm', 'gone-bot');
    assert.equal(r.code, 0, r.stderr);
    await until(() => s.ended, 'the stream ends', 15000);
    // The last word on it names why, with the request's id.
    const last = s.messages.at(-1);
    assert.equal(last.id, 'L2');
    assert.match(last.error?.message ?? '', /ended/);
    // The broker still serves others.
    const ok = await post({ jsonrpc: '2.0', id: 30, method: 'tools/list', params: { _meta: META } });
    assert.equal(ok.status, 200);
  });
});
