// bench/ssh_exec.mjs - `make bench`: how much zt's ssh_exec costs next to its peers.
//
// One run, one sshd (tests/fixtures/sshd.sh), one login, the command `true`, five ways:
//   openssh   a fresh `ssh` process per call (key + certificate minted once);
//   cm        `ssh -S sock` through one OpenSSH ControlMaster: a new channel on a connection
//             that is already up, the floor for running a command over SSH;
//   libssh    build/tests/tools/bench_libssh_exec: resources/ssh_exec.c's ssh_exec_run() on a
//             fresh TCP connection per call, a fresh key + certificate per call, in-process;
//   sshmcp    the npm package ssh-mcp (pinned in package.json), its `run-command` tool over MCP
//             stdio, key auth, approval off: one process, one SSH connection it keeps;
//   mcp       tools/call ssh_exec through the official MCP SDK client over Streamable HTTP
//             (parallel requests on one session per 64 of them) -> ztbroker (policy, two durable
//             audit events, a pooled SSH connection of the caller) -> ztagent's tunnel -> sshd.
// Sections, each a function of the shared setup: `warm` (median, p90, p99 and calls/s at each
// concurrency level, failures and time-outs counted, not fatal), `cold` (the first call to
// the host: a fresh `ssh`, a new ssh-mcp process, a new zt credential) and `files` (a file of
// random bytes down and up: scp, sftp -b, zt's file_read and file_write, `ztctl cp`; MB/s, SHA-256
// checked) and `keys` (a keystroke's round trip through `ztctl ssh` and through `ssh` on a
// ControlMaster). A plain-text table goes to stdout, the numbers as JSON to
// $ZT_BUILD/bench/ssh_exec.json, progress to stderr.
//
//   ZT_BUILD=$PWD/build node_modules/.bin/node bench/ssh_exec.mjs
//
// Knobs: BENCH_WARMUP (default 10: before the sequential run), BENCH_SEQ_CALLS (100: the
// concurrency 1 run), BENCH_CALLS (200: each run at a higher level), BENCH_LEVELS (8,32,128;
// 1 is always run), BENCH_COLD_CALLS (20), BENCH_TIMEOUT_S (60: a call slower than this counts
// as timed out), BENCH_ONLY=mcp,cm (a subset; ratios need their reference), BENCH_SECTIONS
// (warm,cold,files,keys), BENCH_KEYS (200), BENCH_FILE_MIB (64: the file's size), BENCH_FILE_RUNS (3: rounds of the
// file paths), BENCH_LOGIN (default: as root the system user zt-bench, created on first use
// with /bin/sh as its shell; else the current user), BENCH_OPENSSH_KEX=curve25519-sha256
// (the ssh client's key exchange, default OpenSSH 9's sntrup761x25519-sha512).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  admin, BUILD, botToken, brokerFetch, sdk, startAgent, startBroker, tmpdir, until, ZTBROKER, ZTCTL,
  ztctlHome,
} from '../tests/e2e/lib/zt.mjs';
import { MINT, startSshd } from '../tests/e2e/lib/sshd.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIBSSH_BENCH = path.join(BUILD, 'tests/tools/bench_libssh_exec');
const SSHMCP_DIR = path.join(ROOT, 'node_modules/ssh-mcp');
const OUT = path.join(BUILD, 'bench/ssh_exec.json');
const COMMAND = 'true';
const HOST = 'bench1';
// The login every path uses when the bench runs as root (see benchLogin).
const BENCH_USER = 'zt-bench';
const BENCH_HOME = '/var/lib/zt-bench';

function count(name, dflt, max = 999999) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^[1-9][0-9]{0,5}$/.test(v) || Number(v) > max) {
    throw new Error(`${name} must be an integer from 1 to ${max}, not ${v}`);
  }
  return Number(v);
}
function list(name, dflt) {
  return (process.env[name] || dflt).split(',').filter(Boolean);
}
const WARMUP = count('BENCH_WARMUP', 10);
const SEQ_CALLS = count('BENCH_SEQ_CALLS', 100);
const CALLS = count('BENCH_CALLS', 200);
const COLD_CALLS = count('BENCH_COLD_CALLS', 20);
const TIMEOUT_MS = count('BENCH_TIMEOUT_S', 60, 3600) * 1000;
// bench_libssh_exec runs one thread per concurrent call, at most 256.
const LEVELS = [...new Set([1, ...list('BENCH_LEVELS', '8,32,128').map((v) => {
  if (!/^[1-9][0-9]{0,2}$/.test(v) || Number(v) > 256) throw new Error(`BENCH_LEVELS: bad level ${v}`);
  return Number(v);
})])].sort((a, b) => a - b);

const say = (s) => process.stderr.write(`bench: ${s}\n`);

// Everything started, for cleanup in any case: temp dirs, the daemons, live children, MCP
// clients (closing a stdio client ends its ssh-mcp process).
const dirs = [];
const children = new Set();
const clients = new Set();
let broker = null;
let agent = null;
let sshd = null;
let cleaning = null;
let interrupted = false;

