// Work-package settings (issue 14): PATCH /api/v1/wps/{wp} for title,
// lead, quota, retention and archiving, with who may change what, bad
// input refused without a change, the retention dry run matching what the
// change then removes, usage figures, audit records; an archived work
// package refusing every write path (API, tus, WebDAV, trash) for
// everyone and becoming writable again; `consort wp set`; the grant list
// naming a user's partner and the trash naming who trashed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, runConsort } from './lib/server.mjs';
import { addUser, sql, Session } from './lib/accounts.mjs';
import { consortium, apiJson, api } from './lib/docs.mjs';

const TUS = { 'Tus-Resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');

async function coordinator(s) {
  addUser(s, 'coord@a.example', 'UNIA', { coordinator: true, name: 'Marta Rossi' });
  const session = await Session.login(s, 'coord@a.example');
  const r = await session.req('POST', '/api/v1/tokens', { json: { name: 'e2e' } });
  return r.body.token;
}

const wpRow = (s) => sql(s, "SELECT title, lead_partner_id, quota_bytes, keep_versions, keep_days, archived_at FROM wps WHERE code = 'WP1'")[0];

test('PATCH /wps/{wp}: who may change what, validation, usage, audit', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const coord = await coordinator(s);

    // The manager may change title and lead, not quota or archiving.
    let r = await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { title: 'Dissemination', lead: 'INSTB' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.wp.title, 'Dissemination');
    assert.equal(r.body.wp.lead, 'INSTB');
    const before = wpRow(s);
    for (const json of [{ quota: 1000 }, { archived: true }, { keep_versions: 3 }, { title: 'X', keep_days: 5 }]) {
      r = await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json });
      assert.equal(r.status, 403, JSON.stringify(json));
      assert.match(r.body.detail, /only coordinators/);
    }
    // A writer may change nothing; an outsider does not see the WP.
    r = await apiJson(s, tokens.writer, 'PATCH', '/api/v1/wps/WP1', { json: { title: 'Mine' } });
    assert.equal(r.status, 403);
    r = await apiJson(s, tokens.outsider, 'PATCH', '/api/v1/wps/WP1', { json: { title: 'Mine' } });
    assert.equal(r.status, 404);
    assert.deepEqual(wpRow(s), before);

    // Bad input: a clear 400, nothing changed.
    const bad = [
      [{}, /nothing to change/],
      [{ quota: -1 }, /quota/],
      [{ quota: '300M' }, /quota/],
      [{ keep_versions: 1.5 }, /keep_versions/],
      [{ keep_days: 100000 }, /keep_days/],
      [{ archived: 'yes' }, /archived/],
      [{ title: '' }, /title/],
      [{ lead: 'NOPE' }, /no partner 'NOPE'/],
      [{ colour: 'red' }, /unknown field 'colour'/],
      [{ title: 'ok', quota: 'x' }, /quota/],
    ];
    for (const [json, re] of bad) {
      r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json });
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.equal(r.body.error, 'invalid_request');
      assert.match(r.body.detail, re);
    }
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1?dry_run=maybe', { json: { title: 'T' } });
    assert.equal(r.status, 400);
    assert.deepEqual(wpRow(s), before);

    // The coordinator sets everything; null gives the default back.
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { quota: 5000, keep_versions: 10, keep_days: 400, lead: null } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.wp.quota, 5000);
    assert.equal(r.body.wp.keep_versions, 10);
    assert.equal(r.body.wp.keep_days, 400);
    assert.equal(r.body.wp.lead, null);
    assert.equal(r.body.wp.usage.quota, 5000);
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { keep_days: null } });
    assert.equal(r.body.wp.keep_days, null);

    // The quota holds at once: 4000 bytes fit, 2000 more do not.
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/a.bin', { body: Buffer.alloc(4000, 1) });
    assert.equal(r.status, 201);
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/b.bin', { body: Buffer.alloc(2000, 2) });
    assert.equal(r.status, 507);
    assert.equal(r.body.error, 'quota_exceeded');
    // Quota 0: nothing more may be stored; null: the server's default
    // (none configured here).
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { quota: 0 } });
    assert.equal(r.body.wp.usage.quota, 0);
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/c.bin', { body: 'c' });
    assert.equal(r.status, 507);
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { quota: null } });
    assert.equal(r.body.wp.quota, null);
    assert.equal(r.body.wp.usage.quota, null);
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/b.bin', { body: Buffer.alloc(2000, 2) });
    assert.equal(r.status, 201);

    // Usage for anyone who reads the WP.
    r = await apiJson(s, tokens.writer, 'DELETE', '/api/v1/wps/WP1/tree/b.bin');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.wp.usage, { bytes: 6000, quota: null, documents: 1, versions: 1, trash: { entries: 1, bytes: 2000 } });

    const audit = sql(s, "SELECT actor, object, detail FROM audit WHERE action = 'wp_update' ORDER BY id");
    assert.equal(audit.length, 5);
    assert.match(audit[0].detail, /title=Dissemination, lead=INSTB/);
    assert.match(audit[1].detail, /quota=5000, keep_versions=10, keep_days=400/);
    assert.match(audit[1].detail, /lead=none/);
    assert.equal(audit[1].actor, 'coord@a.example');
  });
});

