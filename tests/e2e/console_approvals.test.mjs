// Held calls answered in the web console, in a real browser (playwright-core
// driving Debian's chromium) against a real broker, agent and sshd, with
// the official MCP SDK as the caller:
// - a bot's call held for approval by oncall: a second user signs in to
//   the console, sees the exact call in the Approvals queue and approves it
//   with a fresh one-time code; the MCP call completes with its result. A
//   denial from the console fails the next call with the denial; the
//   history shows both; a user without the role is told the call is not in
//   its queue and the API refuses its answer.
// - a user's own call held for an MFA step-up: the client is sent (URL
//   elicitation) to the console's route for the call; the old link
//   /approve/<id> redirects there; the console signs the user in first,
//   then shows that call; the step-up runs it; a code used once is refused
//   the second time; withdrawing one's own call fails it.
// - a call nobody answers leaves the queue when its time is up and shows
//   in the history as expired.
// No page logs a Content-Security-Policy violation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import {
  admin, applyRole, auditEvents, botToken, brokerFetch, enrolUser, mcpConnect, request, sdk,
  startBroker, step, stopChecked, totp, until,
} from './lib/zt.mjs';
import { openConsole, signIn as fillSignIn } from './lib/console.mjs';
import { startSshHost } from './lib/sshd.mjs';

// The broker, the host behind it (sshd and agent), the MCP SDK, Chromium;
// the clients and pages to close at the end.
let broker, host, sshd, S, browser;
const clients = [];
const pages = [];
const PASSWORD = 'a long console approvals test password';
const users = {};

const text = (r) => r.content.map((c) => c.text).join('\n');

// A user the administrator adds and who enrols; {name, secret, step: the
// step of the last code it used}.
async function account(name, roles) {
  const secret = await enrolUser(broker, name, roles, PASSWORD);
  users[name] = { name, secret, step: step() - 1 };
  return users[name];
}

// The next unused code of u, waiting for its step to come within the
// window (one step either side of now).
async function nextCode(u) {
  u.step = Math.max(u.step + 1, step() - 1);
  while (step() < u.step - 1) await new Promise((r) => setTimeout(r, 500));
  return totp(u.secret, u.step);
}

// An MCP client (lib's) that is closed at the end.
async function connect(token, logs = []) {
  const client = await mcpConnect(broker, token, { logs });
  clients.push(client);
  return client;
}

const exec = (client, command) => client.callTool({ name: 'ssh_exec',
  arguments: { host: 'web1', login: sshd.user, command } }, undefined, { timeout: 150000 });

// A browser page at url with a CSP violation recorder (lib/console.mjs);
// first is the answer to url.
async function open(url) {
  const o = await openConsole(browser, broker, { height: 900, url });
  const s = { ...o, first: o.resp };
  pages.push(s);
  return s;
}

// Signs u in on the console's form the page shows.
async function signIn(page, u) {
  await fillSignIn(page, u.name, PASSWORD, await nextCode(u));
  await page.getByRole('heading', { name: 'Approvals' }).waitFor();
}

// The card of held call id on page.
const card = (page, id) => page.locator(`#approval-${id}`);
// The id of the held call whose card shows command (waits for it).
async function cardFor(page, command) {
  const c = page.locator('article.approval', { has: page.locator(`dd:text-is("${command}")`) });
  await c.waitFor({ timeout: 20000 });
  return c.getAttribute('data-id');
}
// The history row of id: [outcome, answered by, reason].
async function historyRow(page, id) {
  const tr = page.locator(`#approvals-history tr[data-id="${id}"]`);
  await tr.waitFor({ timeout: 10000 });
  return tr.evaluate((r) => ['Outcome', 'Answered by', 'Reason']
    .map((l) => r.querySelector(`td[data-label="${l}"]`).textContent));
}

