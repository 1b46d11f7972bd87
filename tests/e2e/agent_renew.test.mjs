// Agent certificates renew before they expire, for the same key, without a
// token: with 15 s certificates (--agent-cert-ttl, for this test) the agent
// renews in the last third of its certificate's life, the broker ends the
// control connection made with the old one when it expires, and the agent
// comes back with the new one. A renewal presenting no certificate is
// refused; every renewal is audited. An agent whose certificate expired (it
// was down, or could not reach the broker, for the last third of its life)
// says so and stops; a new token brings it back under the same name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import {
  admin, auditEvents, sshHostKey, startAgent, startBroker, stopChecked, tmpdir, until,
} from './lib/zt.mjs';

let broker;
let agent;
let downDir;    // web2 joined, then stopped: its certificate runs out
const web2Key = sshHostKey(); // web2's sshd, the same whenever web2 runs
let cutOff;     // web3, whose broker went away: it cannot renew

const TTL = ['--tunnel-listen', '127.0.0.1:0', '--agent-cert-ttl', '15s'];
const joinToken = (b) => admin(b, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];

before(async () => {
  broker = await startBroker({ args: TTL });
  // Both clocks start now and run while the first test waits for a renewal.
  downDir = path.join(tmpdir('zt-agent-'), 'data');
  const web2 = await startAgent(broker, downDir, 'web2', { token: joinToken(broker),
    hostKey: web2Key, labels: 'env=staging' });
  assert.ok(web2.joined, web2.out?.stderr);
  await web2.stop();
  const other = await startBroker({ args: TTL });
  cutOff = await startAgent(other, path.join(tmpdir('zt-agent-'), 'data'), 'web3',
    { token: joinToken(other), hostKey: sshHostKey() });
  assert.ok(cutOff.joined, cutOff.out?.stderr);
  await stopChecked(other);
});
after(async () => {
  await agent?.stop();
  if (cutOff?.proc.exitCode === null) await cutOff.stop();
  await stopChecked(broker);
});

const notAfter = (f) => new Date(new crypto.X509Certificate(fs.readFileSync(f)).validTo);
const keyOf = (f) => new crypto.X509Certificate(fs.readFileSync(f)).publicKey
  .export({ type: 'spki', format: 'der' }).toString('hex');

test('a 15 s certificate is renewed for the same key and the agent stays in service', async () => {
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  agent = await startAgent(broker, dir, 'web1', { token: joinToken(broker), hostKey: sshHostKey(), labels: 'env=staging' });
  assert.ok(agent.joined, agent.out?.stderr);
  const crt = path.join(dir, 'agent.crt');
  const first = notAfter(crt);
  const key = keyOf(crt);

  // Past the first certificate's end: renewed, and online with the new one.
  await until(() => notAfter(crt) > first, 'a renewed certificate', 15000);
  assert.equal(keyOf(crt), key, 'the renewal keeps the key');
  await until(() => Date.now() > first.getTime() + 2000, 'the first certificate expired', 20000);
  await until(() => auditEvents(broker, 'agent.disconnect')
    .some((e) => e.details.reason === 'expired'), 'the old control connection ended', 10000);
  await until(async () => {
    const ev = auditEvents(broker, 'agent.connect').filter((e) => e.outcome === 'success');
    return ev.length >= 2;
  }, 'the agent reconnected with its new certificate', 10000);
  const renewals = auditEvents(broker, 'agent.renew');
  assert.ok(renewals.length >= 1);
  assert.ok(renewals.every((e) => e.outcome === 'success' && e.actor === 'agent:web1'));
  assert.match(agent.out.stderr, /renewed the agent certificate/);
  // The broker audit log says who; the agent log never holds a token.
  assert.doesNotMatch(agent.out.stderr + agent.out.stdout, /ztj_/);
});

test('a renew without a client certificate is refused', async () => {
  const frame = (o) => {
    const b = Buffer.from(JSON.stringify(o));
    const h = Buffer.alloc(4);
    h.writeUInt32BE(b.length);
    return Buffer.concat([h, b]);
  };
  const answer = await new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: broker.tunnelPort, ca: broker.caPem,
      servername: 'localhost' }, () => {
      s.write(frame({ type: 'renew', csr: '-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n' }));
    });
    let buf = Buffer.alloc(0);
    s.on('data', (d) => { buf = Buffer.concat([buf, d]); });
    s.on('close', () => resolve(buf));
    s.on('error', reject);
  });
  assert.ok(answer.length > 4, 'an answer before the close');
  const msg = JSON.parse(answer.subarray(4, 4 + answer.readUInt32BE(0)).toString());
  assert.equal(msg.type, 'error');
  assert.equal(msg.code, 'certificate_required');
});

test('an expired agent certificate stops the agent; a new token brings it back', async () => {
  // web3 could not renew: it stops by itself once its certificate ran out.
  await until(() => cutOff.proc.exitCode !== null, 'web3 stopped', 20000);
  assert.equal(cutOff.proc.exitCode, 1, cutOff.out.stderr);
  assert.match(cutOff.out.stderr, /the agent certificate expired \d+ s ago: join again with a new token/);

  // web2 was down: without a token it refuses to start and says why.
  await until(() => notAfter(path.join(downDir, 'agent.crt')) < new Date(), 'web2 expired', 20000);
  const bare = await startAgent(broker, downDir, 'web2', { hostKey: web2Key });
  assert.equal(bare.joined, undefined);
  assert.equal(bare.code, 2);
  assert.match(bare.out.stderr, /agent\.crt expired \d+ s ago: join again with a new token/);

  // With a token it joins again, same key, same name, and comes online.
  const key = keyOf(path.join(downDir, 'agent.crt'));
  const connects = () => auditEvents(broker, 'agent.connect')
    .filter((e) => e.actor === 'agent:web2' && e.outcome === 'success').length;
  const seen = connects();
  const again = await startAgent(broker, downDir, 'web2', { token: joinToken(broker),
    hostKey: web2Key, labels: 'env=staging' });
  try {
    assert.ok(again.joined, again.out?.stderr);
    assert.match(again.out.stdout, /certificate expired; joining again with the token/);
    assert.equal(keyOf(path.join(downDir, 'agent.crt')), key);
    await until(() => connects() > seen, 'web2 online again');
  } finally {
    await again.stop?.();
  }
});
