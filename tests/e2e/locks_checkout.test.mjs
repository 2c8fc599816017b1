// Check-out and locks that every client honours (issue 14): a WebDAV
// lock (Word's LOCK, PUT, PUT, UNLOCK) refuses another user's API PUT,
// tus, move, rename, trash and restore with 423 naming the holder and
// the expiry; a check-out from the app (POST .../locks/{path}) refuses
// another user's WebDAV client while its holder's own WebDAV client
// writes without a token; expiry; check-in; a manager breaks a lock
// (audited, the holder told), others may not; bad input changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, apiJson, api } from './lib/docs.mjs';

const TUS = { 'Tus-Resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');
const LOCKINFO = '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>Writer</D:href></D:owner></D:lockinfo>';

async function put(s, token, path, body, headers = {}) {
  const r = await api(s, token, 'PUT', path, { body, headers });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* WebDAV answers XML */ }
  return { status: r.status, json, text };
}

function assertLocked(r, who, what) {
  assert.equal(r.status, 423, `${what}: ${r.status} ${JSON.stringify(r.body ?? r.text)}`);
  if (r.body && typeof r.body === 'object') {
    assert.equal(r.body.error, 'locked');
    assert.match(r.body.detail, new RegExp(`by ${who} until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`), what);
  }
}

test('Word over WebDAV (LOCK, PUT, PUT, UNLOCK) while another user tries the API and tus', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer, o = tokens.other;
    let r = await put(s, w, '/api/v1/wps/WP1/content/Reports/D1.docx', 'v1');
    assert.equal(r.status, 201);
    await put(s, w, '/api/v1/wps/WP1/content/Reports/D1.docx', 'v2');

    // Word locks the document.
    const lock = await api(s, w, 'LOCK', '/dav/WP1/Reports/D1.docx', { headers: { 'Content-Type': 'application/xml', Timeout: 'Second-3600', Depth: '0' }, body: LOCKINFO });
    assert.equal(lock.status, 200);
    const token = lock.headers.get('lock-token').replace(/[<>]/g, '');
    await lock.text();

    // A tus upload the other user began before the lock cannot go on.
    r = await api(s, o, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': '3', 'Upload-Metadata': `wp ${b64('WP1')},path ${b64('Reports/D1.docx')}` } });
    // (begun after the lock: refused at creation)
    assertLocked({ status: r.status, body: await r.json() }, 'Writer', 'tus creation');

    // Every write path of the other user: 423, naming Writer and the time.
    assertLocked(await apiJson(s, o, 'PUT', '/api/v1/wps/WP1/content/Reports/D1.docx', { body: 'theirs' }), 'Writer', 'API PUT');
    assertLocked(await apiJson(s, o, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Reports/D1.docx', to: 'D1.docx' } }), 'Writer', 'move');
    assertLocked(await apiJson(s, o, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Reports', to: 'Old reports' } }), 'Writer', 'move of the folder');
    assertLocked(await apiJson(s, o, 'PATCH', '/api/v1/wps/WP1/tree/Reports/D1.docx', { json: { name: 'D1-final.docx' } }), 'Writer', 'rename');
    assertLocked(await apiJson(s, o, 'DELETE', '/api/v1/wps/WP1/tree/Reports/D1.docx'), 'Writer', 'trash');
    assertLocked(await apiJson(s, o, 'DELETE', '/api/v1/wps/WP1/tree/Reports'), 'Writer', 'trash of the folder');
    assertLocked(await apiJson(s, o, 'POST', '/api/v1/wps/WP1/restore', { json: { path: 'Reports/D1.docx', version: 1 } }), 'Writer', 'restore');
    r = await put(s, o, '/dav/WP1/Reports/D1.docx', 'dav theirs');
    assert.equal(r.status, 423, 'WebDAV PUT without the token');

    // Word saves twice with its token.
    for (const body of ['word save 1', 'word save 2']) {
      r = await put(s, w, '/dav/WP1/Reports/D1.docx', body, { If: `(<${token}>)` });
      assert.ok(r.status === 204 || r.status === 201 || r.status === 200, `Word PUT: ${r.status} ${r.text}`);
    }
    assert.equal(sql(s, "SELECT count(*) AS n FROM versions v JOIN nodes n ON n.id = v.node_id WHERE n.name = 'D1.docx'")[0].n, 4);
    r = await apiJson(s, o, 'GET', '/api/v1/wps/WP1/locks/Reports/D1.docx');
    assert.equal(r.status, 200);
    assert.equal(r.body.locks.length, 1);
    assert.equal(r.body.locks[0].holder.name, 'Writer');
    assert.equal(r.body.locks[0].checkout, false);
    assert.equal(r.body.locks[0].mine, false);

    // Word unlocks; now the other user writes.
    r = await api(s, w, 'UNLOCK', '/dav/WP1/Reports/D1.docx', { headers: { 'Lock-Token': `<${token}>` } });
    assert.equal(r.status, 204);
    r = await put(s, o, '/api/v1/wps/WP1/content/Reports/D1.docx', 'theirs');
    assert.equal(r.status, 200);
    // Nothing the refused attempts did remains: 5 versions, same place.
    const docs = sql(s, "SELECT name FROM nodes WHERE is_folder = 0 AND trashed_at IS NULL");
    assert.deepEqual(docs, [{ name: 'D1.docx' }]);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 5);
  });
});

test('a lock taken during a tus upload stops its next PATCH', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    await put(s, tokens.writer, '/api/v1/wps/WP1/content/a.txt', 'a');
    let r = await api(s, tokens.other, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': '6', 'Upload-Metadata': `wp ${b64('WP1')},path ${b64('a.txt')}` } });
    assert.equal(r.status, 201);
    const loc = new URL(r.headers.get('location'), s.url).pathname;
    r = await apiJson(s, tokens.other, 'PATCH', loc, { headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, body: 'abc' });
    assert.equal(r.status, 204);
    r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/locks/a.txt', { json: { minutes: 30 } });
    assert.equal(r.status, 201);
    r = await apiJson(s, tokens.other, 'PATCH', loc, { headers: { ...TUS, 'Upload-Offset': '3', 'Content-Type': 'application/offset+octet-stream' }, body: 'def' });
    assertLocked(r, 'Writer', 'tus PATCH');
    assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 1);
  });
});

