// Background jobs end to end: the official MCP SDK client -> a real broker
// -> a real agent's tunnel -> a real OpenSSH sshd. `ssh_exec {background:
// true}` returns a job id at once; job_output reads its output by offset
// while it runs; job_signal TERM ends it and the exit state is reported;
// start, signal and end are audited. A job is its identity's alone; a
// short job reports its exit code; the output ring drops the oldest bytes
// and says so; locking the user, locking the agent (before its connections
// are cut) and stopping the broker kill its jobs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, auditEvents, mcpConnect, startBroker, stopChecked, tmpdir, until, userToken,
} from './lib/zt.mjs';
import { startSshHost } from './lib/sshd.mjs';

const RING = 256 * 1024;
let broker;
let sshd;
let stopped = false;
const agents = [];

const pidAlive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const text = (r) => r.content.map((c) => c.text).join('\n');
const call = (client, name, args) => client.callTool({ name, arguments: args });
const start = async (client, command, extra = {}) => {
  const r = await call(client, 'ssh_exec', { host: 'web1', login: sshd.user, command,
    background: true, ...extra });
  assert.equal(r.isError, false, text(r));
  assert.match(r.structuredContent.job, /^[0-9a-f]{16}$/);
  assert.equal(r.structuredContent.state, 'running');
  return r.structuredContent.job;
};
const output = (client, job, since) => call(client, 'job_output',
  since === undefined ? { job } : { job, since });

// Polls job_output until the job ended; resolves its last structuredContent.
async function ended(client, job, ms = 20000) {
  let sc;
  await until(async () => {
    sc = (await output(client, job)).structuredContent;
    return sc.state !== 'running';
  }, `job ${job} ends`, ms);
  return sc;
}

const jobEvents = (job) => auditEvents(broker).filter((e) => e.type.startsWith('job.')
  && e.details.job_id === job);

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  const h = await startSshHost(broker, { role: 'kind: role\nname: jobs\nallow:\n  hosts: {env: test}\n'
    + '  logins: [LOGIN]\n  tools: [ssh_exec, job_output, job_signal, job_list, list_hosts]\n' });
  sshd = h.sshd;
  agents.push(h.agent);
});

after(async () => {
  for (const a of agents) await a.stop();
  if (!stopped) await stopChecked(broker);
  sshd?.stop();
});

async function connect(name) {
  const client = await mcpConnect(broker, await userToken(broker, name, 'jobs'));
  await until(async () => (await call(client, 'list_hosts', {}))
    .structuredContent.hosts[0]?.online, 'web1 online');
  return client;
}

test('sleep 300; echo done: read while running, TERM ends it, the end and the audit say so', async () => {
  const client = await connect('jane');
  const t0 = Date.now();
  const job = await start(client, 'echo started $$; sleep 300; echo done');
  assert.ok(Date.now() - t0 < 10000, 'the job id comes at once');
  let sc;
  await until(async () => {
    sc = (await output(client, job)).structuredContent;
    return sc.output.startsWith('started');
  }, 'the first line is read while the job runs');
  assert.equal(sc.state, 'running');
  assert.equal(sc.since, 0);
  const shell = Number(sc.output.match(/^started (\d+)/)[1]);
  assert.equal(sc.next, Buffer.byteLength(sc.output));
  // Polling from next returns nothing new (and repeats nothing).
  const again = (await output(client, job, sc.next)).structuredContent;
  assert.equal(again.output, '');
  assert.equal(again.since, sc.next);
  assert.equal(again.state, 'running');
  const sleeper = Number(execFileSync('pgrep', ['-P', String(shell)], { encoding: 'utf8' }).trim());
  assert.ok(pidAlive(sleeper));

  const s = await call(client, 'job_signal', { job, signal: 'TERM' });
  assert.equal(s.isError, false, text(s));
  assert.equal(s.structuredContent.sent, 'TERM');
  const end = s.structuredContent.state === 'running' ? await ended(client, job)
    : s.structuredContent;
  assert.equal(end.state, 'killed');
  assert.equal(end.signal, 'TERM');
  assert.equal(end.exit_code, undefined);
  const last = (await output(client, job)).structuredContent;
  assert.equal(last.state, 'killed');
  assert.ok(!last.output.includes('done'), 'the command did not go on');
  await until(() => !pidAlive(sleeper) && !pidAlive(shell), 'the process group is gone', 5000);

  // sshd refuses the signal request for root (no privilege separation);
  // the second session's pkill delivered it instead.
  if (sshd.user === 'root') {
    sshd.assertLogged('session signalling requires privilege separation');
    assert.match(s.structuredContent.how, /pkill as uid 0/);
  } else {
    assert.equal(s.structuredContent.how, 'ssh signal request');
  }
  const ev = jobEvents(job);
  assert.deepEqual(ev.map((e) => e.type), ['job.start', 'job.signal', 'job.end']);
  for (const e of ev) {
    assert.equal(e.actor, 'user:jane');
    assert.equal(e.details.host, 'web1');
    assert.equal(e.details.login, sshd.user);
  }
  const startCall = auditEvents(broker, 'tool.ssh_exec.result').find((e) => e.details.job_id === job);
  assert.equal(ev[0].details.call_id, startCall.details.call_id);
  assert.equal(ev[0].details.command, 'echo started $$; sleep 300; echo done');
  assert.equal(ev[0].details.limit_s, 3600);
  assert.equal(ev[1].details.signal, 'TERM');
  const sigCall = auditEvents(broker, 'tool.job_signal').at(-1);
  assert.equal(ev[1].details.signal_call_id, sigCall.details.call_id);
  assert.equal(sigCall.details.command, ev[0].details.command, 'decided on the job\'s command');
  assert.equal(ev[2].details.state, 'killed');
  assert.equal(ev[2].details.signal, 'TERM');
  assert.equal(ev[2].details.reason, 'the command ended');
  assert.ok(ev[2].details.stdout_bytes > 0);
  // Signalling an ended job sends nothing.
  const late = await call(client, 'job_signal', { job, signal: 'KILL' });
  assert.equal(late.isError, true);
  assert.match(text(late), /has ended/);
  await client.close();
});

