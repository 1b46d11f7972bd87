// Session recordings around the real broker and ztctl: a recording made
// as the broker makes them (tests/tools/rec_seed: brk_recordings_start,
// output, brk_recordings_finish and the session's end event, on the data
// directory while the broker serves), listed to its user and to an
// auditor and to nobody else, replayed by `ztctl play`, its content
// refused to another user as if it did not exist, the audit log readable
// by auditors only, and one byte changed in the file caught by
// `ztbroker admin audit verify`, which names the event that bound it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BUILD, READONLY_ROLE, admin, applyRole, auditEvents, request, startBroker, stopChecked,
  userToken, ztctl, ztctlHome,
} from './lib/zt.mjs';

const REC_SEED = path.join(BUILD, 'tests', 'tools', 'rec_seed');

let broker;
let tok; // name -> session token
let home; // name -> ztctl home
let rec; // {id, seq} of alice's recording

function seed(actor, host, login, ...texts) {
  const r = spawnSync(REC_SEED, [broker.dataDir, actor, host, login, ...texts], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const castPath = (id) => path.join(broker.dataDir, 'recordings', `${id}.cast`);

before(async () => {
  broker = await startBroker();
  applyRole(broker, READONLY_ROLE);
  applyRole(broker, fs.readFileSync('examples/roles/auditor.yaml', 'utf8'));
  tok = {};
  home = {};
  for (const [name, roles] of [['alice', 'readonly'], ['bob', 'readonly'], ['carol', 'auditor']]) {
    tok[name] = await userToken(broker, name, roles);
    home[name] = ztctlHome(broker, name, tok[name], roles.split(','));
  }
  rec = seed('user:alice', 'web1', 'ubuntu', 'hello from web1\r\n', 'bye\r\n');
});
after(() => stopChecked(broker));

test('a recording is a 0600 file in a 0700 directory, its row ended with size and hash', () => {
  assert.match(rec.id, /^[0-9a-f]{32}$/);
  assert.equal(fs.statSync(path.join(broker.dataDir, 'recordings')).mode & 0o777, 0o700);
  const st = fs.statSync(castPath(rec.id));
  assert.equal(st.mode & 0o777, 0o600);
  const end = auditEvents(broker, 'tool.ssh_shell.result').find((e) => e.seq === rec.seq);
  assert.equal(end.details.recording.id, rec.id);
  assert.equal(end.details.recording.bytes, st.size);
  assert.match(end.details.recording.sha256, /^[0-9a-f]{64}$/);
  const head = JSON.parse(fs.readFileSync(castPath(rec.id), 'utf8').split('\n')[0]);
  assert.equal(head.version, 2);
  assert.equal(head.title, 'alice@web1 as ubuntu');
});

test('recordings ls: its user and an auditor see it, another user does not', async () => {
  let r = await ztctl(['recordings', 'ls'], { home: home.alice });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ID\s+USER\s+HOST\s+LOGIN\s+STARTED \(UTC\)\s+DURATION\s+BYTES\s+EXIT$/m);
  assert.match(r.stdout, new RegExp(`^${rec.id}\\s+alice\\s+web1\\s+ubuntu\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\S+\\s+\\d+\\s+0$`, 'm'));

  r = await ztctl(['recordings', 'ls', '--user', 'alice', '--host', 'web1', '--json'], { home: home.carol });
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout).recordings;
  assert.equal(list.length, 1);
  assert.equal(list[0].id, rec.id);
  assert.equal(list[0].user, 'alice');
  assert.equal(list[0].actor, 'user:alice');
  assert.equal(list[0].exit_status, 0);
  assert.ok(list[0].ended_at >= list[0].started_at && list[0].started_at > 0);
  r = await ztctl(['recordings', 'ls', '--host', 'db9', '--json'], { home: home.carol });
  assert.deepEqual(JSON.parse(r.stdout).recordings, []);

  for (const args of [['recordings', 'ls'], ['recordings', 'ls', '--user', 'alice']]) {
    r = await ztctl(args, { home: home.bob });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, new RegExp(rec.id));
  }
  const api = await request(broker, 'GET', '/v1/recordings?user=alice', { token: tok.bob });
  assert.equal(api.status, 200);
  assert.deepEqual(api.body.recordings, []);
  assert.equal((await request(broker, 'GET', '/v1/recordings?limit=0', { token: tok.carol })).status, 400);
  r = await ztctl(['recordings', 'ls', '--host', '../x'], { home: home.carol });
  assert.equal(r.code, 2);
});

