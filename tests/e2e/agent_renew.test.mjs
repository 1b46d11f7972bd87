// Agent certificates renew before they expire, for the same key, without a
// token: with 15 s certificates (--agent-cert-ttl, for this test) the agent
// renews in the last third of its certificate's life, the broker ends the
// control connection made with the old one when it expires, and the agent
// comes back with the new one. A renewal presenting no certificate is
// refused; every renewal is audited.
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

before(async () => {
  broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0', '--agent-cert-ttl', '15s'] });
});
after(async () => {
  await agent?.stop();
  await stopChecked(broker);
});

const notAfter = (f) => new Date(new crypto.X509Certificate(fs.readFileSync(f)).validTo);
const keyOf = (f) => new crypto.X509Certificate(fs.readFileSync(f)).publicKey
  .export({ type: 'spki', format: 'der' }).toString('hex');

test('a 15 s certificate is renewed for the same key and the agent stays in service', async () => {
  const token = admin(broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  const dir = path.join(tmpdir('zt-agent-'), 'data');
  agent = await startAgent(broker, dir, 'web1', { token, hostKey: sshHostKey(), labels: 'env=staging' });
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
