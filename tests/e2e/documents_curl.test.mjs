// Documents end to end with real curl (trusting the test CA): create, add
// a version, a lost update refused with 412, Range and older versions,
// restore, trash and restore from the trash, names with Unicode, spaces
// and percent-encoding, and hostile names refused without changing
// anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withServer, tempDir } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, curl, sha256, apiJson, urlPath } from './lib/docs.mjs';

// Run curl and split the answer into {status, headers, body}.
async function call(s, token, method, path, { file, data, headers = [], range, out } = {}) {
  const args = ['-X', method, '-D', '-', '-H', `Authorization: Bearer ${token}`];
  for (const h of headers) args.push('-H', h);
  if (file) args.push('--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream');
  if (data !== undefined) args.push('--data-binary', '@-');
  if (range) args.push('-r', range);
  if (out) args.push('-o', out);
  if (method === 'HEAD') args.splice(0, 2, '-I');
  args.push('--path-as-is', s.url + path);
  const r = await curl(args, { input: data });
  assert.equal(r.code, 0, r.stderr);
  const text = r.stdout;
  let split = text.indexOf('\r\n\r\n');
  // A 100 Continue (never sent by consort) would come first.
  const head = text.subarray(0, split).toString('latin1');
  const body = text.subarray(split + 4);
  const lines = head.split('\r\n');
  const headersOut = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headersOut[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  let json = null;
  if ((headersOut['content-type'] || '').startsWith('application/json') && body.length) json = JSON.parse(body.toString());
  return { status: Number(lines[0].split(' ')[1]), headers: headersOut, body, json };
}

test('curl: create, versions, 412 on a lost update, Range, restore, trash', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer, o = tokens.other;
    const dir = tempDir('consort-curl-');
    try {
      const v1 = Buffer.from('%PDF-1.4\n% first draft of the deliverable\n' + 'x'.repeat(5000));
      const v2 = Buffer.from('%PDF-1.4\n% second draft, reviewed\n' + 'y'.repeat(7000));
      writeFileSync(join(dir, 'v1.pdf'), v1);
      writeFileSync(join(dir, 'v2.pdf'), v2);
      const doc = '/api/v1/wps/WP1/content/Deliverables/D1.1%20Report.pdf';

      // Create: 201, the ETag is the SHA-256 of the content.
      let r = await call(s, w, 'PUT', doc + '?comment=first%20draft', { file: join(dir, 'v1.pdf') });
      assert.equal(r.status, 201, r.body.toString());
      assert.equal(r.headers.etag, `"${sha256(v1)}"`);
      assert.equal(r.headers['x-consort-version'], '1');
      assert.equal(r.json.mime, 'application/pdf'); // from the bytes, not from the client
      const etag1 = r.headers.etag;

      // Both clients hold version 1. The writer saves first (200)...
      r = await call(s, w, 'PUT', doc, { file: join(dir, 'v2.pdf'), headers: [`If-Match: ${etag1}`] });
      assert.equal(r.status, 200);
      assert.equal(r.json.version, 2);
      const etag2 = r.headers.etag;
      // ... the other one's save from the same base is refused, nothing lost.
      r = await call(s, o, 'PUT', doc, { data: 'my edits of version 1', headers: [`If-Match: ${etag1}`] });
      assert.equal(r.status, 412);
      assert.equal(r.json.error, 'precondition_failed');
      assert.match(r.json.detail, /changed meanwhile: its current version is 2/);
      // If-None-Match: * creates only.
      r = await call(s, o, 'PUT', doc, { data: 'x', headers: ['If-None-Match: *'] });
      assert.equal(r.status, 412);

      // Downloads: current, older, Range, If-Range, If-None-Match.
      r = await call(s, o, 'GET', doc, { out: join(dir, 'got.pdf') });
      assert.equal(r.status, 200);
      assert.deepEqual(readFileSync(join(dir, 'got.pdf')), v2);
      r = await call(s, tokens.reader, 'GET', doc + '?version=1');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, v1);
      assert.equal(r.headers.etag, etag1);
      assert.equal(r.headers['content-type'], 'application/pdf');
      assert.equal(r.headers['content-disposition'], `attachment; filename="D1.1 Report.pdf"; filename*=UTF-8''D1.1%20Report.pdf`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['content-security-policy'], "default-src 'none'; sandbox");
      r = await call(s, tokens.reader, 'GET', doc, { range: '100-199' });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 100-199/${v2.length}`);
      assert.deepEqual(r.body, v2.subarray(100, 200));
      r = await call(s, tokens.reader, 'GET', doc + '?version=1', { range: '-10' });
      assert.equal(r.status, 206);
      assert.deepEqual(r.body, v1.subarray(v1.length - 10));
      r = await call(s, tokens.reader, 'GET', doc, { range: '100-199', headers: [`If-Range: ${etag1}`] });
      assert.equal(r.status, 200, 'a stale If-Range gets the whole current content');
      assert.deepEqual(r.body, v2);
      r = await call(s, tokens.reader, 'GET', doc, { range: '100-199', headers: [`If-Range: ${etag2}`] });
      assert.equal(r.status, 206);
      r = await call(s, tokens.reader, 'GET', doc, { range: `${v2.length + 5}-` });
      assert.equal(r.status, 416);
      assert.equal(r.headers['content-range'], `bytes */${v2.length}`);
      r = await call(s, tokens.reader, 'GET', doc, { headers: [`If-None-Match: ${etag2}`] });
      assert.equal(r.status, 304);
      assert.equal(r.body.length, 0);
      r = await call(s, tokens.reader, 'GET', doc + '?version=9');
      assert.equal(r.status, 404);

      // Listing and the document with its versions.
      r = await call(s, tokens.reader, 'GET', '/api/v1/wps/WP1/tree/Deliverables');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.entries.map((e) => [e.type, e.name, e.version, e.size]), [['document', 'D1.1 Report.pdf', 2, v2.length]]);
      assert.equal(r.json.entries[0].modified_by.name, 'Writer');
      r = await call(s, tokens.reader, 'GET', '/api/v1/wps/WP1/tree/Deliverables/D1.1%20Report.pdf');
      assert.deepEqual(r.json.versions.map((v) => [v.version, v.etag, v.comment]), [[2, etag2, ''], [1, etag1, 'first draft']]);

      // A reader may not write: refused from the headers, 403.
      r = await call(s, tokens.reader, 'PUT', doc, { data: 'nope' });
      assert.equal(r.status, 403);
      r = await call(s, tokens.outsider, 'GET', doc);
      assert.equal(r.status, 404, 'a WP the caller cannot read does not exist for them');

      // Restore version 1 as version 3.
      r = await call(s, w, 'POST', '/api/v1/wps/WP1/restore', { data: JSON.stringify({ path: 'Deliverables/D1.1 Report.pdf', version: 1 }), headers: ['Content-Type: application/json'] });
      assert.equal(r.status, 201, r.body.toString());
      assert.equal(r.json.version, 3);
      assert.equal(r.headers.etag, etag1);
      r = await call(s, o, 'GET', doc);
      assert.deepEqual(r.body, v1);
      assert.equal(r.headers['x-consort-version'], '3');

      // Trash, gone from the tree; restore from the trash, all versions back.
      r = await call(s, w, 'DELETE', '/api/v1/wps/WP1/tree/Deliverables/D1.1%20Report.pdf');
      assert.equal(r.status, 200);
      const trashId = r.json.trash_id;
      r = await call(s, o, 'GET', doc);
      assert.equal(r.status, 404);
      r = await call(s, tokens.reader, 'GET', '/api/v1/wps/WP1/trash');
      assert.deepEqual(r.json.items.map((i) => [i.id, i.path, i.type]), [[trashId, 'Deliverables/D1.1 Report.pdf', 'document']]);
      r = await call(s, w, 'POST', `/api/v1/wps/WP1/trash/${trashId}/restore`);
      assert.equal(r.status, 200, r.body.toString());
      r = await call(s, o, 'GET', doc + '?version=2');
      assert.deepEqual(r.body, v2);
      r = await call(s, tokens.reader, 'GET', '/api/v1/wps/WP1/trash');
      assert.equal(r.json.total, 0);

      // Every upload and download is in the audit log.
      const audit = sql(s, "SELECT action, count(*) AS n FROM audit WHERE action IN ('upload','download','restore','delete','restore_trash') GROUP BY action ORDER BY action");
      const counts = Object.fromEntries(audit.map((a) => [a.action, a.n]));
      assert.equal(counts.upload, 2);
      assert.ok(counts.download >= 8, JSON.stringify(counts));
      assert.equal(counts.restore, 1);
      assert.equal(counts.delete, 1);
      assert.equal(counts.restore_trash, 1);
      const one = sql(s, "SELECT actor, object, detail FROM audit WHERE action = 'upload' ORDER BY id LIMIT 1")[0];
      assert.equal(one.actor, 'writer@a.example');
      assert.equal(one.object, 'Deliverables/D1.1 Report.pdf');
      assert.match(one.detail, new RegExp(`version 1, ${v1.length} bytes, application/pdf, sha256 ${sha256(v1)}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('curl: Unicode, spaces and percent-encoding survive; hostile names are refused', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    const names = [
      'Übersicht Ärzte – Bericht 2024.docx',
      'naïve café/résumé (final) #2.txt',
      '100% done & 50%25 left.txt',
      '日本語 ファイル.txt',
      "it's a 'quote' + plus=equals;semi.txt",
    ];
    for (const [i, name] of names.entries()) {
      const body = `content ${i}\n`;
      let r = await call(s, w, 'PUT', `/api/v1/wps/WP1/content/${urlPath(name)}`, { data: body });
      assert.equal(r.status, 201, `${name}: ${r.body}`);
      r = await call(s, w, 'GET', `/api/v1/wps/WP1/content/${urlPath(name)}`);
      assert.equal(r.status, 200, name);
      assert.equal(r.body.toString(), body);
      const base = name.split('/').pop();
      const star = /filename\*=UTF-8''(.*)$/.exec(r.headers['content-disposition'])[1];
      assert.equal(decodeURIComponent(star), base, 'filename* carries the exact name');
      assert.match(r.headers['content-disposition'], /^attachment; filename="[\x20-\x7e]*"; /);
    }
    // NFD spelling and another case reach the same document (a new version).
    let r = await call(s, w, 'PUT', `/api/v1/wps/WP1/content/${urlPath('UBERSICHT'.normalize('NFD'))}`, { data: 'x' });
    assert.equal(r.status, 201);
    r = await call(s, w, 'PUT', `/api/v1/wps/WP1/content/${urlPath('übersicht ärzte – bericht 2024.DOCX'.normalize('NFD'))}`, { data: 'v2' });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.json.version, 2);

    const before = sql(s, 'SELECT count(*) AS n FROM nodes')[0].n;
    const hostile = [
      ['..%2Fetc%2Fpasswd', /'\/'|\//],
      ['%2e%2e/secret.txt', /\.\./],
      ['a/../../b.txt', /\.\./],
      ['nul%00byte.txt', /NUL|malformed|percent/i],
      ['ctrl%07bell.txt', /control/],
      ['trailing%20', /trailing/],
      ['trailing.', /trailing/],
      ['a//b.txt', /empty/],
      [`${'n'.repeat(300)}.txt`, /255 bytes/],
      ['invoice%E2%80%AEfdp.exe', /bidi|direction/i],
      ['bad%ZZescape', /escape|percent|malformed/i],
      ['%C0%AFoverlong', /UTF-8/],
    ];
    for (const [raw, why] of hostile) {
      r = await call(s, w, 'PUT', `/api/v1/wps/WP1/content/${raw}`, { data: 'evil' });
      assert.equal(r.status, 400, `${raw}: ${r.status} ${r.body}`);
      assert.match(r.json.detail, why, raw);
    }
    // JSON paths follow the same rules.
    r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/folders', { json: { path: 'ok/../x' } });
    assert.equal(r.status, 400);
    r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/move', { json: { from: '日本語 ファイル.txt', to: 'sub/..' } });
    assert.equal(r.status, 400);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM nodes')[0].n, before, 'nothing was created');

    // Uploaded HTML or SVG is never served as such.
    r = await call(s, w, 'PUT', '/api/v1/wps/WP1/content/page.html', { data: '<!DOCTYPE html><html><script>alert(1)</script></html>' });
    assert.equal(r.status, 201);
    assert.equal(r.json.mime, 'text/html');
    r = await call(s, w, 'GET', '/api/v1/wps/WP1/content/page.html');
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    assert.match(r.headers['content-disposition'], /^attachment;/);
    r = await call(s, w, 'PUT', '/api/v1/wps/WP1/content/pic.svg', {
      data: '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      headers: ['Content-Type: image/png'],
    });
    assert.equal(r.status, 201);
    assert.notEqual(r.json.mime, 'image/png', 'the client does not choose the type');
    r = await call(s, w, 'GET', '/api/v1/wps/WP1/content/pic.svg');
    assert.equal(r.headers['content-type'], 'application/octet-stream');
  });
});

test('curl: a body of several buffers is typed by its first bytes, sent with a length or chunked', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const dir = tempDir('consort-curl-');
    try {
      // 9 MiB: the server hands its body to the disk in 4 MiB buffers.
      const big = Buffer.concat([Buffer.from('%PDF-1.4\n% annex\n'), Buffer.alloc(9 * 1024 * 1024, 'z')]);
      writeFileSync(join(dir, 'annex.pdf'), big);
      for (const [name, headers] of [['annex.pdf', ['Expect:']], ['annex-chunked.pdf', ['Expect:', 'Transfer-Encoding: chunked']]]) {
        const r = await call(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/${name}`, { file: join(dir, 'annex.pdf'), headers });
        assert.equal(r.status, 201, r.body.toString());
        assert.equal(r.headers.etag, `"${sha256(big)}"`);
        assert.equal(r.json.mime, 'application/pdf', name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
