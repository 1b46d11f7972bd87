// MCP conformance end to end: the official suite (@modelcontextprotocol/
// conformance, pinned in package.json) runs its full active server suite,
// then its pending scenarios, against the test-only mcp-conformance-server,
// which serves zt's MCP engine (mcp/) through the Streamable HTTP transport
// (broker/brk_mcphttp.c) with the fixtures the suite calls by name
// (tests/conformance/). Every check must pass: there is no baseline of
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
// The active suite of 0.1.16 has 40 counted checks; the reference server
// passes all of them. A newer suite may add checks, never remove them.
const MIN_PASSED = 40;
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

// Runs one suite of server scenarios into its own results dir and asserts
// that every scenario ran and no check failed; returns the tallies.
async function runServerSuite(t, suite) {
  const out = path.join(work, `results-${suite}`);
  const r = await runSuite(['server', '--url', server.url, '--suite', suite, '-o', out], work);
  const announced = r.stdout.match(new RegExp(`^Running ${suite} suite \\((\\d+) scenarios\\)`, 'm'));
  assert.ok(announced, `the suite did not start: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
  const results = fs.existsSync(out) ? readResults(out) : [];
  const failed = [], warned = [];
  let passed = 0;
  for (const { scenario, checks } of results) {
    for (const c of checks) {
      if (c.status === 'SUCCESS') passed++;
      else if (c.status === 'FAILURE') failed.push(describeCheck(scenario, c));
      else if (c.status === 'WARNING') warned.push(describeCheck(scenario, c));
    }
  }
  for (const w of warned) t.diagnostic(`warning: ${w}`);
  const total = r.stdout.match(/^Total: (\d+) passed, (\d+) failed$/m);
  const summary = `conformance ${suite}: passed ${passed}, failed ${failed.length}, warnings ` +
    `${warned.length}, scenarios ${results.length} (suite says "${total ? total[0] : 'no total'}", ` +
    `exit ${r.code}${r.signal ? ` ${r.signal}` : ''})`;
  t.diagnostic(summary);
  // A scenario that threw outside its checks writes no checks.json but
  // shows in the suite's summary and exit code.
  const bad = [...failed, ...(r.stderr.match(/^Failed to run scenario .*$/gm) || [])];
  assert.ok(bad.length === 0, `${summary}\nfailed checks:\n${bad.join('\n')}`);
  assert.equal(results.length, Number(announced[1]),
    `${summary}: not every scenario wrote its results\n${r.stdout.slice(-3000)}`);
  assert.ok(total, `no summary line: ${r.stdout.slice(-2000)}`);
  assert.equal(Number(total[2]), 0, summary);
  assert.equal(Number(total[1]), passed, summary);
  assert.equal(r.code, 0, `${summary}\n${r.stderr.slice(-3000)}`);
  return { passed, warned };
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

test('the full active server suite passes with no failed check',
  { timeout: SUITE_TIMEOUT_MS + 60000 }, async (t) => {
    const { passed } = await runServerSuite(t, 'active');
    assert.ok(passed >= MIN_PASSED, `expected at least ${MIN_PASSED} passed, got ${passed}`);
  });

// Beyond the issue's bar: the pending scenarios (JSON Schema 2020-12
// keywords kept in tools/list; SSE priming event, retry field and
// resumption with Last-Event-ID after test_reconnection closes the stream,
// SEP-1699) pass too, with no warning, since a missing priming event or
// resumption only warns.
test('the pending server scenarios pass with no failure or warning',
  { timeout: SUITE_TIMEOUT_MS + 60000 }, async (t) => {
    const { passed, warned } = await runServerSuite(t, 'pending');
    assert.deepEqual(warned, []);
    assert.ok(passed >= 7, `expected at least 7 passed, got ${passed}`);
  });
