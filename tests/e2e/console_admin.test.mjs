// The console's Admin view in a real browser (playwright-core driving
// Debian's chromium) against a real broker. An administrator adds a user
// and sees its invite once, with a QR code (an <img> whose SVG data URL
// decodes to an SVG), and the invite enrols through the API; locking that
// user refuses its session at once, unlocking lets it log in again; a bot
// added on the page works with the token shown once, and is refused once
// removed; a join token is added and removed; a role is applied from the
// textarea, and a role with an error on line 3 shows "line 3" and marks
// that line; every tab fits a narrow window. An auditor and a plain user get 403 on the admin listings
// and see no Admin link. No page violates the CSP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import {
  openConsole as openConsoleOn, signIn as signInAs, startRightsBroker,
} from './lib/console.mjs';
import {
  admin, auditEvents, awayFromStepEdge, request, step, stopChecked, totp,
} from './lib/zt.mjs';

const PASSWORD = 'a long console admin test password';
let broker;
let browser;
let users;
let adminPage; // ada's page, kept across the tests
const newbie = {}; // the user ada adds: {invite, secret, token}

const openConsole = () => openConsoleOn(browser, broker, { viewport: { width: 1280, height: 900 } });

async function signIn(name) {
  const s = await openConsole();
  const { page } = s;
  await signInAs(page, name, PASSWORD, totp(users[name], step()));
  await page.locator('#view h1').waitFor();
  return s;
}

// Opens an Admin sub-view through the page's links and waits for its
// table's first listing.
async function openTab(page, tab, table) {
  await page.click('#nav-admin');
  await page.getByRole('heading', { name: 'Admin' }).waitFor();
  await page.click(`#admin-tab-${tab}`);
  await page.waitForSelector(`#admin-body[data-loaded="${tab}"] #${table}`, { state: 'attached' });
}

// Clicks the button label in the row of table whose data-key is value,
// then, when it asks, the confirming button; waits for the status line.
async function rowAction(page, table, key, value, label, done) {
  const row = page.locator(`#${table} tbody tr[data-${key}="${value}"]`);
  await row.getByRole('button', { name: label, exact: true }).click();
  const confirm = row.locator('.confirm');
  if (await confirm.count()) {
    await confirm.getByRole('button', { name: label, exact: true }).click();
  }
  await page.waitForFunction((t) => document.getElementById('admin-status').textContent.includes(t), done);
}

// The state cell of a user's row.
const userState = (page, name) => page.textContent(`#admin-users tr[data-name="${name}"] td[data-label="State"]`);

const whoami = (token) => request(broker, 'GET', '/v1/whoami', { token });

before(async () => {
  ({ broker, users } = await startRightsBroker(PASSWORD));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  adminPage = await signIn('ada');
});

after(async () => {
  await adminPage?.ctx.close();
  await browser?.close();
  await stopChecked(broker);
});

