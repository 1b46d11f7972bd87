// Roles from YAML through `ztbroker admin roles` and the decisions
// `admin policy test` explains: deny beats allow, nothing matched is a
// deny, a bad document names its file and line, every change is audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { admin, startBroker, stopChecked, tmpdir } from './lib/zt.mjs';

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
