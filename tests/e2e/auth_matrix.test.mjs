// The authorization matrix: every route of the route table (from
// `consort routes`, so a route added tomorrow is walked without anyone
// touching this file) against every kind of caller. For each cell the
// policy's answer is asked with X-Consort-Dry-Run (the handler never
// runs, so routes whose handlers have side effects, or do not exist yet
// in a branch, are judged on the policy alone); every denied cell is
// then sent for real and must be denied the same way, which proves the
// dry run tells the truth and that a denied request reaches no handler.
// Routes whose work package is not in the path (tus creation names it
// in Upload-Metadata, COPY and MOVE in their Destination) are sent with
// those headers; the routes of an existing tus upload name one that the
// 'write' column created, which only its creator may touch; and their allowed cells are sent for real as well, so a
// real upload, copy and move prove the policy's "yes" too; allowed cells
// of the reading methods are sent for real and must not be refused by
// the policy. The matrix is printed; any unexpected allow (or a deny with
// the wrong status) fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, runConsort } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session, Bearer, request } from './lib/accounts.mjs';

const LEVEL = { 'wp:read': 1, 'wp:write': 2, 'wp:manage': 3, 'metadata-wp:write': 2, 'dav:copy': 1, 'dav:move': 2 };
// Access kinds whose work package (WP1 in this matrix) is named outside
// the path, or in it and in a Destination as well.
const NAMED_WP = new Set(['metadata-wp:write', 'dav:copy', 'dav:move']);
// Methods whose allowed cells are also sent for real (no side effects).
const READING = new Set(['GET', 'HEAD', 'PROPFIND']);
const b64 = (t) => Buffer.from(t).toString('base64');
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
// What a read-only token may send to a route without a work package.
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND']);
const SUDO = new Set(['session:sudo', 'coordinator:sudo']);

// Who the columns are: how each authenticates and what it may do on WP1.
const principals = [
  { name: 'anonymous', auth: 'none' },
  { name: 'wrong-csrf', auth: 'session', wrongCsrf: true, coordinator: true, level: 3 },
  { name: 'no-grant', auth: 'session', level: 0 },
  { name: 'read', auth: 'session', level: 1 },
  { name: 'write', auth: 'session', level: 2 },
  { name: 'manage-WP2', auth: 'session', level: 0 },
  { name: 'manage', auth: 'session', level: 3 },
  { name: 'coordinator', auth: 'session', coordinator: true, level: 3 },
  { name: 'token(manage)', auth: 'token', level: 3 },
  // The same person's token with scope read: reads WP1, changes nothing.
  { name: 'token(read)', auth: 'token', level: 1, readOnly: true },
  // The same person's write token limited to WP2: WP1 does not exist for it.
  { name: 'token(WP2)', auth: 'token', level: 0 },
  // A coordinator's token (the issue's attack) and a coordinator's
  // session whose last sign-in or confirm is older than 10 minutes.
  { name: 'token(coord)', auth: 'token', coordinator: true, level: 3 },
  { name: 'stale-coord', auth: 'session', coordinator: true, level: 3, stale: true },
  { name: 'disabled', auth: 'dead' },
  { name: 'expired-token', auth: 'dead' },
  { name: 'revoked-token', auth: 'dead' },
];

