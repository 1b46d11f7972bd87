// The ssh_exec MCP tool end to end: the official SDK client (over HTTP as a
// bot, over stdio through `ztctl mcp` as a user) -> a real broker -> a real
// ztagent's reverse tunnel -> a real OpenSSH sshd that trusts only the
// broker's SSH user CA. Policy decides host, login and tool per call and
// names the rule when it says no; every call is audited; a killed agent
// makes calls fail fast and its restart (without a new token) serves again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, brokerFetch, sdk, sshHostKey, startAgent,
  startBroker, stopChecked, tmpdir, until, ZTCTL, ztctlLogin,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';

let broker;
let sshd;
let S;
let bot;        // an MCP client as bot "exec-bot" (role web-ops)
let agentDir;
let web1;       // the agent of web1 (env=staging), reaching sshd
let USER;       // the local account sshd lets in
const agents = [];

const pidAlive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// After a timeout or cancellation the broker sends a KILL signal request
// (sshd honours it with privilege separation, i.e. for every login but root)
// and kills the command's process group from a second session on the same
// connection (which works for root too): the command is gone either way.
async function killedOnHost(pid, what) {
  try {
    await until(() => !pidAlive(pid), `${what} is killed`, 5000);
  } finally {
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL'); // no stray process, pass or fail
  }
}

async function connectHttp(token) {
  const client = new S.Client({ name: 'zt-e2e-exec', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
  }));
  return client;
}


// An agent of sshd (its host key), or with hostKey of a host of its own
// that no call reaches (a host key belongs to one name).
async function addAgent(name, labels, ssh, extra = [], hostKey = sshHostKey()) {
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  const a = await startAgent(broker, dir, name, { token, hostKey, labels, ssh, extra });
  assert.ok(a.joined, a.out?.stderr);
  agents.push(a);
  return { a, dir };
}

const exec = (client, args, opts) => client.callTool({ name: 'ssh_exec', arguments: args },
  undefined, opts);
const text = (r) => r.content.map((c) => c.text).join('\n');

before(async () => {
  S = await sdk();
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0', '--exec-timeout-max', '20s'] });
  sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  USER = sshd.user;
  applyRole(broker, `kind: role\nname: web-ops\nallow:\n  hosts: {env: staging}\n  logins: [${USER}]\n`
    + '  tools: [ssh_exec, list_hosts]\ndeny:\n  tools: [ssh_exec]\n  hosts: {team: payments}\n');
  applyRole(broker, 'kind: role\nname: viewer\nallow:\n  tools: [list_hosts]\n');
  const w = await addAgent('web1', 'env=staging,team=web', `127.0.0.1:${sshd.port}`, [],
    sshd.hostKey);
  web1 = w.a;
  agentDir = w.dir;
  await addAgent('db1', 'env=prod', `127.0.0.1:${sshd.port}`);
  await addAgent('pay1', 'env=staging,team=payments', `127.0.0.1:${sshd.port}`);
  // An agent whose SSH target has nothing listening.
  const closed = net.createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = closed.address().port;
  await new Promise((r) => closed.close(r));
  await addAgent('web9', 'env=staging', `127.0.0.1:${deadPort}`);
  bot = await connectHttp(botToken(broker, 'exec-bot', { roles: 'web-ops' }));
  await until(async () => {
    const r = await bot.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent.hosts.filter((h) => h.online).length === 3;
  }, 'web1, pay1 and web9 online');
});

after(async () => {
  await bot?.close();
  for (const a of agents) await a.stop();
  await stopChecked(broker);
  sshd?.stop();
});

