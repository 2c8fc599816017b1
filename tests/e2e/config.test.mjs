// Configuration: bad settings stop the start with one clear line and
// exit status 1 (unknown key, negative limit, missing certificate file,
// unwritable data directory, ...); docs/config.md is what the option
// table generates; the example configuration names every option and
// starts a server as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runConsort, tempDir, repoRoot, withServer, freePort } from './lib/server.mjs';

// Never the default port: a newcomer may have deploy/run on 8443, and a
// refusal that comes after the listener opens (metrics settings) would
// then read "address in use" instead.
const listen = `127.0.0.1:${await freePort()}`;

function refuses(args, pattern) {
  const r = runConsort(['serve', '--listen', listen, ...args]);
  assert.equal(r.status, 1, `exit status for ${args.join(' ')}: ${r.status}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], /^consort serve: /);
  assert.match(lines[0], pattern);
  return lines[0];
}

test('an unknown key in the file names the file, the line and the key', () => {
  const dir = tempDir();
  const conf = join(dir, 'consort.conf');
  writeFileSync(conf, `# comment\ndata = ${dir}/data\n\nworkers = 2\nmax-conections = 10\n`);
  refuses(['--config', conf], new RegExp(`${conf}:5: unknown key 'max-conections'`));
});

test('an unknown flag and a flag without its value are refused', () => {
  refuses(['--data', tempDir(), '--colour', 'blue'], /unknown option '--colour'/);
  refuses(['--data', tempDir(), '--workers'], /--workers needs a value/);
});

test('negative and out-of-range limits are refused, in flags and in the file', () => {
  refuses(['--data', tempDir(), '--max-connections', '-5'], /--max-connections: value '-5' must not be negative/);
  refuses(['--data', tempDir(), '--max-upload=-1G'], /--max-upload: value '-1G' must not be negative/);
  refuses(['--data', tempDir(), '--idle-timeout', '5 parsecs'], /--idle-timeout: .*unknown unit/);
  refuses(['--data', tempDir(), '--workers', '100000'], /--workers: value '100000' is above the maximum/);
  refuses(['--data', tempDir(), '--default-keep-days', 'ten'], /is not a number/);
  const dir = tempDir();
  const conf = join(dir, 'c.conf');
  writeFileSync(conf, `data = ${dir}/data\nhead-timeout = -3s\n`);
  refuses(['--config', conf], new RegExp(`${conf}:2: head-timeout: value '-3s' must not be negative`));
});

test('a missing certificate or key file is named', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'key.pem'), 'not used');
  refuses(['--data', join(dir, 'data'), '--cert', join(dir, 'nope.pem'), '--key', join(dir, 'key.pem')],
    new RegExp(`cert: ${dir}/nope.pem: No such file or directory`));
  refuses(['--data', join(dir, 'data'), '--cert', join(dir, 'key.pem'), '--key', dir],
    new RegExp(`key: ${dir} is not a regular file`));
  refuses(['--data', join(dir, 'data'), '--cert', join(dir, 'key.pem')], /cert and key must be given together/);
});

test('an unusable data directory is refused before anything is written', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file'), '');
  refuses(['--data', join(dir, 'file')], /data directory .*file is not a directory/);
  refuses(['--data', join(dir, 'file', 'sub')], /data directory .* cannot be created: Not a directory/);
  // Root writes through permission bits, so take a directory nobody can
  // write in: procfs. As another user, a mode 0500 directory.
  if (process.getuid() === 0) {
    refuses(['--data', '/proc/1'], /data directory \/proc\/1 is not writable/);
  } else {
    mkdirSync(join(dir, 'ro'), { mode: 0o500 });
    refuses(['--data', join(dir, 'ro')], /data directory .*ro is not writable/);
  }
});

test('bad metrics settings are refused', () => {
  refuses(['--data', tempDir(), '--metrics-allow', '10.0.0.0/40'], /metrics-allow: '10\.0\.0\.0\/40' is not an address/);
  refuses(['--data', tempDir(), '--metrics-token-file', '/nonexistent/token'], /metrics-token-file: \/nonexistent\/token: No such file/);
  const dir = tempDir();
  writeFileSync(join(dir, 'token'), 'short\n');
  refuses(['--data', join(dir, 'data'), '--metrics-token-file', join(dir, 'token')], /token shorter than 16 bytes/);
});

test('docs/config.md is what `consort serve --help-config` writes', () => {
  const r = runConsort(['serve', '--help-config']);
  assert.equal(r.status, 0);
  const doc = readFileSync(join(repoRoot, 'docs', 'config.md'), 'utf8');
  assert.equal(doc, r.stdout,
    'docs/config.md is stale: regenerate it with `consort serve --help-config > docs/config.md`');
});

test('the example configuration names every option and works as it is', async () => {
  const r = runConsort(['serve', '--help-config']);
  const keys = [...r.stdout.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
  assert.ok(keys.length > 20);
  const example = readFileSync(join(repoRoot, 'deploy', 'consort.conf.example'), 'utf8');
  for (const k of keys)
    assert.match(example, new RegExp(`^#? ?${k} = `, 'm'), `deploy/consort.conf.example lacks ${k}`);
  // Uncomment every line and point it at a test directory and port: the
  // file must parse as it is shipped.
  const dir = tempDir();
  // The [oidc] section (last in the file) is uncommented too; its
  // secret file, like the metrics token's, does not exist here.
  const conf = example.split('\n')
    .filter((l) => !/^(# )?(data|listen|cert|key|metrics-token-file|smtp-password-file|smtp-ca-file|client-secret-file|clamd-address) = /.test(l))
    .map((l) => l.replace(/^# ([a-z0-9-]+ = |\[oidc )/, '$1'))
    .join('\n');
  writeFileSync(join(dir, 'consort.conf'), conf);
  await withServer({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'consort.conf')] }, async (s) => {
    assert.equal((await s.fetch('/healthz')).status, 200);
  });
});
