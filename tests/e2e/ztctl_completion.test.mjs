// `ztctl completion bash|zsh` (cli/cli_completion.h): the bash script is
// sourced by a real bash, its completion function called as bash would
// (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT); the commands come from
// ztctl's own table, so every command `ztctl help` lists completes. Host
// names (from `ztctl ls -q`) are tried against a real broker in
// ztctl_cp.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir, ZTCTL } from './lib/zt.mjs';

const script = (shell) => spawnSync(ZTCTL, ['completion', shell], { encoding: 'utf8' });

// The candidates bash's completion function gives for the words typed
// (as bash splits line, at COMP_WORDBREAKS too).
function complete(words, line = words.join(' ')) {
  const q = (w) => `'${w.replaceAll("'", "'\\''")}'`;
  const r = spawnSync('bash', ['-c', `${script('bash').stdout}\nCOMP_LINE=${q(line)}; COMP_POINT=${line.length}; `
    + `COMP_WORDS=(${words.map(q).join(' ')}); COMP_CWORD=${words.length - 1}; _ztctl; `
    + 'printf "%s\\n" "${COMPREPLY[@]}"'], {
    encoding: 'utf8',
    // No profile: host names cannot be listed, and that must stay silent.
    env: { ...process.env, ZT_HOME: tmpdir('zt-cpl-'), PATH: `${process.env.PATH}` },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('bash: subcommands complete from the command table', () => {
  assert.deepEqual(complete(['ztctl', 'ap']), ['approvals', 'approve']);
  assert.deepEqual(complete(['ztctl', 'c']), ['completion', 'cp']);
  assert.deepEqual(complete(['ztctl', 'completion', '']), ['bash', 'zsh']);
  // Every command `ztctl help` lists, and only those.
  const help = spawnSync(ZTCTL, ['help'], { encoding: 'utf8' }).stdout;
  const listed = help.split('commands:\n')[1].split('\n\n')[0].split('\n')
    .map((l) => l.trim().split(/\s+/)[0]).sort();
  assert.deepEqual(complete(['ztctl', '']), listed);
});

test('bash: a remote path is not completed, and a failing host list prints nothing', () => {
  assert.deepEqual(complete(['ztctl', 'cp', 'web1', ':', '/et'], 'ztctl cp web1:/et'), []);
  assert.deepEqual(complete(['ztctl', 'cp', 'zz-no-such-prefix']), []);
});

test('the scripts are syntactically valid and an unknown shell is a usage error', () => {
  const b = spawnSync('bash', ['-n'], { input: script('bash').stdout, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  const z = script('zsh');
  assert.equal(z.status, 0);
  assert.match(z.stdout, /^#compdef ztctl\n/);
  assert.match(z.stdout, /'cp:copy a file to or from a host, through the broker'/);
  assert.match(z.stdout, /_ztctl_hostpath_commands=\(cp\)/);
  const bad = script('fish');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no script for the shell "fish"/);
});
