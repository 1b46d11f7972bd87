// Accounts end to end: invites and resets, the login lockout (counted
// before the password check, kept with the user across restarts, not
// evictable by other traffic), the answer of a locked account, session
// lifetimes from the roles, bot token rotation and revocation, and the
// audit of what unauthenticated clients can repeat without limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, auditEvents, awayFromStepEdge, request, startBroker, step, stopChecked, tmpdir, totp, until,
} from './lib/zt.mjs';

const PASSWORD = 'a long account test password';
let broker;

function invite(out) {
  const m = out.match(/^invite: (zti_[A-Za-z0-9_-]+)$/m);
  assert.ok(m, `no invite in: ${out}`);
  return m[1];
}

// Both enrolment steps over HTTP with invite; the code of step s-1 keeps
// the current step free for a login. Returns the TOTP secret.
async function enrol(inv, password = PASSWORD) {
  await awayFromStepEdge();
  const e1 = await request(broker, 'POST', '/v1/enroll', { body: { invite: inv, password } });
  assert.equal(e1.status, 200, JSON.stringify(e1.body));
  const secret = e1.body.totp_secret;
  const e2 = await request(broker, 'POST', '/v1/enroll', { body: { invite: inv, otp: totp(secret, step() - 1) } });
  assert.equal(e2.status, 200, JSON.stringify(e2.body));
  return secret;
}

function login(user, password, code, from = undefined) {
  return request(broker, 'POST', '/v1/login', { body: { user, password, otp: code }, from });
}

// Adds and enrols a user; returns the TOTP secret.
async function addUser(name, roles = 'ops') {
  const a = admin(broker, 'users', 'add', name, '--roles', roles);
  assert.equal(a.code, 0, a.stderr);
  return enrol(invite(a.stdout));
}

// Aggregated audit summaries come after 2 s instead of a minute.
const BROKER_ARGS = ['--audit-aggregate', '2s'];

before(async () => { broker = await startBroker({ args: BROKER_ARGS }); });
after(() => stopChecked(broker));

describe('invites and resets', () => {
  test('an older invite cannot take over an account enrolled with a newer one', async () => {
    const a = admin(broker, 'users', 'add', 'inv-alice', '--roles', 'ops');
    assert.equal(a.code, 0, a.stderr);
    const first = invite(a.stdout);
    const b = admin(broker, 'users', 'invite', 'inv-alice');
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /earlier invites of inv-alice no longer work/);
    const secret = await enrol(invite(b.stdout));
    const r = await request(broker, 'POST', '/v1/enroll', { body: { invite: first, password: 'the attacker password' } });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_invite');
    assert.equal((await login('inv-alice', 'the attacker password', totp(secret, step()))).status, 401);
    const l = await login('inv-alice', PASSWORD, totp(secret, step()));
    assert.equal(l.status, 200, JSON.stringify(l.body));
  });

  test('users invite refuses an enrolled user and names users reset', async () => {
    await addUser('inv-bob');
    const r = admin(broker, 'users', 'invite', 'inv-bob');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /inv-bob is enrolled/);
    assert.match(r.stderr, /users reset inv-bob/);
    assert.doesNotMatch(r.stdout, /zti_/);
  });

  test('users reset clears the credentials, revokes the sessions, prints a new invite; audited', async () => {
    const secret = await addUser('inv-carol');
    const l = await login('inv-carol', PASSWORD, totp(secret, step()));
    assert.equal(l.status, 200, JSON.stringify(l.body));
    const r = admin(broker, 'users', 'reset', 'inv-carol');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /user inv-carol reset: password and TOTP cleared, 1 session revoked/);
    const w = await request(broker, 'GET', '/v1/whoami', { token: l.body.token });
    assert.equal(w.status, 401);
    assert.equal(w.body.error.code, 'token_revoked');
    // Not enrolled any more: the old password and code open nothing.
    const again = await login('inv-carol', PASSWORD, totp(secret, step() + 1));
    assert.equal(again.status, 401);
    assert.equal(again.body.error.code, 'invalid_credentials');
    const fresh = await enrol(invite(r.stdout), 'the new carol password');
    assert.notEqual(fresh, secret);
    const l2 = await login('inv-carol', 'the new carol password', totp(fresh, step()));
    assert.equal(l2.status, 200, JSON.stringify(l2.body));
    const ev = auditEvents(broker, 'user.reset');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].details.user, 'inv-carol');
    assert.equal(ev[0].details.sessions_revoked, 1);
    assert.equal(ev[0].outcome, 'success');
  });
});

const WRONG = 'not the password at all';

