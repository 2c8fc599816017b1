// Blobs on S3 (issue 22, docs/storage.md "Blobs on S3") against a real
// Ceph RADOS Gateway started by the test (lib/ceph.mjs): documents stored
// as objects blobs/<sha256> and nothing under DATA/blobs, downloads and
// Range from the bucket, dedup by "the key exists", a multipart upload,
// fsck (missing object, re-hash), gc of unreferenced objects, backup and
// restore with the blobs left in the bucket, SIGKILL mid-upload, and a
// proxy that fails, throttles, cuts or delays the store's answers.
import { test, before, after } from 'node:test';
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Server, tempDir, runConsort, consortBin, freePort } from './lib/server.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';
import { sql } from './lib/accounts.mjs';
import { startCeph, s3curl, listKeys, faultProxy, makeCa } from './lib/ceph.mjs';
import { startClamd } from './lib/clamd.mjs';
import net from 'node:net';

let ceph;
before(async () => {
  ceph = await startCeph();
  process.env.AWS_ACCESS_KEY_ID = ceph.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = ceph.secretKey;
  if (ceph.startSeconds) console.log(`# Ceph cold start: ${ceph.startSeconds.toFixed(1)} s`);
});
after(async () => { await ceph?.stop(); });

const bucketName = () => `consort-t-${randomBytes(5).toString('hex')}`;

async function s3Server(endpoint, bucket, extra = []) {
  return new Server({ args: ['--blob-store', 's3', '--s3-endpoint', endpoint, '--s3-bucket', bucket,
    '--gc-interval', '0', ...extra] }).start();
}

function localBlobFiles(dataDir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${d}/${e.name}`); else out.push(`${d}/${e.name}`);
    }
  };
  walk(`${dataDir}/blobs`);
  return out;
}

const doc = (name) => `/api/v1/wps/WP1/content/${name}`;
// Content over the small-content threshold (64 KiB): smaller content lives
// in the database (storage/smallblob.h), never in the bucket.
const over = (text) => Buffer.from(`${text}\n${'.'.repeat(70 * 1024)}`);

test('documents live in the bucket: upload, download, Range, dedup, multipart', async () => {
  const bucket = bucketName();
  const s = await s3Server(ceph.endpoint, bucket);
  try {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    const small = Buffer.from('hello from consort on ceph\n'.repeat(3000));
    let r = await apiJson(s, w, 'PUT', doc('a.txt'), { body: small });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(small)}`]);
    assert.deepEqual(localBlobFiles(s.dataDir), []);
    assert.match(readFileSync(`${s.dataDir}/blob-store`, 'utf8'), new RegExp(`bucket = ${bucket}`));
    // Small content stays in the database: no request to the bucket.
    const tiny = Buffer.from('a small note on ceph\n');
    r = await apiJson(s, w, 'PUT', doc('tiny.txt'), { body: tiny });
    assert.equal(r.status, 201);
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(small)}`]);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM small_blobs')[0].n, 1);
    assert.equal(await (await api(s, w, 'GET', doc('tiny.txt'))).text(), tiny.toString());

    let g = await api(s, w, 'GET', doc('a.txt'));
    assert.equal(g.status, 200);
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), small);
    g = await api(s, w, 'GET', doc('a.txt'), { headers: { range: 'bytes=6-15' } });
    assert.equal(g.status, 206);
    assert.equal(await g.text(), small.subarray(6, 16).toString());

    // The same content again: one object.
    r = await apiJson(s, w, 'PUT', doc('copy.txt'), { body: small });
    assert.equal(r.status, 201);
    assert.equal((await listKeys(ceph, bucket)).length, 1);

    // 40 MiB: a multipart upload of three parts, completed under the hash.
    const big = randomBytes(40 * 1024 * 1024 + 123);
    r = await apiJson(s, w, 'PUT', doc('big.bin'), { body: big });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const head = await s3curl(ceph, 'HEAD', `/${bucket}/blobs/${sha256(big)}`, ['-I']);
    assert.match(head.body, new RegExp(`content-length: ${big.length}`, 'i'));
    assert.match(head.body, /etag: "[0-9a-f]+-3"/i); // three parts
    g = await api(s, w, 'GET', doc('big.bin'));
    assert.equal(sha256(Buffer.from(await g.arrayBuffer())), sha256(big));
    g = await api(s, w, 'GET', doc('big.bin'), { headers: { range: `bytes=${big.length - 10}-` } });
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), big.subarray(big.length - 10));
    // No multipart upload left behind, nothing spooled.
    const ups = await s3curl(ceph, 'GET', `/${bucket}?uploads=`);
    assert.doesNotMatch(ups.body, /<Upload>/);
    assert.deepEqual(readdirSync(`${s.dataDir}/tmp`), []);
    const m = await (await s.fetch('/metrics')).text();
    assert.match(m, /consort_blob_store_requests_total [1-9]/);
    // Search: the extraction helper reads a copy fetched from the bucket.
    r = await apiJson(s, w, 'PUT', doc('findme.txt'), { body: 'the quixotic zeppelin of ceph\n' });
    assert.equal(r.status, 201);
    let hits = [];
    for (let i = 0; i < 100 && hits.length === 0; i++) {
      const q = await apiJson(s, w, 'GET', '/api/v1/search?q=quixotic');
      assert.equal(q.status, 200);
      hits = q.body.hits;
      if (!hits.length) await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(hits.map((h) => h.path), ['findme.txt']);
    // The diff of two versions reads both from the bucket too.
    r = await apiJson(s, w, 'PUT', doc('findme.txt'), { body: 'the quixotic red zeppelin of ceph\n' });
    assert.equal(r.status, 200);
    const d = await apiJson(s, w, 'GET', '/api/v1/wps/WP1/diff/findme.txt?from=1&to=2');
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.deepEqual(d.body.stats, { deleted: 0, inserted: 1 });
    assert.deepEqual(readdirSync(`${s.dataDir}/tmp`), []);
  } finally {
    await s.close();
  }
});

test('fsck, gc, backup and restore with the blobs in the bucket', async () => {
  const bucket = bucketName();
  const s = await s3Server(ceph.endpoint, bucket);
  const dest = tempDir() + '/backup';
  const restored = tempDir() + '/data';
  try {
    const { tokens } = await consortium(s);
    const kept = over('kept content');
    const gone = over('content whose object disappears');
    assert.equal((await apiJson(s, tokens.writer, 'PUT', doc('kept.txt'), { body: kept })).status, 201);
    let r = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // An unreferenced object: gc deletes it; referenced ones stay.
    const stray = sha256(Buffer.from('stray'));
    assert.equal((await s3curl(ceph, 'PUT', `/${bucket}/blobs/${stray}`, ['--data-binary', 'stray'])).status, 200);
    r = runConsort(['gc', '--data', s.dataDir, '--grace', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1 of 2 blob\(s\) deleted/);
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(kept)}`]);

    // Backup keeps the blobs in the bucket; restore points at it.
    r = runConsort(['backup', dest, '--data', s.dataDir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(`${dest}/blob-store`, 'utf8'), /store = s3/);
    r = runConsort(['restore', dest, '--data', restored]);
    assert.equal(r.status, 0, r.stdout + r.stderr);

    // A referenced object removed behind consort's back: fsck says which.
    assert.equal((await apiJson(s, tokens.writer, 'PUT', doc('gone.txt'), { body: gone })).status, 201);
    await s3curl(ceph, 'DELETE', `/${bucket}/blobs/${sha256(gone)}`);
    r = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`missing blob ${sha256(gone)}`));
    // A damaged object (right name, wrong content): the re-hash finds it.
    await s3curl(ceph, 'PUT', `/${bucket}/blobs/${sha256(gone)}`, ['--data-binary', 'not the content']);
    r = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`corrupt blob ${sha256(gone)}`));
    // A sample of 100 % is the full re-hash; the report says how much
    // was read. --quick reads nothing (it sees the wrong size only).
    r = runConsort(['fsck', '--data', s.dataDir, '--rehash-sample', '100']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`corrupt blob ${sha256(gone)}`));
    assert.match(r.stdout, /fsck: (\d+) blob\(s\), \1 re-hashed \([1-9]\d* bytes; sample 100%\)/);
    r = runConsort(['fsck', '--data', s.dataDir, '--quick']);
    assert.doesNotMatch(r.stdout, /corrupt blob/);
    assert.match(r.stdout, /, 0 re-hashed \(0 bytes; sample 0%\)/);
    for (const bad of [['--rehash-sample', '0'], ['--rehash-sample', '101'], ['--rehash-sample', 'half'],
      ['--quick', '--rehash-sample', '5']]) {
      r = runConsort(['fsck', '--data', s.dataDir, ...bad]);
      assert.equal(r.status, 2, bad.join(' '));
      assert.match(r.stderr, /rehash-sample/);
    }
  } finally {
    await s.close();
    rmSync(dest, { recursive: true, force: true });
    rmSync(restored, { recursive: true, force: true });
  }
});

