// The console's Recordings view and the Audit view's live tail in a real
// browser (playwright-core driving Debian's chromium) against a real
// broker, agent and OpenSSH sshd. Sessions are made with the real `ztctl
// ssh` in a pseudo-terminal (tests/tools/pty_run), printing known text
// with pauses and changing the window size once. In the page: the list
// shows the recording with host, login and who; it plays in the page at 8x
// to the end (the text and the new size there), pause stops the clock,
// seeking to the end shows everything at once and to the start clears it,
// by keyboard; a session still running plays as far as it is recorded;
// a plain user sees only their own recording, an auditor every one. The live tail (/ws/audit): an event appears at the top
// without a reload, under the filter applied, never another's to a plain
// user; the tail ends when the session is logged out or the broker
// stops; its handshake needs the CSRF subprotocol and the broker's own
// Origin; a filter it refuses is said. No CSP violation anywhere.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import {
  applyRole, auditEvents, enrolUser, request, startBroker, step, stopChecked, totp, until,
  wsHandshake, ztctlAccount,
} from './lib/zt.mjs';
import { startSshHost, ztctlTerminal as terminal } from './lib/sshd.mjs';
import {
  auditRows, openConsole as openConsoleOn, sessionHeaders, signIn as fillSignIn,
} from './lib/console.mjs';

const PASSWORD = 'a long console recordings test password';
const ROLE = 'kind: role\nname: term\nallow:\n  hosts: {env: staging}\n  logins: [LOGIN]\n'
  + '  tools: [ssh_shell, list_hosts]\n';

let broker;
let host;       // {sshd, agent}
let browser;
const users = {}; // name -> {secret, step (the last step its codes were used for)}
const recs = {};  // name -> the recording's end event details.recording
const pages = []; // every page opened, for their CSP violations

// The recording of a session that ran; the last shell end event's.
function lastRecording() {
  return auditEvents(broker, 'tool.ssh_shell.result').at(-1).details.recording;
}

// A console page (lib/console.mjs) that also keeps every WebSocket it
// opens in window.sockets, to see which are still open.
async function openConsole() {
  const s = await openConsoleOn(browser, broker, { height: 900, init: () => {
    const Native = window.WebSocket;
    window.sockets = [];
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.sockets.push(this);
      }
    };
  } });
  pages.push(s);
  return s;
}

// Signs name in with a code of a step its codes were not used for yet.
async function signIn(name) {
  const u = users[name];
  await until(() => step() > u.step, `a fresh TOTP step for ${name}`, 31000);
  u.step = step();
  const s = await openConsole();
  await fillSignIn(s.page, name, PASSWORD, totp(u.secret, u.step));
  await s.page.locator('#view h1').waitFor();
  return s;
}

// The Recordings list as shown: [{id, host, login, who}].
async function listed(page) {
  await page.getByRole('link', { name: 'Recordings', exact: true }).click();
  await page.getByRole('heading', { name: 'Recordings' }).waitFor();
  await page.waitForFunction(() => /recordings|No recording/.test(document.getElementById('recordings-status').textContent));
  return page.$$eval('#recordings tbody tr', (trs) => trs.map((tr) => {
    const cell = (l) => tr.querySelector(`td[data-label="${l}"]`).textContent;
    return { id: tr.dataset.id, host: cell('Host'), login: cell('Login'), who: cell('Who') };
  }));
}

// What the player's terminal shows, and its number of rows.
const screenText = (page) => page.$eval('#player-term .xterm-rows', (e) => e.textContent.replace(/\u00a0/g, ' '));
const rowsAre = (page, n) => page.waitForFunction((k) => document.querySelector('#player-term .xterm-rows').children.length === k, n);

// Opens the Audit view and waits until its tail is live.
async function auditLive(page) {
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit' }).waitFor();
  await page.waitForSelector('#audit-live-status[data-state="live"]');
}

// How many of the page's WebSockets are open or opening.
const socketsOpen = (page) => page.evaluate(() => window.sockets.filter((w) => w.readyState < 2).length);

