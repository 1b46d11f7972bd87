// A person in the loop of each call, end to end: the official MCP SDK
// client -> a real broker -> a real agent's tunnel -> a real OpenSSH sshd.
// Roles restrict the command line; a role can hold a bot's calls for a
// human approver (ztctl approvals ls / approve / deny), or a user's calls
// for their own MFA step-up; approvals are bound to the exact request, used
// once or granted for a window, never given by the caller, and a call that
// nobody answers fails closed. Every step is audited and the chain holds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, approver, applyRole, auditEvents, botToken, brokerFetch, mcpConnect, request, sdk,
  startAgent, startBroker, step, stopChecked, tmpdir, totp, until, ZTCTL, ztctl, ztctlAccount,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';

let broker;
let sshd;
let S;
let USER;
const agents = [];
const clients = [];

const text = (r) => r.content.map((c) => c.text).join('\n');

async function connect(token, logs = []) {
  const client = await mcpConnect(broker, token, { logs });
  clients.push(client);
  return client;
}

const exec = (client, command, opts = {}) => client.callTool({ name: 'ssh_exec',
  arguments: { host: 'web1', login: USER, command } }, undefined, { timeout: 150000, ...opts });

// The held call's id, as the approver sees it in `ztctl approvals ls`.
async function heldId(home, command) {
  let id;
  await until(async () => {
    const r = await ztctl(['approvals', 'ls'], { home });
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.endsWith(` ${command}`));
    id = line?.split(/\s+/)[0];
    return id;
  }, `the held call "${command}" is listed`);
  return id;
}

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  USER = sshd.user;
  const base = `allow:\n  hosts: {env: staging}\n  logins: [${USER}]\n  tools: [ssh_exec, list_hosts]\n`;
  applyRole(broker, `kind: role\nname: cmds\n${base}  commands: ["uptime", "df -h"]\n`);
  applyRole(broker, `kind: role\nname: guarded\n${base}options:\n  approval: {by: [oncall], ttl: 20m}\n`);
  applyRole(broker, `kind: role\nname: guarded-fast\n${base}options:\n  approval: {by: [oncall], ttl: 1m}\n`);
  applyRole(broker, `kind: role\nname: stepup\n${base}options:\n  mfa: per_call\n`);
  applyRole(broker, `kind: role\nname: recent\n${base}options:\n  mfa: per_session\n  mfa_window: 1m\n`);
  applyRole(broker, 'kind: role\nname: oncall\nallow:\n  tools: [list_hosts]\n');
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  const a = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
    token, hostKey: sshd.hostKey, labels: 'env=staging', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(a.joined, a.out?.stderr);
  agents.push(a);
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const a of agents) await a.stop();
  await stopChecked(broker);
  sshd?.stop();
});

test('commands: only the allowed command lines run, shell syntax is refused', async () => {
  const bot = await connect(botToken(broker, 'cmd-bot', { roles: 'cmds' }));
  await until(async () => (await bot.callTool({ name: 'list_hosts', arguments: {} }))
    .structuredContent.hosts[0]?.online, 'web1 online');
  const ok = await exec(bot, 'uptime');
  assert.equal(ok.isError, false, text(ok));
  assert.match(ok.structuredContent.stdout, /load average/);
  for (const [command, rule] of [
    ['uptime; id', /^deny: role cmds allows no shell syntax \(';'\) in tool ssh_exec .*command "uptime; id"/],
    ['df -h /', /^deny: no role allows tool ssh_exec .*command "df -h \/"/],
    ['$(id)', /^deny: role cmds allows no shell syntax \('\$'\)/],
  ]) {
    const r = await exec(bot, command);
    assert.equal(r.isError, true, command);
    assert.match(text(r), rule);
    const ev = auditEvents(broker, 'tool.ssh_exec').at(-1);
    assert.deepEqual([ev.actor, ev.outcome, ev.details.command], ['bot:cmd-bot', 'denied', command]);
    assert.match(ev.details.rule, rule);
  }
});

// Started first, answered by nobody: checked at the end (the role's ttl is
// one minute, the shortest a role may say).
let unanswered;

