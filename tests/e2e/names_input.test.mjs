// Names that look like other names (issue 13): invisible and bidi
// characters, look-alike separators, Windows device names and trailing
// dots, empty path segments, and a name that only looks like a
// sibling's, refused with a clear 400 or 409 on every way a name comes
// in (API upload, folder, move, rename, trash restore, tus, WebDAV PUT,
// MKCOL, MOVE, COPY), and nothing changed. Also the two parser
// leniencies: a second Depth header, and the WebDAV listing of a folder
// that holds a locked document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, parseResponses } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, api, apiJson, urlPath } from './lib/docs.mjs';

const b64 = (t) => Buffer.from(t).toString('base64');
const basic = (email, token) => `Basic ${b64(`${email}:${token}`)}`;
const TUS = { 'Tus-Resumable': '1.0.0' };

// Everything about the tree that a refused request must leave alone.
function snapshot(s) {
  return JSON.stringify(sql(s, 'SELECT id, parent_id, name, trashed_at, current_version FROM nodes ORDER BY id')) +
    JSON.stringify(sql(s, 'SELECT count(*) AS n FROM versions'));
}

test('names: invisible, bidi, look-alike separators, Windows names and empty segments are 400', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const w = tokens.writer;
    const dav = (method, path, headers = {}, body) => s.fetch(path, { method, body,
      headers: { authorization: basic(emails.writer, w), ...headers } });
    assert.equal((await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/ok.txt', { body: 'x' })).status, 201);
    const before = snapshot(s);
    const cases = [
      ['Rep\u200Bort.pdf', /invisible character \(U\+200B\)/],
      ['Re\u00ADport.pdf', /invisible character \(U\+00AD\)/],
      ['a\u200Fb.pdf', /bidirectional control character \(U\+200F\)/],
      ['a\u061Cb.pdf', /bidirectional control character \(U\+061C\)/],
      ['invoice\u202Efdp.exe', /bidirectional/],
      ['\uFEFFnotes.txt', /invisible/],
      ['Reports\u2044D5.pdf', /looks like '\/'/],
      ['Reports\u2215D5.pdf', /looks like '\/'/],
      ['Reports\uFF0FD5.pdf', /looks like '\/'/],
      ['\uFF0E\uFF0E', /looks like '\.\.'/],
      ['nul.txt', /reserved on Windows \(the device name nul\)/],
      ['CON', /reserved on Windows/],
      ['Com1.log', /reserved on Windows/],
      ['lpt9', /reserved on Windows/],
      ['report.', /ends with a dot \(Windows drops it/],
      ['report ', /ends with a space/],
    ];
    for (const [name, why] of cases) {
      let r = await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/${encodeURIComponent(name)}`, { body: 'x' });
      assert.equal(r.status, 400, `PUT ${JSON.stringify(name)}: ${r.status}`);
      assert.match(r.body.detail, why, JSON.stringify(name));
      // JSON strings refuse controls and bidi characters themselves
      const jsonWhy = new RegExp(`${why.source}|must not contain control characters`);
      r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/folders', { json: { path: name } });
      assert.equal(r.status, 400, `folder ${JSON.stringify(name)}`);
      assert.match(r.body.detail, jsonWhy);
      r = await apiJson(s, w, 'PATCH', '/api/v1/wps/WP1/tree/ok.txt', { json: { name } });
      assert.equal(r.status, 400, `rename to ${JSON.stringify(name)}`);
      r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'ok.txt', to: name } });
      assert.equal(r.status, 400, `move to ${JSON.stringify(name)}`);
      r = await apiJson(s, w, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': '1',
        'Upload-Metadata': `wp ${b64('WP1')},path ${b64(name)}` } });
      assert.equal(r.status, 400, `tus ${JSON.stringify(name)}`);
      assert.match(r.body.detail, why);
      let d = await dav('PUT', `/dav/WP1/${encodeURIComponent(name)}`, {}, 'x');
      assert.equal(d.status, 400, `dav PUT ${JSON.stringify(name)}`);
      assert.match(await d.text(), why);
      d = await dav('MKCOL', `/dav/WP1/${encodeURIComponent(name)}`);
      assert.equal(d.status, 400, `dav MKCOL ${JSON.stringify(name)}`);
    }
    // An empty segment anywhere, the first one too.
    for (const path of ['/api/v1/wps/WP1/content//a.txt', '/api/v1/wps/WP1/content/a//b.txt', '/api/v1/wps/WP1/content//']) {
      const r = await apiJson(s, w, 'PUT', path, { body: 'x' });
      assert.equal(r.status, 400, path);
      assert.match(r.body.detail, /empty name/);
    }
    assert.equal((await dav('PUT', '/dav/WP1//a.txt', {}, 'x')).status, 400);
    assert.equal((await apiJson(s, w, 'GET', '/api/v1/wps/WP1/content//ok.txt')).status, 400);
    assert.equal(snapshot(s), before, 'nothing changed');
    // Allowed: names that merely resemble a rule.
    for (const name of ['CONSORT.txt', 'COM10.txt', 'nul-report.txt', 'x\uFF0Ey', 'notes \u2764\uFE0F.txt'])
      assert.equal((await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/${encodeURIComponent(name)}`, { body: 'x' })).status, 201, name);
  });
});