test('an administrator adds a user: the invite and its QR code are shown once, and the invite enrols', async () => {
  const { page } = adminPage;
  await openTab(page, 'users', 'admin-users');
  assert.equal(await userState(page, 'ada'), 'active');
  await page.fill('#user-name', 'newbie');
  await page.fill('#user-roles', 'viewer');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.waitForSelector('#admin-secret');
  newbie.invite = await page.textContent('#admin-invite');
  assert.match(newbie.invite, /^zti_[A-Za-z0-9_-]{43}$/);
  assert.equal(await page.textContent('#admin-invite-command'),
    `ztctl enroll --broker ${broker.url} --ca-pin ${broker.pin} --invite ${newbie.invite}`);
  await page.waitForSelector('#admin-users tr[data-name="newbie"]');
  assert.equal(await userState(page, 'newbie'), 'invited');
  // The copy button puts the command on the clipboard.
  await adminPage.ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: broker.url });
  await page.getByRole('button', { name: 'Copy the enrolment command' }).click();
  await page.waitForFunction(() => document.querySelector('#admin-secret .copyable button').textContent === 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()),
    await page.textContent('#admin-invite-command'));

  // The QR code: an <img> with an SVG data URL, drawn (the CSP allows data: images).
  const src = await page.getAttribute('#admin-qr', 'src');
  const prefix = 'data:image/svg+xml,';
  assert.ok(src.startsWith(prefix), src.slice(0, 40));
  const svg = decodeURIComponent(src.slice(prefix.length));
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d+) \1"/);
  assert.match(svg, /<path stroke="#000" d="M\d+ \d+\.5h\d+/);
  assert.ok(svg.endsWith('</svg>'));
  await page.waitForFunction(() => document.getElementById('admin-qr').complete);
  assert.ok(await page.evaluate(() => document.getElementById('admin-qr').naturalWidth) > 0,
    'the SVG did not load as an image');
  assert.match(await page.getAttribute('#admin-qr', 'alt'), /QR code of newbie/);

  // The invite enrols through the API, and the new user logs in.
  await awayFromStepEdge(12);
  const e1 = await request(broker, 'POST', '/v1/enroll',
    { body: { invite: newbie.invite, password: PASSWORD } });
  assert.equal(e1.status, 200, JSON.stringify(e1.body));
  assert.equal(e1.body.user, 'newbie');
  newbie.secret = e1.body.totp_secret;
  const e2 = await request(broker, 'POST', '/v1/enroll',
    { body: { invite: newbie.invite, otp: totp(newbie.secret, step() - 1) } });
  assert.equal(e2.status, 200, JSON.stringify(e2.body));
  const l = await request(broker, 'POST', '/v1/login',
    { body: { user: 'newbie', password: PASSWORD, otp: totp(newbie.secret, step()) } });
  assert.equal(l.status, 200, JSON.stringify(l.body));
  newbie.token = l.body.token;
  assert.equal((await whoami(newbie.token)).status, 200);

  // Done hides the secret for good.
  await page.getByRole('button', { name: 'Done' }).click();
  assert.equal(await page.locator('#admin-secret').count(), 0);

  // Audited as ada; the invite is in no event and no log line.
  const ev = auditEvents(broker, 'user.add').find((e) => e.details.user === 'newbie');
  assert.equal(ev.actor, 'user:ada');
  assert.equal(ev.details.roles, 'viewer');
  assert.ok(!admin(broker, 'audit', 'ls', '--json').stdout.includes('zti_'));
  assert.ok(!broker.log.join('').includes(newbie.invite));
});

test('lock refuses the user\'s session at once; unlock lets the user log in again', async () => {
  const { page } = adminPage;
  await openTab(page, 'users', 'admin-users');
  assert.equal(await userState(page, 'newbie'), 'active');
  await rowAction(page, 'admin-users', 'name', 'newbie', 'Lock', 'newbie locked');
  assert.equal(await userState(page, 'newbie'), 'locked');
  // The very next request with the session is refused.
  const w = await whoami(newbie.token);
  assert.equal(w.status, 401, JSON.stringify(w.body));
  assert.equal(w.body.error.code, 'token_revoked');
  // Logins too (the code is not looked at).
  const locked = await request(broker, 'POST', '/v1/login',
    { body: { user: 'newbie', password: PASSWORD, otp: '000000' } });
  assert.equal(locked.status, 423);
  assert.equal(locked.body.error.code, 'account_locked');

  await rowAction(page, 'admin-users', 'name', 'newbie', 'Unlock', 'newbie unlocked');
  assert.equal(await userState(page, 'newbie'), 'active');
  const l = await request(broker, 'POST', '/v1/login',
    { body: { user: 'newbie', password: PASSWORD, otp: totp(newbie.secret, step() + 1) } });
  assert.equal(l.status, 200, JSON.stringify(l.body));
  assert.equal((await whoami(l.body.token)).status, 200);
  assert.deepEqual(auditEvents(broker, 'user.lock').map((e) => [e.actor, e.details.user, e.outcome]),
    [['user:ada', 'newbie', 'success']]);
});