// A failed API login of name: a user.login event with outcome failure.
async function failLogin(name) {
  const r = await request(broker, 'POST', '/v1/login', { body: { user: name, password: 'wrong', otp: '000000' } });
  assert.equal(r.status, 401);
  return auditEvents(broker, 'user.login').filter((e) => e.actor === `user:${name}`).at(-1);
}

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  host = await startSshHost(broker, { name: 'web1', labels: 'env=staging', role: ROLE });
  applyRole(broker, 'kind: role\nname: auditor\noptions:\n  auditor: true\n');
  const dev = await ztctlAccount(broker, 'dev', 'term', PASSWORD);
  const pat = await ztctlAccount(broker, 'pat', 'term', PASSWORD);
  users.dev = dev;
  users.pat = pat;
  users.aud = { secret: await enrolUser(broker, 'aud', 'auditor', PASSWORD), step: step() - 1 };

  // dev: three lines a second apart (the shell computes them, so the
  // typed command is not the text), the window made larger between.
  const t = terminal(dev.home, [`${host.sshd.user}@web1`]);
  t.type('echo ONE$((40+2)); sleep 1; echo TWO$((40+3))\r');
  await t.waitFor(/TWO43/, 'the second line');
  t.resize();
  await until(() => { t.type('stty size\r'); return /30 100/.test(t.out); }, 'the new size', 10000);
  t.type('sleep 1; echo THREE$((40+4)); exit 0\r');
  const r = await t.done;
  assert.equal(r.code, 0, r.err);
  recs.dev = lastRecording();
  const p = terminal(pat.home, [`${host.sshd.user}@web1`]);
  p.type('echo PAT$((1+1)); exit 0\r');
  assert.equal((await p.done).code, 0);
  recs.pat = lastRecording();
  assert.notEqual(recs.dev.id, recs.pat.id);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  for (const s of pages) await s.ctx.close();
  await browser?.close();
  await host?.agent.stop();
  host?.sshd.stop();
  await stopChecked(broker); // (null when a test stopped it)
});

test('the list shows the recording; it plays in the page at 8x, pauses, seeks by keyboard', async () => {
  const { page } = await signIn('dev');
  const list = await listed(page);
  assert.deepEqual(list, [{ id: recs.dev.id, host: 'web1', login: host.sshd.user, who: 'user:dev' }]);

  await page.click(`#recordings tr[data-id="${recs.dev.id}"] a`);
  await page.waitForSelector('#player');
  assert.equal(new URL(page.url()).hash, `#/recordings/${recs.dev.id}`);
  assert.match(await page.textContent('#view h1'), new RegExp(`user:dev on web1 as ${host.sshd.user}`));
  assert.match(await page.textContent('#player-note'), /Pauses longer than 2 s play as 2 s/);
  await rowsAre(page, 24);
  assert.match(await page.textContent('#player-time'), /^0:00 \/ 0:\d\d$/);

  // 8x to the end: every line, and the window as it was made.
  await page.getByLabel('Speed').selectOption('8');
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForSelector('#player[data-state="ended"]');
  await page.waitForFunction(() => /ONE42[^]*TWO43[^]*THREE44/.test(document.querySelector('#player-term .xterm-rows').textContent));
  await rowsAre(page, 30);
  const total = await page.$eval('#player-seek', (e) => e.max);
  assert.equal(await page.$eval('#player-seek', (e) => e.value), total);

  // Pause stops the clock: it moved while playing, not once paused.
  await page.getByLabel('Speed').selectOption('0.5');
  await page.getByRole('button', { name: 'Play' }).click(); // from the start again
  await page.waitForFunction(() => Number(document.getElementById('player-seek').value) > 0.05);
  await page.getByRole('button', { name: 'Pause' }).click();
  assert.equal(await page.getAttribute('#player', 'data-state'), 'paused');
  const at = await page.$eval('#player-seek', (e) => e.value);
  const shown = await page.textContent('#player-time');
  await page.waitForTimeout(600);
  assert.equal(await page.$eval('#player-seek', (e) => e.value), at);
  assert.equal(await page.textContent('#player-time'), shown);

  // Seeking by keyboard: End shows everything at once, Home clears it.
  await page.focus('#player-seek');
  await page.keyboard.press('End');
  await page.waitForFunction(() => /ONE42[^]*TWO43[^]*THREE44/.test(document.querySelector('#player-term .xterm-rows').textContent));
  assert.equal(await page.getAttribute('#player', 'data-state'), 'ended');
  await rowsAre(page, 30);
  await page.keyboard.press('Home');
  await page.waitForFunction(() => !/ONE42|TWO43|THREE44/.test(document.querySelector('#player-term .xterm-rows').textContent));
  await rowsAre(page, 24);
  assert.match(await page.textContent('#player-time'), /^0:00 \//);
  // The slider says its time in words to assistive technology.
  assert.match(await page.getAttribute('#player-seek', 'aria-valuetext'), /^0:00 of 0:0\d$/);
  // An arrow moves 5 s (or to the end, if nearer), not a hundredth.
  await page.keyboard.press('ArrowRight');
  assert.equal(Number(await page.$eval('#player-seek', (e) => e.value)), Math.min(5, Number(total)));
  await page.keyboard.press('ArrowLeft');
  assert.equal(Number(await page.$eval('#player-seek', (e) => e.value)), 0);
  // The recorded terminal is no keyboard trap: Tab leaves it.
  await page.focus('#player-term .xterm-helper-textarea');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains('xterm-helper-textarea')),
    false);

  // The reads are on record as the API's.
  assert.ok(auditEvents(broker, 'recording.read').some((e) => e.actor === 'user:dev'
    && e.details.recording_id === recs.dev.id && e.outcome === 'success'));
});