function cleanup() {
  cleaning ??= (async () => {
    for (const c of clients) {
      try { await c.close(); } catch { /* its server may be gone */ }
    }
    for (const c of children) {
      try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
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

// A call that ran out of time, told apart from one that failed.
class TimedOut extends Error {}

// Runs a child to completion, killed after timeoutMs; resolves {code, stdout, stderr}.
function run(cmd, args, timeoutMs = TIMEOUT_MS) {
  return runEnv(cmd, args, {}, timeoutMs);
}

// As run(), with env added to the bench's environment.
function runEnv(cmd, args, env, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.add(p);
    let stdout = '', stderr = '', late = false;
    const t = setTimeout(() => { late = true; p.kill('SIGKILL'); }, timeoutMs);
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', (e) => { clearTimeout(t); children.delete(p); reject(e); });
    p.on('close', (code, sig) => {
      clearTimeout(t);
      children.delete(p);
      if (late) reject(new TimedOut(`${path.basename(cmd)} ran past ${timeoutMs} ms`));
      else resolve({ code: code ?? sig, stdout, stderr });
    });
  });
}

// An MCP tools/call that throws TimedOut when the SDK gave up waiting.
async function callTool(client, name, args) {
  try {
    return await client.callTool({ name, arguments: args }, undefined, { timeout: TIMEOUT_MS });
  } catch (e) {
    if (e?.code === -32001) throw new TimedOut(e.message); // the SDK's RequestTimeout
    throw e;
  }
}

// Nearest-rank percentile of sorted numbers.
const pct = (sorted, p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;

// The numbers of one run: lat holds a latency per call, null for a call that did not succeed.
function summary({ lat, wallMs, failed, timedOut, firstError }) {
  const s = lat.filter((x) => x !== null).sort((a, b) => a - b);
  const ok = s.length > 0;
  return { calls: lat.length, ok: s.length, failed, timed_out: timedOut,
    first_error: firstError ?? null, wall_ms: r1(wallMs), calls_per_s: r1(s.length / (wallMs / 1000)),
    median_ms: ok ? r1(pct(s, 0.5)) : null, p90_ms: ok ? r1(pct(s, 0.9)) : null,
    p99_ms: ok ? r1(pct(s, 0.99)) : null, max_ms: ok ? r1(s.at(-1)) : null };
}

// total calls of call(i, worker) over conc workers. A call that throws is counted (TimedOut as a
// time-out, anything else as a failure) and the run goes on. Resolves
// {lat (call order, null when not ok), wallMs, failed, timedOut, firstError}.
async function drive(call, total, conc) {
  const lat = new Array(total).fill(null);
  let next = 0, failed = 0, timedOut = 0, firstError;
  const worker = async (_, w) => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      try {
        await call(i, w);
        lat[i] = performance.now() - t0;
      } catch (e) {
        if (e instanceof TimedOut) timedOut++; else failed++;
        firstError ??= `call ${i} (concurrency ${conc}): ${e.message}`.slice(0, 600);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, worker));
  return { lat, wallMs: performance.now() - t0, failed, timedOut, firstError };
}

// warmup calls (not timed), then total timed calls of call(i, worker), at concurrency conc.
// A warm-up call that fails counts like any other: it too was a call at that concurrency.
async function measured(call, total, conc, warmup) {
  const w = warmup ? await drive(call, warmup, Math.min(conc, warmup)) : null;
  return withWarmUp(w, await drive(call, total, conc));
}

// The timed run r, with the failures of its warm-up w (null: none) added.
function withWarmUp(w, r) {
  if (!w) return r;
  return { ...r, failed: r.failed + w.failed, timedOut: r.timedOut + w.timedOut,
    firstError: w.firstError ? `warm-up ${w.firstError}` : r.firstError };
}

// The login every path uses. As root, the system user zt-bench with /bin/sh as its shell and
// an empty home, so that a command pays for SSH and not for root's dotfiles (a .bashrc that
// runs `pyenv rehash` costs ~0.45 s per session here, under a lock). Returns {user, note}.
function benchLogin() {
  const want = process.env.BENCH_LOGIN;
  if (want) {
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(want)) throw new Error(`BENCH_LOGIN: bad name ${want}`);
    return { user: want, note: 'BENCH_LOGIN' };
  }
  if (process.getuid() !== 0) {
    return { user: os.userInfo().username,
      note: 'the current user (not root): its shell startup files are in every number' };
  }
  if (spawnSync('getent', ['passwd', BENCH_USER]).status !== 0) {
    say(`creating the system user ${BENCH_USER} (shell /bin/sh, home ${BENCH_HOME})`);
    execFileSync('useradd', ['--system', '--user-group', '--shell', '/bin/sh', '--home-dir', BENCH_HOME,
      '--no-create-home', '--comment', 'zt make bench login', '--password', '*', BENCH_USER]);
  }
  const pw = execFileSync('getent', ['passwd', BENCH_USER], { encoding: 'utf8' }).trim().split(':');
  if (pw[6] !== '/bin/sh' || pw[5] !== BENCH_HOME) {
    throw new Error(`user ${BENCH_USER} exists with shell ${pw[6]} and home ${pw[5]}, not /bin/sh and `
      + `${BENCH_HOME}: remove it (userdel ${BENCH_USER}) or set BENCH_LOGIN`);
  }
  // sshd (UsePAM no) refuses an account whose password field is locked ("!").
  const sh = spawnSync('getent', ['shadow', BENCH_USER], { encoding: 'utf8' }).stdout.split(':');
  if (sh[1]?.startsWith('!')) execFileSync('usermod', ['--password', '*', BENCH_USER]);
  if (!fs.existsSync(BENCH_HOME)) {
    execFileSync('install', ['-d', '-m', '0755', '-o', BENCH_USER, '-g', BENCH_USER, BENCH_HOME]);
  }
  return { user: BENCH_USER, note: `system user, shell /bin/sh, home ${BENCH_HOME}` };
}

// ---- the five paths ----
// Each has name, label and measure(total, conc, warmup) -> drive()'s result; a path with a
// cold measure also has cold() -> ms of one first call to the host (what it prepares, such as
// a process or an MCP session, is not timed).

// ssh's options for the direct paths; portFlag is -p for ssh, -P for scp and sftp.
function sshArgs({ key, port, knownHosts }, portFlag = '-p') {
  const kex = process.env.BENCH_OPENSSH_KEX || undefined;
  if (kex !== undefined && !/^[a-z0-9@.,-]+$/.test(kex)) {
    throw new Error(`BENCH_OPENSSH_KEX: bad value ${kex}`);
  }
  return ['-F', '/dev/null', '-i', key, '-o', `CertificateFile=${key}-cert.pub`,
    ...(kex ? ['-o', `KexAlgorithms=${kex}`] : []),
    '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=30', portFlag, String(port)];
}

async function sshCall(args) {
  const r = await run('ssh', args);
  if (r.code !== 0) throw new Error(`ssh exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
}

function opensshMethod(ctx) {
  const args = [...sshArgs(ctx), '-o', 'ControlPath=none', `${ctx.user}@127.0.0.1`, COMMAND];
  const call = () => sshCall(args);
  return {
    name: 'openssh', label: 'OpenSSH, fresh ssh process',
    measure: (total, conc, warmup) => measured(call, total, conc, warmup),
    async cold() {
      const t0 = performance.now();
      await call();
      return performance.now() - t0;
    },
  };
}

// One master connection, started in the foreground of a tracked child (-N without -f); each
// call is `ssh -S sock`, a new session channel on it. ssh falls back to a connection of its
// own when the master is gone, so the master is checked after every run.
function controlMasterMethod(ctx) {
  const sock = path.join(ctx.work, 'cm.sock');
  const target = `${ctx.user}@127.0.0.1`;
  const base = sshArgs(ctx);
  let master = null;
  const check = () => spawnSync('ssh', [...base, '-S', sock, '-O', 'check', target]).status === 0;
  const call = () => sshCall([...base, '-S', sock, '-o', 'ControlMaster=no', target, COMMAND]);
  return {
    name: 'cm', label: 'OpenSSH ControlMaster channel',
    async measure(total, conc, warmup) {
      if (!master) {
        master = spawn('ssh', [...base, '-M', '-S', sock, '-o', 'ControlPersist=no', '-N', target],
          { stdio: ['ignore', 'ignore', 'pipe'] });
        children.add(master);
        let err = '';
        master.stderr.on('data', (d) => { err += d; });
        master.on('close', () => children.delete(master));
        await until(() => check() || master.exitCode !== null, 'the ControlMaster', 20000);
        if (!check()) throw new Error(`ssh -M exited ${master.exitCode}: ${err.trim()}`);
      }
      const r = await measured(call, total, conc, warmup);
      if (!check()) throw new Error('the ControlMaster died during the run');
      return r;
    },
  };
}

function libsshMethod(ctx) {
  // One run of the helper, its own warm-up off (it would stop at a failure).
  const batch = async (total, conc) => {
    const r = await run(LIBSSH_BENCH, ['--ca-dir', ctx.caDir, '--port', String(ctx.port),
      '--host-key-file', ctx.hostKey, '--login', ctx.user, '--calls', String(total),
      '--concurrency', String(conc), '--warmup', '0', '--timeout-ms', String(TIMEOUT_MS),
      '--', COMMAND], TIMEOUT_MS * (total + 2));
    if (r.code !== 0) throw new Error(`bench_libssh_exec exited ${r.code}: ${r.stderr.trim()}`);
    const o = JSON.parse(r.stdout);
    if (o.latencies_ms.length !== total) throw new Error('bench_libssh_exec: wrong call count');
    return { lat: o.latencies_ms, wallMs: o.wall_ms, failed: o.failed, timedOut: o.timed_out,
      firstError: o.first_error ?? undefined };
  };
  return {
    name: 'libssh', label: 'direct libssh, new connection',
    async measure(total, conc, warmup) {
      const w = warmup ? await batch(warmup, Math.min(conc, warmup)) : null;
      return withWarmUp(w, await batch(total, conc));
    },
    async cold() {
      const r = await batch(1, 1);
      if (r.lat[0] === null) throw new Error(r.firstError);
      return r.lat[0];
    },
  };
}

// ssh-mcp's config: one profile for the bench sshd, key auth, the host key pinned (strict),
// approval off ("auto"), in a directory of its own (0700, the file 0600, as it insists).
function sshmcpSetup(ctx) {
  const pkg = JSON.parse(fs.readFileSync(path.join(SSHMCP_DIR, 'package.json'), 'utf8'));
  const home = path.join(ctx.work, 'sshmcp');
  fs.mkdirSync(path.join(home, 'config'), { recursive: true, mode: 0o700 });
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', ctx.hostKey], { encoding: 'utf8' })
    .split(' ')[1];
  const config = path.join(home, 'config', 'config.toml');
  fs.writeFileSync(config, '[defaults]\ndefaultProfile = "bench"\napprovalMode = "auto"\n\n'
    + `[[profiles]]\nname = "bench"\nhost = "127.0.0.1"\nport = ${ctx.port}\nuser = "${ctx.user}"\n`
    + `auth = "key"\nkeyRef = "${ctx.sshmcpKey}"\ntrustedHostKey = "${fp}"\nrole = "admin"\n`
    + 'group = "dev"\napprovalPolicy = "auto"\n', { mode: 0o600 });
  return {
    version: pkg.version,
    bin: path.join(SSHMCP_DIR, typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['ssh-mcp']),
    args: [`--config=${config}`, '--hostKeyMode=strict'],
    // Only what it needs: no SSH_AUTH_SOCK (it would prefer an agent to the key).
    env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'),
      XDG_DATA_HOME: path.join(home, 'data') },
  };
}

function sshmcpMethod(ctx) {
  const m = sshmcpSetup(ctx);
  const start = async () => {
    const S = await sdk();
    const client = new S.Client({ name: 'zt-bench', version: '1.0.0' }, { capabilities: {} });
    const transport = new S.StdioClientTransport({ command: process.execPath, args: [m.bin, ...m.args],
      env: m.env, stderr: 'pipe' });
    let err = '';
    transport.stderr?.on('data', (d) => { err = (err + d).slice(-4000); });
    clients.add(client);
    try {
      await client.connect(transport);
    } catch (e) {
      throw new Error(`ssh-mcp did not start: ${e.message}: ${err.trim()}`);
    }
    return { client, stderr: () => err };
  };
  const stop = async (s) => {
    clients.delete(s.client);
    await s.client.close();
  };
  const call = async (s) => {
    const r = await callTool(s.client, 'run-command', { command: COMMAND });
    if (r.isError) throw new Error(`run-command: ${r.content?.map((c) => c.text).join(' ').slice(0, 500)}`);
  };
  let warm = null;
  return {
    name: 'sshmcp', label: `ssh-mcp ${m.version} run-command (stdio)`, version: m.version,
    async measure(total, conc, warmup) {
      warm ??= await start();
      return measured(() => call(warm), total, conc, warmup);
    },
    async cold() {
      const s = await start();
      try {
        const t0 = performance.now();
        await call(s);
        return performance.now() - t0;
      } finally {
        await stop(s);
      }
    },
  };
}

// zt: for the warm runs, MCP sessions of one bot, as few as carry the level's calls: a session
// takes at most MCP_CALLS_MAX requests in flight (mcp/mcp_int.h) and refuses more, so c=128
// runs on two sessions, 64 workers each (the pool holds connections per credential, so they
// share it). A cold call is the first ssh_exec of a new bot token (nothing is warm for it) on
// a new session; its `initialize` is timed apart (connect_ms).
const MCP_CALLS_MAX = 64;
const UNAUTH_PER_ADDR = 128;

function mcpMethod(ctx) {
  let inner = [];
  let coldConnect = [];
  const warm = [];
  let bots = 0;
  const S = ctx.S;
  const connect = async (token) => {
    const client = new S.Client({ name: 'zt-bench', version: '1.0.0' }, { capabilities: {} });
    clients.add(client);
    await client.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
      fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }));
    return client;
  };
  const call = async (client) => {
    const r = await callTool(client, 'ssh_exec',
      { host: HOST, login: ctx.user, command: COMMAND, timeout_s: Math.ceil(TIMEOUT_MS / 1000) });
    ctx.mcpAnswered++; // the broker answered: the call went through its gate
    const sc = r.structuredContent;
    if (r.isError || sc?.exit_code !== 0) {
      throw new Error(`ssh_exec: ${r.content?.map((c) => c.text).join(' ').slice(0, 500)}`);
    }
    inner.push(sc.duration_ms);
  };
  return {
    name: 'mcp', label: 'zt MCP ssh_exec (HTTP, broker, agent)',
    pooled: true,
    // duration_ms as the broker reports it: the command on its SSH connection.
    inner: () => inner,
    coldConnect: () => coldConnect,
    async measure(total, conc, warmup) {
      const n = Math.ceil(conc / MCP_CALLS_MAX);
      while (warm.length < n) warm.push(await connect(ctx.token));
      const on = (_, w) => call(warm[w % n]);
      // The warm-up grows to the level as a client's load would: a burst of BRK_CONN_UNAUTH_
      // PER_ADDR (128) new TLS connections from one address meets the broker's per-address
      // share of connections not yet authenticated, and the one past it is shut at accept.
      const ramp = conc > UNAUTH_PER_ADDR / 2 ? await drive(on, conc, UNAUTH_PER_ADDR / 2) : null;
      const r = withWarmUp(ramp, await measured(on, total, conc, warmup));
      inner = inner.slice(-r.lat.filter((x) => x !== null).length);
      return r;
    },
    async cold() {
      const token = botToken(broker, `bench-cold-${++bots}`, { roles: 'bench' });
      const t0 = performance.now();
      const client = await connect(token);
      const t1 = performance.now();
      try {
        await call(client);
        coldConnect.push(t1 - t0);
        return performance.now() - t1;
      } finally {
        clients.delete(client);
        await client.close();
      }
    },
  };
}

// ---- setup shared by the sections ----

async function setup() {
  for (const f of [path.join(BUILD, 'ztbroker'), path.join(BUILD, 'ztagent'), ZTCTL, MINT, LIBSSH_BENCH]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: build it first (make bench does)`);
  }
  if (!fs.existsSync(path.join(SSHMCP_DIR, 'package.json'))) {
    throw new Error(`${SSHMCP_DIR} is missing: run npm ci (make deps does)`);
  }
  const login = benchLogin();
  const user = login.user;
  // The direct paths' CA, one key + certificate for ssh, one plain key for ssh-mcp (whose ssh2
  // library has no certificate authentication), trusted through an authorized_keys file that
  // the login can read (sshd reads it as that user).
  const work = tmpdir('zt-bench-');
  dirs.push(work);
  const caDir = path.join(work, 'ca');
  const mintLine = execFileSync(MINT, ['--ca-dir', caDir, '--pub'], { encoding: 'utf8' }).trim();
  const now = Math.floor(Date.now() / 1000);
  const key = path.join(work, 'id');
  execFileSync(MINT, ['--ca-dir', caDir, '--principal', user, '--valid-after', String(now - 60),
    '--valid-before', String(now + 6 * 3600), '--key-id', 'zt-bench-openssh', '--serial', '1',
    '--out', key]);
  const sshmcpKey = path.join(work, 'id_sshmcp');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'zt-bench-ssh-mcp', '-f', sshmcpKey]);
  const keysDir = tmpdir('zt-bench-keys-');
  dirs.push(keysDir);
  fs.chmodSync(keysDir, 0o755);
  const authorizedKeys = path.join(keysDir, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, fs.readFileSync(`${sshmcpKey}.pub`), { mode: 0o644 });

  say(`starting ztbroker, sshd, ztagent; login ${user} (${login.note})`);
  // 128 calls at once on one identity: zt refuses past --mcp-calls-per-identity (default 32).
  const callsPerIdentity = Math.min(256, Math.max(32, Math.max(...LEVELS, 10)));
  broker = await startBroker({ dir: tmpdir('zt-bench-broker-'),
    args: ['--tunnel-listen', '127.0.0.1:0', '--exec-timeout-max', '1h',
      '--mcp-calls-per-identity', String(callsPerIdentity), '--file-max', FILE_MAX_ARG] });
  dirs.push(broker.dir);
  const brokerCa = admin(broker, 'ca', 'ssh-user-pub');
  if (brokerCa.code !== 0) throw new Error(`ztbroker admin ca ssh-user-pub: ${brokerCa.stderr}`);
  // The fixture's sshd, with room for 128 handshakes at once (MaxStartups; the fixture's
  // 100:30:200 drops some) and 128 sessions on one connection (MaxSessions, default 10: the
  // ControlMaster and ssh-mcp multiplex), and ssh-mcp's key.
  sshd = startSshd({ userCa: `${brokerCa.stdout.trim()}\n${mintLine}\n`,
    extraConfig: `MaxStartups 1024\nMaxSessions 1024\nAuthorizedKeysFile ${authorizedKeys}\n` });

  // The files section's directory on the "host", the login's own (it writes there over SFTP).
  const filesDir = fs.realpathSync(tmpdir('zt-bench-files-'));
  dirs.push(filesDir);
  if (process.getuid() === 0) execFileSync('chown', [`${user}:`, filesDir]);
  const role = path.join(work, 'role.yaml');
  fs.writeFileSync(role, `kind: role\nname: bench\nallow:\n  hosts: {env: bench}\n`
    + `  logins: [${user}]\n  tools: [ssh_exec, ssh_shell, list_hosts, file_read, file_write]\n`
    + `  paths: ["${filesDir}/**"]\n`);
  const ra = admin(broker, 'roles', 'apply', '-f', role);
  if (ra.code !== 0) throw new Error(`roles apply: ${ra.stderr}`);
  const tok = admin(broker, 'tokens', 'add');
  const joinToken = tok.stdout.match(/^token: (\S+)$/m)?.[1];
  if (!joinToken) throw new Error(`tokens add: ${tok.stderr}`);
  const agentDir = tmpdir('zt-bench-agent-');
  dirs.push(agentDir);
  const a = await startAgent(broker, path.join(agentDir, 'data'), HOST,
    { token: joinToken, hostKey: sshd.hostKey, labels: 'env=bench', ssh: `127.0.0.1:${sshd.port}` });
  if (!a.joined) throw new Error(`ztagent did not join (exit ${a.code}): ${a.out?.stderr}`);
  agent = a;

  const S = await sdk();
  const token = botToken(broker, 'bench-bot', { roles: 'bench' });
  const probe = new S.Client({ name: 'zt-bench', version: '1.0.0' }, { capabilities: {} });
  clients.add(probe);
  await probe.connect(new S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${token}` } },
  }));
  await until(async () => {
    const r = await probe.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent?.hosts?.some((h) => h.name === HOST && h.online);
  }, `${HOST} online`);
  clients.delete(probe);
  await probe.close();

  // ztctl's profile (a ZT_HOME) holding the bot's token, for `ztctl cp`.
  const ztHome = ztctlHome(broker, 'bench-bot', token, ['bench']);
  dirs.push(ztHome);
  const ctx = { S, user, login, work, filesDir, caDir, key, sshmcpKey, token, ztHome, port: sshd.port,
    hostKey: sshd.hostKey, knownHosts: path.join(sshd.sshdDir, 'known_hosts'),
    callsPerIdentity, mcpAnswered: 0 };
  const all = [opensshMethod(ctx), controlMasterMethod(ctx), libsshMethod(ctx), sshmcpMethod(ctx),
    mcpMethod(ctx)];
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  const unknown = only?.filter((n) => !all.some((m) => m.name === n));
  if (unknown?.length) throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')}`);
  ctx.methods = only ? all.filter((m) => only.includes(m.name)) : all;
  return ctx;
}

