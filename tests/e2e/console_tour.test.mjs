// A tour of the web console as an administrator sees it after a short day
// of work, in headless Chromium against a real broker, agent and sshd:
// sign-in, a web terminal where `echo hi` shows `hi`, that session's
// recording played back in the page, the audit log with an event open, a
// bot's call held for approval in the queue (approved there, so the MCP
// call completes), the Admin view's users with a fresh invite and its QR
// code, and a role refused at its line. Each page is photographed into
// $ZT_SCREENSHOTS (default build/screenshots; `make screenshots` writes
// docs/screenshots/, which the README shows). At a narrow window (390
// px) no page scrolls sideways, and no page sees a CSP violation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  applyRole, BUILD, botToken, enrolUser, mcpConnect, startBroker, step, stopChecked, totp, until,
} from './lib/zt.mjs';
import { assertNoViolations, openConsole, signIn } from './lib/console.mjs';
import { startSshHost } from './lib/sshd.mjs';

const PASSWORD = 'a long console tour test password';
const SHOTS = path.resolve(process.env.ZT_SCREENSHOTS || path.join(BUILD, 'screenshots'));
const NARROW = { width: 390, height: 844 };
let broker;
let host;
let browser;
let ada;        // {secret, step}: the administrator
let s;          // the administrator's page: {ctx, page, violations}
let bot;        // the bot's MCP client

// A photograph of the page as name.png; checks it is a PNG of some size.
async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  const png = fs.readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG', file);
  assert.ok(png.length > 5000, `${file}: ${png.length} bytes`);
}

// The next one-time code of the administrator not used yet.
async function nextCode() {
  ada.step = Math.max(ada.step + 1, step() - 1);
  while (step() < ada.step - 1) await new Promise((r) => setTimeout(r, 500));
  return totp(ada.secret, ada.step);
}

// Goes to the view behind the nav link name and waits for its heading.
async function go(page, name, heading = name) {
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name: heading }).first().waitFor();
}

// 1 if the page scrolls sideways at its current width.
const overflows = (page) => page.evaluate(() =>
  document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  host = await startSshHost(broker, { name: 'web1', labels: 'env=staging,team=web' });
  const user = host.sshd.user;
  applyRole(broker, `kind: role\nname: admins\nallow:\n  hosts: {env: staging}\n  logins: [${user}]\n`
    + '  tools: [ssh_shell, ssh_exec, list_hosts]\noptions:\n  admin: true\n');
  applyRole(broker, `kind: role\nname: ai-ops\nallow:\n  hosts: {env: staging}\n  logins: [${user}]\n`
    + '  tools: [ssh_exec, list_hosts]\noptions:\n  approval: {by: [admins], ttl: 20m}\n');
  ada = { secret: await enrolUser(broker, 'ada', 'admins', PASSWORD), step: step() - 1 };
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  tools: [list_hosts]\n');
  const probe = await mcpConnect(broker, botToken(broker, 'probe', { roles: 'viewer' }));
  await until(async () => (await probe.callTool({ name: 'list_hosts', arguments: {} }))
    .structuredContent.hosts[0]?.online, 'web1 online');
  await probe.close();
  bot = await mcpConnect(broker, botToken(broker, 'ai-ops', { roles: 'ai-ops' }));
});

after(async () => {
  await s?.ctx.close().catch(() => {});
  await browser?.close();
  await bot?.close().catch(() => {});
  await host?.agent.stop();
  await stopChecked(broker);
  host?.sshd.stop();
});

test('sign-in, then a web terminal: `echo hi` shows hi', async () => {
  s = await openConsole(browser, broker);
  const { page } = s;
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('User').fill('ada');
  await shot(page, 'login');
  await signIn(page, 'ada', PASSWORD, await nextCode());
  await page.getByRole('heading', { name: 'Hosts' }).waitFor();
  await page.getByLabel('Login on web1').fill(host.sshd.user);
  await page.getByRole('button', { name: 'Connect to web1' }).click();
  const panel = page.locator('.term-panel:not([hidden])');
  await panel.locator('.term-state', { hasText: 'Connected' }).waitFor();
  await panel.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type("PS1='$ '; echo h\"\"i");
  await page.keyboard.press('Enter');
  const rows = panel.locator('.xterm-rows > div');
  await until(async () => (await rows.allTextContents()).some((l) => l.trimEnd() === 'hi'),
    'hi on the terminal');
  await shot(page, 'hosts-terminal');
  await panel.getByRole('button', { name: /^Close/ }).first().click();
  await assertNoViolations(s);
});