test('a bot call held for approval that nobody answers fails closed', async () => {
  const bot = await connect(botToken(broker, 'slow-bot', { roles: 'guarded-fast' }));
  unanswered = { started: Date.now(), call: exec(bot, 'echo never') };
});

// per_session: a login younger than mfa_window is the step-up; checked
// again at the end, when the window has passed.
let recent;

test('mfa per_session: a fresh login passes without asking', async () => {
  const pat = await ztctlAccount(broker, 'pat', 'recent');
  const client = new S.Client({ name: 'zt-e2e-stdio', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StdioClientTransport({ command: ZTCTL, args: ['mcp'],
    env: { ...process.env, ZT_HOME: pat.home } }));
  clients.push(client);
  recent = { pat, client, loggedIn: Date.now() };
  const r = await exec(client, 'echo fresh');
  assert.equal(r.structuredContent.stdout, 'fresh\n');
  assert.equal(auditEvents(broker, 'tool.ssh_exec').at(-1).details.released_by, 'session step-up');
});

test('a bot call waits for an oncall approver: approve runs it, deny fails it', async () => {
  const logs = [];
  const bot = await connect(botToken(broker, 'appr-bot', { roles: 'guarded' }), logs);
  const carol = await approver(broker, 'carol');
  const call = exec(bot, 'echo approved-output');
  const id = await heldId(carol.home, 'echo approved-output');
  // The bot was told where to answer, out of band.
  await until(() => logs.some((l) => l.data?.approval_id === id), 'the bot got the URL');
  const told = logs.find((l) => l.data?.approval_id === id).data;
  assert.equal(told.url, `${broker.url}/#/approvals/${id}`);
  assert.match(told.message, new RegExp(`ztctl approve ${id}`));
  assert.equal(told.needs, 'approval by a holder of oncall');
  // A user without oncall sees nothing and may not answer.
  const eve = await ztctlAccount(broker, 'eve', 'cmds');
  assert.doesNotMatch((await ztctl(['approvals', 'ls'], { home: eve.home })).stdout, new RegExp(id));
  const no = await ztctl(['approve', id, '--otp', totp(eve.secret, eve.step + 1)], { home: eve.home });
  assert.equal(no.code, 1);
  // carol approves with a fresh code, after seeing the exact call.
  const yes = await ztctl(['approve', id, '--otp', carol.code()], { home: carol.home });
  assert.equal(yes.code, 0, yes.stderr);
  assert.match(yes.stdout, /caller: +bot:appr-bot/);
  assert.match(yes.stdout, /command: +echo approved-output/);
  assert.match(yes.stdout, /approved; the call goes on/);
  const r = await call;
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.stdout, 'approved-output\n');
  const allowed = auditEvents(broker, 'tool.ssh_exec').at(-1);
  assert.deepEqual([allowed.outcome, allowed.details.released_by, allowed.details.approval_id],
    ['allowed', 'user:carol', id]);
  const ap = auditEvents(broker, 'approval.approved').at(-1);
  assert.deepEqual([ap.actor, ap.details.approval_id, ap.details.request_sha256, ap.details.call_id],
    ['user:carol', id, allowed.details.request_sha256, allowed.details.call_id]);

  // An approval is used once: the same command asks again; deny fails it.
  const again = exec(bot, 'echo approved-output');
  const id2 = await heldId(carol.home, 'echo approved-output');
  assert.notEqual(id2, id);
  const d = await ztctl(['deny', id2, '--reason', 'not during the freeze'], { home: carol.home });
  assert.equal(d.code, 0, d.stderr);
  const denied = await again;
  assert.equal(denied.isError, true);
  assert.equal(text(denied), 'denied by user:carol: not during the freeze; nothing ran');
  const dev = auditEvents(broker, 'approval.denied').at(-1);
  assert.deepEqual([dev.actor, dev.details.approval_id, dev.details.reason],
    ['user:carol', id2, 'not during the freeze']);
});

