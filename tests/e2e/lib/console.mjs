// The web console in a browser for the tests: a page of the broker's
// console that records every CSP violation it sees, both as console
// messages ("Refused to ...") and as securitypolicyviolation events
// (window.cspViolations), so that a test can assert there were none; and a
// broker with a user for each of the console's rights.

import { applyRole, enrolUser, startBroker } from './zt.mjs';

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

// A new context and page on broker's console: {ctx, page, resp,
// violations}. options go to browser.newContext (viewport 1280x800 unless
// given).
export async function openConsole(browser, broker, options = {}) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 }, ...options });
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

// Fills the sign-in form of page (user, password, one-time code) once it
// shows, and submits it; the caller waits for what it expects.
export async function signIn(page, name, password, code) {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('User').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('One-time code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
