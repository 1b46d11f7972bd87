// The agent tunnel under load it did not ask for. A client trickling its
// handshake is closed at the handshake deadline; hundreds of them from a
// few addresses do not keep an agent from opening streams; running out of
// descriptors pauses accepting instead of spinning, and the broker serves
// again once connections close; joins with made-up tokens are audited once
// per kind, address and period, not once each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  admin, applyRole, auditEvents, botToken, joinToken, mcpConnect, startAgent, startBroker,
  stopChecked, tmpdir, until,
} from './lib/zt.mjs';
import { startSshd } from './lib/sshd.mjs';
import { agentMaterial, rawConnect, rawJoin } from './lib/tunnel.mjs';

const TUNNEL = ['--tunnel-listen', '127.0.0.1:0'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// CPU seconds (user + system) the process has used so far.
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; /* utime, stime in USER_HZ ticks */
}

// n connections spread over 127.0.0.<first>..<last> that start a TLS
// record (a ClientHello of 512 bytes) and then send one byte every
// intervalMs; some may be refused. Returns {socks, stop()}.
async function slowClients(broker, n, first, last, intervalMs) {
  const socks = [];
  const tries = [];
  for (let i = 0; i < n; i++) {
    const addr = `127.0.0.${first + (i % (last - first + 1))}`;
    tries.push(rawConnect(broker, addr).then((s) => {
      s.on('error', () => {});
      s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
      socks.push(s);
    }, () => {}));
  }
  await Promise.all(tries);
  const timer = setInterval(() => {
    for (const s of socks) if (!s.destroyed) s.write(Buffer.from([0]));
  }, intervalMs);
  return { socks, stop() { clearInterval(timer); for (const s of socks) s.destroy(); } };
}

test('a client trickling its handshake is closed at the deadline', async () => {
  const broker = await startBroker({ args: [...TUNNEL, '--tunnel-handshake-timeout', '2s'] });
  try {
    const s = await rawConnect(broker, '127.0.0.2');
    let gone = false;
    s.on('close', () => { gone = true; });
    s.on('error', () => {});
    // A record header announcing 512 bytes of handshake, then a byte every
    // 250 ms: every read succeeds long before a per-read timeout would
    // fire, and the record would take two minutes to complete.
    s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    for (let i = 0; i < 200 && !gone; i++) {
      s.write(Buffer.from([0]));
      await sleep(250);
    }
    assert.ok(gone, 'the broker closed the connection while the client was still sending');
    await until(() => /127\.0\.0\.2 did not finish its handshake in time/.test(broker.log.join('')),
      'the log says why');
  } finally {
    await stopChecked(broker);
  }
});

test('300 slow clients from eight addresses do not keep an agent from opening streams', async () => {
  // The clients stay within the handshake deadline the whole time: only the
  // bound per address keeps them from taking every descriptor the broker
  // has (256 here).
  const broker = await startBroker({ args: [...TUNNEL, '--tunnel-handshake-timeout', '5m'],
    fdLimit: 256 });
  const sshd = startSshd({ userCa: admin(broker, 'ca', 'ssh-user-pub').stdout });
  let agent;
  let bot;
  let slow;
  try {
    applyRole(broker, `kind: role\nname: ops\nallow:\n  hosts: {env: test}\n  logins: [${sshd.user}]\n`
      + '  tools: [ssh_exec, list_hosts]\n');
    agent = await startAgent(broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
      token: joinToken(broker), hostKey: sshd.hostKey, labels: 'env=test',
      ssh: `127.0.0.1:${sshd.port}`,
    });
    assert.ok(agent.joined, agent.out?.stderr);
    bot = await mcpConnect(broker, botToken(broker, 'ops-bot', { roles: 'ops' }));
    await until(async () => (await bot.callTool({ name: 'list_hosts', arguments: {} }))
      .structuredContent.hosts.some((h) => h.online), 'web1 online');

    slow = await slowClients(broker, 300, 2, 9, 2000);
    for (let i = 0; i < 3; i++) {
      const r = await bot.callTool({ name: 'ssh_exec',
        arguments: { host: 'web1', login: sshd.user, command: 'echo through' } });
      assert.equal(r.isError, false, r.content.map((c) => c.text).join('\n'));
      assert.equal(r.structuredContent.stdout, 'through\n');
    }
    assert.match(broker.log.join(''), /too many of its connections are in their handshake/);
  } finally {
    slow?.stop();
    await bot?.close();
    await agent?.stop?.();
    await stopChecked(broker);
    sshd.stop();
  }
});

test('out of descriptors: no spinning, and service again once connections close', async () => {
  const broker = await startBroker({ args: TUNNEL, fdLimit: 64 });
  let slow;
  try {
    // Five addresses may hold 80 handshakes: more than the ~50 descriptors
    // the broker has left.
    slow = await slowClients(broker, 100, 2, 6, 2000);
    await until(() => /cannot accept connections: Too many open files/.test(broker.log.join('')),
      'the broker out of descriptors');
    const before = cpuSeconds(broker.proc.pid);
    await sleep(4000);
    const used = cpuSeconds(broker.proc.pid) - before;
    assert.ok(used < 1, `the broker used ${used} s of CPU in 4 s while out of descriptors`);
    // Logged once per period, not once per accept.
    assert.equal(broker.log.join('').match(/cannot accept connections/g).length, 1);

    slow.stop();
    slow = null;
    const m = agentMaterial('web1');
    await until(async () => (await rawJoin(broker, 'ztj_not_a_token', 'web1', m, '127.0.0.1')
      .catch(() => null))?.code === 'token_unknown', 'the tunnel serving again');
  } finally {
    slow?.stop();
    await stopChecked(broker);
  }
});

test('fifty joins with unknown tokens from one address: one event, then one summary', async () => {
  const broker = await startBroker({ args: TUNNEL });
  const m = agentMaterial('web1');
  const unknown = () => auditEvents(broker, 'agent.join')
    .filter((e) => e.source === '127.0.0.2' && e.details.reason === 'token_unknown');
  try {
    for (let i = 0; i < 50; i++) {
      const reply = await rawJoin(broker, `ztj_never_issued_${i}`, 'web1', m, '127.0.0.2');
      assert.equal(reply?.code, 'token_unknown', JSON.stringify(reply));
    }
    // The period (60 s) still runs: the first refusal is on record, the
    // other 49 are only counted.
    const during = unknown();
    assert.equal(during.length, 1);
    assert.equal(during[0].outcome, 'failure');
    assert.equal(during[0].actor, 'agent:web1');
    assert.match(during[0].details.token, /^[0-9a-f]{12}$/);
  } finally {
    await stopChecked(broker);
  }
  // A clean stop writes the summary of the period.
  const all = unknown();
  assert.equal(all.length, 2);
  assert.equal(all[1].details.aggregated, true);
  assert.equal(all[1].details.repeats, 49);
});
