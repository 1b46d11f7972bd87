// ztctl's HTTP client (libcurl) on the wire: `ztctl mcp` keeps its
// connections to the broker alive across messages instead of opening one per
// request, and an HTTPS proxy named by HTTPS_PROXY carries ztctl's requests
// through CONNECT. A TCP relay in front of the broker counts connections;
// the broker's certificate names 127.0.0.1, so a profile can point at the
// relay with the pin unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { connectProxy } from './lib/proxy.mjs';
import {
  applyRole, startBroker, stopChecked, tmpdir, ZTCTL, ztctl, ztctlLogin,
} from './lib/zt.mjs';

let broker;
let home;

// The environment without any proxy setting of the machine running the tests.
function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy',
    'ALL_PROXY', 'no_proxy', 'NO_PROXY']) delete env[k];
  return { ...env, ...extra };
}

// A TCP relay to the broker that counts the connections it accepted.
async function relay() {
  const r = { accepted: 0, sockets: new Set() };
  r.server = net.createServer((sock) => {
    r.accepted++;
    const up = net.connect(broker.port, '127.0.0.1');
    for (const s of [sock, up]) { r.sockets.add(s); s.on('error', () => {}); }
    sock.pipe(up);
    up.pipe(sock);
    sock.on('close', () => up.destroy());
    up.on('close', () => sock.destroy());
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.port = r.server.address().port;
  r.close = () => { for (const s of r.sockets) s.destroy(); r.server.close(); };
  return r;
}

// A copy of home whose profile points at url.
function homeAt(url) {
  const h = tmpdir('zt-home-relay-');
  const p = JSON.parse(fs.readFileSync(path.join(home, 'profile.json'), 'utf8'));
  fs.writeFileSync(path.join(h, 'profile.json'), JSON.stringify({ ...p, broker: url }), { mode: 0o600 });
  return h;
}

// `ztctl mcp` driven one message at a time: ask(msg) resolves with the
// answer to msg's id; send(msg) just writes it.
function shim(h, env) {
  const p = spawn(ZTCTL, ['mcp'], { env: { ...env, ZT_HOME: h }, stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = new Map();
  let out = '', err = '';
  p.stdout.on('data', (d) => {
    out += d;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const m = JSON.parse(out.slice(0, nl));
      out = out.slice(nl + 1);
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    }
  });
  p.stderr.on('data', (d) => { err += d; });
  p.stdin.on('error', () => {});
  const send = (m) => p.stdin.write(`${JSON.stringify(m)}\n`);
  return {
    send,
    ask: (m) => new Promise((resolve) => { waiting.set(m.id, resolve); send(m); }),
    end: () => new Promise((resolve) => { p.on('close', (code) => resolve({ code, stderr: err })); p.stdin.end(); }),
  };
}

before(async () => {
  broker = await startBroker();
  applyRole(broker, 'kind: role\nname: ops\nallow:\n  tools: [whoami]\n');
  home = await ztctlLogin(broker, 'http-alice', 'ops', 'a long http test password');
});
after(() => stopChecked(broker));

describe('ztctl over libcurl', () => {
  test('ztctl mcp keeps its connections alive across many messages', async (t) => {
    const r = await relay();
    try {
      const s = shim(homeAt(`https://127.0.0.1:${r.port}`), cleanEnv());
      const init = await s.ask({
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ka', version: '1' } },
      });
      assert.ok(init.result, JSON.stringify(init));
      s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      for (let i = 0; i < 8; i++) {
        const m = await s.ask({ jsonrpc: '2.0', id: `p${i}`, method: i % 2 ? 'ping' : 'tools/list' });
        assert.ok(m.result, JSON.stringify(m));
      }
      const end = await s.end();
      assert.equal(end.code, 0, end.stderr);
      // One connection for the POSTs (and the DELETE at the end), one for
      // the standalone GET stream, and one more when the notification, sent
      // without waiting, overlaps the next request; one per request would be
      // 11 or more. ztctl gives a connection back before it passes the answer
      // on, so the next request always finds it (a run under ASan once saw 4
      // before that).
      t.diagnostic(`${r.accepted} connection(s) for 11 requests`);
      assert.ok(r.accepted >= 1 && r.accepted <= 3, `${r.accepted} connections for 11 requests`);
    } finally {
      r.close();
    }
  });

  test('HTTPS_PROXY is used: the proxy sees a CONNECT to the broker', async () => {
    const proxy = await connectProxy();
    try {
      const env = cleanEnv({ HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
      const r = await ztctl(['status'], { home, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /http-alice/);
      assert.ok(proxy.seen.includes(`127.0.0.1:${broker.port}`), `CONNECTs seen: ${proxy.seen.join(', ')}`);
    } finally {
      proxy.close();
    }
  });

  test('a proxy that refuses the CONNECT is a clear network error', async () => {
    const proxy = http.createServer();
    proxy.on('connect', (_, sock) => { sock.end('HTTP/1.1 403 Forbidden\r\n\r\n'); });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const env = cleanEnv({ HTTPS_PROXY: `http://127.0.0.1:${proxy.address().port}` });
      const r = await ztctl(['status'], { home, env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /proxy refused the connection \(HTTP 403\)/);
      assert.doesNotMatch(r.stderr, /zts_/);
    } finally {
      proxy.close();
    }
  });
});
