// `ztctl mcp`, the stdio shim, end to end: a real broker, a user enrolled
// and logged in through the real ztctl, and the official MCP SDK client
// launching `ztctl mcp` as AI clients do. Then the line protocol itself
// (parse errors, long lines, exit on end of input) with raw stdin/stdout,
// and every way of not being logged in, each answered with `ztctl login`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, applyRole, READONLY_ROLE, sdk, startBroker, tmpdir, ZTCTL, ztctl, ztctlLogin, stopChecked,
} from './lib/zt.mjs';
import { toolBehaviourTests } from './lib/mcp_behaviour.mjs';

const PASSWORD = 'a long stdio test password';
const USER = 'mcp-alice';
let broker;
let S;
let home;

// Adds, enrols and logs in `name` into a fresh ZT_HOME through ztctl.
const loggedIn = (name, roles) => ztctlLogin(broker, name, roles, PASSWORD);

function profile(h) {
  return JSON.parse(fs.readFileSync(path.join(h, 'profile.json'), 'utf8'));
}

// A copy of a ZT_HOME whose profile is changed by edit(profile).
function homeWith(from, edit) {
  const h = tmpdir('zt-home-copy-');
  const p = edit({ ...profile(from) });
  fs.writeFileSync(path.join(h, 'profile.json'), JSON.stringify(p), { mode: 0o600 });
  return h;
}

// The SDK client over `ztctl mcp`; stderr is kept for the token check.
async function connect(h, capabilities = {}) {
  const client = new S.Client({ name: 'zt-e2e-stdio', version: '1.0.0' }, { capabilities });
  const transport = new S.StdioClientTransport({
    command: ZTCTL, args: ['mcp'], env: { ZT_HOME: h, ZT_LOG_LEVEL: 'debug' }, stderr: 'pipe',
  });
  const log = [];
  transport.stderr.on('data', (d) => log.push(d.toString()));
  await client.connect(transport);
  return { client, transport, log };
}

// Runs `ztctl mcp` with raw lines on stdin; resolves once it exited, with
// its stdout lines parsed, its stderr and exit code. With `want`, stdin
// stays open until `want` lines arrived.
function raw(h, lines, { want = 0, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(ZTCTL, ['mcp'], { env: { ...process.env, ...env, ZT_HOME: h },
      stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '', ended = false;
    const end = () => { ended = true; p.stdin.end(); };
    p.stdout.on('data', (d) => {
      out += d;
      if (want && !ended && out.split('\n').length - 1 >= want) end();
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.stdin.on('error', () => {});
    p.on('close', (code, sig) => resolve({
      code, sig, stderr: err, text: out,
      msgs: out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)),
    }));
    for (const l of lines) p.stdin.write(`${typeof l === 'string' ? l : JSON.stringify(l)}\n`);
    if (!want) end();
  });
}

const INIT = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--diagnostic-tools'] });
  applyRole(broker, READONLY_ROLE);
  applyRole(broker, 'kind: role\nname: ops\nallow:\n  tools: [list_hosts]\n');
  home = await loggedIn(USER, 'ops');
});
after(() => stopChecked(broker));

