// Share links (issue 16, docs/links.md): the work package's policy set by
// its managers; who may make a link to what; the recipient's side with
// fetch and curl (metadata, download headers, fixed version or latest,
// password wrong/missing/throttled, download limit, expiry, revoke,
// creator disabled or without access, guessed secrets); a folder link
// browsed and its ZIP checked with unzip; listings, CSV, the audit, and
// the secret kept out of the logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withServer, tempDir } from './lib/server.mjs';
import { addUser, consort, grant, sql, Session } from './lib/accounts.mjs';
import { consortium, api, apiJson, sha256, curl } from './lib/docs.mjs';
import { recordSecret } from './lib/secrets.mjs';

const put = async (s, token, path, body) => {
  const r = await api(s, token, 'PUT', `/api/v1/wps/WP1/content/${path}`, { body });
  assert.ok(r.status === 201 || r.status === 200, `PUT ${path}: ${r.status} ${await r.text()}`);
};
const inDays = (d) => new Date(Date.now() + d * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
const pub = (s, path, opts) => s.fetch(path, opts);
async function pubJson(s, path, opts) {
  const r = await pub(s, path, opts);
  const text = await r.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body };
}
async function makeLink(s, token, json) {
  const r = await apiJson(s, token, 'POST', '/api/v1/links', { json: { wp: 'WP1', expires_at: inDays(7), ...json } });
  if (r.status === 201) recordSecret(r.body.secret);
  return r;
}
const policy = (s, token, json) => apiJson(s, token, 'PATCH', '/api/v1/wps/WP1', { json });