test('the session\'s recording plays back in the console', async () => {
  const { page } = s;
  await go(page, 'Recordings');
  const row = page.locator('#recordings tbody tr', { hasText: 'web1' }).first();
  await row.waitFor();
  assert.match(await row.textContent(), /user:ada/);
  await row.locator('a').click();
  await page.waitForSelector('#player');
  await page.focus('#player-seek');
  await page.keyboard.press('End');
  await page.waitForFunction(() => /^hi\s*$/m.test([...document.querySelectorAll('#player-term .xterm-rows > div')]
    .map((d) => d.textContent).join('\n')));
  await shot(page, 'recording');
  await assertNoViolations(s);
});

test('the audit log with an event open', async () => {
  const { page } = s;
  await go(page, 'Audit');
  await page.waitForSelector('#audit-chain.chain-ok');
  await shot(page, 'audit');
  await page.locator('#audit tbody tr', { hasText: 'tool.ssh_shell' }).first().click();
  await page.waitForSelector('#audit-detail:not([hidden])');
  assert.match(await page.textContent('#audit-json'), /"type": "tool\.ssh_shell/);
  await assertNoViolations(s);
});

test('a bot\'s held call in the queue, approved there: the MCP call completes', async () => {
  const { page } = s;
  const call = bot.callTool({ name: 'ssh_exec', arguments: { host: 'web1', login: host.sshd.user,
    command: 'uptime -p' } }, undefined, { timeout: 150000 });
  await go(page, 'Approvals');
  const card = page.locator('article.approval', { hasText: 'uptime -p' });
  await card.waitFor({ timeout: 20000 });
  await shot(page, 'approvals');
  await card.getByLabel(/one-time code/i).fill(await nextCode());
  await card.getByRole('button', { name: 'Approve', exact: true }).click();
  const r = await call;
  assert.ok(!r.isError, JSON.stringify(r));
  assert.match(r.content.map((c) => c.text).join('\n'), /up /);
  await assertNoViolations(s);
});

test('Admin: a new user\'s invite with its QR code; a role refused at its line', async () => {
  const { page } = s;
  await go(page, 'Admin');
  await page.click('#admin-tab-users');
  await page.waitForSelector('#admin-body[data-loaded="users"] #admin-users', { state: 'attached' });
  await page.fill('#user-name', 'grace');
  await page.fill('#user-roles', 'admins');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.waitForSelector('#admin-secret img');
  await shot(page, 'admin-users');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.click('#admin-tab-roles');
  await page.waitForSelector('#admin-body[data-loaded="roles"] #admin-roles', { state: 'attached' });
  await page.fill('#role-yaml', 'kind: role\nname: web-ops\nallo:\n  tools: [list_hosts]\n');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForSelector('#role-error:not([hidden])');
  assert.match(await page.textContent('#role-error'), /^line 3: /);
  await shot(page, 'admin-roles');
  await assertNoViolations(s);
});

test('at a narrow window no view scrolls sideways', async () => {
  const { page } = s;
  await page.setViewportSize(NARROW);
  for (const [name, heading] of [['Hosts'], ['Audit'], ['Recordings'], ['Approvals'], ['Admin']]) {
    await go(page, name, heading);
    await page.waitForTimeout(300); // layout after the view's first listing
    assert.equal(await overflows(page), false, `${name} at ${NARROW.width} px`);
  }
  await go(page, 'Audit');
  await page.waitForSelector('#audit tbody tr');
  await shot(page, 'audit-narrow');
  await assertNoViolations(s);
});
