// Administration over the API and through ztctl (issue 4). A user holding
// a role with options: {admin: true}, logged in through the real ztctl,
// mints a join token that a real agent joins with, lists and removes
// tokens, applies, lists and removes roles, and tests policy, seeing what
// `ztbroker admin` shows. A user without that role and a bot that holds
// it get a clear 403, and every call, refused or not, is audited. Bad input
// is a 400 naming the problem (a role's line) and changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, awayFromStepEdge, botToken, request, sshHostKey, startAgent, startBroker, step,
  stopChecked, tmpdir, totp, userToken, ztctl, ztctlEnroll,
} from './lib/zt.mjs';

const PASSWORD = 'the administrator password';
let broker;
let hostKey;
let adminHome;
let adminToken;
const agents = [];

function events(type) {
  const out = admin(broker, 'audit', 'ls', '--json').stdout;
  return out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => !type || e.type === type);
}

// A ztctl home whose profile holds token (a session or a bot token).
function homeWith(user, token) {
  const home = tmpdir('zt-home-');
  fs.chmodSync(home, 0o700);
  fs.writeFileSync(path.join(home, 'profile.json'), JSON.stringify({
    broker: broker.url, ca_pin: broker.pin, user, token,
    expires_at: Math.floor(Date.now() / 1000) + 3600,
  }), { mode: 0o600 });
  return home;
}

const zt = (args, home = adminHome) => ztctl(args, { home });

function writeRole(text) {
  const f = path.join(tmpdir('zt-role-'), 'role.yaml');
  fs.writeFileSync(f, text);
  return f;
}

// The variable parts of `tokens add` output (token, id, expiry) as names.
const normalize = (out) => out.replace(/ztj_[A-Za-z0-9_-]+/g, 'TOKEN')
  .replace(/^id: [0-9a-f]{12}$/m, 'id: ID').replace(/^expires: \S+$/m, 'expires: TIME');

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  hostKey = sshHostKey();
  // Bootstrap offline, as an operator would: the admin role and one
  // administrator, who enrols and logs in through ztctl.
  let r = admin(broker, 'roles', 'apply', '-f', 'examples/roles/admin.yaml');
  assert.equal(r.code, 0, r.stderr);
  r = admin(broker, 'users', 'add', 'ada', '--roles', 'admin');
  assert.equal(r.code, 0, r.stderr);
  const invite = r.stdout.match(/^invite: (zti_\S+)$/m)[1];
  adminHome = tmpdir('zt-home-ada-');
  await awayFromStepEdge();
  const e = await ztctlEnroll(broker, invite, PASSWORD,
    { home: adminHome, codeFor: (s) => totp(s, step() - 1) });
  assert.equal(e.code, 0, e.stderr);
  const l = await ztctl(['login', '--broker', broker.url, '--ca-pin', broker.pin, '--user', 'ada',
    '--password-stdin', '--otp', totp(e.secret, step())], { home: adminHome, input: `${PASSWORD}\n` });
  assert.equal(l.code, 0, l.stderr);
  adminToken = JSON.parse(fs.readFileSync(path.join(adminHome, 'profile.json'))).token;
  r = admin(broker, 'roles', 'apply', '-f', 'examples/roles/ai-ops-readonly.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(admin(broker, 'bots', 'add', 'ops-ai', '--roles', 'ai-ops-readonly').code, 0);
});

after(async () => {
  for (const a of agents) await a.stop();
  await stopChecked(broker);
});

