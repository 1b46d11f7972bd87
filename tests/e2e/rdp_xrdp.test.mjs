// The desktop tools against a second real RDP server: xrdp 0.9 + xorgxrdp
// (tests/fixtures/xrdpd.sh; root only, else every test here is reported
// skipped with the reason). A real ztagent names it with its certificate pin
// and a credentials file, the broker and the official MCP SDK client call
// the tools: rdp_screenshot shows the session's red root window and black
// xterm where they are, rdp_click + rdp_type run a command in that xterm,
// and a wrong password is a tool error that does not show the password
// (but does not say "auth" either: a todo, xrdp 0.9 keeps the connection
// and shows its own login window, so the helper only times out).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  applyRole, botToken, joinToken, mcpConnect, startAgent, startBroker, stopChecked, tmpdir, until,
} from './lib/zt.mjs';
import { pixel, pngSize } from './lib/rdpd.mjs';
import { startXrdpd, xrdpUnavailable } from './lib/xrdpd.mjs';

const skip = xrdpUnavailable() || false;
const PASSWORD = 'xrdp-test-pw-4b7e2';
let xrdpd;
let broker;
let agent;
let desk;
let badpw;     // the wrong-password call's error text
const confDir = tmpdir('zt-xrdp-conf-');
const agentTmp = tmpdir('zt-xrdp-agent-');

const text = (r) => r.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const png = (r) => Buffer.from(r.content.find((c) => c.type === 'image').data, 'base64');
const isRed = ([r, g, b]) => r > 200 && g < 40 && b < 40;
const isBlack = ([r, g, b]) => r < 40 && g < 40 && b < 40;

before(async () => {
  if (skip) return;
  xrdpd = await startXrdpd({ password: PASSWORD });
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  const res = [['xdesk', PASSWORD], ['xdesk-badpw', 'not-the-password']].map(([name, pw]) => {
    const file = path.join(confDir, `${name}.yaml`);
    fs.writeFileSync(file, `username: ${xrdpd.user}\npassword: ${pw}\n`, { mode: 0o600 });
    return `  - name: ${name}\n    kind: rdp\n    address: 127.0.0.1:${xrdpd.port}\n`
      + `    cert_pin: ${xrdpd.pin}\n    credentials_file: ${file}\n    labels: {env: xlab}\n`;
  }).join('');
  const conf = path.join(confDir, 'agent.yaml');
  fs.writeFileSync(conf, `resources:\n${res}`, { mode: 0o600 });
  agent = await startAgent(broker, path.join(agentTmp, 'data'), 'xlab1',
    { token: joinToken(broker), config: conf });
  assert.ok(agent.joined, agent.out?.stderr);
  applyRole(broker, 'kind: role\nname: xdesk\nallow:\n  hosts: {env: xlab}\n'
    + '  tools: [list_hosts, rdp_screenshot, rdp_click, rdp_type]\n');
  desk = await mcpConnect(broker, botToken(broker, 'xdesk-bot', { roles: 'xdesk' }));
  assert.ok((await desk.listTools()).tools.some((t) => t.name === 'rdp_type'));
  await until(async () => {
    const r = await desk.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent.hosts.filter((h) => h.online).length === 2;
  }, 'both desktops online', 30000);
});

after(async () => {
  await desk?.close();
  if (agent?.stop) await agent.stop();
  if (broker) await stopChecked(broker);
  if (xrdpd) await xrdpd.stop();
  for (const d of [confDir, agentTmp]) fs.rmSync(d, { recursive: true, force: true });
});

test('rdp_screenshot through zt: the xrdp session, red around a black xterm', { skip }, async () => {
  // The first logon starts the session (Xorg, then its startwm.sh): the
  // first frames are black, then red, until the xterm is up too.
  let img;
  await until(async () => {
    const r = await desk.callTool({ name: 'rdp_screenshot', arguments: { host: 'xdesk' } });
    assert.ok(!r.isError, text(r));
    img = png(r);
    return isRed(pixel(img, 100, 700)) && isBlack(pixel(img, 500, 200));
  }, 'the session painted: red, the xterm black', 20000);
  assert.deepEqual(pngSize(img), { width: 1024, height: 768 });
  for (const [x, y] of [[10, 10], [1000, 700], [100, 700]]) {
    assert.ok(isRed(pixel(img, x, y)), `red at ${x},${y}: ${pixel(img, x, y)}`);
  }
  // The xterm (80x20 at +250+20) is black, not red.
  assert.ok(isBlack(pixel(img, 500, 200)), `black in the xterm: ${pixel(img, 500, 200)}`);
  const half = await desk.callTool({ name: 'rdp_screenshot', arguments: { host: 'xdesk', max_width: 512 } });
  assert.deepEqual(pngSize(png(half)), { width: 512, height: 384 });
  assert.ok(isRed(pixel(png(half), 50, 350)) && isBlack(pixel(png(half), 250, 100)));
});

test('rdp_click on the xterm and rdp_type run a command in the xrdp session', { skip }, async () => {
  const file = path.join(xrdpd.dir, 'home', 'hi.txt');
  // Input coordinates are the last screenshot's pixels: a full-size one.
  const shot = await desk.callTool({ name: 'rdp_screenshot', arguments: { host: 'xdesk' } });
  assert.equal(shot.structuredContent.scale, 1);
  const click = await desk.callTool({ name: 'rdp_click', arguments: { host: 'xdesk', x: 500, y: 200 } });
  assert.ok(!click.isError, text(click));
  const typed = await desk.callTool({ name: 'rdp_type',
    arguments: { host: 'xdesk', text: 'echo hi-from-zt > hi.txt\n' } });
  assert.ok(!typed.isError, text(typed));
  await until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8') === 'hi-from-zt\n',
    'the typed command ran as the xrdp user', 10000);
  assert.equal(fs.statSync(file).uid, Number(fs.statSync(path.join(xrdpd.dir, 'home')).uid));
});

test('a wrong password: a tool error, without the password', { skip }, async () => {
  // xrdp 0.9 does not drop the connection on a refused logon: it shows its
  // login window with "login failed" and waits, so the helper sees no full
  // frame and the call fails when the connect time (15 s) is up.
  const r = await desk.callTool({ name: 'rdp_screenshot', arguments: { host: 'xdesk-badpw' } });
  assert.equal(r.isError, true);
  badpw = text(r);
  assert.match(badpw, /no full frame|auth/i);
  assert.ok(!text(r).includes('not-the-password') && !text(r).includes(PASSWORD));
  assert.equal(r.content.some((c) => c.type === 'image'), false, 'no picture of the login window');
});

test('a wrong password names the refused logon', {
  skip, todo: 'xrdp 0.9 keeps the connection after a refused logon: ztrdp reports a timeout',
}, () => {
  assert.match(badpw ?? '', /\bauth/i);
});