test('names: a name that only looks like a sibling is 409 naming it, on every way in', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const w = tokens.writer;
    const dav = (method, path, headers = {}, body) => s.fetch(path, { method, body,
      headers: { authorization: basic(emails.writer, w), ...headers } });
    const wide = '\uFF52\uFF45\uFF50\uFF4F\uFF52\uFF54.pdf'; // ｒｅｐｏｒｔ.pdf
    const dot = 'report\uFF0Epdf'; // report．pdf
    assert.equal((await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/report.pdf', { body: 'v1' })).status, 201);
    // Same name in another case: a new version, as before.
    assert.equal((await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/Report.PDF', { body: 'v2' })).status, 200);
    assert.equal((await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/other.pdf', { body: 'o' })).status, 201);
    assert.equal((await apiJson(s, w, 'POST', '/api/v1/wps/WP1/folders', { json: { path: 'Files' } })).status, 201);
    const before = snapshot(s);
    const clash = /looks the same as 'report\.pdf', which is already in this folder/;
    let r = await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/${urlPath(wide)}`, { body: 'x' });
    assert.equal(r.status, 409);
    assert.match(r.body.detail, clash);
    r = await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/${urlPath(dot)}`, { body: 'x' });
    assert.equal(r.status, 409);
    r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/folders', { json: { path: '\uFF26iles' } });
    assert.equal(r.status, 409);
    assert.match(r.body.detail, /looks the same as 'Files'/);
    r = await apiJson(s, w, 'PATCH', '/api/v1/wps/WP1/tree/other.pdf', { json: { name: wide } });
    assert.equal(r.status, 409);
    assert.match(r.body.detail, clash);
    r = await apiJson(s, w, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'other.pdf', to: dot } });
    assert.equal(r.status, 409);
    // tus: refused at creation, before any byte.
    r = await apiJson(s, w, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': '1',
      'Upload-Metadata': `wp ${b64('WP1')},path ${b64(wide)}` } });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.match(r.body.detail, clash);
    // WebDAV
    let d = await dav('PUT', `/dav/WP1/${urlPath(wide)}`, {}, 'x');
    assert.equal(d.status, 409);
    assert.match(await d.text(), clash);
    d = await dav('MKCOL', `/dav/WP1/${urlPath('\uFF26iles')}`);
    assert.equal(d.status, 409);
    for (const method of ['MOVE', 'COPY']) {
      d = await dav(method, '/dav/WP1/other.pdf', { destination: `/dav/WP1/${urlPath(dot)}` });
      assert.equal(d.status, 409, method);
      assert.match(await d.text(), clash);
    }
    assert.equal(snapshot(s), before, 'nothing changed');
    // Restoring from the trash onto a look-alike: 409; under another name: fine.
    r = await apiJson(s, w, 'DELETE', '/api/v1/wps/WP1/tree/report.pdf');
    assert.equal(r.status, 200);
    const trashId = r.body.trash_id;
    assert.equal((await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/${urlPath(wide)}`, { body: 'new' })).status, 201);
    r = await apiJson(s, w, 'POST', `/api/v1/wps/WP1/trash/${trashId}/restore`);
    assert.equal(r.status, 409);
    assert.match(r.body.detail, /looks the same as 'ｒｅｐｏｒｔ\.pdf'/);
    r = await apiJson(s, w, 'POST', `/api/v1/wps/WP1/trash/${trashId}/restore`, { json: { name: 'report (old).pdf' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
});

test('names: look-alikes stored before the check stay readable and fsck reports them', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    assert.equal((await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/report.pdf', { body: 'a' })).status, 201);
    assert.equal((await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/notes.txt', { body: 'b' })).status, 201);
    // As if written before the rule existed: the name changed behind the tree's back.
    const wide = '\uFF52\uFF45\uFF50\uFF4F\uFF52\uFF54.pdf';
    sql(s, `UPDATE nodes SET name = '${wide}', name_key = '${wide}', look_key = 'report.pdf' WHERE name = 'notes.txt'`);
    const r = await api(s, w, 'GET', `/api/v1/wps/WP1/content/${urlPath(wide)}`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'b');
    await s.stop();
    const { runConsort } = await import('./lib/server.mjs');
    const f = runConsort(['fsck', '--data', s.dataDir]);
    assert.notEqual(f.status, 0);
    assert.match(f.stdout + f.stderr, /'report\.pdf' and \d+ 'ｒｅｐｏｒｔ\.pdf' are in the same folder and look the same/);
  });
});

test('dav: two Depth headers are 400 like two Destination headers; a listing with a lock works', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const auth = basic(emails.writer, tokens.writer);
    const dav = (method, path, headers = {}, body) => s.fetch(path, { method, body, headers: { authorization: auth, ...headers } });
    assert.equal((await dav('PUT', '/dav/WP1/a.txt', {}, 'x')).status, 201);
    const raw = async (head, body = '') => parseResponses((await s.raw(`${head}Host: t\r\nAuthorization: ${auth}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)).text)[0];
    const LOCKINFO = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
    let res = await raw('PROPFIND /dav/WP1/ HTTP/1.1\r\nDepth: 1\r\nDepth: 0\r\n');
    assert.equal(res.status, 400);
    assert.match(res.body, /give one Depth header/);
    res = await raw('PROPFIND /dav/WP1/ HTTP/1.1\r\nDepth: 1\r\n');
    assert.equal(res.status, 207);
    for (const m of ['COPY', 'MOVE']) {
      res = await raw(`${m} /dav/WP1/a.txt HTTP/1.1\r\nDestination: /dav/WP1/b.txt\r\nDepth: infinity\r\nDepth: 0\r\n`);
      assert.equal(res.status, 400, m);
      res = await raw(`${m} /dav/WP1/a.txt HTTP/1.1\r\nDestination: /dav/WP1/b.txt\r\nDestination: /dav/WP1/c.txt\r\n`);
      assert.equal(res.status, 400, m);
    }
    res = await raw('LOCK /dav/WP1/a.txt HTTP/1.1\r\nDepth: 0\r\nDepth: infinity\r\n', LOCKINFO);
    assert.equal(res.status, 400);
    assert.equal(sql(s, "SELECT count(*) AS n FROM nodes WHERE name IN ('b.txt', 'c.txt')")[0].n, 0);
    // A folder listing whose entries are compared with a lock: keys are
    // computed for each entry (this path crashed the server before).
    const lock = await dav('LOCK', '/dav/WP1/a.txt', { timeout: 'Second-60' }, LOCKINFO);
    assert.equal(lock.status, 200);
    const list = await dav('PROPFIND', '/dav/WP1/', { depth: '1' },
      '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>');
    assert.equal(list.status, 207);
    assert.match(await list.text(), /<D:href>\/dav\/WP1\/a.txt<\/D:href><D:propstat><D:prop><D:lockdiscovery><D:activelock>/);
    assert.equal((await s.fetch('/healthz')).status, 200);
  });
});