test('policy, who may make links, and the recipient side of a document link', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    await put(s, tokens.writer, 'Report.pdf', 'version one');

    // Links are off until a manager allows them.
    let r = await makeLink(s, tokens.writer, { path: 'Report.pdf' });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /share links are off/);
    r = await policy(s, tokens.writer, { links: 'download' });
    assert.equal(r.status, 403);
    for (const [json, re] of [[{ links: 'everything' }, /links/], [{ links_max_days: 0 }, /links_max_days/],
      [{ links_max_days: 366 }, /links_max_days/], [{ links_password: 'yes' }, /links_password/]]) {
      r = await policy(s, tokens.manager, json);
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.match(r.body.detail, re);
    }
    r = await apiJson(s, tokens.manager, 'GET', '/api/v1/wps/WP1');
    assert.equal(r.body.wp.links, 'off');
    r = await policy(s, tokens.manager, { links: 'download', links_max_days: 10 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.wp.links, 'download');
    assert.equal(r.body.wp.links_max_days, 10);
    assert.equal(r.body.wp.links_password, false);
    assert.equal(sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'wp_update' AND detail LIKE '%links=download%'")[0].n, 1);

    // Who may make one: a reader may not, an outsider sees no WP.
    r = await makeLink(s, tokens.reader, { path: 'Report.pdf' });
    assert.equal(r.status, 403);
    r = await makeLink(s, tokens.outsider, { path: 'Report.pdf' });
    assert.equal(r.status, 404);
    // Bad input: clear errors, nothing stored.
    for (const [json, status, re] of [
      [{ path: 'Report.pdf', expires_at: inDays(11) }, 400, /at most 10 days/],
      [{ path: 'Report.pdf', expires_at: '2001-01-01' }, 400, /future/],
      [{ path: 'Report.pdf', expires_at: 'tomorrow' }, 400, /expires_at/],
      [{ path: 'Report.pdf', expires_at: `${inDays(5).slice(0, 4)}-02-30` }, 400, /expires_at/],
      [{ path: 'Report.pdf', expires_at: undefined }, 400, /expires_at/],
      [{ path: 'Missing.pdf' }, 404, /Missing/],
      [{ path: 'Report.pdf', version: 7 }, 404, /version/],
      [{ path: 'Report.pdf', password: 'short' }, 400, /password/],
      [{ path: 'Report.pdf', max_downloads: 0 }, 400, /max_downloads/],
      [{ path: 'Report.pdf', kind: 'upload' }, 400, /kind/],
      [{ path: '../etc' }, 400, /path/],
    ]) {
      r = await makeLink(s, tokens.writer, json);
      assert.equal(r.status, status, JSON.stringify(json) + JSON.stringify(r.body));
      assert.match(r.body.detail, re);
    }
    assert.equal(sql(s, 'SELECT count(*) AS n FROM links')[0].n, 0);

    // A link to the latest version and one to version 1.
    const latest = await makeLink(s, tokens.writer, { path: 'Report.pdf', note: 'For the review' });
    assert.equal(latest.status, 201, JSON.stringify(latest.body));
    assert.equal(latest.body.secret.length, 43);
    assert.equal(latest.body.url, `/s/${latest.body.secret}`);
    assert.equal(latest.body.link.state, 'live');
    const fixed = await makeLink(s, tokens.writer, { path: 'Report.pdf', version: 1 });
    assert.equal(fixed.status, 201);
    // Only the hash of the secret is stored.
    const stored = sql(s, 'SELECT hex(secret_hash) AS h FROM links ORDER BY id')[0].h.toLowerCase();
    assert.equal(stored, sha256(latest.body.secret));
    await put(s, tokens.writer, 'Report.pdf', 'version two');

    // The page of the app, the metadata, the download.
    r = await pub(s, latest.body.url);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/html/);
    r = await pubJson(s, `/api/v1/s/${latest.body.secret}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.body.link.note, 'For the review');
    assert.equal(r.body.link.password_required, false);
    assert.equal(r.body.link.target.type, 'document');
    assert.equal(r.body.link.target.name, 'Report.pdf');
    assert.equal(r.body.link.target.version, 2);
    r = await pub(s, `/api/v1/s/${latest.body.secret}/file`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'version two');
    assert.match(r.headers.get('content-disposition'), /^attachment; filename="Report.pdf"/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.match(r.headers.get('content-security-policy'), /sandbox/);
    const c = await curl(['-D', '-', '-o', '/dev/null', `${s.url}/api/v1/s/${fixed.body.secret}/file`]);
    assert.match(c.stdout.toString(), /content-disposition: attachment/i);
    r = await pub(s, `/api/v1/s/${fixed.body.secret}/file`);
    assert.equal(await r.text(), 'version one');
    // Nothing else is reachable with it: a path under a document, the API.
    r = await pubJson(s, `/api/v1/s/${latest.body.secret}/file?path=x`);
    assert.equal(r.status, 404);
    r = await pubJson(s, `/api/v1/s/${latest.body.secret}/zip`);
    assert.equal(r.status, 400);
    r = await pubJson(s, '/api/v1/wps/WP1', { headers: { authorization: `Bearer ${latest.body.secret}` } });
    assert.equal(r.status, 401);

    // Guessed and malformed secrets: 404, all alike.
    const guess = latest.body.secret.slice(0, -1) + (latest.body.secret.endsWith('A') ? 'B' : 'A');
    for (const sec of [guess, 'x', 'A'.repeat(43), latest.body.secret + 'A']) {
      r = await pubJson(s, `/api/v1/s/${encodeURIComponent(sec)}`);
      assert.equal(r.status, 404, sec);
      r = await pubJson(s, `/api/v1/s/${encodeURIComponent(sec)}/file`);
      assert.equal(r.status, 404);
    }

    // Revoke: another writer may not; its creator may; 404 at once.
    r = await apiJson(s, tokens.other, 'DELETE', `/api/v1/links/${fixed.body.link.id}`);
    assert.equal(r.status, 403);
    r = await apiJson(s, tokens.outsider, 'DELETE', `/api/v1/links/${fixed.body.link.id}`);
    assert.equal(r.status, 404);
    r = await apiJson(s, tokens.writer, 'DELETE', `/api/v1/links/${fixed.body.link.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.link.state, 'revoked');
    r = await pubJson(s, `/api/v1/s/${fixed.body.secret}/file`);
    assert.equal(r.status, 404);
    assert.match(r.body.detail, /does not exist, has expired or was revoked/);

    // Listings: mine, the manager's, nobody else's; CSV.
    r = await apiJson(s, tokens.writer, 'GET', '/api/v1/links');
    assert.deepEqual(r.body.links.map((l) => l.id), [latest.body.link.id]);
    r = await apiJson(s, tokens.writer, 'GET', '/api/v1/links?state=all');
    assert.equal(r.body.links.length, 2);
    r = await apiJson(s, tokens.manager, 'GET', '/api/v1/links?wp=WP1');
    assert.equal(r.body.links.length, 1);
    assert.equal(r.body.links[0].uses, 1);
    assert.equal(r.body.links[0].creator.email, 'writer@a.example');
    r = await apiJson(s, tokens.other, 'GET', '/api/v1/links');
    assert.deepEqual(r.body.links, []);
    r = await apiJson(s, tokens.outsider, 'GET', '/api/v1/links?wp=WP1');
    assert.equal(r.status, 404);
    r = await api(s, tokens.manager, 'GET', '/api/v1/links?format=csv&state=all');
    assert.match(r.headers.get('content-type'), /text\/csv/);
    const csv = (await r.text()).trim().split('\r\n');
    assert.equal(csv.length, 3);
    assert.match(csv[0], /^id,kind,wp,path,creator/);
    assert.match(csv[1], /,download,WP1,Report.pdf,writer@a.example,/);

    // Audit: every access.
    const rows = sql(s, "SELECT action, actor FROM audit WHERE action LIKE 'link%' ORDER BY id");
    const actions = rows.map((a) => a.action);
    for (const a of ['link_create', 'link_view', 'link_download', 'link_revoke']) assert.ok(actions.includes(a), a);
    assert.ok(rows.some((a) => a.action === 'link_download' && a.actor === `link #${latest.body.link.id}`));
    assert.ok(!s.log.includes(latest.body.secret));

    // Expiry times as scripts write them: JavaScript's toISOString (with
    // milliseconds) and a local time with its offset.
    for (const expires_at of [new Date(Date.now() + 3 * 86400e3).toISOString(), inDays(4).replace('Z', '+02:00')]) {
      r = await makeLink(s, tokens.writer, { path: 'Report.pdf', expires_at });
      assert.equal(r.status, 201, expires_at + JSON.stringify(r.body));
      const want = Math.floor(Date.parse(expires_at) / 1000) * 1000;
      assert.equal(Date.parse(r.body.link.expires_at), want, expires_at);
    }
  });
});