// The status the policy must answer: 204 for an allowed dry run.
function expected(p, route) {
  const a = route.access;
  if (a === 'public') return 204;
  // Metrics scrapers are not accounts: this server keeps the default
  // metrics-allow (loopback), so every caller here may scrape, whatever
  // credentials it carries (metrics.test.mjs tests the other cases).
  if (a === 'scraper') return 204;
  if (!['user', 'session', 'coordinator', 'wp:read', 'wp:write', 'wp:manage', 'upload:owner',
    ...NAMED_WP, ...SUDO].includes(a))
    throw new Error(`the matrix does not know access '${a}' of ${route.method} ${route.pattern}: teach it`);
  if (p.auth === 'none' || p.auth === 'dead') return 401;
  if (p.wrongCsrf && !SAFE.has(route.method)) return 403;
  if (a === 'session' && p.auth === 'token') return 403;
  // Sudo mode: never a token; a coordinator's route for coordinators
  // only; then a recent re-authentication.
  if (SUDO.has(a)) {
    if (p.auth === 'token') return 403;
    if (a === 'coordinator:sudo' && !p.coordinator) return 403;
    return p.stale ? 403 : 204;
  }
  // A read token changes nothing on routes without a work package.
  if (p.readOnly && (a === 'user' || a === 'coordinator') && !READ_ONLY_METHODS.has(route.method)) return 403;
  // Someone else's upload looks like no upload at all.
  if (a === 'upload:owner') return p.name === UPLOAD_OWNER ? 204 : 404;
  if ((route.pattern.includes('{wp}') || NAMED_WP.has(a)) && p.level === 0) return 404;
  if (a in LEVEL && p.level < LEVEL[a]) return 403;
  // COPY from WP1 reads it, then needs write on the Destination (WP1).
  if (a === 'dav:copy' && p.level < 2) return 403;
  if (a === 'coordinator' && !p.coordinator) return 403;
  return 204;
}

// Headers that name the work package of a route whose WP is not (only)
// in its path; `who` keeps each cell's real request apart.
function namingHeaders(route, who) {
  const tag = who.replace(/[^a-z0-9]/gi, '');
  if (route.access === 'metadata-wp:write')
    return { 'tus-resumable': '1.0.0', 'upload-length': '1',
      'upload-metadata': `wp ${b64('WP1')},path ${b64(`folder/tus-${tag}.txt`)}` };
  if (route.access === 'dav:copy' || route.access === 'dav:move')
    return { destination: `/dav/WP1/folder/to-${tag}.txt`, overwrite: 'T' };
  return {};
}

// The column whose tus upload in WP1 the upload routes name.
const UPLOAD_OWNER = 'write';

function concrete(route, uploadId) {
  const pattern = route.pattern;
  if (route.access === 'upload:owner') return pattern.replace('{id}', uploadId);
  return pattern.replace(/\{wp\}/g, 'WP1').replace(/\{[a-z_]+\*\}/g, 'folder/doc.txt')
    .replace(/\{[a-z_]+\}/g, '1');
}