// gc of the live bucket would hollow out a backup that leaves its blobs
// there. --to-bucket copies them inside the store into a bucket of the
// backup's own, which the backup's blob-store names; a second backup
// copies only what is new; a restore reads from that bucket and has
// everything even when the live bucket lost it all.
test('backup --to-bucket copies the blobs inside the store; a restore from it outlives the live bucket', async () => {
  const live = bucketName();
  const kept = bucketName();
  const s = await s3Server(ceph.endpoint, live);
  const dest1 = tempDir() + '/backup1';
  const dest2 = tempDir() + '/backup2';
  const bad = tempDir() + '/bad';
  const restored = tempDir() + '/data';
  let s2;
  try {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    const a = over('first'), b = over('second'), c = over('third'), small = Buffer.from('small text\n');
    for (const [name, body] of [['a.txt', a], ['b.txt', b], ['small.txt', small]])
      assert.equal((await apiJson(s, w, 'PUT', doc(name), { body })).status, 201);

    let r = runConsort(['backup', dest1, '--data', s.dataDir, '--to-bucket', kept]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`2 blob\\(s\\) in bucket ${kept}, 2 copied there now`));
    assert.deepEqual((await listKeys(ceph, kept)).sort(), [`blobs/${sha256(a)}`, `blobs/${sha256(b)}`].sort());
    assert.match(readFileSync(`${dest1}/blob-store`, 'utf8'), new RegExp(`bucket = ${kept}`));

    assert.equal((await apiJson(s, w, 'PUT', doc('c.txt'), { body: c })).status, 201);
    r = runConsort(['backup', dest2, '--data', s.dataDir, '--to-bucket', kept]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`3 blob\\(s\\) in bucket ${kept}, 1 copied there now`));

    // Bad input: nothing written, a clear line.
    r = runConsort(['backup', bad, '--data', s.dataDir, '--to-bucket', live]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /must not be the live bucket/);
    assert.ok(!existsSync(bad) || readdirSync(bad).length === 0, 'nothing written');
    r = runConsort(['backup', bad, '--data', s.dataDir, '--to-bucket']);
    assert.equal(r.status, 2);
    const local = tempDir();
    runConsort(['partner', 'add', '--data', local, '--short', 'L', '--name', 'L', '--country', 'DE']);
    r = runConsort(['backup', bad, '--data', local, '--to-bucket', kept]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /keeps its blobs in DATA\/blobs/);
    rmSync(local, { recursive: true, force: true });

    // The live bucket loses every object; the backup does not care.
    for (const key of await listKeys(ceph, live)) await s3curl(ceph, 'DELETE', `/${live}/${key}`);
    await s.close();
    r = runConsort(['restore', dest2, '--data', restored]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    s2 = await new Server({ dataDir: restored, args: ['--blob-store', 's3', '--s3-endpoint', ceph.endpoint,
      '--s3-bucket', kept, '--gc-interval', '0'] }).start();
    for (const [name, body] of [['a.txt', a], ['b.txt', b], ['c.txt', c], ['small.txt', small]]) {
      const got = await api(s2, w, 'GET', doc(name));
      assert.equal(got.status, 200, name);
      assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(body), name);
    }
  } finally {
    await s.close();
    if (s2) await s2.close();
    for (const d of [dest1, dest2, bad, restored]) rmSync(d, { recursive: true, force: true });
  }
});

