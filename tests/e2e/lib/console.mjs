// The console tests' browser side, shared by console*.test.mjs: a page on
// the broker's console that records every CSP violation, the sign-in form
// filled in, and a signed-in context's cookie and CSRF header for Node's
// own requests.
import assert from 'node:assert/strict';
import { request } from './zt.mjs';

export const COOKIE = '__Host-zt_web';

// A fresh context (downloads accepted) and page at broker's /, which
// records CSP violations both ways (console messages into violations, the
// securitypolicyviolation events into window.cspViolations). Resolves
// {ctx, page, resp, violations}.
export async function openConsole(browser, broker, { viewport = { width: 1280, height: 800 } } = {}) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true, viewport });
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
  const resp = await page.goto(`${broker.url}/`);
  return { ctx, page, resp, violations };
}

// Asserts that the page of openConsole saw no CSP violation.
export async function assertNoViolations({ page, violations }) {
  assert.deepEqual(violations, []);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
}

// Fills the sign-in form and submits it.
export async function fillSignIn(page, name, password, code) {
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
