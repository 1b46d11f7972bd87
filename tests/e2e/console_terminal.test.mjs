// The console's terminals in a real browser (playwright-core driving
// Debian's chromium) against a real broker, a real agent and a real
// OpenSSH sshd: Connect on an online SSH host opens an xterm.js tab over
// /ws/ssh on the web session; what is typed runs (read back from the
// terminal's rows); a narrower window changes `stty size` on the host; two
// tabs run at once and survive a trip to another view; closing a tab ends
// its session (the end event, the recording closed, and its content holds
// what the session showed); typing alone keeps the web session from
// idling out; a file goes up and another comes down through
// /ws/file and the one-time link, byte for byte; logout closes every tab;
// closing a tab closes its held file call; an auditor gets no Connect; no
// CSP violation anywhere.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import {
  applyRole, auditEvents, awayFromStepEdge, enrolUser, request, startBroker, step, stopChecked, totp, until,
} from './lib/zt.mjs';
import {
  assertNoViolations, openConsole, sessionHeaders, signIn as fillSignIn,
} from './lib/console.mjs';
import { startSshHost } from './lib/sshd.mjs';

const PASSWORD = 'a long console terminal test password';
let broker;
let host;
let browser;
let root;
const users = {};
let main; // {ctx, page, violations} of the user with the terminals
let mark = 0;

async function signIn(name) {
  const s = await openConsole(browser, broker);
  await s.page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await fillSignIn(s.page, name, PASSWORD, totp(users[name], step()));
  await s.page.locator('#view h1').waitFor();
  return s;
}

// The lines the terminal of panel shows (its rows, as xterm.js renders
// them into the DOM).
function screenLines(panel) {
  return panel.locator('.xterm-rows > div').evaluateAll((rows) => rows.map((r) => r.textContent.trimEnd()));
}

// Runs cmd in the terminal of panel and resolves the lines it printed: it
// is followed by an echo of a fresh mark, written so that the typed line
// does not hold the mark itself.
async function run(page, panel, cmd) {
  const m = `M${++mark}X`;
  const typed = `${m.slice(0, 2)}""${m.slice(2)}`;
  await panel.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type(`${cmd}; echo ${typed}`);
  await page.keyboard.press('Enter');
  let lines = [];
  await until(async () => {
    lines = await screenLines(panel);
    return lines.includes(m);
  }, `the mark ${m} after ${cmd}: ${JSON.stringify(lines)}`, 15000);
  const end = lines.lastIndexOf(m);
  const start = lines.findLastIndex((l, i) => i < end && l.includes(typed));
  assert.ok(start >= 0, JSON.stringify(lines));
  return lines.slice(start + 1, end);
}

async function connect(page, login = host.sshd.user) {
  await page.getByLabel('Login on web1').fill(login);
  await page.getByRole('button', { name: 'Connect to web1' }).click();
  const panel = page.locator('.term-panel:not([hidden])');
  await panel.locator('.term-state', { hasText: 'Connected' }).waitFor();
  await run(page, panel, "PS1='$ '"); // a short prompt: a command fits a narrow row
  return panel;
}

function stty(lines) {
  const l = lines.findLast((x) => /^\d+ \d+$/.test(x));
  assert.ok(l, JSON.stringify(lines));
  const [rows, cols] = l.split(' ').map(Number);
  return { rows, cols };
}

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'zt-console-files-')));
  host = await startSshHost(broker, { name: 'web1', labels: 'env=staging',
    role: 'kind: role\nname: term\nallow:\n  hosts: {env: staging}\n  logins: [LOGIN]\n'
      + '  tools: [ssh_shell, list_hosts]\n' });
  applyRole(broker, `kind: role\nname: files\nallow:\n  hosts: {env: staging}\n  logins: [${host.sshd.user}]\n`
    + `  tools: [file_read, file_write]\n  paths: ["${root}/**"]\n`);
  applyRole(broker, 'kind: role\nname: auditor\noptions:\n  auditor: true\n');
  applyRole(broker, 'kind: role\nname: lister\nallow:\n  tools: [list_hosts]\n');
  applyRole(broker, `kind: role\nname: files-stepup\nallow:\n  hosts: {env: staging}\n  logins: [${host.sshd.user}]\n`
    + `  tools: [file_read]\n  paths: ["${root}/**"]\noptions:\n  mfa: per_call\n`);
  applyRole(broker, `kind: role\nname: term-stepup\nallow:\n  hosts: {env: staging}\n  logins: [${host.sshd.user}]\n`
    + '  tools: [ssh_shell]\noptions:\n  mfa: per_call\n');
  users.tess = await enrolUser(broker, 'tess', 'term,files', PASSWORD);
  users.audra = await enrolUser(broker, 'audra', 'auditor', PASSWORD);
  users.hank = await enrolUser(broker, 'hank', 'lister,term-stepup', PASSWORD);
  users.fred = await enrolUser(broker, 'fred', 'lister,term-stepup,files-stepup', PASSWORD);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await host?.agent?.stop();
  await stopChecked(broker);
  host?.sshd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('Connect opens a terminal tab: what is typed runs, the focus is in it', async () => {
  main = await signIn('tess');
  const { page } = main;
  await page.getByRole('heading', { name: 'Hosts' }).waitFor();
  const row = page.locator('#hosts tbody tr', { hasText: 'web1' });
  await row.locator('.online').waitFor();
  // Last seen is shown, and the login field is labelled.
  assert.notEqual((await row.locator('td[data-label="Last seen"]').textContent()).trim(), '');
  const panel = await connect(page);
  assert.equal(await page.getByRole('tab').count(), 1);
  assert.equal(await page.getByRole('tab').getAttribute('aria-selected'), 'true');
  assert.ok(await page.evaluate(() => document.activeElement.classList.contains('xterm-helper-textarea')),
    'the focus is in the terminal');
  const out = await run(page, panel, 'echo h""i');
  assert.deepEqual(out, ['hi']);
  await assertNoViolations(main);
});

