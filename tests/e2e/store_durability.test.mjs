// The store's promises, end to end through the HTTP routes (issue 3):
// crashes (SIGKILL at random moments under 200 concurrent uploads), a
// full disk (507, consistent, works again once space is freed),
// deduplication with gc, and a backup taken while uploads run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Server, withServer, runConsort, tempDir, consortBin } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';

const sanitized = !!process.env.CONSORT_SANITIZED;
const MiB = 1024 * 1024;

function fsck(dataDir, { quick = false } = {}) {
  const r = runConsort(['fsck', '--data', dataDir, ...(quick ? ['--quick'] : [])]);
  return { ok: r.status === 0, out: `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}${r.error ? ` (${r.error.message})` : ''}\n${r.stdout}${r.stderr}` };
}

// The same as runConsort, without blocking the event loop (uploads go on
// meanwhile).
function consortAsync(args) {
  return new Promise((resolve) => {
    execFile(consortBin, args, (err, stdout, stderr) => resolve({ status: err ? (err.code ?? -1) : 0, stdout, stderr }));
  });
}

function blobFile(dataDir, hash) {
  return join(dataDir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
}

// Hashes whose content is in the small-content tier (storage/smallblob.h).
function smallHashes(s) {
  return new Set(sql(s, 'SELECT hash FROM small_blobs').map((r) => r.hash));
}

// The stored bytes of a blob, from whichever tier holds it.
function storedContent(dataDir, hash) {
  const hex = execFileSync('sqlite3', [join(dataDir, 'consort.db'),
    `SELECT hex(content) FROM small_blobs WHERE hash = '${hash}'`]).toString().trim();
  if (hex || sqlRowExists(dataDir, hash)) return Buffer.from(hex, 'hex');
  return readFileSync(blobFile(dataDir, hash));
}

function sqlRowExists(dataDir, hash) {
  return execFileSync('sqlite3', [join(dataDir, 'consort.db'),
    `SELECT count(*) FROM small_blobs WHERE hash = '${hash}'`]).toString().trim() === '1';
}

// Every version row, keyed "name#number" → blob hash (names are unique
// within these tests).
function versionsOf(s) {
  const rows = sql(s, 'SELECT n.name, v.number, v.blob FROM versions v JOIN nodes n ON n.id = v.node_id');
  return new Map(rows.map((r) => [`${r.name}#${r.number}`, r.blob]));
}

test('crash: SIGKILL at random moments under 200 concurrent uploads loses nothing acknowledged', { timeout: 20 * 60 * 1000 }, async () => {
  const s = await new Server().start();
  try {
    const { tokens } = await consortium(s);
    const writers = [tokens.writer, tokens.other, tokens.manager];
    const acked = new Map(); // "name#version" → sha256
    const inflight = new Set(); // sha256 of every body sent and not answered
    const kills = 20;
    const docs = 50;
    for (let round = 0; round < kills; round++) {
      const requests = [];
      for (let i = 0; i < 200; i++) {
        const name = `doc-${(round * 7 + i) % docs}.bin`;
        // Mostly small, some large enough to be mid-body at the kill.
        const size = i % 40 === 0 ? MiB + Math.floor(Math.random() * MiB) : Math.floor(Math.random() * 64 * 1024);
        const body = randomBytes(size);
        const hash = sha256(body);
        inflight.add(hash);
        requests.push(apiJson(s, writers[i % writers.length], 'PUT', `/api/v1/wps/WP1/content/crash/${name}`, { body })
          .then((r) => {
            if (r.status === 200 || r.status === 201) {
              assert.equal(r.body.etag, `"${hash}"`);
              acked.set(`${name}#${r.body.version}`, hash);
            } else {
              assert.fail(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
            }
          }, () => { /* cut by the kill: not acknowledged */ }));
      }
      // Kill at a random moment once a random share of the round has
      // been answered, so some uploads are done, some mid-body, some
      // committing.
      const target = acked.size + 20 + Math.floor(Math.random() * (sanitized ? 60 : 160));
      const deadline = Date.now() + 20000;
      while (acked.size < target && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      await new Promise((res) => setTimeout(res, Math.random() * 40));
      s.proc.kill('SIGKILL');
      await s.exited;
      await Promise.all(requests);

      // Down: the store on disk is consistent as the kill left it.
      // Every fifth time with every blob re-hashed; in between the quick
      // form (database, tree, every referenced blob present with its size).
      const f = fsck(s.dataDir, { quick: round % 5 !== 4 });
      assert.ok(f.ok, `fsck after kill ${round + 1}:\n${f.out}`);
      s.proc = null;
      await s.start();
      // The next start removed what the interrupted uploads left.
      // (The indexer's private copies of small content for its extractor,
      // cas-export-*, come and go as it works through the queue.)
      assert.deepEqual(readdirSync(join(s.dataDir, 'tmp')).filter((f) => !f.startsWith('cas-export-')), [], `temp files after restart ${round + 1}`);
    }
    assert.ok(acked.size > 20 * kills, `enough uploads were acknowledged (${acked.size})`);

    // Every acknowledged version is there with its exact bytes.
    const versions = versionsOf(s);
    const small = smallHashes(s);
    let inSmall = 0;
    for (const [key, hash] of acked) {
      assert.equal(versions.get(key), hash, `acknowledged ${key}`);
      // Small content is re-hashed by the full fsck below, files here.
      if (small.has(hash)) inSmall++;
      else assert.equal(sha256(readFileSync(blobFile(s.dataDir, hash))), hash);
    }
    assert.ok(inSmall > acked.size / 2, `the bursts went through the small-content tier (${inSmall} of ${acked.size})`);
    // Any other version is a complete upload that was in flight at a kill
    // (committed, its answer cut): never a torn or foreign one.
    for (const [key, hash] of versions) {
      if (!acked.has(key)) assert.ok(inflight.has(hash), `unexpected version ${key}`);
    }
    // And downloads through the server agree (a sample, for the path
    // through HTTP).
    let n = 0;
    for (const [key, hash] of acked) {
      if (n++ % 25) continue;
      const [name, version] = key.split('#');
      const r = await api(s, tokens.reader, 'GET', `/api/v1/wps/WP1/content/crash/${name}?version=${version}`);
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), hash);
    }
    const f = fsck(s.dataDir);
    assert.ok(f.ok, f.out);
    console.log(`# crash: ${kills} kills, ${acked.size} acknowledged versions, ${versions.size} stored`);
  } finally {
    await s.close();
  }
});

test('full disk: an upload that does not fit gets 507, the store stays consistent, uploads work again once space is freed', async () => {
  const mnt = tempDir('consort-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0700', 'tmpfs', mnt]);
  try {
    const dataDir = join(mnt, 'data');
    await withServer({ dataDir }, async (s) => {
      const { tokens } = await consortium(s);
      const w = tokens.writer;
      const first = randomBytes(4 * MiB);
      let r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/first.bin', { body: first });
      assert.equal(r.status, 201);
      // Fill the filesystem, leaving about 3 MiB.
      const df = () => Number(execFileSync('df', ['--output=avail', '-B1', mnt]).toString().split('\n')[1]);
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, df() - 3 * MiB)));

      // Declared size: refused before the body is read (space is reserved).
      r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/big.bin', { body: randomBytes(8 * MiB) });
      assert.equal(r.status, 507);
      assert.equal(r.body.error, 'insufficient_storage');
      assert.match(r.body.detail, /not enough disk space/);
      // Unknown size (chunked): fails while writing, same answer.
      const chunked = new ReadableStream({
        start(c) { for (let i = 0; i < 8; i++) c.enqueue(randomBytes(MiB)); c.close(); },
      });
      r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/chunked.bin', { body: chunked, duplex: 'half' }).catch((e) => ({ status: 0, error: e }));
      if (r.status !== 0) {
        assert.equal(r.status, 507);
        assert.match(r.body.detail, /not enough disk space/);
      }
      // Nothing half-stored: no temp file, no version, fsck clean.
      assert.deepEqual(readdirSync(join(dataDir, 'tmp')), []);
      assert.deepEqual(sql(s, 'SELECT n.name FROM nodes n JOIN versions v ON v.node_id = n.id').map((x) => x.name), ['first.bin']);
      const f = fsck(dataDir);
      assert.ok(f.ok, f.out);
      // Small things still work, and reads always do.
      r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/first.bin');
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(first));

      rmSync(join(mnt, 'filler'));
      const again = randomBytes(8 * MiB);
      r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/big.bin', { body: again });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/big.bin');
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(again));
      assert.ok(fsck(dataDir).ok);
    });
  } finally {
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test('deduplication: the same content as 10 documents is stored once; gc keeps it until the last is purged', async () => {
  const size = (sanitized ? 20 : 100) * MiB;
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const content = randomBytes(size);
    const hash = sha256(content);
    const trash = [];
    for (let i = 0; i < 10; i++) {
      const r = await apiJson(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/copies/copy-${i}.bin`, { body: content });
      assert.equal(r.status, 201);
      assert.equal(r.body.etag, `"${hash}"`);
    }
    const blobs = () => readdirSync(join(s.dataDir, 'blobs'), { recursive: true })
      .filter((p) => /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(p));
    assert.deepEqual(blobs(), [`${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`], 'one file for ten documents');
    for (let i = 0; i < 10; i++) {
      const r = await apiJson(s, tokens.writer, 'DELETE', `/api/v1/wps/WP1/tree/copies/copy-${i}.bin`);
      assert.equal(r.status, 200);
      trash.push(r.body.trash_id);
    }
    // Purging needs the manage level.
    let r = await apiJson(s, tokens.writer, 'DELETE', `/api/v1/wps/WP1/trash/${trash[0]}`);
    assert.equal(r.status, 403);
    for (const id of trash.slice(0, 9)) {
      r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${id}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.bytes, size);
    }
    let gc = runConsort(['gc', '--data', s.dataDir, '--grace', '0']);
    assert.equal(gc.status, 0, gc.stderr);
    assert.equal(blobs().length, 1, 'still referenced by the tenth');
    assert.equal(sha256(readFileSync(blobFile(s.dataDir, hash))), hash);
    r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${trash[9]}`);
    assert.equal(r.status, 200);
    gc = runConsort(['gc', '--data', s.dataDir, '--grace', '0']);
    assert.equal(gc.status, 0, gc.stderr);
    assert.deepEqual(blobs(), [], 'gone after the last reference');
    assert.equal(sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'purge'")[0].n, 10);
    assert.ok(fsck(s.dataDir).ok);
  });
});

test('small content: one row for the same content as 10 documents, none as a file; gc keeps it until the last is purged; content already stored as a file is referenced there', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const content = randomBytes(10 * 1024);
    const hash = sha256(content);
    const trash = [];
    const blobs = () => readdirSync(join(s.dataDir, 'blobs'), { recursive: true })
      .filter((p) => /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(p));
    for (let i = 0; i < 10; i++) {
      const r = await apiJson(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/smallcopies/copy-${i}.bin`, { body: content });
      assert.equal(r.status, 201);
      assert.equal(r.body.etag, `"${hash}"`);
    }
    assert.deepEqual(blobs(), [], 'no file for small content');
    assert.deepEqual([...smallHashes(s)], [hash], 'one row for ten documents');
    // No temp file from the uploads; the indexer may be extracting from
    // its own short-lived copy (cas-export-*) meanwhile.
    assert.deepEqual(readdirSync(join(s.dataDir, 'tmp')).filter((f) => !f.startsWith('cas-export-')), [],
      'no temp file either');
    let r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/smallcopies/copy-3.bin', { headers: { Range: 'bytes=100-199' } });
    assert.equal(r.status, 206);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), content.subarray(100, 200));
    for (let i = 0; i < 10; i++) {
      r = await apiJson(s, tokens.writer, 'DELETE', `/api/v1/wps/WP1/tree/smallcopies/copy-${i}.bin`);
      assert.equal(r.status, 200);
      trash.push(r.body.trash_id);
    }
    for (const id of trash.slice(0, 9)) {
      r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${id}`);
      assert.equal(r.status, 200);
    }
    let gc = runConsort(['gc', '--data', s.dataDir, '--grace', '0']);
    assert.equal(gc.status, 0, gc.stderr);
    assert.deepEqual([...smallHashes(s)], [hash], 'still referenced by the tenth');
    r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${trash[9]}`);
    assert.equal(r.status, 200);
    gc = runConsort(['gc', '--data', s.dataDir, '--grace', '0']);
    assert.equal(gc.status, 0, gc.stderr);
    assert.deepEqual([...smallHashes(s)], [], 'gone after the last reference');
    assert.ok(fsck(s.dataDir).ok);

    // Small content stored as a file before this tier existed: a new
    // upload of it deduplicates against the file, no row is added.
    const old = randomBytes(4096);
    const oldHash = sha256(old);
    const f = blobFile(s.dataDir, oldHash);
    execFileSync('mkdir', ['-p', join(f, '..')]);
    writeFileSync(f, old, { mode: 0o444 });
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/old.bin', { body: old });
    assert.equal(r.status, 201);
    assert.equal(r.body.etag, `"${oldHash}"`);
    assert.ok(!smallHashes(s).has(oldHash), 'referenced as the file');
    r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/old.bin');
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), old);
    const fk = fsck(s.dataDir);
    assert.ok(fk.ok, fk.out);
  });
});

test('backup while uploads run restores to a store that passes fsck and holds every version acknowledged before it began', async () => {
  const dest = join(tempDir('consort-backup-'), 'b');
  const restored = tempDir('consort-restored-');
  rmSync(restored, { recursive: true, force: true });
  try {
    await withServer({}, async (s) => {
      const { tokens } = await consortium(s);
      const acked = []; // {name, version, hash, at}
      let stop = false;
      const loop = async (token, k) => {
        for (let i = 0; !stop; i++) {
          const body = randomBytes(16 * 1024 + Math.floor(Math.random() * 256 * 1024));
          const name = `b-${k}-${i % 10}.bin`;
          const r = await apiJson(s, token, 'PUT', `/api/v1/wps/WP1/content/${name}`, { body });
          assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
          acked.push({ name, version: r.body.version, hash: sha256(body), at: Date.now() });
        }
      };
      const loops = [0, 1, 2, 3].map((k) => loop(k % 2 ? tokens.other : tokens.writer, k));
      while (acked.length < 100) await new Promise((r) => setTimeout(r, 20));
      const began = Date.now();
      const before = acked.filter((a) => a.at < began);
      const b = await consortAsync(['backup', dest, '--data', s.dataDir]);
      const during = acked.length - before.length;
      stop = true;
      await Promise.all(loops);
      assert.equal(b.status, 0, b.stderr);
      assert.ok(during > 0, 'uploads went on while the backup ran');
      const r = runConsort(['restore', dest, '--data', restored]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const f = fsck(restored);
      assert.ok(f.ok, f.out);
      const rows = execFileSync('sqlite3', ['-json', join(restored, 'consort.db'),
        'SELECT n.name, v.number, v.blob FROM versions v JOIN nodes n ON n.id = v.node_id']).toString();
      const have = new Map(JSON.parse(rows || '[]').map((x) => [`${x.name}#${x.number}`, x.blob]));
      for (const a of before) {
        assert.equal(have.get(`${a.name}#${a.version}`), a.hash, `${a.name} version ${a.version}`);
        assert.equal(sha256(storedContent(restored, a.hash)), a.hash);
      }
      console.log(`# backup: ${before.length} versions acknowledged before it began, ${acked.length} in all, ${have.size} in the backup`);
    });
  } finally {
    rmSync(dest, { recursive: true, force: true });
    rmSync(restored, { recursive: true, force: true });
  }
});

