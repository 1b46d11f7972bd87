// Helpers for end-to-end tests: start the real ztbroker on an ephemeral
// port in a temp dir, run ztctl and `ztbroker admin`, compute TOTP codes,
// and make raw HTTPS requests that trust the broker's CA.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import tls from 'node:tls';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable } from 'node:stream';

export const BUILD = process.env.ZT_BUILD || path.resolve('build');
export const ZTBROKER = path.join(BUILD, 'ztbroker');
export const ZTCTL = path.join(BUILD, 'ztctl');
export const ZTAGENT = path.join(BUILD, 'ztagent');

// 1 if process p exists and is not a zombie.
export function alive(p) {
  try {
    const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function tmpdir(prefix = 'zt-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Reads lines from a stream until fn(line) returns a value, with a timeout.
function waitLine(stream, fn, ms, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => { cleanup(); reject(new Error(`timeout waiting for ${what}`)); }, ms);
    const onData = (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const v = fn(line);
        if (v !== undefined) { cleanup(); resolve(v); return; }
      }
    };
    const cleanup = () => { clearTimeout(t); stream.off('data', onData); };
    stream.on('data', onData);
  });
}

// Spawns a daemon and waits until ready(line, info) returns info for a
// line of its stdout. Resolves to {...info, proc, log, stop}: log collects
// stderr; stop() sends SIGTERM (SIGKILL after 20 s) and resolves to the
// exit {code, sig, log}: under `make asan` a leak makes the code non-zero,
// which callers assert.
export async function startDaemon(cmd, args, ready, what) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  proc.stderr.on('data', (d) => log.push(d.toString()));
  // 'close', not 'exit': it comes after stderr is drained, so an early
  // exit's message is in the log.
  const exited = new Promise((resolve) => proc.on('close', (code, sig) => resolve({ code, sig })));
  const info = {};
  const up = waitLine(proc.stdout, (line) => ready(line, info), 20000, what);
  const early = exited.then((e) => { throw new Error(`${what}: exited early ${JSON.stringify(e)}: ${log.join('')}`); });
  await Promise.race([up, early]);
  early.catch(() => {});
  return {
    ...info, proc, log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20000);
      const e = await exited;
      clearTimeout(t);
      return { ...e, log: log.join('') };
    },
  };
}

// Stops a daemon from startDaemon() and asserts it exited 0 with no
// sanitizer report (under `make asan` a leak makes the exit non-zero).
// NULL (a failed start) is a no-op.
export async function stopChecked(d) {
  if (!d) return;
  const e = await d.stop();
  assert.equal(e.code, 0, `exit ${JSON.stringify(e.code)} ${e.sig}: ${e.log.slice(-4000)}`);
  assert.doesNotMatch(e.log, /AddressSanitizer|LeakSanitizer|runtime error/);
}

