// Search side of the server: the route's access, the index lifecycle,
// `consort reindex` beside a running server. Searching real uploads
// with real accounts needs issues 4 and 5 (see docs/search.md, "tests").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { withServer, runConsort } from './lib/server.mjs';

test('search needs a signed-in caller', async () => {
  await withServer({}, async (s) => {
    const r = await s.fetch('/api/v1/search?q=germline');
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error, 'unauthenticated');
    assert.equal((await s.fetch('/api/v1/search?q=x', { method: 'POST' })).status, 405);
  });
});

test('the server creates the index, reindex switches it while the server runs', async () => {
  await withServer({}, async (s) => {
    const link = `${s.dataDir}/index/current`;
    assert.ok(lstatSync(link).isSymbolicLink());
    const before = readlinkSync(link);
    assert.match(before, /^gen-/);
    const r = runConsort(['reindex', '--data', s.dataDir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done: 0 extracted \(0 failed\), 0 documents/);
    const after = readlinkSync(link);
    assert.notEqual(after, before);
    assert.ok(!existsSync(`${s.dataDir}/index/${before}`), 'old generation removed');
    assert.equal((await s.fetch('/healthz')).status, 200);
    assert.equal((await s.fetch('/api/v1/search?q=x')).status, 401);
  });
});

test('reindex and the hidden helper refuse bad use', () => {
  let r = runConsort(['reindex']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--data DIR is required/);
  r = runConsort(['reindex', '--data', '/tmp', '--bogus']);
  assert.equal(r.status, 2);
  r = runConsort(['extract-worker', 'x'], { input: '' });
  assert.equal(r.status, 2);
  r = runConsort(['extract-worker'], { input: '' }); // stdin closes at once: clean exit
  assert.equal(r.status, 0);
  r = runConsort(['--help']);
  assert.doesNotMatch(r.stdout, /extract-worker/);
  assert.match(r.stdout, /reindex --data DIR/);
});