test('id -un returns the login; sshd logs the connection\'s key id and serial; both audited', async () => {
  const r = await exec(bot, { host: 'web1', login: USER, command: 'id -un' });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.exit_code, 0);
  assert.equal(r.structuredContent.stdout, `${USER}\n`);
  assert.equal(r.structuredContent.stderr, '');
  assert.equal(r.structuredContent.truncated, false);
  assert.ok(Number.isInteger(r.structuredContent.duration_ms));
  assert.deepEqual(JSON.parse(text(r)), r.structuredContent);

  const done = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.equal(done.actor, 'bot:exec-bot');
  assert.equal(done.outcome, 'success');
  assert.equal(done.details.exit_code, 0);
  assert.equal(done.details.stdout_bytes, USER.length + 1);
  const callId = done.details.call_id;
  assert.match(callId, /^[0-9a-f]{16}$/);
  // The certificate is the connection's: key id names it, the outcome too.
  const connId = done.details.conn_id;
  assert.match(connId, /^[0-9a-f]{16}$/);
  assert.equal(done.details.key_id, `zt:bot:exec-bot:${connId}`);
  sshd.assertLogged(`Accepted certificate ID "zt:bot:exec-bot:${connId}" (serial ${done.details.cert_serial})`);
  const decided = auditEvents(broker, 'tool.ssh_exec').find((e) => e.details.call_id === callId);
  assert.equal(decided.outcome, 'allowed');
  assert.equal(decided.details.command, 'id -un');
  assert.match(decided.details.rule, /^allow: role web-ops/);
  assert.ok(decided.seq < done.seq, 'the decision is recorded before the outcome');
  // Both name the address the client connected from, not the transport.
  assert.equal(decided.source, '127.0.0.1');
  assert.equal(done.source, '127.0.0.1');
});

test('every event of a call holds the whole command and its SHA-256: padding hides nothing', async () => {
  const sha256 = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
  // 15 KiB of blanks, then the part that acts.
  const padded = `${' '.repeat(15 * 1024)}echo zt-tail-7f3a`;
  // At the tool's limit, and every byte but a few escaped by JSON six-fold
  // (\u0001): it still fits in the audit whole.
  const escaped = `echo zt-ctl #${'\x01'.repeat(16384 - 'echo zt-ctl #'.length)}`;
  for (const [command, out] of [[padded, 'zt-tail-7f3a\n'], [escaped, 'zt-ctl\n']]) {
    const r = await exec(bot, { host: 'web1', login: USER, command });
    assert.equal(r.isError, false, text(r));
    assert.equal(r.structuredContent.stdout, out);
    const done = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
    const events = auditEvents(broker).filter((e) => e.details.call_id === done.details.call_id);
    assert.deepEqual(events.map((e) => e.outcome), ['allowed', 'success']);
    for (const e of events) {
      assert.equal(e.details.command, command);
      assert.equal(e.details.command_bytes, Buffer.byteLength(command));
      assert.equal(e.details.command_sha256, sha256(command));
    }
  }
  // A refused call's event holds it too.
  const r = await exec(bot, { host: 'pay1', login: USER, command: padded });
  assert.equal(r.isError, true);
  const denied = auditEvents(broker, 'tool.ssh_exec').at(-1);
  assert.equal(denied.outcome, 'denied');
  assert.match(denied.details.command, /echo zt-tail-7f3a$/);
  assert.equal(denied.details.command_sha256, sha256(padded));
});

test('each call ends its SSH connection: the agent holds no stream after it', async () => {
  // Each stream costs the agent a thread, a TLS connection and a TCP
  // connection to sshd; a call that left its SSH connection open kept all
  // three (and sshd's session) until the agent ran out of streams.
  const fds = () => fs.readdirSync(`/proc/${web1.proc.pid}/fd`).length;
  const idle = fds();
  for (let i = 0; i < 5; i++) {
    const r = await exec(bot, { host: 'web1', login: USER, command: 'true' });
    assert.equal(r.isError, false, text(r));
  }
  await until(() => fds() <= idle, `web1's descriptors back to ${idle} (now ${fds()})`);
});

