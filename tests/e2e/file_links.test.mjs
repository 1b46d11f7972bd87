// Transfer links end to end (broker/brk_xfer.h): file_read and file_write
// with transfer "link", the official SDK client as a bot, then the bytes
// by HTTPS GET and PUT to the link -> a real broker -> a real ztagent -> a
// real OpenSSH sshd. What a link binds (the credential, the method, one
// use), what a write that stops half way leaves (the file as it was), and
// the "file.transfer" events.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { admin, auditEvents, botToken, brokerFetch, until } from './lib/zt.mjs';
import { startFiles } from './lib/files.mjs';

let F;
let broker;
let S;
let token;
let USER;
let A;

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const text = (r) => r.content.map((c) => c.text ?? '').join('\n');
const call = (name, args) => F.call(name, args);

// One HTTPS request to the broker: { status, body (Buffer) }. body may be a
// Buffer, or a function given the request to write it itself.
function xfer(method, url, { bearer = token, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname, method, headers,
      ca: broker.caPem }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts), complete: res.complete }));
      res.on('error', (e) => resolve({ status: res.statusCode, body: Buffer.concat(parts), error: e }));
    });
    req.on('error', reject);
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

const transfers = () => auditEvents(broker, 'file.transfer');

before(async () => {
  F = await startFiles({ fileMax: '1M', botName: 'link-bot' });
  ({ broker, S, token, user: USER, allowed: A } = F);
});

after(async () => {
  await F?.stop();
});

test('read link: past --file-max, the bytes by GET with the same token, once; SHA-256 checked and audited', async () => {
  const data = crypto.randomBytes(5 * 1024 * 1024 + 123);   // five times --file-max
  const p = path.join(A, 'big.bin');
  fs.writeFileSync(p, data);
  const r = await call('file_read', { path: p, transfer: 'link' });
  assert.equal(r.isError, false, text(r));
  const sc = r.structuredContent;
  assert.equal(sc.link.method, 'GET');
  assert.equal(sc.length, data.length);
  assert.equal(sc.size, data.length);
  assert.equal(sc.resolved, p);
  const rl = r.content.find((c) => c.type === 'resource_link');
  assert.equal(rl.uri, sc.link.url);
  assert.equal(rl.name, 'big.bin');
  assert.match(sc.link.url, new RegExp(`^${broker.url}/v1/files/[0-9a-f]{32}$`));
  const res = await auditEvents(broker, 'tool.file_read.result').at(-1);
  assert.equal(res.details.transfer, 'link');
  const linkId = sc.link.url.split('/').at(-1);
  assert.equal(res.details.link_id, linkId);

  // Not without a token, not with another identity's, not by PUT: each
  // leaves the link as it was.
  assert.equal((await xfer('GET', sc.link.url, { bearer: null })).status, 401);
  const other = botToken(broker, 'other-bot', { roles: 'files' });
  assert.equal((await xfer('GET', sc.link.url, { bearer: other })).status, 404);
  assert.equal((await xfer('PUT', sc.link.url, { body: 'x' })).status, 404);

  const got = await xfer('GET', sc.link.url);
  assert.equal(got.status, 200);
  assert.equal(got.body.length, data.length);
  assert.equal(sha256(got.body), sha256(data));
  // Used once: gone.
  assert.equal((await xfer('GET', sc.link.url)).status, 404);
  const ev = transfers().at(-1);
  assert.equal(ev.outcome, 'success');
  assert.equal(ev.actor, 'bot:link-bot');
  assert.deepEqual([ev.details.link_id, ev.details.call_id, ev.details.direction, ev.details.status,
    ev.details.bytes, ev.details.sha256, ev.details.path_resolved],
  [linkId, res.details.call_id, 'read', 'ok', data.length, sha256(data), p]);

  // A range.
  const r2 = await call('file_read', { path: p, transfer: 'link', offset: 1000, length: 70000 });
  assert.equal(r2.isError, false, text(r2));
  const part = await xfer('GET', r2.structuredContent.link.url);
  assert.equal(sha256(part.body), sha256(data.subarray(1000, 71000)));
});

test('write link: a PUT streams into a temporary file renamed in one step; answered with bytes and SHA-256', async () => {
  const data = crypto.randomBytes(3 * 1024 * 1024 + 7);
  const p = path.join(A, 'up.bin');
  fs.writeFileSync(p, 'old\n');
  fs.chmodSync(p, 0o600);
  const r = await call('file_write', { path: p, transfer: 'link' });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.link.method, 'PUT');
  assert.equal(r.structuredContent.mode, '0600');
  const put = await xfer('PUT', r.structuredContent.link.url, { body: data });
  assert.equal(put.status, 200, put.body.toString());
  const ans = JSON.parse(put.body);
  assert.deepEqual([ans.bytes, ans.sha256, ans.atomic, ans.resolved], [data.length, sha256(data), true, p]);
  assert.equal(sha256(fs.readFileSync(p)), sha256(data));
  assert.equal(fs.statSync(p).mode & 0o777, 0o600);
  assert.ok(!fs.readdirSync(A).some((n) => n.includes('.zt-')), 'no temporary file is left');
  const ev = transfers().at(-1);
  assert.deepEqual([ev.outcome, ev.details.direction, ev.details.bytes, ev.details.sha256, ev.details.atomic],
    ['success', 'write', data.length, sha256(data), true]);
  assert.equal((await xfer('PUT', r.structuredContent.link.url, { body: data })).status, 404);

  // content with a link is refused before anything is decided.
  const bad = await call('file_write', { path: p, transfer: 'link', content: 'x' });
  assert.equal(bad.isError, true);
  assert.match(text(bad), /give no content/);
});

