// Quota for bodies without a declared length (issue 14): a chunked PUT
// through the API and through WebDAV into a work package with a small
// quota stops at the quota with 507 while it streams, and what was
// written is gone at once (no temp file, no blob, no version); a chunked
// body that fits is stored. tus refuses a deferred length outright, so
// every tus upload is checked against the quota at its creation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withServer, tempDir } from './lib/server.mjs';
import { addUser, sql, Session } from './lib/accounts.mjs';
import { consortium, curl, apiJson, api } from './lib/docs.mjs';

function filesUnder(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? filesUnder(join(dir, e.name)) : 1;
  return n;
}

// A chunked PUT of `file` with curl; resolves {status, body}.
async function chunkedPut(s, token, path, file) {
  const r = await curl(['-X', 'PUT', '-H', `Authorization: Bearer ${token}`, '-H', 'Transfer-Encoding: chunked',
    '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`, '-w', '\n%{http_code}', s.url + path]);
  const out = r.stdout.toString();
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i), curl: r.code, stderr: r.stderr };
}

test('chunked PUT (API and WebDAV) stops at the quota with 507 and leaves nothing', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    const coord = await Session.login(s, 'coord@a.example');
    let r = await coord.req('PATCH', '/api/v1/wps/WP1', { json: { quota: 300 * 1024 } });
    assert.equal(r.status, 200);
    const dir = tempDir('consort-quota-');
    try {
      const big = join(dir, 'big.bin');
      writeFileSync(big, Buffer.alloc(3 * 1024 * 1024, 0x41)); // far past the quota (under the 4 MiB the server drains after a refusal)
      const small = join(dir, 'small.bin');
      writeFileSync(small, Buffer.alloc(120 * 1024, 0x42));
      const blobsBefore = filesUnder(`${s.dataDir}/blobs`);

      for (const path of ['/dav/WP1/big-dav.bin', '/api/v1/wps/WP1/content/big.bin']) {
        r = await chunkedPut(s, tokens.writer, path, big);
        assert.equal(r.status, 507, `${path}: ${r.status} ${r.body} ${r.stderr}`);
        if (path.startsWith('/api')) {
          const j = JSON.parse(r.body);
          assert.equal(j.error, 'quota_exceeded');
          assert.match(j.detail, /WP1 is full: the upload passed the 307200 bytes left in its quota/);
        }
        // Removed at once: no temp file, no blob, no document.
        assert.equal(filesUnder(`${s.dataDir}/tmp`), 0, 'temp file left');
        assert.equal(filesUnder(`${s.dataDir}/blobs`), blobsBefore);
      }
      assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 0);

      // A chunked body that fits is stored; the room is then smaller.
      r = await chunkedPut(s, tokens.writer, '/api/v1/wps/WP1/content/small.bin', small);
      assert.equal(r.status, 201, r.body);
      r = await chunkedPut(s, tokens.writer, '/dav/WP1/small2.bin', small);
      assert.ok([201, 204].includes(r.status), r.body);
      r = await chunkedPut(s, tokens.writer, '/api/v1/wps/WP1/content/small3.bin', small);
      assert.equal(r.status, 507);
      assert.match(JSON.parse(r.body).detail, /passed the 61440 bytes left/);
      assert.equal(filesUnder(`${s.dataDir}/tmp`), 0);
      assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 2);

      // tus: a deferred length is refused; a declared one over the room
      // is refused at creation.
      const TUS = { 'Tus-Resumable': '1.0.0' };
      const meta = `wp ${Buffer.from('WP1').toString('base64')},path ${Buffer.from('t.bin').toString('base64')}`;
      r = await apiJson(s, tokens.writer, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Defer-Length': '1', 'Upload-Metadata': meta } });
      assert.equal(r.status, 400);
      r = await apiJson(s, tokens.writer, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': String(200 * 1024), 'Upload-Metadata': meta } });
      assert.equal(r.status, 507);
      // With no quota a chunked body of any size goes through.
      await coord.req('PATCH', '/api/v1/wps/WP1', { json: { quota: null } });
      r = await chunkedPut(s, tokens.writer, '/api/v1/wps/WP1/content/big.bin', big);
      assert.equal(r.status, 201, r.body);
      const g = await api(s, tokens.writer, 'GET', '/api/v1/wps/WP1/content/big.bin');
      assert.equal((await g.arrayBuffer()).byteLength, 3 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
