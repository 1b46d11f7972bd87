// Identity end to end: a real broker on an ephemeral port; an administrator
// adds users offline; they enrol and log in through the real ztctl with
// TOTP codes computed from the enrolment secret; every refusal is clear;
// the audit chain verifies, and fails after the SQLite file is edited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, awayFromStepEdge, mode, request, startBroker, step, tmpdir, totp, ztctl, ztctlEnroll,
  stopChecked,
} from './lib/zt.mjs';

const PASSWORD = 'correct horse battery staple';
let broker;
const home = {};

function invite(out) {
  const m = out.match(/^invite: (zti_[A-Za-z0-9_-]+)$/m);
  assert.ok(m, `no invite in: ${out}`);
  return m[1];
}

// Adds and enrols `name`, confirming with the code of step s-1 so that the
// current step stays free for the first login. Returns the TOTP secret.
async function addAndEnrol(name, roles = 'ops') {
  const a = admin(broker, 'users', 'add', name, '--roles', roles);
  assert.equal(a.code, 0, a.stderr);
  home[name] = tmpdir(`zt-home-${name}-`);
  await awayFromStepEdge();
  const e = await ztctlEnroll(broker, invite(a.stdout), PASSWORD,
    { home: home[name], codeFor: (s) => totp(s, step() - 1) });
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /otpauth:\/\/totp\//);
  assert.match(e.stdout, /enrolled as/);
  return { secret: e.secret, invite: invite(a.stdout) };
}

function login(name, code, extra = {}) {
  return ztctl(['login', '--broker', broker.url, '--ca-pin', extra.pin || broker.pin, '--user', name,
    '--password-stdin', '--otp', code], { home: home[name], input: `${extra.password || PASSWORD}\n` });
}

before(async () => { broker = await startBroker(); });
after(() => stopChecked(broker));