// Virtual-host addressing: the bucket in the host name
// (BUCKET.localhost, which curl resolves to loopback itself; radosgw
// knows its name from `rgw dns name`), as clouds want it.
test('virtual-host addressing: the bucket is in the host name', async () => {
  const bucket = bucketName();
  // Through the pass-through proxy, which sees the Host of every request.
  const proxy = await faultProxy(ceph.endpoint);
  const endpoint = proxy.url.replace('//127.0.0.1:', '//localhost:');
  assert.notEqual(endpoint, proxy.url, 'the proxy is on 127.0.0.1');
  const s = await s3Server(endpoint, bucket, ['--s3-addressing', 'virtual']);
  try {
    const { tokens } = await consortium(s);
    const big = over('virtual host');
    assert.equal((await apiJson(s, tokens.writer, 'PUT', doc('v.txt'), { body: big })).status, 201);
    const got = await api(s, tokens.writer, 'GET', doc('v.txt'));
    assert.equal(got.status, 200);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(big));
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(big)}`]);
    assert.match(readFileSync(`${s.dataDir}/blob-store`, 'utf8'), /addressing = virtual/);
    assert.deepEqual([...proxy.state.hosts], [`${bucket}.${new URL(endpoint).host}`]);
    assert.ok(proxy.state.paths.length > 0 && proxy.state.paths.every((p) => !p.startsWith(`/${bucket}`)),
      proxy.state.paths.join(' '));
  } finally {
    await s.close();
    await proxy.close();
  }
});

test('a bad S3 configuration is refused at start with a clear message', async () => {
  const cases = [
    [['--blob-store', 's3', '--s3-bucket', 'b'], /blob-store = s3 needs s3-endpoint and s3-bucket/],
    [['--blob-store', 's3', '--s3-endpoint', 'http://example.org', '--s3-bucket', 'b'], /https/],
    [['--blob-store', 'tape'], /blob-store must be local or s3/],
    [['--blob-store', 's3', '--s3-endpoint', ceph.endpoint, '--s3-bucket', 'Bad_Name'], /lower-case bucket/],
  ];
  for (const [args, re] of cases) {
    const data = tempDir();
    const r = runConsort(['serve', '--data', data, '--listen', '127.0.0.1:0', ...args]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, re);
    rmSync(data, { recursive: true, force: true });
  }
  // Wrong keys: the store's refusal, named.
  const data = tempDir();
  const saved = process.env.AWS_SECRET_ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
  try {
    const r = runConsort(['serve', '--data', data, '--listen', '127.0.0.1:0', '--blob-store', 's3',
      '--s3-endpoint', ceph.endpoint, '--s3-bucket', bucketName()]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /refused the keys/);
  } finally {
    process.env.AWS_SECRET_ACCESS_KEY = saved;
    rmSync(data, { recursive: true, force: true });
  }
});

test('faults: 500, 503, SlowDown and cut connections fail uploads with 503; nothing half-stored', async () => {
  const proxy = await faultProxy(ceph.endpoint);
  const bucket = bucketName();
  // One event loop, so one commit queue: one thread commits at a time.
  const s = await s3Server(proxy.url, bucket, ['--workers', '1']);
  try {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    for (const mode of ['500', '503', 'slowdown', 'cut']) {
      proxy.state.mode = mode;
      for (const [name, size] of [['small', 100 * 1024], ['large', 20 * 1024 * 1024]]) {
        const body = randomBytes(size);
        const seen = proxy.state.seen;
        const t0 = Date.now();
        const r = await apiJson(s, w, 'PUT', doc(`${mode}-${name}.bin`), { body });
        assert.equal(r.status, 503, `${mode} ${name}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, 'store_unavailable');
        assert.ok(proxy.state.seen - seen >= 5, 'retried with backoff');
        assert.ok(Date.now() - t0 >= 1000, 'backoff took time');
        proxy.state.mode = 'pass';
        assert.equal((await api(s, w, 'GET', doc(`${mode}-${name}.bin`))).status, 404);
        proxy.state.mode = mode;
      }
    }
    // /healthz: the store failing after its retries makes the node unavailable.
    let h = await s.fetch('/healthz');
    assert.equal(h.status, 503);
    assert.equal((await h.json()).blobs, 'error');
    const m = await (await s.fetch('/metrics')).text();
    assert.match(m, /consort_blob_store_errors_total [1-9]/);
    assert.match(m, /consort_blob_store_retries_total [1-9]/);
    proxy.state.mode = 'pass';
    assert.deepEqual(await listKeys(ceph, bucket), []);
    assert.deepEqual(readdirSync(`${s.dataDir}/tmp`), []);
    // A slow store only slows; a transient failure is retried away.
    proxy.state.mode = 'delay';
    proxy.state.delayMs = 300;
    assert.equal((await apiJson(s, w, 'PUT', doc('slow.txt'), { body: over('slow but fine') })).status, 201);
    // The HEAD that confirms an object after its commit is not made on
    // the thread that commits: the checks of uploads committed together
    // overlap (one after the other, each held back the next batch).
    proxy.state.maxConfirmsInFlight = 0;
    const together = Array.from({ length: 8 }, () => randomBytes(100 * 1024));
    const rs = await Promise.all(together.map((body, i) => apiJson(s, w, 'PUT', doc(`together-${i}.bin`), { body })));
    assert.deepEqual(rs.map((r) => r.status), together.map(() => 201));
    assert.ok(proxy.state.maxConfirmsInFlight >= 4, `confirmations at once: ${proxy.state.maxConfirmsInFlight}`);
    // Parts go several at once (s3-parallel-parts, default 4): the 3
    // parts of a slow store's upload overlap.
    const three = randomBytes(2 * 16 * 1024 * 1024 + 1000);
    proxy.state.maxPartsInFlight = 0;
    assert.equal((await apiJson(s, w, 'PUT', doc('three.bin'), { body: three })).status, 201);
    assert.ok(proxy.state.maxPartsInFlight >= 2, `parts in flight: ${proxy.state.maxPartsInFlight}`);
    proxy.state.mode = 'pass';
    assert.equal(sha256(Buffer.from(await (await api(s, w, 'GET', doc('three.bin'))).arrayBuffer())),
      sha256(three));
    // One part failing while the others succeed: the upload is refused and aborted.
    proxy.state.failPart = 2;
    const failing = randomBytes(16 * 1024 * 1024 + 10);
    const fr = await apiJson(s, w, 'PUT', doc('failing.bin'), { body: failing });
    assert.equal(fr.status, 503, JSON.stringify(fr.body));
    assert.equal(fr.body.error, 'store_unavailable');
    proxy.state.failPart = 0;
    assert.ok(!(await listKeys(ceph, bucket)).includes(`blobs/${sha256(failing)}`));
    assert.doesNotMatch((await s3curl(ceph, 'GET', `/${bucket}?uploads=`)).body, /<Upload>/);
    assert.deepEqual(readdirSync(`${s.dataDir}/tmp`), []);
    assert.equal((await api(s, w, 'GET', doc('failing.bin'))).status, 404);
    const ok = over('after the store came back');
    assert.equal((await apiJson(s, w, 'PUT', doc('ok.txt'), { body: ok })).status, 201);
    const g = await api(s, w, 'GET', doc('ok.txt'));
    assert.equal(await g.text(), ok.toString());
    h = await s.fetch('/healthz');
    assert.equal(h.status, 200);
    assert.equal((await h.json()).blobs, 'ok');
    // Downloads while the store is down: 503, not a broken body.
    proxy.state.mode = '503';
    const d = await api(s, w, 'GET', doc('ok.txt'));
    assert.equal(d.status, 503);
    proxy.state.mode = 'pass';
    // fsck reads through the configured endpoint (the proxy, served by
    // this process: run it without blocking the event loop)
    const r = await new Promise((resolve) => execFile(consortBin, ['fsck', '--data', s.dataDir],
      (err, stdout, stderr) => resolve({ status: err ? err.code : 0, stdout, stderr })));
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    proxy.state.mode = 'pass';
    await s.close();
    await proxy.close();
  }
});

