// WebDAV by hand: the protocol details clients depend on (OPTIONS, the
// Basic challenge, hrefs, Windows' PROPPATCH, macOS' dot files, locks
// between accounts) and hostile or wrong input, each answered with a
// clear error that changes nothing: malformed XML, entity bombs, huge
// bodies, Depth: infinity, bad Destinations, bad If headers, lock
// conflicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addWp, grant, sql } from './lib/accounts.mjs';
import { consortium, apiJson, sha256 } from './lib/docs.mjs';

function basic(email, token) {
  return `Basic ${Buffer.from(`${email}:${token}`).toString('base64')}`;
}

async function setup(s) {
  const c = await consortium(s);
  addWp(s, 'WP2');
  addWp(s, 'WP3');
  addWp(s, 'WP4');
  grant(s, 'WP2', { user: c.emails.writer }, 'read');
  grant(s, 'WP3', { user: c.emails.writer }, 'write');
  const as = (who) => async (method, path, { headers = {}, body } = {}) => {
    const duplex = body && typeof body.getReader === 'function' ? 'half' : undefined;
    const r = await s.fetch(path, { method, headers: { authorization: basic(c.emails[who], c.tokens[who]), ...headers }, body, duplex });
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() };
  };
  return { ...c, w: as('writer'), o: as('other'), m: as('manager'), r: as('reader') };
}

const PROPFIND_ALL = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>';

function hrefs(xml) {
  return [...xml.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => m[1]);
}

