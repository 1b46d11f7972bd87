// What the web console's browser tests share: a page of the console that
// records every CSP violation it sees, the web session's cookie and CSRF
// header for Node's own requests, and the rows the Audit view shows.
import assert from 'node:assert/strict';
import { request } from './zt.mjs';

export const COOKIE = '__Host-zt_web';

// A new browser context's page at broker's console, recording CSP
// violations (console messages in violations; the page's own events in
// window.cspViolations). init, if given, runs in the page before its
// scripts (page.addInitScript). Resolves {ctx, page, resp, violations}.
export async function consolePage(browser, broker, { height = 800, acceptDownloads = false, init } = {}) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads,
    viewport: { width: 1280, height } });
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
  const resp = await page.goto(`${broker.url}/`);
  return { ctx, page, resp, violations };
}

// The cookie and CSRF header of a signed-in context, for Node's requests.
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