// Starts `ztbroker serve` and resolves to {url, pin, port, dir, dataDir,
// caPem, proc, log, stop}. fdLimit, if set, is the broker's RLIMIT_NOFILE.
export async function startBroker({ dir = tmpdir(), args = [], fdLimit } = {}) {
  const dataDir = path.join(dir, 'data');
  const argv = ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', ...args];
  const [cmd, cmdArgs] = fdLimit ? ['sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, ZTBROKER, ...argv]]
    : [ZTBROKER, argv];
  const d = await startDaemon(cmd, cmdArgs,
    (line, info) => {
      let m;
      if ((m = line.match(/listening on (https:\/\/\S+:(\d+))/))) { info.url = m[1]; info.port = Number(m[2]); }
      if ((m = line.match(/^agent tunnel listening on (\S+):(\d+)$/))) info.tunnelPort = Number(m[2]);
      if ((m = line.match(/^CA pin: (sha256:[0-9a-f]{64})$/))) info.pin = m[1];
      return info.url && info.pin ? info : undefined;
    }, 'broker start');
  return { ...d, dir, dataDir, caPem: fs.readFileSync(path.join(dataDir, 'tls-ca.crt')) };
}

// A user the administrator adds (with roles) and who enrols through the
// API, confirming the authenticator with the code of the previous step so
// that the current one is free for a login. Resolves the TOTP secret.
export async function enrolUser(broker, name, roles, password) {
  const a = admin(broker, 'users', 'add', name, '--roles', roles);
  assert.equal(a.code, 0, a.stderr);
  const invite = a.stdout.match(/^invite: (\S+)$/m)[1];
  await awayFromStepEdge(12);
  const e1 = await request(broker, 'POST', '/v1/enroll', { body: { invite, password } });
  assert.equal(e1.status, 200, JSON.stringify(e1.body));
  const secret = e1.body.totp_secret;
  const e2 = await request(broker, 'POST', '/v1/enroll',
    { body: { invite, otp: totp(secret, step() - 1) } });
  assert.equal(e2.status, 200, JSON.stringify(e2.body));
  return secret;
}

export function admin(broker, ...args) {
  const r = spawnSync(ZTBROKER, ['admin', '--data-dir', broker.dataDir, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Runs ztctl to completion with optional stdin text.
export function ztctl(args, { home, input = '', env = {} } = {}) {
  return new Promise((resolve) => {
    const p = spawn(ZTCTL, args, { env: { ...process.env, ZT_HOME: home, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.on('error', () => {}); // ztctl may exit before reading stdin
    p.stdin.end(input);
  });
}

// Enrols through ztctl: password on stdin, reads the secret ztctl prints,
// answers with codeFor(secret). Resolves {code, stdout, stderr, secret}.
export function ztctlEnroll(broker, invite, password, { home, codeFor, pin = broker.pin }) {
  return new Promise((resolve, reject) => {
    const p = spawn(ZTCTL, ['enroll', '--broker', broker.url, '--ca-pin', pin, '--invite', invite,
      '--password-stdin'], { env: { ...process.env, ZT_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', secret = null;
    p.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/secret=([A-Z2-7]+)/);
      if (m && !secret) { secret = m[1]; p.stdin.end(`${codeFor(secret)}\n`); }
    });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.stdin.on('error', () => {});
    p.on('close', (code) => { if (!secret) p.stdin.destroy(); resolve({ code, stdout, stderr, secret }); });
    p.stdin.write(`${password}\n`);
  });
}

// RFC 4648 base32 decoding.
export function base32(s) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, v = 0; const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    v = (v << 5) | alpha.indexOf(c); bits += 5;
    if (bits >= 8) { out.push((v >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for the given step.
export function totp(secretB32, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', base32(secretB32)).update(msg).digest();
  const o = h[19] & 15;
  const n = ((h[o] & 127) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1000000).padStart(6, '0');
}

export const step = () => Math.floor(Date.now() / 1000 / 30);

// Waits until at least `margin` seconds remain in the current 30 s step,
// so codes computed now are still judged against the same step.
export async function awayFromStepEdge(margin = 8) {
  const left = 30 - ((Date.now() / 1000) % 30);
  if (left < margin) await new Promise((r) => setTimeout(r, left * 1000 + 200));
}

// A raw HTTPS request trusting only the broker's CA, from the local
// address `from` (any of 127/8) if given. Resolves {status, headers, body
// (parsed JSON or text)}.
// Opens the WebSocket path p of broker with headers h (the handshake's own
// are added): {status, protocol} for 101 (closed at once, or with keep
// kept open as socket, for the caller to destroy), {status, body} (the
// JSON refusal) for any other answer.
export function wsHandshake(broker, p, h, { keep = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: broker.port, path: p, ca: broker.caPem,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), ...h },
    });
    req.on('upgrade', (res, socket) => {
      if (!keep) socket.destroy();
      resolve({ status: res.statusCode, protocol: res.headers['sec-websocket-protocol'],
        socket: keep ? socket : undefined });
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function request(broker, method, p, { body, token, headers = {}, raw, from } = {}) {
  return new Promise((resolve, reject) => {
    const data = raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined;
    const h = { ...headers };
    if (data !== undefined && !('Content-Type' in h)) h['Content-Type'] = 'application/json';
    if (token) h.Authorization = `Bearer ${token}`;
    // The certificate is checked against the address dialled, even when a
    // test sends a different Host header.
    const req = https.request({
      host: '127.0.0.1', port: broker.port, method, path: p, ca: broker.caPem, headers: h,
      servername: '', localAddress: from,
      checkServerIdentity: (_, cert) => tls.checkServerIdentity('127.0.0.1', cert),
    },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed });
        });
      });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export function mode(p) {
  return fs.statSync(p).mode & 0o777;
}

// A fetch() for the MCP SDK that trusts only the broker's CA, streaming
// the body (SSE) as it arrives. Honours init.signal.
export function brokerFetch(broker) {
  return (url, init = {}) => new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers = {};
    new Headers(init.headers || {}).forEach((v, k) => { headers[k] = v; });
    const req = https.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method: init.method || 'GET',
      headers, ca: broker.caPem, signal: init.signal,
    }, (res) => {
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : v);
      const body = [204, 304].includes(res.statusCode) ? null : Readable.toWeb(res);
      resolve(new Response(body, { status: res.statusCode, headers: h }));
    });
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

// The MCP SDK from the repo's node_modules.
export async function sdk() {
  const [{ Client }, { StreamableHTTPClientTransport }, { StdioClientTransport }, types] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  return { Client, StreamableHTTPClientTransport, StdioClientTransport, types };
}

// An MCP client of the official SDK over Streamable HTTP with a bearer
// token, declaring capabilities; logs gets its notifications/message.
// close() it when done.
export async function mcpConnect(broker, token, { logs, capabilities = {} } = {}) {
  const S = await sdk();
  const client = new S.Client({ name: 'zt-e2e', version: '1.0.0' }, { capabilities });
  if (logs) {
    client.setNotificationHandler(S.types.LoggingMessageNotificationSchema, (n) => logs.push(n.params));
  }
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
  }));
  return client;
}

// Stores a role document (YAML text) with `ztbroker admin roles apply`.
export function applyRole(broker, yaml) {
  const f = path.join(tmpdir('zt-role-'), 'role.yaml');
  fs.writeFileSync(f, yaml);
  const r = admin(broker, 'roles', 'apply', '-f', f);
  assert.equal(r.code, 0, r.stderr);
}

// A role that lets its holders list the hosts they may see: enough for an
// identity to be let into MCP (identities without a stored role are not).
export const READONLY_ROLE = 'kind: role\nname: readonly\nallow:\n  tools: [list_hosts]\n';

// A new join token from `ztbroker admin tokens add` with extra arguments.
export function joinToken(broker, ...args) {
  const r = admin(broker, 'tokens', 'add', ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.match(/^token: (ztj_\S+)$/m)[1];
}

// A bot with a fresh token: returns the token.
export function botToken(broker, name, { roles = 'readonly', ttl = '1h' } = {}) {
  const a = admin(broker, 'bots', 'add', name, '--roles', roles, '--ttl', ttl);
  if (a.code !== 0) throw new Error(a.stderr);
  return a.stdout.match(/^token: (ztb_\S+)$/m)[1];
}

// Adds, enrols and logs in a user through the HTTP API; returns its
// session token.
export async function userToken(broker, name, roles = 'ops') {
  const a = admin(broker, 'users', 'add', name, '--roles', roles);
  if (a.code !== 0) throw new Error(a.stderr);
  const invite = a.stdout.match(/^invite: (\S+)$/m)[1];
  const password = 'a long test password';
  await awayFromStepEdge();
  const e1 = await request(broker, 'POST', '/v1/enroll', { body: { invite, password } });
  const secret = e1.body.totp_secret;
  await request(broker, 'POST', '/v1/enroll', { body: { invite, otp: totp(secret, step() - 1) } });
  const l = await request(broker, 'POST', '/v1/login', { body: { user: name, password, otp: totp(secret, step()) } });
  if (l.status !== 200) throw new Error(JSON.stringify(l.body));
  return l.body.token;
}

// Adds, enrols and logs in user name with roles through the real ztctl,
// in a fresh ZT_HOME; returns that directory.
export async function ztctlLogin(broker, name, roles, password) {
  return (await ztctlAccount(broker, name, roles, password)).home;
}

// As ztctlLogin; resolves {home, secret (the TOTP secret, base32), step
// (the last step its codes were used for)}.
export async function ztctlAccount(broker, name, roles, password = 'a long ztctl test password') {
  const a = admin(broker, 'users', 'add', name, '--roles', roles);
  if (a.code !== 0) throw new Error(a.stderr);
  const invite = a.stdout.match(/^invite: (\S+)$/m)[1];
  const h = tmpdir(`zt-home-${name}-`);
  await awayFromStepEdge();
  const e = await ztctlEnroll(broker, invite, password, { home: h, codeFor: (sec) => totp(sec, step() - 1) });
  if (e.code !== 0) throw new Error(e.stderr);
  const at = step();
  const l = await ztctl(['login', '--broker', broker.url, '--ca-pin', broker.pin, '--user', name,
    '--password-stdin', '--otp', totp(e.secret, at)], { home: h, input: `${password}\n` });
  if (l.code !== 0) throw new Error(l.stderr);
  return { home: h, secret: e.secret, step: at };
}

// A user who may answer held calls (holds roles, by default oncall),
// logged in through ztctl; each answer takes the next one-time code:
// approver.code().
export async function approver(broker, name, roles = 'oncall') {
  const a = await ztctlAccount(broker, name, roles);
  a.code = () => totp(a.secret, ++a.step);
  return a;
}

// A ztctl home (0700) whose profile holds token (a session or a bot token)
// of user with roles, as ztctl login would leave it, valid for an hour.
export function ztctlHome(broker, user, token, roles = []) {
  const home = tmpdir('zt-home-');
  fs.chmodSync(home, 0o700);
  fs.writeFileSync(path.join(home, 'profile.json'), JSON.stringify({
    broker: broker.url, ca_pin: broker.pin, user, token, roles,
    expires_at: Math.floor(Date.now() / 1000) + 3600,
  }), { mode: 0o600 });
  return home;
}

// The audit events (admin audit ls --json), optionally only of one type.
export function auditEvents(broker, type) {
  const r = admin(broker, 'audit', 'ls', '--json');
  if (r.code !== 0) throw new Error(r.stderr);
  const all = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return type ? all.filter((e) => e.type === type) : all;
}

// Starts ztagent against broker (run with --tunnel-listen); resolves when
// it says it joined (then it keeps running: {joined: true, proc, out,
// exited, stop}) or when it exits ({code, out}). token goes in
// ZT_JOIN_TOKEN (null: none); ssh is the target it advertises with
// hostKey, unless config names a configuration file (ztagent --config),
// whose resources it advertises instead.
export function startAgent(broker, dir, name,
  { token = null, pin = broker.pin, hostKey, labels, ssh = '127.0.0.1:22', config, extra = [] } = {}) {
  const env = { ...process.env };
  if (token) env.ZT_JOIN_TOKEN = token; else delete env.ZT_JOIN_TOKEN;
  const args = ['--broker', `127.0.0.1:${broker.tunnelPort}`, '--ca-pin', pin, '--data-dir', dir,
    '--name', name];
  if (config) args.push('--config', config); else args.push('--ssh', ssh, '--ssh-host-key', hostKey);
  if (labels) args.push('--labels', labels);
  args.push(...extra);
  return new Promise((resolve) => {
    const proc = spawn(ZTAGENT, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    const exited = new Promise((r) => proc.on('close', (code) => r(code)));
    proc.stdout.on('data', (d) => {
      out.stdout += d;
      if (/joined (as|earlier)/.test(out.stdout)) {
        resolve({
          joined: true, proc, out, exited,
          async stop(sig = 'SIGTERM') { proc.kill(sig); return exited; },
        });
      }
    });
    proc.stderr.on('data', (d) => { out.stderr += d; });
    exited.then((code) => resolve({ code, out }));
  });
}

// An Ed25519 host key pair in a temp dir; returns the public key's path.
export function sshHostKey() {
  const d = tmpdir('zt-hostkey-');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, 'host')]);
  return path.join(d, 'host.pub');
}

// Polls fn() every 100 ms until it is true; fails after ms.
export async function until(fn, what, ms = 10000) {
  for (const t0 = Date.now(); Date.now() - t0 < ms;) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}