test('dav: OPTIONS, the Basic challenge on /dav only, hrefs and names', async () => {
  await withServer({}, async (s) => {
    const { w, tokens } = await setup(s);
    for (const path of ['/', '/dav/', '/dav/WP1/anything']) {
      const r = await s.fetch(path, { method: 'OPTIONS' });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('dav'), '1, 2');
      assert.equal(r.headers.get('ms-author-via'), 'DAV');
      assert.match(r.headers.get('allow'), /PROPFIND.*LOCK/);
    }
    const anon = await s.fetch('/dav/WP1/', { method: 'PROPFIND', headers: { depth: '0' } });
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate'), /^Basic realm="consort"/);
    const api = await s.fetch('/api/v1/me');
    assert.equal(api.status, 401);
    assert.equal(api.headers.get('www-authenticate'), null);
    // The account's password is not a WebDAV credential; only tokens are.
    const pw = await s.fetch('/dav/WP1/', { method: 'PROPFIND', headers: { depth: '0',
      authorization: basic('writer@a.example', 'correct horse battery staple') } });
    assert.equal(pw.status, 401);

    // Names with spaces, accents (sent decomposed, kept NFC), and
    // characters that mean something in URLs.
    await w('MKCOL', '/dav/WP1/Dossier%20%C3%A9t%C3%A9');
    const nfd = encodeURIComponent('Re\u0301sume\u0301 #1 & 50%?.txt');
    assert.equal((await w('PUT', `/dav/WP1/Dossier%20%C3%A9t%C3%A9/${nfd}`, { body: 'x' })).status, 201);
    const list = await w('PROPFIND', '/dav/WP1/dossier%20%C3%89T%C3%89/', { headers: { depth: '1' } });
    assert.equal(list.status, 207);
    assert.deepEqual(hrefs(list.text), ['/dav/WP1/Dossier%20%C3%A9t%C3%A9/',
      '/dav/WP1/Dossier%20%C3%A9t%C3%A9/R%C3%A9sum%C3%A9%20%231%20%26%2050%25%3F.txt']);
    assert.match(list.text, /<D:displayname>Résumé #1 &amp; 50%\?\.txt<\/D:displayname>/);
    assert.match(list.text, new RegExp(`<D:getetag>"${sha256('x')}"</D:getetag>`));
    // The JSON API names it the same way.
    const tree = await apiJson(s, tokens.writer, 'GET', `/api/v1/wps/WP1/tree/${encodeURIComponent('Dossier été')}`);
    assert.equal(tree.body.entries[0].name, 'R\u00e9sum\u00e9 #1 & 50%?.txt');
    // Collections have a trailing slash whether asked with one or not.
    const self = await w('PROPFIND', '/dav/wp1/Dossier%20%C3%A9t%C3%A9', { headers: { depth: '0' } });
    assert.deepEqual(hrefs(self.text), ['/dav/WP1/Dossier%20%C3%A9t%C3%A9/']);
    // A folder bigger than a page is streamed in full, in name order.
    await w('MKCOL', '/dav/WP1/many');
    const many = sql(s, "SELECT id, wp_id FROM nodes WHERE name = 'many'")[0];
    sql(s, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
      INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, created_at, modified_at)
      SELECT ${many.wp_id}, ${many.id}, 1, printf('f%04d', i), printf('f%04d', i), 1, 1 FROM n`);
    const big = await w('PROPFIND', '/dav/WP1/many/', { headers: { depth: '1' } });
    assert.equal(big.status, 207);
    const bh = hrefs(big.text);
    assert.equal(bh.length, 2501);
    assert.equal(bh[1], '/dav/WP1/many/f0001/');
    assert.equal(bh[2500], '/dav/WP1/many/f2500/');
    assert.match(big.text, /<\/D:multistatus>\n$/);
    // A partial PUT is refused rather than stored as the whole content.
    assert.equal((await w('PUT', '/dav/WP1/part.txt', { headers: { 'content-range': 'bytes 0-0/10' }, body: 'x' })).status, 400);
    // A name the store refuses is a 400 that creates nothing.
    const bad = await w('PUT', '/dav/WP1/evil%E2%80%AEfdp.exe', { body: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.detail, /bidi/i);
  });
});

test('dav: PROPFIND depth, allprop, quota, dead properties from Windows', async () => {
  await withServer({}, async (s) => {
    const { w } = await setup(s);
    await w('PUT', '/dav/WP1/doc.txt', { body: 'hello' });
    for (const depth of ['infinity', undefined]) {
      const r = await w('PROPFIND', '/dav/WP1/', { headers: depth ? { depth } : {}, body: PROPFIND_ALL });
      assert.equal(r.status, 403);
      assert.match(r.text, /<D:propfind-finite-depth\/>/);
    }
    assert.equal((await w('PROPFIND', '/dav/WP1/', { headers: { depth: '2' } })).status, 400);

    const all = await w('PROPFIND', '/dav/WP1/doc.txt', { headers: { depth: '0' }, body: PROPFIND_ALL });
    assert.equal(all.status, 207);
    for (const p of ['resourcetype', 'getcontentlength', 'getcontenttype', 'getetag', 'getlastmodified',
      'creationdate', 'displayname', 'supportedlock', 'lockdiscovery'])
      assert.match(all.text, new RegExp(`<D:${p}[ />]`), p);
    assert.doesNotMatch(all.text, /quota/); // RFC 4331: not in allprop

    const q = await w('PROPFIND', '/dav/WP1/', { headers: { depth: '0' }, body:
      '<D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/>' +
      '<Z:Win32FileAttributes xmlns:Z="urn:schemas-microsoft-com:"/></D:prop></D:propfind>' });
    assert.match(q.text, /<D:quota-used-bytes>5<\/D:quota-used-bytes>/);
    assert.match(q.text, /<D:quota-available-bytes>\d+<\/D:quota-available-bytes>/);
    assert.match(q.text, /HTTP\/1.1 404 Not Found/); // the unknown property

    // What Windows Explorer sends after copying a file.
    const win = '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" ' +
      'xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>' +
      '<Z:Win32CreationTime>Wed, 01 May 2024 10:00:00 GMT</Z:Win32CreationTime>' +
      '<Z:Win32LastModifiedTime>Wed, 01 May 2024 11:00:00 GMT</Z:Win32LastModifiedTime>' +
      '<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>';
    const pp = await w('PROPPATCH', '/dav/WP1/doc.txt', { body: win, headers: { 'content-type': 'text/xml' } });
    assert.equal(pp.status, 207);
    assert.equal((pp.text.match(/HTTP\/1.1 200 OK/g) || []).length, 3);
    const back = await w('PROPFIND', '/dav/WP1/doc.txt', { headers: { depth: '0' }, body: PROPFIND_ALL });
    assert.match(back.text, /Win32LastModifiedTime xmlns:Z="urn:schemas-microsoft-com:">Wed, 01 May 2024 11:00:00 GMT</);

    // A protected property fails the whole PROPPATCH: 403 for it, 424 for
    // the rest, and nothing is stored.
    const before = sql(s, 'SELECT count(*) AS n FROM dav_props')[0].n;
    const prot = await w('PROPPATCH', '/dav/WP1/doc.txt', { body: '<D:propertyupdate xmlns:D="DAV:">' +
      '<D:set><D:prop><D:getetag>"x"</D:getetag><x:y xmlns:x="urn:x">1</x:y></D:prop></D:set></D:propertyupdate>' });
    assert.equal(prot.status, 207);
    assert.match(prot.text, /403 Forbidden.*cannot-modify-protected-property/s);
    assert.match(prot.text, /424 Failed Dependency/);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM dav_props')[0].n, before);
  });
});

test('dav: hostile and malformed bodies are refused and change nothing', async () => {
  await withServer({}, async (s) => {
    const { w } = await setup(s);
    await w('PUT', '/dav/WP1/doc.txt', { body: 'hello' });
    const props = () => sql(s, 'SELECT count(*) AS n FROM dav_props')[0].n;
    const cases = {
      malformed: '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:y xmlns:x="urn:x">1</D:prop></D:set>',
      laughs: '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' +
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>' +
        '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:y xmlns:x="urn:x">&d;</x:y></D:prop></D:set></D:propertyupdate>',
      xxe: '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>' +
        '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:y xmlns:x="urn:x">&e;</x:y></D:prop></D:set></D:propertyupdate>',
      deep: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:y xmlns:x="urn:x">${'<a>'.repeat(100)}${'</a>'.repeat(100)}</x:y></D:prop></D:set></D:propertyupdate>`,
      notdav: '<propertyupdate xmlns="urn:other"><set/></propertyupdate>',
    };
    for (const [name, body] of Object.entries(cases)) {
      const r = await w('PROPPATCH', '/dav/WP1/doc.txt', { body });
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(r.json.error, 'invalid_request');
      assert.ok(r.json.detail.length > 5, name);
    }
    assert.match((await w('PROPPATCH', '/dav/WP1/doc.txt', { body: cases.laughs })).json.detail, /DOCTYPE/);
    assert.equal(props(), 0);
    // Bodies over the cap: announced (413 before reading) and chunked.
    const big = Buffer.alloc(300 * 1024, 'a');
    assert.equal((await w('PROPFIND', '/dav/WP1/', { headers: { depth: '0' }, body: big })).status, 413);
    const chunked = await w('LOCK', '/dav/WP1/doc.txt', { body: new ReadableStream({
      start(c) { for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(32 * 1024)); c.close(); } }) });
    assert.equal(chunked.status, 413);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM dav_locks')[0].n, 0);
    // LOCK bodies: read locks do not exist, a lockinfo needs its parts.
    assert.equal((await w('LOCK', '/dav/WP1/doc.txt', { body: '<D:lockinfo xmlns:D="DAV:"><D:lockscope>' +
      '<D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype></D:lockinfo>' })).status, 415);
    assert.equal((await w('LOCK', '/dav/WP1/doc.txt', { body: '<D:lockinfo xmlns:D="DAV:"/>' })).status, 400);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM dav_locks')[0].n, 0);
    // MKCOL with a body, PUT without a parent, PUT on a folder, GET on a folder.
    assert.equal((await w('MKCOL', '/dav/WP1/new', { body: '<x/>' })).status, 415);
    assert.equal((await w('PUT', '/dav/WP1/nofolder/x.txt', { body: 'x' })).status, 409);
    await w('MKCOL', '/dav/WP1/f');
    assert.equal((await w('MKCOL', '/dav/WP1/f')).status, 405);
    assert.equal((await w('PUT', '/dav/WP1/f', { body: 'x' })).status, 405);
    assert.equal((await w('GET', '/dav/WP1/f/')).status, 405);
    assert.equal(sql(s, "SELECT count(*) AS n FROM nodes WHERE name IN ('new', 'nofolder', 'x.txt')")[0].n, 0);
    // Bad If headers: malformed is 400, false is 412, and no version is made.
    assert.equal((await w('PUT', '/dav/WP1/doc.txt', { headers: { if: '(<urn:x>' }, body: 'v2' })).status, 400);
    assert.equal((await w('PUT', '/dav/WP1/doc.txt', { headers: { if: '(["nope"])' }, body: 'v2' })).status, 412);
    assert.equal((await w('PUT', '/dav/WP1/doc.txt', { headers: { if: `(["${sha256('hello')}"])` }, body: 'v2' })).status, 200);
    assert.equal(sql(s, "SELECT max(number) AS n FROM versions")[0].n, 2);
  });
});