test('a narrower window: the terminal refits and the host\'s stty size changes', async () => {
  const { page } = main;
  const panel = page.locator('.term-panel:not([hidden])');
  const wide = stty(await run(page, panel, 'stty size'));
  await page.setViewportSize({ width: 420, height: 700 });
  let narrow = wide;
  await until(async () => {
    narrow = stty(await run(page, panel, 'stty size'));
    return narrow.cols < wide.cols;
  }, `a narrower stty size than ${JSON.stringify(wide)}`, 20000);
  assert.ok(narrow.cols < wide.cols && narrow.cols > 10, JSON.stringify({ wide, narrow }));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px at 420`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await until(async () => stty(await run(page, panel, 'stty size')).cols === wide.cols,
    'the wide size again', 20000);
  await assertNoViolations(main);
});

test('two tabs at once, each its own session, both surviving another view', async () => {
  const { page } = main;
  const second = await connect(page);
  assert.equal(await page.getByRole('tab').count(), 2);
  assert.deepEqual(await run(page, second, 'echo t""wo'), ['two']);
  await page.getByRole('tab').first().click();
  const first = page.locator('.term-panel:not([hidden])');
  assert.deepEqual(await run(page, first, 'echo o""ne'), ['one']);
  // Keyboard: the arrow key moves to the other tab.
  await page.getByRole('tab').first().focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getByRole('tab').nth(1).getAttribute('aria-selected'), 'true');

  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit' }).waitFor();
  assert.equal(await page.locator('#terminals').count(), 0);
  await page.getByRole('link', { name: 'Hosts' }).click();
  await page.getByRole('heading', { name: 'Hosts' }).waitFor();
  // The view puts its terminals back once its host list has come (after
  // the heading): wait for them rather than count at once.
  await page.getByRole('tab').nth(1).waitFor();
  assert.equal(await page.getByRole('tab').count(), 2);
  const shown = page.locator('.term-panel:not([hidden])');
  assert.equal(await shown.locator('.term-state').textContent(), 'Connected (recorded)');
  assert.deepEqual(await run(page, shown, 'echo b""ack'), ['back']);
  await assertNoViolations(main);
});

test('closing a tab ends its session: the end event, the recording closed and holding its output', async () => {
  const { page, ctx } = main;
  const ends = auditEvents(broker, 'tool.ssh_shell.result').length;
  const shown = page.locator('.term-panel:not([hidden])');
  await shown.getByRole('button', { name: /Close the terminal/ }).click();
  assert.equal(await page.getByRole('tab').count(), 1);
  let end;
  await until(() => {
    const e = auditEvents(broker, 'tool.ssh_shell.result');
    end = e[ends];
    return e.length > ends;
  }, 'the end event of the closed session');
  assert.equal(end.actor, 'user:tess');
  assert.equal(end.details.status, 'disconnected');
  const id = end.details.recording.id;
  const headers = await sessionHeaders(broker, ctx);
  const list = await request(broker, 'GET', '/v1/recordings', { headers });
  assert.equal(list.status, 200);
  const rec = list.body.recordings.find((r) => r.id === id);
  assert.ok(rec, JSON.stringify(list.body));
  assert.ok(rec.ended_at > 0, 'the recording is closed');
  assert.equal(rec.host, 'web1');
  const body = await request(broker, 'GET', `/v1/recordings/${id}`, { headers });
  assert.equal(body.status, 200);
  const output = body.body.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e[1] === 'o').map((e) => e[2]).join('');
  assert.match(output, /\bback\r\n/);
  await assertNoViolations(main);
});

// The stored expiry of tess's web session (unix seconds).
function storedExpiry() {
  const r = spawnSync('sqlite3', [path.join(broker.dataDir, 'zt.db'), 'SELECT s.expires_at FROM '
    + "sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'tess' AND s.revoked_at = 0 "
    + 'ORDER BY s.created_at DESC LIMIT 1;'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

// The web session slides on /v1 requests, at most once a minute; a person
// who only types in a terminal uses it too. The page makes no request
// while it waits here, so only what is typed can move the expiry.
test('typing in a terminal keeps the web session from idling out', async () => {
  const { page } = main;
  const before = storedExpiry();
  const slidAt = before - 1800; // when it last slid: a use then, idle 30 min
  await new Promise((r) => setTimeout(r, Math.max(0, (slidAt + 62) * 1000 - Date.now())));
  assert.equal(storedExpiry(), before, 'nothing slid it while nothing was typed');
  const panel = page.locator('.term-panel:not([hidden])');
  assert.deepEqual(await run(page, panel, 'echo k""eep'), ['keep']);
  await until(() => storedExpiry() >= before + 60, 'the expiry moved on by what was typed');
  await assertNoViolations(main);
});

test('a file goes up and another comes down, byte for byte, audited as transfers', async () => {
  const { page } = main;
  const panel = page.locator('.term-panel:not([hidden])');
  await panel.locator('summary').click();
  const up = crypto.randomBytes(300 * 1024);
  await panel.getByLabel('File to upload').setInputFiles({ name: 'up.bin',
    mimeType: 'application/octet-stream', buffer: up });
  await panel.getByLabel(/Remote path/).fill(`${root}/`);
  await panel.getByRole('button', { name: 'Upload', exact: true }).click();
  const status = panel.locator('.term-file-status');
  await status.filter({ hasText: /Uploaded|denied|fail|error/i }).waitFor();
  assert.match(await status.textContent(), /^Uploaded 307200 bytes/);
  assert.ok(fs.readFileSync(path.join(root, 'up.bin')).equals(up));

  const down = crypto.randomBytes(200 * 1024 + 7);
  fs.writeFileSync(path.join(root, 'down.bin'), down);
  await panel.getByLabel('Remote file to download').fill(`${root}/down.bin`);
  const [dl] = await Promise.all([page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Download', exact: true }).click()]);
  assert.equal(dl.suggestedFilename(), 'down.bin');
  assert.ok(fs.readFileSync(await dl.path()).equals(down));
  await status.filter({ hasText: /Downloaded/ }).waitFor();

  const xfers = auditEvents(broker, 'file.transfer').filter((e) => e.actor === 'user:tess');
  assert.deepEqual(xfers.map((e) => [e.details.direction, e.details.bytes]),
    [['write', up.length], ['read', down.length]]);
  // A path the role does not allow: the rule, shown, and nothing written.
  await panel.getByLabel(/Remote path/).fill('/tmp/zt-console-nope.bin');
  await panel.getByRole('button', { name: 'Upload', exact: true }).click();
  await status.filter({ hasText: /deny/ }).waitFor();
  assert.match(await status.getAttribute('class'), /error/);
  assert.equal(fs.existsSync('/tmp/zt-console-nope.bin'), false);
  await assertNoViolations(main);
});

// What the page's own code could do on /ws/file, tried from the page:
// another tool is refused; a link is not taken without the CSRF header
// (the cookie alone, as a page of another origin could send it), then is
// with it.
test('/ws/file runs only file_read and file_write; its link needs the CSRF header', async () => {
  const { page } = main;
  fs.writeFileSync(path.join(root, 'csrf.txt'), 'link bytes\n');
  const r = await page.evaluate(async (file) => {
    const { csrfToken } = await import('/assets/js/api.js');
    const call = (msg) => new Promise((resolve) => {
      const ws = new WebSocket(`wss://${location.host}/ws/file`, ['zt', `zt-csrf.${csrfToken()}`]);
      ws.onopen = () => ws.send(JSON.stringify(msg));
      ws.onmessage = (e) => resolve(JSON.parse(e.data));
      ws.onclose = (e) => resolve({ closed: e.code });
    });
    const other = await call({ tool: 'file_remove', host: 'web1', login: file.login, path: file.path });
    const read = await call({ tool: 'file_read', host: 'web1', login: file.login, path: file.path });
    const link = new URL(read.link.url).pathname;
    const bare = await fetch(link);
    const withToken = await fetch(link, { headers: { 'X-ZT-CSRF': csrfToken() } });
    return { other, read, bare: [bare.status, (await bare.json()).error.code],
      ok: [withToken.status, await withToken.text()] };
  }, { login: host.sshd.user, path: path.join(root, 'csrf.txt') });
  assert.equal(r.other.type, 'error');
  assert.match(r.other.message, /no such call/);
  assert.equal(r.read.type, 'result');
  assert.equal(r.read.link.method, 'GET');
  assert.deepEqual(r.bare, [403, 'csrf_required']);
  assert.deepEqual(r.ok, [200, 'link bytes\n']);
  assert.ok(fs.existsSync(path.join(root, 'csrf.txt')), 'file_remove did not run');
  await assertNoViolations(main);
});

