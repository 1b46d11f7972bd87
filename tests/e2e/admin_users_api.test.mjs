// Users and bots over the admin API (GET/POST /v1/users..., /v1/bots...):
// what they refuse and how. Bad names and fields are a 400 that changes
// nothing, an unknown user or bot a 404, a taken name a 409, an enrolled
// user's invite a 409 naming the reset; a bot never administers, whatever
// its roles; every call is audited, and no invite or token reaches the
// audit log. The offline verbs and the API do the same work: the user the
// API adds is the one `users ls` lists, a reset revokes the sessions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  admin, applyRole, auditEvents, botToken, request, startBroker, stopChecked, userToken,
} from './lib/zt.mjs';

let broker;
let adminToken;
let botAdminToken;

const call = (method, p, body, token = adminToken) => request(broker, method, p, { token, body });

// Asserts the answer's status and error code.
function refused(r, status, code) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error.code, code, JSON.stringify(r.body));
}

before(async () => {
  broker = await startBroker();
  applyRole(broker, 'kind: role\nname: admins\nallow:\n  tools: [list_hosts]\noptions:\n  admin: true\n');
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  tools: [list_hosts]\n');
  adminToken = await userToken(broker, 'ada', 'admins');
  botAdminToken = botToken(broker, 'rogue', { roles: 'admins' });
});

after(async () => {
  await stopChecked(broker);
});

test('bad names, roles and fields are a 400 naming the problem, and add nothing', async () => {
  const bad = [
    ['/v1/users', { name: 'Bad Name', roles: 'viewer' }, /invalid user name/],
    ['/v1/users', { name: 'carl', roles: 'viewer,,admins' }, /roles are names/],
    ['/v1/users', { name: 'carl' }, /field "roles" is required/],
    ['/v1/users', { name: 'carl', roles: 'viewer', admin: true }, /unknown field "admin"/],
    ['/v1/bots', { name: '-bot', roles: 'viewer' }, /invalid bot name/],
    ['/v1/bots', { name: 'carl', roles: 'viewer', ttl: 'forever' }, /"ttl" must be a duration/],
    ['/v1/bots', { name: 'carl', roles: 'viewer', ttl: '8d' }, /"ttl" must be a duration/],
    ['/v1/bots/token', { name: 'rogue', rotate: 'yes' }, /"rotate" must be true or false/],
    ['/v1/users/lock', { name: 'a'.repeat(65) }, /longer than 64 bytes/],
    ['/v1/users/invite', { name: 'UPPER' }, /invalid user name/],
  ];
  for (const [p, body, message] of bad) {
    const r = await call('POST', p, body);
    refused(r, 400, 'invalid_request');
    assert.match(r.body.error.message, message, p);
  }
  assert.doesNotMatch(admin(broker, 'users', 'ls').stdout, /carl/);
  assert.doesNotMatch(admin(broker, 'bots', 'ls').stdout, /carl/);
});

test('an unknown user or bot is a 404; a taken name a 409; an enrolled user\'s invite a 409', async () => {
  for (const p of ['/v1/users/lock', '/v1/users/unlock', '/v1/users/rm', '/v1/users/invite',
    '/v1/users/reset', '/v1/bots/token', '/v1/bots/rm']) {
    const r = await call('POST', p, { name: 'nobody' });
    refused(r, 404, 'not_found');
    assert.match(r.body.error.message, /^no (user|bot) nobody$/, p);
  }
  refused(await call('GET', '/v1/roles/nope'), 404, 'not_found');
  refused(await call('POST', '/v1/users', { name: 'rogue', roles: 'viewer' }), 409, 'exists');
  refused(await call('POST', '/v1/bots', { name: 'ada', roles: 'viewer' }), 409, 'exists');
  const inv = await call('POST', '/v1/users/invite', { name: 'ada' });
  refused(inv, 409, 'already_enrolled');
  assert.match(inv.body.error.message, /ada is enrolled.*users reset ada/);
  // Failures are audited with their message as the reason.
  const ev = auditEvents(broker, 'user.lock').at(-1);
  assert.deepEqual([ev.actor, ev.outcome, ev.details.reason], ['user:ada', 'failure', 'no user nobody']);
});