let unanswered; // a call nobody answers: started first, checked last

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  host = await startSshHost(broker, { labels: 'env=staging' });
  ({ sshd } = host);
  const base = `allow:\n  hosts: {env: staging}\n  logins: [${sshd.user}]\n  tools: [ssh_exec, list_hosts]\n`;
  for (const [name, options] of [['stepup', 'mfa: per_call'],
    ['guarded', 'approval: {by: [oncall], ttl: 20m}'], ['guarded-fast', 'approval: {by: [oncall], ttl: 1m}']]) {
    applyRole(broker, `kind: role\nname: ${name}\n${base}options:\n  ${options}\n`);
  }
  for (const name of ['oncall', 'viewer']) {
    applyRole(broker, `kind: role\nname: ${name}\nallow:\n  tools: [list_hosts]\n`);
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const probe = await connect(botToken(broker, 'probe-bot', { roles: 'viewer' }));
  await until(async () => (await probe.callTool({ name: 'list_hosts', arguments: {} }))
    .structuredContent.hosts[0]?.online, 'web1 online');
  await account('carol', 'oncall');
});

after(async () => {
  await Promise.all(pages.map((p) => p.ctx.close().catch(() => {})));
  await browser?.close();
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await host?.agent.stop();
  await stopChecked(broker);
  sshd?.stop();
});

test('a call nobody answers is started, and shown (checked at the end)', async () => {
  const bot = await connect(botToken(broker, 'slow-bot', { roles: 'guarded-fast' }));
  const call = exec(bot, 'echo never');
  const shown = await open(`${broker.url}/#/approvals`);
  await signIn(shown.page, users.carol);
  unanswered = { call, shown, id: await cardFor(shown.page, 'echo never') };
});

