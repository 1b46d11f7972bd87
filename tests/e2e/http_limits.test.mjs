// The HTTPS port under clients that hold connections without finishing
// their requests (slowloris): request deadlines close them, idle ones cost
// no thread, and one address holds at most its share of unauthenticated
// connections, so normal clients from other addresses are still served.
// Client addresses 127.0.0.2.. are loopback too (all of 127/8 on Linux).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import {
  applyRole, auditEvents, botToken, brokerFetch, READONLY_ROLE, sdk, startBroker, stopChecked,
  until, userToken,
} from './lib/zt.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A raw TCP connection from localAddress that sends nothing: to the broker,
// a client still in its TLS handshake. Resolves once connected; its
// `closed` turns true once the connection ended.
function idleConnection(broker, localAddress) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: broker.port, localAddress });
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

// A TLS connection to the broker, once its handshake is done:
// {s, answer()} (what the broker sent so far).
async function tlsConnection(broker) {
  const s = tls.connect({ host: '127.0.0.1', port: broker.port, ca: broker.caPem,
    checkServerIdentity: () => undefined });
  let answer = '';
  s.on('error', () => {});
  s.on('data', (d) => { answer += d; });
  await new Promise((r) => s.once('secureConnect', r));
  return { s, answer: () => answer };
}

// Writes text one byte a second until all of it went or the broker closed
// the connection; resolves to how many bytes went.
async function trickle(s, text) {
  let sent = 0;
  while (!s.closed && sent < text.length) {
    s.write(text[sent++]);
    await sleep(1000);
  }
  return sent;
}

async function whoami(broker, token, S) {
  const client = new S.Client({ name: 'zt-e2e-limits', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
  }));
  const r = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  return r.structuredContent.name;
}

describe('request deadlines', () => {
  let broker;
  before(async () => {
    broker = await startBroker({ args: ['--http-head-timeout', '3s', '--http-body-timeout', '3s',
      '--audit-aggregate', '1s'] });
  });
  after(() => stopChecked(broker));

  test('a head sent one byte a second is cut off at the deadline', async () => {
    const head = 'GET /v1/hosts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaa\r\n\r\n';
    const c = await tlsConnection(broker);
    // Each byte keeps the connection busy enough for an idle timeout; the
    // head takes a minute this way, the deadline is 3 s.
    const sent = await trickle(c.s, head);
    assert.ok(c.s.closed && sent < head.length, `closed after ${sent} of ${head.length} bytes`);
    assert.equal(c.answer(), '', 'no request was served');
    c.s.destroy();
  });

  test('a TLS handshake that never comes is cut off too', async () => {
    const s = await idleConnection(broker, '127.0.0.1');
    await until(() => s.closed, 'the silent connection is closed', 15000);
    s.destroy();
  });

  // On /v1, and on /mcp whether the body is wanted or already refused
  // (no token, a bad token, a method /mcp does not take): a refused body is
  // read and dropped so that the client sees the answer, and its deadline
  // still runs.
  for (const [what, head] of [
    ['/v1/login', 'POST /v1/login HTTP/1.1\r\n'],
    ['/mcp without a token', 'POST /mcp HTTP/1.1\r\nAccept: application/json, text/event-stream\r\n'],
    ['/mcp with a bad token', 'POST /mcp HTTP/1.1\r\nAuthorization: Bearer ztb_nope\r\n'
      + 'Accept: application/json, text/event-stream\r\n'],
    ['/mcp with PUT', 'PUT /mcp HTTP/1.1\r\n'],
  ]) {
    test(`a body sent too slowly is cut off: ${what}`, async () => {
      const c = await tlsConnection(broker);
      const body = JSON.stringify({ user: 'nobody', password: 'x'.repeat(40), otp: '123456' });
      c.s.write(`${head}Host: 127.0.0.1\r\nContent-Type: application/json\r\n`
        + `Content-Length: ${body.length}\r\n\r\n`);
      const sent = await trickle(c.s, body);
      assert.ok(c.s.closed && sent < body.length, `closed after ${sent} of ${body.length} bytes`);
      assert.equal(c.answer(), '');
      c.s.destroy();
    });
  }

  test('the cut-off connections are audited, once per kind and address', async () => {
    await until(() => auditEvents(broker, 'http.connection').some((e) => e.outcome === 'timeout'
      && e.details.reason === 'request body not received in time'), 'the timeouts audited');
    const ev = auditEvents(broker, 'http.connection').filter((e) => !e.details.aggregated);
    assert.ok(ev.some((e) => e.details.reason === 'request head not received in time'));
    assert.ok(ev.every((e) => e.source === '127.0.0.1' && e.actor === 'anonymous'));
  });
});