test('exit codes are results, stderr is separate, output past 1 MiB is cut and flagged', async () => {
  let r = await exec(bot, { host: 'web1', login: USER, command: "echo out; echo err >&2; exit 7" });
  assert.equal(r.isError, false, text(r));
  assert.deepEqual([r.structuredContent.exit_code, r.structuredContent.stdout,
    r.structuredContent.stderr], [7, 'out\n', 'err\n']);
  // 3 MB through the tunnel: the pump carries it, the cap keeps 1 MiB.
  r = await exec(bot, { host: 'web1', login: USER,
    command: "head -c 3000000 /dev/zero | tr '\\0' a; printf '\\377' >&2" });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.stdout.length, 1024 * 1024);
  assert.equal(r.structuredContent.truncated, true);
  assert.equal(r.structuredContent.stderr, '\ufffd', 'bytes that are not UTF-8 become U+FFFD');
  const done = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.equal(done.details.stdout_bytes, 3000000);
  assert.equal(done.details.truncated, true);
});

test('a host the caller may not see is refused word for word like one that does not exist', async () => {
  // db1 (env=prod) is outside web-ops' hosts: the caller learns nothing of
  // it, not even that it exists; the audit keeps the rule and the reason.
  const hidden = await exec(bot, { host: 'db1', login: USER, command: 'id -un' });
  const ev = auditEvents(broker, 'tool.ssh_exec').at(-1);
  const none = await exec(bot, { host: 'nosuch', login: USER, command: 'id -un' });
  assert.deepEqual(JSON.parse(JSON.stringify(hidden).replaceAll('db1', 'NAME')),
    JSON.parse(JSON.stringify(none).replaceAll('nosuch', 'NAME')));
  assert.equal(hidden.isError, true);
  assert.equal(text(hidden), 'no host named db1 (list_hosts shows the hosts you may use)');
  assert.doesNotMatch(JSON.stringify(hidden), /env|prod|deny|rule/);
  assert.equal(ev.outcome, 'denied');
  assert.equal(ev.details.host, 'db1');
  assert.equal(ev.details.host_hidden, true);
  assert.equal(ev.details.rule, `deny: no role allows tool ssh_exec on host db1 (env=prod) as ${USER} command "id -un"`);
  assert.equal(ev.details.reason, ev.details.rule);
  const unknown = auditEvents(broker, 'tool.ssh_exec').at(-1);
  assert.deepEqual([unknown.outcome, unknown.details.host, unknown.details.reason],
    ['denied', 'nosuch', 'unknown host']);
});

test('a denied host, login and tool each name the rule and are audited', async () => {
  const cases = [
    [{ host: 'web1', login: 'nobody' }, /^deny: no role allows tool ssh_exec on host web1 .* as nobody/],
    [{ host: 'pay1', login: USER }, /^deny: role web-ops denies tool ssh_exec on host pay1/],
  ];
  for (const [args, rule] of cases) {
    const r = await exec(bot, { ...args, command: 'id -un' });
    assert.equal(r.isError, true);
    assert.match(text(r), rule);
    const ev = auditEvents(broker, 'tool.ssh_exec').at(-1);
    assert.equal(ev.outcome, 'denied');
    assert.equal(ev.source, '127.0.0.1');
    assert.equal(ev.details.host, args.host);
    assert.equal(ev.details.login, args.login);
    assert.match(ev.details.reason, rule);
    assert.match(ev.details.rule, rule);
    assert.equal(ev.details.host_hidden, false);
  }
  // Nothing reached sshd as "nobody".
  assert.doesNotMatch(sshd.log(), /nobody/);
  // A caller whose roles never allow ssh_exec does not see it in tools/list;
  // calling it anyway is refused with the rule, audited, and runs nothing.
  const viewer = await connectHttp(botToken(broker, 'viewer-bot', { roles: 'viewer' }));
  const { tools } = await viewer.listTools();
  assert.ok(!tools.some((t) => t.name === 'ssh_exec'));
  const hidden = await exec(viewer, { host: 'web1', login: USER, command: 'id' });
  assert.equal(hidden.isError, true);
  assert.equal(text(hidden), 'deny: no role allows tool ssh_exec');
  const ev = auditEvents(broker, 'tool.ssh_exec').at(-1);
  assert.equal(ev.actor, 'bot:viewer-bot');
  assert.equal(ev.outcome, 'denied');
  assert.equal(ev.source, '127.0.0.1');
  assert.equal(ev.details.rule, 'deny: no role allows tool ssh_exec');
  // A name that is no tool at all: -32602, audited as tool.unknown.
  await assert.rejects(viewer.callTool({ name: 'rm_rf', arguments: {} }), /Unknown tool: rm_rf/);
  const unknown = auditEvents(broker, 'tool.unknown').at(-1);
  assert.equal(unknown.actor, 'bot:viewer-bot');
  assert.equal(unknown.details.tool, 'rm_rf');
  assert.equal(unknown.source, '127.0.0.1');
  await viewer.close();
});

