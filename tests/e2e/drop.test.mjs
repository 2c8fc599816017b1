// Drop links (issue 16, docs/links.md): outsiders upload into a folder
// through a link with the real tus-js-client (a lost answer and a cut
// connection, both resumed), the document named "<name> <UTC time>
// <original>", size and count limits (413/409, nothing stored), passwords, a link revoked
// mid-upload, the uploader listing and reading nothing, another link's
// upload out of reach, the audit "link #ID", the folder's followers
// told, and the scanner (clamd started here) refusing an infected drop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Upload } from 'tus-js-client';
import { withServer, freePort, existsSync } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';
import { recordSecret } from './lib/secrets.mjs';
import { EICAR, startClamd } from './lib/clamd.mjs';

const inDays = (d) => new Date(Date.now() + d * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
const b64 = (t) => Buffer.from(t).toString('base64');
const meta = (m) => Object.entries(m).map(([k, v]) => `${k} ${b64(v)}`).join(',');

async function makeLink(s, token, json) {
  const r = await apiJson(s, token, 'POST', '/api/v1/links', { json: { wp: 'WP1', expires_at: inDays(7), ...json } });
  if (r.status === 201) recordSecret(r.body.secret);
  return r;
}

// A tus creation by hand through a link; returns the response.
function create(s, secret, { length, uploader = 'Ann Auditor', filename = 'form.pdf', headers = {}, body } = {}) {
  return s.fetch(`/api/v1/s/${secret}/uploads`, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0', 'Upload-Length': String(length ?? (body ? body.length : 0)),
      'Upload-Metadata': meta({ uploader, filename }),
      ...(body ? { 'Content-Type': 'application/offset+octet-stream' } : {}),
      ...headers,
    },
    body,
  });
}
const patch = (s, location, offset, body, headers = {}) => s.fetch(location, {
  method: 'PATCH',
  headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers },
  body,
});

function tusDrop(s, secret, data, { uploader, filename, chunkSize, headers, onBeforeRequest, onAfterResponse } = {}) {
  return new Promise((resolve, reject) => {
    const up = new Upload(data, {
      endpoint: `${s.url}/api/v1/s/${secret}/uploads`,
      headers: headers || {},
      metadata: { uploader, filename, filetype: 'application/octet-stream' },
      chunkSize: chunkSize || Infinity,
      retryDelays: [100, 300, 600, 1000, 2000],
      onBeforeRequest,
      onAfterResponse,
      onError: reject,
      onSuccess: () => resolve(up),
    });
    up.start();
  });
}

async function pubJson(s, method, path, { json, headers = {} } = {}) {
  const r = await s.fetch(path, { method, headers: json ? { 'content-type': 'application/json', ...headers } : headers, body: json ? JSON.stringify(json) : undefined });
  const text = await r.text();
  let body = text;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body };
}

const inboxNames = async (s, token) => {
  const r = await apiJson(s, token, 'GET', '/api/v1/wps/WP1/tree/Inbox');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.entries || r.body.items || r.body.children).map((e) => e.name).sort();
};

