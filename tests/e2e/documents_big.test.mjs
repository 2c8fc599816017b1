// A 10 GiB upload made up on the fly (never stored by the test) while the
// server's memory is watched, its stored blob hashed against what was sent;
// and two clients saving the same document from the same base version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { statfsSync, createReadStream, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { withServer, repoRoot, tempDir } from './lib/server.mjs';
import { sql, consort } from './lib/accounts.mjs';
import { consortium, apiJson, sha256 } from './lib/docs.mjs';

const GiB = 1024 ** 3;
const sanitized = !!process.env.CONSORT_SANITIZED;
// Under the sanitizers everything is several times slower: scale down,
// keep every assertion.
const SIZE = sanitized ? GiB / 2 : 10 * GiB;

// A data directory on a filesystem with room for the upload (the temp
// file becomes the blob by a rename, so the bytes are there once, plus a
// margin).
function roomyDataDir(size) {
  const candidates = [process.env.CONSORT_BIG_TMP, tmpdir(), join(repoRoot, 'build')].filter(Boolean);
  for (const dir of candidates) {
    try {
      const st = statfsSync(dir);
      if (st.bavail * st.bsize > size + 2 * GiB) return tempDir('consort-big-', dir);
    } catch { /* not there */ }
  }
  throw new Error(`no filesystem with ${(size / GiB + 2).toFixed(1)} GiB free among ${candidates.join(', ')}: set CONSORT_BIG_TMP`);
}

test(`a ${SIZE / GiB} GiB upload streams through constant memory and is stored byte for byte`, { timeout: 30 * 60 * 1000 }, async () => {
  const dataDir = roomyDataDir(SIZE);
  try {
    await withServer({ dataDir }, async (s) => {
      const { tokens } = await consortium(s);
      // 1 MiB of random bytes, with a counter stamped into each block so
      // no two blocks are equal.
      const block = randomBytes(1024 * 1024);
      const hash = createHash('sha256');
      let sent = 0, maxRss = 0, baseRss = 0;
      const sampler = setInterval(() => {
        const rss = s.rssKiB();
        if (sent > 64 * 1024 * 1024 && !baseRss) baseRss = rss;
        if (baseRss && rss > maxRss) maxRss = rss;
      }, 100);
      const status = await new Promise((resolve, reject) => {
        const req = https.request(`${s.url}/api/v1/wps/WP1/content/big/ten-gib.bin`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${tokens.writer}`, 'content-length': String(SIZE), 'content-type': 'application/octet-stream' },
        }, (res) => {
          let text = '';
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve({ code: res.statusCode, text }));
        });
        req.on('error', reject);
        let n = 0;
        const pump = () => {
          while (sent < SIZE) {
            block.writeBigUInt64LE(BigInt(n++), 0);
            const piece = SIZE - sent < block.length ? block.subarray(0, SIZE - sent) : block;
            hash.update(piece);
            sent += piece.length;
            if (!req.write(piece)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      clearInterval(sampler);
      assert.equal(status.code, 201, status.text);
      const sent256 = hash.digest('hex');
      const body = JSON.parse(status.text);
      assert.equal(body.size, SIZE);
      assert.equal(body.etag, `"${sent256}"`, 'the server hashed exactly what was sent');
      assert.ok(baseRss > 0 && maxRss > 0, 'memory was sampled during the upload');
      const growth = (maxRss - baseRss) / 1024;
      assert.ok(growth < 32, `server RSS grew by ${growth.toFixed(1)} MiB during the upload (base ${baseRss} KiB, max ${maxRss} KiB)`);
      // The stored blob itself, re-hashed from disk.
      const blob = `${s.dataDir}/blobs/${sent256.slice(0, 2)}/${sent256.slice(2, 4)}/${sent256}`;
      const onDisk = createHash('sha256');
      await new Promise((res, rej) => createReadStream(blob, { highWaterMark: 4 * 1024 * 1024 })
        .on('data', (d) => onDisk.update(d)).on('end', res).on('error', rej));
      assert.equal(onDisk.digest('hex'), sent256);
      console.log(`# ${SIZE / GiB} GiB upload: server RSS ${(baseRss / 1024).toFixed(1)} MiB after 64 MiB, at most ${(maxRss / 1024).toFixed(1)} MiB`);
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('two clients save the same document from the same base version: one wins, the other gets 412, nothing is lost', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const path = '/api/v1/wps/WP1/content/shared/minutes.odt';
    let r = await apiJson(s, tokens.writer, 'PUT', path, { body: 'base version' });
    assert.equal(r.status, 201);
    let etag = r.headers.get('etag');
    const winners = [];
    const rounds = sanitized ? 8 : 20;
    for (let round = 0; round < rounds; round++) {
      // Bodies large enough that both requests are in flight together.
      const a = Buffer.concat([Buffer.from(`round ${round} by writer\n`), randomBytes(512 * 1024)]);
      const b = Buffer.concat([Buffer.from(`round ${round} by other\n`), randomBytes(512 * 1024)]);
      const [ra, rb] = await Promise.all([
        apiJson(s, tokens.writer, 'PUT', path, { body: a, headers: { 'if-match': etag } }),
        apiJson(s, tokens.other, 'PUT', path, { body: b, headers: { 'if-match': etag } }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      assert.deepEqual(statuses, [200, 412], `round ${round}: ${ra.status} ${rb.status}`);
      const [win, content] = ra.status === 200 ? [ra, a] : [rb, b];
      const lose = ra.status === 200 ? rb : ra;
      assert.equal(lose.body.error, 'precondition_failed');
      assert.match(lose.body.detail, /changed meanwhile/);
      winners.push({ version: win.body.version, hash: sha256(content) });
      etag = win.headers.get('etag');
    }
    // Every winning save is a version, in order, byte for byte.
    assert.deepEqual(winners.map((w) => w.version), Array.from({ length: rounds }, (_, i) => i + 2));
    const versions = sql(s, "SELECT v.number, v.blob FROM versions v JOIN nodes n ON n.id = v.node_id WHERE n.name = 'minutes.odt' ORDER BY v.number");
    assert.equal(versions.length, rounds + 1);
    for (const w of winners) assert.equal(versions.find((v) => v.number === w.version).blob, w.hash);
    // The losers left no version, and no hold on their stored content:
    // gc, run while the server runs, removes every blob no version
    // references, so exactly the winners' blob files remain (the small
    // base version lives in the database, storage/smallblob.h).
    const out = consort(s, ['gc', '--grace', '0']);
    const [, deleted, seen] = out.match(/(\d+) of (\d+) blob\(s\) deleted/).map(Number);
    assert.equal(seen - deleted, rounds, out);
    const left = readdirSync(join(s.dataDir, 'blobs'), { recursive: true }).filter((f) => /[0-9a-f]{64}$/.test(f));
    assert.equal(left.length, rounds);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM small_blobs')[0].n, 1);
  });
});