test('the player drops typed input and shortens long pauses', async () => {
  const { page } = pages[0];
  const cast = [
    JSON.stringify({ version: 2, width: 40, height: 10 }),
    JSON.stringify([0.5, 'o', 'a']),
    JSON.stringify([0.75, 'i', 'secret']),
    JSON.stringify([30.5, 'o', 'b']),
    JSON.stringify([31, 'r', '50x12']),
    '[31.5, "o", "unfinish',
  ].join('\n');
  const parsed = await page.evaluate(async (text) => {
    const m = await import('/assets/js/player.js');
    return m.parseCast(text);
  }, cast);
  assert.deepEqual(parsed, { width: 40, height: 10, title: '', capped: 1,
    events: [[0.5, 'o', 'a'], [2.5, 'o', 'b'], [3, 'r', '50x12']] });
  // A header asking for a huge terminal gets at most 1000 x 500.
  const huge = await page.evaluate(async (text) => {
    const m = await import('/assets/js/player.js');
    const c = m.parseCast(text);
    return [c.width, c.height];
  }, JSON.stringify({ version: 2, width: 5000, height: 3000 }));
  assert.deepEqual(huge, [1000, 500]);
});

test('a plain user lists only their own recording; an auditor every one', async () => {
  const pat = await signIn('pat');
  assert.deepEqual((await listed(pat.page)).map((r) => r.id), [recs.pat.id]);
  // Another's by its address: the API's 404, as for one that does not exist.
  await pat.page.goto(`${broker.url}/#/recordings/${recs.dev.id}`);
  await pat.page.waitForSelector('#view .error');
  assert.match(await pat.page.textContent('#view .error'), /no such recording/);
  assert.equal(await pat.page.$('#player'), null);

  const aud = await signIn('aud');
  const all = await listed(aud.page);
  assert.deepEqual(all.map((r) => r.id).sort(), [recs.dev.id, recs.pat.id].sort());
  // Filtered on the broker by user, then by host.
  await aud.page.fill('#recordings-user', 'pat');
  await aud.page.click('#recordings-filter button[type=submit]');
  await aud.page.waitForFunction(() => document.querySelectorAll('#recordings tbody tr').length === 1);
  assert.equal(await aud.page.getAttribute('#recordings tbody tr', 'data-id'), recs.pat.id);
  await aud.page.fill('#recordings-user', '');
  await aud.page.fill('#recordings-host', 'db9');
  await aud.page.click('#recordings-filter button[type=submit]');
  await aud.page.waitForSelector('#recordings-status:has-text("No recording")');
  // The auditor plays dev's.
  await aud.page.goto(`${broker.url}/#/recordings/${recs.dev.id}`);
  await aud.page.waitForSelector('#player');
  await aud.page.focus('#player-seek');
  await aud.page.keyboard.press('End');
  await aud.page.waitForFunction(() => /THREE44/.test(document.querySelector('#player-term .xterm-rows').textContent));
  assert.ok(!/PAT2/.test(await screenText(aud.page)));
});