test('play replays the output, never the input; bad speeds are usage errors', async () => {
  for (const [who, args] of [['alice', ['--speed', '100']], ['carol', ['--speed=50']]]) {
    const r = await ztctl(['play', rec.id, ...args], { home: home[who] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from web1\r\nbye\r\n');
  }
  for (const bad of ['0', '-1', 'fast', 'inf']) {
    const r = await ztctl(['play', rec.id, '--speed', bad], { home: home.alice });
    assert.equal(r.code, 2, `--speed ${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--speed takes a number above 0/);
  }
  const r = await ztctl(['play', rec.id], { home: home.bob });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`no recording ${rec.id} that you may read`));
  assert.equal((await ztctl(['play', 'nothex'], { home: home.alice })).code, 2);
});

test("another user's recording is a 404, like a missing one; reads are audited", async () => {
  const own = await request(broker, 'GET', `/v1/recordings/${rec.id}`, { token: tok.alice });
  assert.equal(own.status, 200);
  assert.equal(own.headers['content-type'], 'application/x-asciicast');
  assert.equal(own.body, fs.readFileSync(castPath(rec.id), 'utf8'));

  const other = await request(broker, 'GET', `/v1/recordings/${rec.id}`, { token: tok.bob });
  const missing = await request(broker, 'GET', `/v1/recordings/${'0'.repeat(32)}`, { token: tok.bob });
  assert.equal(other.status, 404);
  assert.deepEqual(other.body, missing.body);
  for (const p of ['/v1/recordings/..%2F..%2Fzt.db', `/v1/recordings/${rec.id.toUpperCase()}`,
    `/v1/recordings/${rec.id}.cast`, `/v1/recordings/${rec.id}/x`]) {
    assert.equal((await request(broker, 'GET', p, { token: tok.alice })).status, 404, p);
  }
  assert.equal((await request(broker, 'GET', `/v1/recordings/${rec.id}`)).status, 401);

  const reads = auditEvents(broker, 'recording.read').filter((e) => e.details.recording_id === rec.id);
  assert.ok(reads.some((e) => e.actor === 'user:alice' && e.outcome === 'success'
    && e.details.owner === 'user:alice'));
  assert.ok(reads.some((e) => e.actor === 'user:carol' && e.outcome === 'success'));
  assert.ok(reads.some((e) => e.actor === 'user:bob' && e.outcome === 'denied'));
});

test('GET /v1/audit: auditors read the log in pages, others their own events', async () => {
  const r = await request(broker, 'GET', '/v1/audit?since=0&limit=5', { token: tok.carol });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.events.length, 5);
  assert.deepEqual(r.body.events.map((e) => e.seq), [1, 2, 3, 4, 5]);
  assert.equal(r.body.next, 5);
  assert.match(r.body.events[0].hash, /^[0-9a-f]{64}$/);
  const next = await request(broker, 'GET', `/v1/audit?since=${rec.seq - 1}&limit=1`, { token: tok.carol });
  assert.equal(next.body.events[0].seq, rec.seq);
  assert.equal(next.body.events[0].details.recording.id, rec.id);

  const own = await request(broker, 'GET', '/v1/audit', { token: tok.bob });
  assert.equal(own.status, 200);
  assert.ok(own.body.events.length > 0);
  assert.ok(own.body.events.every((e) => e.actor === 'user:bob'));
  assert.equal((await request(broker, 'GET', '/v1/audit?limit=1001', { token: tok.carol })).status, 400);
  assert.equal((await request(broker, 'GET', '/v1/audit?since=-1', { token: tok.carol })).status, 400);
  const reads = auditEvents(broker, 'audit.read');
  assert.ok(reads.some((e) => e.actor === 'user:carol' && e.outcome === 'success'));
  assert.ok(reads.some((e) => e.actor === 'user:bob' && e.outcome === 'success'));
});

test('one byte changed in a recording fails audit verify at its event; play names a bad line', async () => {
  let v = admin(broker, 'audit', 'verify');
  assert.equal(v.code, 0, v.stdout + v.stderr);

  const file = castPath(rec.id);
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace('hello from web1', 'hellO from web1'));
  v = admin(broker, 'audit', 'verify');
  assert.equal(v.code, 1, v.stdout + v.stderr);
  assert.match(v.stdout, new RegExp(`TAMPERED: first broken event is #${rec.seq} \\(recording ${rec.id} does not match its event`));

  // The third line (the first output event) no longer a JSON array.
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines[2] = lines[2].replace(/\]$/, '}');
  fs.writeFileSync(file, lines.join('\n'));
  const r = await ztctl(['play', rec.id, '--speed', '100'], { home: home.alice });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /play: line 3: not an asciicast v2 event/);
});
