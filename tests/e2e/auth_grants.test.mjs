// Work packages, grants (user and partner, highest wins), what a WP lead
// may and may not do, and the audit log's query API and CSV export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session } from './lib/accounts.mjs';

test('levels come from user and partner grants; a WP lead manages grants on that WP only', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addPartner(s, 'INSTB', { country: 'FR' });
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'lead@b.example', 'INSTB');
    addUser(s, 'member@b.example', 'INSTB');
    addUser(s, 'other@a.example', 'UNIA');
    const coord = await Session.login(s, 'coord@a.example');

    let r = await coord.req('POST', '/api/v1/wps', { json: { code: 'WP1', title: 'Management', lead: 'instb' } });
    assert.equal(r.status, 201);
    assert.deepEqual({ ...r.body.wp, created_at: undefined }, { code: 'WP1', title: 'Management', lead: 'INSTB', level: 'manage', archived: false, created_at: undefined });
    r = await coord.req('POST', '/api/v1/wps', { json: { code: 'WP2', title: 'Data' } });
    assert.equal(r.status, 201);
    assert.equal(r.body.wp.lead, null);
    // Each WP has its root folder, made in the same transaction.
    const roots = sql(s, 'SELECT w.code, n.parent_id, n.is_folder, n.name, n.name_key, n.wp_id = w.id AS own FROM wps w JOIN nodes n ON n.id = w.root_id ORDER BY w.code');
    assert.deepEqual(roots, [
      { code: 'WP1', parent_id: null, is_folder: 1, name: '', name_key: '', own: 1 },
      { code: 'WP2', parent_id: null, is_folder: 1, name: '', name_key: '', own: 1 }]);

    r = await coord.req('PUT', '/api/v1/wps/WP1/grants', { json: { user: 'lead@b.example', level: 'manage' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { user: 'lead@b.example', wp: 'WP1', level: 'manage', previous: 'none' });
    const lead = await Session.login(s, 'lead@b.example');
    const member = await Session.login(s, 'member@b.example');
    assert.deepEqual((await member.req('GET', '/api/v1/wps')).body.wps, []);

    // The lead grants the whole partner read, and one member write.
    r = await lead.req('PUT', '/api/v1/wps/wp1/grants', { json: { partner: 'INSTB', level: 'read' } });
    assert.equal(r.status, 200);
    let wps = (await member.req('GET', '/api/v1/wps')).body.wps;
    assert.deepEqual(wps.map((w) => [w.code, w.level]), [['WP1', 'read']]);
    r = await lead.req('PUT', '/api/v1/wps/WP1/grants', { json: { user: 'member@b.example', level: 'write' } });
    assert.equal(r.status, 200);
    wps = (await member.req('GET', '/api/v1/wps')).body.wps;
    assert.deepEqual(wps.map((w) => [w.code, w.level]), [['WP1', 'write']]);
    // The lead's own level stays manage (own grant beats the partner's read).
    assert.deepEqual((await lead.req('GET', '/api/v1/wps')).body.wps.map((w) => w.level), ['manage']);
    assert.equal((await member.req('GET', '/api/v1/wps/WP1')).body.wp.level, 'write');

    r = await lead.req('GET', '/api/v1/wps/WP1/grants');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.grants.map((g) => [g.partner && !g.user ? `partner:${g.partner}` : `user:${g.user}`, g.level, g.granted_by]),
      [['partner:INSTB', 'read', 'lead@b.example'], ['user:lead@b.example', 'manage', 'coord@a.example'],
        ['user:member@b.example', 'write', 'lead@b.example']]);

    // Not on another WP: invisible (404) without a level, 403 with read.
    r = await lead.req('PUT', '/api/v1/wps/WP2/grants', { json: { user: 'member@b.example', level: 'read' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.detail, 'no such work package');
    await coord.req('PUT', '/api/v1/wps/WP2/grants', { json: { user: 'lead@b.example', level: 'read' } });
    r = await lead.req('PUT', '/api/v1/wps/WP2/grants', { json: { user: 'member@b.example', level: 'read' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.detail, 'this needs manage access to WP2');
    // Nor anything a coordinator does.
    assert.equal((await lead.req('PATCH', `/api/v1/users/${member.user.id}`, { json: { coordinator: true } })).status, 403);
    assert.equal((await lead.req('POST', '/api/v1/wps', { json: { code: 'WP3', title: 'x' } })).status, 403);
    assert.equal((await lead.req('PUT', '/api/v1/wps/WP1/grants', { json: { user: 'member@b.example', level: 'coordinator' } })).status, 400);
    // A member with write cannot manage grants.
    assert.equal((await member.req('PUT', '/api/v1/wps/WP1/grants', { json: { user: 'member@b.example', level: 'manage' } })).status, 403);

    // none removes the grant.
    r = await lead.req('PUT', '/api/v1/wps/WP1/grants', { json: { user: 'member@b.example', level: 'none' } });
    assert.deepEqual(r.body, { user: 'member@b.example', wp: 'WP1', level: 'none', previous: 'write' });
    assert.equal((await member.req('GET', '/api/v1/wps/WP1')).body.wp.level, 'read');
    r = await lead.req('PUT', '/api/v1/wps/WP1/grants', { json: { partner: 'INSTB', level: 'none' } });
    assert.equal((await member.req('GET', '/api/v1/wps/WP1')).status, 404);

    // Coordinators see and manage every WP.
    wps = (await coord.req('GET', '/api/v1/wps')).body.wps;
    assert.deepEqual(wps.map((w) => [w.code, w.level]), [['WP1', 'manage'], ['WP2', 'manage']]);
    // Partners are listed for everyone signed in.
    r = await member.req('GET', '/api/v1/partners');
    assert.deepEqual(r.body.partners.map((p) => p.short), ['INSTB', 'UNIA']);

    const grants = sql(s, "SELECT actor, object, detail FROM audit WHERE action = 'grant' ORDER BY id");
    assert.deepEqual(grants[1], { actor: 'lead@b.example', object: 'partner:INSTB', detail: 'none -> read' });
    assert.equal(grants.length, 6);
  });
});

test('the audit log: filters, paging, CSV export, coordinators only', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addWp(s, 'WP1');
    addWp(s, 'WP2');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'alice@a.example', 'UNIA');
    grant(s, 'WP1', { user: 'alice@a.example' }, 'manage');
    const coord = await Session.login(s, 'coord@a.example');
    const alice = await Session.login(s, 'alice@a.example');
    for (const level of ['read', 'write', 'read'])
      await alice.req('PUT', '/api/v1/wps/WP1/grants', { json: { partner: 'UNIA', level } });
    await coord.req('PUT', '/api/v1/wps/WP2/grants', { json: { partner: 'UNIA', level: 'read' } });
    // A value a spreadsheet would run as a formula.
    await coord.req('POST', '/api/v1/partners', { json: { short: 'EVIL', name: '=HYPERLINK("http://x","y")', country: 'DE' } });

    let r = await alice.req('GET', '/api/v1/audit');
    assert.equal(r.status, 403);
    r = await coord.req('GET', '/api/v1/audit');
    assert.equal(r.status, 200);
    const all = r.body;
    assert.equal(all.total, all.entries.length);
    assert.ok(all.entries[0].id > all.entries[1].id, 'newest first');
    for (const k of ['id', 'at', 'user', 'user_id', 'address', 'action', 'wp', 'object', 'detail'])
      assert.ok(k in all.entries[0], k);

    r = await coord.req('GET', '/api/v1/audit?action=grant&wp=WP1');
    assert.equal(r.body.total, 4); // CLI grant + three by alice
    r = await coord.req('GET', '/api/v1/audit?action=grant&wp=wp1&user=alice%40a.example');
    assert.equal(r.body.total, 3);
    assert.deepEqual(r.body.entries.map((e) => e.detail), ['write -> read', 'read -> write', 'none -> read']);
    assert.ok(r.body.entries.every((e) => e.user === 'alice@a.example' && e.address === '127.0.0.1' && e.wp === 'WP1'));
    r = await coord.req('GET', '/api/v1/audit?action=grant&user=alice@a.example&limit=2&offset=1');
    assert.equal(r.body.total, 3);
    assert.deepEqual(r.body.entries.map((e) => e.detail), ['read -> write', 'none -> read']);
    r = await coord.req('GET', '/api/v1/audit?since=2999-01-01');
    assert.equal(r.body.total, 0);
    const now = Math.floor(Date.now() / 1000);
    r = await coord.req('GET', `/api/v1/audit?since=${now - 3600}&until=${now + 3600}`);
    assert.equal(r.body.total, all.total);
    r = await coord.req('GET', '/api/v1/audit?until=2000-01-01T00:00:00Z');
    assert.equal(r.body.total, 0);

    for (const [q, msg] of [['user=nobody@a.example', /no user/], ['wp=WP9', /no such work package/],
      ['limit=0', /at least 1/], ['limit=5000', /at most 1000/], ['offset=-1', /must be a number/],
      ['since=yesterday', /must be a date/], ['action=DROP%20TABLE', /must be a word/],
      ['format=xml', /json or csv/], ['bogus=1', /unknown parameter 'bogus'/]]) {
      r = await coord.req('GET', `/api/v1/audit?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body.detail, msg, q);
    }

    r = await coord.req('GET', '/api/v1/audit?format=csv&action=grant');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/csv/);
    assert.match(r.headers.get('content-disposition'), /attachment/);
    const lines = r.body.trim().split('\r\n');
    assert.equal(lines[0], 'id,time,user,address,action,wp,object,detail');
    assert.equal(lines.length, 1 + 5);
    assert.match(lines[2], /^"\d+","\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","alice@a.example","127.0.0.1","grant","WP1","partner:UNIA","none -> read"$/);
    r = await coord.req('GET', '/api/v1/audit?format=csv&action=partner_create');
    assert.ok(r.body.includes('"\'=HYPERLINK(""http://x"",""y"") (DE)"'), r.body);
  });
});

test('a CSV export of a long audit log streams every record', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    // 3000 records written straight into the log (the triggers allow INSERT).
    sql(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) " +
      "INSERT INTO audit (at, actor, peer, action, object, detail) SELECT strftime('%s','now'), 'bulk@a.example', '10.0.0.1', 'download', '/doc' || i || '.pdf', '' FROM n");
    const coord = await Session.login(s, 'coord@a.example');
    const r = await coord.req('GET', '/api/v1/audit?format=csv&action=download');
    const lines = r.body.trim().split('\r\n');
    assert.equal(lines.length, 3001);
    assert.ok(lines[3000].includes('"/doc3000.pdf"'));
    const j = await coord.req('GET', '/api/v1/audit?action=download&limit=1000&offset=2500');
    assert.equal(j.body.total, 3000);
    assert.equal(j.body.entries.length, 500);
  });
});
