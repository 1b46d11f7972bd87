// ssh_shell.test.mjs - resources/ssh_shell.c proven against a real sshd
// (tests/fixtures/sshd.sh) through tests/tools/ssh_shell_once: a shell in a
// pseudo-terminal of the asked size, a resize the remote sees (`stty
// size`), typed input echoed and run, the exit status passed on; a command
// without a terminal keeps stdout and stderr apart; a bad terminal request
// is refused before anything is sent.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSshd } from './lib/sshd.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = process.env.ZT_BUILD ?? path.join(root, 'build');
const tool = path.join(build, 'tests/tools/ssh_shell_once');
const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
let sshd;

function shell(args) {
  const r = spawnSync(tool, ['--ca-dir', sshd.caDir, '--port', String(sshd.port), '--host-key-file',
    sshd.hostKey, '--login', user, ...args], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `ssh_shell_once failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

before(() => { sshd = startSshd(); });
after(() => sshd?.stop());

test('a shell in a terminal: its size, a resize, typed input, and the exit status', () => {
  // $((a+b)) is echoed as typed, and only the shell prints its value: the
  // marks are the commands' output, not the terminal's echo.
  const r = shell(['--term', 'xterm-256color', '--size', '100x30',
    '--send', 'stty size; echo $((40+2))m\n', '--expect', '42m',
    '--resize', '132x43',
    '--send', 'stty size; echo "$TERM" $((7*6))n\n', '--expect', '42n',
    '--send', 'echo hi; exit 3\n']);
  assert.equal(r.error, '');
  assert.match(r.output, /[\r\n]30 100\r\n42m/);
  assert.match(r.output, /43 132\r\nxterm-256color 42n/);
  assert.match(r.output, /[\r\n]hi\r\n/);
  assert.equal(r.exit_code, 3);
  assert.equal(r.signal, '');
});

test('a command without a terminal: stdout and stderr apart, input to its end', () => {
  const r = shell(['--no-pty', '--command', 'cat; echo to-err >&2; exit 5',
    '--send', 'line one\nline two\n', '--eof']);
  assert.equal(r.error, '');
  assert.equal(r.output, 'line one\nline two\n');
  assert.equal(r.stderr, 'to-err\n');
  assert.equal(r.exit_code, 5);
});

test('a command killed by a signal says which', () => {
  const r = shell(['--no-pty', '--command', 'kill -KILL $$']);
  assert.equal(r.error, '');
  assert.equal(r.exit_code, -1);
  assert.equal(r.signal, 'KILL');
});

test('a bad terminal request is refused before anything is sent', () => {
  const r = shell(['--term', 'x term', '--send', 'true\n']);
  assert.equal(r.error, 'bad terminal request');
  const s = shell(['--size', '0x24', '--send', 'true\n']);
  assert.equal(s.error, 'bad terminal request');
});