describe('join tokens', () => {
  test('tokens add prints what the admin verb prints, and the token joins an agent', async () => {
    const r = await zt(['tokens', 'add', '--ttl', '2h', '--uses', '2']);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.match(/^token: (ztj_[A-Za-z0-9_-]{43})$/m)[1];
    const local = admin(broker, 'tokens', 'add', '--ttl', '2h', '--uses', '2');
    assert.equal(local.code, 0, local.stderr);
    assert.equal(normalize(r.stdout), normalize(local.stdout));
    assert.match(r.stdout, new RegExp(`^CA pin: ${broker.pin}$`, 'm'));
    assert.match(r.stdout, /^uses: 2$/m);
    const line = `  ztagent --broker HOST:3025 --ca-pin ${broker.pin} --data-dir /var/lib/ztagent `
      + `--name NAME --token ${token}`;
    assert.ok(r.stdout.split('\n').includes(line), r.stdout);
    const exp = Date.parse(r.stdout.match(/^expires: (\S+)$/m)[1]);
    const ttl = (exp - Date.now()) / 1000;
    assert.ok(ttl > 7190 && ttl <= 7205, `ttl ${ttl}`);

    // The token is good for a real agent.
    const a = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1',
      { token, hostKey, labels: 'env=staging,team=web' });
    assert.ok(a.joined, a.out?.stderr);
    agents.push(a);

    // Audited as ada from her address, with the id and never the token;
    // the broker's log does not hold it either.
    const id = r.stdout.match(/^id: ([0-9a-f]{12})$/m)[1];
    const ev = events('token.add').find((e) => e.details.token === id);
    assert.ok(ev, 'no token.add event');
    assert.equal(ev.actor, 'user:ada');
    assert.equal(ev.source, '127.0.0.1');
    assert.equal(ev.outcome, 'success');
    assert.equal(ev.details.uses, 2);
    assert.ok(!admin(broker, 'audit', 'ls', '--json').stdout.includes('ztj_'));
    assert.ok(!broker.log.join('').includes(token));
    const joined = events('agent.join').filter((e) => e.outcome === 'success');
    assert.ok(joined.some((e) => e.actor === 'agent:web1' && e.details.token === id), JSON.stringify(joined));
  });

  test('tokens ls lists them with their creator; tokens rm removes one', async () => {
    const add = await zt(['tokens', 'add']);
    assert.equal(add.code, 0, add.stderr);
    const id = add.stdout.match(/^id: ([0-9a-f]{12})$/m)[1];
    const ls = await zt(['tokens', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^ID\s+EXPIRES\s+USES\s+STATE\s+CREATOR\s+NAME\s+LABELS$/m);
    assert.doesNotMatch(ls.stdout, /ztj_/);
    const row = ls.stdout.split('\n').find((l) => l.startsWith(id));
    assert.match(row, /^[0-9a-f]{12}\s+\d{4}-\d\d-\d\dT\S+Z\s+1\s+valid\s+user:ada\s+-\s+-$/);
    // The listing matches the admin verb's, row for row.
    assert.equal(ls.stdout, admin(broker, 'tokens', 'ls').stdout);

    const rm = await zt(['tokens', 'rm', id]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, `token ${id} removed\n`);
    assert.ok(!(await zt(['tokens', 'ls'])).stdout.includes(id));
    const again = await zt(['tokens', 'rm', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^ztctl: cannot remove token [0-9a-f]{12}: not found$/m);
    const bad = await zt(['tokens', 'rm', 'ZZZZ']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /a token ID is 12 to 64 lower-case hex digits/);
    const ev = events('token.rm').find((e) => e.details.token === id);
    assert.equal(ev.actor, 'user:ada');
    assert.equal(events('token.rm').filter((e) => e.outcome === 'failure').length, 2);
  });

  test('usage errors stay local', async () => {
    for (const args of [['tokens'], ['tokens', 'frob'], ['tokens', 'ls', '--ttl', '1h'],
      ['tokens', 'add', '--uses', 'two'], ['roles', 'apply'], ['policy', 'test', '--tool', 'x']]) {
      const r = await zt(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage: ztctl/);
    }
  });
});

describe('roles', () => {
  test('apply, ls and rm', async () => {
    const f = writeRole('kind: role\nname: web-ro\nallow:\n  hosts: {team: web}\n  tools: [list_hosts]\n');
    const r = await zt(['roles', 'apply', '-f', f]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'role web-ro applied\n');
    const ls = await zt(['roles', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^NAME\s+UPDATED$/m);
    assert.match(ls.stdout, /^web-ro\s+\d{4}-\d\d-\d\dT\S+Z$/m);
    assert.equal(ls.stdout, admin(broker, 'roles', 'ls').stdout);
    const rm = await zt(['roles', 'rm', 'web-ro']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'role web-ro removed\n');
    assert.doesNotMatch((await zt(['roles', 'ls'])).stdout, /web-ro/);
    const again = await zt(['roles', 'rm', 'web-ro']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /cannot remove role web-ro: not found/);
    for (const type of ['role.apply', 'role.rm']) {
      const ev = events(type).find((e) => e.details.role === 'web-ro');
      assert.ok(ev, type);
      assert.equal(ev.actor, 'user:ada');
      assert.equal(ev.source, '127.0.0.1');
    }
  });

  test('a malformed role is a 400 naming its line, and changes nothing', async () => {
    const good = writeRole('kind: role\nname: keep\nallow: {tools: [list_hosts]}\n');
    assert.equal((await zt(['roles', 'apply', '-f', good])).code, 0);
    const before = await request(broker, 'GET', '/v1/roles', { token: adminToken });
    assert.equal(before.status, 200, JSON.stringify(before.body));

    // Through ztctl: the message names the file and the line.
    const f = writeRole('kind: role\nname: keep\nallow:\n  tool: [ssh_exec]\n');
    const r = await zt(['roles', 'apply', '-f', f]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `ztctl: ${f}:4: unknown key "tool" in allow (expected hosts, logins, tools, commands, paths)\n`);
    // Over the API: 400 invalid_role, and YAML syntax errors name the line too.
    const api = await request(broker, 'POST', '/v1/roles', { token: adminToken,
      body: { yaml: 'kind: role\nname: keep\nallow: {tools: [a, b\n' } });
    assert.equal(api.status, 400);
    assert.equal(api.body.error.code, 'invalid_role');
    assert.match(api.body.error.message, /^role\.yaml:\d+: YAML syntax error/);
    const opt = await request(broker, 'POST', '/v1/roles', { token: adminToken,
      body: { yaml: 'kind: role\nname: keep\noptions:\n  admin: "yes"\n', file: 'k.yaml' } });
    assert.equal(opt.status, 400);
    assert.match(opt.body.error.message, /^k\.yaml:4: options\.admin must be true or false/);

    const after = await request(broker, 'GET', '/v1/roles', { token: adminToken });
    assert.deepEqual(after.body, before.body);
    const p = admin(broker, 'policy', 'test', '--user', 'ada', '--tool', 'list_hosts');
    assert.equal(p.code, 0, p.stdout);
    const fails = events('role.apply').filter((e) => e.outcome === 'failure');
    assert.ok(fails.some((e) => /role\.yaml:\d+: YAML syntax error/.test(e.details.reason)));
  });
});

describe('policy test', () => {
  test('allow and deny with the rule, as the admin verb says them', async () => {
    const args = ['--bot', 'ops-ai', '--tool', 'ssh_exec', '--host', 'web1', '--labels',
      'env=staging,team=web', '--login', 'ubuntu'];
    const allow = await zt(['policy', 'test', ...args]);
    assert.equal(allow.code, 0, allow.stderr);
    assert.equal(allow.stdout, 'ALLOW\nallow: role ai-ops-readonly allows tool ssh_exec on host web1 '
      + '(env=staging, team=web) as ubuntu\nrequires: nothing\n');
    assert.equal(allow.stdout, admin(broker, 'policy', 'test', ...args).stdout);

    const denyArgs = ['--bot', 'ops-ai', '--tool', 'file_write', '--host', 'web1', '--labels',
      'env=staging,team=web', '--login', 'ubuntu'];
    const deny = await zt(['policy', 'test', ...denyArgs]);
    assert.equal(deny.code, 1);
    assert.match(deny.stdout, /^DENY\ndeny: role ai-ops-readonly denies tool file_write on host web1/);
    assert.equal(deny.stdout, admin(broker, 'policy', 'test', ...denyArgs).stdout);

    const root = await zt(['policy', 'test', '--user', 'ada', '--tool', 'ssh_exec', '--host', 'db1',
      '--labels', 'env=prod', '--login', 'root']);
    assert.equal(root.code, 1);
    assert.match(root.stdout, /^DENY\ndeny: role admin denies tool ssh_exec on host db1 \(env=prod\) as root$/m);
    // The deny of root holds whatever the case of the login.
    for (const login of ['ROOT', 'Root']) {
      const p = admin(broker, 'policy', 'test', '--user', 'ada', '--tool', 'ssh_exec', '--host', 'db1',
        '--labels', 'env=prod', '--login', login);
      assert.equal(p.code, 1, p.stdout);
      assert.equal(p.stdout, `DENY\ndeny: role admin denies tool ssh_exec on host db1 (env=prod) as ${login}\n`);
    }

    const ev = events('policy.test').filter((e) => e.actor === 'user:ada');
    assert.ok(ev.some((e) => e.details.bot === 'ops-ai' && e.details.allow === true));
    assert.ok(ev.some((e) => e.details.tool === 'file_write' && e.details.allow === false));
  });

  test('--path decides a file tool on a path; a path that is not normal is refused', async () => {
    assert.equal(admin(broker, 'roles', 'apply', '-f', 'examples/roles/file-ops.yaml').code, 0);
    assert.equal(admin(broker, 'bots', 'add', 'files-ai', '--roles', 'file-ops').code, 0);
    const on = (tool) => ['--bot', 'files-ai', '--tool', tool, '--host', 'web1', '--labels',
      'env=staging,team=web', '--login', 'ubuntu'];
    const ok = await zt(['policy', 'test', ...on('file_read'), '--path', '/var/log/syslog']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ALLOW\nallow: role file-ops allows tool file_read/);
    assert.equal(ok.stdout, admin(broker, 'policy', 'test', ...on('file_read'), '--path',
      '/var/log/syslog').stdout);
    const outside = await zt(['policy', 'test', ...on('file_read'), '--path', '/etc/shadow']);
    assert.equal(outside.code, 1, outside.stdout);
    assert.match(outside.stdout, /^DENY\n/);
    const key = await zt(['policy', 'test', ...on('file_write'), '--path',
      '/srv/app/config/tls/site.key']);
    assert.equal(key.code, 1, key.stdout);
    assert.match(key.stdout, /^DENY\ndeny: role file-ops denies tool file_write/);
    for (const bad of ['/var/log/../../etc/shadow', 'var/log/x', '/var//log/x']) {
      const r = await zt(['policy', 'test', ...on('file_read'), '--path', bad]);
      assert.notEqual(r.code, 0, bad);
      assert.match(r.stderr, /path must be absolute and normal/, bad);
      assert.match(admin(broker, 'policy', 'test', ...on('file_read'), '--path', bad).stderr,
        /path must be absolute and normal/);
    }
    const ev = events('policy.test').filter((e) => e.details.bot === 'files-ai');
    assert.ok(ev.some((e) => e.details.path === '/etc/shadow' && e.details.allow === false));
  });

  test('without --labels, a known host is tested with the labels its agent advertised', async () => {
    const args = ['--bot', 'ops-ai', '--tool', 'ssh_exec', '--host', 'web1', '--login', 'ubuntu'];
    const r = await zt(['policy', 'test', ...args]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ALLOW\nallow: .* on host web1 \(env=staging, team=web\) as ubuntu$/m);
    // The admin verb reads the same labels from the store.
    assert.equal(admin(broker, 'policy', 'test', ...args).stdout, r.stdout);
  });

  test('an unknown identity or bad labels are refused', async () => {
    const r = await zt(['policy', 'test', '--user', 'nobody', '--tool', 'x']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'ztctl: no user nobody\n');
    const l = await zt(['policy', 'test', '--user', 'ada', '--tool', 'x', '--labels', 'novalue']);
    assert.equal(l.code, 1);
    assert.match(l.stderr, /labels take k=v,k2=v2/);
  });
});

describe('who may administer', () => {
  test('a user without an admin role gets 403, audited', async () => {
    const home = homeWith('bob', await userToken(broker, 'bob', 'ai-ops-readonly'));
    const before = admin(broker, 'tokens', 'ls').stdout;
    for (const args of [['tokens', 'add'], ['tokens', 'ls'], ['roles', 'ls'],
      ['roles', 'apply', '-f', 'examples/roles/admin.yaml'], ['roles', 'rm', 'admin'],
      ['policy', 'test', '--user', 'bob', '--tool', 'x']]) {
      const r = await zt(args, home);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, 'ztctl: user bob is not an administrator: that takes a role with '
        + 'options: {admin: true}\n');
      assert.equal(r.stdout, '');
    }
    assert.equal(admin(broker, 'tokens', 'ls').stdout, before);
    assert.match(admin(broker, 'roles', 'ls').stdout, /^admin\s/m);
    const denied = events().filter((e) => e.actor === 'user:bob' && e.outcome === 'denied');
    assert.deepEqual(denied.map((e) => e.type),
      ['token.add', 'token.ls', 'role.ls', 'role.apply', 'role.rm', 'policy.test']);
    assert.match(denied[0].details.reason, /not an administrator/);
    assert.equal(denied[0].source, '127.0.0.1');
  });

  test('a bot gets 403 even when its role says admin: true', async () => {
    const token = botToken(broker, 'rogue-ai', { roles: 'admin' });
    const r = await zt(['tokens', 'add', '--uses', '5'], homeWith('rogue-ai', token));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ztctl: bot rogue-ai may not administer the broker: bots never mint join tokens/);
    assert.doesNotMatch(r.stdout, /ztj_/);
    for (const [method, p, body] of [['POST', '/v1/tokens', {}], ['GET', '/v1/tokens'],
      ['POST', '/v1/roles', { yaml: 'kind: role\nname: x\n' }], ['POST', '/v1/roles/rm', { name: 'admin' }],
      ['POST', '/v1/policy/test', { bot: 'rogue-ai', tool: 'x' }]]) {
      const res = await request(broker, method, p, { token, body });
      assert.equal(res.status, 403, `${method} ${p}`);
      assert.equal(res.body.error.code, 'forbidden');
    }
    // Refused before the body is read: even a malformed one gets 403.
    const raw = await request(broker, 'POST', '/v1/tokens', { token, raw: '{not json' });
    assert.equal(raw.status, 403);
    assert.ok(!admin(broker, 'tokens', 'ls').stdout.includes('bot:rogue-ai'));
    const denied = events().filter((e) => e.actor === 'bot:rogue-ai' && e.outcome === 'denied');
    assert.equal(denied.length, 7);
    assert.match(denied[0].details.reason, /bots never mint join tokens/);
  });

  test('no token is 401, as on every authenticated endpoint', async () => {
    const r = await request(broker, 'POST', '/v1/tokens', { body: {} });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'missing_token');
  });
});

