// The file tools end to end: the official SDK client as a bot -> a real
// broker -> a real ztagent -> a real OpenSSH sshd (internal-sftp). Text and
// binary round trips with their SHA-256; and the ways out of an allowed
// tree (`..`, a symbolic link, a NUL), an oversize write and a denied path:
// each refused with a clear error, and the filesystem shows that nothing
// was written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { auditEvents } from './lib/zt.mjs';
import { startFiles } from './lib/files.mjs';
import { rpc, taskUntil, TASKS } from './lib/stateless.mjs';

let F;
let broker;
let bot;
let USER;
let ROOT;       // the test's tree on the "host": allowed/, allowed/private/, outside/
let A;          // ROOT/allowed
let OUT;        // ROOT/outside

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const text = (r) => r.content.map((c) => c.text ?? '').join('\n');
const call = (name, args) => F.call(name, args);

before(async () => {
  // 1 MiB a call: 8 SFTP reads of 128 KiB from OpenSSH (SSH_SFTP_READ_CHUNK_OPENSSH; the
  // refill of SSH_SFTP_READ_AHEAD in flight is file_links.test.mjs's 5 MiB read); small
  // enough that an oversize write fits one JSON-RPC message and meets this limit, not the
  // message's.
  F = await startFiles({ fileMax: '1M' });
  ({ broker, bot, user: USER, root: ROOT, allowed: A, outside: OUT } = F);
  fs.writeFileSync(path.join(OUT, 'secret'), 'outside secret\n');
  fs.symlinkSync(OUT, path.join(A, 'link'));                        // a directory link out
  fs.symlinkSync(path.join(OUT, 'secret'), path.join(A, 'slink'));  // a file link out
});

after(async () => {
  await F?.stop();
});

// Names in a directory, zt's temporary files included.
const names = (dir) => fs.readdirSync(dir).sort();

test('text round trip: a new file written in one step, read back as text, SHA-256 checked and audited', async () => {
  const body = 'hello, files\nünïcödé\n';
  const p = path.join(A, 'note.txt');
  let r = await call('file_write', { path: p, content: body, mode: '0640' });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.sha256, sha256(body));
  assert.equal(r.structuredContent.atomic, true);
  assert.equal(fs.readFileSync(p, 'utf8'), body);
  assert.equal(fs.statSync(p).mode & 0o777, 0o640);
  assert.ok(!names(A).some((n) => n.includes('.zt-')), 'no temporary file is left');
  const w = auditEvents(broker, 'tool.file_write.result').at(-1);
  assert.equal(w.outcome, 'success');
  assert.deepEqual([w.details.path, w.details.path_resolved, w.details.bytes, w.details.sha256],
    [p, p, Buffer.byteLength(body), sha256(body)]);

  r = await call('file_read', { path: p });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.content[0].type, 'text');
  assert.equal(r.content[0].text, body);
  assert.equal(r.structuredContent.sha256, sha256(body));
  assert.equal(r.structuredContent.more, false);
  assert.equal(r.structuredContent.mode, '0640');
  const rd = auditEvents(broker, 'tool.file_read.result').at(-1);
  assert.equal(rd.details.sha256, sha256(body));
  assert.equal(rd.details.path_resolved, p);

  // Replacing is one rename(2) on the host (posix-rename@openssh.com): a
  // new inode takes the name, with the old file's mode; append adds in
  // place.
  const ino = fs.statSync(p).ino;
  r = await call('file_write', { path: p, content: 'v2\n' });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.atomic, true);
  assert.notEqual(fs.statSync(p).ino, ino);
  assert.equal(fs.readFileSync(p, 'utf8'), 'v2\n');
  assert.ok(!names(A).some((n) => n.includes('.zt-')), 'nothing is left aside');
  r = await call('file_write', { path: p, content: 'more\n', append: true });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.atomic, false);
  assert.equal(fs.readFileSync(p, 'utf8'), 'v2\nmore\n');
  assert.equal(fs.statSync(p).mode & 0o777, 0o640);
});

test('binary round trip past one chunk: base64 in, a blob out, same SHA-256; ranges', async () => {
  const bytes = crypto.randomBytes(50000);
  bytes[0] = 0;   // never text
  const p = path.join(A, 'blob.bin');
  let r = await call('file_write', { path: p, content_base64: bytes.toString('base64') });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.sha256, sha256(bytes));
  assert.ok(fs.readFileSync(p).equals(bytes));

  r = await call('file_read', { path: p });
  assert.equal(r.isError, false, text(r));
  const block = r.content[0];
  assert.equal(block.type, 'resource');
  assert.equal(block.resource.mimeType, 'application/octet-stream');
  assert.match(block.resource.uri, /^file:\/\/web1\//);
  const got = Buffer.from(block.resource.blob, 'base64');
  assert.ok(got.equals(bytes));
  assert.equal(r.structuredContent.sha256, sha256(bytes));
  assert.equal(r.structuredContent.size, bytes.length);

  r = await call('file_read', { path: p, offset: 100, length: 1000 });
  assert.equal(r.isError, false, text(r));
  const part = Buffer.from(r.content[0].resource.blob, 'base64');
  assert.ok(part.equals(bytes.subarray(100, 1100)));
  assert.equal(r.structuredContent.more, true);
  assert.equal(r.structuredContent.sha256, sha256(part));
});