test('retention: the dry run says what the change removes, the change removes exactly that', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const coord = await coordinator(s);
    const sizes = [100, 200, 300, 400, 500];
    for (const n of sizes) {
      const r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/report.txt', { body: 'v'.repeat(n) });
      assert.ok(r.status === 200 || r.status === 201);
    }
    await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/other.txt', { body: 'o'.repeat(50) });
    await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/other.txt', { body: 'p'.repeat(60) });

    let r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1?dry_run=1', { json: { keep_versions: 2 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.dry_run, true);
    assert.deepEqual(r.body.would_remove, { versions: 3, bytes: 600 });
    assert.equal(r.body.wp.keep_versions, null); // nothing changed
    assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 7);
    assert.equal(sql(s, "SELECT count(*) AS n FROM audit WHERE action IN ('wp_update', 'wp_archive', 'retention')")[0].n, 0);

    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { keep_versions: 2 } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.removed, { versions: 3, bytes: 600 });
    assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 4);
    assert.equal(r.body.wp.usage.versions, 4);
    assert.equal(r.body.wp.usage.bytes, 400 + 500 + 50 + 60);
    assert.match(sql(s, "SELECT detail FROM audit WHERE action = 'retention'")[0].detail, /3 old versions/);

    // keep_versions 0: no count rule, nothing to remove.
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1?dry_run=1', { json: { keep_versions: 0 } });
    assert.deepEqual(r.body.would_remove, { versions: 0, bytes: 0 });
    // A keep_days rule: versions uploaded long ago go, except the current.
    sql(s, 'UPDATE versions SET uploaded_at = uploaded_at - 40 * 86400');
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1?dry_run=true', { json: { keep_versions: 0, keep_days: 30 } });
    assert.deepEqual(r.body.would_remove, { versions: 2, bytes: 450 });

    // What retention removes later is on record too: a new version under
    // the count rule takes the oldest with it (the upload's record says
    // so), and versions that age past a days rule go with gc (a record of
    // its own in the work package).
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/report.txt', { body: 'v'.repeat(600) });
    assert.equal(r.status, 200);
    assert.match(sql(s, "SELECT detail FROM audit WHERE action = 'upload' ORDER BY id DESC LIMIT 1")[0].detail,
      /^version 6, .*; 1 old version removed by retention$/);
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { keep_versions: 0, keep_days: 30 } });
    assert.deepEqual(r.body.removed, { versions: 2, bytes: 500 + 50 });
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/report.txt', { body: 'v'.repeat(700) });
    assert.equal(r.status, 200);
    sql(s, 'UPDATE versions SET uploaded_at = uploaded_at - 40 * 86400');
    const gc = runConsort(['gc', '--data', s.dataDir]);
    assert.equal(gc.status, 0, gc.stderr);
    assert.match(gc.stdout, /gc: 1 version\(s\) pruned/); // the current ones stay however old
    const rec = sql(s, "SELECT actor, object, detail FROM audit WHERE action = 'retention' ORDER BY id DESC LIMIT 1")[0];
    assert.deepEqual(rec, { actor: '(gc)', object: 'WP1', detail: '1 old version removed (gc)' });
  });
});

