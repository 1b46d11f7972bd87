// The desktop tools end to end: a real RDP server (FreeRDP's shadow server
// mirroring a private Xvfb, NLA on: tests/fixtures/rdpd.sh), a real ztagent
// whose config names it with its certificate pin and a credentials file,
// the broker, and the official MCP SDK client. rdp_screenshot returns a PNG
// showing the known red block where it is; rdp_click on the xterm and
// rdp_type make a file on the desktop's host; a wrong pin, a wrong password
// and an offline desktop each give a clear tool error; a killed helper
// gives an error and the next call connects again; a role that allows only
// screenshots gets no input tool; redact_input keeps typed text out of the
// audit; and the desktop's password is in no response, log or audit event.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, joinToken, mcpConnect, startAgent, startBroker,
  stopChecked, tmpdir, until, ztctl, ztctlHome,
} from './lib/zt.mjs';
import { pixel, pngSize, startRdpd } from './lib/rdpd.mjs';

const PASSWORD = 'rdp-test-pw-9f3c1';
let rdpd;
let broker;
let agent;
let desk;       // MCP client, role desk: every rdp tool on env: lab
let shots;      // MCP client, role shots: rdp_screenshot only
let quiet;      // MCP client, role desk-redact: input audited by length
let tokens;
const seen = [];   // every response's JSON text, for the password check
const confDir = tmpdir('zt-rdp-conf-');
const agentDir = path.join(tmpdir('zt-rdp-agent-'), 'data');

async function call(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  seen.push(JSON.stringify(r));
  return r;
}
const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const png = (r) => Buffer.from(r.content.find((c) => c.type === 'image').data, 'base64');
const isRed = ([r, g, b]) => r > 200 && g < 40 && b < 40;

