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
import { readdirSync, readFileSync, rmSync, writeFileSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Server, tempDir, runConsort, consortBin } from './lib/server.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';
import { sql } from './lib/accounts.mjs';
import { startCeph, s3curl, listKeys, faultProxy } from './lib/ceph.mjs';

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
  } finally {
    await s.close();
    rmSync(dest, { recursive: true, force: true });
    rmSync(restored, { recursive: true, force: true });
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
  const s = await s3Server(proxy.url, bucket);
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