describe('broker start', () => {
  test('creates a private data dir with 0600 keys and prints the CA pin', () => {
    assert.equal(mode(broker.dataDir), 0o700);
    for (const f of ['tls-ca.key', 'ssh-user-ca.key', 'zt.db']) {
      assert.equal(mode(path.join(broker.dataDir, f)), 0o600, f);
    }
    const pin = admin(broker, 'ca', 'pin');
    assert.equal(pin.stdout.trim(), broker.pin);
    const pub = admin(broker, 'ca', 'ssh-user-pub');
    assert.match(pub.stdout, /^ssh-ed25519 AAAA[0-9A-Za-z+/=]+ zt-user-ca$/m);
  });

  test('refuses a data dir other users can read', async () => {
    const d = tmpdir();
    fs.mkdirSync(path.join(d, 'data'), { mode: 0o755 });
    fs.chmodSync(path.join(d, 'data'), 0o755);
    await assert.rejects(startBroker({ dir: d }), /mode 0755/);
  });

  test('serves only TLS 1.2 or later', () => {
    for (const [flag, ok] of [['-tls1_2', true], ['-tls1_3', true], ['-tls1_1', false]]) {
      const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${broker.port}`, flag,
        '-CAfile', path.join(broker.dataDir, 'tls-ca.crt'), '-verify_return_error', '-brief'],
      { input: '', encoding: 'utf8', timeout: 10000 });
      assert.equal(r.status === 0, ok, `${flag}: ${r.stderr}`);
    }
  });
});

describe('enrolment and login through ztctl', () => {
  let alice;
  let aliceCode;

  test('a user enrols with an invite, password and first TOTP code', async () => {
    alice = await addAndEnrol('alice', 'ops,dev');
    assert.match(alice.secret, /^[A-Z2-7]{32}$/);
  });

  test('an invite works once', async () => {
    const r = await request(broker, 'POST', '/v1/enroll', { body: { invite: alice.invite, password: 'another password!' } });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_invite');
  });

  test('a wrong CA pin is refused before anything is sent', async () => {
    const r = await login('alice', '000000', { pin: `sha256:${'0'.repeat(64)}` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pin/i);
    assert.ok(!fs.existsSync(path.join(home.alice, 'profile.json')));
  });

  test('a wrong password is refused', async () => {
    const r = await login('alice', totp(alice.secret, step()), { password: 'not the password' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wrong user name or password/);
  });

  test('a wrong code is refused', async () => {
    const good = totp(alice.secret, step());
    const bad = good === '123456' ? '654321' : '123456';
    const r = await login('alice', bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wrong one-time code/);
  });

  test('login stores a private profile; status shows the identity', async () => {
    await awayFromStepEdge();
    aliceCode = totp(alice.secret, step());
    const r = await login('alice', aliceCode);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /logged in as alice/);
    assert.equal(mode(home.alice), 0o700);
    const prof = path.join(home.alice, 'profile.json');
    assert.equal(mode(prof), 0o600);
    assert.match(JSON.parse(fs.readFileSync(prof, 'utf8')).token, /^zts_/);
    const s = await ztctl(['status'], { home: home.alice });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /alice/);
    assert.match(s.stdout, /ops/);
    assert.match(s.stdout, /dev/);
  });

  test('a code is accepted once', async () => {
    const r = await login('alice', aliceCode);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already used/);
  });

  test('logout revokes the token on the broker', async () => {
    const token = JSON.parse(fs.readFileSync(path.join(home.alice, 'profile.json'), 'utf8')).token;
    const r = await ztctl(['logout'], { home: home.alice });
    assert.equal(r.code, 0, r.stderr);
    const w = await request(broker, 'GET', '/v1/whoami', { token });
    assert.equal(w.status, 401);
    assert.equal(w.body.error.code, 'token_revoked');
    assert.match(w.headers['www-authenticate'], /^Bearer/);
    const s = await ztctl(['status'], { home: home.alice });
    assert.equal(s.code, 1);
    assert.match(s.stderr, /not logged in|login/);
  });

  test('locking a user revokes their session and refuses login', async () => {
    const carol = await addAndEnrol('carol');
    await awayFromStepEdge();
    const r = await login('carol', totp(carol.secret, step()));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(admin(broker, 'users', 'lock', 'carol').code, 0);
    const s = await ztctl(['status'], { home: home.carol });
    assert.equal(s.code, 1);
    assert.match(s.stderr, /revoked/);
    const again = await login('carol', totp(carol.secret, step() + 1));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /locked/);
  });

  test('repeated failures lock out the user for a while, and that is audited', async () => {
    const bob = await addAndEnrol('bob');
    for (let i = 0; i < 5; i++) {
      const r = await request(broker, 'POST', '/v1/login', { body: { user: 'bob', password: 'wrong password!', otp: '000000' } });
      assert.equal(r.status, 401);
    }
    const r = await request(broker, 'POST', '/v1/login', { body: { user: 'bob', password: PASSWORD, otp: totp(bob.secret, step()) } });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'rate_limited');
    assert.ok(Number(r.headers['retry-after']) > 0);
    const a = admin(broker, 'audit', 'ls', '--json');
    const events = a.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.type === 'user.lockout' && e.details.user === 'bob'));
  });
});

describe('bot tokens', () => {
  test('a bot token authenticates until it expires', async () => {
    const a = admin(broker, 'bots', 'add', 'ci-bot', '--roles', 'readonly', '--ttl', '2s');
    assert.equal(a.code, 0, a.stderr);
    const token = a.stdout.match(/^token: (ztb_\S+)$/m)[1];
    const w = await request(broker, 'GET', '/v1/whoami', { token });
    assert.equal(w.status, 200);
    assert.equal(w.body.kind, 'bot');
    assert.equal(w.body.name, 'ci-bot');
    assert.deepEqual(w.body.roles, ['readonly']);
    // ztctl with this token in its profile says what is wrong.
    const h = tmpdir('zt-home-bot-');
    fs.chmodSync(h, 0o700);
    fs.writeFileSync(path.join(h, 'profile.json'), JSON.stringify({
      broker: broker.url, ca_pin: broker.pin, user: 'ci-bot', token, roles: ['readonly'],
      expires_at: Math.floor(Date.now() / 1000) + 2,
    }), { mode: 0o600 });
    await new Promise((r) => setTimeout(r, 3000));
    const x = await request(broker, 'GET', '/v1/whoami', { token });
    assert.equal(x.status, 401);
    assert.equal(x.body.error.code, 'token_expired');
    const s = await ztctl(['status'], { home: h });
    assert.equal(s.code, 1);
    assert.match(s.stderr, /expired/);
  });

  test('unknown and missing tokens are refused', async () => {
    const x = await request(broker, 'GET', '/v1/whoami', { token: 'ztb_nottherealtoken' });
    assert.equal(x.status, 401);
    assert.equal(x.body.error.code, 'invalid_token');
    const y = await request(broker, 'GET', '/v1/whoami');
    assert.equal(y.status, 401);
    assert.equal(y.body.error.code, 'missing_token');
  });
});

describe('bad requests', () => {
  test('oversized bodies get 413 before parsing', async () => {
    const r = await request(broker, 'POST', '/v1/login', { raw: `{"user":"${'a'.repeat(70000)}"}` });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'body_too_large');
  });
  test('malformed JSON, wrong types, unknown fields get 400 naming the problem', async () => {
    let r = await request(broker, 'POST', '/v1/login', { raw: '{"user": "alice",' });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /malformed JSON/);
    r = await request(broker, 'POST', '/v1/login', { body: { user: 7, password: 'x', otp: '1' } });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /"user"/);
    r = await request(broker, 'POST', '/v1/login', { body: { user: 'a', password: 'x', otp: '1', admin: true } });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /unknown field "admin"/);
    r = await request(broker, 'POST', '/v1/login', { body: ['not', 'an', 'object'] });
    assert.equal(r.status, 400);
  });
  test('wrong media type, method and path', async () => {
    let r = await request(broker, 'POST', '/v1/login', { raw: 'user=alice', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 415);
    r = await request(broker, 'GET', '/v1/login');
    assert.equal(r.status, 405);
    r = await request(broker, 'GET', '/v1/nothing');
    assert.equal(r.status, 404);
  });
});

describe('audit', () => {
  test('holds every event and no secret', () => {
    const a = admin(broker, 'audit', 'ls', '--json');
    assert.equal(a.code, 0, a.stderr);
    const events = a.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const types = new Set(events.map((e) => e.type));
    for (const t of ['user.add', 'user.invite', 'user.enroll', 'user.login', 'session.logout',
      'user.lock', 'user.lockout', 'bot.add', 'bot.token', 'auth.token']) {
      assert.ok(types.has(t), `missing ${t}`);
    }
    assert.ok(events.some((e) => e.type === 'user.login' && e.outcome === 'failure'));
    assert.ok(!a.stdout.includes(PASSWORD));
    assert.doesNotMatch(a.stdout, /zt[sbi]_[A-Za-z0-9_-]{20,}/);
    assert.doesNotMatch(a.stdout, /secret/i);
  });

  test('verify passes, then names the event edited behind the broker\'s back', () => {
    let v = admin(broker, 'audit', 'verify');
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /verified: \d+ events/);
    assert.match(v.stdout, /^head: #\d+ sha256:[0-9a-f]{64}$/m);
    // An attacker with the file drops the append-only triggers and turns
    // a failed login into a success.
    const db = path.join(broker.dataDir, 'zt.db');
    const sqlite = (q) => {
      const r = spawnSync('sqlite3', [db, q], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    for (const t of sqlite("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit'").split('\n').filter(Boolean)) {
      sqlite(`DROP TRIGGER "${t}"`);
    }
    const seq = sqlite("SELECT min(seq) FROM audit WHERE type='user.login' AND outcome='failure'");
    assert.match(seq, /^\d+$/);
    sqlite(`UPDATE audit SET outcome='success' WHERE seq=${seq}`);
    v = admin(broker, 'audit', 'verify');
    assert.equal(v.code, 1);
    assert.match(v.stdout, new RegExp(`TAMPERED: first broken event is #${seq} \\(hash mismatch\\)`));
  });
});
