// The authorization matrix: every route of the route table (from
// `consort routes`, so a route added tomorrow is walked without anyone
// touching this file) against every kind of caller. For each cell the
// policy's answer is asked with X-Consort-Dry-Run (the handler never
// runs, so routes whose handlers have side effects, or do not exist yet
// in a branch, are judged on the policy alone); every denied cell is
// then sent for real and must be denied the same way, which proves the
// dry run tells the truth and that a denied request reaches no handler.
// The matrix is printed; any unexpected allow (or a deny with the wrong
// status) fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, runConsort } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session, Bearer, request } from './lib/accounts.mjs';

const LEVEL = { 'wp:read': 1, 'wp:write': 2, 'wp:manage': 3 };
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

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
  if (!['user', 'session', 'coordinator', 'wp:read', 'wp:write', 'wp:manage'].includes(a))
    throw new Error(`the matrix does not know access '${a}' of ${route.method} ${route.pattern}: teach it`);
  if (p.auth === 'none' || p.auth === 'dead') return 401;
  if (p.wrongCsrf && !SAFE.has(route.method)) return 403;
  if (a === 'session' && p.auth === 'token') return 403;
  if (route.pattern.includes('{wp}') && p.level === 0) return 404;
  if (a in LEVEL && p.level < LEVEL[a]) return 403;
  if (a === 'coordinator' && !p.coordinator) return 403;
  return 204;
}

function concrete(pattern) {
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
    };
    addUser(s, users.coordinator, 'UNIA', { coordinator: true });
    for (const [k, email] of Object.entries(users)) if (k !== 'coordinator') addUser(s, email, 'INSTB');
    grant(s, 'WP1', { user: users.read }, 'read');
    grant(s, 'WP1', { user: users.write }, 'write');
    grant(s, 'WP2', { user: users['manage-WP2'] }, 'manage');
    grant(s, 'WP1', { user: users.manage }, 'manage');
    grant(s, 'WP1', { user: users['token(manage)'] }, 'manage');
    grant(s, 'WP1', { user: users.disabled }, 'read');

    const sessions = {};
    for (const [k, email] of Object.entries(users)) sessions[k] = await Session.login(s, email);
    // Tokens: one live, one to expire, one to revoke.
    const script = sessions['token(manage)'];
    const mk = async (name) => {
      const t = await script.req('POST', '/api/v1/tokens', { json: { name } });
      assert.equal(t.status, 201);
      return t.body;
    };
    const live = await mk('live'), old = await mk('old'), revoked = await mk('revoked');
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
      disabled: (m, path, o) => sessions.disabled.req(m, path, o),
      'expired-token': (m, path, o) => new Bearer(s, old.token).req(m, path, o),
      'revoked-token': (m, path, o) => new Bearer(s, revoked.token).req(m, path, o),
    };
    for (const k of ['no-grant', 'read', 'write', 'manage-WP2', 'manage', 'coordinator'])
      send[k] = (m, path, o) => sessions[k].req(m, path, o);

    const rows = [];
    const failures = [];
    for (const route of routes) {
      const path = concrete(route.pattern);
      const cells = [];
      for (const p of principals) {
        const want = expected(p, route);
        const dry = await send[p.name](route.method, path, { headers: { 'x-consort-dry-run': '1' } });
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
          const real = await send[p.name](route.method, path, opts);
          if (real.status !== dry.status) {
            failures.push(`${route.method} ${route.pattern} as ${p.name}: dry run ${dry.status}, ` +
              `real request ${real.status} ${JSON.stringify(real.body)}`);
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

    // The states the columns stand for really are what they claim.
    // Disabling deleted the session; a token of the user would say 'disabled'.
    assert.equal((await sessions.disabled.req('GET', '/api/v1/me')).status, 401);
    assert.equal((await send['expired-token']('GET', '/api/v1/me')).body.detail, 'this API token has expired');
    assert.equal((await send['revoked-token']('GET', '/api/v1/me')).body.detail, 'this API token was revoked');
    assert.equal((await send['wrong-csrf']('POST', '/api/v1/wps', { json: {} })).body.detail,
      'missing or wrong X-CSRF-Token header');
  });
});