test('a user blocked by failed logins is offered Unlock, which lifts the block', async () => {
  const { page } = adminPage;
  for (let i = 0; i < 6; i++) {
    const r = await request(broker, 'POST', '/v1/login',
      { body: { user: 'newbie', password: 'not the password', otp: '000000' } });
    assert.ok(r.status === 401 || r.status === 429, JSON.stringify(r.body));
  }
  await openTab(page, 'users', 'admin-users');
  assert.equal(await userState(page, 'newbie'), 'blocked');
  const row = page.locator('#admin-users tbody tr[data-name="newbie"]');
  assert.equal(await row.getByRole('button', { name: 'Lock', exact: true }).count(), 0);
  await rowAction(page, 'admin-users', 'name', 'newbie', 'Unlock', 'newbie unlocked');
  assert.equal(await userState(page, 'newbie'), 'active');
  // The password is looked at again (a wrong code is the next refusal).
  const l = await request(broker, 'POST', '/v1/login',
    { body: { user: 'newbie', password: PASSWORD, otp: 'x' } });
  assert.equal(l.status, 401, JSON.stringify(l.body));
  assert.equal(l.body.error.code, 'invalid_otp');
});

test('a bot added on the page works with the token shown once; removed, its token is refused', async () => {
  const { page } = adminPage;
  await openTab(page, 'bots', 'admin-bots');
  await page.fill('#bot-name', 'helper');
  await page.fill('#bot-roles', 'viewer');
  await page.fill('#bot-ttl', '2h');
  await page.getByRole('button', { name: 'Add bot' }).click();
  await page.waitForSelector('#admin-secret #admin-bot-token');
  const token = await page.textContent('#admin-bot-token');
  assert.match(token, /^ztb_[A-Za-z0-9_-]{43}$/);
  await page.waitForSelector('#admin-bots tr[data-name="helper"]');
  const w = await whoami(token);
  assert.equal(w.status, 200, JSON.stringify(w.body));
  assert.equal(w.body.kind, 'bot');
  assert.equal(w.body.name, 'helper');
  assert.ok(!admin(broker, 'audit', 'ls', '--json').stdout.includes(token));

  await rowAction(page, 'admin-bots', 'name', 'helper', 'Remove', 'helper removed');
  assert.equal(await page.locator('#admin-bots tr[data-name="helper"]').count(), 0);
  const gone = await whoami(token);
  assert.equal(gone.status, 401, JSON.stringify(gone.body));
  assert.doesNotMatch(admin(broker, 'bots', 'ls').stdout, /helper/);
});

test('a join token is added (its agent command shown once) and removed', async () => {
  const { page } = adminPage;
  await openTab(page, 'tokens', 'admin-tokens');
  await page.fill('#token-ttl', '2h');
  await page.fill('#token-name', 'web9');
  await page.getByRole('button', { name: 'Add join token' }).click();
  await page.waitForSelector('#admin-join-command');
  const cmd = await page.textContent('#admin-join-command');
  assert.match(cmd, new RegExp(`^ztagent --broker HOST:3025 --ca-pin ${broker.pin} --data-dir /var/lib/ztagent --name web9 --token ztj_[A-Za-z0-9_-]{43}$`));
  const { tokens } = (await request(broker, 'GET', '/v1/tokens',
    { token: (await request(broker, 'POST', '/v1/login',
      { body: { user: 'ada', password: PASSWORD, otp: totp(users.ada, step() + 1) } })).body.token })).body;
  assert.equal(tokens.length, 1);
  const { id } = tokens[0];
  await page.waitForSelector(`#admin-tokens tr[data-id="${id}"]`);
  assert.equal(await page.textContent(`#admin-tokens tr[data-id="${id}"] td[data-label="Name"]`), 'web9');

  await rowAction(page, 'admin-tokens', 'id', id, 'Remove', `token ${id} removed`);
  assert.equal(await page.locator(`#admin-tokens tr[data-id="${id}"]`).count(), 0);
  assert.doesNotMatch(admin(broker, 'tokens', 'ls').stdout, new RegExp(id));
});