test('reads of many SFTP requests in flight: whole in calls of --file-max, odd ranges, the end', async () => {
  const MiB = 1024 * 1024;
  const bytes = crypto.randomBytes(3 * MiB + 12345);
  bytes[0] = 0;
  const p = path.join(A, 'large.bin');
  fs.writeFileSync(p, bytes);
  const blob = (r) => (r.structuredContent.encoding === 'text' ? Buffer.from(r.content[0].text)
    : Buffer.from(r.content[0].resource.blob, 'base64'));

  // In calls of 1 MiB (each 32 requests, 16 in flight); the last asks past the end of the file.
  const parts = [];
  for (let off = 0, more = true; more;) {
    const r = await call('file_read', { path: p, offset: off, length: MiB });
    assert.equal(r.isError, false, text(r));
    const b = blob(r);
    assert.equal(r.structuredContent.length, b.length);
    assert.equal(r.structuredContent.sha256, sha256(b));
    assert.equal(b.length, Math.min(MiB, bytes.length - off));
    parts.push(b);
    off += b.length;
    more = r.structuredContent.more;
  }
  assert.equal(parts.length, 4);
  assert.equal(sha256(Buffer.concat(parts)), sha256(bytes));

  // Odd offsets and lengths, across the 32 KiB request boundaries.
  for (const [offset, length] of [[32767, MiB - 3], [1, 65537], [3 * MiB + 1, MiB]]) {
    const r = await call('file_read', { path: p, offset, length });
    assert.equal(r.isError, false, text(r));
    const want = bytes.subarray(offset, offset + length);
    const b = blob(r);
    assert.equal(b.length, want.length, `offset ${offset}`);
    assert.ok(b.equals(want), `offset ${offset}`);
    assert.equal(r.structuredContent.sha256, sha256(want));
    assert.equal(r.structuredContent.more, offset + length < bytes.length);
  }

  // At or past the end: nothing, and no more.
  const r = await call('file_read', { path: p, offset: bytes.length + 10, length: 100 });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.length, 0);
  assert.equal(r.structuredContent.more, false);
  fs.rmSync(p);
});

test('".." is refused before anything is opened; nothing is written', async () => {
  const p = `${A}/../outside/dotdot`;
  const r = await call('file_write', { path: p, content: 'x' });
  assert.equal(r.isError, true);
  assert.match(text(r), /path must be absolute and normal/);
  assert.ok(!fs.existsSync(path.join(OUT, 'dotdot')));
  assert.deepEqual(names(OUT), ['secret']);
});

test('a symbolic link out of the allowed tree is denied on the resolved path, read or write', async () => {
  // A directory link: the host resolves it outside; the rule names both.
  let r = await call('file_read', { path: `${A}/link/secret` });
  assert.equal(r.isError, true);
  assert.match(text(r), /^deny: no role allows tool file_read .* path ".*\/outside\/secret"/);
  assert.match(text(r), /the host resolved .*\/allowed\/link\/secret to .*\/outside\/secret/);
  const ev = auditEvents(broker, 'tool.file_read.result').at(-1);
  assert.equal(ev.outcome, 'denied');
  assert.equal(ev.details.path, `${A}/link/secret`);
  assert.equal(ev.details.path_resolved, path.join(OUT, 'secret'));
  assert.doesNotMatch(JSON.stringify(r), /outside secret/);

  r = await call('file_write', { path: `${A}/link/planted`, content: 'x' });
  assert.equal(r.isError, true);
  assert.match(text(r), /^deny: no role allows tool file_write/);
  assert.deepEqual(names(OUT), ['secret']);

  // A file link: reading follows it (out: denied); writing to it is refused.
  r = await call('file_read', { path: `${A}/slink` });
  assert.equal(r.isError, true);
  assert.match(text(r), /^deny: no role allows/);
  r = await call('file_write', { path: `${A}/slink`, content: 'overwritten' });
  assert.equal(r.isError, true);
  assert.match(text(r), /symbolic link/);
  assert.equal(fs.readFileSync(path.join(OUT, 'secret'), 'utf8'), 'outside secret\n');
  assert.equal(fs.lstatSync(path.join(A, 'slink')).isSymbolicLink(), true);
  assert.deepEqual(names(OUT), ['secret']);
});

test('a path with a NUL is refused as a whole; nothing is written', async () => {
  const p = `${A}/nul\u0000/../../outside/x`;
  let refused = false;
  try {
    const r = await call('file_write', { path: p, content: 'x' });
    refused = r.isError === true;
  } catch (e) {
    refused = /\\u0000|NUL|parse|invalid/i.test(String(e));
  }
  assert.ok(refused, 'the call is refused');
  assert.ok(!names(A).some((n) => n.startsWith('nul')));
  assert.deepEqual(names(OUT), ['secret']);
});

