// Token scopes (issue 13, part 1): a token is read-only or read-write,
// and optionally limited to some work packages. The policy applies the
// scope everywhere a work package is reached: the JSON API, WebDAV
// (requests and the root listing), tus, search and the WP list. Tokens
// made without a scope keep working as before: write, every work package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session, Bearer } from './lib/accounts.mjs';
import { waitIndexed } from './lib/search.mjs';

const b64 = (t) => Buffer.from(t).toString('base64');
const count = (s, q) => sql(s, q)[0].n;

async function setup(s) {
  addPartner(s, 'UNIA');
  for (const wp of ['WP1', 'WP2', 'WP3']) addWp(s, wp);
  addUser(s, 'alice@a.example', 'UNIA');
  addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
  grant(s, 'WP1', { user: 'alice@a.example' }, 'write');
  grant(s, 'WP2', { user: 'alice@a.example' }, 'manage');
  const alice = await Session.login(s, 'alice@a.example');
  for (const wp of ['WP1', 'WP2']) {
    const r = await alice.req('PUT', `/api/v1/wps/${wp}/content/notes/plan.txt`, { body: `the ${wp} plan mentions quokkaword\n` });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const make = async (json) => {
    const r = await alice.req('POST', '/api/v1/tokens', { json });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  return { alice, make };
}

test('token scopes are chosen, stored, listed; bad scopes are refused and nothing is created', async () => {
  await withServer({}, async (s) => {
    const { alice, make } = await setup(s);
    const plain = await make({ name: 'plain' });
    assert.equal(plain.scope, 'write');
    assert.equal(plain.wps, null);
    const reader = await make({ name: 'reader', scope: 'read' });
    const drive = await make({ name: 'WP2 drive', scope: 'write', wps: ['WP2'], expires_days: 30 });
    assert.deepEqual([reader.scope, drive.scope, drive.wps], ['read', 'write', ['WP2']]);
    assert.deepEqual(sql(s, 'SELECT name, scope, wp_limited FROM tokens ORDER BY id'), [
      { name: 'plain', scope: 'write', wp_limited: 0 },
      { name: 'reader', scope: 'read', wp_limited: 0 },
      { name: 'WP2 drive', scope: 'write', wp_limited: 1 },
    ]);
    const list = (await alice.req('GET', '/api/v1/tokens')).body.tokens;
    assert.deepEqual(list.map((t) => [t.name, t.scope, t.wps]),
      [['WP2 drive', 'write', ['WP2']], ['reader', 'read', null], ['plain', 'write', null]]);

    const tokens = count(s, 'SELECT count(*) AS n FROM tokens');
    const audits = count(s, 'SELECT count(*) AS n FROM audit');
    for (const [json, detail] of [
      [{ name: 'x', scope: 'admin' }, /field 'scope'/],
      [{ name: 'x', scope: 'READ' }, /field 'scope'/],
      [{ name: 'x', scope: 1 }, /field 'scope'/],
      [{ name: 'x', wps: ['WP9'] }, /no work package 'WP9'/],
      // WP3 exists, but Alice cannot read it: told exactly like WP9.
      [{ name: 'x', wps: ['WP1', 'WP3'] }, /no work package 'WP3'/],
      [{ name: 'x', wps: [] }, /field 'wps'/],
      [{ name: 'x', wps: 'WP1' }, /field 'wps'/],
      [{ name: 'x', wps: [1] }, /field 'wps'/],
      [{ name: 'x', wps: [''] }, /field 'wps'/],
      [{ name: 'x', wps: Array(51).fill('WP1') }, /field 'wps'/],
      [{ name: 'x', scope: 'read', extra: true }, /extra/],
    ]) {
      const r = await alice.req('POST', '/api/v1/tokens', { json });
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.equal(r.body.error, 'invalid_request');
      assert.match(r.body.detail, detail, JSON.stringify(json));
    }
    assert.equal(count(s, 'SELECT count(*) AS n FROM tokens'), tokens);
    assert.equal(count(s, 'SELECT count(*) AS n FROM token_wps'), 1);
    assert.equal(count(s, 'SELECT count(*) AS n FROM audit'), audits);
    assert.deepEqual(sql(s, "SELECT detail FROM audit WHERE action = 'token_create' ORDER BY id").map((r) => r.detail), [
      'expires in 90 days; scope write; every work package',
      'expires in 90 days; scope read; every work package',
      'expires in 30 days; scope write; limited to some work packages',
    ]);
  });
});

test('a read token reads and changes nothing: API, WebDAV, tus, its own account', async () => {
  await withServer({}, async (s) => {
    const { make } = await setup(s);
    const reader = new Bearer(s, (await make({ name: 'reader', scope: 'read' })).token);
    const writer = new Bearer(s, (await make({ name: 'writer' })).token);
    const before = sql(s, 'SELECT count(*) AS n, max(id) AS last FROM versions');

    // Reading works everywhere it did.
    assert.equal((await reader.req('GET', '/api/v1/wps/WP1/content/notes/plan.txt')).status, 200);
    assert.equal((await reader.req('GET', '/dav/WP2/notes/plan.txt')).status, 200);
    assert.equal((await reader.req('PROPFIND', '/dav/', { headers: { depth: '1' } })).status, 207);
    assert.equal((await reader.req('PROPFIND', '/dav/WP1/notes/', { headers: { depth: '1' } })).status, 207);
    const wps = (await reader.req('GET', '/api/v1/wps')).body.wps;
    assert.deepEqual(wps.map((w) => [w.code, w.level]), [['WP1', 'read'], ['WP2', 'read']]);

    const tus = { 'tus-resumable': '1.0.0', 'upload-length': '5', 'upload-metadata': `wp ${b64('WP1')},path ${b64('notes/tus.txt')}` };
    for (const [method, path, opts] of [
      ['PUT', '/api/v1/wps/WP1/content/notes/plan.txt', { body: 'overwritten' }],
      ['PUT', '/api/v1/wps/WP2/content/notes/new.txt', { body: 'new' }],
      ['DELETE', '/api/v1/wps/WP1/tree/notes/plan.txt', {}],
      ['POST', '/api/v1/wps/WP1/folders', { json: { path: 'more' } }],
      ['PUT', '/api/v1/wps/WP2/grants', { json: { user: 'coord@a.example', level: 'read' } }],
      ['PUT', '/dav/WP1/notes/plan.txt', { body: 'overwritten' }],
      ['DELETE', '/dav/WP1/notes/plan.txt', {}],
      ['MKCOL', '/dav/WP1/newdir', {}],
      ['MOVE', '/dav/WP1/notes/plan.txt', { headers: { destination: '/dav/WP1/notes/moved.txt' } }],
      ['COPY', '/dav/WP1/notes/plan.txt', { headers: { destination: '/dav/WP2/notes/copy.txt' } }],
      ['LOCK', '/dav/WP1/notes/plan.txt', { body: '<?xml version="1.0"?><lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockinfo>' }],
      ['PROPPATCH', '/dav/WP1/notes/plan.txt', { body: '<?xml version="1.0"?><propertyupdate xmlns="DAV:"><set><prop><x xmlns="urn:x">1</x></prop></set></propertyupdate>' }],
      ['POST', '/api/v1/uploads', { headers: tus }],
      ['DELETE', '/api/v1/tokens/1', {}],
    ]) {
      const r = await reader.req(method, path, opts);
      assert.equal(r.status, 403, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    assert.deepEqual(sql(s, 'SELECT count(*) AS n, max(id) AS last FROM versions'), before);
    assert.equal(count(s, 'SELECT count(*) AS n FROM uploads'), 0);
    assert.equal(count(s, 'SELECT count(*) AS n FROM tokens WHERE revoked_at IS NOT NULL'), 0);

    // A tus upload Alice started with her write token: her read token
    // finds it (it is hers) but may not write to it.
    let r = await writer.req('POST', '/api/v1/uploads', { headers: tus });
    assert.equal(r.status, 201);
    const up = r.headers.get('location').split('/').pop();
    r = await reader.req('PATCH', `/api/v1/uploads/${up}`, { headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: 'hello' });
    assert.equal(r.status, 403);
    assert.equal(count(s, `SELECT count(*) AS n FROM uploads WHERE id = '${up}' AND offset = 0`), 1);
    // The write token (made without a scope, as before scopes) still writes.
    r = await writer.req('PATCH', `/api/v1/uploads/${up}`, { headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: 'hello' });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    r = await writer.req('PUT', '/dav/WP1/notes/plan.txt', { body: 'v2' });
    assert.ok(r.status === 200 || r.status === 204, String(r.status));
  });
});

test('a token limited to work packages sees only those: lists, WebDAV root, search, tus, coordinator views', async () => {
  await withServer({}, async (s) => {
    const { alice, make } = await setup(s);
    const drive = new Bearer(s, (await make({ name: 'WP2 drive', wps: ['WP2'] })).token);
    const all = new Bearer(s, (await make({ name: 'all' })).token);
    await waitIndexed(s, all.token, [['WP1', 'notes/plan.txt'], ['WP2', 'notes/plan.txt']]);

    let r = await drive.req('GET', '/api/v1/wps');
    assert.deepEqual(r.body.wps.map((w) => [w.code, w.level]), [['WP2', 'manage']]);
    for (const path of ['/api/v1/wps/WP1', '/api/v1/wps/WP1/tree/notes', '/api/v1/wps/WP1/content/notes/plan.txt', '/dav/WP1/notes/plan.txt']) {
      r = await drive.req('GET', path);
      assert.equal(r.status, 404, path);
    }
    assert.equal((await drive.req('PUT', '/dav/WP1/notes/x.txt', { body: 'x' })).status, 404);
    assert.equal((await drive.req('PUT', '/dav/WP2/notes/x.txt', { body: 'x' })).status, 201);
    // COPY out of its work package: the Destination's WP looks missing.
    r = await drive.req('COPY', '/dav/WP2/notes/x.txt', { headers: { destination: '/dav/WP1/notes/x.txt' } });
    assert.equal(r.status, 409);
    r = await drive.req('PROPFIND', '/dav/', { headers: { depth: '1' } });
    assert.equal(r.status, 207);
    assert.match(r.body, /\/dav\/WP2\//);
    assert.doesNotMatch(r.body, /WP1/);
    r = await all.req('PROPFIND', '/dav/', { headers: { depth: '1' } });
    assert.match(r.body, /\/dav\/WP1\//);

    r = await drive.req('GET', '/api/v1/search?q=quokkaword');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.hits.map((h) => h.wp), ['WP2']);
    assert.equal(r.body.total, 1);
    r = await drive.req('GET', '/api/v1/search?q=quokkaword&wp=WP1');
    assert.equal(r.status, 404);
    r = await all.req('GET', '/api/v1/search?q=quokkaword');
    assert.deepEqual(r.body.hits.map((h) => h.wp).sort(), ['WP1', 'WP2']);

    const tus = (wp) => ({ 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `wp ${b64(wp)},path ${b64('t.txt')}` });
    assert.equal((await drive.req('POST', '/api/v1/uploads', { headers: tus('WP1') })).status, 404);
    assert.equal((await drive.req('POST', '/api/v1/uploads', { headers: tus('WP2') })).status, 201);

    // A coordinator's token limited to a work package is no coordinator.
    const coord = await Session.login(s, 'coord@a.example');
    r = await coord.req('POST', '/api/v1/tokens', { json: { name: 'c', scope: 'read', wps: ['WP1'] } });
    assert.equal(r.status, 201);
    const cdrive = new Bearer(s, r.body.token);
    assert.equal((await cdrive.req('GET', '/api/v1/audit')).status, 403);
    assert.equal((await cdrive.req('GET', '/api/v1/users')).status, 403);
    assert.deepEqual((await cdrive.req('GET', '/api/v1/wps')).body.wps.map((w) => [w.code, w.level]), [['WP1', 'read']]);
    r = await coord.req('POST', '/api/v1/tokens', { json: { name: 'c2', scope: 'read' } });
    const cread = new Bearer(s, r.body.token);
    assert.equal((await cread.req('GET', '/api/v1/audit')).status, 200);
    assert.equal((await cread.req('POST', '/api/v1/wps', { json: { code: 'WP7', title: 'x' } })).status, 403);
    assert.equal(count(s, "SELECT count(*) AS n FROM wps WHERE code = 'WP7'"), 0);
    // Taking Alice's grant on WP2 away leaves her drive token nothing.
    grant(s, 'WP2', { user: 'alice@a.example' }, 'none');
    assert.deepEqual((await drive.req('GET', '/api/v1/wps')).body.wps, []);
    assert.equal((await drive.req('GET', '/dav/WP2/notes/x.txt')).status, 404);
    void alice;
  });
});
