// Small tus uploads in bursts: many concurrent creation-with-upload POSTs
// (each carries its whole file), as a sync client or the web app sends a
// folder of small files. Every one is answered 201 with its version and
// stored with its bytes; none of them makes a partial file in
// DATA/uploads (watched with inotify), while an upload that is not
// complete after its first request still has one (resumable). The
// per-user limits, checksums and the MIME type from the bytes hold for
// such whole uploads too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { watch } from 'node:fs';
import { withServer } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';

const b64 = (s) => Buffer.from(s).toString('base64');

function create(s, token, path, data, { length, headers = {} } = {}) {
  return api(s, token, 'POST', '/api/v1/uploads', {
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(length ?? data.length),
      'Upload-Metadata': `wp ${b64('WP1')},path ${b64(path)}`,
      'Content-Type': 'application/offset+octet-stream',
      ...headers,
    },
    body: data,
  });
}

// Names created or removed in DATA/uploads while `fn` runs.
async function uploadsDirEvents(s, fn) {
  const seen = [];
  const w = watch(`${s.dataDir}/uploads`, (type, name) => seen.push(`${type} ${name}`));
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 200)); // the last events
  } finally {
    w.close();
  }
  return seen;
}

test('a burst of concurrent small creation-with-upload POSTs: every one 201 and stored, no partial file', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const total = 400, conns = 16;
    const files = Array.from({ length: total }, (_, i) => randomBytes(1024 + (i % 16) * 1024));
    const failures = [], locations = [];
    const events = await uploadsDirEvents(s, async () => {
      let next = 0;
      const worker = async () => {
        while (next < total) {
          const i = next++;
          const r = await create(s, tokens.writer, `burst/f${i}.bin`, files[i]);
          const body = await r.text();
          if (r.status !== 201 || r.headers.get('upload-offset') !== String(files[i].length) ||
              !r.headers.get('x-consort-version') || !r.headers.get('location'))
            failures.push(`#${i}: ${r.status} offset ${r.headers.get('upload-offset')} ${body}`);
          locations[i] = r.headers.get('location');
        }
      };
      await Promise.all(Array.from({ length: conns }, worker));
    });
    assert.deepEqual(failures, [], `${failures.length} of ${total} failed`);
    assert.deepEqual(events, [], 'no partial file was made for a whole small upload');
    assert.equal(sql(s, 'SELECT count(*) AS n FROM uploads WHERE version IS NOT NULL')[0].n, total);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM uploads WHERE version IS NULL')[0].n, 0);
    assert.equal(sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'upload' AND detail LIKE '%resumable%'")[0].n, total);
    for (let i = 0; i < total; i += 7) {
      const r = await api(s, tokens.reader, 'GET', `/api/v1/wps/WP1/content/burst/f${i}.bin`);
      assert.equal(r.status, 200);
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(files[i]), `f${i}.bin`);
    }
    // A client that lost the answer asks its Location: all arrived.
    const r = await api(s, tokens.writer, 'HEAD', new URL(locations[3], s.url).pathname, { headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('upload-offset'), String(files[3].length));
    assert.equal(r.headers.get('x-consort-version'), '1');
    assert.equal(r.headers.get('etag'), `"${sha256(files[3])}"`);

    // Control: a first request that is not the whole upload makes the
    // partial file (its offset is durable and resumable).
    let loc;
    const ev2 = await uploadsDirEvents(s, async () => {
      const r2 = await create(s, tokens.writer, 'burst/partial.bin', files[0], { length: files[0].length + 10 });
      assert.equal(r2.status, 201);
      assert.equal(r2.headers.get('upload-offset'), String(files[0].length));
      loc = r2.headers.get('location');
    });
    const id = loc.split('/').pop();
    assert.ok(ev2.some((e) => e.endsWith(id)), `events: ${ev2}`);
    assert.equal(sql(s, `SELECT offset FROM uploads WHERE id = '${id}'`)[0].offset, files[0].length);
  });
});

test('whole small uploads: limits at the commit, checksum, MIME type from the bytes, empty upload, same content twice', async () => {
  await withServer({ args: ['--uploads-per-user', '2'] }, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    // Checksum mismatch: 460, nothing made (no row, no document).
    const data = Buffer.from('%PDF-1.5\n' + 'x'.repeat(5000));
    let r = await create(s, w, 'c/bad.pdf', data, { headers: { 'Upload-Checksum': `sha1 ${createHash('sha1').update('other').digest('base64')}` } });
    assert.equal(r.status, 460);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM uploads')[0].n, 0);
    r = await api(s, w, 'GET', '/api/v1/wps/WP1/content/c/bad.pdf');
    assert.equal(r.status, 404);
    // The right checksum: stored, MIME type from the bytes.
    r = await create(s, w, 'c/good.pdf', data, { headers: { 'Upload-Checksum': `sha1 ${createHash('sha1').update(data).digest('base64')}` } });
    assert.equal(r.status, 201);
    const doc = await apiJson(s, w, 'GET', '/api/v1/wps/WP1/tree/c/good.pdf');
    assert.equal(doc.body.mime, 'application/pdf');
    // An empty upload is a version at once.
    r = await create(s, w, 'c/empty.txt', undefined, { length: 0 });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('upload-offset'), '0');
    r = await api(s, w, 'GET', '/api/v1/wps/WP1/content/c/empty.txt');
    assert.equal(r.status, 200);
    assert.equal((await r.arrayBuffer()).byteLength, 0);
    // Same content at two paths: one small row.
    r = await create(s, w, 'c/again.pdf', data);
    assert.equal(r.status, 201);
    assert.equal(sql(s, `SELECT count(*) AS n FROM small_blobs WHERE hash = '${sha256(data)}'`)[0].n, 1);
    // Two unfinished uploads: a whole small one is refused (429) by the
    // limit, checked in its commit, and leaves nothing.
    for (const p of ['open1', 'open2'])
      assert.equal((await create(s, w, `c/${p}`, undefined, { length: 100 })).status, 201);
    r = await create(s, w, 'c/refused.bin', randomBytes(2000));
    assert.equal(r.status, 429);
    assert.match((await r.json()).detail, /unfinished uploads/);
    assert.equal(sql(s, "SELECT count(*) AS n FROM uploads WHERE path = 'c/refused.bin'")[0].n, 0);
    r = await api(s, w, 'GET', '/api/v1/wps/WP1/content/c/refused.bin');
    assert.equal(r.status, 404);
  });
});