test('a bot never administers, whatever its roles; nor does a plain user', async () => {
  const viewer = await userToken(broker, 'vic', 'viewer');
  for (const token of [botAdminToken, viewer]) {
    for (const [method, p, body] of [['GET', '/v1/users'], ['GET', '/v1/bots'],
      ['POST', '/v1/users', { name: 'mallory', roles: 'admins' }],
      ['POST', '/v1/bots', { name: 'mallory', roles: 'admins' }],
      ['POST', '/v1/bots/token', { name: 'rogue' }],
      ['POST', '/v1/users/lock', { name: 'ada' }], ['GET', '/v1/roles/admins']]) {
      refused(await call(method, p, body, token), 403, 'forbidden');
    }
  }
  const r = await call('GET', '/v1/users', undefined, botAdminToken);
  assert.match(r.body.error.message, /^bot rogue may not administer/);
  assert.doesNotMatch(admin(broker, 'users', 'ls').stdout, /mallory/);
  assert.equal((await call('GET', '/v1/whoami')).status, 200, 'ada is not locked');
  const denied = auditEvents(broker, 'user.lock').filter((e) => e.outcome === 'denied');
  assert.deepEqual(denied.map((e) => e.actor).sort(), ['bot:rogue', 'user:vic']);
});

test('the API and the offline verbs do the same: add, reset (sessions revoked), rm; no secret in the audit', async () => {
  const add = await call('POST', '/v1/users', { name: 'dora', roles: 'viewer' });
  assert.equal(add.status, 200, JSON.stringify(add.body));
  assert.match(admin(broker, 'users', 'ls').stdout, /^dora\s+invited\s+viewer\s/m);
  const list = await call('GET', '/v1/users');
  assert.deepEqual(list.body.users.find((u) => u.name === 'dora').roles, ['viewer']);
  // The offline verb prints the same command, for a broker it cannot name.
  const offline = admin(broker, 'users', 'invite', 'dora');
  assert.equal(offline.code, 0, offline.stderr);
  const line = offline.stdout.split('\n').find((l) => l.includes('ztctl enroll'));
  assert.match(line, new RegExp(`^ {2}ztctl enroll --broker https://BROKER:8443 --ca-pin ${broker.pin} --invite zti_\\S+$`));
  // That invite retired the API's.
  const stale = await request(broker, 'POST', '/v1/enroll',
    { body: { invite: add.body.invite, password: 'a long enough password' } });
  refused(stale, 401, 'invalid_invite');

  // A reset over the API revokes the sessions of an enrolled user.
  const token = await userToken(broker, 'eli', 'viewer');
  const reset = await call('POST', '/v1/users/reset', { name: 'eli' });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.equal(reset.body.sessions_revoked, 1);
  assert.match(reset.body.qr_svg, /^<svg /);
  refused(await request(broker, 'GET', '/v1/whoami', { token }), 401, 'token_revoked');

  const rm = await call('POST', '/v1/users/rm', { name: 'dora' });
  assert.deepEqual(rm.body, { removed: 'dora' });
  assert.doesNotMatch(admin(broker, 'users', 'ls').stdout, /dora/);

  // A bot's rotation over the API revokes its earlier tokens.
  const first = await call('POST', '/v1/bots', { name: 'helper', roles: 'viewer', ttl: '2h' });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const rot = await call('POST', '/v1/bots/token', { name: 'helper', rotate: true });
  assert.equal(rot.body.revoked, 1);
  refused(await request(broker, 'GET', '/v1/whoami', { token: first.body.token }), 401, 'token_revoked');
  assert.equal((await request(broker, 'GET', '/v1/whoami', { token: rot.body.token })).status, 200);
  const botAdd = auditEvents(broker, 'bot.add').at(-1);
  assert.deepEqual(botAdd.details, { bot: 'helper', roles: 'viewer', session: first.body.id });

  const log = admin(broker, 'audit', 'ls', '--json').stdout;
  for (const secret of [add.body.invite, reset.body.invite, first.body.token, rot.body.token]) {
    assert.ok(!log.includes(secret));
    assert.ok(!broker.log.join('').includes(secret));
  }
});