test('a PUT that stops half way leaves the file as it was, and its end says cancelled', async () => {
  const p = path.join(A, 'keep.txt');
  fs.writeFileSync(p, 'keep me\n');
  const r = await call('file_write', { path: p, transfer: 'link' });
  assert.equal(r.isError, false, text(r));
  const before = transfers().length;
  const res = xfer('PUT', r.structuredContent.link.url, {
    body: (req) => {
      req.setHeader('Content-Length', String(8 * 1024 * 1024));
      req.write(crypto.randomBytes(1024 * 1024));
      setTimeout(() => req.destroy(), 500);
    },
  }).catch((e) => ({ error: e }));
  await res;
  await until(() => transfers().length > before, 'the transfer ended');
  const ev = transfers().at(-1);
  assert.equal(ev.outcome, 'failure');
  assert.equal(ev.details.status, 'cancelled');
  assert.match(ev.details.error, /client went away/);
  assert.equal(fs.readFileSync(p, 'utf8'), 'keep me\n');
  assert.ok(!fs.readdirSync(A).some((n) => n.includes('.zt-')), 'the temporary file was removed');
});

test('a link is decided like the call: a denied path gets no link; a directory is no file to read', async () => {
  const r = await call('file_read', { path: path.join(A, 'private', 'x'), transfer: 'link' });
  assert.equal(r.isError, true);
  assert.ok(!r.content.some((c) => c.type === 'resource_link'));
  const d = await call('file_read', { path: A, transfer: 'link' });
  assert.equal(d.isError, true);
  assert.match(text(d), /not a regular file/);
  const t = await call('file_read', { path: path.join(A, 'big.bin'), transfer: 'stream' });
  assert.equal(t.isError, true);
  assert.match(text(t), /transfer must be "inline" or "link"/);
});

test('a transfer whose credential is revoked midway ends at once: the GET is cut short, its end says why', async () => {
  const data = crypto.randomBytes(32 * 1024 * 1024);
  const p = path.join(A, 'slow.bin');
  fs.writeFileSync(p, data);
  const slowToken = botToken(broker, 'slow-bot', { roles: 'files' });
  const slow = new S.Client({ name: 'zt-e2e-slow', version: '1.0.0' }, { capabilities: {} });
  await slow.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${slowToken}` } },
  }));
  const r = await slow.callTool({ name: 'file_read', arguments: { host: 'web1', login: USER, path: p, transfer: 'link' } });
  assert.equal(r.isError, false, text(r));
  await slow.close();
  const before = transfers().length;
  let got = 0;
  let stalled = true;
  let res;
  const done = new Promise((resolve) => {
    const u = new URL(r.structuredContent.link.url);
    https.get({ host: u.hostname, port: u.port, path: u.pathname, ca: broker.caPem,
      headers: { Authorization: `Bearer ${slowToken}` } }, (rs) => {
      res = rs;
      rs.on('data', (d) => { got += d.length; if (stalled) rs.pause(); });   // a reader that stops reading
      rs.on('end', () => resolve({ complete: rs.complete }));
      rs.on('error', (e) => resolve({ error: e }));
      rs.on('aborted', () => resolve({ aborted: true }));
    }).on('error', (e) => resolve({ error: e }));
  });
  await until(() => got > 0, 'the first bytes');
  assert.equal(admin(broker, 'bots', 'rm', 'slow-bot').code, 0);
  await until(() => transfers().length > before, 'the transfer ended', 15000);
  const ev = transfers().at(-1);
  assert.equal(ev.actor, 'bot:slow-bot');
  assert.deepEqual([ev.outcome, ev.details.status], ['failure', 'cancelled']);
  assert.match(ev.details.error, /credential no longer valid/);
  stalled = false;
  res.resume();
  const end = await done;
  assert.ok(end.error || end.aborted || end.complete === false, `cut short: ${JSON.stringify(end)}`);
  assert.ok(got < data.length, `only part arrived (${got} of ${data.length})`);
});

test('a link whose target went away fails clearly: a GET answered 502 before any byte, a PUT 502 with the file untouched', async () => {
  const dir = path.join(A, 'gone');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'r.bin'), crypto.randomBytes(1000));
  const rd = await call('file_read', { path: path.join(dir, 'r.bin'), transfer: 'link' });
  const wr = await call('file_write', { path: path.join(dir, 'w.bin'), transfer: 'link' });
  assert.equal(rd.isError, false, text(rd));
  assert.equal(wr.isError, false, text(wr));
  fs.rmSync(dir, { recursive: true });
  const before = transfers().length;
  const g = await xfer('GET', rd.structuredContent.link.url);
  assert.equal(g.status, 502);
  assert.match(JSON.parse(g.body).error.message, /reading .*r\.bin on web1 failed: .*no such file/i);
  // 8 MiB: more than the broker holds, so the answer comes while the body still arrives.
  const p = await xfer('PUT', wr.structuredContent.link.url, { body: crypto.randomBytes(8 * 1024 * 1024) });
  assert.equal(p.status, 502, p.body.toString());
  assert.match(JSON.parse(p.body).error.message, /writing .*w\.bin on web1 failed: .*the file is as it was/);
  await until(() => transfers().length >= before + 2, 'both ended');
  const evs = transfers().slice(before);
  assert.deepEqual(evs.map((e) => [e.details.direction, e.details.status]).sort(),
    [['read', 'failed'], ['write', 'failed']]);
  assert.ok(!fs.existsSync(dir));
});