describe('the login lockout', () => {
  test('30 wrong logins at once for one user: at most 5 reach the password check', async () => {
    await addUser('lock-dave');
    const res = await Promise.all(Array.from({ length: 30 }, () => login('lock-dave', WRONG, '000000')));
    const statuses = res.map((r) => r.status);
    for (const s of statuses) assert.ok([401, 429, 503].includes(s), `status ${s}`);
    const checked = statuses.filter((s) => s === 401).length;
    assert.ok(checked >= 1 && checked <= 5, `${checked} reached the password check`);
    const wrong = auditEvents(broker, 'user.login').filter((e) => e.actor === 'user:lock-dave'
      && e.details.reason === 'wrong password');
    assert.equal(wrong.length, checked);
    for (const r of res.filter((x) => x.status !== 401)) assert.ok(Number(r.headers['retry-after']) > 0);
  });

  test('a user\'s count survives a restart and traffic from many addresses', async () => {
    const secret = await addUser('lock-erin');
    for (let i = 0; i < 4; i++) {
      assert.equal((await login('lock-erin', WRONG, '000000', '127.0.8.1')).status, 401);
    }
    await stopChecked(broker);
    broker = await startBroker({ dir: broker.dir, args: BROKER_ARGS });
    // Bad tokens and failed logins of unknown names from 200 addresses.
    const froms = Array.from({ length: 200 }, (_, i) => `127.0.${1 + Math.floor(i / 200)}.${2 + (i % 200)}`);
    for (let i = 0; i < froms.length; i += 25) {
      await Promise.all(froms.slice(i, i + 25).map((from) => request(broker, 'GET', '/v1/whoami',
        { token: `ztb_nope${from.replaceAll('.', '')}`, from })));
    }
    for (const from of froms.slice(0, 10)) {
      const r = await request(broker, 'POST', '/v1/login', { body: { user: `nobody-${from}`, password: WRONG, otp: '000000' }, from });
      assert.equal(r.status, 401);
    }
    assert.equal(auditEvents(broker, 'user.lockout').filter((e) => e.details.user === 'lock-erin').length, 0);
    const fifth = await login('lock-erin', WRONG, '000000', '127.0.9.9');
    assert.equal(fifth.status, 401);
    assert.equal(auditEvents(broker, 'user.lockout').filter((e) => e.details.user === 'lock-erin').length, 1);
    const r = await login('lock-erin', PASSWORD, totp(secret, step()), '127.0.9.10');
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'rate_limited');
    // An administrator's unlock lifts the block.
    assert.equal(admin(broker, 'users', 'unlock', 'lock-erin').code, 0);
    await awayFromStepEdge();
    const ok = await login('lock-erin', PASSWORD, totp(secret, step()), '127.0.9.10');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});

describe('a locked account', () => {
  test('answers the same whether the password is right or wrong', async () => {
    const secret = await addUser('locked-fay');
    assert.equal(admin(broker, 'users', 'lock', 'locked-fay').code, 0);
    const right = await login('locked-fay', PASSWORD, totp(secret, step()), '127.0.10.1');
    const wrong = await login('locked-fay', WRONG, '000000', '127.0.10.1');
    assert.equal(right.status, 423);
    assert.equal(wrong.status, 423);
    assert.deepEqual(right.body, wrong.body);
    assert.equal(right.body.error.code, 'account_locked');
  });
});

describe('the audit of what anyone can repeat', () => {
  test('refusals during a lockout and unknown invites: one event per kind and address, then a summary', async () => {
    const from = '127.0.11.1';
    await addUser('agg-gus');
    for (let i = 0; i < 5; i++) {
      assert.equal((await login('agg-gus', WRONG, '000000', from)).status, 401);
    }
    for (let i = 0; i < 30; i++) {
      assert.equal((await login('agg-gus', WRONG, '000000', from)).status, 429);
      const e = await request(broker, 'POST', '/v1/enroll', { body: { invite: `zti_guess${i}`, password: PASSWORD }, from });
      assert.equal(e.status, 401);
    }
    const mine = (type, reason) => auditEvents(broker, type).filter((e) => e.source === from
      && e.details.reason === reason);
    assert.equal(mine('user.login', 'wrong password').length, 5);
    await until(() => mine('user.login', 'rate limited').some((e) => e.details.aggregated)
      && mine('user.enroll', 'invalid invite').some((e) => e.details.aggregated), 'the summaries');
    for (const [type, reason] of [['user.login', 'rate limited'], ['user.enroll', 'invalid invite']]) {
      const ev = mine(type, reason);
      assert.equal(ev.length, 2, `${type} ${reason}: ${JSON.stringify(ev)}`);
      assert.equal(ev[1].details.repeats, 29);
      assert.equal(ev[1].outcome, 'failure');
    }
  });
});

describe('session lifetimes', () => {
  const now = () => Math.floor(Date.now() / 1000);
  before(() => {
    const f = path.join(tmpdir('zt-role-'), 'short.yaml');
    fs.writeFileSync(f, 'kind: role\nname: short-ttl\noptions:\n  max_session_ttl: 2m\n');
    const a = admin(broker, 'roles', 'apply', '-f', f);
    assert.equal(a.code, 0, a.stderr);
  });

  test('a login lasts at most the smallest max_session_ttl of the roles', async () => {
    const secret = await addUser('ttl-hal', 'ops,short-ttl');
    const l = await login('ttl-hal', PASSWORD, totp(secret, step()));
    assert.equal(l.status, 200, JSON.stringify(l.body));
    assert.ok(Math.abs(l.body.expires_at - (now() + 120)) <= 5, `expires_at ${l.body.expires_at}`);
    const w = await request(broker, 'GET', '/v1/whoami', { token: l.body.token });
    assert.equal(w.status, 200);
    assert.equal(w.body.expires_at, l.body.expires_at);
    const ev = auditEvents(broker, 'user.login').filter((e) => e.actor === 'user:ttl-hal' && e.outcome === 'success');
    assert.equal(ev[0].details.ttl_capped_by, 'short-ttl');
  });

  test('bots token --ttl beyond the roles is shortened, and says so', async () => {
    const a = admin(broker, 'bots', 'add', 'ttl-bot', '--roles', 'short-ttl', '--ttl', '1h');
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^note: the token lasts 2m, not 1h: role short-ttl sets max_session_ttl 2m$/m);
    const token = a.stdout.match(/^token: (ztb_\S+)$/m)[1];
    const w = await request(broker, 'GET', '/v1/whoami', { token });
    assert.equal(w.status, 200);
    assert.ok(Math.abs(w.body.expires_at - (now() + 120)) <= 5, `expires_at ${w.body.expires_at}`);
    const b = admin(broker, 'bots', 'token', 'ttl-bot', '--ttl', '90s');
    assert.equal(b.code, 0, b.stderr);
    assert.doesNotMatch(b.stdout, /note:/);
  });
});