describe('the v2 SDK client of 2026-07-28 over ztctl mcp, beside a 2025 one', () => {
  let v2;
  let v1;
  let log;
  before(async () => {
    const { Client } = await import('@modelcontextprotocol/client');
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    v2 = new Client({ name: 'zt-e2e-stdio-v2', version: '1.0.0' },
      { capabilities: {}, versionNegotiation: { mode: 'auto' } });
    const transport = new StdioClientTransport({ command: ZTCTL, args: ['mcp'],
      env: { ZT_HOME: home, ZT_LOG_LEVEL: 'debug' }, stderr: 'pipe' });
    log = [];
    transport.stderr.on('data', (d) => log.push(d.toString()));
    await v2.connect(transport);
    v1 = await connect(home);
  });
  after(async () => {
    await v2?.close();
    await v1?.client.close();
    assert.doesNotMatch(log.join(''), /AddressSanitizer|LeakSanitizer|runtime error/);
  });

  test('both call whoami and list_hosts at the same time, each in its era', async () => {
    const rs = await Promise.all([v2, v1.client].flatMap((c) => [
      c.callTool({ name: 'whoami', arguments: {} }),
      c.callTool({ name: 'list_hosts', arguments: {} }),
    ]));
    for (const r of rs) assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.deepEqual(rs[0].structuredContent, { kind: 'user', name: USER, roles: ['ops'] });
    assert.deepEqual(rs[2].structuredContent, rs[0].structuredContent);
    // The v2 client's requests went without a session: the shim relayed
    // no initialize for it (its log names none).
    assert.equal(v2.getNegotiatedProtocolVersion(), '2026-07-28');
    assert.equal(v2.getDiscoverResult()?._meta?.['io.modelcontextprotocol/serverInfo']?.name, 'zt');
    assert.doesNotMatch(log.join(''), /session assigned/);
  });

  test('a stateless request with a header-breaking name is refused, not smuggled', async () => {
    const r = await raw(home, [{ jsonrpc: '2.0', id: 7, method: 'tools/call', params: {
      name: 'whoami\r\nX-Evil: 1', arguments: {},
      _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {} } } }], { want: 1 });
    assert.equal(r.msgs[0].id, 7);
    assert.equal(r.msgs[0].error?.code, -32020, JSON.stringify(r.msgs[0]));
  });
});

describe('the SDK client over ztctl mcp', () => {
  let c;
  before(async () => { c = await connect(home, { elicitation: {} }); });
  after(async () => {
    await c?.client.close();
    // Under `make asan` a leak or sanitizer report would show here.
    assert.doesNotMatch(c?.log.join('') ?? '', /AddressSanitizer|LeakSanitizer|runtime error/);
  });

  test('initialize, then the tools of the logged-in user', async () => {
    assert.equal(c.client.getServerVersion().name.length > 0, true);
    const { tools } = await c.client.listTools();
    assert.ok(tools.map((t) => t.name).includes('whoami'));
  });

  test('whoami is the user who ran ztctl login', async () => {
    const r = await c.client.callTool({ name: 'whoami', arguments: {} });
    assert.deepEqual(r.structuredContent, { kind: 'user', name: USER, roles: ['ops'] });
    assert.match(r.content[0].text, new RegExp(`user ${USER}`));
  });

  test('calls in parallel each get their own answer', async () => {
    const rs = await Promise.all(Array.from({ length: 8 }, () => c.client.callTool({ name: 'whoami', arguments: {} })));
    for (const r of rs) assert.equal(r.structuredContent.name, USER);
  });

  // The broker's diagnostic tools exercise what the shim's threads are for:
  // events relayed while a call runs, and messages from the client that
  // must reach the broker while an earlier call still waits.
  toolBehaviourTests(() => ({ client: c.client, broker, S }));

  // diag_reconnect ends its stream before it answers (SEP-1699 polling);
  // ztctl mcp must come back with Last-Event-ID and relay the answer.
  test('a stream the broker ends early is resumed with Last-Event-ID', async () => {
    const r = await c.client.callTool({ name: 'diag_reconnect', arguments: {} });
    assert.notEqual(r.isError, true);
    assert.match(r.content[0].text, /resumed/);
    assert.match(c.log.join(''), /resumed a stream after event \d+_\d+/);
  });

  test('the token never reaches the logs', () => {
    const { token } = profile(home);
    assert.match(token, /^zts_/);
    assert.ok(c.log.join('').length > 0, 'debug logging produced nothing');
    assert.ok(!c.log.join('').includes(token));
  });
});

