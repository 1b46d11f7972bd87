// MCP conformance end to end: the official suite (@modelcontextprotocol/
// conformance, pinned in package.json) runs what each protocol revision
// requires (--requirements: the scenarios frozen when the revision
// shipped, and the ones it runs but does not score) against the test-only
// mcp-conformance-server, which serves zt's MCP engine (mcp/) through the
// Streamable HTTP transport (broker/brk_mcphttp.c) with the fixtures the
// suite calls by name (tests/conformance/). Both revisions run against the
// same server on the same URL: 2025-11-25 with sessions, 2026-07-28
// stateless. Every check must pass, scored or not: there is no baseline of
// expected failures. What each scenario sends and checks:
// tests/conformance/SCENARIOS.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD, startDaemon, stopChecked, tmpdir } from './lib/zt.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVER = path.join(BUILD, 'tests', 'conformance', 'mcp-conformance-server');
// The suite needs Node 22; the npm package "node" provides it.
const NODE22 = path.join(ROOT, 'node_modules', '.bin', 'node');
const SUITE = path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist',
  'index.js');
const SUITE_TIMEOUT_MS = 8 * 60 * 1000;

let server;
let work;

// Starts the server on an ephemeral port; resolves to {url, proc, log, stop}.
function startServer() {
  return startDaemon(SERVER, ['0'], (line, info) => {
    const m = line.match(/^listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)$/);
    if (m) info.url = m[1];
    return m ? info : undefined;
  }, 'conformance server');
}

// Runs the suite's CLI with the Node 22 binary in cwd; resolves to
// {code, signal, stdout, stderr}.
function runSuite(args, cwd) {
  return new Promise((resolve, reject) => {
    const p = spawn(NODE22, [SUITE, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const t = setTimeout(() => p.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

// Reads every DIR/server-<scenario>-<timestamp>/checks.json into
// [{scenario, checks}].
function readResults(dir) {
  return fs.readdirSync(dir).filter((d) => d.startsWith('server-')).sort().map((d) => ({
    scenario: d.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, ''),
    checks: JSON.parse(fs.readFileSync(path.join(dir, d, 'checks.json'), 'utf8')),
  }));
}

function describeCheck(scenario, c) {
  const details = c.details === undefined ? '' : ` details=${JSON.stringify(c.details).slice(0, 600)}`;
  return `${scenario}: ${c.name} (${c.id}): ${c.errorMessage || c.description}${details}`;
}

// The scenarios of the tasks extension (io.modelcontextprotocol/tasks),
// which 2026-07-28 runs without scoring; they must pass all the same.
const TASKS = /^tasks-/;

// Runs what revision rev requires into its own results dir; returns
// {results, failed(scenario filter), warned, passed, summary, r}.
async function runRequirements(rev) {
  const out = path.join(work, `results-${rev}`);
  const r = await runSuite(['server', '--url', server.url, '--requirements', rev, '-o', out],
    work);
  const results = fs.existsSync(out) ? readResults(out) : [];
  const failed = [], warned = [];
  let passed = 0;
  for (const { scenario, checks } of results) {
    for (const c of checks) {
      if (c.status === 'SUCCESS') passed++;
      else if (c.status === 'FAILURE') failed.push({ scenario, text: describeCheck(scenario, c) });
      else if (c.status === 'WARNING') warned.push(describeCheck(scenario, c));
    }
  }
  const total = r.stdout.match(/^Total: (\d+) passed, (\d+) failed$/m);
  const summary = `conformance --requirements ${rev}: passed ${passed}, failed ` +
    `${failed.length}, warnings ${warned.length}, scenarios ${results.length} (suite says ` +
    `"${total ? total[0] : 'no total'}", exit ${r.code}${r.signal ? ` ${r.signal}` : ''})`;
  return { results, failed, warned, passed, summary, total, r };
}

// Asserts that every scenario ran and wrote its results, and that none
// failed or warned.
function assertClean(t, run) {
  const { results, failed, warned, summary, total, r } = run;
  for (const w of warned) t.diagnostic(`warning: ${w}`);
  t.diagnostic(summary);
  const bad = [...failed.map((f) => f.text),
    ...(r.stderr.match(/^Failed to run scenario .*$/gm) || [])];
  assert.ok(bad.length === 0, `${summary}\nfailed checks:\n${bad.join('\n')}`);
  assert.deepEqual(warned, [], summary);
  const ran = r.stdout.match(/^=== Running scenario: (\S+) ===$/gm) || [];
  assert.ok(ran.length > 0, `no scenario ran: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
  assert.equal(results.length, ran.length,
    `${summary}: not every scenario wrote its results\n${r.stdout.slice(-3000)}`);
  assert.ok(total, `no summary line: ${r.stdout.slice(-2000)}`);
  assert.equal(Number(total[2]), 0, summary);
  assert.equal(r.code, 0, `${summary}\n${r.stderr.slice(-3000)}`);
}

before(async () => {
  for (const f of [NODE22, SUITE]) {
    assert.ok(fs.existsSync(f), `${f} is missing: run make deps (npm ci)`);
  }
  assert.ok(fs.existsSync(SERVER), `${SERVER} is missing: run make`);
  work = tmpdir('zt-conformance-');
  server = await startServer();
});

after(async () => {
  try {
    await stopChecked(server);
  } finally {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }
});

test('Node 22 from node_modules runs the suite', async () => {
  const v = await runSuite(['--version'], work);
  assert.equal(v.code, 0, v.stderr);
  const node = await new Promise((resolve) => {
    const p = spawn(NODE22, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('close', () => resolve(out.trim()));
  });
  assert.match(node, /^v22\./);
});

test('2025-11-25: every required and unscored scenario passes, with no warning',
  { timeout: SUITE_TIMEOUT_MS + 60000 }, async (t) => {
    const run = await runRequirements('2025-11-25');
    assertClean(t, run);
    // 0.2.0-alpha.12 requires 81 checks of 2025-11-25; a newer suite may
    // add checks, never remove them.
    assert.ok(run.passed >= 81, `expected at least 81 passed, got ${run.passed}`);
  });

let run2026;

test('2026-07-28 (stateless, on the same URL): every required and unscored scenario passes, ' +
  'the tasks extension included, with no warning', { timeout: SUITE_TIMEOUT_MS + 60000 },
  async (t) => {
    run2026 = await runRequirements('2026-07-28');
    assertClean(t, run2026);
    assert.ok(run2026.results.some((x) => x.scenario === 'server-stateless'));
    // 0.2.0-alpha.12: 191 checks, 32 of them in the ten tasks scenarios.
    assert.ok(run2026.passed >= 191, `expected at least 191 passed, got ${run2026.passed}`);
    const tasks = run2026.results.filter((x) => TASKS.test(x.scenario));
    assert.equal(tasks.length, 10);
    const taskChecks = tasks.flatMap((x) => x.checks).filter((c) => c.status === 'SUCCESS');
    assert.ok(taskChecks.length >= 30, `tasks checks passed: ${taskChecks.length}`);
  });