test('a grant for a window releases the same request again, and nothing else', async () => {
  const bot = await connect(botToken(broker, 'grant-bot', { roles: 'guarded' }));
  const dave = await approver(broker, 'dave');
  const first = exec(bot, 'echo granted');
  const id = await heldId(dave.home, 'echo granted');
  const yes = await ztctl(['approve', id, '--for', '15m', '--otp', dave.code()], { home: dave.home });
  assert.equal(yes.code, 0, yes.stderr);
  assert.equal((await first).structuredContent.stdout, 'granted\n');
  // The same request: released by the grant, no new request.
  const before = auditEvents(broker, 'approval.requested').length;
  const second = await exec(bot, 'echo granted');
  assert.equal(second.structuredContent.stdout, 'granted\n');
  assert.equal(auditEvents(broker, 'approval.requested').length, before);
  assert.equal(auditEvents(broker, 'tool.ssh_exec').at(-1).details.released_by, `grant ${id}`);
  // Another command is another request: held again (and withdrawn here).
  const ctl = new AbortController();
  const other = exec(bot, 'echo other', { signal: ctl.signal });
  const id3 = await heldId(dave.home, 'echo other');
  ctl.abort();
  await assert.rejects(other);
  await until(() => auditEvents(broker, 'approval.withdrawn').some((e) => e.details.approval_id === id3),
    'the cancelled call withdraws its request');
  // A grant is at most the role's approval.ttl.
  const too = exec(bot, 'echo too-long');
  const id4 = await heldId(dave.home, 'echo too-long');
  const long = await ztctl(['approve', id4, '--for', '1h', '--otp', '000000'], { home: dave.home });
  assert.equal(long.code, 1);
  assert.match(long.stderr, /at most 20m/);
  await ztctl(['deny', id4], { home: dave.home });
  assert.equal((await too).isError, true);
});

test('an approval given elsewhere ends the elicitation the client still shows', async () => {
  const client = new S.Client({ name: 'zt-e2e-elicit', version: '1.0.0' },
    { capabilities: { elicitation: { url: {} } } });
  let shown = null;
  let withdrawn = false;
  // The person never answers the client's dialog.
  client.setRequestHandler(S.types.ElicitRequestSchema, (req, extra) => new Promise((resolve) => {
    shown = req.params;
    extra.signal.addEventListener('abort', () => { withdrawn = true; resolve({ action: 'cancel' }); });
  }));
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: {
      Authorization: `Bearer ${botToken(broker, 'elicit-bot', { roles: 'guarded' })}` } },
  }));
  clients.push(client);
  const ivan = await approver(broker, 'ivan');
  const call = exec(client, 'echo elsewhere');
  await until(() => shown !== null, 'the client shows the page');
  const yes = await ztctl(['approve', shown.elicitationId, '--otp', ivan.code()], { home: ivan.home });
  assert.equal(yes.code, 0, yes.stderr);
  const r = await call;
  assert.equal(r.structuredContent?.stdout, 'elsewhere\n', JSON.stringify(r));
  await until(() => withdrawn, 'the elicitation is cancelled as no longer needed');
});