test('drop links: policy, creation, tus with resume, naming, limits, the uploader sees nothing', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    let r = await api(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/Inbox/existing.txt', { body: 'already here' });
    assert.equal(r.status, 201);

    // The policy: download only refuses drop links; "drop" allows them.
    r = await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'download' } });
    assert.equal(r.status, 200);
    r = await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop' });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /download links only/);
    r = await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'drop' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.wp.links, 'drop');
    // Bad input: clear errors, nothing stored.
    for (const [json, status, re] of [
      [{ path: 'Inbox/existing.txt', kind: 'drop' }, 400, /needs a folder/],
      [{ path: 'Inbox', kind: 'drop', max_downloads: 3 }, 400, /max_files/],
      [{ path: 'Inbox', kind: 'drop', max_files: 0 }, 400, /max_files/],
      [{ path: 'Inbox', kind: 'drop', max_file_size: -1 }, 400, /max_file_size/],
      [{ path: 'Inbox', kind: 'download', max_files: 3 }, 400, /drop links/],
    ]) {
      r = await makeLink(s, tokens.writer, json);
      assert.equal(r.status, status, JSON.stringify(json));
      assert.match(r.body.detail, re);
    }
    r = await makeLink(s, tokens.reader, { path: 'Inbox', kind: 'drop' });
    assert.equal(r.status, 403);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM links')[0].n, 0);

    r = await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop', max_files: 3, max_file_size: 16 * 1024 * 1024, note: 'Send the signed forms' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.link.kind, 'drop');
    assert.equal(r.body.link.max_files, 3);
    assert.equal(r.body.link.max_file_size, 16 * 1024 * 1024);
    assert.equal(r.body.link.max_downloads, undefined);
    const secret = r.body.secret;
    const linkId = r.body.link.id;

    // What the uploader sees: note, expiry, limits; nothing of the folder.
    r = await pubJson(s, 'GET', `/api/v1/s/${secret}`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body.link).sort(), ['expires_at', 'files_left', 'kind', 'max_file_size', 'max_files', 'note', 'password_required', 'unlocked']);
    assert.equal(r.body.link.note, 'Send the signed forms');
    assert.equal(r.body.link.files_left, 3);
    assert.doesNotMatch(JSON.stringify(r.body), /existing/);
    r = await pubJson(s, 'GET', `/api/v1/s/${secret}?path=existing.txt`);
    assert.equal(r.body.link.target, undefined, 'a path shows nothing either');
    for (const path of [`/api/v1/s/${secret}/file?path=existing.txt`, `/api/v1/s/${secret}/file`, `/api/v1/s/${secret}/zip`]) {
      r = await s.fetch(path);
      const text = await r.text();
      assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status}`);
      assert.doesNotMatch(text, /already here/);
    }

    // tus-js-client, the connection cut after the first chunk: resumed.
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const offsets = [];
    let cut = false;
    const up = await tusDrop(s, secret, data, {
      uploader: 'Ann Auditor', filename: 'review report.pdf', chunkSize: 1024 * 1024,
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH') offsets.push(Number(req.getHeader('Upload-Offset')));
      },
      onAfterResponse: (req, res) => {
        // Lose the answer to the second PATCH once: the client asks HEAD
        // and resumes from the server's offset.
        if (!cut && req.getMethod() === 'PATCH' && offsets.length === 2) {
          cut = true;
          throw new Error('connection lost');
        }
      },
    });
    assert.ok(cut);
    assert.match(up.url, new RegExp(`/api/v1/s/${secret}/uploads/[A-Za-z0-9_-]{43}$`));
    // Each tus header once (a client reads them as single values); on a
    // link of its own, to leave this one's count alone.
    const hdr = (await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop' })).body.secret;
    r = await create(s, hdr, { length: 2, filename: 'hdr.txt' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('tus-resumable'), '1.0.0');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('upload-offset'), '0');
    r = await s.fetch(`/api/v1/s/${hdr}/uploads`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Metadata': meta({ uploader: 'x', filename: 'y' }) } });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('tus-resumable'), '1.0.0');
    r = await s.fetch(`/api/v1/s/${hdr}/uploads`, { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('tus-version'), '1.0.0');
    assert.deepEqual(offsets.slice(0, 3), [0, 1024 * 1024, 2 * 1024 * 1024], `resumed at the server's offset: ${offsets}`);
    let names = await inboxNames(s, tokens.reader);
    const dropped = names.find((n) => n.endsWith(' review report.pdf'));
    assert.match(dropped, /^Ann Auditor \d{4}-\d\d-\d\dT\d{6}Z review report\.pdf$/);
    r = await api(s, tokens.reader, 'GET', `/api/v1/wps/WP1/content/Inbox/${encodeURIComponent(dropped)}`);
    assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(data));
    const audit = sql(s, "SELECT actor, user_id, object, detail FROM audit WHERE action = 'upload' AND actor LIKE 'link #%'");
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor, `link #${linkId}`);
    assert.equal(audit[0].user_id, null);
    assert.equal(audit[0].object, `Inbox/${dropped}`);
    assert.equal(sql(s, `SELECT uses FROM links WHERE id = ${linkId}`)[0].uses, 1);
    // The upload's tus id is only reachable through its link.
    const id = up.url.split('/').pop();
    r = await api(s, tokens.writer, 'HEAD', `/api/v1/uploads/${id}`, { headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(r.status, 404);
    r = await s.fetch(`/api/v1/s/${secret}/uploads/${id}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('upload-offset'), String(data.length));

    // Bad names: a clear 400, nothing stored.
    for (const [m, re] of [[{ uploader: '' }, /your name/], [{ filename: '' }, /file's name/], [{ uploader: 'a/b' }, /'\/'/],
      [{ filename: '../x' }, /'\/'/], [{ filename: 'x\u0001y' }, /not allowed/], [{ uploader: 'x'.repeat(101) }, /your name/]]) {
      r = await create(s, secret, { length: 3, ...m });
      assert.equal(r.status, 400, JSON.stringify(m));
      assert.match((await r.json()).detail, re);
    }
    // Over the size limit: 413, nothing stored.
    r = await create(s, secret, { length: 16 * 1024 * 1024 + 1 });
    assert.equal(r.status, 413);
    assert.match((await r.json()).detail, /at most 16777216 bytes/);
    assert.equal(sql(s, `SELECT count(*) AS n FROM uploads WHERE link_id = ${linkId} AND version IS NULL`)[0].n, 0);

    // Another link's upload is out of reach of this one.
    r = await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop' });
    const other = r.body.secret;
    r = await create(s, other, { length: 10, filename: 'other.txt', uploader: 'Carl' });
    assert.equal(r.status, 201);
    const otherLoc = r.headers.get('location');
    const otherId = otherLoc.split('/').pop();
    r = await patch(s, `/api/v1/s/${secret}/uploads/${otherId}`, 0, 'abcdefghij');
    assert.equal(r.status, 404);
    r = await s.fetch(`/api/v1/s/${secret}/uploads/${otherId}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(r.status, 404);
    r = await patch(s, otherLoc, 0, 'abcdefghij');
    assert.equal(r.status, 204);

    // The count limit: 3 files. One is in, two more start; a fourth is
    // refused while they are on their way (409), and so is a finished
    // fourth once the link is full.
    const a = await create(s, secret, { length: 5, filename: 'a.txt' });
    assert.equal(a.status, 201);
    const b = await create(s, secret, { length: 5, filename: 'b.txt', body: 'bbbbb' });
    assert.equal(b.status, 201);
    r = await create(s, secret, { length: 5, filename: 'c.txt' });
    assert.equal(r.status, 409);
    assert.match((await r.json()).detail, /accepts 3 files/);
    r = await patch(s, a.headers.get('location'), 0, 'aaaaa');
    assert.equal(r.status, 204);
    r = await pubJson(s, 'GET', `/api/v1/s/${secret}`);
    assert.equal(r.body.link.files_left, 0);
    r = await create(s, secret, { length: 5, filename: 'd.txt', body: 'ddddd' });
    assert.equal(r.status, 409);
    names = await inboxNames(s, tokens.reader);
    assert.equal(names.filter((n) => n.startsWith('Ann Auditor ')).length, 3, names.join('|'));
    assert.ok(!names.some((n) => /[cd]\.txt$/.test(n)));

    // The count is checked again in the commit's transaction: a link that
    // filled up while a file was on its way refuses it (409, nothing
    // stored) and the upload is gone (HEAD 404), so a client stops.
    r = await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop', max_files: 1 });
    const one = r.body;
    const x = await create(s, one.secret, { length: 5, filename: 'late.txt', uploader: 'Late' });
    assert.equal(x.status, 201);
    sql(s, `UPDATE links SET uses = 1 WHERE id = ${one.link.id}`);
    r = await patch(s, x.headers.get('location'), 0, 'lllll');
    assert.equal(r.status, 409);
    assert.match((await r.json()).detail, /nothing was stored/);
    r = await s.fetch(x.headers.get('location'), { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(r.status, 404);
    assert.ok(!existsSync(`${s.dataDir}/uploads/${x.headers.get('location').split('/').pop()}`), 'its bytes are gone too');
    assert.ok(!(await inboxNames(s, tokens.reader)).some((n) => n.startsWith('Late ')));
    assert.equal(sql(s, `SELECT count(*) AS n FROM audit WHERE actor = 'link #${one.link.id}' AND action = 'upload'`)[0].n, 0);

    // Termination: an unfinished upload cancelled through its own link
    // (another link's secret: 404) frees its slot.
    const two = (await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop', max_files: 1 })).body;
    const y = await create(s, two.secret, { length: 5, filename: 'y.txt', uploader: 'Yan' });
    assert.equal(y.status, 201);
    assert.equal((await create(s, two.secret, { length: 5, filename: 'z.txt', uploader: 'Yan' })).status, 409);
    const yid = y.headers.get('location').split('/').pop();
    const del = (path) => s.fetch(path, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal((await del(`/api/v1/s/${secret}/uploads/${yid}`)).status, 404);
    assert.equal((await del(y.headers.get('location'))).status, 204);
    assert.equal(sql(s, `SELECT count(*) AS n FROM uploads WHERE id = '${yid}'`)[0].n, 0);
    assert.equal((await create(s, two.secret, { length: 5, filename: 'z.txt', uploader: 'Yan', body: 'zzzzz' })).status, 201);

    // An upload left idle for over an hour (a browser closed for good)
    // stops holding its place: another file may come. Should the idle one
    // come back after the link filled up, its commit is refused.
    const three = (await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop', max_files: 1 })).body;
    const idle = await create(s, three.secret, { length: 10, filename: 'idle.txt', uploader: 'Ida' });
    assert.equal(idle.status, 201);
    const idleLoc = idle.headers.get('location');
    assert.equal((await patch(s, idleLoc, 0, 'iiiii')).status, 204);
    assert.equal((await create(s, three.secret, { length: 5, filename: 'w.txt', uploader: 'Wim' })).status, 409);
    sql(s, `UPDATE uploads SET created_at = created_at - 3700, touched_at = touched_at - 3700 WHERE link_id = ${three.link.id}`);
    assert.equal((await create(s, three.secret, { length: 5, filename: 'w.txt', uploader: 'Wim', body: 'wwwww' })).status, 201);
    r = await patch(s, idleLoc, 5, 'iiiii');
    assert.equal(r.status, 409);
    assert.match((await r.json()).detail, /nothing was stored/);
    names = await inboxNames(s, tokens.reader);
    assert.ok(names.some((n) => /^Wim .*w\.txt$/.test(n)) && !names.some((n) => /idle\.txt$/.test(n)), names.join('|'));
  });
});

test('drop links: password, revoked mid-upload, followers told, guessed secrets', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    let r = await api(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/Inbox/readme.txt', { body: 'x' });
    assert.equal(r.status, 201);
    r = await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'drop', links_password: true } });
    assert.equal(r.status, 200);
    r = await apiJson(s, tokens.reader, 'PUT', '/api/v1/follows', { json: { wp: 'WP1', path: 'Inbox' } });
    assert.equal(r.status, 200);
    r = await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop' });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /password/);
    r = await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop', password: 'a long secret phrase' });
    assert.equal(r.status, 201);
    const { secret } = r.body;
    const linkId = r.body.link.id;

    // Without the password (missing or wrong key): 401, nothing stored.
    r = await create(s, secret, { length: 4, body: 'abcd' });
    assert.equal(r.status, 401);
    r = await create(s, secret, { length: 4, body: 'abcd', headers: { 'X-Link-Key': '0'.repeat(48) } });
    assert.equal(r.status, 401);
    r = await pubJson(s, 'POST', `/api/v1/s/${secret}/unlock`, { json: { password: 'wrong wrong wrong' } });
    assert.equal(r.status, 401);
    r = await pubJson(s, 'GET', `/api/v1/s/${secret}`);
    assert.equal(r.body.link.note, undefined, 'nothing shown before the password');
    r = await pubJson(s, 'POST', `/api/v1/s/${secret}/unlock`, { json: { password: 'a long secret phrase' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const key = r.body.key;
    assert.equal(sql(s, "SELECT count(*) AS n FROM uploads WHERE link_id IS NOT NULL")[0].n, 0);

    // With the key, through tus-js-client.
    await tusDrop(s, secret, Buffer.from('signed form'), { uploader: 'Bob', filename: 'form.txt', headers: { 'X-Link-Key': key } });
    const names = await inboxNames(s, tokens.reader);
    assert.equal(names.length, 2);
    // The folder's follower sees the drop in the feed.
    r = await apiJson(s, tokens.reader, 'GET', '/api/v1/activity');
    assert.match(JSON.stringify(r.body), new RegExp(`link #${linkId}`), JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), /Bob \d{4}-\d\d-\d\dT\d{6}Z form\.txt/);

    // Revoked mid-upload: the rest is refused, nothing stored.
    r = await create(s, secret, { length: 10, filename: 'half.txt', body: 'hello', headers: { 'X-Link-Key': key } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('upload-offset'), '5');
    const loc = r.headers.get('location');
    r = await apiJson(s, tokens.writer, 'DELETE', `/api/v1/links/${linkId}`);
    assert.equal(r.status, 200);
    r = await patch(s, loc, 5, 'world', { 'X-Link-Key': key });
    assert.equal(r.status, 404);
    r = await s.fetch(loc, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', 'X-Link-Key': key } });
    assert.equal(r.status, 404);
    assert.deepEqual(await inboxNames(s, tokens.reader), names);

    // Guessed and malformed secrets: 404.
    for (const g of ['A'.repeat(43), 'short', `${secret.slice(0, -1)}x`]) {
      r = await create(s, g, { length: 4, body: 'abcd' });
      assert.equal(r.status, 404, g);
    }
    // A download link takes no uploads.
    r = await makeLink(s, tokens.writer, { path: 'Inbox', password: 'a long secret phrase' });
    r = await create(s, r.body.secret, { length: 4, body: 'abcd' });
    assert.equal(r.status, 404);
    assert.deepEqual(await inboxNames(s, tokens.reader), names);
  });
});

test('drop links: the connection cut mid-upload, tus-js-client resumes from the bytes kept', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    assert.equal((await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'drop' } })).status, 200);
    assert.equal((await api(s, tokens.writer, 'POST', '/api/v1/wps/WP1/folders', { json: { path: 'Inbox' } })).status, 201);
    const { secret } = (await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop' })).body;
    // A proxy that cuts the first upload connection after 5 MiB, then
    // keeps the network down until the server saved what arrived.
    const port = await freePort();
    const size = 8 * 1024 * 1024;
    let forwarded = 0, cuts = 0;
    const proxy = net.createServer(async (client) => {
      if (cuts) {
        client.pause();
        const deadline = Date.now() + 15000;
        while (!sql(s, `SELECT 1 FROM uploads WHERE length = ${size} AND offset > 0`).length && Date.now() < deadline)
          await new Promise((res) => setTimeout(res, 100));
        client.resume();
      }
      const upstream = net.connect(s.port, '127.0.0.1');
      client.on('data', (d) => {
        forwarded += d.length;
        if (cuts === 0 && forwarded > 5 * 1024 * 1024) {
          cuts++;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(d);
      });
      upstream.on('data', (d) => client.write(d));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise((res) => proxy.listen(port, '127.0.0.1', res));
    try {
      const data = randomBytes(size);
      const patches = [];
      await tusDrop({ url: `https://localhost:${port}` }, secret, data, {
        uploader: 'Cut Off', filename: 'big.bin',
        onBeforeRequest: (req) => { if (req.getMethod() === 'PATCH') patches.push(Number(req.getHeader('Upload-Offset'))); },
      });
      assert.equal(cuts, 1);
      assert.equal(patches[0], 0);
      assert.ok(patches.length >= 2 && patches[1] > 0, `resumed from the bytes kept, not 0: ${patches}`);
      const names = await inboxNames(s, tokens.reader);
      assert.equal(names.length, 1);
      const r = await api(s, tokens.reader, 'GET', `/api/v1/wps/WP1/content/Inbox/${encodeURIComponent(names[0])}`);
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(data));
    } finally {
      proxy.close();
    }
  });
});

