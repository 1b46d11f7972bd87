// Agents against the real broker's tunnel listener. First start: its own
// key, a CSR and a one-time token give a certificate from the broker's CA;
// used, expired and unknown tokens are refused with the broker's reason; a
// wrong CA pin fails before the token is sent. Then the control
// connection: online, offline when killed, back without a new token; a
// second agent under the same name is refused. All of it audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, mode, sshHostKey, startAgent, startBroker, stopChecked, tmpdir, until,
} from './lib/zt.mjs';

let broker;

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  assert.ok(broker.tunnelPort > 0);
});
after(() => stopChecked(broker));

function newToken(...args) {
  const r = admin(broker, 'tokens', 'add', ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.match(/^token: (ztj_\S+)$/m)[1];
}

// Each host its own sshd host key: a host key belongs to one name.
const hostKeys = {};
const agent = (dir, name, token, pin = broker.pin) =>
  startAgent(broker, dir, name, {
    token, pin, hostKey: (hostKeys[name] ??= sshHostKey()), labels: 'env=staging,team=web',
  });

function events(type) {
  const out = admin(broker, 'audit', 'ls', '--json').stdout;
  return out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => !type || e.type === type);
}


test('a token and a CSR give an agent certificate; the agent comes online', async () => {
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  const token = newToken();
  const a = await agent(dir, 'web1', token);
  assert.ok(a.joined, a.out?.stderr);
  assert.match(a.out.stdout, /joined as web1/);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(path.join(dir, 'agent.key')), 0o600);
  assert.equal(mode(path.join(dir, 'agent.crt')), 0o600);
  const v = spawnSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile',
    path.join(broker.dataDir, 'tls-ca.crt'), path.join(dir, 'agent.crt')], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const s = spawnSync('openssl', ['x509', '-noout', '-subject', '-in', path.join(dir, 'agent.crt')], { encoding: 'utf8' });
  assert.match(s.stdout, /CN ?= ?web1/);
  await until(() => events('agent.connect').some((e) => e.actor === 'agent:web1' && e.outcome === 'success'), 'web1 online');

  // Killed, the broker sees it go; restarted, it comes back with no token.
  assert.equal(await a.stop('SIGKILL'), null);
  await until(() => events('agent.disconnect').some((e) => e.actor === 'agent:web1'), 'web1 offline');
  const b = await agent(dir, 'web1', null);
  assert.ok(b.joined, b.out?.stderr);
  assert.match(b.out.stdout, /joined earlier/);
  await until(() => events('agent.connect').filter((e) => e.actor === 'agent:web1' && e.outcome === 'success').length === 2, 'web1 back');
  assert.equal(await b.stop(), 0);
  assert.ok(!(a.out.stdout + a.out.stderr + b.out.stdout + b.out.stderr).includes(token));

  // The same token elsewhere is a replay.
  const other = await agent(path.join(tmpdir('zt-agent-'), 'data'), 'web2', token);
  assert.equal(other.code, 1);
  assert.match(other.out.stderr, /join token already used/);
});

test('a second agent under a taken name is refused and audited', async () => {
  const first = await agent(path.join(tmpdir('zt-agent-'), 'data'), 'db1', newToken());
  assert.ok(first.joined);
  await until(() => events('agent.connect').some((e) => e.actor === 'agent:db1' && e.outcome === 'success'), 'db1 online');
  // Another machine joins with its own token and key under the same name.
  const impostor = await agent(path.join(tmpdir('zt-agent-'), 'data'), 'db1', newToken());
  assert.ok(impostor.joined);
  const code = await impostor.exited;
  assert.equal(code, 1);
  assert.match(impostor.out.stderr, /another agent holds this name/);
  assert.ok(events('agent.connect').some((e) => e.actor === 'agent:db1' && e.outcome === 'failure'
    && /another agent's key/.test(e.details.reason)));
  assert.equal(await first.stop(), 0);
});

test('expired and unknown tokens are refused with the broker\'s reason', async () => {
  const token = newToken('--ttl', '5m');
  const db = path.join(broker.dataDir, 'zt.db');
  const u = spawnSync('sqlite3', [db, 'UPDATE join_tokens SET expires_at = 1'], { encoding: 'utf8' });
  assert.equal(u.status, 0, u.stderr);
  let r = await agent(path.join(tmpdir('zt-agent-'), 'data'), 'web3', token);
  assert.equal(r.code, 1);
  assert.match(r.out.stderr, /join token expired/);
  r = await agent(path.join(tmpdir('zt-agent-'), 'data'), 'web3', 'ztj_never_issued');
  assert.equal(r.code, 1);
  assert.match(r.out.stderr, /unknown join token/);
});

test('a wrong CA pin fails before the token is sent', async () => {
  const token = newToken();
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  let r = await agent(dir, 'web4', token, `sha256:${'0'.repeat(64)}`);
  assert.equal(r.code, 1);
  assert.match(r.out.stderr, /pinned CA/);
  r = await agent(dir, 'web4', token);
  assert.ok(r.joined, r.out?.stderr);
  assert.equal(await r.stop(), 0);
});

test('joins are audited without the token', () => {
  const out = admin(broker, 'audit', 'ls', '--json').stdout;
  const joins = events('agent.join');
  assert.ok(joins.some((e) => e.outcome === 'success' && e.actor === 'agent:web1'));
  for (const reason of ['token_used', 'token_expired', 'token_unknown']) {
    assert.ok(joins.some((e) => e.outcome === 'failure' && e.details.reason === reason), reason);
  }
  assert.doesNotMatch(out, /ztj_[A-Za-z0-9_-]{20,}/);
});