test('SIGKILL during uploads: restart, no orphan that fsck reports, stale multipart aborted', async () => {
  const bucket = bucketName();
  const s = await s3Server(ceph.endpoint, bucket);
  try {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    const done = over('acknowledged before the crash');
    assert.equal((await apiJson(s, w, 'PUT', doc('done.txt'), { body: done })).status, 201);
    const big = randomBytes(48 * 1024 * 1024);
    const pending = api(s, w, 'PUT', doc('big.bin'), { body: big }).catch(() => null);
    // Kill while parts are going up.
    const until = Date.now() + 20000;
    while (Date.now() < until) {
      const ups = await s3curl(ceph, 'GET', `/${bucket}?uploads=`);
      if (/<Upload>/.test(ups.body)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await s.stop('SIGKILL');
    await pending;
    s.proc = null;
    await s.start();
    // At start, spooled temp files go and stale multipart uploads are aborted.
    assert.deepEqual(readdirSync(`${s.dataDir}/tmp`), []);
    const ups = await s3curl(ceph, 'GET', `/${bucket}?uploads=`);
    assert.doesNotMatch(ups.body, /<Upload>/);
    const g = await api(s, w, 'GET', doc('done.txt'));
    assert.equal(await g.text(), done.toString());
    const r = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    await s.close();
  }
});

test('consort blobs migrate --to s3 moves a local store into a bucket, verified by fsck', async () => {
  const bucket = bucketName();
  const s = await new Server({ args: ['--gc-interval', '0'] }).start();
  try {
    const { tokens } = await consortium(s);
    const a = over('a local blob before the migration');
    assert.equal((await apiJson(s, tokens.writer, 'PUT', doc('a.txt'), { body: a })).status, 201);
    await s.stop();
    // Refused: an unknown target, a missing bucket.
    let r = runConsort(['blobs', 'migrate', '--to', 'tape', '--data', s.dataDir]);
    assert.equal(r.status, 2);
    r = runConsort(['blobs', 'migrate', '--to', 's3', '--data', s.dataDir, '--s3-endpoint', ceph.endpoint]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--s3-bucket are required/);
    // Starting on S3 before migrating would lose the local blobs: refused.
    const early = runConsort(['serve', '--data', s.dataDir, '--listen', '127.0.0.1:0', '--blob-store', 's3',
      '--s3-endpoint', ceph.endpoint, '--s3-bucket', bucket]);
    assert.notEqual(early.status, 0);
    assert.match(early.stderr, /blobs migrate --to s3/);
    r = runConsort(['blobs', 'migrate', '--to', 's3', '--data', s.dataDir, '--s3-endpoint', ceph.endpoint,
      '--s3-bucket', bucket]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1 blob\(s\) copied/);
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(a)}`]);
    r = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    rmSync(`${s.dataDir}/blobs`, { recursive: true, force: true });
    await s.start();
    const g = await api(s, tokens.writer, 'GET', doc('a.txt'));
    assert.equal(await g.text(), a.toString());
  } finally {
    await s.close();
  }
});

// /metrics as numbers by name.
async function metrics(s) {
  const text = await (await s.fetch('/metrics')).text();
  return Object.fromEntries(text.split('\n').filter((l) => l && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

// Wait until the indexer is idle and nothing else asks the store: the
// indexer reads new blobs (and fills the cache) in the background.
async function settle(s) {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const m = await metrics(s);
    if (m.consort_index_queue_depth === 0 && m.consort_blob_store_requests_total === last) return;
    last = m.consort_blob_store_requests_total;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error('the store is still being asked after 30 s');
}

const cacheFiles = (dataDir) => readdirSync(`${dataDir}/cache`).filter((n) => !n.startsWith('.'));
const cacheBytes = (dataDir) => cacheFiles(dataDir)
  .reduce((n, f) => n + statSync(`${dataDir}/cache/${f}`).size, 0);

test('read cache: a second download makes no request, the bound holds, damage is not served', async () => {
  const bucket = bucketName();
  const bound = 300 * 1024;
  const s = await s3Server(ceph.endpoint, bucket, ['--s3-cache-size', String(bound)]);
  try {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    // Three blobs of ~130 KiB (over the small-content tier): two fit.
    const bodies = ['a', 'b', 'c'].map(() => randomBytes(130 * 1024));
    for (const [i, b] of bodies.entries()) {
      const r = await apiJson(s, w, 'PUT', doc(`c${i}.bin`), { body: b });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    await settle(s);
    const get = async (i, headers = {}) => {
      const g = await api(s, w, 'GET', doc(`c${i}.bin`), { headers });
      return { status: g.status, body: Buffer.from(await g.arrayBuffer()) };
    };
    // A Range read of a blob not cached fills nothing.
    const before = cacheFiles(s.dataDir).length;
    let g = await get(0, { range: 'bytes=100-199' });
    assert.equal(g.status, 206);
    assert.deepEqual(g.body, bodies[0].subarray(100, 200));
    assert.ok(!cacheFiles(s.dataDir).includes(sha256(bodies[0])) || before > 0);
    // A whole download fills; the next one (and a Range) makes no request.
    g = await get(0);
    assert.deepEqual(g.body, bodies[0]);
    assert.ok(cacheFiles(s.dataDir).includes(sha256(bodies[0])));
    let m0 = await metrics(s);
    g = await get(0);
    assert.deepEqual(g.body, bodies[0]);
    g = await get(0, { range: 'bytes=1000-1999' });
    assert.deepEqual(g.body, bodies[0].subarray(1000, 2000));
    let m1 = await metrics(s);
    assert.equal(m1.consort_blob_store_requests_total, m0.consort_blob_store_requests_total);
    assert.equal(m1.consort_blob_store_received_bytes_total, m0.consort_blob_store_received_bytes_total);
    assert.equal(m1.consort_blob_cache_hits_total, m0.consort_blob_cache_hits_total + 2);

    // The bound: three blobs do not fit in 300 KiB; the least recently used goes.
    for (const i of [1, 2]) assert.deepEqual((await get(i)).body, bodies[i]);
    assert.ok(cacheBytes(s.dataDir) <= bound, `${cacheBytes(s.dataDir)} > ${bound}`);
    assert.deepEqual(cacheFiles(s.dataDir).sort(), [sha256(bodies[1]), sha256(bodies[2])].sort());
    m1 = await metrics(s);
    assert.ok(m1.consort_blob_cache_evictions_total >= 1);
    assert.ok(m1.consort_blob_cache_bytes <= bound);

    // A cached file changed on disk (same size) is dropped, never served.
    const f = `${s.dataDir}/cache/${sha256(bodies[2])}`;
    const fd = openSync(f, 'r+');
    writeSync(fd, Buffer.from('XXXX'), 0, 4, 5000);
    closeSync(fd);
    m0 = await metrics(s);
    g = await get(2);
    assert.deepEqual(g.body, bodies[2]);
    m1 = await metrics(s);
    assert.equal(m1.consort_blob_cache_dropped_total, m0.consort_blob_cache_dropped_total + 1);
    assert.ok(m1.consort_blob_store_requests_total > m0.consort_blob_store_requests_total);
    // ...and filled again from the store, good.
    assert.equal(sha256(readFileSync(f)), sha256(bodies[2]));

    // After a restart the files are re-hashed on first use: one damaged
    // while the server was down is dropped; the other is served.
    await s.restart();
    await settle(s);
    const fd2 = openSync(f, 'r+');
    writeSync(fd2, Buffer.from('YYYY'), 0, 4, 7000);
    closeSync(fd2);
    m0 = await metrics(s);
    assert.deepEqual((await get(1)).body, bodies[1]);
    assert.deepEqual((await get(2)).body, bodies[2]);
    m1 = await metrics(s);
    assert.equal(m1.consort_blob_cache_dropped_total, 1);
    assert.equal(m1.consort_blob_cache_hits_total, 1);
    assert.equal(sha256(readFileSync(f)), sha256(bodies[2]));
    // No fill left over, nothing spooled.
    assert.deepEqual(readdirSync(`${s.dataDir}/cache`).filter((n) => n.startsWith('.')), []);
    assert.deepEqual(readdirSync(`${s.dataDir}/tmp`), []);
  } finally {
    await s.close();
  }
});

// The crash suite on the bucket (issue 22): store_durability's SIGKILL
// test reads DATA/blobs and takes minutes; this one is its S3 form, cheap
// enough for deploy/test. Each round sends concurrent uploads (most over
// the small-content threshold, so they go to the bucket; some small ones;
// one multipart body) and kills the server at a random moment. After each
// restart: no spooled temp file, no multipart upload left, fsck clean
// (objects of uploads cut before their commit are gc's, not damage), and
// every version acknowledged so far downloads with its bytes.
// CONSORT_S3_CRASH_ROUNDS sets the number of kills (5; under the
// sanitizers 0 unless set: deploy/test runs it on the normal build).
const crashRounds = Number(process.env.CONSORT_S3_CRASH_ROUNDS ?? (process.env.CONSORT_SANITIZED ? 0 : 5));
test('crash: SIGKILL at random moments under concurrent uploads to the bucket loses nothing acknowledged', { timeout: 10 * 60 * 1000, skip: crashRounds === 0 && 'CONSORT_S3_CRASH_ROUNDS=0' }, async () => {
  const rounds = crashRounds;
  const bucket = bucketName();
  const s = await s3Server(ceph.endpoint, bucket);
  try {
    const { tokens } = await consortium(s);
    const writers = [tokens.writer, tokens.other, tokens.manager];
    const acked = new Map(); // "name#version" → sha256
    const inflight = new Set(); // sha256 of every body sent
    let killedMidMultipart = 0;
    for (let round = 0; round < rounds; round++) {
      const requests = [];
      // Odd rounds: killed while the multipart upload is in the bucket;
      // even rounds: killed from the answer that makes killAt of this
      // round (so the others are mid-body, storing or committing).
      const midMultipart = round % 2 === 1;
      const killAt = 1 + Math.floor(Math.random() * 26);
      let answered = 0;
      const kill = () => { if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL'); };
      for (let i = 0; i < 30; i++) {
        const name = `crash/doc-${(round * 7 + i) % 20}.bin`;
        const size = i === 0 ? 20 * 1024 * 1024 + 17 // multipart (16 MiB parts)
          : i % 4 === 1 ? 1 + Math.floor(Math.random() * 60 * 1024) // small tier
            : 65 * 1024 + Math.floor(Math.random() * 400 * 1024);
        const body = randomBytes(size);
        const hash = sha256(body);
        inflight.add(hash);
        requests.push(apiJson(s, writers[i % writers.length], 'PUT', doc(name), { body })
          .then((r) => {
            assert.ok(r.status === 200 || r.status === 201, `${name}: ${r.status} ${JSON.stringify(r.body)}`);
            assert.equal(r.body.etag, `"${hash}"`);
            acked.set(`${name}#${r.body.version}`, hash);
            if (++answered === killAt && !midMultipart) kill();
          }, () => { /* cut by the kill: not acknowledged */ }));
      }
      if (midMultipart) {
        const until = Date.now() + 30000;
        while (Date.now() < until && s.proc.exitCode === null) {
          if (/<Upload>/.test((await s3curl(ceph, 'GET', `/${bucket}?uploads=`)).body)) {
            killedMidMultipart++;
            break;
          }
          await new Promise((res) => setTimeout(res, 10));
        }
        kill();
      } else {
        await Promise.race([s.exited, new Promise((res) => setTimeout(res, 30000))]);
        kill();
      }
      await s.exited;
      await Promise.all(requests);
      s.proc = null;
      await s.start();
      // The start removed the spooled files and aborted the multipart
      // uploads the kill interrupted. (The indexer's short-lived copies
      // for its extractor, cas-export-* and cas-copy-*, come and go as it
      // works through its queue after the restart.)
      assert.deepEqual(readdirSync(`${s.dataDir}/tmp`).filter((f) => !/^cas-(export|copy)-/.test(f)), [],
        `temp files after restart ${round + 1}`);
      assert.doesNotMatch((await s3curl(ceph, 'GET', `/${bucket}?uploads=`)).body, /<Upload>/,
        `multipart upload left after restart ${round + 1}`);
      // A fifth of the objects re-hashed each round, all of them at the end.
      const f = runConsort(['fsck', '--data', s.dataDir, '--rehash-sample', '20']);
      assert.equal(f.status, 0, `fsck after kill ${round + 1}:\n${f.stdout}${f.stderr}`);
      for (const [key, hash] of acked) {
        const [name, version] = key.split('#');
        const g = await api(s, tokens.reader, 'GET', `${doc(name)}?version=${version}`);
        assert.equal(g.status, 200, `${key} after restart ${round + 1}`);
        assert.equal(sha256(Buffer.from(await g.arrayBuffer())), hash, `${key} after restart ${round + 1}`);
      }
    }
    assert.ok(acked.size >= rounds, `uploads were acknowledged (${acked.size})`);
    // Every version is an acknowledged one or a complete upload whose
    // answer the kill cut: never a torn or foreign one.
    const rows = sql(s, 'SELECT n.name, v.number, v.blob FROM versions v JOIN nodes n ON n.id = v.node_id');
    for (const r of rows) {
      if (!acked.has(`crash/${r.name}#${r.number}`)) assert.ok(inflight.has(r.blob), `unexpected version ${r.name}#${r.number}`);
    }
    for (const [key, hash] of acked) {
      const [name, version] = key.split('#');
      const row = rows.find((r) => `crash/${r.name}` === name && r.number === Number(version));
      assert.equal(row?.blob, hash, `acknowledged ${key}`);
    }
    const big = sql(s, 'SELECT count(*) AS n FROM versions WHERE blob NOT IN (SELECT hash FROM small_blobs)')[0].n;
    assert.ok(big > 0, 'versions in the bucket');
    const f = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(f.status, 0, f.stdout + f.stderr);
    console.log(`# s3 crash: ${rounds} kills (${killedMidMultipart} during a multipart upload), ${acked.size} acknowledged, ${rows.length} versions, ${big} in the bucket`);
  } finally {
    await s.close();
  }
});

