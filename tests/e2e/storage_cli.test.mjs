// The store's subcommands against the real binary: fsck, gc, backup and
// restore on a store a running server uses, their refusals (exit status,
// one line on stderr), and the temp-file cleanup at server start.
// Documents arrive over HTTP in a later issue; the storage unit tests
// cover stores full of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { Server, tempDir, runConsort, withServer } from './lib/server.mjs';

const oneLine = (text) => text.trim().split('\n').length === 1;

test('server start removes abandoned temp files and keeps other files', async () => {
  const dataDir = tempDir() + '/data';
  const s = new Server({ dataDir });
  await s.start();
  await s.stop();
  // as a server killed mid-upload leaves them
  writeFileSync(`${dataDir}/tmp/cas-0123456789abcdef.tmp`, 'half an upload');
  writeFileSync(`${dataDir}/tmp/cas-fedcba9876543210.tmp`, '');
  writeFileSync(`${dataDir}/tmp/README`, 'not a temp file');
  await s.start();
  try {
    assert.deepEqual(readdirSync(`${dataDir}/tmp`).sort(), ['README']);
  } finally {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('fsck, gc and backup run while the server serves; restore makes a store that serves', async () => {
  const dest = tempDir() + '/backup';
  const restored = tempDir() + '/restored';
  await withServer({}, async (s) => {
    let r = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /0 problem\(s\)/);
    r = runConsort(['gc', '--data', s.dataDir, '--grace', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^gc: .*blob\(s\) deleted/);
    r = runConsort(['backup', dest, '--data', s.dataDir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^backup: /);
    assert.ok(existsSync(`${dest}/consort.db`));
    assert.equal((await s.fetch('/healthz')).status, 200, 'server unaffected');
  });
  let r = runConsort(['restore', dest, '--data', restored]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /verified/);
  r = runConsort(['fsck', '--data', restored]);
  assert.equal(r.status, 0, r.stderr);
  const s2 = new Server({ dataDir: restored });
  await s2.start();
  try {
    assert.equal((await s2.fetch('/healthz')).status, 200);
  } finally {
    await s2.close();
  }
  rmSync(dest, { recursive: true, force: true });
  rmSync(restored, { recursive: true, force: true });
});

test('fsck reports each problem on its own line and exits non-zero', async () => {
  await withServer({}, async (s) => {
    mkdirSync(`${s.dataDir}/blobs/ab/cd`, { recursive: true });
    writeFileSync(`${s.dataDir}/blobs/ab/cd/not-a-blob`, 'x');
    writeFileSync(`${s.dataDir}/blobs/stray`, 'y');
    const r = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(r.status, 1);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.filter((l) => /unexpected file/.test(l)).length, 2, r.stdout);
    assert.match(lines.at(-1), /2 problem\(s\)/);
    assert.ok(oneLine(r.stderr), r.stderr);
    assert.match(r.stderr, /^consort fsck: 2 problem\(s\) found/);
  });
});

test('refusals: exit status and one clear line on stderr, nothing changed', async () => {
  const data = tempDir() + '/data';
  const s = new Server({ dataDir: data });
  await s.start();
  await s.stop();
  const cases = [
    [['gc'], 2, /--data DIR is required/],
    [['gc', '--data', data, '--grace', 'soon'], 2, /--grace takes a number of seconds/],
    [['fsck', '--data', data, '--bogus'], 2, /unknown option '--bogus'/],
    [['fsck', '--data', tempDir()], 1, /consort\.db does not exist/],
    [['backup', '--data', data], 2, /which directory/],
    [['backup', data, '--data', data], 1, /is not empty/],
    [['restore', tempDir(), '--data', tempDir() + '/new'], 1, /not a consort backup/],
    [['restore', data, '--data', data], 1, /is not empty/],
  ];
  for (const [args, status, message] of cases) {
    const r = runConsort(args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(oneLine(r.stderr), `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const r = runConsort(['fsck', '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  rmSync(data, { recursive: true, force: true });
});

test('--help lists the storage commands', () => {
  const r = runConsort(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['consort gc --data DIR', 'consort fsck --data DIR', 'consort backup DEST --data DIR',
    'consort restore SRC --data DIR'])
    assert.ok(r.stdout.includes(c), c);
});
