// Search never shows what the caller may not read: a word in WP1 and
// WP2 documents, searched by a member who reads WP1 only, gives WP1
// hits, a total counting only those, facets without WP2, no title, name
// or snippet from WP2, and no spelling suggestion drawn from WP2; wp=WP2
// is refused exactly like a work package that does not exist. Grant
// changes (user and partner grants, given and taken back) show in the
// very next search. Coordinators see everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { addPartner, addUser, grant, Session } from './lib/accounts.mjs';
import { makeDoc, people, put, found, search, waitIndexed, hitPaths } from './lib/search.mjs';

let s, tok;

// WP1: 3 documents mentioning germline; WP2: 4 more, one of them a
// presentation (a type WP1 does not have), with secret words in titles,
// names and text.
const WP1 = [
  ['guidelines/germline testing.docx', 'docx', 'Germline testing guidelines', 'The germline testing guidelines of the consortium are the reference for all the clinics.'],
  ['guidelines/germline summary.md', 'md', null, '# Germline summary\n\nA summary of the germline work for the partners and the coordinator.'],
  ['data/germline counts.csv', 'csv', null, 'site,germline,count\nberlin,germline,12\nparis,germline,7\n'],
];
const WP2 = [
  ['secret/germline hushword plan.pptx', 'pptx', 'Classified hushword roadmap', 'The germline hushword strategy is not for the other work packages at all.'],
  ['secret/germline budget.xlsx', 'xlsx', 'Budget of the hushword lab', 'germline;hushword;1000\nthe total;of;the year'],
  ['secret/germline notes.txt', 'txt', null, 'Germline notes: the hushword zanzibarian protocol is kept in this work package.'],
  ['secret/germline letter.odt', 'odt', 'Letter', 'A letter about germline matters and the hushword committee of the project.'],
];

function bytes([path, fmt, title, body]) {
  if (fmt === 'md' || fmt === 'csv' || fmt === 'txt') return Buffer.from(body + '\n');
  return makeDoc(fmt, { title, body });
}

before(async () => {
  s = await new Server().start();
  ({ tokens: tok } = await people(s, {
    wps: ['WP1', 'WP2'],
    members: { member: { WP1: 'read' }, writer2: { WP2: 'write' }, nobody: {} },
  }));
  for (const d of WP1) await put(s, tok.coord, 'WP1', d[0], bytes(d));
  for (const d of WP2) await put(s, tok.coord, 'WP2', d[0], bytes(d));
  await waitIndexed(s, tok.coord, [...WP1.map((d) => ['WP1', d[0]]), ...WP2.map((d) => ['WP2', d[0]])]);
});

after(async () => { await s?.close(); });

const wp1Paths = WP1.map((d) => `WP1/${d[0]}`).sort();
const allPaths = [...WP1.map((d) => `WP1/${d[0]}`), ...WP2.map((d) => `WP2/${d[0]}`)].sort();

// Nothing in the answer may carry WP2's words, names or code.
function assertNoWp2(body) {
  const text = JSON.stringify(body).toLowerCase();
  for (const leak of ['hushword', 'secret/', 'classified', 'zanzibarian', '"wp2"', 'pptx', 'xlsx', 'letter'])
    assert.ok(!text.includes(leak), `answer leaks ${leak}: ${text}`);
}

test('a member with read on WP1 only sees WP1: hits, total, facets, snippets', async () => {
  const r = await found(s, tok.member, 'germline', { limit: 100 });
  assert.deepEqual(hitPaths(r), wp1Paths);
  assert.equal(r.total, WP1.length);
  assert.equal(r.total_exact, true);
  assert.deepEqual(r.facets.wp, [{ wp: 'WP1', count: WP1.length }]);
  assert.deepEqual(r.facets.type.map((f) => f.type).sort(), ['csv', 'docx', 'md']);
  assertNoWp2(r);
  for (const h of r.hits) assert.match(h.snippet, /<mark>germline<\/mark>/i);

  // Paging through the member's results never reaches WP2.
  const p = await found(s, tok.member, 'germline', { limit: 2, offset: 2 });
  assert.equal(p.total, WP1.length);
  assert.equal(p.hits.length, 1);
  assertNoWp2(p);

  // Words only WP2 has: nothing, not even a count.
  for (const q of ['hushword', 'title:classified', 'name:hushword', 'zanzibarian', 'germline OR hushword', 'wp:WP2', 'wp:WP2 germline', 'type:pptx', 'hush*']) {
    const x = await found(s, tok.member, q, { limit: 100 });
    if (q.startsWith('germline OR')) {
      assert.equal(x.total, WP1.length, q);
      assert.deepEqual(hitPaths(x), wp1Paths, q);
    } else {
      assert.equal(x.total, 0, q);
      assert.deepEqual(x.hits, [], q);
      assert.deepEqual(x.facets, { wp: [], type: [] }, q);
    }
    assertNoWp2(x);
  }
});