test('a session still running is listed as running and plays what was recorded so far', async () => {
  const t = terminal(users.dev.home, [`${host.sshd.user}@web1`]);
  t.type('echo RUN$((5+5))\r');
  await t.waitFor(/RUN10/, 'the running session');
  try {
    const { page } = pages[0];
    const running = (await listed(page)).find((r) => r.id !== recs.dev.id);
    assert.ok(running, 'the running session is listed');
    const row = `#recordings tr[data-id="${running.id}"]`;
    assert.equal(await page.textContent(`${row} td[data-label="Length"]`), 'running');
    await page.click(`${row} a`);
    await page.waitForSelector('#player');
    assert.match(await page.textContent('#player-note'), /still runs/);
    assert.match(await page.textContent('#player-status'), /still running/);
    await page.focus('#player-seek');
    await page.keyboard.press('End');
    await page.waitForFunction(() => /RUN10/.test(document.querySelector('#player-term .xterm-rows').textContent));
  } finally {
    t.type('exit 0\r');
    assert.equal((await t.done).code, 0);
  }
});

test('live: a new event appears at the top without a reload', async () => {
  const aud = pages.at(-1);
  const { page } = aud;
  await auditLive(page);
  const top = (await auditRows(page))[0].seq;
  await page.evaluate(() => { window.notReloaded = true; });
  const ev = await failLogin('dev');
  assert.ok(ev.seq > top);
  await page.waitForSelector(`#audit tbody tr[data-seq="${ev.seq}"]`);
  const rows = await auditRows(page);
  assert.deepEqual(rows.map((r) => r.seq), [...rows.map((r) => r.seq)].sort((a, b) => b - a));
  const row = rows.find((r) => r.seq === ev.seq);
  assert.deepEqual(row, { seq: ev.seq, actor: 'user:dev', outcome: 'failure', type: 'user.login' });
  assert.equal(await page.evaluate(() => window.notReloaded), true);
  // Announced: how many arrived.
  assert.match(await page.textContent('#audit-live-status'), /^\d+ new events?\.$/);
  assert.equal(await page.getAttribute('#audit-live-status', 'aria-live'), 'polite');
  assert.ok(auditEvents(broker, 'audit.read').some((e) => e.actor === 'user:aud' && e.details.read === 'tail'));
});

test('live: the filter applied is respected; the tail closes with a new filter and when the view is left', async () => {
  const { page } = pages.at(-1);
  await page.fill('#audit-outcome', 'failure');
  await page.click('#audit-filter button[type=submit]');
  // Opened again with the filter: watching, no new event yet.
  await page.waitForSelector('#audit-live-status:has-text("Watching for new events")');
  applyRole(broker, 'kind: role\nname: noise\nallow:\n  tools: [list_hosts]\n'); // a success
  const ev = await failLogin('pat');
  await page.waitForSelector(`#audit tbody tr[data-seq="${ev.seq}"]`);
  const rows = await auditRows(page);
  assert.ok(rows.every((r) => r.outcome === 'failure'), JSON.stringify(rows));
  assert.equal(rows[0].seq, ev.seq);
  // The tail of the old filter was closed for the new one's.
  assert.equal(await socketsOpen(page), 1);
  assert.ok(await page.evaluate(() => window.sockets.length) >= 2);
  // Leaving the view closes it.
  await page.getByRole('link', { name: 'Recordings', exact: true }).click();
  await page.getByRole('heading', { name: 'Recordings' }).waitFor();
  await page.waitForFunction(() => window.sockets.every((w) => w.readyState >= 2));
});

