// What the web console's browser tests share: a broker with a user for each
// of the console's rights, a page of the console that records every CSP
// violation it sees (console messages "Refused to ..." and the page's
// securitypolicyviolation events in window.cspViolations) so that a test
// can assert there were none, the sign-in form filled in, a signed-in
// context's cookie and CSRF header for Node's own requests, and the rows
// the Audit view shows.
import assert from 'node:assert/strict';
import { applyRole, enrolUser, request, startBroker } from './zt.mjs';

export const COOKIE = '__Host-zt_web';

// A broker with the roles viewer (lists hosts), admins (options.admin) and
// auditor (options.auditor) and one user of each, enrolled with password:
// ada (admins), aud (auditor), pat (viewer). {broker, users: {name: TOTP
// secret}}.
export async function startRightsBroker(password) {
  const broker = await startBroker();
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  tools: [list_hosts]\n');
  applyRole(broker, 'kind: role\nname: admins\nallow:\n  tools: [list_hosts]\noptions:\n  admin: true\n');
  applyRole(broker, 'kind: role\nname: auditor\noptions:\n  auditor: true\n');
  const users = {};
  for (const [name, role] of [['ada', 'admins'], ['aud', 'auditor'], ['pat', 'viewer']]) {
    users[name] = await enrolUser(broker, name, role, password);
  }
  return { broker, users };
}

// A new context (downloads accepted, 1280 x height) and page at broker's
// console (at url: the console's / unless given). init, if given, runs in
// the page before its scripts; the other options go to browser.newContext.
// Resolves {ctx, page, resp, violations}.
export async function openConsole(browser, broker, { height = 800, init, url, ...options } = {}) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true,
    viewport: { width: 1280, height }, ...options });
  const page = await ctx.newPage();
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  if (init) await page.addInitScript(init);
  const resp = await page.goto(url || `${broker.url}/`);
  return { ctx, page, resp, violations };
}

// Asserts that the page of openConsole saw no CSP violation.
export async function assertNoViolations({ page, violations }) {
  assert.deepEqual(violations, []);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
}

// Fills the sign-in form of page (user, password, one-time code) once it
// shows, and submits it; the caller waits for what it expects.
export async function signIn(page, name, password, code) {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('User').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('One-time code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// The cookie and CSRF header of ctx's web session, for Node's requests.
export async function sessionHeaders(broker, ctx) {
  const c = (await ctx.cookies()).find((k) => k.name === COOKIE);
  const cookie = `${COOKIE}=${c.value}`;
  const s = await request(broker, 'GET', '/v1/web/session', { headers: { Cookie: cookie } });
  assert.equal(s.status, 200);
  return { Cookie: cookie, 'X-ZT-CSRF': s.body.csrf };
}

// The Audit view's rows as shown: [{seq, actor, outcome, type}].
export async function auditRows(page) {
  return page.$$eval('#audit tbody tr', (trs) => trs.map((tr) => {
    const cell = (l) => tr.querySelector(`td[data-label="${l}"]`).textContent;
    return { seq: Number(tr.dataset.seq), actor: cell('Actor'), outcome: cell('Outcome'),
      type: cell('Type') };
  }));
}
