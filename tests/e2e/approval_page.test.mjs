// The approval page in a real browser: an MCP client (the official SDK)
// that declares URL-mode elicitation gets the page of its held call;
// headless Chromium (playwright-core driving Debian's chromium) opens it,
// signs in with user, password and one-time code, sees the exact call and
// steps up with a fresh code; the call returns the command's output and
// the client is told the elicitation is complete. The page's cookie is
// HttpOnly, Secure, SameSite=Strict; forms without their CSRF token change
// nothing; the page allows no script, no framing, no caching.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  admin, applyRole, auditEvents, brokerFetch, enrolUser, request, sdk, startAgent,
  startBroker, step, stopChecked, tmpdir, totp, until,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';

let broker;
let sshd;
let S;
let browser;
const agents = [];
const PASSWORD = 'a long browser test password';

// A user through the API; resolves {token, secret, step: the step of the
// last code it used}.
async function account(name, roles) {
  const secret = await enrolUser(broker, name, roles, PASSWORD);
  const at = step();
  const l = await request(broker, 'POST', '/v1/login',
    { body: { user: name, password: PASSWORD, otp: totp(secret, at) } });
  assert.equal(l.status, 200, JSON.stringify(l.body));
  return { token: l.body.token, secret, step: at };
}

// The next unused code of u, waiting for its step to come within the
// window (one step either side of now).
async function nextCode(u) {
  u.step += 1;
  while (step() < u.step - 1) await new Promise((r) => setTimeout(r, 500));
  return totp(u.secret, u.step);
}

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  applyRole(broker, `kind: role\nname: stepup\nallow:\n  hosts: {env: staging}\n  logins: [${sshd.user}]\n`
    + '  tools: [ssh_exec]\noptions:\n  mfa: per_call\n');
  // list_hosts with no step-up: the least demanding role that allows a
  // call is the one that applies.
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  tools: [list_hosts]\n');
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  const a = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
    token, hostKey: sshd.hostKey, labels: 'env=staging', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(a.joined, a.out?.stderr);
  agents.push(a);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  for (const a of agents) await a.stop();
  await stopChecked(broker);
  sshd?.stop();
});

test('URL elicitation: the browser signs in, sees the call, steps up; the call runs', async () => {
  const ivy = await account('ivy', 'stepup,viewer');
  const elicited = [];
  const completed = [];
  const client = new S.Client({ name: 'zt-e2e-page', version: '1.0.0' },
    { capabilities: { elicitation: { url: {} } } });
  client.setRequestHandler(S.types.ElicitRequestSchema, async (req) => {
    elicited.push(req.params);
    return { action: 'accept' };
  });
  client.setNotificationHandler(S.types.ElicitationCompleteNotificationSchema,
    (n) => completed.push(n.params));
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${ivy.token}` } },
  }));
  try {
    await until(async () => (await client.callTool({ name: 'list_hosts', arguments: {} }))
      .structuredContent.hosts[0]?.online, 'web1 online');
    const call = client.callTool({ name: 'ssh_exec',
      arguments: { host: 'web1', login: sshd.user, command: 'echo via-browser' } },
    undefined, { timeout: 120000 });
    await until(() => elicited.length === 1, 'the client is asked to open the page');
    const { mode, url, elicitationId, message } = elicited[0];
    assert.equal(mode, 'url');
    assert.equal(url, `${broker.url}/approve/${elicitationId}`);
    assert.match(message, /an MFA step-up by the caller/);

    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    const first = await page.goto(url);
    const h = first.headers();
    assert.match(h['content-security-policy'], /default-src 'none'/);
    assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(h['x-frame-options'], 'DENY');
    assert.equal(h['cache-control'], 'no-store');
    assert.equal(await page.locator('script').count(), 0);
    await page.getByLabel('User').fill('ivy');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('One-time code').fill(await nextCode(ivy));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(url);
    const session = (await ctx.cookies()).find((c) => c.name === 'zt_session');
    assert.deepEqual([session.httpOnly, session.secure, session.sameSite], [true, true, 'Strict']);
    assert.ok(session.expires * 1000 - Date.now() <= 15 * 60 * 1000 + 5000);
    // The exact call, as it will run.
    const cell = (name) => page.locator(`tr:has(th:text-is("${name}")) td`).textContent();
    assert.equal(await cell('Command'), 'echo via-browser');
    assert.equal(await cell('Caller'), 'user:ivy');
    assert.equal(await cell('Needs'), 'an MFA step-up by the caller');

    // A form without the page's CSRF token answers nothing.
    const forged = await request(broker, 'POST', `/approve/${elicitationId}`, {
      raw: `action=approve&otp=${totp(ivy.secret, ivy.step + 1)}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: `zt_session=${session.value}` },
    });
    assert.equal(forged.status, 403);
    assert.match(forged.body, /did not come from this page/);

    await page.getByLabel('Your one-time code').fill(await nextCode(ivy));
    await page.getByRole('button', { name: 'Step up and run' }).click();
    await page.getByText('Done: the call goes on').waitFor();
    const r = await call;
    assert.equal(r.isError, false, JSON.stringify(r));
    assert.equal(r.structuredContent.stdout, 'via-browser\n');
    await until(() => completed.some((c) => c.elicitationId === elicitationId),
      'notifications/elicitation/complete');
    const up = auditEvents(broker, 'mfa.stepup').at(-1);
    assert.deepEqual([up.actor, up.outcome, up.details.approval_id], ['user:ivy', 'success', elicitationId]);
    assert.equal(auditEvents(broker, 'tool.ssh_exec').at(-1).details.released_by, 'step-up');
    await ctx.close();
  } finally {
    await client.close();
  }
});

test('the page refuses what is not a page: unknown ids, other methods, bad forms', async () => {
  const none = await request(broker, 'GET', `/approve/${'0'.repeat(32)}`);
  assert.equal(none.status, 200); // the sign-in form: it says nothing of the id
  assert.match(none.body, /Sign in/);
  assert.match(none.headers['set-cookie'].join(';'), /zt_csrf=[0-9a-f]{32}; Path=\/approve\/;.*HttpOnly; Secure; SameSite=Strict/);
  for (const p of ['/approve/xyz', `/approve/${'0'.repeat(31)}`, `/approve/${'0'.repeat(32)}/x`]) {
    assert.equal((await request(broker, 'GET', p)).status, 404, p);
  }
  const del = await request(broker, 'DELETE', `/approve/${'0'.repeat(32)}`);
  assert.equal(del.status, 405);
  const big = await request(broker, 'POST', `/approve/${'0'.repeat(32)}/login`, {
    raw: `user=${'a'.repeat(5000)}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(big.status, 400);
  const json = await request(broker, 'POST', `/approve/${'0'.repeat(32)}/login`, { body: { user: 'x' } });
  assert.equal(json.status, 400);
  // Sign-in without the CSRF cookie's token is refused before any password check.
  const before = auditEvents(broker, 'user.login').length;
  const nocsrf = await request(broker, 'POST', `/approve/${'0'.repeat(32)}/login`, {
    raw: 'user=ivy&password=x&otp=000000', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(nocsrf.status, 403);
  assert.equal(auditEvents(broker, 'user.login').length, before);
});