test('dav: COPY and MOVE destinations', async () => {
  await withServer({}, async (s) => {
    const { w, tokens } = await setup(s);
    await w('PUT', '/dav/WP1/a.txt', { body: 'A' });
    await w('PUT', '/dav/WP1/b.txt', { body: 'B' });
    const host = new URL(s.url).host;
    const cases = [
      ['https://elsewhere.example/dav/WP1/x.txt', 502],
      [`https://${host}/api/v1/wps/WP1/content/x.txt`, 502],
      ['/not-dav/x.txt', 502],
      ['/dav/', 403],
      ['/dav/WP1/', 403],
      ['/dav/WP2/x.txt', 403],     // read only
      ['/dav/WP4/x.txt', 409],     // cannot read: like a missing one
      ['/dav/NOPE/x.txt', 409],
      ['/dav/WP1/missing/x.txt', 409],
      ['/dav/WP1/%2e%2e/x.txt', 400],
      ['/dav/WP1/b.txt', 412],     // exists, Overwrite: F
    ];
    for (const [dest, status] of cases) {
      for (const method of ['COPY', 'MOVE']) {
        const r = await w(method, '/dav/WP1/a.txt', { headers: { destination: dest, overwrite: 'F' } });
        assert.equal(r.status, status, `${method} to ${dest}: ${r.text}`);
      }
    }
    const live = () => sql(s, 'SELECT name FROM nodes WHERE trashed_at IS NULL AND is_folder = 0 ORDER BY name').map((r) => r.name);
    assert.deepEqual(live(), ['a.txt', 'b.txt']);
    assert.equal((await w('MOVE', '/dav/WP1/a.txt', { headers: { destination: '/dav/WP1/a.txt' } })).status, 403);

    // Saving by "write a temporary file, rename it over the original":
    // the original keeps its identity and history, with a new version.
    const id = sql(s, "SELECT id FROM nodes WHERE name = 'b.txt'")[0].id;
    await w('PUT', '/dav/WP1/~b.tmp', { body: 'B2' });
    const over = await w('MOVE', '/dav/WP1/~b.tmp', { headers: { destination: `https://${host}/dav/WP1/b.txt`, overwrite: 'T' } });
    assert.equal(over.status, 204);
    const doc = await apiJson(s, tokens.writer, 'GET', '/api/v1/wps/WP1/tree/b.txt');
    assert.equal(doc.body.id, id);
    assert.deepEqual(doc.body.versions.map((v) => v.version), [2, 1]);
    assert.match(doc.body.versions[0].comment, /^moved from ~b\.tmp/);

    // Between work packages: COPY needs only read on the source; MOVE
    // copies and sends the source (with its history) to its own trash.
    assert.equal((await w('COPY', '/dav/WP1/a.txt', { headers: { destination: '/dav/WP3/a.txt' } })).status, 201);
    assert.equal((await w('MOVE', '/dav/WP1/b.txt', { headers: { destination: '/dav/WP3/b.txt' } })).status, 201);
    assert.equal((await w('GET', '/dav/WP3/b.txt')).text, 'B2');
    const trash = await apiJson(s, tokens.writer, 'GET', '/api/v1/wps/WP1/trash');
    assert.ok(trash.body.items.some((i) => i.path === 'b.txt' && i.version === 2));
    // Folders: copy with Depth 0 takes the folder alone.
    await w('MKCOL', '/dav/WP1/f');
    await w('PUT', '/dav/WP1/f/in.txt', { body: 'i' });
    assert.equal((await w('COPY', '/dav/WP1/f/', { headers: { destination: '/dav/WP1/g/', depth: '0' } })).status, 201);
    assert.equal((await w('GET', '/dav/WP1/g/in.txt')).status, 404);
    assert.equal((await w('COPY', '/dav/WP1/f/', { headers: { destination: '/dav/WP1/f/sub/' } })).status, 403);
    assert.equal((await w('MOVE', '/dav/WP1/f/', { headers: { destination: '/dav/WP1/h/', depth: '0' } })).status, 400);
  });
});