test('a job is its identity\'s alone: another gets "no such job", like a made-up id', async () => {
  const owner = await connect('olive');
  const other = await connect('oscar');
  const job = await start(owner, 'sleep 30');
  const made = '0123456789abcdef';
  for (const [name, args] of [['job_output', {}], ['job_signal', { signal: 'KILL' }]]) {
    const theirs = await call(other, name, { job, ...args });
    const none = await call(other, name, { job: made, ...args });
    assert.equal(theirs.isError, true);
    assert.equal(text(theirs), `no job ${job} (job_list shows your jobs)`);
    assert.equal(text(none), `no job ${made} (job_list shows your jobs)`);
  }
  assert.deepEqual((await call(other, 'job_list', {})).structuredContent.jobs, []);
  const mine = (await call(owner, 'job_list', {})).structuredContent.jobs;
  assert.deepEqual(mine.map((j) => [j.job, j.state, j.command]), [[job, 'running', 'sleep 30']]);
  // Still running: oscar's KILL reached nothing.
  assert.equal((await output(owner, job)).structuredContent.state, 'running');
  assert.equal(jobEvents(job).filter((e) => e.type === 'job.signal').length, 0);
  assert.equal((await call(owner, 'job_signal', { job, signal: 'KILL' })).isError, false);
  assert.equal((await ended(owner, job)).signal, 'KILL');
  await owner.close();
  await other.close();
});

test('a short job reports exit code 3, stdout and stderr merged; job_list shows it', async () => {
  const client = await connect('sam');
  const job = await start(client, 'echo out; echo err >&2; exit 3');
  const sc = await ended(client, job);
  assert.equal(sc.state, 'exited');
  assert.equal(sc.exit_code, 3);
  const all = (await output(client, job, 0)).structuredContent;
  assert.match(all.output, /out\n/);
  assert.match(all.output, /err\n/);
  assert.equal(all.stdout_bytes, 4);
  assert.equal(all.stderr_bytes, 4);
  assert.equal(all.more, false);
  const listed = (await call(client, 'job_list', {})).structuredContent.jobs;
  assert.equal(listed.find((j) => j.job === job).exit_code, 3);
  const end = jobEvents(job).find((e) => e.type === 'job.end');
  assert.equal(end.details.state, 'exited');
  assert.equal(end.details.exit_code, 3);
  await client.close();
});