test('drop links: content goes through the scanner like any upload (infected refused, nothing stored)', async () => {
  const clamd = await startClamd();
  try {
    await withServer({ args: ['--clamd-socket', clamd.sock, '--clamd-wait', '500ms'] }, async (s) => {
      const { tokens } = await consortium(s);
      assert.equal((await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'drop' } })).status, 200);
      assert.equal((await api(s, tokens.writer, 'POST', '/api/v1/wps/WP1/folders', { json: { path: 'Inbox' } })).status, 201);
      const { secret, link } = (await makeLink(s, tokens.writer, { path: 'Inbox', kind: 'drop', max_files: 5 })).body;
      let r = await create(s, secret, { filename: 'eicar.txt', body: Buffer.from(EICAR) });
      assert.equal(r.status, 422);
      const body = await r.json();
      assert.equal(body.error, 'infected');
      assert.deepEqual(await inboxNames(s, tokens.reader), []);
      assert.equal(sql(s, `SELECT uses FROM links WHERE id = ${link.id}`)[0].uses, 0, 'a refused file counts nothing');
      assert.equal(sql(s, `SELECT count(*) AS n FROM audit WHERE action = 'upload_refused' AND actor = 'link #${link.id}'`)[0].n, 1);
      r = await create(s, secret, { filename: 'clean.txt', body: Buffer.from('clean text\n') });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('x-consort-scan'), 'clean');
      assert.equal((await inboxNames(s, tokens.reader)).length, 1);
    });
  } finally {
    await clamd.stop();
  }
});
