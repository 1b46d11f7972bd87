// The console's Audit view in a real browser (playwright-core driving
// Debian's chromium) against a real broker with events of its own (role
// applies, enrolments, logins, a failed login, a refused verification):
// an administrator filters by actor and by outcome on the server (every
// row shown matches) and opens an event's details; the export of the
// filter is exactly `ztbroker admin audit ls --json` filtered the same
// way; a plain user sees only its own events (API and page) and no chain
// state, an auditor everything; and after a row is edited in the SQLite
// file behind the broker's back the page shows the broken link in red at
// that event's number.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import {
  admin, applyRole, auditEvents, enrolUser, request, startBroker, step, stopChecked, totp,
  wsHandshake,
} from './lib/zt.mjs';
import { fillSignIn, openConsole, sessionHeaders } from './lib/console.mjs';

const PASSWORD = 'a long console audit test password';
let broker;
let browser;
const users = {};
let adminPage; // the administrator's page, kept for the later tests

// The raw lines of `ztbroker admin audit ls --json`.
function lsLines() {
  const r = admin(broker, 'audit', 'ls', '--json');
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

// request()'s body of an export as its lines (one line parses as JSON).
function ndjson(body) {
  return (typeof body === 'string' ? body : `${JSON.stringify(body)}\n`).split('\n').filter(Boolean);
}

async function signIn(name) {
  const s = await openConsole(browser, broker, { viewport: { width: 1280, height: 900 } });
  const { page } = s;
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await fillSignIn(page, name, PASSWORD, totp(users[name], step()));
  // The first view: Hosts, or Audit for an auditor (who uses no host).
  await page.locator('#view h1').waitFor();
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit' }).waitFor();
  await page.waitForFunction(() => /events|No event/.test(document.getElementById('audit-status').textContent));
  return s;
}

// The rows shown: [{seq, actor, outcome, type}].
async function rows(page) {
  return page.$$eval('#audit tbody tr', (trs) => trs.map((tr) => {
    const cell = (l) => tr.querySelector(`td[data-label="${l}"]`).textContent;
    return { seq: Number(tr.dataset.seq), actor: cell('Actor'), outcome: cell('Outcome'),
      type: cell('Type') };
  }));
}

// Fills the filter form (every field named, the others emptied) and applies it.
async function filter(page, values) {
  for (const name of ['actor', 'type', 'outcome', 'host', 'q']) {
    await page.fill(`#audit-${name}`, values[name] || '');
  }
  // load() says Loading… before its first await: wait for the answer.
  await page.click('#audit-filter button[type=submit]');
  await page.waitForFunction(() => document.getElementById('audit-status').textContent !== 'Loading…');
}

before(async () => {
  broker = await startBroker();
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  tools: [list_hosts]\n');
  applyRole(broker, 'kind: role\nname: admins\nallow:\n  tools: [list_hosts]\noptions:\n  admin: true\n');
  applyRole(broker, 'kind: role\nname: auditor\noptions:\n  auditor: true\n');
  users.ada = await enrolUser(broker, 'ada', 'admins', PASSWORD);
  users.aud = await enrolUser(broker, 'aud', 'auditor', PASSWORD);
  users.pat = await enrolUser(broker, 'pat', 'viewer', PASSWORD);
  // A failed login of pat's: a "failure" outcome to filter on.
  const bad = await request(broker, 'POST', '/v1/login',
    { body: { user: 'pat', password: 'not the password', otp: '000000' } });
  assert.equal(bad.status, 401);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await adminPage?.ctx.close();
  await browser?.close();
  await stopChecked(broker);
});

test('an administrator filters by actor and outcome on the server and opens an event', async () => {
  adminPage = await signIn('ada');
  const { page, violations } = adminPage;
  // The chain is intact.
  await page.waitForSelector('#audit-chain:not([hidden])');
  assert.equal(await page.getAttribute('#audit-chain', 'class'), 'chain chain-ok');
  assert.match(await page.textContent('#audit-chain'), /^Chain verified up to #\d+, head sha256:[0-9a-f]{64}$/);
  // Newest first, everyone's.
  const all = await rows(page);
  assert.ok(all.length > 5);
  assert.deepEqual(all.map((r) => r.seq), [...all.map((r) => r.seq)].sort((a, b) => b - a));
  assert.ok(new Set(all.map((r) => r.actor)).size > 2);

  await filter(page, { actor: 'user:pat' });
  const pat = await rows(page);
  assert.ok(pat.length >= 2, JSON.stringify(pat));
  assert.ok(pat.every((r) => r.actor === 'user:pat'), JSON.stringify(pat));

  await filter(page, { outcome: 'failure' });
  const failed = await rows(page);
  assert.ok(failed.length >= 1);
  assert.ok(failed.every((r) => r.outcome === 'failure'), JSON.stringify(failed));
  assert.ok(failed.some((r) => r.type === 'user.login'));

  await filter(page, { type: 'role.*' });
  const roles = await rows(page);
  assert.ok(roles.length >= 3);
  assert.ok(roles.every((r) => r.type.startsWith('role.')), JSON.stringify(roles));

  // Click a row: its full event, pretty JSON, in the page as text.
  await page.click(`#audit tbody tr[data-seq="${roles[0].seq}"] td[data-label="Type"]`);
  await page.waitForSelector('#audit-detail:not([hidden])');
  const shown = JSON.parse(await page.textContent('#audit-json'));
  const want = JSON.parse(lsLines().find((l) => JSON.parse(l).seq === roles[0].seq));
  assert.deepEqual(shown, want);
  assert.match(await page.textContent('#audit-detail h2'), new RegExp(`^Event #${roles[0].seq}: role\\.`));
  // By keyboard: the row's button opens it too.
  await page.focus(`#audit tbody tr[data-seq="${roles[1].seq}"] button`);
  await page.keyboard.press('Enter');
  await page.waitForFunction((s) => document.querySelector('#audit-detail h2').textContent.startsWith(`Event #${s}:`), roles[1].seq);
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H2');

  assert.deepEqual(violations, []);
  const reads = auditEvents(broker, 'audit.read').filter((e) => e.actor === 'user:ada');
  assert.ok(reads.some((e) => e.details.actor === 'user:pat' && e.details.read === 'page'));
});

test('Next and Previous page through the filter; the export is `audit ls --json` filtered alike', async () => {
  const { page } = adminPage;
  // Pages of 50 newest first: make sure there are more than 50 events.
  for (let i = 0; i < 30; i++) {
    applyRole(broker, `kind: role\nname: filler${i}\nallow:\n  tools: [list_hosts]\n`);
  }
  await filter(page, {});
  const first = await rows(page);
  assert.equal(first.length, 50);
  assert.equal(await page.isDisabled('#audit-prev'), true);
  await page.click('#audit-next');
  await page.waitForFunction((s) => Number(document.querySelector('#audit tbody tr').dataset.seq) < s, first.at(-1).seq + 1);
  const second = await rows(page);
  assert.equal(second[0].seq, first.at(-1).seq - 1);
  // Back on the newest page (which has grown by the reads themselves).
  await page.click('#audit-prev');
  await page.waitForFunction((s) => Number(document.querySelector('#audit tbody tr').dataset.seq) >= s, first[0].seq);
  assert.equal(await page.isDisabled('#audit-prev'), true);

  await filter(page, { actor: 'user:pat' });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#audit-export')]);
  assert.equal(dl.suggestedFilename(), 'audit.jsonl');
  const exported = fs.readFileSync(await dl.path(), 'utf8').split('\n').filter(Boolean);
  const want = lsLines().filter((l) => JSON.parse(l).actor === 'user:pat');
  assert.ok(want.length >= 2);
  assert.deepEqual(exported.sort(), want.sort());

  // The API alike: a type prefix and an outcome, through the cookie.
  const h = await sessionHeaders(broker, adminPage.ctx);
  const r = await request(broker, 'GET', '/v1/audit/export?type=user.*&outcome=success', { headers: h });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/x-ndjson');
  const lines = ndjson(r.body);
  const lsNow = lsLines().filter((l) => {
    const e = JSON.parse(l);
    return e.type.startsWith('user.') && e.outcome === 'success';
  });
  assert.ok(lines.length > 0);
  assert.deepEqual(lines.sort(), lsNow.sort());
  // Bounded arguments, named when refused.
  for (const [q, arg] of [['type=*', 'type'], ['order=sideways', 'order'], ['limit=0', 'limit'],
    [`q=${'x'.repeat(257)}`, 'q'], ['from=-1', 'from'], ['before=x', 'before']]) {
    const bad = await request(broker, 'GET', `/v1/audit?${q}`, { headers: h });
    assert.equal(bad.status, 400, q);
    assert.match(bad.body.error.message, new RegExp(`\\b${arg}\\b`), q);
  }
});

test('a plain user sees only its own events and no chain state; an auditor sees everything', async () => {
  const pat = await signIn('pat');
  try {
    const shown = await rows(pat.page);
    assert.ok(shown.length >= 2);
    assert.ok(shown.every((r) => r.actor === 'user:pat'), JSON.stringify(shown));
    assert.equal(await pat.page.isHidden('#audit-chain'), true);
    const h = await sessionHeaders(broker, pat.ctx);
    const mine = await request(broker, 'GET', '/v1/audit?limit=1000', { headers: h });
    assert.equal(mine.status, 200);
    assert.ok(mine.body.events.every((e) => e.actor === 'user:pat'));
    const others = await request(broker, 'GET', '/v1/audit?actor=user:ada', { headers: h });
    assert.deepEqual(others.body.events, []);
    const exp = await request(broker, 'GET', '/v1/audit/export', { headers: h });
    const lines = ndjson(exp.body).map((l) => JSON.parse(l));
    assert.ok(lines.length >= 2 && lines.every((e) => e.actor === 'user:pat'));
    const v = await request(broker, 'GET', '/v1/audit/verify', { headers: h });
    assert.equal(v.status, 403);
    assert.ok(auditEvents(broker, 'audit.verify').some((e) => e.actor === 'user:pat' && e.outcome === 'denied'));
  } finally {
    await pat.ctx.close();
  }
  const aud = await signIn('aud');
  try {
    await aud.page.waitForSelector('#audit-chain.chain-ok');
    // An auditor reviews: no Hosts, Approvals or Admin in the page.
    for (const name of ['Hosts', 'Approvals', 'Admin']) {
      assert.equal(await aud.page.getByRole('link', { name }).isVisible(), false, name);
    }
    assert.equal(await aud.page.getByRole('link', { name: 'Recordings' }).isVisible(), true);
    // Nor through the API: no terminal, no administration.
    const ah = await sessionHeaders(broker, aud.ctx);
    const term = await wsHandshake(broker, '/ws/ssh', { Cookie: ah.Cookie, Origin: broker.url,
      'Sec-WebSocket-Protocol': `zt, zt-csrf.${ah['X-ZT-CSRF']}` });
    assert.equal(term.status, 403);
    assert.match(term.body.error.message, /auditor/);
    for (const p of ['/v1/roles', '/v1/tokens', '/v1/agents']) {
      assert.equal((await request(broker, 'GET', p, { headers: ah })).status, 403, p);
    }
    assert.ok(auditEvents(broker, 'terminal.refused').some((e) => e.actor === 'user:aud'));
    const shown = await rows(aud.page);
    assert.ok(new Set(shown.map((r) => r.actor)).size > 2, JSON.stringify(shown));
    const h = await sessionHeaders(broker, aud.ctx);
    const v = await request(broker, 'GET', '/v1/audit/verify', { headers: h });
    assert.equal(v.status, 200);
    assert.equal(v.body.ok, true);
    assert.ok(v.body.head_seq > 0 && v.body.checked === v.body.head_seq);
  } finally {
    await aud.ctx.close();
  }
});

test('a row edited in the database shows as the broken link, in red, at its number', async () => {
  const victim = auditEvents(broker, 'user.login').find((e) => e.outcome === 'failure');
  assert.ok(victim);
  const db = path.join(broker.dataDir, 'zt.db');
  const s = spawnSync('sqlite3', [db, 'DROP TRIGGER audit_no_update; '
    + `UPDATE audit SET outcome = 'success' WHERE seq = ${victim.seq};`], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  const { page } = adminPage;
  await page.reload();
  await page.getByRole('heading', { name: 'Audit' }).waitFor();
  await page.waitForSelector('#audit-chain.chain-broken');
  assert.equal(await page.getAttribute('#audit-chain', 'data-first-bad'), String(victim.seq));
  assert.match(await page.textContent('#audit-chain'), new RegExp(`^Chain broken at #${victim.seq}: hash mismatch`));
  const color = await page.$eval('#audit-chain', (e) => getComputedStyle(e).color);
  assert.equal(color, 'rgb(207, 34, 46)');
  const cli = admin(broker, 'audit', 'verify');
  assert.match(cli.stdout, new RegExp(`first broken event is #${victim.seq}`));
});