test('authorization matrix over every route in the router table', async () => {
  const r = runConsort(['routes']);
  assert.equal(r.status, 0, r.stderr);
  const routes = JSON.parse(r.stdout);
  assert.ok(routes.length >= 20, 'the route table is listed');
  for (const rt of routes) assert.deepEqual(Object.keys(rt).sort(), ['access', 'body', 'method', 'pattern']);

  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addPartner(s, 'INSTB', { country: 'FR' });
    addWp(s, 'WP1', { lead: 'UNIA' });
    addWp(s, 'WP2');
    const users = {
      coordinator: 'coord@a.example', 'no-grant': 'nogrant@b.example', read: 'reader@b.example',
      write: 'writer@b.example', 'manage-WP2': 'mgr2@b.example', manage: 'mgr@b.example',
      'token(manage)': 'script@b.example', disabled: 'gone@b.example',
      'stale-coord': 'coord2@a.example',
    };
    addUser(s, users.coordinator, 'UNIA', { coordinator: true });
    addUser(s, users['stale-coord'], 'UNIA', { coordinator: true });
    for (const [k, email] of Object.entries(users)) if (!/coord/.test(k)) addUser(s, email, 'INSTB');
    grant(s, 'WP1', { user: users.read }, 'read');
    grant(s, 'WP1', { user: users.write }, 'write');
    grant(s, 'WP2', { user: users['manage-WP2'] }, 'manage');
    grant(s, 'WP1', { user: users.manage }, 'manage');
    grant(s, 'WP1', { user: users['token(manage)'] }, 'manage');
    grant(s, 'WP1', { user: users.disabled }, 'read');
    grant(s, 'WP2', { user: users['token(manage)'] }, 'read');

    const sessions = {};
    for (const [k, email] of Object.entries(users)) sessions[k] = await Session.login(s, email);
    // Tokens: one live, one to expire, one to revoke.
    const script = sessions['token(manage)'];
    const mk = async (name) => {
      const t = await script.req('POST', '/api/v1/tokens', { json: typeof name === 'string' ? { name } : name });
      assert.equal(t.status, 201);
      return t.body;
    };
    const live = await mk('live'), old = await mk('old'), revoked = await mk('revoked');
    const readTok = await mk({ name: 'read', scope: 'read' });
    const wp2Tok = await mk({ name: 'WP2 drive', scope: 'write', wps: ['WP2'] });
    const coordTok = (await sessions.coordinator.req('POST', '/api/v1/tokens', { json: { name: 'laptop drive' } })).body;
    assert.ok(coordTok.token);
    // The stale column: its sign-in was long ago.
    sql(s, `UPDATE sessions SET reauth_at = reauth_at - 601 WHERE id = (SELECT max(s.id) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = '${users['stale-coord']}')`);
    sql(s, `UPDATE tokens SET expires_at = strftime('%s','now') - 1 WHERE id = ${old.id}`);
    assert.equal((await script.req('DELETE', `/api/v1/tokens/${revoked.id}`)).status, 204);
    // Disable a user whose session is open.
    const list = await sessions.coordinator.req('GET', '/api/v1/users');
    const gone = list.body.users.find((u) => u.email === users.disabled);
    assert.equal((await sessions.coordinator.req('PATCH', `/api/v1/users/${gone.id}`,
      { json: { disabled: true } })).status, 200);

    // How each column sends a request.
    const send = {
      anonymous: (m, path, o) => request(s, m, path, o),
      'wrong-csrf': (m, path, o) => sessions.coordinator.req(m, path, { ...o, csrf: 'x'.repeat(43) }),
      'token(manage)': (m, path, o) => new Bearer(s, live.token).req(m, path, o),
      'token(read)': (m, path, o) => new Bearer(s, readTok.token).req(m, path, o),
      'token(WP2)': (m, path, o) => new Bearer(s, wp2Tok.token).req(m, path, o),
      'token(coord)': (m, path, o) => new Bearer(s, coordTok.token).req(m, path, o),
      disabled: (m, path, o) => sessions.disabled.req(m, path, o),
      'expired-token': (m, path, o) => new Bearer(s, old.token).req(m, path, o),
      'revoked-token': (m, path, o) => new Bearer(s, revoked.token).req(m, path, o),
    };
    for (const k of ['no-grant', 'read', 'write', 'manage-WP2', 'manage', 'coordinator', 'stale-coord'])
      send[k] = (m, path, o) => sessions[k].req(m, path, o);

    // The document the routes' paths name, for the real COPY and MOVE.
    const coord = sessions.coordinator;
    assert.equal((await coord.req('MKCOL', '/dav/WP1/folder')).status, 201);
    assert.equal((await coord.req('PUT', '/dav/WP1/folder/doc.txt', { body: 'doc' })).status, 201);

    // An unfinished upload of the 'write' column, for the routes of an
    // existing upload.
    const started = await send[UPLOAD_OWNER]('POST', '/api/v1/uploads', { headers: {
      'tus-resumable': '1.0.0', 'upload-length': '10',
      'upload-metadata': `wp ${b64('WP1')},path ${b64('folder/unfinished.txt')}` } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const uploadId = started.headers.get('location').split('/').pop();

    const rows = [];
    const failures = [];
    let realAllowed = 0;
    for (const route of routes) {
      const path = concrete(route, uploadId);
      const cells = [];
      for (const p of principals) {
        const want = expected(p, route);
        const named = namingHeaders(route, p.name);
        const dry = await send[p.name](route.method, path, { headers: { ...named, 'x-consort-dry-run': '1' } });
        let cell = dry.status === 204 ? 'ok' : String(dry.status);
        if (dry.status !== want) {
          failures.push(`${route.method} ${route.pattern} as ${p.name}: ${dry.status} ` +
            `${JSON.stringify(dry.body)}, expected ${want}${dry.status === 204 ? ' (UNEXPECTED ALLOW)' : ''}`);
          cell += '!!';
        }
        if (dry.status !== 204) {
          // Denied: the real request must be denied identically.
          const opts = route.body === 'json' || route.body === 'optional_json' ? { json: {} }
            : route.body === 'stream' ? { body: 'x' } : {};
          const real = await send[p.name](route.method, path, { ...opts, headers: named });
          if (real.status !== dry.status) {
            failures.push(`${route.method} ${route.pattern} as ${p.name}: dry run ${dry.status}, ` +
              `real request ${real.status} ${JSON.stringify(real.body)}`);
            cell += '?';
          }
        } else if (NAMED_WP.has(route.access)) {
          // Allowed: the real upload, copy or move must succeed.
          const real = await send[p.name](route.method, path, { headers: named });
          realAllowed++;
          if (real.status !== 201 && real.status !== 204) {
            failures.push(`${route.method} ${route.pattern} as ${p.name}: dry run allowed, ` +
              `real request ${real.status} ${JSON.stringify(real.body)}`);
            cell += '?';
          }
          if (route.access === 'dav:move' && (real.status === 201 || real.status === 204)) {
            // Put the document back for the next cell.
            const back = await coord.req('MOVE', named.destination,
              { headers: { destination: '/dav/WP1/folder/doc.txt', overwrite: 'T' } });
            assert.equal(back.status, 201, JSON.stringify(back.body));
          }
        } else if (READING.has(route.method)) {
          // Allowed: whatever the handler answers, it is not a refusal
          // of the policy's.
          const real = await send[p.name](route.method, path, { headers: { depth: '0' } });
          realAllowed++;
          if (real.status === 401 || real.status === 403 ||
              (real.status === 404 && /work package/.test(real.body?.detail ?? ''))) {
            failures.push(`${route.method} ${route.pattern} as ${p.name}: dry run allowed, ` +
              `real request refused ${real.status} ${JSON.stringify(real.body)}`);
            cell += '?';
          }
        }
        cells.push(cell);
      }
      rows.push([`${route.method} ${route.pattern}`, route.access, ...cells]);
    }

    const header = ['route', 'access', ...principals.map((p) => p.name)];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cols) => cols.map((c, i) => c.padEnd(widths[i])).join(' | ');
    console.log(`\nauthorization matrix (ok = allowed; a number = the refusal's status)\n${line(header)}\n` +
      `${widths.map((w) => '-'.repeat(w)).join('-+-')}\n${rows.map(line).join('\n')}\n`);
    assert.deepEqual(failures, [], failures.join('\n'));
    assert.ok(realAllowed > 30, `allowed cells sent for real: ${realAllowed}`);
    // The real uploads, copies and moves happened, one per allowed cell.
    // (write, manage, coordinator, token(manage), token(coord),
    // stale-coord: six each, and the upload the upload routes named,
    // which nobody else could end; a move is put back by the
    // coordinator, so moves count twice.)
    const count = (q) => sql(s, q)[0].n;
    assert.equal(count('SELECT count(*) AS n FROM uploads'), 7);
    assert.equal(count(`SELECT count(*) AS n FROM uploads WHERE id = '${uploadId}' AND offset = 0`), 1);
    assert.equal(count("SELECT count(*) AS n FROM audit WHERE action = 'copy'"), 6);
    assert.equal(count("SELECT count(*) AS n FROM audit WHERE action = 'move'"), 12);

    // Across work packages: the Destination's WP is decided on its own.
    // 'manage-WP2' manages WP2 but cannot read WP1 (the source): 404;
    // 'write' cannot read WP2 (the Destination): 409, like a missing
    // parent; 'read' on a WP2 it can read but not write would be 403.
    grant(s, 'WP2', { user: users.read }, 'read');
    const across = [
      ['manage-WP2', 'COPY', 404], ['manage-WP2', 'MOVE', 404],
      ['write', 'COPY', 409], ['write', 'MOVE', 409],
      ['read', 'COPY', 403], ['read', 'MOVE', 403],
      ['coordinator', 'COPY', 201],
    ];
    for (const [who, method, want] of across) {
      const headers = { destination: `/dav/WP2/from-${who}.txt`, overwrite: 'T' };
      const dry = await send[who](method, '/dav/WP1/folder/doc.txt', { headers: { ...headers, 'x-consort-dry-run': '1' } });
      const real = await send[who](method, '/dav/WP1/folder/doc.txt', { headers });
      assert.equal(dry.status, want === 201 ? 204 : want, `${method} to WP2 as ${who} (dry run): ${JSON.stringify(dry.body)}`);
      assert.equal(real.status, want, `${method} to WP2 as ${who}: ${JSON.stringify(real.body)}`);
    }
    // Tus creation naming a WP the caller cannot read: 404, like a
    // missing one. Metadata without a wp names nothing to decide (the
    // dry run allows what the policy alone would) and the handler
    // refuses it as bad input: 400, and no upload exists.
    const tus = (wp) => ({ 'tus-resumable': '1.0.0', 'upload-length': '1',
      'upload-metadata': wp ? `wp ${b64(wp)},path ${b64('x.txt')}` : `path ${b64('x.txt')}` });
    for (const [who, wp, want] of [['write', 'WP2', 404], ['write', 'NOPE', 404], ['read', 'WP2', 403],
      ['write', null, 400], ['coordinator', 'WP2', 201]]) {
      const dry = await send[who]('POST', '/api/v1/uploads', { headers: { ...tus(wp), 'x-consort-dry-run': '1' } });
      const real = await send[who]('POST', '/api/v1/uploads', { headers: tus(wp) });
      assert.equal(dry.status, want === 201 || want === 400 ? 204 : want, `tus to ${wp} as ${who} (dry run): ${JSON.stringify(dry.body)}`);
      assert.equal(real.status, want, `tus to ${wp} as ${who}: ${JSON.stringify(real.body)}`);
    }
    assert.equal(count("SELECT count(*) AS n FROM uploads u JOIN wps w ON w.id = u.wp_id WHERE w.code = 'WP2'"), 1);

    // The creator of an upload who may no longer write there: 403 while
    // the work package is readable, 404 once it is not; dry run and real
    // request alike, and the upload is left as it was.
    const resume = { 'tus-resumable': '1.0.0', 'upload-offset': '0',
      'content-type': 'application/offset+octet-stream' };
    for (const [level, want] of [['read', 403], ['none', 404]]) {
      grant(s, 'WP1', { user: users.write }, level);
      for (const [method, opts] of [['HEAD', { headers: { 'tus-resumable': '1.0.0' } }],
        ['PATCH', { headers: resume, body: '0123456789' }]]) {
        const dry = await send.write(method, `/api/v1/uploads/${uploadId}`,
          { headers: { ...opts.headers, 'x-consort-dry-run': '1' } });
        const real = await send.write(method, `/api/v1/uploads/${uploadId}`, opts);
        assert.equal(dry.status, want, `${method} of an upload with ${level} (dry run)`);
        assert.equal(real.status, want, `${method} of an upload with ${level}`);
      }
    }
    assert.equal(count(`SELECT count(*) AS n FROM uploads WHERE id = '${uploadId}' AND offset = 0`), 1);

    // The states the columns stand for really are what they claim.
    // Disabling deleted the session; a token of the user would say 'disabled'.
    assert.equal((await sessions.disabled.req('GET', '/api/v1/me')).status, 401);
    assert.equal((await send['expired-token']('GET', '/api/v1/me')).body.detail, 'this API token has expired');
    assert.equal((await send['revoked-token']('GET', '/api/v1/me')).body.detail, 'this API token was revoked');
    assert.equal((await send['wrong-csrf']('POST', '/api/v1/wps', { json: {} })).body.detail,
      'missing or wrong X-CSRF-Token header');
    let x = await send['stale-coord']('PATCH', '/api/v1/users/1', { json: { name: 'x' } });
    assert.equal(x.body.error, 'reauthentication_required');
    x = await send['token(coord)']('PATCH', '/api/v1/users/1', { json: { name: 'x' } });
    assert.match(x.body.detail, /API tokens cannot/);
    x = await send['token(read)']('PUT', '/dav/WP1/folder/doc.txt', { body: 'changed' });
    assert.equal(x.status, 403);
    assert.equal((await send['token(read)']('GET', '/dav/WP1/folder/doc.txt')).status, 200);
    x = await send['token(WP2)']('GET', '/api/v1/wps');
    assert.deepEqual(x.body.wps.map((w) => w.code), ['WP2']);
  });
});

