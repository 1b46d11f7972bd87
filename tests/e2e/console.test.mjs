// The web console's foundation in a real browser (playwright-core driving
// Debian's chromium) against a real broker: the page at / and its files
// carry the console's security headers and no inline script or style, load
// with no CSP violation, sign in with user, password and a computed TOTP
// code (and show the API's message for a wrong code, a replayed code and a
// locked account), list the hosts through the cookie + CSRF path, and log
// out so that the old cookie is refused. Node's https (trusting only the
// broker's CA) checks the cookie's rule: no CSRF header or a foreign Origin
// is 403; a bearer header is read instead of the cookie whenever it is sent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  openConsole as openConsoleOn, sessionHeaders, signIn as signInAs,
} from './lib/console.mjs';
import {
  admin, applyRole, auditEvents, botToken, enrolUser, joinToken, request, sshHostKey,
  startAgent, startBroker, step, stopChecked, tmpdir, totp, until, wsHandshake,
} from './lib/zt.mjs';

const PASSWORD = 'a long console test password';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  + "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
  + "base-uri 'none'";
// The page's own: the same with a style nonce fresh for each answer, which
// the page carries only on its stylesheet link (web/js/csp.js).
const PAGE_CSP = /^default-src 'none'; script-src 'self'; style-src 'self' 'nonce-([A-Za-z0-9_-]{22})'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/;

// The nonce of a page answer, checked against the CSP and the page.
function pageNonce(csp, html) {
  const m = PAGE_CSP.exec(csp);
  assert.ok(m, csp);
  if (html !== undefined) {
    assert.equal([...html.matchAll(/nonce="([^"]*)"/g)].map((x) => x[1]).join(), m[1]);
  }
  return m[1];
}
const COOKIE = '__Host-zt_web';
let broker;
let browser;
let agent;

// A user enrolled through the API, the current step free: {name, secret}.
async function account(name, roles = 'viewer') {
  return { name, secret: await enrolUser(broker, name, roles, PASSWORD) };
}

const openConsole = () => openConsoleOn(browser, broker);

const signIn = (page, name, code) => signInAs(page, name, PASSWORD, code);

// The web session cookie as a Cookie header value.
function cookieOf(res) {
  const sc = [].concat(res.headers['set-cookie'] || []).find((c) => c.startsWith(`${COOKIE}=`));
  assert.ok(sc, `no ${COOKIE} in ${JSON.stringify(res.headers['set-cookie'])}`);
  return { header: sc.split(';')[0], set: sc };
}

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  tools: [list_hosts]\n');
  agent = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
    token: joinToken(broker), hostKey: sshHostKey(), labels: 'env=staging', ssh: '127.0.0.1:1' });
  assert.ok(agent.joined, agent.out?.stderr);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await agent?.stop?.();
  await stopChecked(broker);
});

