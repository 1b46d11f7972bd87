// A real OpenSSH sshd for end-to-end tests (tests/fixtures/sshd.sh) that
// trusts a zt SSH user CA made by tests/tools/sshcert_mint, in a temp dir,
// on an ephemeral port, stopped by PID.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZTCTL, admin, alive, applyRole, startAgent, tmpdir, until } from './zt.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUILD = process.env.ZT_BUILD ?? path.join(ROOT, 'build');
export const MINT = path.join(BUILD, 'tests/tools/sshcert_mint');
const PTY_RUN = path.join(BUILD, 'tests/tools/pty_run');
const FIXTURE = path.join(ROOT, 'tests/fixtures/sshd.sh');

export const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);


// Starts sshd trusting userCa (the line of a CA public key; default: a
// fresh sshcert_mint CA in caDir), with extraConfig (sshd_config lines
// that win over the fixture's; make bench's) if given; returns {dir, caDir,
// sshdDir, port, pid, hostKey, user, log(), assertLogged(text), stop()}.
export function startSshd({ userCa, extraConfig } = {}) {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/zt-`);
  const caDir = path.join(dir, 'ca');
  const sshdDir = path.join(dir, 'sshd');
  const caLine = path.join(dir, 'user_ca.pub');
  fs.writeFileSync(caLine, userCa ?? execFileSync(MINT, ['--ca-dir', caDir, '--pub']));
  const env = { ...process.env, SSHD_DIR: sshdDir, SSHD_PORT: '0', SSHD_USER_CA: caLine };
  delete env.SSHD_EXTRA_CONFIG;
  if (extraConfig !== undefined) {
    env.SSHD_EXTRA_CONFIG = path.join(dir, 'extra_config');
    fs.writeFileSync(env.SSHD_EXTRA_CONFIG, extraConfig);
  }
  const port = Number(execFileSync(FIXTURE, ['start'], { encoding: 'utf8', env }).trim());
  assert.ok(port > 0 && port < 65536, `fixture printed a port: ${port}`);
  const pid = Number(fs.readFileSync(path.join(sshdDir, 'sshd.pid'), 'utf8'));
  const log = () => fs.readFileSync(path.join(sshdDir, 'sshd.log'), 'utf8');
  return {
    dir, caDir, sshdDir, port, pid, log,
    hostKey: path.join(sshdDir, 'ssh_host_ed25519_key.pub'),
    user: execFileSync('id', ['-un'], { encoding: 'utf8' }).trim(),
    // Asserts that sshd's log soon holds text (sshd writes it after the
    // client is done).
    assertLogged(text) {
      let l = '';
      for (let i = 0; i < 40; i++) {
        l = log();
        if (l.includes(text)) return;
        sleep(50);
      }
      assert.fail(`sshd.log lacks ${JSON.stringify(text)}:\n${l}`);
    },
    stop() {
      if (pid > 0 && alive(pid)) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && alive(pid); i++) sleep(50);
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A host behind broker (run with --tunnel-listen): a real sshd trusting
// the broker's SSH user CA, an agent named name advertising it with
// labels, and role (YAML, may name LOGIN: sshd's user) applied. Resolves
// {sshd, agent}; the caller stops both.
export async function startSshHost(broker, { name = 'web1', labels = 'env=test', role } = {}) {
  const sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  if (role) applyRole(broker, role.replaceAll('LOGIN', sshd.user));
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  const agent = await startAgent(broker, dir, name, {
    token, hostKey: sshd.hostKey, labels, ssh: `127.0.0.1:${sshd.port}` });
  assert.ok(agent.joined, agent.out?.stderr);
  return { sshd, agent, dir };
}

// `ztctl ssh ARGS` of the ztctl home in a real 80x24 pseudo-terminal
// (tests/tools/pty_run; 100x30 after resize()): {p, out, err, type(text),
// waitFor(re, what) on what the terminal shows, resize(), done (resolves
// {code, out, err})}.
export function ztctlTerminal(home, args) {
  const p = spawn(PTY_RUN, ['80', '24', '100', '30', '--', ZTCTL, 'ssh', ...args], {
    env: { ...process.env, ZT_HOME: home, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const t = { out: '', err: '', p };
  p.stdout.on('data', (d) => { t.out += d; });
  p.stderr.on('data', (d) => { t.err += d; });
  t.done = new Promise((resolve) => p.on('close', (code) => resolve({ code, out: t.out, err: t.err })));
  t.type = (s) => p.stdin.write(s);
  t.resize = () => p.kill('SIGUSR1');
  t.waitFor = (re, what) => until(() => re.test(t.out), `${what}: ${JSON.stringify(t.out.slice(-300))}`, 15000);
  return t;
}