// The link principal (share links, docs/links.md): a link's secret is a
// credential only on the recipient's routes of its own link, and there
// only while the policy says the link may be used. Every other route of
// the table refuses it as a bearer token (401, as for any unknown
// credential); on its own routes every state other than live is 404.
test('authorization matrix: the link principal', async () => {
  const r = runConsort(['routes']);
  const routes = JSON.parse(r.stdout);
  const { consortium, apiJson, api } = await import('./lib/docs.mjs');
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    addWp(s, 'WP2');
    for (const p of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'f.txt'])
      assert.ok([200, 201].includes((await api(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/${p}`, { body: p })).status));
    assert.equal((await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'download' } })).status, 200);
    const mk = async (token, json) => {
      const x = await apiJson(s, token, 'POST', '/api/v1/links',
        { json: { wp: 'WP1', expires_at: new Date(Date.now() + 86400e3).toISOString().replace(/\.\d+Z$/, 'Z'), ...json } });
      assert.equal(x.status, 201, JSON.stringify(x.body));
      return x.body;
    };
    const links = {
      live: await mk(tokens.writer, { path: 'a.txt' }),
      revoked: await mk(tokens.writer, { path: 'b.txt' }),
      expired: await mk(tokens.writer, { path: 'c.txt', expires_at: String(Math.floor(Date.now() / 1000) + 1) }),
      'used-up': await mk(tokens.writer, { path: 'd.txt', max_downloads: 1 }),
      'creator-disabled': await mk(tokens.other, { path: 'e.txt' }),
      'creator-without-access': await mk(tokens.manager, { path: 'f.txt' }),
    };
    assert.equal((await api(s, tokens.writer, 'DELETE', `/api/v1/links/${links.revoked.link.id}`)).status, 200);
    assert.equal((await s.fetch(`/api/v1/s/${links['used-up'].secret}/file`).then((x) => x.arrayBuffer())).byteLength, 5);
    sql(s, "UPDATE users SET disabled = 1 WHERE email = 'other@b.example'");
    grant(s, 'WP1', { user: 'manager@a.example' }, 'none');
    await new Promise((res) => setTimeout(res, 1500));
    links.guessed = { secret: links.live.secret.slice(0, 42) + (links.live.secret.endsWith('Q') ? 'R' : 'Q') };

    // Every route that is not public: the secret as a bearer token, a
    // basic password, or a cookie identifies nobody.
    let checked = 0;
    for (const route of routes) {
      if (route.access === 'public' || route.access === 'scraper') continue;
      const path = concrete(route, 'x');
      for (const headers of [{ authorization: `Bearer ${links.live.secret}` },
        { authorization: `Basic ${b64(`x:${links.live.secret}`)}` },
        { cookie: `__Host-consort=${links.live.secret}` }]) {
        const x = await request(s, route.method, path, { headers: { ...headers, 'x-consort-dry-run': '1' } });
        assert.equal(x.status, 401, `${route.method} ${route.pattern} with the link's secret`);
        checked++;
      }
    }
    assert.ok(checked > 100);

    // The link's own routes, for each state.
    const own = (sec) => [['GET', `/api/v1/s/${sec}`], ['GET', `/api/v1/s/${sec}/file`],
      ['GET', `/api/v1/s/${sec}/zip`], ['POST', `/api/v1/s/${sec}/unlock`]];
    const table = [];
    for (const [state, l] of Object.entries(links)) {
      const cells = [];
      for (const [m, p] of own(l.secret)) {
        const x = await request(s, m, p, m === 'POST' ? { json: { password: 'whatever 123' } } : {});
        cells.push(x.status);
      }
      table.push(`${state.padEnd(24)} ${cells.join(' ')}`);
      // live: metadata and file; a document link has no ZIP (400) and no
      // password (400); every other state is 404 everywhere.
      assert.deepEqual(cells, state === 'live' ? [200, 200, 400, 400] : [404, 404, 404, 404], state);
    }
    console.log(`link principal (GET meta, GET file, GET zip, POST unlock):\n${table.join('\n')}`);
    // A live link reaches its own document only, nothing beside it.
    // (a path that is no name, such as '..', is refused as bad input)
    for (const [p, status] of [['b.txt', 404], ['../b.txt', 400], ['a.txt/x', 404], ['/b.txt', 400]])
      assert.equal((await request(s, 'GET', `/api/v1/s/${links.live.secret}/file?path=${encodeURIComponent(p)}`)).status, status, p);
    // Links off in the policy: the live link stops too.

    // Drop links (kind "drop"): uploads only, never a read, in every state.
    grant(s, 'WP1', { user: 'manager@a.example' }, 'manage');
    assert.equal((await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'drop' } })).status, 200);
    assert.equal((await api(s, tokens.writer, 'POST', '/api/v1/wps/WP1/folders', { json: { path: 'In' } })).status, 201);
    addUser(s, 'dropper@a.example', 'UNIA', { name: 'Dropper' });
    grant(s, 'WP1', { user: 'dropper@a.example' }, 'write');
    const dropper = await Session.login(s, 'dropper@a.example');
    const dtoken = (await dropper.req('POST', '/api/v1/tokens', { json: { name: 'e2e' } })).body.token;
    const drops = {
      live: await mk(tokens.writer, { path: 'In', kind: 'drop' }),
      revoked: await mk(tokens.writer, { path: 'In', kind: 'drop' }),
      expired: await mk(tokens.writer, { path: 'In', kind: 'drop', expires_at: String(Math.floor(Date.now() / 1000) + 1) }),
      full: await mk(tokens.writer, { path: 'In', kind: 'drop', max_files: 1 }),
      password: await mk(tokens.writer, { path: 'In', kind: 'drop', password: 'drop password 1' }),
      'creator-read-only': await mk(dtoken, { path: 'In', kind: 'drop' }),
    };
    assert.equal((await api(s, tokens.writer, 'DELETE', `/api/v1/links/${drops.revoked.link.id}`)).status, 200);
    const tusPost = (sec, name) => request(s, 'POST', `/api/v1/s/${sec}/uploads`, { body: 'abc',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': '3', 'content-type': 'application/offset+octet-stream',
        'upload-metadata': `uploader ${b64('Matrix')},filename ${b64(name)}` } });
    assert.equal((await tusPost(drops.full.secret, 'first.txt')).status, 201);
    grant(s, 'WP1', { user: 'dropper@a.example' }, 'read');
    await new Promise((res) => setTimeout(res, 1500));
    drops.guessed = { secret: drops.live.secret.slice(0, 42) + (drops.live.secret.endsWith('Q') ? 'R' : 'Q') };
    const dtable = [];
    const want = {
      live: [200, 403, 403, 201, 404], full: [200, 403, 403, 409, 404], password: [200, 401, 401, 401, 401],
    };
    for (const [state, l] of Object.entries(drops)) {
      const cells = [];
      for (const [m, p] of [['GET', `/api/v1/s/${l.secret}`], ['GET', `/api/v1/s/${l.secret}/file`], ['GET', `/api/v1/s/${l.secret}/zip`]])
        cells.push((await request(s, m, p)).status);
      cells.push((await tusPost(l.secret, `${state}.txt`)).status);
      cells.push((await request(s, 'HEAD', `/api/v1/s/${l.secret}/uploads/${'A'.repeat(43)}`, { headers: { 'tus-resumable': '1.0.0' } })).status);
      dtable.push(`${state.padEnd(24)} ${cells.join(' ')}`);
      assert.deepEqual(cells, want[state] || [404, 404, 404, 404, 404], state);
    }
    console.log(`drop links (GET meta, GET file, GET zip, POST uploads, HEAD upload):\n${dtable.join('\n')}`);
    // What arrived: the live link's file and the full link's first, no more.
    assert.deepEqual(sql(s, "SELECT actor FROM audit WHERE action = 'upload' AND actor LIKE 'link #%' ORDER BY id").map((x) => x.actor),
      [`link #${drops.full.link.id}`, `link #${drops.live.link.id}`]);

    grant(s, 'WP1', { user: 'manager@a.example' }, 'none');
    assert.equal((await apiJson(s, tokens.writer, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'off' } })).status, 403);
    grant(s, 'WP1', { user: 'manager@a.example' }, 'manage');
    assert.equal((await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { links: 'off' } })).status, 200);
    assert.equal((await request(s, 'GET', `/api/v1/s/${links.live.secret}`)).status, 404);
  });
});