describe('slow clients from many addresses', () => {
  let broker;
  let S;
  before(async () => {
    S = await sdk();
    // Deadlines long enough that the slow connections outlive the test.
    broker = await startBroker({ args: ['--http-head-timeout', '120s'] });
    applyRole(broker, READONLY_ROLE);
  });
  after(() => stopChecked(broker));

  test('512 idle connections from 8 addresses do not stop a client at another', async () => {
    // 64 from each of 8 addresses: a thread each, and every connection of
    // the broker, before it had an event loop and request deadlines.
    const slow = [];
    for (let a = 2; a <= 9; a++) {
      for (let i = 0; i < 64; i++) slow.push(idleConnection(broker, `127.0.0.${a}`));
    }
    const conns = await Promise.all(slow);
    try {
      const token = await userToken(broker, 'busy-alice', 'readonly');
      assert.match(token, /^zt/);
      assert.equal(await whoami(broker, botToken(broker, 'busy-bot'), S), 'busy-bot');
      assert.equal(conns.filter((s) => s.closed).length, 0, 'the slow ones were all kept');
    } finally {
      for (const s of conns) s.destroy();
    }
  });

  test('one address holds at most 128 unauthenticated connections', async () => {
    const conns = [];
    for (let i = 0; i < 140; i++) conns.push(await idleConnection(broker, '127.0.0.10'));
    try {
      // The ones past the share are shut down as they are accepted.
      await until(() => conns.filter((s) => s.closed).length >= 12, '12 refused');
      await sleep(500);
      assert.equal(conns.filter((s) => s.closed).length, 12);
      // That address gets nothing more; another one is served.
      const extra = await idleConnection(broker, '127.0.0.10');
      await until(() => extra.closed, 'the next one from 127.0.0.10 is refused');
      assert.equal(await whoami(broker, botToken(broker, 'other-bot'), S), 'other-bot');
    } finally {
      for (const s of conns) s.destroy();
    }
    // Its connections closed, the address has its share again.
    await until(async () => {
      const s = await idleConnection(broker, '127.0.0.10');
      await sleep(300);
      const kept = !s.closed;
      s.destroy();
      return kept;
    }, '127.0.0.10 may connect again');
    const ev = auditEvents(broker, 'http.connection');
    assert.ok(ev.some((e) => e.outcome === 'refused' && e.source === '127.0.0.10'
      && e.details.reason === 'too many unauthenticated connections from this address'));
  });
});

describe('a busy client behind one address', () => {
  let broker;
  let S;
  before(async () => {
    S = await sdk();
    broker = await startBroker();
    applyRole(broker, READONLY_ROLE);
  });
  after(() => stopChecked(broker));

  test('200 MCP sessions from 127.0.0.1, each with its SSE stream, all served', async () => {
    // Authenticated connections count against their identity, not against
    // the address's share of unauthenticated ones (128), which 200 open
    // GET streams would exceed.
    const tokens = ['nat-a', 'nat-b', 'nat-c', 'nat-d'].map((n) => [n, botToken(broker, n)]);
    const clients = [];
    try {
      for (let round = 0; round < 50; round += 5) {
        // A few at a time, as a client that reuses its connections opens them.
        await Promise.all(tokens.flatMap(([name, token]) => [0, 1, 2, 3, 4].map(async () => {
          const client = new S.Client({ name: 'zt-e2e-nat', version: '1.0.0' }, { capabilities: {} });
          await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
            fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
          }));
          clients.push([name, client]);
        })));
      }
      assert.equal(clients.length, 200);
      // Every session calls a tool, 20 at a time: the calls reuse the
      // connections the sessions opened.
      const names = [];
      for (let i = 0; i < clients.length; i += 20) {
        names.push(...await Promise.all(clients.slice(i, i + 20).map(async ([, c]) =>
          (await c.callTool({ name: 'whoami', arguments: {} })).structuredContent.name)));
      }
      assert.deepEqual(names, clients.map(([n]) => n));
    } finally {
      await Promise.all(clients.map(([, c]) => c.close()));
    }
  });
});

// Runs Node's own fetch (undici, as the MCP SDK uses it) in a child that
// trusts the broker's CA: POSTs `mib` MiB of JSON-ish bytes to url.
// Resolves {status, body} or {error}.
function fetchBig(broker, url, mib, headers) {
  const caFile = path.join(broker.dataDir, 'tls-ca.crt');
  const code = `
    const body = Buffer.alloc(${mib} * 1024 * 1024, 0x61);
    try {
      const r = await fetch(${JSON.stringify(url)}, { method: 'POST', body,
        headers: ${JSON.stringify(headers)} });
      console.log(JSON.stringify({ status: r.status, body: await r.json() }));
    } catch (e) {
      console.log(JSON.stringify({ error: String(e.cause?.code ?? e.cause ?? e) }));
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code],
    { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, encoding: 'utf8' });
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

describe('oversized bodies', () => {
  let broker;
  before(async () => {
    broker = await startBroker();
    applyRole(broker, READONLY_ROLE);
  });
  after(() => stopChecked(broker));

  test('Node\'s fetch posting 32 MiB sees the 413 and its JSON error, not a reset', () => {
    const token = botToken(broker, 'big-bot');
    const mcp = fetchBig(broker, `${broker.url}/mcp`, 32, {
      'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      Authorization: `Bearer ${token}` });
    assert.equal(mcp.status, 413, JSON.stringify(mcp));
    assert.equal(mcp.body.error.code, -32600);
    assert.match(mcp.body.error.message, /larger than the limit of 4 MiB/);
    const login = fetchBig(broker, `${broker.url}/v1/login`, 32, { 'Content-Type': 'application/json' });
    assert.equal(login.status, 413, JSON.stringify(login));
    assert.equal(login.body.error.code, 'body_too_large');
    // A refusal decided before the body reaches the client the same way.
    const anon = fetchBig(broker, `${broker.url}/mcp`, 8, {
      'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' });
    assert.equal(anon.status, 401, JSON.stringify(anon));
    assert.equal(anon.body.error.code, 'missing_token');
  });

  test('with Expect: 100-continue the 413 comes before any body is sent', async () => {
    const c = await tlsConnection(broker);
    c.s.write('POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
      + `Content-Length: ${32 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`);
    await until(() => /\r\n\r\n\{.*\}$/s.test(c.answer()), 'the answer');
    assert.match(c.answer(), /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(c.answer(), /100 Continue/);
    assert.match(c.answer(), /"code":"body_too_large"/);
    c.s.destroy();
  });
});