// consort rescan streams each blob to clamd: from the bucket, through a
// local copy it removes after the scan; small content from the database.
test('rescan finds what a new signature matches in the bucket and in the database', async () => {
  const bucket = bucketName();
  const clamd = await startClamd();
  const s = await s3Server(ceph.endpoint, bucket);
  try {
    const { tokens } = await consortium(s);
    const marker = 'consort-s3-rescan-marker-51d0';
    const bigBad = over(`large ${marker}`);
    const smallBad = Buffer.from(`small ${marker}`);
    const clean = over('large and clean');
    for (const [name, body] of [['big-bad.txt', bigBad], ['small-bad.txt', smallBad], ['clean.txt', clean]])
      assert.equal((await apiJson(s, tokens.writer, 'PUT', doc(name), { body })).status, 201);
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(bigBad)}`, `blobs/${sha256(clean)}`].sort());
    await clamd.addSignature('Consort.Test.S3', marker);
    const r = runConsort(['rescan', '--data', s.dataDir, '--clamd-socket', clamd.sock, '--rate', '0']);
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`infected ${sha256(bigBad)} Consort.Test.S3`));
    assert.match(r.stdout, new RegExp(`infected ${sha256(smallBad)} Consort.Test.S3`));
    assert.match(r.stdout, /3 blob\(s\) scanned: 1 clean, 2 infected, 0 unscannable, 0 missing/);
    assert.deepEqual(readdirSync(`${s.dataDir}/tmp`).filter((f) => /copy/.test(f)), [], 'no copy left behind');
    for (const [name, scan] of [['big-bad.txt', 'infected'], ['small-bad.txt', 'infected'], ['clean.txt', 'clean']])
      assert.equal((await apiJson(s, tokens.writer, 'GET', `/api/v1/wps/WP1/tree/${name}`)).body.scan, scan, name);
  } finally {
    await s.close();
    await clamd.stop();
    clamd.cleanup();
  }
});

// A TCP door to a real clamd (lib/clamd.mjs) that can be shut: a scan
// that arrives while it is shut waits until it opens. The upload is then
// between storing its blob (the dedup HEAD done) and its commit.
async function clamdDoor(sock) {
  const state = { shut: false, waiting: 0, open: null };
  let opened = Promise.resolve();
  const server = net.createServer(async (c) => {
    c.pause();
    if (state.shut) {
      state.waiting++;
      await opened;
      state.waiting--;
    }
    const up = net.createConnection(sock);
    up.on('error', () => c.destroy());
    c.on('error', () => up.destroy());
    c.pipe(up);
    up.pipe(c);
    c.resume();
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${port}`, state,
    shut() { state.shut = true; opened = new Promise((r) => { state.open = r; }); },
    open() { state.shut = false; state.open?.(); },
    close: () => new Promise((r) => server.close(r)),
  };
}

