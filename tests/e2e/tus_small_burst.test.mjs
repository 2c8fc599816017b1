// Small tus uploads in bursts: many concurrent creation-with-upload POSTs
// (each carries its whole file), as a sync client or the web app sends a
// folder of small files. Every one is answered 201 with its version, and
// every one is stored with its bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { withServer } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, api, sha256 } from './lib/docs.mjs';

const b64 = (s) => Buffer.from(s).toString('base64');

function createWithUpload(s, token, path, data) {
  return api(s, token, 'POST', '/api/v1/uploads', {
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(data.length),
      'Upload-Metadata': `wp ${b64('WP1')},path ${b64(path)}`,
      'Content-Type': 'application/offset+octet-stream',
    },
    body: data,
  });
}

test('a burst of concurrent small creation-with-upload POSTs: every one 201 and stored', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const total = 400, conns = 16;
    const files = Array.from({ length: total }, (_, i) => randomBytes(1024 + (i % 16) * 1024));
    const failures = [];
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const r = await createWithUpload(s, tokens.writer, `burst/f${i}.bin`, files[i]);
        const body = await r.text();
        if (r.status !== 201 || r.headers.get('upload-offset') !== String(files[i].length) ||
            !r.headers.get('x-consort-version'))
          failures.push(`#${i}: ${r.status} offset ${r.headers.get('upload-offset')} ${body}`);
      }
    };
    await Promise.all(Array.from({ length: conns }, worker));
    assert.deepEqual(failures, [], `${failures.length} of ${total} failed; log:\n${s.log.split('\n').filter((l) => /uploads/.test(l) && !/ 201 /.test(l)).slice(0, 20).join('\n')}`);
    const rows = sql(s, "SELECT count(*) AS n FROM uploads WHERE version IS NULL");
    assert.equal(rows[0].n, 0, 'no upload left unfinished');
    for (let i = 0; i < total; i += 7) {
      const r = await api(s, tokens.reader, 'GET', `/api/v1/wps/WP1/content/burst/f${i}.bin`);
      assert.equal(r.status, 200);
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(files[i]), `f${i}.bin`);
    }
  });
});