function creds(file, password) {
  const p = path.join(confDir, file);
  fs.writeFileSync(p, `username: ${rdpd.user}\npassword: ${password}\n`, { mode: 0o600 });
  return p;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const events = (type) => auditEvents(broker, type);

before(async () => {
  rdpd = await startRdpd({ auth: 'nla', password: PASSWORD });
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  const good = creds('desk1.yaml', PASSWORD);
  const bad = creds('desk-badpw.yaml', 'not-the-password');
  const wrongPin = `sha256:${'0'.repeat(64)}`;
  const off = await freePort();
  const res = [
    ['desk1', `127.0.0.1:${rdpd.port}`, rdpd.pin, good],
    ['desk-badpin', `127.0.0.1:${rdpd.port}`, wrongPin, good],
    ['desk-badpw', `127.0.0.1:${rdpd.port}`, rdpd.pin, bad],
    ['desk-off', `127.0.0.1:${off}`, rdpd.pin, good],
  ].map(([name, address, pin, file]) => `  - name: ${name}\n    kind: rdp\n    address: ${address}\n`
    + `    cert_pin: ${pin}\n    credentials_file: ${file}\n    labels: {env: lab}\n`).join('');
  const conf = path.join(confDir, 'agent.yaml');
  fs.writeFileSync(conf, `resources:\n${res}`, { mode: 0o600 });
  agent = await startAgent(broker, agentDir, 'lab1', { token: joinToken(broker), config: conf });
  assert.ok(agent.joined, agent.out?.stderr);
  const rdpTools = 'rdp_screenshot, rdp_click, rdp_move, rdp_drag, rdp_scroll, rdp_type, rdp_key';
  applyRole(broker, `kind: role\nname: desk\nallow:\n  hosts: {env: lab}\n  tools: [list_hosts, ${rdpTools}]\n`);
  applyRole(broker, 'kind: role\nname: shots\nallow:\n  hosts: {env: lab}\n  tools: [rdp_screenshot]\n');
  applyRole(broker, `kind: role\nname: desk-redact\nallow:\n  hosts: {env: lab}\n  tools: [${rdpTools}]\n`
    + 'options: {redact_input: true}\n');
  tokens = {
    desk: botToken(broker, 'desk-bot', { roles: 'desk' }),
    shots: botToken(broker, 'shots-bot', { roles: 'shots' }),
    quiet: botToken(broker, 'quiet-bot', { roles: 'desk-redact' }),
  };
  desk = await mcpConnect(broker, tokens.desk);
  // The SDK checks results against the tools' output schemas once it has
  // listed them.
  assert.ok((await desk.listTools()).tools.some((t) => t.name === 'rdp_move'));
  shots = await mcpConnect(broker, tokens.shots);
  quiet = await mcpConnect(broker, tokens.quiet);
  await until(async () => {
    const r = await desk.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent.hosts.filter((h) => h.online).length === 4;
  }, 'the four desktops online', 30000);
});

after(async () => {
  for (const c of [desk, shots, quiet]) await c?.close();
  if (agent?.stop) await agent.stop();
  if (broker) await stopChecked(broker);
  if (rdpd) await rdpd.stop();
});

test('rdp_screenshot: a PNG showing the red block where the desktop has it, kept with its hash', async () => {
  const t0 = Date.now();
  const r = await call(desk, 'rdp_screenshot', { host: 'desk1' });
  const cold = Date.now() - t0;
  assert.ok(!r.isError, text(r));
  const img = png(r);
  assert.deepEqual(pngSize(img), { width: 1024, height: 768 });
  assert.ok(isRed(pixel(img, 750, 525)), `red at 750,525: ${pixel(img, 750, 525)}`);
  assert.ok(!isRed(pixel(img, 100, 700)), 'not red outside the block');
  const sc = r.structuredContent;
  assert.equal(sc.width, 1024);
  assert.equal(sc.height, 768);
  assert.equal(sc.scale, 1);
  const sha = crypto.createHash('sha256').update(img).digest('hex');
  assert.equal(sc.sha256, sha);
  // The outcome event names the hash, and the file is kept 0600.
  const ev = events('tool.rdp_screenshot.result').at(-1);
  assert.equal(ev.details.screenshot_sha256, sha);
  const file = path.join(broker.dataDir, 'recordings', `${ev.details.call_id}.png`);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'), sha);
  // Warm: the same session answers again.
  const t1 = Date.now();
  const again = await call(desk, 'rdp_screenshot', { host: 'desk1', max_width: 512 });
  const warm = Date.now() - t1;
  console.log(`rdp_screenshot cold ${cold} ms, warm ${warm} ms`);
  const small = png(again);
  assert.deepEqual(pngSize(small), { width: 512, height: 384 });
  assert.equal(again.structuredContent.scale, 0.5);
  assert.ok(isRed(pixel(small, 375, 262)), `red at 375,262: ${pixel(small, 375, 262)}`);
});

test('rdp_click on the xterm and rdp_type make a file on the desktop host', async () => {
  const file = path.join(rdpd.dir, 'hi.txt');
  const shot = await call(desk, 'rdp_screenshot', { host: 'desk1', max_width: 512 });
  assert.equal(shot.structuredContent.scale, 0.5);
  // The xterm is at +250+20 on the desktop: 200,60 in this half-size shot.
  const click = await call(desk, 'rdp_click', { host: 'desk1', x: 200, y: 60 });
  assert.ok(!click.isError, text(click));
  assert.equal(click.structuredContent.events, 3, 'move, down, up');
  for (const [name, args] of [['rdp_move', { x: 10, y: 10 }],
    ['rdp_drag', { x: 10, y: 10, to_x: 20, to_y: 20 }], ['rdp_scroll', { x: 10, y: 10, dy: 1 }]]) {
    const r = await call(desk, name, { host: 'desk1', ...args });
    assert.ok(!r.isError, `${name}: ${text(r)}`);
    assert.ok(r.structuredContent.events >= 1);
  }
  // Back on the xterm: the pointer gives it the keyboard.
  assert.ok(!(await call(desk, 'rdp_click', { host: 'desk1', x: 200, y: 60 })).isError);
  const typed = await call(desk, 'rdp_type', { host: 'desk1', text: `echo hi > ${file}\n`,
    screenshot: true });
  assert.ok(!typed.isError, text(typed));
  assert.equal(pngSize(png(typed)).width, 1024, 'the screenshot after input is full size');
  await until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8') === 'hi\n',
    'the typed command ran', 10000);
  const ev = events('tool.rdp_type.result').at(-1);
  assert.equal(ev.details.text, `echo hi > ${file}\n`, 'typed text is audited');
  const key = await call(desk, 'rdp_key', { host: 'desk1', keys: 'ctrl+l' });
  assert.ok(!key.isError, text(key));
  assert.equal(events('tool.rdp_key.result').at(-1).details.keys, 'ctrl+l');
});