test('gc cannot delete an object an upload has found and not yet referenced (the S3 hold)', { timeout: 5 * 60 * 1000 }, async () => {
  const clamd = await startClamd();
  const door = await clamdDoor(clamd.sock);
  const bucket = bucketName();
  const s = await s3Server(ceph.endpoint, bucket, ['--clamd-address', door.address]);
  try {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    // Content stored once, then unreferenced: an old orphan for gc.
    const x = over('content gc must not take from under an upload');
    let r = await apiJson(s, w, 'PUT', doc('first.txt'), { body: x });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    r = await apiJson(s, w, 'DELETE', '/api/v1/wps/WP1/tree/first.txt');
    assert.equal(r.status, 200);
    r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${r.body.trash_id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(x)}`]);

    // The same content again: deduplicated against the orphan, and held
    // in its scan, before the commit that references it.
    door.shut();
    const pending = apiJson(s, w, 'PUT', doc('second.txt'), { body: x }).catch((e) => ({ status: 0, e }));
    const until = Date.now() + 20000;
    while (door.state.waiting === 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
    assert.equal(door.state.waiting, 1, 'the upload reached its scan');
    const gc = await new Promise((resolve) => execFile(consortBin, ['gc', '--data', s.dataDir, '--grace', '0'],
      (err, stdout, stderr) => resolve({ status: err ? err.code : 0, stdout, stderr })));
    assert.equal(gc.status, 0, gc.stderr);
    assert.match(gc.stdout, /0 of 1 blob\(s\) deleted/);
    assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(x)}`], 'gc left the held object');

    // Killed right after the commit, before anything could re-check:
    // the version's object is there.
    door.open();
    const committed = Date.now() + 20000;
    while (Date.now() < committed &&
      sql(s, "SELECT count(*) AS n FROM nodes n JOIN versions v ON v.node_id = n.id WHERE n.name = 'second.txt'")[0].n === 0) {
      await new Promise((res) => setTimeout(res, 2));
    }
    s.proc.kill('SIGKILL');
    await s.exited;
    await pending;
    s.proc = null;
    await s.start();
    const g = await api(s, w, 'GET', doc('second.txt'));
    assert.equal(g.status, 200);
    assert.equal(sha256(Buffer.from(await g.arrayBuffer())), sha256(x));
    const f = runConsort(['fsck', '--data', s.dataDir]);
    assert.equal(f.status, 0, f.stdout + f.stderr);
    // Once referenced and released, gc keeps it for the reference; once
    // unreferenced again, it goes.
    r = await apiJson(s, w, 'DELETE', '/api/v1/wps/WP1/tree/second.txt');
    assert.equal(r.status, 200);
    r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${r.body.trash_id}`);
    assert.equal(r.status, 200);
    const gc2 = runConsort(['gc', '--data', s.dataDir, '--grace', '0']);
    assert.match(gc2.stdout, /1 of 1 blob\(s\) deleted/);
    assert.deepEqual(await listKeys(ceph, bucket), []);
  } finally {
    door.open();
    await s.close();
    await door.close();
    await clamd.stop();
  }
});

// TLS to the store (docs/storage.md "TLS"): radosgw with a certificate
// from a CA made by the test. With s3-ca-file naming that CA the server
// works; without it, or with another CA, it does not start and says why
// (the start HEADs the bucket; a certificate error is not retried).
test('TLS to the store: works with s3-ca-file, refused clearly without it or with a wrong CA', async (t) => {
  if (!ceph.tlsEndpoint) {
    t.skip('the given gateway has no TLS endpoint (CONSORT_S3_TLS_ENDPOINT)');
    return;
  }
  const bucket = bucketName();
  const dir = tempDir('consort-s3tls-');
  const other = makeCa(`${dir}/other`, '127.0.0.1');
  try {
    const refusals = [['no CA', []], ['another CA', ['--s3-ca-file', other.ca]]];
    for (const [what, extra] of refusals) {
      const data = tempDir('consort-s3tls-data-');
      const r = runConsort(['serve', '--data', data, '--listen', '127.0.0.1:0', '--blob-store', 's3',
        '--s3-endpoint', ceph.tlsEndpoint, '--s3-bucket', bucket, ...extra]);
      rmSync(data, { recursive: true, force: true });
      assert.notEqual(r.status, 0, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /TLS certificate is not trusted/, what);
      assert.match(r.stderr, /s3-ca-file names the CA that signed it/, what);
    }
    const s = await s3Server(ceph.tlsEndpoint, bucket, ['--s3-ca-file', ceph.caFile]);
    try {
      const { tokens } = await consortium(s);
      const body = over('over TLS to the gateway');
      const r = await apiJson(s, tokens.writer, 'PUT', doc('tls.txt'), { body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(await listKeys(ceph, bucket), [`blobs/${sha256(body)}`]);
      const g = await api(s, tokens.writer, 'GET', doc('tls.txt'), { headers: { range: 'bytes=0-22' } });
      assert.equal(await g.text(), 'over TLS to the gateway');
      // The maintenance commands use the recorded CA too.
      const f = runConsort(['fsck', '--data', s.dataDir]);
      assert.equal(f.status, 0, f.stdout + f.stderr);
      assert.match(readFileSync(`${s.dataDir}/blob-store`, 'utf8'), new RegExp(`ca-file = ${ceph.caFile}`));
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
