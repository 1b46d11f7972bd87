// sshca.test.mjs - zt's SSH user CA proven against real OpenSSH: certificates minted by
// common/sshca.c (through tests/tools/sshcert_mint) are read by ssh-keygen, accepted by a
// real sshd that trusts only that CA, and refused when expired or for another principal.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MINT, startSshd } from './lib/sshd.mjs';

let sshd;
let dir;
let caDir;
let sshdDir;
const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
const now = Math.floor(Date.now() / 1000);
let port;

// Mints a key pair and certificate; returns the private key's path.
function mintCert(name, { principals = [user], after = now - 60, before = now + 300,
  keyId, serial = 1 }) {
  const prefix = path.join(dir, name);
  const args = ['--ca-dir', caDir, '--valid-after', String(after),
    '--valid-before', String(before), '--key-id', keyId, '--serial', String(serial),
    '--out', prefix];
  for (const p of principals) args.push('--principal', p);
  execFileSync(MINT, args);
  return prefix;
}

function ssh(prefix, command) {
  return spawnSync('ssh', ['-F', '/dev/null', '-p', String(port), '-i', prefix,
    '-o', `CertificateFile=${prefix}-cert.pub`, '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${sshdDir}/known_hosts`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10',
    `${user}@127.0.0.1`, command], { encoding: 'utf8', timeout: 30000 });
}

before(() => {
  sshd = startSshd();
  ({ port, caDir, sshdDir, dir } = sshd);
});

after(() => sshd?.stop());

test('the CA line is an ssh-ed25519 key', () => {
  const line = fs.readFileSync(path.join(dir, 'user_ca.pub'), 'utf8').trim();
  assert.match(line, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+=* zt-user-ca$/);
  const st = fs.statSync(path.join(caDir, 'ssh-user-ca.key'));
  assert.equal(st.mode & 0o777, 0o600);
});

test('ssh-keygen reads the certificate zt minted', () => {
  const after = now - 60;
  const before = now + 300;
  const keyId = `zt:user:e2e:${process.pid}:keygen`;
  const prefix = mintCert('keygen', { after, before, keyId, serial: 4242 });
  assert.equal(fs.statSync(prefix).mode & 0o777, 0o600);
  // UTC so the printed validity can be compared with the times given.
  const out = execFileSync('ssh-keygen', ['-L', '-f', `${prefix}-cert.pub`], {
    encoding: 'utf8', env: { ...process.env, TZ: 'UTC' },
  });
  const iso = (t) => new Date(t * 1000).toISOString().slice(0, 19);
  assert.match(out, /Type: ssh-ed25519-cert-v01@openssh.com user certificate/);
  assert.ok(out.includes(`Key ID: "${keyId}"`), out);
  assert.match(out, /Serial: 4242\n/);
  assert.ok(out.includes(`Valid: from ${iso(after)} to ${iso(before)}`), out);
  assert.match(out, new RegExp(`Principals: \\n\\s+${user}\\n\\s+Critical Options: \\(none\\)`));
  assert.match(out, /Extensions: \n\s+permit-pty\n*$/);
  assert.doesNotMatch(out, /forwarding|permit-user-rc/);
  // The public key ssh-keygen derives from the private key is the certified one.
  const pub = execFileSync('ssh-keygen', ['-y', '-f', prefix], { encoding: 'utf8' });
  const fp = (args) => execFileSync('ssh-keygen', args, { encoding: 'utf8' }).split(' ')[1];
  fs.writeFileSync(`${prefix}.pub`, pub);
  assert.equal(fp(['-l', '-f', `${prefix}.pub`]), fp(['-l', '-f', `${prefix}-cert.pub`]));
});

test('sshd accepts the certificate and logs its key ID', () => {
  const keyId = `zt:user:e2e:${process.pid}:login`;
  const prefix = mintCert('login', { keyId, serial: 77 });
  const r = ssh(prefix, 'id -un');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), user);
  sshd.assertLogged(`Accepted certificate ID "${keyId}" (serial 77)`);
});

test('sshd refuses an expired certificate', () => {
  const keyId = `zt:user:e2e:${process.pid}:expired`;
  const prefix = mintCert('expired', { after: now - 3600, before: now - 60, keyId });
  const r = ssh(prefix, 'id -un');
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Permission denied/);
  sshd.assertLogged(`ID ${keyId} (serial 1)`);
  sshd.assertLogged('Certificate invalid: expired');
});

test('sshd refuses a certificate for another principal', () => {
  const keyId = `zt:user:e2e:${process.pid}:other`;
  const prefix = mintCert('other', { principals: [`not-${user}`], keyId });
  const r = ssh(prefix, 'id -un');
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Permission denied/);
  sshd.assertLogged(`ID ${keyId} (serial 1)`);
  sshd.assertLogged('Certificate invalid: name is not a listed principal');
});