test('a role is applied from the textarea; an error on line 3 says "line 3" and marks that line', async () => {
  const { page, violations } = adminPage;
  await openTab(page, 'roles', 'admin-roles');
  // View loads a role's YAML, which applies back unchanged.
  await rowAction(page, 'admin-roles', 'name', 'admins', 'View', 'role admins loaded');
  const shown = await page.inputValue('#role-yaml');
  assert.match(shown, /^kind: role\nname: admins\n/);
  assert.match(shown, /\n {2}admin: true\n/);

  await page.fill('#role-yaml', 'kind: role\nname: web-ops\nallow:\n  tools: [list_hosts]\n  logins: [ubuntu]\n');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(() => document.getElementById('admin-status').textContent === 'role web-ops applied');
  await page.waitForSelector('#admin-roles tr[data-name="web-ops"]');
  assert.match(admin(broker, 'roles', 'ls').stdout, /^web-ops\s/m);

  await page.fill('#role-yaml', 'kind: role\nname: broken\nallo:\n  tools: [list_hosts]\n');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForSelector('#role-error:not([hidden])');
  assert.match(await page.textContent('#role-error'), /^line 3: unknown key "allo"/);
  assert.deepEqual(await page.$$eval('#role-gutter span.bad', (s) => s.map((x) => x.textContent)), ['3']);
  // The textarea selects that line.
  assert.equal(await page.evaluate(() => {
    const t = document.getElementById('role-yaml');
    return t.value.slice(t.selectionStart, t.selectionEnd);
  }), 'allo:');
  // Nothing was stored; typing clears the mark.
  assert.doesNotMatch(admin(broker, 'roles', 'ls').stdout, /broken/);
  await page.press('#role-yaml', 'End');
  await page.type('#role-yaml', ' ');
  assert.equal(await page.locator('#role-gutter span.bad').count(), 0);

  // The agents tab lists none here (no agent joined), without an error.
  await openTab(page, 'agents', 'admin-agents');
  assert.equal(await page.locator('#admin-agents tbody tr').count(), 0);
  assert.equal(await page.locator('#view .error').count(), 0);
  // Each tab fits a narrow window.
  await page.setViewportSize({ width: 360, height: 800 });
  for (const [tab, table] of [['users', 'admin-users'], ['bots', 'admin-bots'],
    ['tokens', 'admin-tokens'], ['roles', 'admin-roles']]) {
    await openTab(page, tab, table);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px on ${tab}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  assert.deepEqual(violations, []);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
});

test('an auditor and a plain user get 403 on every admin listing and see no Admin', async () => {
  for (const name of ['aud', 'pat']) {
    const l = await request(broker, 'POST', '/v1/login',
      { body: { user: name, password: PASSWORD, otp: totp(users[name], step()) } });
    assert.equal(l.status, 200, JSON.stringify(l.body));
    for (const p of ['/v1/users', '/v1/bots', '/v1/tokens', '/v1/roles', '/v1/roles/admins']) {
      const r = await request(broker, 'GET', p, { token: l.body.token });
      assert.equal(r.status, 403, `${name} ${p}`);
      assert.equal(r.body.error.code, 'forbidden');
    }
    const add = await request(broker, 'POST', '/v1/users',
      { token: l.body.token, body: { name: 'sneaky', roles: 'admins' } });
    assert.equal(add.status, 403);
  }
  assert.doesNotMatch(admin(broker, 'users', 'ls').stdout, /sneaky/);
  const denied = auditEvents(broker, 'user.ls').filter((e) => e.outcome === 'denied');
  assert.deepEqual(denied.map((e) => e.actor).sort(), ['user:aud', 'user:pat']);

  // The page: no Admin link, and #/admin shows another view.
  const s = await openConsole();
  try {
    const { page } = s;
    await signInAs(page, 'pat', PASSWORD, totp(users.pat, step() + 1));
    await page.locator('#view h1').waitFor();
    assert.equal(await page.isHidden('#nav-admin'), true);
    await page.goto(`${broker.url}/#/admin/users`);
    await page.locator('#view h1').waitFor();
    assert.notEqual(await page.textContent('#view h1'), 'Admin');
    assert.equal(await page.locator('#admin-users').count(), 0);
    assert.deepEqual(s.violations, []);
  } finally {
    await s.ctx.close();
  }
});