test('check-out from the app against a WebDAV client; check-in; expiry; a manager breaks it', async () => {
  await withServer({}, async (s) => {
    const { tokens, sessions } = await consortium(s);
    const w = tokens.writer, o = tokens.other;
    await put(s, w, '/api/v1/wps/WP1/content/plan.odt', 'p1');

    // The app checks out with the session.
    let r = await sessions.writer.req('POST', '/api/v1/wps/WP1/locks/plan.odt', { json: { minutes: 90 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.lock.holder.name, 'Writer');
    assert.equal(r.body.lock.checkout, true);
    assert.equal(r.body.lock.mine, true);
    const exp = Date.parse(r.body.lock.expires_at);
    assert.ok(Math.abs(exp - (Date.now() + 90 * 60000)) < 60000, r.body.lock.expires_at);

    // Another user's WebDAV client: 423; their LOCK too.
    r = await put(s, o, '/dav/WP1/plan.odt', 'theirs');
    assert.equal(r.status, 423);
    r = await api(s, o, 'LOCK', '/dav/WP1/plan.odt', { headers: { 'Content-Type': 'application/xml' }, body: LOCKINFO });
    assert.equal(r.status, 423);
    await r.text();
    assertLocked(await apiJson(s, o, 'POST', '/api/v1/wps/WP1/locks/plan.odt', {}), 'Writer', 'a second check-out');
    // The holder's own WebDAV client writes without a token, and the API too.
    r = await put(s, w, '/dav/WP1/plan.odt', 'p2 from the drive');
    assert.ok([200, 201, 204].includes(r.status), `${r.status} ${r.text}`);
    r = await put(s, w, '/api/v1/wps/WP1/content/plan.odt', 'p3 from the app');
    assert.equal(r.status, 200);
    // Extending one's own check-out is 200.
    r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/locks/plan.odt', { json: { minutes: 5 } });
    assert.equal(r.status, 200);

    // Someone else cannot check it in; the holder can (upload + release).
    assertLocked(await apiJson(s, o, 'DELETE', '/api/v1/wps/WP1/locks/plan.odt'), 'Writer', 'check-in by another');
    r = await sessions.writer.req('DELETE', '/api/v1/wps/WP1/locks/plan.odt');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { path: 'plan.odt', released: 1, broken: false });
    r = await put(s, o, '/dav/WP1/plan.odt', 'theirs');
    assert.ok([200, 201, 204].includes(r.status), `${r.status} ${r.text}`);
    r = await apiJson(s, w, 'DELETE', '/api/v1/wps/WP1/locks/plan.odt');
    assert.equal(r.status, 404);

    // Expiry: a check-out past its time holds nothing.
    r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/locks/plan.odt', { json: { minutes: 1 } });
    assert.equal(r.status, 201);
    assert.equal((await put(s, o, '/api/v1/wps/WP1/content/plan.odt', 'x')).status, 423);
    sql(s, 'UPDATE dav_locks SET expires_at = expires_at - 120');
    assert.equal((await put(s, o, '/api/v1/wps/WP1/content/plan.odt', 'after expiry')).status, 200);

    // A manager breaks a check-out left behind: audited, the holder told.
    r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/locks/plan.odt', {});
    assert.equal(r.status, 201);
    r = await apiJson(s, tokens.manager, 'DELETE', '/api/v1/wps/WP1/locks/plan.odt');
    assert.equal(r.status, 200);
    assert.equal(r.body.broken, true);
    const brk = sql(s, "SELECT actor, object, detail FROM audit WHERE action = 'lock_break'");
    assert.equal(brk.length, 1);
    assert.equal(brk[0].actor, 'manager@a.example');
    assert.equal(brk[0].object, 'plan.odt');
    assert.match(brk[0].detail, /check-out of Writer \(user \d+, writer@a\.example\) removed; the holder is told by mail/);
    assert.equal((await put(s, o, '/api/v1/wps/WP1/content/plan.odt', 'after the break')).status, 200);
    // A WebDAV lock broken by a manager with UNLOCK is told the same way.
    const lock = await api(s, w, 'LOCK', '/dav/WP1/plan.odt', { headers: { 'Content-Type': 'application/xml' }, body: LOCKINFO });
    const token = lock.headers.get('lock-token');
    await lock.text();
    r = await api(s, tokens.manager, 'UNLOCK', '/dav/WP1/plan.odt', { headers: { 'Lock-Token': token } });
    assert.equal(r.status, 204);
    assert.equal(sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'lock_break'")[0].n, 2);
    const acts = sql(s, "SELECT action FROM audit WHERE action IN ('checkout', 'checkin') ORDER BY id").map((x) => x.action);
    assert.deepEqual(acts, ['checkout', 'checkin', 'checkout', 'checkout']);
  });
});

test('check-out: bad input is refused and changes nothing', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    await put(s, tokens.writer, '/api/v1/wps/WP1/content/F/doc.txt', 'x');
    for (const [path, json, status, re] of [
      ['doc.txt', {}, 404, /./],
      ['F', {}, 400, /folder/],
      ['F/doc.txt', { minutes: 0 }, 400, /minutes/],
      ['F/doc.txt', { minutes: 'ten' }, 400, /minutes/],
      ['F/doc.txt', { minutes: 100000 }, 400, /minutes/],
      ['F/doc.txt', { until: 5 }, 400, /unknown field/],
    ]) {
      const r = await apiJson(s, tokens.writer, 'POST', `/api/v1/wps/WP1/locks/${path}`, { json });
      assert.equal(r.status, status, `${path} ${JSON.stringify(json)}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.detail, re);
    }
    let r = await apiJson(s, tokens.reader, 'POST', '/api/v1/wps/WP1/locks/F/doc.txt', {});
    assert.equal(r.status, 403);
    r = await apiJson(s, tokens.outsider, 'POST', '/api/v1/wps/WP1/locks/F/doc.txt', {});
    assert.equal(r.status, 404);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM dav_locks')[0].n, 0);
    assert.equal(sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'checkout'")[0].n, 0);
  });
});
