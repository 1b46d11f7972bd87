// bench/ssh_exec.mjs - `make bench`: how much zt's ssh_exec costs next to its peers.
//
// One run, one sshd (tests/fixtures/sshd.sh, trusting both the broker's SSH user CA and a
// sshcert_mint CA), the command `true`, three ways:
//   openssh  a fresh `ssh` process per call, with a key + certificate minted once;
//   libssh   build/tests/tools/bench_libssh_exec: resources/ssh_exec.c's ssh_exec_run() on a
//            fresh TCP connection per call, a fresh key + certificate per call, in-process;
//   mcp      tools/call ssh_exec through the official MCP SDK client over Streamable HTTP
//            (one client session, parallel requests on it) -> ztbroker (policy, audit,
//            certificate) -> the ztagent's reverse tunnel -> sshd.
// For each: median and p90 of sequential calls after a warm-up, and calls per second at
// concurrency 1, 8 and 32. A plain-text table goes to stdout, the same numbers as JSON to
// $ZT_BUILD/bench/ssh_exec.json, progress to stderr. Any failed call aborts the run.
//
//   ZT_BUILD=$PWD/build node_modules/.bin/node bench/ssh_exec.mjs
//
// BENCH_WARMUP (default 10), BENCH_SEQ_CALLS (100: the concurrency 1 run) and BENCH_CALLS
// (200: each run at concurrency 8 and 32) change the call counts; BENCH_ONLY=mcp,libssh runs
// only those (no ratios without openssh); BENCH_OPENSSH_KEX=curve25519-sha256 makes the ssh
// client use libssh's key exchange instead of OpenSSH 9's default (sntrup761x25519-sha512).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { admin, BUILD, botToken, brokerFetch, sdk, startAgent, startBroker, tmpdir, until }
  from '../tests/e2e/lib/zt.mjs';
import { MINT, startSshd } from '../tests/e2e/lib/sshd.mjs';

const LIBSSH_BENCH = path.join(BUILD, 'tests/tools/bench_libssh_exec');
const OUT = path.join(BUILD, 'bench/ssh_exec.json');
const COMMAND = 'true';
const HOST = 'bench1';

function count(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^[1-9][0-9]{0,5}$/.test(v)) throw new Error(`${name} must be a positive integer, not ${v}`);
  return Number(v);
}
const WARMUP = count('BENCH_WARMUP', 10);
const SEQ_CALLS = count('BENCH_SEQ_CALLS', 100);
const CALLS = count('BENCH_CALLS', 200);
// BENCH_LEVELS=1,8 runs only those concurrency levels (1 is always run).
const LEVELS = [...new Set([1, ...(process.env.BENCH_LEVELS || '8,32').split(',').filter(Boolean)
  .map((v) => {
    if (!/^[1-9][0-9]{0,3}$/.test(v)) throw new Error(`BENCH_LEVELS: bad level ${v}`);
    return Number(v);
  })])];

const say = (s) => process.stderr.write(`bench: ${s}\n`);

// Everything started, for cleanup in any case: temp dirs, the daemons, live children.
const dirs = [];
const children = new Set();
let broker = null;
let agent = null;
let sshd = null;
let client = null;
let cleaning = null;
let interrupted = false;