test('no spelling suggestion from a work package the caller cannot read', async () => {
  // The coordinator reads WP2, so the correction of a WP2 word is offered.
  const c = await found(s, tok.coord, 'zanzibarien');
  assert.equal(c.total, 0);
  assert.equal(c.suggestion, 'zanzibarian');
  const m = await found(s, tok.member, 'zanzibarien');
  assert.equal(m.total, 0);
  assert.equal(m.suggestion, null);
  assertNoWp2(m);
  // Not even inside a correction that finds something else readable:
  // the corrected query "zanzibarian OR germline" finds WP1 documents,
  // but its first word comes from WP2 only.
  for (const q of ['zanzibarien OR germlne', 'germlne OR zanzibarien', 'zanzibarien OR guidelnes OR germlne']) {
    const x = await found(s, tok.member, q);
    assert.equal(x.total, 0, q);
    assertNoWp2(x);
    // (the caller's own misspelling may stay; WP2's word may not appear)
    if (x.suggestion !== null) assert.doesNotMatch(x.suggestion, /zanzibarian/, q);
  }
  // The coordinator, who reads WP2, gets the whole correction.
  assert.equal((await found(s, tok.coord, 'zanzibarien OR germlne')).suggestion, 'zanzibarian OR germline');
});

test('wp=WP2 is refused exactly like a work package that does not exist', async () => {
  const a = await search(s, tok.member, 'germline', { wp: 'WP2' });
  const b = await search(s, tok.member, 'germline', { wp: 'WP7' });
  assert.equal(a.status, 404);
  assert.equal(b.status, 404);
  assert.equal(a.body.error, b.body.error);
  assert.equal(a.body.detail.replace('WP2', 'X'), b.body.detail.replace('WP7', 'X'));
  // The member's own WP works, by any case.
  const ok = await found(s, tok.member, 'germline', { wp: 'wp1' });
  assert.equal(ok.total, WP1.length);
  // No access at all: searching is allowed, and finds nothing.
  const none = await found(s, tok.nobody, 'germline');
  assert.equal(none.total, 0);
  assert.deepEqual(none.facets, { wp: [], type: [] });
  assert.equal((await search(s, tok.nobody, 'germline', { wp: 'WP1' })).status, 404);
  // Without credentials: 401.
  assert.equal((await s.fetch('/api/v1/search?q=germline')).status, 401);
});

test('coordinators and members of both see everything', async () => {
  const c = await found(s, tok.coord, 'germline', { limit: 100 });
  assert.deepEqual(hitPaths(c), allPaths);
  assert.equal(c.total, allPaths.length);
  assert.deepEqual(c.facets.wp, [{ wp: 'WP2', count: WP2.length }, { wp: 'WP1', count: WP1.length }]);
  const only2 = await found(s, tok.coord, 'germline', { wp: 'WP2' });
  assert.equal(only2.total, WP2.length);
  // A member of WP2 only sees WP2.
  const w = await found(s, tok.writer2, 'germline', { limit: 100 });
  assert.deepEqual(hitPaths(w), allPaths.filter((p) => p.startsWith('WP2/')));
});

test('grant changes show in the next search, and so does taking them back', async () => {
  const coord = await Session.login(s, 'coord@a.example');
  const setGrant = async (body) => {
    const r = await coord.req('PUT', '/api/v1/wps/WP2/grants', { json: body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  // User grant over the API.
  await setGrant({ user: 'member@a.example', level: 'read' });
  let r = await found(s, tok.member, 'germline', { limit: 100 });
  assert.deepEqual(hitPaths(r), allPaths);
  assert.equal(r.total, allPaths.length);
  assert.equal((await found(s, tok.member, 'hushword')).total, WP2.length);
  assert.equal((await found(s, tok.member, 'zanzibarien')).suggestion, 'zanzibarian');
  assert.equal((await search(s, tok.member, 'germline', { wp: 'WP2' })).status, 200);

  await setGrant({ user: 'member@a.example', level: 'none' });
  r = await found(s, tok.member, 'germline', { limit: 100 });
  assert.deepEqual(hitPaths(r), wp1Paths);
  assert.equal(r.total, WP1.length);
  assertNoWp2(r);
  assert.equal((await search(s, tok.member, 'germline', { wp: 'WP2' })).status, 404);

  // A partner grant reaches every member of the partner; the command line works too.
  addPartner(s, 'INSTB', { country: 'FR' });
  addUser(s, 'bea@b.example', 'INSTB');
  const bea = await Session.login(s, 'bea@b.example');
  const tr = await bea.req('POST', '/api/v1/tokens', { json: { name: 't' } });
  const beaTok = tr.body.token;
  assert.equal((await found(s, beaTok, 'germline')).total, 0);
  grant(s, 'WP2', { partner: 'INSTB' }, 'read');
  r = await found(s, beaTok, 'germline', { limit: 100 });
  assert.deepEqual(hitPaths(r), allPaths.filter((p) => p.startsWith('WP2/')));
  grant(s, 'WP2', { partner: 'INSTB' }, 'none');
  r = await found(s, beaTok, 'germline');
  assert.equal(r.total, 0);
  assert.deepEqual(r.hits, []);

  // Disabled account: its token stops searching at once.
  const meId = (await coord.req('GET', '/api/v1/users')).body.users.find((u) => u.email === 'member@a.example').id;
  assert.equal((await coord.req('PATCH', `/api/v1/users/${meId}`, { json: { disabled: true } })).status, 200);
  assert.equal((await search(s, tok.member, 'germline')).status, 401);
});