// What the broker's two durable audit events cost at least: the median of a 200-byte write
// and fdatasync() on the broker's data disk (SQLite in WAL mode, synchronous=FULL, syncs its
// log once per commit).
function fsyncMedianMs() {
  const f = path.join(broker.dir, 'fsync-probe');
  const fd = fs.openSync(f, 'w');
  const lat = [];
  try {
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      fs.writeSync(fd, Buffer.alloc(200, 0x61));
      fs.fdatasyncSync(fd);
      lat.push(performance.now() - t0);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(f, { force: true });
  }
  return r2(pct(lat.sort((a, b) => a - b), 0.5));
}

// The broker's audit log after the run: its ssh_exec events against the calls it answered,
// and whether its hash chain verifies. (Thousands of events: more than spawnSync's default
// 1 MiB of output.)
function auditCheck(answered) {
  const adm = (...args) => {
    const r = spawnSync(ZTBROKER, ['admin', '--data-dir', broker.dataDir, 'audit', ...args],
      { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`ztbroker admin audit ${args[0]}: ${r.error?.message ?? r.stderr}`);
    return r.stdout;
  };
  const types = adm('ls', '--json').split('\n').filter(Boolean).map((l) => JSON.parse(l).type);
  return { calls: answered, decided: types.filter((t) => t === 'tool.ssh_exec').length,
    results: types.filter((t) => t === 'tool.ssh_exec.result').length,
    verify: adm('verify').split('\n')[0] };
}

// ---- sections: each runs on the shared setup, returns its part of the report, and prints
// its part of the table. A new section is one more entry in SECTIONS. ----

// Level by level, the paths in turn, so that drift in the machine's load hits all alike.
// Warm-up before each level: BENCH_WARMUP calls, at the level's concurrency; for zt, whose
// pool keeps a connection per call in flight, one call per worker, so that as many are up as
// the level uses (the ControlMaster and ssh-mcp run every call on their one connection).
async function warmSection(ctx) {
  const runs = Object.fromEntries(ctx.methods.map((m) => [m.name, {}]));
  for (const conc of LEVELS) {
    for (const m of ctx.methods) {
      const total = conc === 1 ? SEQ_CALLS : CALLS;
      say(`warm ${m.name}: ${total} calls at concurrency ${conc}`);
      const s = summary(await m.measure(total, conc, m.pooled ? Math.max(WARMUP, conc) : WARMUP));
      runs[m.name][conc] = s;
      if (m.inner && conc === 1) runs[m.name].inner = [...m.inner()].sort((a, b) => a - b);
      say(`warm ${m.name}: c=${conc} median ${s.median_ms} ms, p99 ${s.p99_ms} ms, `
        + `${s.calls_per_s} calls/s, ${s.failed} failed, ${s.timed_out} timed out`);
    }
  }
  const out = { levels: LEVELS, results: {} };
  for (const m of ctx.methods) {
    out.results[m.name] = { label: m.label, levels: Object.fromEntries(LEVELS.map((c) => [c, runs[m.name][c]])) };
    if (runs[m.name].inner?.length) {
      out.results[m.name].broker_command_median_ms = r1(pct(runs[m.name].inner, 0.5));
    }
  }
  const seq = (n) => out.results[n]?.levels[1]?.median_ms ?? null;
  const ratio = (a, b) => (seq(a) !== null && seq(b) ? r2(seq(a) / seq(b)) : null);
  out.ratios = { mcp_vs_sshmcp: ratio('mcp', 'sshmcp'), mcp_vs_cm: ratio('mcp', 'cm'),
    mcp_vs_openssh: ratio('mcp', 'openssh') };
  return out;
}

// COLD_CALLS first calls per path, interleaved call by call.
async function coldSection(ctx) {
  const methods = ctx.methods.filter((m) => m.cold);
  const lat = Object.fromEntries(methods.map((m) => [m.name, []]));
  const errs = Object.fromEntries(methods.map((m) => [m.name, { failed: 0, timedOut: 0 }]));
  say(`cold: ${COLD_CALLS} first calls each of ${methods.map((m) => m.name).join(', ')}`);
  for (let i = 0; i < COLD_CALLS; i++) {
    for (const m of methods) {
      try {
        lat[m.name].push(await m.cold());
      } catch (e) {
        lat[m.name].push(null);
        if (e instanceof TimedOut) errs[m.name].timedOut++; else errs[m.name].failed++;
        errs[m.name].firstError ??= `cold call ${i}: ${e.message}`.slice(0, 600);
      }
    }
  }
  const out = { calls: COLD_CALLS, results: {} };
  for (const m of methods) {
    const s = summary({ lat: lat[m.name], wallMs: 1, ...errs[m.name] });
    delete s.wall_ms;
    delete s.calls_per_s;
    out.results[m.name] = { label: m.label, ...s };
    if (m.coldConnect?.().length) {
      out.results[m.name].connect_median_ms = r1(pct([...m.coldConnect()].sort((a, b) => a - b), 0.5));
    }
  }
  const med = (n) => out.results[n]?.median_ms ?? null;
  out.ratios = { mcp_vs_openssh: med('mcp') !== null && med('openssh') ? r2(med('mcp') / med('openssh')) : null };
  return out;
}

// ---- file transfer: one file of FILE_MIB random bytes, down and up, three ways each ----
// scp and sftp -b are fresh OpenSSH processes straight to the sshd (OpenSSH 9's scp speaks
// SFTP); zt is file_read / file_write over MCP through the broker and the agent's tunnel, in
// calls of at most FILE_MAX bytes read (the broker runs with --file-max FILE_MAX_ARG) or
// WRITE_CHUNK bytes written (a write's base64 must fit one JSON-RPC message, MCP_MSG_MAX
// in mcp/mcp.h): the first call replaces the file, the rest append. Every path's result is
// checked by its SHA-256. `ztctl cp` is the same link as a person runs it: a new ztctl
// process per transfer (its MCP session, the call, the link, the session's end), its
// profile holding the bench bot's token.
const FILE_MIB = count('BENCH_FILE_MIB', 64, 4096);
const FILE_RUNS = count('BENCH_FILE_RUNS', 3, 100);
const FILE_MAX_ARG = '16M';
const FILE_MAX = 16 * 1024 * 1024;
const MCP_MSG_MAX = 4 * 1024 * 1024;
const WRITE_CHUNK = 3 * Math.floor((MCP_MSG_MAX - 4096) / 4);

const sha256File = (f) => {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(f, 'r');
  const b = Buffer.alloc(1 << 20);
  try {
    for (let k; (k = fs.readSync(fd, b)) > 0;) h.update(b.subarray(0, k));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
};

function filePaths(ctx, client, src, size) {
  const scpArgs = ['-q', ...sshArgs(ctx, '-P')];
  const remote = (f) => `${ctx.user}@127.0.0.1:${f}`;
  const up = (n) => path.join(ctx.filesDir, `up-${n}.bin`);
  const down = (n) => path.join(ctx.work, `down-${n}.bin`);
  const ok = async (r, what) => {
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
  };
  const sftp = async (line) => {
    const batch = path.join(ctx.work, 'sftp.batch');
    fs.writeFileSync(batch, `${line}\n`);
    await ok(await run('sftp', ['-b', batch, ...sshArgs(ctx, '-P'), `${ctx.user}@127.0.0.1`]), 'sftp');
  };
  const ztcp = async (from, to) => {
    const r = await runEnv(ZTCTL, ['cp', from, to], { ZT_HOME: ctx.ztHome });
    await ok(r, 'ztctl cp');
  };
  const zt = async (name, args) => {
    const r = await callTool(client, name, { host: HOST, login: ctx.user, ...args });
    if (r.isError) throw new Error(`${name}: ${r.content?.map((c) => c.text).join(' ').slice(0, 500)}`);
    return r;
  };
  // Each: what it moves (read: down, write: up), and go() -> the file that arrived.
  return [
    { name: 'scp_get', dir: 'read', label: 'scp host:file local', async go() {
      await ok(await run('scp', [...scpArgs, remote(src), down('scp')]), 'scp');
      return down('scp');
    } },
    { name: 'sftp_get', dir: 'read', label: 'sftp -b (get)', async go() {
      await sftp(`get ${src} ${down('sftp')}`);
      return down('sftp');
    } },
    { name: 'zt_read', dir: 'read', label: `zt file_read, ${FILE_MAX >> 20} MiB per call`, async go() {
      const parts = [];
      for (let off = 0; off < size;) {
        const r = await zt('file_read', { path: src, offset: off, length: Math.min(FILE_MAX, size - off) });
        const sc = r.structuredContent;
        const c = r.content[0];
        const b = sc.encoding === 'text' ? Buffer.from(c.text, 'utf8') : Buffer.from(c.resource.blob, 'base64');
        if (b.length !== sc.length || b.length === 0) throw new Error(`file_read at ${off}: ${b.length} bytes`);
        parts.push(b);
        off += b.length;
      }
      fs.writeFileSync(down('zt'), Buffer.concat(parts));
      return down('zt');
    } },
    { name: 'zt_read_link', dir: 'read', label: 'zt file_read, transfer link (GET)', async go() {
      const r = await zt('file_read', { path: src, transfer: 'link' });
      await linkRequest(ctx, 'GET', r.structuredContent.link.url, { to: down('zt-link') });
      return down('zt-link');
    } },
    { name: 'ztctl_get', dir: 'read', label: 'ztctl cp host:file local', async go() {
      await ztcp(`${ctx.user}@${HOST}:${src}`, down('ztctl'));
      return down('ztctl');
    } },
    { name: 'scp_put', dir: 'write', label: 'scp local host:file', async go() {
      await ok(await run('scp', [...scpArgs, src, remote(up('scp'))]), 'scp');
      return up('scp');
    } },
    { name: 'sftp_put', dir: 'write', label: 'sftp -b (put)', async go() {
      await sftp(`put ${src} ${up('sftp')}`);
      return up('sftp');
    } },
    { name: 'zt_write', dir: 'write', label: `zt file_write, ${r2(WRITE_CHUNK / 1048576)} MiB per call`,
      async go() {
        const data = fs.readFileSync(src);
        for (let off = 0; off < size; off += WRITE_CHUNK) {
          await zt('file_write', { path: up('zt'), append: off > 0,
            content_base64: data.subarray(off, off + WRITE_CHUNK).toString('base64') });
        }
        return up('zt');
      } },
    { name: 'zt_write_link', dir: 'write', label: 'zt file_write, transfer link (PUT)', async go() {
      const r = await zt('file_write', { path: up('zt-link'), transfer: 'link' });
      const ans = JSON.parse(await linkRequest(ctx, 'PUT', r.structuredContent.link.url, { from: src, size }));
      if (ans.bytes !== size) throw new Error(`PUT answered ${JSON.stringify(ans).slice(0, 300)}`);
      return up('zt-link');
    } },
    { name: 'ztctl_put', dir: 'write', label: 'ztctl cp local host:file', async go() {
      await ztcp(src, `${ctx.user}@${HOST}:${up('ztctl')}`);
      return up('ztctl');
    } },
  ];
}

// A transfer link's request (broker/brk_xfer.h) with the bench bot's token: GET streamed into
// the file to, or PUT streamed from the file from (size bytes). Resolves with the answer's
// text (PUT) once it ended complete; rejects on any other status or a cut-short answer.
function linkRequest(ctx, method, url, { to, from, size }) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers = { Authorization: `Bearer ${ctx.token}` };
    if (from) headers['Content-Length'] = String(size);
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname, method, headers,
      ca: broker.caPem }, (res) => {
      if (res.statusCode !== 200 || !to) {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts).toString())
          : reject(new Error(`${method} ${res.statusCode}: ${Buffer.concat(parts).toString().slice(0, 300)}`))));
        return;
      }
      const out = fs.createWriteStream(to);
      res.pipe(out);
      res.on('aborted', () => reject(new Error(`${method}: cut short`)));
      out.on('finish', () => (res.complete ? resolve('') : reject(new Error(`${method}: cut short`))));
      out.on('error', reject);
    });
    req.on('error', reject);
    if (from) fs.createReadStream(from).pipe(req);
    else req.end();
  });
}