test('/ and its files: the console headers, no inline script or style', async () => {
  const index = await request(broker, 'GET', '/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  const html = index.body;
  const scripts = [...html.matchAll(/<script\b[^>]*>/gi)];
  assert.ok(scripts.length > 0);
  for (const [tag] of scripts) assert.match(tag, /\ssrc="\/assets\//, `inline script: ${tag}`);
  assert.doesNotMatch(html, /<script\b[^>]*>[^<]+<\/script>/i);
  assert.doesNotMatch(html, /<style\b/i);
  assert.doesNotMatch(html, /\sstyle\s*=/i);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
  assert.doesNotMatch(html, /javascript:/i);
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(assets.sort(), ['/assets/console.css', '/assets/js/app.js',
    '/assets/vendor/xterm.css']);
  const types = { '/': 'text/html; charset=utf-8', '/assets/console.css': 'text/css; charset=utf-8',
    '/assets/js/app.js': 'text/javascript; charset=utf-8',
    '/assets/js/api.js': 'text/javascript; charset=utf-8' };
  const nonces = new Set();
  for (const [p, type] of Object.entries(types)) {
    const r = await request(broker, 'GET', p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers['content-type'], type, p);
    if (p === '/') {
      nonces.add(pageNonce(r.headers['content-security-policy'], r.body));
      nonces.add(pageNonce((await request(broker, 'GET', p)).headers['content-security-policy']));
      assert.equal(nonces.size, 2, 'a fresh nonce per answer');
    } else {
      assert.equal(r.headers['content-security-policy'], CSP, p);
    }
    assert.equal(r.headers['x-frame-options'], 'DENY', p);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', p);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    assert.equal(r.headers['cache-control'], 'no-store', p);
  }
  // Only the embedded files: no path is built from the URL.
  for (const p of ['/assets/nope.js', '/assets/../Makefile', '/assets/index.html', '/assets/']) {
    const r = await request(broker, 'GET', p);
    assert.equal(r.status, 404, p);
    assert.equal(r.headers['content-security-policy'], CSP, p);
  }
  assert.equal((await request(broker, 'POST', '/', { body: {} })).status, 405);
});

test('the page signs in with a fresh code, lists the hosts, logs out; the old cookie is refused', async () => {
  const u = await account('carol');
  const { ctx, page, resp, violations } = await openConsole();
  try {
    pageNonce(resp.headers()['content-security-policy']);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The first field has the focus, and the fields follow in order.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'login-user');
    await signIn(page, u.name, totp(u.secret, step()));
    await page.getByRole('heading', { name: 'Hosts' }).waitFor();
    const row = page.locator('#hosts tbody tr', { hasText: 'web1' });
    await row.waitFor();
    assert.match(await row.textContent(), /env=staging/);
    assert.match(await row.textContent(), /online/);
    assert.match(await page.locator('#who').textContent(), /carol.*viewer/s);

    const session = (await ctx.cookies()).find((c) => c.name === COOKIE);
    assert.deepEqual([session.httpOnly, session.secure, session.sameSite, session.path],
      [true, true, 'Strict', '/']);
    assert.equal(await page.evaluate(() => document.cookie), '', 'the cookie is not readable by script');
    // A reload keeps the session.
    await page.reload();
    await page.getByRole('heading', { name: 'Hosts' }).waitFor();
    const cookie = `${COOKIE}=${session.value}`;
    assert.equal((await request(broker, 'GET', '/v1/web/session', { headers: { Cookie: cookie } })).status, 200);

    // At 1280x800 and at a narrow width the shell stays within the viewport.
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: 800 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px at ${width}`);
    }

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const after = await request(broker, 'GET', '/v1/web/session', { headers: { Cookie: cookie } });
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'token_revoked');
    assert.equal(auditEvents(broker, 'session.logout').at(-1).actor, 'user:carol');
    assert.equal(auditEvents(broker, 'user.login').at(-1).actor, 'user:carol');

    assert.deepEqual(violations, []);
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  } finally {
    await ctx.close();
  }
});

test('the form shows the API\'s message for a wrong code, a replayed code, a locked account', async () => {
  const dan = await account('dan');
  const eve = await account('eve');
  const fay = await account('fay');
  const { ctx, page } = await openConsole();
  const alert = page.locator('#login-error');
  try {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(page, dan.name, totp(dan.secret, step() + 20));
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'invalid_otp');
    assert.match(await alert.textContent(), /Wrong one-time code.*wrong one-time code/s);
    // The failed code field is emptied and focused for the next try.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'login-otp');

    const code = totp(eve.secret, step());
    const l = await request(broker, 'POST', '/v1/login',
      { body: { user: eve.name, password: PASSWORD, otp: code } });
    assert.equal(l.status, 200, JSON.stringify(l.body));
    await signIn(page, eve.name, code);
    await page.waitForFunction(() => document.getElementById('login-error').dataset.code === 'otp_replayed');
    assert.match(await alert.textContent(), /already used/);

    assert.equal(admin(broker, 'users', 'lock', fay.name).code, 0);
    await signIn(page, fay.name, totp(fay.secret, step()));
    await page.waitForFunction(() => document.getElementById('login-error').dataset.code === 'account_locked');
    assert.match(await alert.textContent(), /locked by an administrator/);
    assert.equal(await page.locator('#hosts').count(), 0);
  } finally {
    await ctx.close();
  }
});

test('the API takes the cookie only with its CSRF header and from the broker\'s origin', async () => {
  const u = await account('gus');
  const login = await request(broker, 'POST', '/v1/web/login',
    { body: { user: u.name, password: PASSWORD, otp: totp(u.secret, step()) } });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const { header: cookie, set } = cookieOf(login);
  assert.match(set, /; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  assert.equal(login.body.user, 'gus');
  assert.deepEqual(login.body.roles, ['viewer']);
  assert.match(login.body.csrf, /^[0-9a-f]{64}$/);
  assert.equal(login.body.token, undefined, 'the token is only in the cookie');
  assert.ok(!JSON.stringify(login.body).includes(cookie.split('=')[1]));
  // Idle for 30 minutes at most.
  assert.equal(login.body.idle_timeout_s, 1800);
  assert.ok(login.body.expires_at <= Date.now() / 1000 + 1800 + 2);
  const csrf = login.body.csrf;

  const s = await request(broker, 'GET', '/v1/web/session', { headers: { Cookie: cookie } });
  assert.equal(s.status, 200);
  assert.equal(s.body.csrf, csrf);

  const hosts = await request(broker, 'GET', '/v1/hosts', { headers: { Cookie: cookie, 'X-ZT-CSRF': csrf } });
  assert.equal(hosts.status, 200);
  assert.equal(hosts.body.hosts[0].name, 'web1');
  // The broker's own origin is fine.
  assert.equal((await request(broker, 'GET', '/v1/hosts',
    { headers: { Cookie: cookie, 'X-ZT-CSRF': csrf, Origin: broker.url } })).status, 200);

  const refused = [
    [{}, 'csrf_required'],
    [{ 'X-ZT-CSRF': '0'.repeat(64) }, 'csrf_mismatch'],
    [{ 'X-ZT-CSRF': csrf, Origin: 'https://evil.example' }, 'forbidden_origin'],
    [{ 'X-ZT-CSRF': csrf, Origin: `${broker.url.replace('https:', 'http:')}` }, 'forbidden_origin'],
  ];
  for (const [h, code] of refused) {
    const r = await request(broker, 'POST', '/v1/web/logout', { headers: { Cookie: cookie, ...h } });
    assert.equal(r.status, 403, JSON.stringify(h));
    assert.equal(r.body.error.code, code);
  }
  assert.equal((await request(broker, 'GET', '/v1/hosts', { headers: { Cookie: cookie } })).status, 403);

  // The terminal's WebSocket: the cookie with the broker's Origin and the
  // CSRF token as a subprotocol; the answer selects "zt".
  const own = { Cookie: cookie, Origin: broker.url };
  const ws = [
    [{ ...own, 'Sec-WebSocket-Protocol': `zt, zt-csrf.${csrf}` }, 101],
    [{ ...own, 'Sec-WebSocket-Protocol': 'zt' }, 403, 'csrf_required'],
    [{ ...own, 'Sec-WebSocket-Protocol': `zt, zt-csrf.${'0'.repeat(64)}` }, 403, 'csrf_mismatch'],
    [{ Cookie: cookie, 'Sec-WebSocket-Protocol': `zt, zt-csrf.${csrf}` }, 403, 'forbidden_origin'],
    [{ ...own, Origin: 'https://evil.example', 'Sec-WebSocket-Protocol': `zt, zt-csrf.${csrf}` },
      403, 'forbidden_origin'],
  ];
  for (const [h, status, code] of ws) {
    const r = await wsHandshake(broker, '/ws/ssh', h);
    assert.equal(r.status, status, JSON.stringify(h));
    if (code) assert.equal(r.body.error.code, code, JSON.stringify(h));
    else assert.equal(r.protocol, 'zt');
  }
  // The missing Origin is a refusal of the cookie's rule, on record as such.
  assert.ok(auditEvents(broker, 'auth.web').some((e) => e.details.reason === 'forbidden_origin'
    && e.outcome === 'failure'));
  // With Authorization the cookie is never read.
  const bearer = await request(broker, 'GET', '/v1/hosts',
    { headers: { Cookie: cookie, 'X-ZT-CSRF': csrf, Authorization: 'Bearer zts_nope' } });
  assert.equal(bearer.status, 401);
  // Still alive after all the refusals; the right header, no Origin: done.
  const out = await request(broker, 'POST', '/v1/web/logout', { headers: { Cookie: cookie, 'X-ZT-CSRF': csrf } });
  assert.equal(out.status, 200, JSON.stringify(out.body));
  assert.match(cookieOf(out).set, /^__Host-zt_web=; Max-Age=0;/);
  const gone = await request(broker, 'GET', '/v1/hosts', { headers: { Cookie: cookie, 'X-ZT-CSRF': csrf } });
  assert.equal(gone.status, 401);
  assert.ok(auditEvents(broker, 'auth.web').some((e) => e.actor === 'user:gus'
    && e.details.reason === 'csrf_required'));
});

test('a session that ends elsewhere takes the page back to the sign-in form', async () => {
  const u = await account('hal');
  const { ctx, page, violations } = await openConsole();
  try {
    await signIn(page, u.name, totp(u.secret, step()));
    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    // Logged out from another tab (the same cookie, its own request): the
    // view's own polling hears it, with no click.
    const h = await sessionHeaders(broker, ctx);
    assert.equal((await request(broker, 'POST', '/v1/web/logout', { headers: h })).status, 200);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15000 });
    assert.equal(await page.locator('#nav').isHidden(), true);
    assert.equal(await page.locator('#view').isHidden(), true);
    assert.deepEqual(violations, []);
  } finally {
    await ctx.close();
  }
});

test('one identity holds at most 64 WebSockets; a bot holding an auditor role opens no terminal', async () => {
  applyRole(broker, 'kind: role\nname: auditor\noptions:\n  auditor: true\n');
  applyRole(broker, 'kind: role\nname: admins\noptions:\n  admin: true\n');
  const bearer = (t) => ({ Authorization: `Bearer ${t}` });
  const tailer = botToken(broker, 'tailer', { roles: 'viewer' });
  const held = [];
  try {
    for (let i = 0; i < 64; i++) {
      const r = await wsHandshake(broker, '/ws/audit', bearer(tailer), { keep: true });
      assert.equal(r.status, 101, `tail ${i}`);
      held.push(r.socket);
    }
    const over = await wsHandshake(broker, '/ws/audit', bearer(tailer));
    assert.equal(over.status, 429);
    assert.equal(over.body.error.code, 'rate_limited');
    // Another identity is not held back by it.
    const other = await wsHandshake(broker, '/ws/audit', bearer(botToken(broker, 'other', { roles: 'viewer' })));
    assert.equal(other.status, 101);
    // A client that vanished gives its slot back: this tail has its filter
    // (a masked text frame), which nothing matches, so nothing is sent to
    // it; the broker pings it after 20 quiet seconds, finds the peer gone
    // and ends it (without the ping, only libmicrohttpd's own 30 s
    // timeout would, and a peer that sent no FIN would stay).
    const gone = held.pop();
    const filter = Buffer.from(JSON.stringify({ type: 'no.such.type' }));
    gone.write(Buffer.concat([Buffer.from([0x81, 0x80 | filter.length, 0, 0, 0, 0]), filter]));
    await new Promise((r) => setTimeout(r, 500));
    gone.destroy();
    await until(async () => (await wsHandshake(broker, '/ws/audit', bearer(tailer))).status === 101,
      'a slot freed by a vanished client', 27000);
  } finally {
    for (const sock of held) sock.destroy();
  }
  // Bots never administer: auditor with admin is still an auditor for a bot.
  const bot = botToken(broker, 'aud-bot', { roles: 'auditor,admins' });
  const term = await wsHandshake(broker, '/ws/ssh', bearer(bot));
  assert.equal(term.status, 403);
  assert.match(term.body.error.message, /auditor/);
  assert.equal((await wsHandshake(broker, '/ws/audit', bearer(bot))).status, 101);
});

test('a double logout leaves one sign-in form: one login per submit, no view by hash, nothing of the last user', async () => {
  const ivy = await account('ivy');
  const jon = await account('jon');
  const { ctx, page, violations } = await openConsole();
  const posts = [];
  const asked = [];
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    asked.push(p);
    if (r.method() === 'POST') posts.push(p);
  });
  try {
    await signIn(page, ivy.name, totp(ivy.secret, step()));
    await page.getByRole('heading', { name: 'Hosts' }).waitFor();
    // The login typed for a terminal is ivy's, not offered to the next user.
    await page.getByLabel('Login on web1').fill('deploy');
    await page.getByRole('button', { name: 'Connect to web1' }).click();
    await page.getByRole('tab').waitFor();
    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    // Two clicks on Log out: one logout; the second neither posts nor
    // starts a second sign-in (which would stack a second submit).
    await page.getByRole('button', { name: 'Log out' }).dblclick();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(posts.filter((p) => p === '/v1/web/logout').length, 1);

    // A hash change on the sign-in form shows no view and asks nothing.
    const before = asked.length;
    await page.evaluate(() => new Promise((resolve) => {
      window.addEventListener('hashchange', () => setTimeout(resolve, 0), { once: true });
      window.location.hash = '#/audit';
    }));
    assert.equal(await page.locator('#view').isHidden(), true);
    assert.equal(await page.locator('#view').innerHTML(), '');
    assert.deepEqual(asked.slice(before), []);

    await signIn(page, jon.name, totp(jon.secret, step()));
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    assert.equal(posts.filter((p) => p === '/v1/web/login').length, 2, posts.join());
    assert.match(await page.locator('#who').textContent(), /jon/);
    // Not the view's heading on the first view after sign-in; on a
    // navigation, the new view's heading has the focus.
    await page.getByRole('link', { name: 'Hosts' }).click();
    await page.getByRole('heading', { name: 'Hosts' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Hosts');
    await page.getByLabel('Login on web1').waitFor();
    assert.equal(await page.getByLabel('Login on web1').inputValue(), '');
    assert.equal(await page.locator('.term-tab').count(), 0);
    // A malformed escape in the hash opens the view with no argument.
    await page.evaluate(() => { window.location.hash = '#/recordings/%E0%A4%A'; });
    await page.getByRole('heading', { name: 'Recordings' }).waitFor();
    await page.locator('#recordings-filter').waitFor();
    assert.deepEqual(violations, []);
  } finally {
    await ctx.close();
  }
});

test('an idle Approvals view stops polling (the session is not kept alive) until asked', async () => {
  const u = await account('kim');
  const { ctx, page, violations } = await openConsole();
  try {
    // The page's clock is the test's from here (it runs, and can jump).
    await page.clock.install();
    await page.reload();
    await signIn(page, u.name, totp(u.secret, step()));
    await page.getByRole('heading', { name: 'Hosts' }).waitFor();
    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    await page.locator('#approvals-status', { hasText: 'Nothing waits' }).waitFor();
    const polls = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/v1/approvals') polls.push(r.url());
    });
    // Eleven minutes without a key or a click: the next poll pauses instead.
    await page.clock.fastForward('11:00');
    const paused = page.locator('#approvals-paused');
    await paused.waitFor();
    const n = polls.length;
    await page.clock.runFor(30000);
    assert.equal(polls.length, n, 'no poll while paused');
    assert.equal(await paused.isVisible(), true);
    const again = page.waitForRequest((r) => new URL(r.url()).pathname === '/v1/approvals');
    await page.getByRole('button', { name: /Polling paused/ }).click();
    await again;
    assert.equal(await paused.isHidden(), true);
    assert.deepEqual(violations, []);
  } finally {
    await ctx.close();
  }
});