test('the output ring keeps the last 256 KiB and says how many bytes were dropped', async () => {
  const client = await connect('rita');
  const total = 400000;
  const job = await start(client, `head -c ${total} /dev/zero | tr '\\0' x; echo; echo tail-marker`);
  await ended(client, job, 30000);
  const first = (await output(client, job, 0)).structuredContent;
  const size = total + 1 + 'tail-marker\n'.length;
  assert.equal(first.dropped, size - RING);
  assert.equal(first.since, size - RING);
  assert.ok(first.output.startsWith(`[zt: ${size - RING} bytes dropped]\nxxx`), first.output.slice(0, 60));
  // Read on from next: every byte once, the last one the marker's.
  let got = first.output.length - `[zt: ${size - RING} bytes dropped]\n`.length;
  let sc = first;
  while (sc.more) {
    sc = (await output(client, job, sc.next)).structuredContent;
    assert.equal(sc.dropped, 0);
    got += sc.output.length;
  }
  assert.equal(got, RING);
  assert.equal(sc.next, size);
  assert.ok(sc.output.endsWith('x\ntail-marker\n'));
  await client.close();
});

test('locking the user kills its job at once, and the end says why', async () => {
  const client = await connect('lola');
  const job = await start(client, 'sleep 300');
  const t0 = Date.now();
  assert.equal(admin(broker, 'users', 'lock', 'lola').code, 0);
  let end;
  await until(() => (end = jobEvents(job).find((e) => e.type === 'job.end')), 'the job ends', 8000);
  assert.ok(Date.now() - t0 < 8000);
  assert.equal(end.details.state, 'killed');
  assert.equal(end.details.signal, 'KILL');
  // A lock revokes the user's tokens: the one that started the job is the first to go.
  assert.match(end.details.reason, /^the credential that started it no longer holds \((token revoked|identity locked)\)$/);
  await client.close().catch(() => {});
});

// The lock cuts the agent's streams off, and sshd does not signal a
// command without a terminal when its connection drops: the broker kills
// the job over its live connection first, then cuts.
test('locking the agent kills its job before the cut, on the host too, and the end says why', async () => {
  const client = await connect('lars');
  const pidfile = path.join(tmpdir('zt-job-'), 'pid');
  const job = await start(client, `echo $$ > ${pidfile}; exec sleep 300`);
  const readPid = () => { try { return Number(fs.readFileSync(pidfile, 'utf8').trim()); } catch { return 0; } };
  let pid = 0;
  await until(() => (pid = readPid()) > 0, 'the command wrote its pid');
  assert.ok(fs.existsSync(`/proc/${pid}`), 'the command runs');

  const r = admin(broker, 'agents', 'lock', 'web1');
  assert.equal(r.code, 0, r.stderr);
  let end;
  await until(() => (end = jobEvents(job).find((e) => e.type === 'job.end')), 'the job ends', 20000);
  assert.equal(end.outcome, 'success');
  assert.equal(end.details.state, 'killed');
  assert.equal(end.details.signal, 'KILL');
  assert.equal(end.details.reason, 'host web1 was locked');
  assert.equal(end.details.warning, undefined, 'not lost: the kill reached sshd');
  await until(() => !fs.existsSync(`/proc/${pid}`), 'the command is gone from the host', 10000);
  // And the agent is cut off.
  await until(async () => !(await call(client, 'list_hosts', {})).structuredContent.hosts[0]?.online,
    'web1 offline', 10000);
  const refused = await call(client, 'ssh_exec', { host: 'web1', login: sshd.user, command: 'true',
    background: true });
  assert.equal(refused.isError, true);
  assert.match(text(refused), /locked/);

  // Let it back for the tests after (its agent retries with a backoff).
  assert.equal(admin(broker, 'agents', 'unlock', 'web1').code, 0);
  await until(async () => (await call(client, 'list_hosts', {})).structuredContent.hosts[0]?.online,
    'web1 online again', 60000);
  await client.close();
});

test('a job\'s timeout_s ends it, and stopping the broker kills the jobs left', async () => {
  const client = await connect('tim');
  const short = await start(client, 'sleep 300', { timeout_s: 2 });
  const long = await start(client, 'sleep 300');
  const sc = await ended(client, short, 10000);
  assert.equal(sc.state, 'killed');
  assert.equal(sc.reason, 'its time limit (2s) passed');
  await client.close();
  await stopChecked(broker);
  stopped = true;
  const end = jobEvents(long).find((e) => e.type === 'job.end');
  assert.equal(end.details.reason, 'the broker is stopping');
  const events = auditEvents(broker);
  assert.ok(events.findIndex((e) => e === end || (e.type === 'job.end' && e.details.job_id === long))
    < events.findIndex((e) => e.type === 'broker.stop'));
});
