// Agent join tokens through `ztbroker admin tokens`: add prints the token,
// the CA pin and the agent's command line once; ls and the audit log show
// only a prefix of the token's hash, never the token; rm removes one; bad
// --ttl and --uses are usage errors (exit 2).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { admin, startBroker, stopChecked } from './lib/zt.mjs';

let broker;

before(async () => { broker = await startBroker(); });
after(() => stopChecked(broker));

// Adds a token and returns {token, id, out}; id is the first 12 hex
// digits of the token's SHA-256, as ls and the audit log show it.
function addToken(...args) {
  const r = admin(broker, 'tokens', 'add', ...args);
  assert.equal(r.code, 0, r.stderr);
  const m = r.stdout.match(/^token: (ztj_[A-Za-z0-9_-]{43})$/m);
  assert.ok(m, `no token in: ${r.stdout}`);
  const id = crypto.createHash('sha256').update(m[1]).digest('hex').slice(0, 12);
  return { token: m[1], id, out: r.stdout };
}

describe('tokens add', () => {
  test('prints the token, expiry, CA pin and the exact agent command line', () => {
    const before = Date.now();
    const { token, id, out } = addToken();
    assert.match(out, new RegExp(`^CA pin: ${broker.pin}$`, 'm'));
    assert.match(out, new RegExp(`^id: ${id}$`, 'm'));
    assert.match(out, /^uses: 1$/m);
    const exp = out.match(/^expires: (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/m);
    assert.ok(exp, out);
    const ttl = (Date.parse(exp[1]) - before) / 1000;
    assert.ok(ttl > 29 * 60 && ttl <= 30 * 60 + 5, `default ttl ${ttl}`);
    const line = `  ztagent --broker HOST:3025 --ca-pin ${broker.pin} --data-dir /var/lib/ztagent `
      + `--name NAME --token ${token}`;
    assert.ok(out.split('\n').includes(line), out);
  });

  test('honours --ttl and --uses', () => {
    const before = Date.now();
    const { out } = addToken('--ttl', '2h', '--uses', '5');
    assert.match(out, /^uses: 5$/m);
    const exp = Date.parse(out.match(/^expires: (\S+)$/m)[1]);
    const ttl = (exp - before) / 1000;
    assert.ok(ttl > 7190 && ttl <= 7205, `ttl ${ttl}`);
  });

  for (const args of [['--ttl', '30s'], ['--ttl', '25h'], ['--ttl', 'soon'], ['--ttl', '0'],
    ['--uses', '0'], ['--uses', '101'], ['--uses', '-1'], ['--uses', '2x'], ['--uses', ''],
    ['--uses'], ['--ttl']]) {
    test(`refuses ${args.join(' ') || '(empty)'} with exit 2`, () => {
      const r = admin(broker, 'tokens', 'add', ...args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /ztj_/);
    });
  }
});

describe('tokens ls and rm', () => {
  test('ls shows the id, expiry, uses and creator, never the token', () => {
    const a = addToken('--uses', '3');
    const r = admin(broker, 'tokens', 'ls');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ztj_/);
    assert.ok(!r.stdout.includes(a.token));
    const row = r.stdout.split('\n').find((l) => l.startsWith(a.id));
    assert.ok(row, r.stdout);
    assert.match(row, /^\S{12}\s+\d{4}-\d\d-\d\dT\S+Z\s+3\s+valid\s+admin:\S+\s+-\s+-$/);
  });

  test('rm removes one token by its id and audits it', () => {
    const a = addToken();
    const r = admin(broker, 'tokens', 'rm', a.id);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`token ${a.id} removed`));
    assert.ok(!admin(broker, 'tokens', 'ls').stdout.includes(a.id));
    const again = admin(broker, 'tokens', 'rm', a.id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not found/i);
  });

  test('rm refuses a malformed id with exit 2', () => {
    for (const bad of ['abc', 'ZZZZZZZZZZZZ', 'ztj_abcdefghijkl']) {
      const r = admin(broker, 'tokens', 'rm', bad);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    }
    assert.equal(admin(broker, 'tokens', 'rm').code, 2);
    assert.equal(admin(broker, 'tokens', 'frob').code, 2);
  });

  test('the audit log has token.add and token.rm with the id, never the token', () => {
    const a = addToken('--uses', '2');
    assert.equal(admin(broker, 'tokens', 'rm', a.id).code, 0);
    const r = admin(broker, 'audit', 'ls', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /ztj_/);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const add = events.find((e) => e.type === 'token.add' && e.details.token === a.id);
    assert.ok(add, r.stdout);
    assert.equal(add.details.uses, 2);
    assert.equal(typeof add.details.expires_at, 'number');
    assert.ok(events.find((e) => e.type === 'token.rm' && e.details.token === a.id), r.stdout);
    assert.equal(admin(broker, 'audit', 'verify').code, 0);
  });
});