test('rdp_type with long text: all of it reaches the desktop', async () => {
  // Thousands of key events do not fit one desktop frame's head: the broker
  // sends them in several input requests, in order.
  const file = path.join(rdpd.dir, 'long.txt');
  const word = 'x'.repeat(1500);
  assert.ok(!(await call(desk, 'rdp_click', { host: 'desk1', x: 500, y: 100 })).isError);
  // An empty line first (an earlier test's ctrl+l may be in it).
  assert.ok(!(await call(desk, 'rdp_key', { host: 'desk1', keys: 'ctrl+u' })).isError);
  const typed = await call(desk, 'rdp_type', { host: 'desk1', text: `echo ${word} > ${file}\n` });
  assert.ok(!typed.isError, text(typed));
  assert.ok(typed.structuredContent.events > 3000, JSON.stringify(typed.structuredContent));
  await until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8') === `${word}\n`,
    'the long command ran', 15000);
});

test('max_width and coordinates past the desktop, as the schema allows them', async () => {
  // max_width is a bound: one past the desktop's width is full size.
  const wide = await call(desk, 'rdp_screenshot', { host: 'desk1', max_width: 10000 });
  assert.ok(!wide.isError, text(wide));
  assert.equal(wide.structuredContent.width, 1024);
  // A coordinate past the desktop is clamped to its edge, not refused.
  const far = await call(desk, 'rdp_move', { host: 'desk1', x: 20000, y: 20000 });
  assert.ok(!far.isError, text(far));
});


test('redact_input: the audit keeps the length of what was typed, not the text', async () => {
  const r = await call(quiet, 'rdp_type', { host: 'desk1', text: 'secret-ish words' });
  assert.ok(!r.isError, text(r));
  const ev = events('tool.rdp_type.result').at(-1);
  assert.equal(ev.actor, 'bot:quiet-bot');
  assert.equal(ev.details.text_bytes, 16);
  assert.equal(ev.details.text, undefined);
  assert.ok(!JSON.stringify(events('tool.rdp_type')).includes('secret-ish'));
});

test('a role that allows screenshots only: no input tool is listed or runs', async () => {
  const names = (await shots.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes('rdp_screenshot'));
  assert.ok(!names.includes('rdp_click') && !names.includes('rdp_type'), names.join(','));
  const r = await call(shots, 'rdp_click', { host: 'desk1', x: 1, y: 1 });
  assert.equal(r.isError, true);
  assert.match(text(r), /deny|not allowed|no role/i);
  const ok = await call(shots, 'rdp_screenshot', { host: 'desk1', max_width: 256 });
  assert.ok(!ok.isError, text(ok));
});