test('bad arguments and unknown hosts get clear errors; nothing runs', async () => {
  const cases = [
    [{ host: 'web1', login: USER }, /command must be/],
    [{ host: 'web1', login: USER, command: 'id', timeout_s: 21 }, /timeout_s must be an integer from 1 to 20/],
    [{ host: 'web1', login: USER, command: 'id', timeout_s: '5' }, /timeout_s/],
    [{ host: 'web1', login: '-oProxyCommand=x', command: 'id' }, /login must be/],
    [{ host: 'web1', login: USER, command: 'id', extra: 1 }, /unknown argument "extra"/],
    [{ host: '../etc', login: USER, command: 'id' }, /host must be/],
    [{ host: 'nosuch', login: USER, command: 'id' }, /no host named nosuch/],
  ];
  for (const [args, msg] of cases) {
    const r = await exec(bot, args);
    assert.equal(r.isError, true, JSON.stringify(args));
    assert.match(text(r), msg);
  }
});

test('progress while it runs; a timeout kills the command and says so', async () => {
  const progress = [];
  let r = await exec(bot, { host: 'web1', login: USER, command: 'sleep 2.5; echo slept' },
    { onprogress: (p) => progress.push(p), timeout: 20000 });
  assert.equal(r.structuredContent.stdout, 'slept\n');
  assert.ok(progress.length >= 1, 'at least one progress notification');
  assert.match(progress[0].message, /running for \d+s/);

  const pidFile = path.join(tmpdir('zt-exec-'), 'pid');
  fs.chmodSync(path.dirname(pidFile), 0o777);
  r = await exec(bot, { host: 'web1', login: USER, command: `echo $$ > ${pidFile}; exec sleep 60`,
    timeout_s: 1 });
  assert.equal(r.isError, true);
  assert.match(text(r), /^timeout on web1/);
  assert.match(text(r), /the command was killed and the channel closed/);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  await killedOnHost(pid, 'the timed-out command');
  assert.equal(auditEvents(broker, 'tool.ssh_exec.result').at(-1).details.status, 'timeout');
});