test('a second user approves a bot call in the console; a denial fails the next; history shows both', async () => {
  const logs = [];
  const bot = await connect(botToken(broker, 'appr-bot', { roles: 'guarded' }), logs);
  const call = exec(bot, 'echo approved-in-console');

  const { page, violations } = await open(`${broker.url}/#/approvals`);
  await signIn(page, users.carol);
  const id = await cardFor(page, 'echo approved-in-console');
  // The bot is sent to the console's route of its call.
  await until(() => logs.some((l) => l.data?.approval_id === id), 'the bot got the URL');
  const told = logs.find((l) => l.data?.approval_id === id).data;
  assert.equal(told.url, `${broker.url}/#/approvals/${id}`);
  assert.match(told.message, new RegExp(`open ${broker.url}/#/approvals/${id} or run \`ztctl approve ${id}\``));
  // The exact call: who, what, where, under which rule; its arguments.
  const c = card(page, id);
  const dd = (name) => c.locator(`dt:text-is("${name}") + dd`).textContent();
  assert.equal(await dd('Caller'), 'bot:appr-bot');
  assert.equal(await dd('Tool'), 'ssh_exec');
  assert.equal(await dd('Host'), 'web1');
  assert.equal(await dd('Login'), sshd.user);
  assert.equal(await dd('Needs'), 'approval by a holder of oncall');
  assert.match(await dd('Rule'), /guarded/);
  assert.deepEqual(JSON.parse(await c.locator('pre').textContent()),
    { host: 'web1', login: sshd.user, command: 'echo approved-in-console' });
  assert.match(await dd('Time left'), /^(19m|20m) \d\ds$/);
  // The grant windows go up to the role's approval.ttl.
  const grants = await c.getByLabel('Approve for').locator('option').allTextContents();
  assert.equal(grants[0], 'this call only');
  assert.equal(grants.at(-1), 'this request for 20m');

  await c.getByLabel('One-time code').fill(await nextCode(users.carol));
  await c.getByRole('button', { name: 'Approve' }).click();
  await c.getByText('Approved: the call goes on.').waitFor();
  const r = await call;
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.stdout, 'approved-in-console\n');
  const ap = auditEvents(broker, 'approval.approved').at(-1);
  assert.deepEqual([ap.actor, ap.details.approval_id], ['user:carol', id]);
  assert.equal(auditEvents(broker, 'tool.ssh_exec').at(-1).details.released_by, 'user:carol');

  // The same request again is held again (an approval is used once); deny.
  const again = exec(bot, 'echo denied-in-console');
  const id2 = await cardFor(page, 'echo denied-in-console');
  const c2 = card(page, id2);
  // The API takes 511 bytes of reason: 300 two-byte letters are refused
  // on the page, and nothing is sent.
  const denials = auditEvents(broker, 'approval.denied').length;
  await c2.getByLabel('Reason (for a denial)').fill('é'.repeat(300));
  await c2.getByRole('button', { name: 'Deny' }).click();
  await c2.getByText(/The reason is too long: at most 511 bytes/).waitFor();
  assert.equal(auditEvents(broker, 'approval.denied').length, denials);
  await c2.getByLabel('Reason (for a denial)').fill('not during the freeze');
  await c2.getByRole('button', { name: 'Deny' }).click();
  await c2.getByText('Denied: the call fails and nothing runs.').waitFor();
  const denied = await again;
  assert.equal(denied.isError, true);
  assert.equal(text(denied), 'denied by user:carol: not during the freeze; nothing ran');

  // The history: both, who answered and how.
  assert.deepEqual(await historyRow(page, id), ['approved, ran', 'user:carol', '']);
  assert.deepEqual(await historyRow(page, id2), ['denied', 'user:carol', 'not during the freeze']);
  // The API's history is what the page shows.
  assert.equal((await page.evaluate(async () => {
    const s = await (await fetch('/v1/web/session')).json();
    return (await fetch('/v1/approvals?state=history', { headers: { 'X-ZT-CSRF': s.csrf } })).json();
  })).approvals.filter((a) => [id, id2].includes(a.id)).length, 2);

  // A user without oncall: the call is not in its queue, and the API
  // refuses an answer whatever the page shows.
  const eve = await account('eve', 'viewer');
  const held = exec(bot, 'echo for-eve');
  const id3 = await cardFor(page, 'echo for-eve');
  const e = await open(`${broker.url}/approve/${id3}`);
  assert.equal(e.page.url(), `${broker.url}/#/approvals/${id3}`);
  await signIn(e.page, eve);
  await e.page.locator('#approvals-notice').getByText(`Held call ${id3} is not in your queue`).waitFor();
  assert.equal(await e.page.locator('article.approval').count(), 0);
  assert.equal(await e.page.locator('#approvals-history tbody tr').count(), 0);
  const no = await e.page.evaluate(async ([heldId, code]) => {
    const s = await (await fetch('/v1/web/session')).json();
    const r = await fetch('/v1/approvals/approve', { method: 'POST', headers: {
      'X-ZT-CSRF': s.csrf, 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: heldId, otp: code }) });
    return r.status;
  }, [id3, await nextCode(eve)]);
  assert.equal(no, 403);
  await card(page, id3).getByRole('button', { name: 'Deny' }).click();
  assert.equal((await held).isError, true);
  assert.deepEqual(violations, []);
  assert.deepEqual(e.violations, []);
});