test('logout closes every terminal', async () => {
  const { page, ctx } = main;
  const ends = auditEvents(broker, 'tool.ssh_shell.result').length;
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.locator('#terminals').count(), 0);
  await until(() => auditEvents(broker, 'tool.ssh_shell.result').length > ends,
    'the end of the last session');
  await assertNoViolations(main);
  await ctx.close();
});

// Connects on the Hosts view of page as the sshd's user, for a user whose
// session is held for a step-up; resolves the tab's panel once it says so.
async function heldTab(page) {
  await page.getByRole('heading', { name: 'Hosts' }).waitFor();
  await page.getByLabel('Login on web1').fill(host.sshd.user);
  await page.getByRole('button', { name: 'Connect to web1' }).click();
  const panel = page.locator('.term-panel:not([hidden])');
  await panel.locator('.term-state', { hasText: 'Waiting for approval or an MFA step-up' }).waitFor();
  return panel;
}

test('a session held for an MFA step-up shows the broker\'s message and page; the code releases it', async () => {
  await awayFromStepEdge();
  const s = await signIn('hank');
  try {
    const { page } = s;
    const panel = await heldTab(page);
    assert.equal(await page.getByRole('tab').getAttribute('data-state'), 'held');
    const held = panel.locator('.term-held');
    assert.match(await held.textContent(), /step-up/i);
    const href = await held.getByRole('link', { name: 'Open the approval page' }).getAttribute('href');
    // A link in this page (the tabs outlive the navigation), made by the page.
    assert.match(href, /^#\/approvals\/[0-9a-f]+$/);
    // The login used this step's code: the next one steps up.
    await held.getByLabel('One-time code').fill(totp(users.hank, step() + 1));
    await held.getByRole('button', { name: 'Step up' }).click();
    await panel.locator('.term-state', { hasText: 'Connected' }).waitFor();
    assert.equal(await held.isHidden(), true);
    assert.deepEqual(await run(page, panel, 'echo u""p'), ['up']);
    const allowed = auditEvents(broker, 'tool.ssh_shell').filter((e) => e.actor === 'user:hank');
    assert.equal(allowed.at(-1).outcome, 'allowed');
    await assertNoViolations(s);
  } finally {
    await s.ctx.close();
  }
});

test('closing a tab closes its held file call\'s socket', async () => {
  const s = await signIn('fred');
  const files = [];
  s.page.on('websocket', (ws) => {
    if (new URL(ws.url()).pathname === '/ws/file') files.push(ws);
  });
  try {
    const { page } = s;
    const panel = await heldTab(page);
    await panel.locator('summary').click();
    await panel.getByLabel('Remote file to download').fill(`${root}/held.txt`);
    await panel.getByRole('button', { name: 'Download', exact: true }).click();
    const status = panel.locator('.term-file-status');
    const link = status.getByRole('link', { name: 'Open the approval page' });
    await link.waitFor();
    assert.match(await link.getAttribute('href'), /^#\/approvals\/[0-9a-f]+$/);
    assert.equal(files.length, 1);
    assert.equal(files[0].isClosed(), false);
    await page.getByRole('button', { name: /^Close the terminal/ }).click();
    assert.equal(await page.getByRole('tab').count(), 0);
    await until(() => files[0].isClosed(), 'the file call\'s socket closed with its tab');
    await assertNoViolations(s);
  } finally {
    await s.ctx.close();
  }
});

test('an auditor gets no Connect', async () => {
  const s = await signIn('audra');
  try {
    await s.page.getByRole('heading', { name: 'Audit' }).waitFor();
    await s.page.goto(`${broker.url}/#/hosts`);
    await s.page.locator('#view h1').waitFor();
    assert.equal(await s.page.getByRole('button', { name: /Connect/ }).count(), 0);
    assert.equal(await s.page.locator('#terminals').count(), 0);
    await assertNoViolations(s);
  } finally {
    await s.ctx.close();
  }
});
