// An agent's first start against the real broker's tunnel listener: its
// own key, a CSR and a one-time token give a certificate from the broker's
// CA; a restart needs no new token; used, expired and unknown tokens are
// refused with the broker's reason; a wrong CA pin fails before the token
// is sent, so the token stays good. Every join is audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ZTAGENT, admin, mode, startBroker, stopChecked, tmpdir } from './lib/zt.mjs';

let broker;
let hostKey;

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0'] });
  assert.ok(broker.tunnelPort > 0);
  const d = tmpdir('zt-hostkey-');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, 'host')]);
  hostKey = path.join(d, 'host.pub');
});
after(() => stopChecked(broker));

function newToken(...args) {
  const r = admin(broker, 'tokens', 'add', ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.match(/^token: (ztj_\S+)$/m)[1];
}

function agent(dir, name, token, pin = broker.pin) {
  const env = { ...process.env };
  if (token) env.ZT_JOIN_TOKEN = token; else delete env.ZT_JOIN_TOKEN;
  const r = spawnSync(ZTAGENT, ['--broker', `127.0.0.1:${broker.tunnelPort}`, '--ca-pin', pin,
    '--data-dir', dir, '--name', name, '--labels', 'env=staging,team=web', '--ssh', '127.0.0.1:22',
    '--ssh-host-key', hostKey], { encoding: 'utf8', env, timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a token and a CSR give an agent certificate from the broker\'s CA', () => {
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  const token = newToken();
  const r = agent(dir, 'web1', token);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /joined as web1/);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(path.join(dir, 'agent.key')), 0o600);
  assert.equal(mode(path.join(dir, 'agent.crt')), 0o600);
  const v = spawnSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile',
    path.join(broker.dataDir, 'tls-ca.crt'), path.join(dir, 'agent.crt')], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const s = spawnSync('openssl', ['x509', '-noout', '-subject', '-in', path.join(dir, 'agent.crt')], { encoding: 'utf8' });
  assert.match(s.stdout, /CN ?= ?web1/);
  // The token never reaches the agent's output.
  assert.ok(!(r.stdout + r.stderr).includes(token));

  // A restart needs no token.
  const again = agent(dir, 'web1', null);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /joined earlier/);

  // The same token elsewhere is a replay.
  const other = agent(path.join(tmpdir('zt-agent-'), 'data'), 'web2', token);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /join token already used/);
});

test('expired and unknown tokens are refused with the broker\'s reason', () => {
  const token = newToken('--ttl', '5m');
  const db = path.join(broker.dataDir, 'zt.db');
  const u = spawnSync('sqlite3', [db, 'UPDATE join_tokens SET expires_at = 1'], { encoding: 'utf8' });
  assert.equal(u.status, 0, u.stderr);
  let r = agent(path.join(tmpdir('zt-agent-'), 'data'), 'web3', token);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /join token expired/);
  r = agent(path.join(tmpdir('zt-agent-'), 'data'), 'web3', 'ztj_never_issued');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown join token/);
});

test('a wrong CA pin fails before the token is sent', () => {
  const token = newToken();
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  let r = agent(dir, 'web4', token, `sha256:${'0'.repeat(64)}`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /pinned CA/);
  r = agent(dir, 'web4', token);
  assert.equal(r.code, 0, r.stderr);
});

test('joins are audited without the token', () => {
  const out = admin(broker, 'audit', 'ls', '--json').stdout;
  const events = out.trim().split('\n').map((l) => JSON.parse(l));
  const joins = events.filter((e) => e.type === 'agent.join');
  assert.ok(joins.some((e) => e.outcome === 'success' && e.actor === 'agent:web1'));
  for (const reason of ['token_used', 'token_expired', 'token_unknown']) {
    assert.ok(joins.some((e) => e.outcome === 'failure' && e.details.reason === reason), reason);
  }
  assert.doesNotMatch(out, /ztj_[A-Za-z0-9_-]{20,}/);
});