test('URL elicitation leads to the console: sign in, the call, step up; a code is used once', async () => {
  const ivy = await account('ivy', 'stepup,viewer');
  const l = await request(broker, 'POST', '/v1/login',
    { body: { user: 'ivy', password: PASSWORD, otp: await nextCode(ivy) } });
  assert.equal(l.status, 200, JSON.stringify(l.body));
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
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${l.body.token}` } },
  }));
  clients.push(client);
  const call = exec(client, 'echo via-browser');
  await until(() => elicited.length === 1, 'the client is asked to open the page');
  const { mode, url, elicitationId: id, message } = elicited[0];
  assert.equal(mode, 'url');
  assert.equal(url, `${broker.url}/#/approvals/${id}`);
  assert.match(message, /an MFA step-up by the caller/);

  const { page, violations } = await open(url);
  await signIn(page, ivy);
  // That call, highlighted, as it will run.
  const c = card(page, id);
  await c.waitFor();
  assert.match(await c.getAttribute('class'), /\bfocus\b/);
  assert.equal(await page.locator('#approvals-notice').isHidden(), true);
  assert.equal(await c.locator('dt:text-is("Command") + dd').textContent(), 'echo via-browser');
  assert.equal(await c.locator('dt:text-is("Caller") + dd').textContent(), 'user:ivy');
  assert.equal(await c.getByLabel('Approve for').count(), 0); // a step-up is no grant
  const code = await nextCode(ivy);
  await c.getByLabel('One-time code').fill(code);
  await c.getByRole('button', { name: 'Step up and run' }).click();
  await c.getByText('Stepped up: the call goes on.').waitFor();
  const r = await call;
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.stdout, 'via-browser\n');
  await until(() => completed.some((x) => x.elicitationId === id), 'notifications/elicitation/complete');
  const up = auditEvents(broker, 'mfa.stepup').at(-1);
  assert.deepEqual([up.actor, up.outcome, up.details.approval_id], ['user:ivy', 'success', id]);

  // per_call: the next call asks again; the same code does not pass twice;
  // withdrawing one's own call fails it.
  const next = exec(client, 'echo once-more');
  await until(() => elicited.length === 2, 'the second call is held');
  const id2 = elicited[1].elicitationId;
  const c2 = card(page, id2);
  await c2.waitFor({ timeout: 10000 });
  await c2.getByLabel('One-time code').fill(code);
  await c2.getByRole('button', { name: 'Step up and run' }).click();
  await c2.locator('.error').getByText(/already used/).waitFor();
  assert.equal(auditEvents(broker, 'mfa.stepup').at(-1).details.reason, 'otp replayed');
  await c2.getByRole('button', { name: 'Deny' }).click();
  await c2.getByText('Denied: the call fails and nothing runs.').waitFor();
  assert.match(text(await next), /^denied by user:ivy/);
  assert.deepEqual(await historyRow(page, id), ['approved, ran', 'user:ivy', '']);
  assert.deepEqual(await historyRow(page, id2), ['denied', 'user:ivy', '']);
  assert.deepEqual(violations, []);
});

test('/approve/<id> redirects to the console, with the console\'s headers; nothing else is a page', async () => {
  const id = '0123456789abcdef0123456789abcdef';
  for (const method of ['GET', 'HEAD']) {
    const r = await request(broker, method, `/approve/${id}`);
    assert.equal(r.status, 303, method);
    assert.equal(r.headers.location, `/#/approvals/${id}`);
    assert.match(r.headers['content-security-policy'], /default-src 'none'/);
    assert.match(r.headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.equal(r.headers['set-cookie'], undefined);
  }
  for (const p of ['/approve/xyz', `/approve/${'0'.repeat(31)}`, `/approve/${'0'.repeat(32)}/login`,
    `/approve/${'A'.repeat(32)}`]) {
    assert.equal((await request(broker, 'GET', p)).status, 404, p);
  }
  for (const method of ['POST', 'DELETE']) {
    const r = await request(broker, method, `/approve/${id}`, { raw: 'action=approve&otp=000000',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 405, method);
  }
  const bad = await request(broker, 'GET', '/v1/approvals?state=nope',
    { token: botToken(broker, 'q-bot', { roles: 'viewer' }) });
  assert.equal(bad.status, 400);
});

test('the unanswered call leaves the queue when its time is up; the history says expired', async () => {
  const { shown: { page, violations }, id } = unanswered;
  const r = await unanswered.call;
  assert.equal(r.isError, true);
  assert.match(text(r), /^the call waited 1m for an approval and got no answer/);
  await card(page, id).waitFor({ state: 'detached', timeout: 30000 });
  assert.deepEqual(await historyRow(page, id), ['expired', '', 'no answer in time']);
  // Answering now is too late.
  const late = await page.evaluate(async (heldId) => {
    const s = await (await fetch('/v1/web/session')).json();
    const x = await fetch('/v1/approvals/deny', { method: 'POST', headers: {
      'X-ZT-CSRF': s.csrf, 'Content-Type': 'application/json' }, body: JSON.stringify({ id: heldId }) });
    return x.status;
  }, id);
  assert.equal(late, 409);
  assert.deepEqual(violations, []);
  const v = admin(broker, 'audit', 'verify');
  assert.equal(v.code, 0, v.stderr);
});