test('archived: read-only for everyone on every write path, reversible, audited', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const coord = await coordinator(s);
    const w = tokens.writer;
    let r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/keep.txt', { body: 'kept' });
    assert.equal(r.status, 201);
    await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/old.txt', { body: 'old' });
    r = await apiJson(s, w, 'DELETE', '/api/v1/wps/WP1/tree/old.txt');
    const trashId = sql(s, "SELECT id FROM nodes WHERE name = 'old.txt'")[0].id;

    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { archived: true } });
    assert.equal(r.status, 200);
    assert.equal(r.body.wp.archived, true);
    assert.ok(r.body.wp.archived_at);
    const list = await apiJson(s, w, 'GET', '/api/v1/wps');
    assert.equal(list.body.wps[0].archived, true);

    const refused = async (who, method, path, opts = {}) => {
      const x = await apiJson(s, who, method, path, opts);
      assert.equal(x.status, 403, `${method} ${path}: ${x.status} ${JSON.stringify(x.body)}`);
      if (x.body && typeof x.body === 'object') assert.match(x.body.detail, /WP1 is archived/);
      return x;
    };
    for (const who of [w, coord]) {
      await refused(who, 'PUT', '/api/v1/wps/WP1/content/keep.txt', { body: 'new' });
      await refused(who, 'PUT', '/api/v1/wps/WP1/content/new.txt', { body: 'new' });
      await refused(who, 'POST', '/api/v1/wps/WP1/folders', { json: { path: 'F' } });
      await refused(who, 'POST', '/api/v1/wps/WP1/restore', { json: { path: 'keep.txt', version: 1 } });
      await refused(who, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'keep.txt', to: 'moved.txt' } });
      await refused(who, 'PATCH', '/api/v1/wps/WP1/tree/keep.txt', { json: { name: 'renamed.txt' } });
      await refused(who, 'DELETE', '/api/v1/wps/WP1/tree/keep.txt');
      await refused(who, 'POST', `/api/v1/wps/WP1/trash/${trashId}/restore`);
      await refused(who, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': '3', 'Upload-Metadata': `wp ${b64('WP1')},path ${b64('t.txt')}` } });
      await refused(who, 'PUT', '/dav/WP1/keep.txt', { body: 'dav' });
      await refused(who, 'MKCOL', '/dav/WP1/newdir');
      await refused(who, 'DELETE', '/dav/WP1/keep.txt');
      await refused(who, 'MOVE', '/dav/WP1/keep.txt', { headers: { Destination: `${s.url}/dav/WP1/m.txt` } });
      await refused(who, 'LOCK', '/dav/WP1/keep.txt', { headers: { 'Content-Type': 'application/xml' }, body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>' });
    }
    await refused(coord, 'DELETE', `/api/v1/wps/WP1/trash/${trashId}`);
    // Reading works.
    r = await api(s, w, 'GET', '/api/v1/wps/WP1/content/keep.txt');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'kept');
    r = await api(s, w, 'GET', '/dav/WP1/keep.txt');
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 2);

    // A tus upload begun before the archiving cannot go on.
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { archived: false } });
    assert.equal(r.body.wp.archived, false);
    r = await api(s, w, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': '3', 'Upload-Metadata': `wp ${b64('WP1')},path ${b64('t.txt')}` } });
    assert.equal(r.status, 201);
    const loc = r.headers.get('location');
    await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { archived: true } });
    r = await apiJson(s, w, 'PATCH', new URL(loc, s.url).pathname, { headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, body: 'abc' });
    assert.equal(r.status, 403);
    // Settings stay changeable while archived; unarchiving makes it writable.
    r = await apiJson(s, coord, 'PATCH', '/api/v1/wps/WP1', { json: { archived: false, title: 'Closed WP' } });
    assert.equal(r.status, 200);
    r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/keep.txt', { body: 'new' });
    assert.equal(r.status, 200);
    const acts = sql(s, "SELECT action FROM audit WHERE action IN ('wp_archive', 'wp_unarchive') ORDER BY id").map((x) => x.action);
    assert.deepEqual(acts, ['wp_archive', 'wp_unarchive', 'wp_archive', 'wp_unarchive']);
  });
});