test('password, download limit, expiry, creator disabled or without access', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    await put(s, tokens.writer, 'Secret.txt', 'classified');
    await policy(s, tokens.manager, { links: 'download', links_password: true });
    let r = await makeLink(s, tokens.writer, { path: 'Secret.txt' });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /requires a password/);
    const pw = await makeLink(s, tokens.writer, { path: 'Secret.txt', password: 'open sesame 42' });
    assert.equal(pw.status, 201);
    assert.equal(pw.body.link.password, true);
    assert.match(sql(s, 'SELECT password_hash FROM links')[0].password_hash, /^\$argon2id\$/);
    const sec = pw.body.secret;

    r = await pubJson(s, `/api/v1/s/${sec}`);
    assert.equal(r.body.link.password_required, true);
    assert.equal(r.body.link.unlocked, false);
    assert.equal(r.body.link.target, undefined);
    assert.equal(r.body.link.note, undefined);
    r = await pubJson(s, `/api/v1/s/${sec}/file`);
    assert.equal(r.status, 401);
    r = await pubJson(s, `/api/v1/s/${sec}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 400);
    r = await pubJson(s, `/api/v1/s/${sec}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'wrong' }) });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_credentials');
    r = await pubJson(s, `/api/v1/s/${sec}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'open sesame 42' }) });
    assert.equal(r.status, 200);
    const key = r.body.key;
    assert.equal(key.length, 48);
    r = await pubJson(s, `/api/v1/s/${sec}`, { headers: { 'x-link-key': key } });
    assert.equal(r.body.link.unlocked, true);
    assert.equal(r.body.link.target.name, 'Secret.txt');
    r = await pub(s, `/api/v1/s/${sec}/file?key=${key}`);
    assert.equal(await r.text(), 'classified');
    r = await pubJson(s, `/api/v1/s/${sec}/file?key=${'0'.repeat(48)}`);
    assert.equal(r.status, 401);

    // Guessing is throttled like a sign-in: 429 with Retry-After.
    let throttled = null;
    for (let i = 0; i < 15 && !throttled; i++) {
      r = await pubJson(s, `/api/v1/s/${sec}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: `guess ${i}` }) });
      if (r.status === 429) throttled = r;
      else assert.equal(r.status, 401);
    }
    assert.ok(throttled, 'no 429');
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    // ...even with the right password now.
    r = await pubJson(s, `/api/v1/s/${sec}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'open sesame 42' }) });
    assert.equal(r.status, 429);
    const failed = sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'link_password_failed'")[0].n;
    assert.ok(failed >= 6, String(failed));

    // A download limit, counted atomically: 5 at once for a limit of 3.
    await policy(s, tokens.manager, { links_password: false });
    const lim = await makeLink(s, tokens.writer, { path: 'Secret.txt', max_downloads: 3 });
    const got = await Promise.all([0, 1, 2, 3, 4].map(() => pub(s, `/api/v1/s/${lim.body.secret}/file`).then(async (x) => { await x.arrayBuffer(); return x.status; })));
    assert.deepEqual(got.sort(), [200, 200, 200, 404, 404]);
    assert.equal(sql(s, `SELECT uses FROM links WHERE id = ${lim.body.link.id}`)[0].uses, 3);
    r = await pubJson(s, `/api/v1/s/${lim.body.secret}`);
    assert.equal(r.status, 404);

    // Expiry: a link that ends in 2 s.
    const soon = await makeLink(s, tokens.writer, { path: 'Secret.txt', expires_at: String(Math.floor(Date.now() / 1000) + 2) });
    assert.equal(soon.status, 201, JSON.stringify(soon.body));
    r = await pubJson(s, `/api/v1/s/${soon.body.secret}`);
    assert.equal(r.status, 200);
    await new Promise((res) => setTimeout(res, 2600));
    r = await pubJson(s, `/api/v1/s/${soon.body.secret}/file`);
    assert.equal(r.status, 404);

    // The creator loses access, then comes back; then is disabled.
    const live = await makeLink(s, tokens.writer, { path: 'Secret.txt' });
    r = await pub(s, `/api/v1/s/${live.body.secret}/file`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    grant(s, 'WP1', { user: 'writer@a.example' }, 'none');
    r = await pubJson(s, `/api/v1/s/${live.body.secret}/file`);
    assert.equal(r.status, 404);
    grant(s, 'WP1', { user: 'writer@a.example' }, 'read');
    r = await pub(s, `/api/v1/s/${live.body.secret}/file`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    sql(s, "UPDATE users SET disabled = 1 WHERE email = 'writer@a.example'");
    r = await pubJson(s, `/api/v1/s/${live.body.secret}`);
    assert.equal(r.status, 404);
    sql(s, "UPDATE users SET disabled = 0 WHERE email = 'writer@a.example'");
    // Links off in the policy stops every link of the WP.
    await policy(s, tokens.manager, { links: 'off' });
    r = await pubJson(s, `/api/v1/s/${live.body.secret}`);
    assert.equal(r.status, 404);
    // A trashed target: 404.
    await policy(s, tokens.manager, { links: 'download' });
    r = await pubJson(s, `/api/v1/s/${live.body.secret}`);
    assert.equal(r.status, 200);
    await api(s, tokens.manager, 'DELETE', '/api/v1/wps/WP1/tree/Secret.txt');
    r = await pubJson(s, `/api/v1/s/${live.body.secret}`);
    assert.equal(r.status, 404);
  });
});

test('a folder link: browse, single files, the folder as a streamed ZIP checked by unzip', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    await policy(s, tokens.manager, { links: 'download' });
    const files = {
      'Review/a.txt': 'alpha',
      'Review/Sub/b.bin': Buffer.alloc(3 * 1024 * 1024 + 17, 7),
      'Review/Sub/Deeper/ü c.txt': 'unicode name',
      'Elsewhere/private.txt': 'not shared',
    };
    for (const [p, body] of Object.entries(files)) {
      for (const dir of p.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/')))
        await api(s, tokens.writer, 'POST', '/api/v1/wps/WP1/folders', { json: { path: dir } });
      await put(s, tokens.writer, p.split('/').map(encodeURIComponent).join('/'), body);
    }
    const link = await makeLink(s, tokens.writer, { path: 'Review' });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const sec = link.body.secret;
    let r = await pubJson(s, `/api/v1/s/${sec}`);
    assert.equal(r.body.link.target.type, 'folder');
    assert.deepEqual(r.body.link.target.entries.map((e) => e.name), ['Sub', 'a.txt']);
    r = await pubJson(s, `/api/v1/s/${sec}?path=Sub`);
    assert.deepEqual(r.body.link.target.entries.map((e) => e.name), ['Deeper', 'b.bin']);
    r = await pub(s, `/api/v1/s/${sec}/file?path=${encodeURIComponent('Sub/Deeper/ü c.txt')}`);
    assert.equal(await r.text(), 'unicode name');
    // Nothing outside the folder.
    for (const p of ['../Elsewhere/private.txt', '..', 'Elsewhere/private.txt', '/Elsewhere']) {
      r = await pubJson(s, `/api/v1/s/${sec}/file?path=${encodeURIComponent(p)}`);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
    }
    // The ZIP, through curl, then unzip: every file, byte for byte.
    const dir = tempDir('consort-links-zip-');
    try {
      const c = await curl(['-D', join(dir, 'headers'), '-o', join(dir, 'f.zip'), `${s.url}/api/v1/s/${sec}/zip`]);
      assert.equal(c.code, 0, c.stderr);
      const headers = readFileSync(join(dir, 'headers'), 'utf8');
      assert.match(headers, /content-type: application\/zip/i);
      assert.match(headers, /content-disposition: attachment; filename="Review.zip"/i);
      assert.match(headers, /transfer-encoding: chunked/i);
      execFileSync('unzip', ['-q', '-t', join(dir, 'f.zip')]);
      execFileSync('unzip', ['-q', join(dir, 'f.zip'), '-d', join(dir, 'out')]);
      for (const [p, body] of Object.entries(files)) {
        if (!p.startsWith('Review/')) continue;
        assert.equal(sha256(readFileSync(join(dir, 'out', p.slice('Review/'.length)))), sha256(Buffer.from(body)), p);
      }
      const listing = execFileSync('unzip', ['-Z1', join(dir, 'f.zip')]).toString().trim().split('\n').sort();
      assert.deepEqual(listing, ['Sub/Deeper/ü c.txt', 'Sub/b.bin', 'a.txt']);
      // A sub-folder's ZIP.
      const sub = await pub(s, `/api/v1/s/${sec}/zip?path=Sub/Deeper`);
      writeFileSync(join(dir, 'sub.zip'), Buffer.from(await sub.arrayBuffer()));
      assert.equal(execFileSync('unzip', ['-p', join(dir, 'sub.zip'), 'ü c.txt']).toString(), 'unicode name');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(sql(s, `SELECT uses FROM links WHERE id = ${link.body.link.id}`)[0].uses, 3);
    const zips = sql(s, "SELECT detail FROM audit WHERE action = 'link_download' AND detail LIKE 'ZIP%'");
    assert.equal(zips.length, 2);
    assert.equal(zips[0].detail, 'ZIP of 3 files');
  });
});