test('the caller cannot approve their own call', async () => {
  // frank holds the approvers' role himself, and still may not.
  const frank = await ztctlAccount(broker, 'frank', 'guarded,oncall');
  const client = new S.Client({ name: 'zt-e2e-stdio', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StdioClientTransport({ command: ZTCTL, args: ['mcp'],
    env: { ...process.env, ZT_HOME: frank.home } }));
  clients.push(client);
  const call = exec(client, 'echo self');
  const grace = await approver(broker, 'grace');
  const id = await heldId(grace.home, 'echo self');
  assert.doesNotMatch((await ztctl(['approvals', 'ls'], { home: frank.home })).stdout, new RegExp(id));
  const self = await ztctl(['approve', id, '--otp', totp(frank.secret, frank.step + 1)], { home: frank.home });
  assert.equal(self.code, 1);
  // Nor through the API itself, whatever ztctl shows.
  const { token } = JSON.parse(fs.readFileSync(path.join(frank.home, 'profile.json'), 'utf8'));
  const direct = await request(broker, 'POST', '/v1/approvals/approve',
    { token, body: { id, otp: totp(frank.secret, frank.step + 1) } });
  assert.equal(direct.status, 403);
  assert.match(direct.body.error.message, /you cannot approve your own call/);
  const api = await ztctl(['deny', id, '--reason', 'changed my mind'], { home: frank.home });
  assert.equal(api.code, 0, api.stderr); // withdrawing one's own is allowed
  assert.match(text(await call), /^denied by user:frank: changed my mind/);
});

test('mfa per_call: a user steps up for the call with ztctl approve; a code is used once', async () => {
  const hank = await ztctlAccount(broker, 'hank', 'stepup');
  const client = new S.Client({ name: 'zt-e2e-stdio', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StdioClientTransport({ command: ZTCTL, args: ['mcp'],
    env: { ...process.env, ZT_HOME: hank.home } }));
  clients.push(client);
  const call = exec(client, 'echo stepped-up');
  const id = await heldId(hank.home, 'echo stepped-up');
  const code = totp(hank.secret, hank.step + 1);
  const up = await ztctl(['approve', id, '--otp', code], { home: hank.home });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /stepped up; the call goes on/);
  assert.equal((await call).structuredContent.stdout, 'stepped-up\n');
  // per_call: the next call asks again; the same code does not pass twice.
  const next = exec(client, 'echo once-more');
  const id2 = await heldId(hank.home, 'echo once-more');
  const replay = await ztctl(['approve', id2, '--otp', code], { home: hank.home });
  assert.equal(replay.code, 1);
  assert.match(replay.stderr, /already used/);
  const fails = auditEvents(broker, 'mfa.stepup').filter((e) => e.outcome === 'failure');
  assert.equal(fails.at(-1).details.reason, 'otp replayed');
  await ztctl(['deny', id2], { home: hank.home });
  assert.equal((await next).isError, true);
  const ok = auditEvents(broker, 'mfa.stepup').find((e) => e.outcome === 'success');
  assert.deepEqual([ok.actor, ok.details.approval_id], ['user:hank', id]);
});

test('mfa per_session: past the window the call waits for a step-up, which lasts a window', async () => {
  const { pat, client, loggedIn } = recent;
  const wait = loggedIn + 62000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const call = exec(client, 'echo stale');
  const id = await heldId(pat.home, 'echo stale');
  const up = await ztctl(['approve', id, '--otp', totp(pat.secret, step())], { home: pat.home });
  assert.equal(up.code, 0, up.stderr);
  assert.equal((await call).structuredContent.stdout, 'stale\n');
  const again = await exec(client, 'echo again');
  assert.equal(again.structuredContent.stdout, 'again\n');
  assert.equal(auditEvents(broker, 'tool.ssh_exec').at(-1).details.released_by, 'session step-up');
});

test('the unanswered call failed closed after its ttl, and the chain verifies', async () => {
  const r = await unanswered.call;
  assert.ok(Date.now() - unanswered.started >= 59000);
  assert.equal(r.isError, true);
  assert.equal(text(r), 'the call waited 1m for an approval and got no answer; it fails closed: nothing ran');
  const ev = auditEvents(broker, 'approval.expired').at(-1);
  assert.equal(ev.actor, 'bot:slow-bot');
  assert.equal(auditEvents(broker, 'tool.ssh_exec.result').filter((e) => e.actor === 'bot:slow-bot').length, 0);
  const v = admin(broker, 'audit', 'verify');
  assert.equal(v.code, 0, v.stderr);
});

// Last: a role change voids every request that waits, the unanswered
// one's too.
test('a role change voids the requests that wait', async () => {
  const bot = await connect(botToken(broker, 'void-bot', { roles: 'guarded' }));
  const kim = await approver(broker, 'kim');
  const call = exec(bot, 'echo void');
  const id = await heldId(kim.home, 'echo void');
  // Any change of any role: the request was decided on the roles before it.
  applyRole(broker, 'kind: role\nname: oncall\nallow:\n  tools: [list_hosts]\n');
  const r = await call;
  assert.equal(r.isError, true);
  assert.match(text(r), /^the roles changed while the call waited; the request no longer holds/);
  const ev = auditEvents(broker, 'approval.withdrawn').at(-1);
  assert.deepEqual([ev.details.approval_id, ev.details.reason],
    [id, 'the roles changed while the call waited']);
  const late = await ztctl(['approve', id, '--otp', kim.code()], { home: kim.home });
  assert.equal(late.code, 1);
});