// FILE_RUNS rounds of every path in turn; the median time of each, as MB/s (10^6 bytes).
async function filesSection(ctx) {
  const size = FILE_MIB * 1048576;
  const src = path.join(ctx.filesDir, 'src.bin');
  fs.writeFileSync(src, crypto.randomBytes(size), { mode: 0o644 });
  const want = sha256File(src);
  const client = new ctx.S.Client({ name: 'zt-bench', version: '1.0.0' }, { capabilities: {} });
  clients.add(client);
  await client.connect(new ctx.S.StreamableHTTPClientTransport(new URL(`${broker.url}/mcp`), {
    fetch: brokerFetch(broker), requestInit: { headers: { Authorization: `Bearer ${ctx.token}` } },
  }));
  // One small read first, so that zt's connection is warm, as in the warm section.
  await callTool(client, 'file_read', { host: HOST, login: ctx.user, path: src, length: 1 });
  const paths = filePaths(ctx, client, src, size);
  const runs = Object.fromEntries(paths.map((p) => [p.name, { ms: [], bad: 0, errors: [] }]));
  for (let i = 0; i < FILE_RUNS; i++) {
    for (const p of paths) {
      say(`files ${p.name}: ${FILE_MIB} MiB, round ${i + 1} of ${FILE_RUNS}`);
      const t0 = performance.now();
      try {
        const got = await p.go();
        const ms = performance.now() - t0;
        const sha = sha256File(got);
        fs.rmSync(got, { force: true });
        if (sha !== want) throw new Error(`SHA-256 ${sha}, not ${want}`);
        runs[p.name].ms.push(ms);
      } catch (e) {
        runs[p.name].bad++;
        runs[p.name].errors.push(e.message.slice(0, 300));
      }
    }
  }
  clients.delete(client);
  await client.close();
  fs.rmSync(src, { force: true });
  const out = { mib: FILE_MIB, runs: FILE_RUNS, read_chunk: FILE_MAX, write_chunk: WRITE_CHUNK,
    sha256: want, results: {} };
  for (const p of paths) {
    const ms = runs[p.name].ms.sort((a, b) => a - b);
    const med = ms.length ? pct(ms, 0.5) : null;
    out.results[p.name] = { label: p.label, dir: p.dir, ok: ms.length, failed: runs[p.name].bad,
      first_error: runs[p.name].errors[0] ?? null, median_ms: med === null ? null : r1(med),
      mb_s: med === null ? null : r1(size / 1e6 / (med / 1000)), ms: ms.map(r1) };
  }
  const mbs = (n) => out.results[n].mb_s;
  const ratio = (a, b) => (mbs(a) && mbs(b) ? r2(mbs(a) / mbs(b)) : null);
  out.ratios = { read_vs_scp: ratio('zt_read', 'scp_get'), write_vs_scp: ratio('zt_write', 'scp_put'),
    read_link_vs_scp: ratio('zt_read_link', 'scp_get'), write_link_vs_scp: ratio('zt_write_link', 'scp_put'),
    ztctl_get_vs_scp: ratio('ztctl_get', 'scp_get'), ztctl_put_vs_scp: ratio('ztctl_put', 'scp_put') };
  return out;
}