describe('bad input', () => {
  const cases = [
    ['POST', '/v1/tokens', { ttl: 30 }, /field "ttl" must be a string/],
    ['POST', '/v1/tokens', { ttl: '30s' }, /field "ttl" must be a duration from 1m to 24h/],
    ['POST', '/v1/tokens', { ttl: '25h' }, /field "ttl" must be a duration/],
    ['POST', '/v1/tokens', { uses: 0 }, /field "uses" must be an integer from 1 to 100/],
    ['POST', '/v1/tokens', { uses: 1.5 }, /field "uses" must be an integer/],
    ['POST', '/v1/tokens', { uses: '2' }, /field "uses" must be an integer/],
    ['POST', '/v1/tokens', { ttl: '1h', colour: 'red' }, /unknown field "colour" \(expected ttl, uses, name, labels\)/],
    ['POST', '/v1/tokens', { name: 'Web 1' }, /an agent's name is 1 to 64 of/],
    ['POST', '/v1/tokens', { labels: 'env' }, /labels take k=v,k2=v2/],
    ['POST', '/v1/tokens', { labels: 'env=a,env=b' }, /a key appears twice/],
    ['POST', '/v1/agents/approve', {}, /field "name" is required/],
    ['POST', '/v1/tokens/rm', {}, /field "id" is required/],
    ['POST', '/v1/tokens/rm', { id: 'abc' }, /a token ID is 12 to 64 lower-case hex digits/],
    ['POST', '/v1/tokens/rm', { id: 'a'.repeat(65) }, /field "id" is longer than 64 bytes/],
    ['POST', '/v1/roles', {}, /field "yaml" is required/],
    ['POST', '/v1/roles', { yaml: ['kind: role'] }, /field "yaml" must be a string/],
    ['POST', '/v1/roles', { yaml: 'kind: role\nname: x\n', file: 'f'.repeat(256) }, /field "file" is longer than 255 bytes/],
    ['POST', '/v1/roles', { yaml: 'kind: role\nname: x\n', file: 'a\u001bb' }, /field "file" must be printable ASCII/],
    ['POST', '/v1/roles/rm', { name: 5 }, /field "name" must be a string/],
    ['POST', '/v1/policy/test', { tool: 'x' }, /needs a tool and either a user or a bot/],
    ['POST', '/v1/policy/test', { user: 'ada', bot: 'ops-ai', tool: 'x' }, /either a user or a bot/],
    ['POST', '/v1/policy/test', { user: 'ada' }, /field "tool" is required/],
    ['POST', '/v1/policy/test', { user: 'ada', tool: 'x', labels: 'a=b,c' }, /labels take k=v,k2=v2/],
  ];
  for (const [method, p, body, msg] of cases) {
    test(`${method} ${p} ${JSON.stringify(body).slice(0, 60)} is a 400`, async () => {
      const before = admin(broker, 'tokens', 'ls').stdout;
      const r = await request(broker, method, p, { token: adminToken, body });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'invalid_request');
      assert.match(r.body.error.message, msg);
      assert.equal(admin(broker, 'tokens', 'ls').stdout, before);
    });
  }

  test('a body that is not a JSON object, or too large, is refused', async () => {
    let r = await request(broker, 'POST', '/v1/tokens', { token: adminToken, raw: '[1]' });
    assert.equal(r.status, 400);
    r = await request(broker, 'POST', '/v1/tokens', { token: adminToken, raw: '{}', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.status, 415);
    r = await request(broker, 'POST', '/v1/roles', { token: adminToken, body: { yaml: `# ${'x'.repeat(70000)}\n` } });
    assert.equal(r.status, 413);
    r = await request(broker, 'DELETE', '/v1/tokens', { token: adminToken });
    assert.equal(r.status, 405);
  });

  test('the audit chain verifies after all of it', () => {
    const v = admin(broker, 'audit', 'verify');
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});