describe('bot tokens', () => {
  const tokenOf = (out) => out.match(/^token: (ztb_\S+)$/m)[1];
  const idOf = (out) => out.match(/^id: ([0-9a-f]{12})$/m)[1];
  const whoami = (token) => request(broker, 'GET', '/v1/whoami', { token });

  test('--rotate revokes the earlier tokens at once; the new one works', async () => {
    const a = admin(broker, 'bots', 'add', 'rot-bot', '--roles', 'ops');
    assert.equal(a.code, 0, a.stderr);
    const b = admin(broker, 'bots', 'token', 'rot-bot');
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await whoami(tokenOf(a.stdout))).status, 200);
    const c = admin(broker, 'bots', 'token', 'rot-bot', '--rotate');
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^rotated: 2 earlier tokens of rot-bot revoked$/m);
    for (const old of [a, b]) {
      const w = await whoami(tokenOf(old.stdout));
      assert.equal(w.status, 401);
      assert.equal(w.body.error.code, 'token_revoked');
    }
    const w = await whoami(tokenOf(c.stdout));
    assert.equal(w.status, 200);
    assert.equal(w.body.name, 'rot-bot');
    const ev = auditEvents(broker, 'bot.token').filter((e) => e.details.bot === 'rot-bot');
    assert.equal(ev.length, 3);
    assert.equal(ev[2].details.revoked, 2);
    assert.equal(ev[2].details.session, idOf(c.stdout));
  });

  test('bots tokens lists the live ones by id; bots revoke revokes one', async () => {
    const c = admin(broker, 'bots', 'token', 'rot-bot', '--rotate');
    const d = admin(broker, 'bots', 'token', 'rot-bot');
    assert.equal(d.code, 0, d.stderr);
    let l = admin(broker, 'bots', 'tokens', 'rot-bot');
    assert.equal(l.code, 0, l.stderr);
    const ids = (out) => out.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s+/)[0]);
    assert.deepEqual(ids(l.stdout).sort(), [idOf(c.stdout), idOf(d.stdout)].sort());
    assert.doesNotMatch(l.stdout, /ztb_/);
    const r = admin(broker, 'bots', 'revoke', 'rot-bot', idOf(d.stdout));
    assert.equal(r.code, 0, r.stderr);
    const w = await whoami(tokenOf(d.stdout));
    assert.equal(w.status, 401);
    assert.equal(w.body.error.code, 'token_revoked');
    assert.equal((await whoami(tokenOf(c.stdout))).status, 200);
    l = admin(broker, 'bots', 'tokens', 'rot-bot');
    assert.deepEqual(ids(l.stdout), [idOf(c.stdout)]);
    const ev = auditEvents(broker, 'bot.revoke');
    assert.equal(ev.length, 1);
    assert.deepEqual(ev[0].details, { bot: 'rot-bot', session: idOf(d.stdout) });
    const again = admin(broker, 'bots', 'revoke', 'rot-bot', idOf(d.stdout));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no live token/);
    assert.equal(admin(broker, 'bots', 'revoke', 'rot-bot', '1234').code, 2);
  });
});