// ---- keys: a keystroke's round trip in a terminal ----
//
// Each path runs `stty raw -echo; cat` on the host in a pseudo-terminal, itself inside a local
// pseudo-terminal (tests/tools/pty_run, as a person's terminal): a byte typed comes back
// through cat. zt: `ztctl ssh -t` (ztctl in raw mode -> WebSocket -> broker, which records the
// session -> tunnel -> sshd); OpenSSH: `ssh -tt` on the ControlMaster's connection to the same
// sshd. BENCH_KEYS keystrokes one after another (default 200), the paths in turn.
const KEYS = count('BENCH_KEYS', 200);
const PTY_RUN = path.join(BUILD, 'tests/tools/pty_run');
const REMOTE_CAT = 'stty raw -echo; echo zt-cat-ready; cat';

// Starts cmd args in a local pty and waits until the remote cat runs (nothing is typed before:
// the local pty echoes until the client puts it in raw mode). Resolves
// {type(ch) -> Promise (resolved when ch came back), stop()}.
async function terminalOf(cmd, args, env) {
  const p = spawn(PTY_RUN, ['80', '24', '80', '24', '--', cmd, ...args],
    { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  p.on('close', () => children.delete(p));
  let seen = '', waiter = null;
  p.stdout.on('data', (d) => {
    seen += d;
    if (waiter && seen.includes(waiter.ch)) { const w = waiter; waiter = null; w.resolve(); }
  });
  const type = (ch) => new Promise((resolve, reject) => {
    seen = '';
    waiter = { ch, resolve };
    const t = setTimeout(() => reject(new TimedOut(`no echo of ${ch}`)), TIMEOUT_MS);
    p.stdin.write(ch);
    waiter.resolve = () => { clearTimeout(t); resolve(); };
  });
  await until(() => seen.includes('zt-cat-ready'), `${path.basename(cmd)}'s remote cat`, 30000);
  await new Promise((r) => setTimeout(r, 200));
  return { type, stop: () => { p.kill('SIGKILL'); } };
}

async function keysSection(ctx) {
  const sock = path.join(ctx.work, 'keys-cm.sock');
  const target = `${ctx.user}@127.0.0.1`;
  const base = sshArgs(ctx);
  const master = spawn('ssh', [...base, '-M', '-S', sock, '-o', 'ControlPersist=no', '-N', target],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(master);
  master.on('close', () => children.delete(master));
  await until(() => spawnSync('ssh', [...base, '-S', sock, '-O', 'check', target]).status === 0,
    'the ControlMaster', 20000);
  const paths = [
    { name: 'ztctl', label: 'ztctl ssh -t (recorded)', cmd: ZTCTL,
      args: ['ssh', '-t', `${ctx.user}@${HOST}`, REMOTE_CAT], env: { ZT_HOME: ctx.ztHome } },
    { name: 'cm', label: 'ssh -tt, ControlMaster', cmd: 'ssh',
      args: [...base, '-tt', '-S', sock, '-o', 'ControlMaster=no', target, REMOTE_CAT], env: {} },
  ];
  const lat = Object.fromEntries(paths.map((x) => [x.name, []]));
  const terms = {};
  try {
    for (const x of paths) terms[x.name] = await terminalOf(x.cmd, x.args, x.env);
    say(`keys: ${KEYS} keystrokes each through ${paths.map((x) => x.name).join(', ')}`);
    for (let i = 0; i < KEYS; i++) {
      const ch = String.fromCharCode(97 + (i % 26));
      for (const x of paths) {
        const t0 = performance.now();
        await terms[x.name].type(ch);
        lat[x.name].push(performance.now() - t0);
      }
    }
  } finally {
    for (const t of Object.values(terms)) t.stop();
    master.kill();
  }
  const out = { keys: KEYS, results: {} };
  for (const x of paths) {
    const s = [...lat[x.name]].sort((a, b) => a - b);
    out.results[x.name] = { label: x.label, median_ms: r2(pct(s, 0.5)), p90_ms: r2(pct(s, 0.9)),
      p99_ms: r2(pct(s, 0.99)) };
  }
  out.ratio_ztctl_vs_cm = r2(out.results.ztctl.median_ms / out.results.cm.median_ms);
  return out;
}

function keysTable(k) {
  const W = [34, 10, 9, 9, 8];
  const lines = [`Keystroke round trip: ${k.keys} keys one after another, each typed into a local `
    + 'pty and echoed by `cat` in a remote pty (raw mode):', '',
  row(['path', 'median', 'p90', 'p99', '/ssh'], W), row(['', 'ms', 'ms', 'ms', ''], W)];
  for (const [n, m] of Object.entries(k.results)) {
    lines.push(row([m.label, fmt(m.median_ms, 2), fmt(m.p90_ms, 2), fmt(m.p99_ms, 2),
      n === 'cm' ? '1.00x' : `${k.ratio_ztctl_vs_cm.toFixed(2)}x`], W));
  }
  return lines;
}

const SECTIONS = [
  { name: 'warm', run: warmSection, table: warmTable },
  { name: 'cold', run: coldSection, table: coldTable },
  { name: 'files', run: filesSection, table: filesTable },
  { name: 'keys', run: keysSection, table: keysTable },
];

// ---- the table ----

const fmt = (x, d = 1) => (x === null || x === undefined ? '-' : x.toFixed(d));
const ratioCell = (a, b) => (a !== null && b ? `${(a / b).toFixed(2)}x` : '-');
function row(cells, w) {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('');
}

function warmTable(w) {
  const res = w.results;
  const cm = res.cm?.levels[1]?.median_ms ?? null;
  const sm = res.sshmcp?.levels[1]?.median_ms ?? null;
  const W = [40, 9, 9, 9, 9, 10];
  const lines = [`Sequential (c=1, ${SEQ_CALLS} calls after ${WARMUP} warm-up), warm where the path keeps `
      + 'a connection:', '',
    row(['path', 'median', 'p90', 'p99', '/floor', '/ssh-mcp'], W),
    row(['', 'ms', 'ms', 'ms', '(CM)', ''], W)];
  for (const m of Object.values(res)) {
    const s = m.levels[1];
    lines.push(row([m.label, fmt(s.median_ms), fmt(s.p90_ms), fmt(s.p99_ms), ratioCell(s.median_ms, cm),
      ratioCell(s.median_ms, sm)], W));
  }
  const W2 = [40, 9, 9, 9, 9, 8, 8];
  lines.push('', `By concurrency (${CALLS} calls per level above 1; zt MCP: parallel tools/call, one session `
    + `per ${MCP_CALLS_MAX} workers, as a session takes at most ${MCP_CALLS_MAX} requests in flight; `
    + 'failed and timeout count the warm-up calls too):');
  for (const c of w.levels) {
    lines.push('', row([`c=${c}`, 'median', 'p90', 'p99', 'calls/s', 'failed', 'timeout'], W2));
    for (const m of Object.values(res)) {
      const s = m.levels[c];
      lines.push(row([`  ${m.label}`, fmt(s.median_ms), fmt(s.p90_ms), fmt(s.p99_ms), fmt(s.calls_per_s),
        s.failed, s.timed_out], W2));
    }
  }
  const errors = Object.values(res).flatMap((m) => w.levels.filter((c) => m.levels[c].first_error)
    .map((c) => `  ${m.label}, c=${c}: ${m.levels[c].first_error}`));
  if (errors.length) lines.push('', 'First error of each run that had one:', ...errors);
  const mcp = res.mcp;
  if (mcp?.broker_command_median_ms !== undefined) {
    lines.push('', `zt MCP, sequential: the broker reports a median of ${mcp.broker_command_median_ms} ms `
      + `running the command on its warm connection; the other ${r1(mcp.levels[1].median_ms
        - mcp.broker_command_median_ms)} ms are HTTP, TLS, the SDK, policy, two durable audit events `
      + `and the pool; one write+fdatasync on the broker's disk takes ${w.fsync_median_ms} ms (median).`);
  }
  return lines;
}

function coldTable(c) {
  const W = [40, 9, 9, 8, 12];
  const base = c.results.openssh?.median_ms ?? null;
  const lines = [`First call to the host (${c.calls} each, interleaved): a fresh ssh, a new libssh `
    + 'connection, a new ssh-mcp process, a new zt credential:', '',
  row(['path', 'median', 'p90', 'failed', '/fresh ssh'], W)];
  for (const m of Object.values(c.results)) {
    lines.push(row([m.label, fmt(m.median_ms), fmt(m.p90_ms), m.failed + m.timed_out,
      ratioCell(m.median_ms, base)], W));
    if (m.first_error) lines.push(`  first error: ${m.first_error}`);
  }
  if (c.results.mcp?.connect_median_ms !== undefined) {
    lines.push('', `zt MCP, cold: its MCP session (initialize over HTTPS, not timed above) took a median `
      + `of ${c.results.mcp.connect_median_ms} ms.`);
  }
  if (c.results.sshmcp) {
    lines.push('ssh-mcp, cold: its process start and initialize are not timed above.');
  }
  return lines;
}

function filesTable(f) {
  const W = [40, 10, 9, 9, 8];
  const lines = [`File transfer: ${f.mib} MiB of random bytes, ${f.runs} rounds, the paths in turn, `
    + 'each checked by SHA-256 (scp and sftp: a new process and connection per transfer, '
    + 'straight to the sshd; zt: one warm MCP session, through the broker and the tunnel):', '',
  row(['path', 'median', 'MB/s', '/scp', 'failed'], W), row(['', 'ms', '', '', ''], W)];
  for (const dir of ['read', 'write']) {
    const scp = f.results[dir === 'read' ? 'scp_get' : 'scp_put'].mb_s;
    for (const m of Object.values(f.results).filter((x) => x.dir === dir)) {
      lines.push(row([m.label, fmt(m.median_ms), fmt(m.mb_s), ratioCell(m.mb_s, scp), m.failed], W));
      if (m.first_error) lines.push(`  first error: ${m.first_error}`);
    }
  }
  return lines;
}

// The issue's targets, from whatever sections ran: [text, met (true/false/null: not measured)].
function targets(report) {
  const w = report.warm, c = report.cold, out = [];
  const le = (x, max) => (x === null || x === undefined ? null : x <= max);
  if (w) {
    out.push([`warm MCP median / ssh-mcp median = ${w.ratios.mcp_vs_sshmcp ?? '-'} (at most 0.3)`,
      le(w.ratios.mcp_vs_sshmcp, 0.3)]);
    out.push([`warm MCP median / ControlMaster median = ${w.ratios.mcp_vs_cm ?? '-'} (at most 2.5)`,
      le(w.ratios.mcp_vs_cm, 2.5)]);
    for (const lv of w.levels.filter((l) => l >= 32)) {
      const bad = Object.entries(w.results).map(([n, m]) => [n, m.levels[lv].failed + m.levels[lv].timed_out]);
      const mine = bad.find(([n]) => n === 'mcp');
      const others = bad.filter(([n, k]) => n !== 'mcp' && k > 0).map(([n, k]) => `${n} ${k}`);
      out.push([`c=${lv}: zt MCP ${mine ? mine[1] : '-'} failed or timed out, p99 `
        + `${fmt(w.results.mcp?.levels[lv].p99_ms)} ms${others.length ? `; peers: ${others.join(', ')}` : ''}`,
      mine ? mine[1] === 0 : null]);
    }
  }
  if (c) {
    out.push([`cold MCP median / fresh ssh median = ${c.ratios.mcp_vs_openssh ?? '-'} (at most 0.8)`,
      le(c.ratios.mcp_vs_openssh, 0.8)]);
  }
  const f = report.files;
  if (f) {
    // The target is on the links; the inline calls (base64 in JSON, at most --file-max a
    // call) are reported beside them.
    const ge = (x) => (x === null || x === undefined ? null : x >= 0.9);
    out.push([`file_read (link) MB/s / scp's = ${f.ratios.read_link_vs_scp ?? '-'} (at least 0.9; `
      + `inline calls: ${f.ratios.read_vs_scp ?? '-'})`, ge(f.ratios.read_link_vs_scp)]);
    out.push([`file_write (link) MB/s / scp's = ${f.ratios.write_link_vs_scp ?? '-'} (at least 0.9; `
      + `inline calls: ${f.ratios.write_vs_scp ?? '-'})`, ge(f.ratios.write_link_vs_scp)]);
    out.push([`ztctl cp host:file local MB/s / scp's = ${f.ratios.ztctl_get_vs_scp ?? '-'}; `
      + `local host:file: ${f.ratios.ztctl_put_vs_scp ?? '-'} (reported, no target)`, null]);
  }
  if (report.audit) {
    const a = report.audit;
    out.push([`every MCP call answered was decided and audited: ${a.calls} answers, ${a.decided} `
      + 'tool.ssh_exec and '
      + `${a.results} tool.ssh_exec.result events; ${a.verify}`,
    a.decided === a.results && a.decided >= a.calls]);
  }
  return out;
}

function table(report) {
  const v = report.versions;
  const lines = [
    `zt ssh_exec benchmark: \`${COMMAND}\` on one sshd at 127.0.0.1 as ${report.login.user} `
      + `(${report.login.note}), ${report.date}`,
    `${report.machine.nproc} cores, Linux ${report.machine.kernel}, load ${report.machine.loadavg.join(' ')}; `
      + `${v.openssh}; libssh ${v.libssh}; node ${v.node}; MCP SDK ${v.mcp_sdk}; ssh-mcp ${v.ssh_mcp}`,
    `OpenSSH key exchange: ${report.openssh_kex}; libssh: curve25519-sha256; a call past `
      + `${TIMEOUT_MS / 1000} s counts as timed out`,
  ];
  for (const s of SECTIONS) {
    if (report[s.name]) lines.push('', ...s.table(report[s.name]));
  }
  const t = targets(report);
  if (t.length) {
    lines.push('', 'Targets (issue 11):');
    for (const [text, met] of t) lines.push(`  [${met === null ? 'n/a ' : met ? 'met ' : 'MISS'}] ${text}`);
  }
  return lines.join('\n');
}

function versions(ctx) {
  const v = { node: process.version };
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  v.openssh = (ssh.stderr || ssh.stdout).trim();
  const lib = spawnSync('pkg-config', ['--modversion', 'libssh'], { encoding: 'utf8' });
  v.libssh = lib.status === 0 ? lib.stdout.trim() : 'unknown';
  const pkgVersion = (p) => {
    try { return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', p, 'package.json'), 'utf8')).version; }
    catch { return 'unknown'; }
  };
  v.mcp_sdk = pkgVersion('@modelcontextprotocol/sdk');
  v.ssh_mcp = ctx.methods.find((m) => m.name === 'sshmcp')?.version ?? pkgVersion('ssh-mcp');
  return v;
}

async function main() {
  const started = Date.now();
  const ctx = await setup();
  const wanted = list('BENCH_SECTIONS', SECTIONS.map((s) => s.name).join(','));
  const bad = wanted.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (bad.length) throw new Error(`BENCH_SECTIONS: unknown ${bad.join(', ')}`);
  const report = {
    date: new Date().toISOString(),
    machine: { nproc: os.availableParallelism(), kernel: os.release(), cpu: os.cpus()[0]?.model ?? '',
      loadavg: os.loadavg().map(r1) },
    versions: versions(ctx),
    login: ctx.login,
    command: COMMAND,
    openssh_kex: process.env.BENCH_OPENSSH_KEX || 'default',
    calls: { warmup: WARMUP, sequential: SEQ_CALLS, concurrent: CALLS, cold: COLD_CALLS, levels: LEVELS,
      timeout_ms: TIMEOUT_MS },
    broker: { mcp_calls_per_identity: ctx.callsPerIdentity },
  };
  for (const s of SECTIONS.filter((x) => wanted.includes(x.name))) report[s.name] = await s.run(ctx);
  if (report.warm) report.warm.fsync_median_ms = fsyncMedianMs();
  if (ctx.mcpAnswered > 0) report.audit = auditCheck(ctx.mcpAnswered);
  report.machine.loadavg_end = os.loadavg().map(r1);
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
  process.stderr.write(`bench: FAILED: ${e.message || e.stack || e}\n`);
  const tail = (t) => t.split('\n').slice(-15).join('\n');
  if (broker) process.stderr.write(`--- ztbroker log, last lines:\n${tail(broker.log.join(''))}\n`);
  if (agent) process.stderr.write(`--- ztagent log, last lines:\n${tail(agent.out.stderr)}\n`);
  code = 1;
}
await cleanup();
process.exit(code);