describe('the line protocol', () => {
  test('bad lines get JSON-RPC errors with id null; blank lines are ignored', async () => {
    const big = `{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"${'a'.repeat(4 * 1024 * 1024 + 16)}"}}`;
    const r = await raw(home, [INIT, '', '   ', 'this is not json', '[1, 2]', big,
      { jsonrpc: '2.0', id: 'p', method: 'ping' }], { want: 5 });
    assert.equal(r.code, 0, r.stderr);
    const [init, parse, invalid, long, ping] = r.msgs;
    assert.equal(init.id, 1);
    assert.equal(init.result.protocolVersion, '2025-11-25');
    assert.deepEqual([parse.id, parse.error.code], [null, -32700]);
    assert.deepEqual([invalid.id, invalid.error.code], [null, -32600]);
    assert.deepEqual([long.id, long.error.code], [null, -32600]);
    assert.match(long.error.message, /4 MiB/);
    // The shim went on after the long line; the ping went to the broker
    // with the session id and version (which it would refuse otherwise).
    assert.deepEqual(ping, { jsonrpc: '2.0', id: 'p', result: {} });
    // Every line is one compact JSON text.
    for (const l of r.text.trimEnd().split('\n')) assert.doesNotThrow(() => JSON.parse(l));
  });

  test('end of input: the session is ended and ztctl exits 0, every relay done', async () => {
    const r = await raw(home, [INIT, INITIALIZED, { jsonrpc: '2.0', id: 2, method: 'tools/list' }],
      { want: 2, env: { ZT_LOG_LEVEL: 'info' } });
    assert.equal(r.code, 0, r.stderr);
    // Not the way out for a broker that stopped answering.
    assert.doesNotMatch(r.stderr, /still running at exit/);
    assert.ok(r.msgs[1].result.tools.some((t) => t.name === 'whoami'));
    const audit = admin(broker, 'audit', 'ls', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((e) => e.type === 'mcp.session' && e.actor === `user:${USER}` &&
      JSON.stringify(e).includes('ended by client')), 'no session end in the audit log');
  });
});

describe('not logged in', () => {
  test('without a profile the SDK client is told to run ztctl login', async () => {
    const empty = tmpdir('zt-home-empty-');
    await assert.rejects(connect(empty), /ztctl login --broker/);
  });

  test('every request is answered, notifications are dropped, and the shim keeps going', async () => {
    const empty = tmpdir('zt-home-empty-');
    const r = await raw(empty, [INIT, INITIALIZED, { jsonrpc: '2.0', id: 'b', method: 'tools/list' }]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.msgs.length, 2);
    assert.deepEqual(r.msgs.map((m) => m.id), [1, 'b']);
    for (const m of r.msgs) {
      assert.equal(m.error.code, -32010);
      assert.match(m.error.message, /Not logged in.*ztctl login --broker/);
    }
  });

  test('an expired session names the user and the login command', async () => {
    const h = homeWith(home, (p) => ({ ...p, expires_at: 1000000000 }));
    const r = await raw(h, [INIT]);
    assert.equal(r.msgs[0].error.code, -32010);
    assert.match(r.msgs[0].error.message, new RegExp(`session of ${USER} expired`));
    assert.ok(r.msgs[0].error.message.includes(
      `ztctl login --broker ${broker.url} --ca-pin ${broker.pin} --user ${USER}`));
  });

  test('a token the broker revoked: its reason and the login command', async () => {
    const bob = await loggedIn('mcp-bob', 'readonly');
    const copy = homeWith(bob, (p) => p);
    const out = await ztctl(['logout'], { home: bob });
    assert.equal(out.code, 0, out.stderr);
    const r = await raw(copy, [INIT]);
    assert.equal(r.msgs[0].error.code, -32010);
    assert.match(r.msgs[0].error.message, /refused the session \(token_revoked/);
    assert.match(r.msgs[0].error.message, /ztctl login --broker .* --user mcp-bob/);
    // The logged-out profile itself: no session at all.
    const r2 = await raw(bob, [INIT]);
    assert.match(r2.msgs[0].error.message, /Not logged in.*--user mcp-bob/);
  });
});

test('ztctl mcp config prints the snippets with this ztctl and the broker', async () => {
  const r = await ztctl(['mcp', 'config'], { home });
  assert.equal(r.code, 0, r.stderr);
  const blocks = r.stdout.split(/\n(?=\{)|(?<=\n\})\n/).filter((b) => b.startsWith('{')).map((b) => JSON.parse(b));
  assert.equal(blocks.length, 3);
  assert.deepEqual(blocks[0], { mcpServers: { zt: { command: path.resolve(ZTCTL), args: ['mcp'] } } });
  assert.deepEqual(blocks[1], { servers: { zt: { type: 'stdio', command: path.resolve(ZTCTL), args: ['mcp'] } } });
  assert.equal(blocks[2].mcpServers.zt.url, `${broker.url}/mcp`);
  assert.match(r.stdout, /ztctl login --broker/);
});