function cleanup() {
  cleaning ??= (async () => {
    for (const c of children) {
      try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    try { await client?.close(); } catch { /* the broker may be gone */ }
    if (agent) await agent.stop();
    if (broker) {
      const e = await broker.stop();
      if (e.code !== 0) say(`ztbroker exited ${e.code ?? e.sig}: ${e.log.slice(-2000)}`);
    }
    sshd?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupted = true;
    say(`${sig}: stopping`);
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

// Runs a child to completion; resolves {code, stdout, stderr}. Tracked for cleanup.
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', (e) => { children.delete(p); reject(e); });
    p.on('close', (code, sig) => { children.delete(p); resolve({ code: code ?? sig, stdout, stderr }); });
  });
}

// Nearest-rank percentile of sorted numbers.
const pct = (sorted, p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
const r1 = (x) => Math.round(x * 10) / 10;

function summary(lat, wallMs) {
  const s = [...lat].sort((a, b) => a - b);
  return { calls: lat.length, wall_ms: r1(wallMs), calls_per_s: r1(lat.length / (wallMs / 1000)),
    median_ms: r1(pct(s, 0.5)), p90_ms: r1(pct(s, 0.9)), max_ms: r1(s.at(-1)) };
}

// total calls of call(i) over conc workers; the first failure stops every worker and
// rejects with it. Resolves {lat (call order), wallMs}.
async function drive(call, total, conc) {
  const lat = new Array(total);
  let next = 0, failed = null;
  const worker = async () => {
    while (!failed && next < total) {
      const i = next++;
      const t0 = performance.now();
      try {
        await call(i);
      } catch (e) {
        failed ??= new Error(`call ${i} of ${total} (concurrency ${conc}) failed: ${e.message}`);
        return;
      }
      lat[i] = performance.now() - t0;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, worker));
  const wallMs = performance.now() - t0;
  if (failed) throw failed;
  return { lat, wallMs };
}

// The three ways to run COMMAND. Each has measure(total, conc, warmup) -> {lat, wallMs}.
function opensshMethod({ key, port, knownHosts, user }) {
  const kex = process.env.BENCH_OPENSSH_KEX || undefined;
  if (kex !== undefined && !/^[a-z0-9@.,-]+$/.test(kex)) {
    throw new Error(`BENCH_OPENSSH_KEX: bad value ${kex}`);
  }
  const args = ['-F', '/dev/null', '-i', key, '-o', `CertificateFile=${key}-cert.pub`,
    ...(kex ? ['-o', `KexAlgorithms=${kex}`] : []),
    '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=30',
    '-p', String(port), `${user}@127.0.0.1`, COMMAND];
  const call = async () => {
    const r = await run('ssh', args);
    if (r.code !== 0) throw new Error(`ssh exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
  };
  return {
    name: 'openssh',
    label: kex ? 'direct OpenSSH (ssh, KEX set)' : 'direct OpenSSH (ssh process)',
    async measure(total, conc, warmup) {
      if (warmup) await drive(call, warmup, Math.min(conc, warmup));
      return drive(call, total, conc);
    },
  };
}

function libsshMethod({ caDir, port, hostKey, user }) {
  return {
    name: 'libssh', label: 'direct libssh (ssh_exec_run)',
    async measure(total, conc, warmup) {
      const r = await run(LIBSSH_BENCH, ['--ca-dir', caDir, '--port', String(port),
        '--host-key-file', hostKey, '--login', user, '--calls', String(total),
        '--concurrency', String(conc), '--warmup', String(warmup), '--timeout-ms', '30000',
        '--', COMMAND]);
      if (r.code !== 0) throw new Error(`bench_libssh_exec exited ${r.code}: ${r.stderr.trim()}`);
      const o = JSON.parse(r.stdout);
      if (o.latencies_ms.length !== total) throw new Error('bench_libssh_exec: wrong call count');
      return { lat: o.latencies_ms, wallMs: o.wall_ms };
    },
  };
}

function mcpMethod({ user }) {
  // duration_ms as the broker reports it: ssh_exec_run() alone (after the tunnel dial).
  let inner = [];
  const call = async () => {
    const r = await client.callTool({ name: 'ssh_exec',
      arguments: { host: HOST, login: user, command: COMMAND, timeout_s: 30 } }, undefined,
    { timeout: 60000 });
    const sc = r.structuredContent;
    if (r.isError || sc?.exit_code !== 0) {
      throw new Error(`ssh_exec: ${r.content?.map((c) => c.text).join(' ').slice(0, 500)}`);
    }
    inner.push(sc.duration_ms);
  };
  return {
    name: 'mcp', label: 'MCP ssh_exec (HTTP+broker+agent)',
    inner: () => inner,
    async measure(total, conc, warmup) {
      if (warmup) await drive(call, warmup, Math.min(conc, warmup));
      inner = [];
      return drive(call, total, conc);
    },
  };
}

async function setup() {
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  for (const f of [path.join(BUILD, 'ztbroker'), path.join(BUILD, 'ztagent'), MINT, LIBSSH_BENCH]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: build it first (make bench does)`);
  }
  // The direct paths' CA, and one key + certificate for the ssh client.
  const work = tmpdir('zt-bench-');
  dirs.push(work);
  const caDir = path.join(work, 'ca');
  const mintLine = execFileSync(MINT, ['--ca-dir', caDir, '--pub'], { encoding: 'utf8' }).trim();
  const now = Math.floor(Date.now() / 1000);
  const key = path.join(work, 'id');
  execFileSync(MINT, ['--ca-dir', caDir, '--principal', user, '--valid-after', String(now - 60),
    '--valid-before', String(now + 3600), '--key-id', 'zt-bench-openssh', '--serial', '1',
    '--out', key]);

  say('starting ztbroker, sshd, ztagent');
  broker = await startBroker({ dir: tmpdir('zt-bench-broker-'),
    args: ['--tunnel-listen', '127.0.0.1:0', '--exec-timeout-max', '60s'] });
  dirs.push(broker.dir);
  const brokerCa = admin(broker, 'ca', 'ssh-user-pub');
  if (brokerCa.code !== 0) throw new Error(`ztbroker admin ca ssh-user-pub: ${brokerCa.stderr}`);
  sshd = startSshd({ userCa: `${brokerCa.stdout.trim()}\n${mintLine}\n` });

  const role = path.join(work, 'role.yaml');
  fs.writeFileSync(role, `kind: role\nname: bench\nallow:\n  hosts: {env: bench}\n`
    + `  logins: [${user}]\n  tools: [ssh_exec, list_hosts]\n`);
  const ra = admin(broker, 'roles', 'apply', '-f', role);
  if (ra.code !== 0) throw new Error(`roles apply: ${ra.stderr}`);
  const tok = admin(broker, 'tokens', 'add');
  const token = tok.stdout.match(/^token: (\S+)$/m)?.[1];
  if (!token) throw new Error(`tokens add: ${tok.stderr}`);
  const agentDir = tmpdir('zt-bench-agent-');
  dirs.push(agentDir);
  const a = await startAgent(broker, path.join(agentDir, 'data'), HOST,
    { token, hostKey: sshd.hostKey, labels: 'env=bench', ssh: `127.0.0.1:${sshd.port}` });
  if (!a.joined) throw new Error(`ztagent did not join (exit ${a.code}): ${a.out?.stderr}`);
  agent = a;

  const S = await sdk();
  client = new S.Client({ name: 'zt-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker),
    requestInit: { headers: { Authorization: `Bearer ${botToken(broker, 'bench-bot', { roles: 'bench' })}` } },
  }));
  await until(async () => {
    const r = await client.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent?.hosts?.some((h) => h.name === HOST && h.online);
  }, `${HOST} online`);

  const hostKey = sshd.hostKey;
  const knownHosts = path.join(sshd.sshdDir, 'known_hosts');
  const all = [
    opensshMethod({ key, port: sshd.port, knownHosts, user }),
    libsshMethod({ caDir, port: sshd.port, hostKey, user }),
    mcpMethod({ user }),
  ];
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  const unknown = only?.filter((n) => !all.some((m) => m.name === n));
  if (unknown?.length) throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')}`);
  return only ? all.filter((m) => only.includes(m.name)) : all;
}

function versions() {
  const v = { node: process.version };
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  v.openssh = (ssh.stderr || ssh.stdout).trim();
  const lib = spawnSync('pkg-config', ['--modversion', 'libssh'], { encoding: 'utf8' });
  v.libssh = lib.status === 0 ? lib.stdout.trim() : 'unknown';
  try {
    v.mcp_sdk = JSON.parse(fs.readFileSync(path.resolve('node_modules/@modelcontextprotocol/sdk/package.json'),
      'utf8')).version;
  } catch { v.mcp_sdk = 'unknown'; }
  return v;
}

function table(report) {
  const { results: res, calls } = report;
  const w = [34, 9, 9, 10, 10, 8, 8, 8];
  const row = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i])))
    .join('');
  const lines = [
    `zt ssh_exec benchmark: \`${COMMAND}\` on one sshd at 127.0.0.1, ${report.date}`,
    `${report.machine.nproc} cores, Linux ${report.machine.kernel}, load ${report.machine.loadavg.join(' ')}; `
      + `${report.versions.openssh}; node ${report.versions.node}; libssh ${report.versions.libssh}`,
    `sequential: ${calls.sequential} calls after ${calls.warmup} warm-up; `
      + `${LEVELS.slice(1).map((c) => `c=${c}`).join(' and ') || 'no concurrency'}: ${calls.concurrent} calls `
      + 'each; MCP: one client session, parallel tools/call',
    `OpenSSH key exchange: ${report.openssh_kex}; libssh: curve25519-sha256`,
    '',
    row(['', 'median', 'p90', 'median', 'p90', 'calls/s', ...LEVELS.slice(1).map(() => '')]),
    row(['path', 'ms', 'ms', '/OpenSSH', '/OpenSSH', ...LEVELS.map((c) => `c=${c}`)]),
  ];
  for (const m of Object.values(res)) {
    const s = m.sequential;
    const ratio = (k) => (m.vs_openssh ? `${m.vs_openssh[k].toFixed(2)}x` : '-');
    lines.push(row([m.label, s.median_ms.toFixed(1), s.p90_ms.toFixed(1), ratio('median'), ratio('p90'),
      ...LEVELS.map((c) => m.calls_per_s[c].toFixed(1))]));
  }
  const mcp = res.mcp;
  if (mcp?.broker_ssh_exec_run_median_ms !== undefined) {
    lines.push('', `MCP, sequential: the broker reports a median of ${mcp.broker_ssh_exec_run_median_ms} ms `
      + `in ssh_exec_run(); the other ${r1(mcp.sequential.median_ms - mcp.broker_ssh_exec_run_median_ms)} ms `
      + 'are HTTP, the SDK, policy, audit and the tunnel dial.');
  }
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  const methods = await setup();
  const report = {
    date: new Date().toISOString(),
    machine: { nproc: os.availableParallelism(), kernel: os.release(), cpu: os.cpus()[0]?.model ?? '',
      loadavg: os.loadavg().map(r1) },
    versions: versions(),
    command: COMMAND,
    openssh_kex: process.env.BENCH_OPENSSH_KEX || 'default',
    calls: { warmup: WARMUP, sequential: SEQ_CALLS, concurrent: CALLS, levels: LEVELS },
    mcp_sessions: 1,
    results: {},
  };
  const runs = {};
  for (const m of methods) runs[m.name] = {};
  // Level by level, the three in turn, so that drift in the machine's load hits all alike.
  for (const conc of LEVELS) {
    for (const m of methods) {
      const total = conc === 1 ? SEQ_CALLS : CALLS;
      const warm = conc === 1 ? WARMUP : Math.min(conc, 10);
      say(`${m.name}: ${total} calls at concurrency ${conc}`);
      const { lat, wallMs } = await m.measure(total, conc, warm);
      runs[m.name][conc] = summary(lat, wallMs);
      if (m.inner && conc === 1) runs[m.name].inner = [...m.inner()].sort((a, b) => a - b);
      say(`${m.name}: c=${conc} median ${runs[m.name][conc].median_ms} ms, `
        + `${runs[m.name][conc].calls_per_s} calls/s`);
    }
  }
  const base = runs.openssh?.[1];
  for (const m of methods) {
    const seq = runs[m.name][1];
    report.results[m.name] = {
      label: m.label,
      sequential: { calls: seq.calls, median_ms: seq.median_ms, p90_ms: seq.p90_ms, max_ms: seq.max_ms },
      vs_openssh: base ? { median: Math.round((seq.median_ms / base.median_ms) * 100) / 100,
        p90: Math.round((seq.p90_ms / base.p90_ms) * 100) / 100 } : null,
      calls_per_s: Object.fromEntries(LEVELS.map((c) => [c, runs[m.name][c].calls_per_s])),
      levels: Object.fromEntries(LEVELS.map((c) => [c, runs[m.name][c]])),
    };
    if (runs[m.name].inner) {
      report.results[m.name].broker_ssh_exec_run_median_ms = r1(pct(runs[m.name].inner, 0.5));
    }
  }
  report.duration_s = Math.round((Date.now() - started) / 1000);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${table(report)}\n\nJSON: ${OUT} (run took ${report.duration_s} s)\n`);
}

let code = 0;
try {
  await main();
} catch (e) {
  if (interrupted) await new Promise(() => {}); // the signal handler exits
  process.stderr.write(`bench: FAILED: ${e.message}\n`);
  const tail = (t) => t.split('\n').slice(-15).join('\n');
  if (broker) process.stderr.write(`--- ztbroker log, last lines:\n${tail(broker.log.join(''))}\n`);
  if (agent) process.stderr.write(`--- ztagent log, last lines:\n${tail(agent.out.stderr)}\n`);
  code = 1;
}
await cleanup();
process.exit(code);