test('cancellation stops the command on the host', async () => {
  const pidFile = path.join(tmpdir('zt-exec-'), 'pid');
  fs.chmodSync(path.dirname(pidFile), 0o777);
  const ac = new AbortController();
  const call = exec(bot, { host: 'web1', login: USER, command: `echo $$ > ${pidFile}; exec sleep 60` },
    { signal: ac.signal });
  await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '',
    'the command started');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  ac.abort('test cancels');
  await assert.rejects(call);
  await killedOnHost(pid, 'the cancelled command');
  let last;
  await until(() => (last = auditEvents(broker, 'tool.ssh_exec.result').at(-1))?.details.status
    === 'cancelled', 'the cancellation is audited').catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(last)}`);
  });
  assert.equal(last.outcome, 'cancelled');
});

test('an agent that cannot reach its target says so at once', async () => {
  // The agent's reason, not the broker's dial timeout ("did not answer").
  const r = await exec(bot, { host: 'web9', login: USER, command: 'id' });
  assert.equal(r.isError, true);
  assert.match(text(r), /the agent of web9 could not open the stream: cannot connect to 127\.0\.0\.1:\d+/);
});

test('a killed agent fails calls fast with "host offline"; restarted, it serves again', async () => {
  await web1.stop('SIGKILL');
  await until(async () => {
    const r = await bot.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent.hosts.find((h) => h.name === 'web1')?.online === false;
  }, 'web1 offline');
  // At once, not after the dial timeout: that would say "did not answer".
  const r = await exec(bot, { host: 'web1', login: USER, command: 'id -un' });
  assert.equal(r.isError, true);
  assert.match(text(r), /^host offline: the agent of web1 is not connected/);
  const failed = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.deepEqual([failed.outcome, failed.details.status, failed.details.error],
    ['failure', 'unreachable', 'host offline: the agent of web1 is not connected']);

  // The same data directory, no token: the certificate is enough.
  web1 = await startAgent(broker, agentDir, 'web1', { hostKey: sshd.hostKey,
    labels: 'env=staging,team=web', ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(web1.joined, web1.out?.stderr);
  assert.match(web1.out.stdout, /joined earlier/);
  agents.push(web1);
  await until(async () => {
    const x = await exec(bot, { host: 'web1', login: USER, command: 'id -un' });
    return !x.isError && x.structuredContent.stdout === `${USER}\n`;
  }, 'web1 serves again');
});

test('an agent at its stream limit refuses a dial at once with "busy"', async (t) => {
  // A host of its own: sshd's host key is web1's.
  const sshd8 = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  t.after(() => sshd8.stop());
  await addAgent('web8', 'env=staging', `127.0.0.1:${sshd8.port}`, ['--max-streams', '1'],
    sshd8.hostKey);
  await until(async () => {
    const r = await bot.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent.hosts.find((h) => h.name === 'web8')?.online;
  }, 'web8 online');
  // The first call holds web8's only stream; its first progress notification
  // says the command runs.
  let running;
  const started = new Promise((r) => { running = r; });
  const first = exec(bot, { host: 'web8', login: USER, command: 'sleep 3; echo done' },
    { onprogress: () => running() });
  await started;
  const r = await exec(bot, { host: 'web8', login: USER, command: 'id -un' });
  assert.equal(r.isError, true);
  assert.equal(text(r), 'the agent of web8 could not open the stream: at its limit of 1 open '
    + 'streams (busy)');
  const f = await first;
  assert.equal(f.isError, false, text(f));
  assert.equal(f.structuredContent.stdout, 'done\n');
  // The stream is given back: the next call runs.
  await until(async () => !(await exec(bot, { host: 'web8', login: USER, command: 'true' })).isError,
    'web8 serves the next call');
});

test('over stdio: a user runs ssh_exec through ztctl mcp', async () => {
  const home = await ztctlLogin(broker, 'exec-alice', 'web-ops');
  const client = new S.Client({ name: 'zt-e2e-exec-stdio', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StdioClientTransport({ command: ZTCTL, args: ['mcp'], env: { ZT_HOME: home } }));
  const r = await exec(client, { host: 'web1', login: USER, command: 'id -un; echo "$SSH_CONNECTION" | cut -d" " -f1' });
  await client.close();
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.stdout, `${USER}\n127.0.0.1\n`);
  const done = auditEvents(broker, 'tool.ssh_exec.result').at(-1);
  assert.equal(done.actor, 'user:exec-alice');
  // ztctl mcp relays over HTTPS: the broker sees where ztctl runs.
  assert.equal(done.source, '127.0.0.1');
  sshd.assertLogged(`Accepted certificate ID "zt:user:exec-alice:${done.details.conn_id}"`);
  // The audit chain still verifies after all of the above.
  assert.match(execFileSync(path.join(path.dirname(ZTCTL), 'ztbroker'),
    ['admin', '--data-dir', broker.dataDir, 'audit', 'verify'], { encoding: 'utf8' }), /ok|verified/i);
});
