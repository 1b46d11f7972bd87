// A second real RDP server for end-to-end tests (tests/fixtures/xrdpd.sh):
// xrdp 0.9 + xorgxrdp, root only. A throwaway local account with a known
// password; its Xorg session shows a red root window with a black xterm at
// +250+20 (80x20). xrdp and xrdp-sesman listen on 127.0.0.1 (sesman maybe
// ::1) on ephemeral ports, in a temp dir, stopped by PID; stop() checks
// that no process and no account is left.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startFixture } from './rdpd.mjs';
import { alive } from './zt.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = path.join(ROOT, 'tests/fixtures/xrdpd.sh');
const run = promisify(execFile);

// Why xrdp cannot run here, or '' when it can: root (sesman logs users on
// with PAM and starts their sessions as them) and Debian's xrdp and
// xorgxrdp packages.
export function xrdpUnavailable() {
  if (process.getuid() !== 0) return 'xrdp needs root: xrdp-sesman logs the test user on with PAM';
  for (const [f, pkg] of [['/usr/sbin/xrdp', 'xrdp'], ['/usr/sbin/xrdp-sesman', 'xrdp'],
    ['/usr/lib/xorg/modules/drivers/xrdpdev_drv.so', 'xorgxrdp']]) {
    if (!fs.existsSync(f)) return `${f} missing: Debian package ${pkg} (make deps-xrdp)`;
  }
  return '';
}

const hasUser = (u) => {
  try { execFileSync('getent', ['passwd', u], { stdio: 'ignore' }); return true; } catch { return false; }
};

// Every process of the server: xrdp, sesman, what they forked, and the
// test user's (its session).
function pids(dir, user) {
  const out = new Set();
  const kids = (p) => {
    let ts = [];
    try { ts = fs.readdirSync(`/proc/${p}/task`); } catch { return; }
    for (const t of ts) {
      let c = '';
      try { c = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim(); } catch { /* gone */ }
      for (const k of c ? c.split(/\s+/).map(Number) : []) { out.add(k); kids(k); }
    }
  };
  for (const n of ['xrdp', 'sesman']) {
    try {
      const p = Number(fs.readFileSync(path.join(dir, `${n}.pid`), 'utf8'));
      if (p > 0) { out.add(p); kids(p); }
    } catch { /* not started */ }
  }
  let uid = -1;
  try { uid = Number(execFileSync('id', ['-u', user], { stdio: ['ignore', 'pipe', 'ignore'] })); } catch { /* gone */ }
  if (uid > 0) {
    for (const d of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try { if (fs.statSync(`/proc/${d}`).uid === uid) out.add(Number(d)); } catch { /* gone */ }
    }
  }
  return [...out].filter(alive);
}

// Starts the server; resolves {port, host, user, password, pin, dir, env,
// pids(), stop()}. The user name is fresh each time (ztx + 6 hex), so two
// can run at once.
export async function startXrdpd({ password = 'xrdp-test-pw' } = {}) {
  const why = xrdpUnavailable();
  if (why) throw new Error(why);
  const user = `ztx${crypto.randomBytes(3).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-xrdpd-'));
  const base = { ...process.env, XRDPD_DIR: dir, XRDPD_USER: user, XRDPD_PASSWORD: password };
  const env = await startFixture(FIXTURE, dir, async () => ({ ...base,
    XRDPD_PORT: String(await freePort()), XRDPD_SESMAN_PORT: String(await freePort()) }));
  assert.ok(hasUser(user), 'the test user exists');
  return {
    port: Number(env.RDP_PORT), host: '127.0.0.1', user, password, pin: env.RDP_CERT_SHA256,
    dir, env, pids: () => pids(dir, user),
    async stop() {
      const before = pids(dir, user);
      await run(FIXTURE, ['stop'], { env: base });
      for (let i = 0; i < 100 && before.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(before.filter(alive), [], 'xrdp processes are gone');
      assert.ok(!hasUser(user), `the test user ${user} is removed`);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
