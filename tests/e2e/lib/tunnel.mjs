// A raw client of the broker's agent tunnel (common/tun.h frames: a 4-byte
// big-endian length, then JSON), for tests that speak to the listener
// directly: joins with made-up tokens, renewals with an agent's own
// certificate, clients that never finish their handshake.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { tmpdir } from './zt.mjs';

// A TLS connection to the tunnel trusting only the broker's CA, from
// localAddress (default 127.0.0.1), with the agent certificate in dir
// (agent.crt, agent.key) if given. Resolves once the handshake is done.
export function tunnelConnect(broker, { localAddress = '127.0.0.1', agentDir } = {}) {
  const opts = {
    host: '127.0.0.1', port: broker.tunnelPort, localAddress, ca: broker.caPem,
    checkServerIdentity: () => undefined, minVersion: 'TLSv1.3',
  };
  if (agentDir) {
    opts.cert = fs.readFileSync(path.join(agentDir, 'agent.crt'));
    opts.key = fs.readFileSync(path.join(agentDir, 'agent.key'));
  }
  return new Promise((resolve, reject) => {
    const s = tls.connect(opts, () => resolve(s));
    s.once('error', reject);
  });
}

// A plain TCP connection to the tunnel port that sends nothing (or what
// the caller writes): a client stuck in its handshake.
export function rawConnect(broker, localAddress = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: broker.tunnelPort, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

export function sendFrame(sock, msg) {
  const body = Buffer.from(JSON.stringify(msg));
  const hdr = Buffer.alloc(4);
  hdr.writeUInt32BE(body.length);
  sock.write(Buffer.concat([hdr, body]));
}

// The next frame's message, or null when the connection ends first.
export function readFrame(sock) {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (v) => { sock.off('data', onData); sock.off('close', onEnd); resolve(v); };
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        done(JSON.parse(buf.subarray(4, 4 + buf.readUInt32BE(0)).toString()));
      }
    };
    const onEnd = () => done(null);
    sock.on('data', onData);
    sock.on('close', onEnd);
  });
}

// Resolves when sock is closed by the other side.
export const closed = (sock) => new Promise((r) => {
  if (sock.destroyed) r(); else sock.once('close', r);
});

// A CSR for the key in dir/agent.key (made if missing) with CN name, and
// an Ed25519 host key line: what a join or renew message carries.
export function agentMaterial(name, dir = tmpdir('zt-raw-')) {
  const key = path.join(dir, 'agent.key');
  if (!fs.existsSync(key)) {
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-out', key]);
  }
  const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${name}`],
    { encoding: 'utf8' });
  const hk = path.join(dir, 'host');
  if (!fs.existsSync(hk)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hk]);
  const hostKey = fs.readFileSync(`${hk}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  return { dir, csr, hostKey };
}

// One join over a fresh connection from localAddress; resolves to the
// broker's answer.
export async function rawJoin(broker, token, name, material, localAddress) {
  const s = await tunnelConnect(broker, { localAddress });
  sendFrame(s, {
    type: 'join', token, csr: material.csr, name,
    resources: [{ name, kind: 'ssh', address: '127.0.0.1:22', host_key: material.hostKey }],
  });
  const reply = await readFrame(s);
  s.destroy();
  return reply;
}