test('dav: locks between accounts', async () => {
  await withServer({}, async (s) => {
    const { w, o, m, r: reader } = await setup(s);
    await w('MKCOL', '/dav/WP1/dir');
    await w('PUT', '/dav/WP1/dir/doc.txt', { body: 'v1' });
    const lockBody = (scope) => `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:${scope}/>` +
      '</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>writer</D:owner></D:lockinfo>';
    const lk = await w('LOCK', '/dav/WP1/dir/doc.txt', { headers: { timeout: 'Second-120' }, body: lockBody('exclusive') });
    assert.equal(lk.status, 200);
    const token = /^<(.*)>$/.exec(lk.headers.get('lock-token'))[1];
    assert.match(lk.text, /<D:timeout>Second-1[12]\d<\/D:timeout>/);
    assert.match(lk.text, /<D:owner xmlns:D="DAV:">writer<\/D:owner>/);

    const versions = () => sql(s, 'SELECT count(*) AS n FROM versions')[0].n;
    const v = versions();
    // Someone else: no write, no move, no delete of the folder, no lock.
    const put = await o('PUT', '/dav/WP1/dir/doc.txt', { body: 'theirs' });
    assert.equal(put.status, 423);
    assert.match(put.text, /<D:lock-token-submitted><D:href>\/dav\/WP1\/dir\/doc.txt<\/D:href>/);
    assert.equal((await o('PUT', '/dav/WP1/dir/doc.txt', { headers: { if: `(<${token}>)` }, body: 'stolen token' })).status, 423);
    assert.equal((await o('DELETE', '/dav/WP1/dir/')).status, 423);
    assert.equal((await o('MOVE', '/dav/WP1/dir/doc.txt', { headers: { destination: '/dav/WP1/x.txt' } })).status, 423);
    const l2 = await o('LOCK', '/dav/WP1/dir/doc.txt', { body: lockBody('shared') });
    assert.equal(l2.status, 423);
    assert.match(l2.text, /no-conflicting-lock/);
    assert.equal((await o('LOCK', '/dav/WP1/', { headers: { depth: 'infinity' }, body: lockBody('exclusive') })).status, 423);
    assert.equal((await o('UNLOCK', '/dav/WP1/dir/doc.txt', { headers: { 'lock-token': `<${token}>` } })).status, 403);
    assert.equal(versions(), v);
    // The holder can, with the token; without it not even they can.
    assert.equal((await w('PUT', '/dav/WP1/dir/doc.txt', { body: 'v2' })).status, 423);
    assert.equal((await w('PUT', '/dav/WP1/dir/doc.txt', { headers: { if: `(<${token}>)` }, body: 'v2' })).status, 200);
    // A refresh (LOCK without a body) keeps the token.
    const ref = await w('LOCK', '/dav/WP1/dir/doc.txt', { headers: { if: `(<${token}>)`, timeout: 'Second-300' } });
    assert.equal(ref.status, 200);
    assert.match(ref.text, new RegExp(token));
    // Locks survive a restart (they are in the database).
    await s.restart();
    assert.equal((await o('PUT', '/dav/WP1/dir/doc.txt', { body: 'after restart' })).status, 423);
    // A reader cannot unlock; a manager of the work package can break it.
    assert.equal((await reader('UNLOCK', '/dav/WP1/dir/doc.txt', { headers: { 'lock-token': `<${token}>` } })).status, 403);
    assert.equal((await m('UNLOCK', '/dav/WP1/dir/doc.txt', { headers: { 'lock-token': `<${token}>` } })).status, 204);
    assert.equal((await o('PUT', '/dav/WP1/dir/doc.txt', { body: 'v3' })).status, 200);
    assert.equal((await w('UNLOCK', '/dav/WP1/dir/doc.txt', { headers: { 'lock-token': `<${token}>` } })).status, 409);

    // Locking an unmapped URL makes an empty document (RFC 4918 7.3),
    // recorded like any upload.
    const nl = await w('LOCK', '/dav/WP1/dir/new.docx', { body: lockBody('exclusive') });
    assert.equal(nl.status, 201);
    const row = sql(s, "SELECT v.size, v.number FROM nodes n JOIN versions v ON v.node_id = n.id WHERE n.name = 'new.docx'");
    assert.deepEqual(row, [{ size: 0, number: 1 }]);
    assert.equal(sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'upload' AND object = 'dir/new.docx'")[0].n, 1);
    // macOS' metadata files are stored like any other file.
    assert.equal((await w('PUT', '/dav/WP1/dir/._doc.txt', { body: Buffer.alloc(4096) })).status, 201);
    assert.equal((await w('PUT', '/dav/WP1/.DS_Store', { body: 'Bud1' })).status, 201);
    // A locked folder (depth infinity) protects new members too.
    const fl = await w('LOCK', '/dav/WP1/dir/', { headers: { depth: 'infinity' }, body: lockBody('exclusive') });
    assert.equal(fl.status, 423); // new.docx is locked inside it
  });
});