test("live: a plain user's tail never shows another's event", async () => {
  const pat = pages[1];
  const { page } = pat;
  await auditLive(page);
  const others = await failLogin('dev');
  const own = await failLogin('pat');
  assert.ok(own.seq > others.seq);
  // In seq order: once pat's own is there, dev's would have come first.
  await page.waitForSelector(`#audit tbody tr[data-seq="${own.seq}"]`);
  const rows = await auditRows(page);
  assert.ok(rows.every((r) => r.actor === 'user:pat'), JSON.stringify(rows));
  assert.equal(await page.$(`#audit tbody tr[data-seq="${others.seq}"]`), null);
});

test('live: logging the session out ends the tail; the handshake needs the CSRF subprotocol and the own Origin; a bad filter is said', async () => {
  const { page, ctx } = pages[1];
  const h = await sessionHeaders(broker, ctx);
  // The raw handshake: 101 with both, 403 without the token or from elsewhere.
  const ok = await wsHandshake(broker, '/ws/audit', { Cookie: h.Cookie, Origin: broker.url,
    'Sec-WebSocket-Protocol': `zt, zt-csrf.${h['X-ZT-CSRF']}` });
  assert.equal(ok.status, 101);
  assert.equal(ok.protocol, 'zt');
  const noCsrf = await wsHandshake(broker, '/ws/audit', { Cookie: h.Cookie, Origin: broker.url,
    'Sec-WebSocket-Protocol': 'zt' });
  assert.equal(noCsrf.status, 403);
  const foreign = await wsHandshake(broker, '/ws/audit', { Cookie: h.Cookie,
    Origin: 'https://evil.example', 'Sec-WebSocket-Protocol': `zt, zt-csrf.${h['X-ZT-CSRF']}` });
  assert.equal(foreign.status, 403);
  // An auditor's tail opens (the auditor rule is for the routes to hosts).
  const ah = await sessionHeaders(broker, pages.at(-1).ctx);
  const proto = { Cookie: ah.Cookie, Origin: broker.url, 'Sec-WebSocket-Protocol': `zt, zt-csrf.${ah['X-ZT-CSRF']}` };
  assert.equal((await wsHandshake(broker, '/ws/audit', proto)).status, 101);
  assert.equal((await wsHandshake(broker, '/ws/ssh', proto)).status, 403);

  // A filter the broker refuses, from the page's own socket.
  const said = await page.evaluate(async (filters) => {
    const { csrf } = await (await fetch('/v1/web/session')).json();
    const out = [];
    for (const f of filters) {
      out.push(await new Promise((resolve) => {
        const ws = new WebSocket(`wss://${location.host}/ws/audit`, ['zt', `zt-csrf.${csrf}`]);
        ws.onopen = () => ws.send(f);
        ws.onmessage = (m) => resolve(JSON.parse(m.data));
        ws.onclose = () => resolve(null);
      }));
    }
    return out;
  }, [JSON.stringify({ type: '*' }), JSON.stringify({ order: 'desc' }), 'not json', JSON.stringify({ since: 1.5 })]);
  assert.equal(said[0].type, 'error');
  assert.match(said[0].message, /\btype\b/);
  assert.match(said[1].message, /not order/);
  assert.match(said[2].message, /not a JSON object/);
  assert.match(said[3].message, /since/);

  // Logged out behind the page's back: the tail ends and says why.
  assert.equal((await request(broker, 'POST', '/v1/web/logout', { headers: { ...h, Origin: broker.url } })).status, 200);
  await page.waitForSelector('#audit-live-status[data-state="ended"]');
  assert.match(await page.textContent('#audit-live-status'), /^Live ended: .+\.$/);
  assert.equal(await page.isChecked('#audit-live'), false);
});

test('the broker stopping ends an open tail (and waits for it)', async () => {
  const { page } = pages.at(-1);
  await auditLive(page);
  await stopChecked(broker);
  broker = null;
  await page.waitForSelector('#audit-live-status[data-state="ended"]');
  assert.equal(await page.isChecked('#audit-live'), false);
});

test('no page saw a CSP violation', async () => {
  for (const s of pages) {
    assert.deepEqual(s.violations, []);
    assert.deepEqual(await s.page.evaluate(() => window.cspViolations), []);
  }
});
