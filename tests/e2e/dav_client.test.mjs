// WebDAV through a real client: the `webdav` package from npm (what Node
// tools use to talk to Nextcloud, Apache or IIS shares), signed in with
// HTTP Basic (email + API token). Every operation is then checked through
// the JSON API: the same versions, the same audit records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'webdav';
import { withServer } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, apiJson, sha256 } from './lib/docs.mjs';

async function streamToBuffer(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

test('webdav client: list, upload, download with Range, MKCOL, MOVE, COPY, DELETE, LOCK/UNLOCK', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const dav = createClient(`${s.url}/dav`, { username: emails.writer, password: tokens.writer });

    // The root lists the work packages the caller can read.
    const wps = await dav.getDirectoryContents('/');
    assert.deepEqual(wps.map((e) => [e.basename, e.type]), [['WP1', 'directory']]);

    await dav.createDirectory('/WP1/Deliverables');
    const v1 = Buffer.from('first draft of D1.1\n'.repeat(100));
    const v2 = Buffer.from('second draft of D1.1, longer\n'.repeat(200));
    assert.equal(await dav.putFileContents('/WP1/Deliverables/D1.1 Rapport été.txt', v1), true);
    assert.equal(await dav.putFileContents('/WP1/Deliverables/D1.1 Rapport été.txt', v2), true);

    const list = await dav.getDirectoryContents('/WP1/Deliverables', { details: false });
    assert.equal(list.length, 1);
    assert.equal(list[0].basename, 'D1.1 Rapport été.txt');
    assert.equal(list[0].type, 'file');
    assert.equal(list[0].size, v2.length);
    assert.equal(list[0].etag, sha256(v2));

    const got = await dav.getFileContents('/WP1/Deliverables/D1.1 Rapport été.txt');
    assert.ok(Buffer.from(got).equals(v2));
    const part = await streamToBuffer(dav.createReadStream('/WP1/Deliverables/D1.1 Rapport été.txt',
      { range: { start: 10, end: 99 } }));
    assert.ok(part.equals(v2.subarray(10, 100)));

    // The JSON API sees the same document with both versions.
    const enc = encodeURIComponent('D1.1 Rapport été.txt');
    const doc = await apiJson(s, tokens.reader, 'GET', `/api/v1/wps/WP1/tree/Deliverables/${enc}`);
    assert.equal(doc.status, 200);
    assert.equal(doc.body.version, 2);
    assert.deepEqual(doc.body.versions.map((v) => [v.version, v.size, v.etag]),
      [[2, v2.length, `"${sha256(v2)}"`], [1, v1.length, `"${sha256(v1)}"`]]);

    // COPY, MOVE (a rename), DELETE to the trash.
    await dav.copyFile('/WP1/Deliverables/D1.1 Rapport été.txt', '/WP1/copy.txt');
    assert.ok(Buffer.from(await dav.getFileContents('/WP1/copy.txt')).equals(v2));
    await dav.moveFile('/WP1/copy.txt', '/WP1/Deliverables/renamed.txt');
    assert.equal(await dav.exists('/WP1/copy.txt'), false);
    assert.equal(await dav.exists('/WP1/Deliverables/renamed.txt'), true);
    await dav.deleteFile('/WP1/Deliverables/renamed.txt');
    assert.equal(await dav.exists('/WP1/Deliverables/renamed.txt'), false);
    const trash = await apiJson(s, tokens.writer, 'GET', '/api/v1/wps/WP1/trash');
    assert.deepEqual(trash.body.items.map((i) => i.path), ['Deliverables/renamed.txt']);

    // LOCK: another account cannot write; the holder can; UNLOCK frees it.
    const lock = await dav.lock('/WP1/Deliverables/D1.1 Rapport été.txt');
    assert.match(lock.token, /^urn:consort:[A-Za-z0-9_-]{22}$/);
    const other = createClient(`${s.url}/dav`, { username: emails.other, password: tokens.other });
    await assert.rejects(other.putFileContents('/WP1/Deliverables/D1.1 Rapport été.txt', 'x'),
      (e) => e.status === 423);
    await dav.putFileContents('/WP1/Deliverables/D1.1 Rapport été.txt', Buffer.from('v3'),
      { headers: { If: `(<${lock.token}>)` } });
    await dav.unlock('/WP1/Deliverables/D1.1 Rapport été.txt', lock.token);
    await other.putFileContents('/WP1/Deliverables/D1.1 Rapport été.txt', Buffer.from('v4'));

    const after = await apiJson(s, tokens.reader, 'GET', `/api/v1/wps/WP1/tree/Deliverables/${enc}`);
    assert.equal(after.body.version, 4);
    assert.equal(after.body.versions[0].uploaded_by.name, 'Other');

    // The same audit records as uploads through the API.
    const audit = sql(s, "SELECT a.action, a.object, a.detail, u.email FROM audit a " +
      "LEFT JOIN users u ON u.id = a.user_id WHERE a.action IN ('upload','download','delete','copy'," +
      "'move','folder_create') ORDER BY a.id");
    const uploads = audit.filter((r) => r.action === 'upload');
    assert.equal(uploads.length, 4); // v1 to v4; the copy is audited as a copy
    assert.match(uploads[0].detail, new RegExp(`^version 1, ${v1.length} bytes, text/plain, sha256 ${sha256(v1)}$`));
    assert.equal(uploads[0].object, 'Deliverables/D1.1 Rapport été.txt');
    assert.deepEqual([...new Set(audit.map((r) => r.action))].sort(),
      ['copy', 'delete', 'download', 'folder_create', 'move', 'upload']);
    assert.ok(audit.some((r) => r.action === 'download' && /bytes 10-99/.test(r.detail)));
  });
});

test('webdav client: a reader can browse and download but not write', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const writer = createClient(`${s.url}/dav`, { username: emails.writer, password: tokens.writer });
    await writer.putFileContents('/WP1/a.txt', 'hello');
    const reader = createClient(`${s.url}/dav`, { username: emails.reader, password: tokens.reader });
    assert.equal(await reader.getFileContents('/WP1/a.txt', { format: 'text' }), 'hello');
    await assert.rejects(reader.putFileContents('/WP1/b.txt', 'x'), (e) => e.status === 403);
    await assert.rejects(reader.deleteFile('/WP1/a.txt'), (e) => e.status === 403);
    await assert.rejects(reader.lock('/WP1/a.txt'), (e) => e.status === 403);
    // The outsider sees no work package, and WP1 is "not found" for them.
    const outsider = createClient(`${s.url}/dav`, { username: emails.outsider, password: tokens.outsider });
    assert.deepEqual(await outsider.getDirectoryContents('/'), []);
    await assert.rejects(outsider.getDirectoryContents('/WP1'), (e) => e.status === 404);
    // A wrong token is a 401 with a Basic challenge.
    const wrong = createClient(`${s.url}/dav`, { username: emails.writer, password: tokens.reader });
    await assert.rejects(wrong.getDirectoryContents('/WP1'), (e) => e.status === 401);
  });
});
