// A real RDP server for end-to-end tests (tests/fixtures/rdpd.sh): FreeRDP's
// shadow server mirroring a private Xvfb with known content (a red block at
// +700+500, an xterm running sh at +250+20), on 127.0.0.1 with an ephemeral
// port, in a temp dir, stopped by PID. Also: PNG helpers for pixel checks,
// and a client for the RDP helper ztrdp's frames (tunnel/desk.h).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { alive } from './zt.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUILD = process.env.ZT_BUILD ?? path.join(ROOT, 'build');
const FIXTURE = path.join(ROOT, 'tests/fixtures/rdpd.sh');
export const ZTRDP = path.join(BUILD, 'ztrdp');
const run = promisify(execFile);

// A TCP port free on 127.0.0.1 right now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}


// Runs `fixture start` with the variables envFor() resolves (on new ports
// each try: a port taken meanwhile is tried again, twice), then `fixture
// env`; resolves what env printed as an object, its pin checked. On failure
// the fixture is stopped and dir removed.
export async function startFixture(fixture, dir, envFor) {
  let out;
  for (let tries = 0; ; tries++) {
    const env = { ...process.env, ...(await envFor()) };
    try {
      await run(fixture, ['start'], { env });
      out = (await run(fixture, ['env'], { env })).stdout;
      break;
    } catch (e) {
      await run(fixture, ['stop'], { env }).catch(() => {});
      if (tries >= 2 || !/already in use/.test(String(e.stderr))) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }
  const env = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')),
    l.slice(l.indexOf('=') + 1)]));
  assert.match(env.RDP_CERT_SHA256, /^sha256:[0-9a-f]{64}$/,
    `${path.basename(fixture)} env prints the pin`);
  return env;
}

// Starts the server; resolves {port, host, user, password, pin, display,
// dir, env, pids(), stop()}. auth: 'nla' (default) | 'none' | 'pam' |
// 'nla+pam'; geometry like '1024x768'; cert: {crt, key} (PEM file paths)
// for the server to present instead of the self-signed one it makes.
// stop() waits for every process of it to be gone and removes dir.
export async function startRdpd({ auth = 'nla', user = 'rdpuser', password = 'rdp-test-pw',
  geometry = '1024x768', sec = '', cert = null } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-rdpd-'));
  if (cert) {
    // The shadow server keeps a certificate it finds there.
    const sdir = path.join(dir, 'home/.config/freerdp/shadow');
    fs.mkdirSync(sdir, { recursive: true });
    fs.copyFileSync(cert.crt, path.join(sdir, 'shadow.crt'));
    fs.copyFileSync(cert.key, path.join(sdir, 'shadow.key'));
  }
  let port;
  const env = await startFixture(FIXTURE, dir, async () => {
    port = await freePort();
    return { RDPD_DIR: dir, RDPD_PORT: String(port), RDPD_AUTH: auth, RDPD_USER: user,
      RDPD_PASSWORD: password, RDPD_GEOMETRY: geometry, RDPD_SEC: sec };
  });
  const pids = () => ['shadow', 'xterm', 'redbox', 'xclock', 'xvfb']
    .map((n) => { try { return Number(fs.readFileSync(path.join(dir, `${n}.pid`), 'utf8')); } catch { return 0; } })
    .filter((p) => p > 0);
  return {
    port, host: '127.0.0.1', user, password, pin: env.RDP_CERT_SHA256, display: env.RDP_DISPLAY,
    dir, env, pids,
    shadowPid: () => Number(fs.readFileSync(path.join(dir, 'shadow.pid'), 'utf8')),
    async stop() {
      const before = pids();
      await run(FIXTURE, ['stop'], { env: { ...process.env, RDPD_DIR: dir, RDPD_PORT: String(port) } });
      for (let i = 0; i < 100 && before.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(!before.some(alive), 'rdpd processes are gone');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// PNG decoding for tests: 8-bit RGB or RGBA, non-interlaced (what ztrdp writes).
export function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG signature');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

const decoded = new WeakMap();

function decode(buf) {
  if (decoded.has(buf)) return decoded.get(buf);
  const { width, height } = pngSize(buf);
  const depth = buf[24];
  const ctype = buf[25];
  assert.equal(depth, 8, 'an 8-bit PNG');
  assert.ok(ctype === 2 || ctype === 6, 'an RGB or RGBA PNG');
  assert.equal(buf[28], 0, 'not interlaced');
  const bpp = ctype === 2 ? 3 : 4;
  const idat = [];
  for (let off = 8; off < buf.length;) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('latin1');
    if (type === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? px[y * stride + i - bpp] : 0;
      const b = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = i >= bpp && y > 0 ? px[(y - 1) * stride + i - bpp] : 0;
      let v = line[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + i] = v & 0xff;
    }
  }
  const d = { width, height, bpp, stride, px };
  decoded.set(buf, d);
  return d;
}

// [r, g, b] of the pixel at (x, y).
export function pixel(buf, x, y) {
  const d = decode(buf);
  assert.ok(x >= 0 && y >= 0 && x < d.width && y < d.height, `(${x}, ${y}) inside the picture`);
  const o = y * d.stride + x * d.bpp;
  return [d.px[o], d.px[o + 1], d.px[o + 2]];
}

// The RDP helper as a child process: req(head) sends one frame and resolves
// the answer {head, body}; exited resolves {code, signal}; stderr() is what
// it logged.
export function spawnZtrdp(env = {}) {
  const child = spawn(ZTRDP, [], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = Buffer.alloc(0);
  let err = '';
  const waiting = [];
  const answers = [];
  child.stderr.on('data', (d) => { err += d; });
  child.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 4) break;
      const hl = buf.readUInt32BE(0);
      if (buf.length < 8 + hl) break;
      const bl = buf.readUInt32BE(4 + hl);
      if (buf.length < 8 + hl + bl) break;
      const a = { head: JSON.parse(buf.subarray(4, 4 + hl).toString('utf8')),
        body: Buffer.from(buf.subarray(8 + hl, 8 + hl + bl)) };
      buf = buf.subarray(8 + hl + bl);
      if (waiting.length) waiting.shift().resolve(a);
      else answers.push(a);
    }
  });
  // 'close': after stdout's last bytes were taken.
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`ztrdp exited (${code ?? signal}); stderr: ${err}`));
    resolve({ code, signal });
  }));
  child.stdin.on('error', () => {});
  const frame = (head, body = Buffer.alloc(0)) => {
    const h = Buffer.from(JSON.stringify(head));
    const out = Buffer.alloc(8 + h.length + body.length);
    out.writeUInt32BE(h.length, 0);
    h.copy(out, 4);
    out.writeUInt32BE(body.length, 4 + h.length);
    body.copy(out, 8 + h.length);
    return out;
  };
  const next = () => new Promise((resolve, reject) => {
    if (answers.length) resolve(answers.shift());
    else waiting.push({ resolve, reject });
  });
  return {
    child, exited, frame, next,
    stderr: () => err,
    writeRaw(bytes) { child.stdin.write(bytes); },
    req(head) { child.stdin.write(frame(head)); return next(); },
    connect(rdpd, extra = {}) {
      return this.req({ op: 'connect', host: rdpd.host, port: rdpd.port, username: rdpd.user,
        password: rdpd.password, cert_pin: rdpd.pin, security: 'nla', width: 1024, height: 768,
        timeout_ms: 10000, ...extra });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      return exited;
    },
  };
}