test('bad arguments are refused before anything is sent', async () => {
  for (const [name, args, want] of [
    ['rdp_click', { host: 'desk1', x: -1, y: 0 }, /x must be an integer/],
    ['rdp_type', { host: 'desk1', text: 'a\u0007b' }, /control character|U\+0007|0x07/i],
    ['rdp_key', { host: 'desk1', keys: 'ctrl+nokey' }, /unknown key/],
    ['rdp_screenshot', { host: 'desk1', max_width: 10 }, /max_width/],
    ['rdp_screenshot', { host: 'desk1', colour: 'red' }, /unknown argument/],
  ]) {
    const r = await call(desk, name, args);
    assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}`);
    assert.match(text(r), want);
  }
});

test('a wrong pin, a wrong password and an offline desktop each give a clear tool error', async () => {
  const pin = await call(desk, 'rdp_screenshot', { host: 'desk-badpin' });
  assert.equal(pin.isError, true);
  assert.match(text(pin), /certificate/i);
  const pw = await call(desk, 'rdp_screenshot', { host: 'desk-badpw' });
  assert.equal(pw.isError, true);
  assert.match(text(pw), /\bauth/i);
  const off = await call(desk, 'rdp_screenshot', { host: 'desk-off' });
  assert.equal(off.isError, true);
  assert.match(text(off), /unreachable/i);
  for (const r of [pin, pw, off]) assert.ok(!text(r).includes('not-the-password'));
  // Each failure is the call's outcome, audited as a failure.
  const failed = events('tool.rdp_screenshot.result').filter((e) => e.outcome === 'failure');
  assert.ok(failed.length >= 3, JSON.stringify(failed.map((e) => e.details.status)));
});

// The agent's ztrdp children (the desktop sessions' helpers).
function helpers() {
  const kids = [];
  for (const t of fs.readdirSync(`/proc/${agent.proc.pid}/task`)) {
    const c = fs.readFileSync(`/proc/${agent.proc.pid}/task/${t}/children`, 'utf8').trim();
    if (c) kids.push(...c.split(/\s+/).map(Number));
  }
  return kids.filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'ztrdp'; } catch { return false; }
  });
}

test('a killed helper: the next call says the session ended, the one after connects again', async () => {
  const ok = await call(desk, 'rdp_screenshot', { host: 'desk1', max_width: 256 });
  assert.ok(!ok.isError, text(ok));
  const before = helpers();
  assert.ok(before.length >= 1, 'a helper runs for the warm session');
  for (const p of before) process.kill(p, 'SIGKILL');
  const broken = await call(desk, 'rdp_screenshot', { host: 'desk1', max_width: 256 });
  assert.equal(broken.isError, true);
  assert.match(text(broken), /ended|disconnected/i);
  const back = await call(desk, 'rdp_screenshot', { host: 'desk1', max_width: 256 });
  assert.ok(!back.isError, text(back));
  assert.ok(helpers().some((p) => !before.includes(p)), 'a new helper');
});

test('removing a bot ends its warm desktop session at the agent, audited', async () => {
  const tok = botToken(broker, 'gone-bot', { roles: 'desk' });
  const gone = await mcpConnect(broker, tok);
  const before = helpers();
  const r = await call(gone, 'rdp_screenshot', { host: 'desk1', max_width: 256 });
  assert.ok(!r.isError, text(r));
  const mine = helpers().filter((p) => !before.includes(p));
  assert.equal(mine.length, 1, 'one new helper for the new identity');
  await gone.close().catch(() => {});
  assert.equal(admin(broker, 'bots', 'rm', 'gone-bot').code, 0);
  await until(() => !helpers().includes(mine[0]), 'its helper ends', 20000);
  await until(() => events('desktop.closed').some((e) => e.actor === 'bot:gone-bot'
    && e.details.host === 'desk1' && e.outcome === 'success'), 'desktop.closed recorded', 10000);
});

test('ztctl rdp HOST --screenshot writes the PNG (0600)', async () => {
  const home = ztctlHome(broker, 'desk-bot', tokens.desk, ['desk']);
  const out = path.join(confDir, 'shot.png');
  const r = await ztctl(['rdp', 'desk1', '--screenshot', out, '--max-width', '400'], { home });
  assert.equal(r.code, 0, r.stderr);
  const img = fs.readFileSync(out);
  assert.equal(pngSize(img).width, 400);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
});

test('the desktop password is in no response, log or audit event', async () => {
  const audit = admin(broker, 'audit', 'ls', '--json').stdout;
  const places = {
    responses: seen.join('\n'), audit,
    brokerLog: broker.log.join(''),
    agentLog: agent.out.stdout + agent.out.stderr,
  };
  assert.ok(audit.includes('rdp_screenshot'), 'the audit was read');
  for (const [where, s] of Object.entries(places)) {
    assert.ok(!s.includes(PASSWORD), `the password is in ${where}`);
  }
});