test('an oversize write is refused with the limit named; nothing is written', async () => {
  const p = path.join(A, 'big.bin');
  for (const args of [{ content: 'a'.repeat(1025 * 1024) },
    { content_base64: crypto.randomBytes(1025 * 1024).toString('base64') }]) {
    const r = await call('file_write', { path: p, ...args });
    assert.equal(r.isError, true);
    assert.match(text(r), /at most 1048576 bytes \(the broker's --file-max\); nothing was written/);
  }
  assert.ok(!fs.existsSync(p));
  assert.ok(!names(A).some((n) => n.includes('big')));
});

test('a denied path is refused by the gate with the rule; nothing is written', async () => {
  const p = path.join(A, 'private', 'x');
  const r = await call('file_write', { path: p, content: 'x' });
  assert.equal(r.isError, true);
  assert.match(text(r), /^deny: role files denies tool file_write .* path ".*\/private\/x"/);
  const ev = auditEvents(broker, 'tool.file_write').at(-1);
  assert.equal(ev.outcome, 'denied');
  assert.equal(ev.details.path, p);
  assert.deepEqual(names(path.join(A, 'private')), []);
});

test('file_list pages with a cursor; file_stat and file_remove', async () => {
  const dir = path.join(A, 'many');
  fs.mkdirSync(dir);
  for (const n of ['e', 'a', 'd', 'b', 'c']) fs.writeFileSync(path.join(dir, n), n);
  const seen = [];
  let cursor;
  do {
    const r = await call('file_list', { path: dir, limit: 2, ...(cursor ? { cursor } : {}) });
    assert.equal(r.isError, false, text(r));
    seen.push(...r.structuredContent.entries.map((e) => e.name));
    assert.ok(r.structuredContent.entries.every((e) => e.kind === 'file' && e.size === 1));
    cursor = r.structuredContent.more ? r.structuredContent.cursor : undefined;
  } while (cursor);
  assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
  const bad = await call('file_list', { path: A, cursor: 'c1' + '0'.repeat(18) });
  assert.equal(bad.isError, true);
  // An entry a deny names is left out, name and all, and counted; the
  // cursor never names it.
  fs.mkdirSync(path.join(A, 'private'), { recursive: true });
  fs.writeFileSync(path.join(A, 'private', 'key'), 'k');
  const top = [];
  let hidden = 0;
  cursor = undefined;
  do {
    const r = await call('file_list', { path: A, limit: 1, ...(cursor ? { cursor } : {}) });
    assert.equal(r.isError, false, text(r));
    top.push(...r.structuredContent.entries.map((e) => e.name));
    hidden += r.structuredContent.hidden;
    cursor = r.structuredContent.more ? r.structuredContent.cursor : undefined;
    if (cursor) assert.ok(!Buffer.from(cursor.slice(18), 'hex').toString().includes('private'));
  } while (cursor);
  assert.ok(top.includes('many'));
  assert.ok(!top.includes('private'), top.join(','));
  assert.ok(hidden >= 1);
  assert.ok(auditEvents(broker, 'tool.file_list.result').at(-1).details.hidden >= 0);

  let r = await call('file_stat', { path: path.join(dir, 'a') });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.kind, 'file');
  r = await call('file_remove', { path: path.join(dir, 'a') });
  assert.equal(r.isError, false, text(r));
  assert.ok(!fs.existsSync(path.join(dir, 'a')));
  r = await call('file_remove', { path: dir });
  assert.equal(r.isError, true);
  assert.match(text(r), /directory/);
  assert.ok(fs.existsSync(dir));
  // A link is removed itself, not what it names.
  fs.symlinkSync(path.join(OUT, 'secret'), path.join(dir, 'l'));
  r = await call('file_remove', { path: path.join(dir, 'l') });
  assert.equal(r.isError, false, text(r));
  assert.ok(fs.existsSync(path.join(OUT, 'secret')));
});

// MCP 2026-07-28 with the tasks extension: a transfer as a task the client
// polls, written then read back.
test('file_write and file_read run as tasks for a client that declares the extension', async () => {
  const p = path.join(A, 'task.txt');
  const body = 'written by a task\n';
  const args = (more) => ({ host: 'web1', login: USER, path: p, ...more });
  let t = await rpc(broker, F.token, 'tools/call', { name: 'file_write', arguments: args({ content: body }) }, TASKS);
  assert.equal(t.result?.resultType, 'task', JSON.stringify(t));
  let done = await taskUntil(broker, F.token, t.result.taskId, ['completed', 'failed', 'cancelled']);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(done.result.structuredContent.sha256, sha256(body));
  assert.equal(fs.readFileSync(p, 'utf8'), body);
  t = await rpc(broker, F.token, 'tools/call', { name: 'file_read', arguments: args({}) }, TASKS);
  done = await taskUntil(broker, F.token, t.result.taskId, ['completed', 'failed', 'cancelled']);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(done.result.content[0].text, body);
  assert.equal(done.result.structuredContent.sha256, sha256(body));
});