test('consort wp set: every setting, bad values refused with nothing changed', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const set = (...args) => runConsort(['wp', 'set', '--data', s.dataDir, '--code', 'WP1', ...args]);
    for (let i = 1; i <= 4; i++)
      await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/r.txt', { body: 'x'.repeat(i * 10) });
    const before = wpRow(s);
    for (const [args, re] of [
      [[], /nothing to change/],
      [['--quota', '12X'], /--quota has an unknown unit/],
      [['--quota', '-5'], /--quota must not be negative/],
      [['--keep-versions', 'many'], /--keep-versions must be a number/],
      [['--keep-days', '99999'], /--keep-days must be a number from 0 to 36500/],
      [['--archived', 'maybe'], /--archived must be yes or no/],
      [['--lead', 'NOPE'], /no partner 'NOPE'/],
      [['--title', ''], /--title/],
      [['--colour', 'red'], /unknown option '--colour'/],
    ]) {
      const r = set(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    let r = runConsort(['wp', 'set', '--data', s.dataDir, '--code', 'WP9', '--title', 'x']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no work package 'WP9'/);
    assert.deepEqual(wpRow(s), before);

    sql(s, 'UPDATE versions SET uploaded_at = uploaded_at - 100 * 86400');
    r = set('--title', 'Closing', '--lead', 'INSTB', '--quota', '300M', '--keep-versions', '2', '--keep-days', '90', '--archived', 'yes');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /retention removed 2 old versions/);
    const row = wpRow(s);
    assert.equal(row.title, 'Closing');
    assert.equal(row.quota_bytes, 300 * 1024 * 1024);
    assert.equal(row.keep_versions, 2);
    assert.equal(row.keep_days, 90);
    assert.ok(row.archived_at > 0);
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/r.txt', { body: 'no' });
    assert.equal(r.status, 403);
    r = set('--archived', 'no', '--quota', 'default', '--keep-versions', 'default', '--lead', 'none');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(wpRow(s), { ...row, lead_partner_id: null, quota_bytes: null, keep_versions: null, archived_at: null });
    const acts = sql(s, "SELECT actor, action FROM audit WHERE action LIKE 'wp_%' ORDER BY id").map((x) => `${x.actor} ${x.action}`);
    assert.deepEqual(acts.slice(-4), ['(command line) wp_update', '(command line) wp_archive', '(command line) wp_update', '(command line) wp_unarchive']);
  });
});

test('grants name a user\'s partner; trash entries name who trashed them', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    let r = await apiJson(s, tokens.manager, 'GET', '/api/v1/wps/WP1/grants');
    assert.equal(r.status, 200);
    const writer = r.body.grants.find((g) => g.user === 'writer@a.example');
    assert.equal(writer.partner, 'UNIA');
    assert.equal(r.body.grants.find((g) => g.user === 'reader@b.example').partner, 'INSTB');
    await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/t.txt', { body: 'x' });
    await apiJson(s, tokens.writer, 'DELETE', '/api/v1/wps/WP1/tree/t.txt');
    r = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/trash');
    assert.equal(r.status, 200);
    const item = (r.body.items || r.body.trash)[0];
    assert.equal(item.trashed_by.name, 'Writer');
  });
});
