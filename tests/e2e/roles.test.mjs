// Roles from YAML through `ztbroker admin roles` and the decisions
// `admin policy test` explains: deny beats allow, nothing matched is a
// deny, a bad document names its file and line, every change is audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { admin, auditEvents, startBroker, stopChecked, tmpdir } from './lib/zt.mjs';

let broker;
before(async () => { broker = await startBroker(); });
after(() => stopChecked(broker));

const writeRole = (text) => {
  const f = path.join(tmpdir('zt-role-'), 'role.yaml');
  fs.writeFileSync(f, text);
  return f;
};

test('apply the example role, list it, and explain decisions', () => {
  let r = admin(broker, 'roles', 'apply', '-f', 'examples/roles/ai-ops-readonly.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /role ai-ops-readonly applied/);
  r = admin(broker, 'roles', 'apply', '-f', writeRole(
    'kind: role\nname: no-writes\ndeny:\n  tools: [ssh_exec]\n  hosts: {env: prod}\n'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(admin(broker, 'roles', 'ls').stdout, /ai-ops-readonly[\s\S]*no-writes|no-writes[\s\S]*ai-ops-readonly/);
  assert.equal(admin(broker, 'bots', 'add', 'ops-ai', '--roles', 'ai-ops-readonly,no-writes').code, 0);

  r = admin(broker, 'policy', 'test', '--bot', 'ops-ai', '--tool', 'ssh_exec', '--host', 'web1',
    '--labels', 'env=staging,team=web', '--login', 'ubuntu');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ALLOW\nallow: role ai-ops-readonly allows tool ssh_exec on host web1/m);

  r = admin(broker, 'policy', 'test', '--bot', 'ops-ai', '--tool', 'ssh_exec', '--host', 'web1',
    '--labels', 'env=staging,team=web', '--login', 'root');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^DENY\ndeny: no role allows/m);

  r = admin(broker, 'policy', 'test', '--bot', 'ops-ai', '--tool', 'file_write', '--host', 'web1',
    '--labels', 'env=staging,team=web', '--login', 'ubuntu');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /deny: role ai-ops-readonly denies tool file_write/);
});

test('policy test names what a call requires, and judges the command line', () => {
  let r = admin(broker, 'roles', 'apply', '-f', writeRole('kind: role\nname: db-ops\nallow:\n'
    + '  tools: [ssh_exec]\n  commands: ["systemctl status *", "df -h"]\noptions:\n  mfa: per_session\n'
    + '  mfa_window: 10m\n  approval: {by: [oncall, dba], ttl: 15m}\n'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(admin(broker, 'users', 'add', 'dora', '--roles', 'db-ops').code, 0);
  assert.equal(admin(broker, 'bots', 'add', 'db-bot', '--roles', 'db-ops').code, 0);
  const test = (who, command) => admin(broker, 'policy', 'test', ...who, '--tool', 'ssh_exec',
    '--host', 'db1', '--labels', 'env=prod', '--login', 'postgres', '--command', command);
  r = test(['--user', 'dora'], 'systemctl status postgresql');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, 'ALLOW\nallow: role db-ops allows tool ssh_exec on host db1 (env=prod) as '
    + 'postgres command "systemctl status postgresql"\n'
    + 'requires: MFA step-up (once per 10m); approval by a holder of oncall or dba within 15m\n');
  // A bot cannot step up: the approvers stand in for its MFA.
  r = test(['--bot', 'db-bot'], 'df -h');
  assert.match(r.stdout, /^requires: approval by a holder of oncall or dba within 15m$/m);
  r = test(['--user', 'dora'], 'systemctl status postgresql; rm -rf /');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^DENY\ndeny: role db-ops allows no shell syntax \(';'\)/);
  r = test(['--user', 'dora'], 'df -h /');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^DENY\ndeny: no role allows tool ssh_exec .* command "df -h \/"$/m);
});

test('paths that bound only the file tools, beside tools that take none, are warned about', () => {
  let r = admin(broker, 'roles', 'apply', '-f', writeRole(
    'kind: role\nname: mixed\nallow:\n  tools: [ssh_exec, "file_*"]\n  paths: ["/srv/**"]\n'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: role mixed: its allow\.paths bound the file tools only; it also allows ssh_exec, which take no path/);
  r = admin(broker, 'roles', 'apply', '-f', writeRole(
    'kind: role\nname: anytool\nallow:\n  paths: ["/srv/**"]\n'));
  assert.match(r.stderr, /also allows ssh_exec, job_output, job_signal/);
  r = admin(broker, 'roles', 'apply', '-f', 'examples/roles/file-ops.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const ev = auditEvents(broker, 'role.apply').filter((e) => e.details.role === 'mixed');
  assert.match(ev.at(-1).details.warning, /also allows ssh_exec/);
});

test('a bad document names the file and line and changes nothing', () => {
  const f = writeRole('kind: role\nname: broken\nallow:\n  tool: [ssh_exec]\n');
  const r = admin(broker, 'roles', 'apply', '-f', f);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: unknown key "tool" in allow`));
  assert.doesNotMatch(admin(broker, 'roles', 'ls').stdout, /broken/);
});

test('rm removes a role, and role changes are audited', () => {
  assert.equal(admin(broker, 'roles', 'rm', 'no-writes').code, 0);
  assert.equal(admin(broker, 'roles', 'rm', 'no-writes').code, 1);
  const events = admin(broker, 'audit', 'ls', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.type === 'role.apply' && e.details.role === 'ai-ops-readonly'));
  assert.ok(events.some((e) => e.type === 'role.rm' && e.details.role === 'no-writes'));
  assert.equal(admin(broker, 'audit', 'verify').code, 0);
});
