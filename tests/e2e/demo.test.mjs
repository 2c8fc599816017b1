// `consort demo --data DIR`: a complete example consortium in a new data
// directory. The server starts on it; the printed logins work; what each
// person sees follows the grants of the demo (management read by all,
// evaluation closed, technical WPs by partner); the store is clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runConsort, tempDir, withServer } from './lib/server.mjs';
import { Session, sql } from './lib/accounts.mjs';
import { recordSecret } from './lib/secrets.mjs';

function logins(dir) {
  const text = readFileSync(join(dir, 'demo-logins.txt'), 'utf8');
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const [email, password, role, partner] = l.split('\t');
    recordSecret(password);
    return { email, password, role, partner };
  });
}

test('the demo makes a populated store and prints the logins', async () => {
  const dir = join(tempDir(), 'data');
  const r = runConsort(['demo', '--data', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /40 partners in 17 countries, \d+ accounts, 10 work packages/);
  const people = logins(dir);
  assert.ok(people.length >= 60);
  assert.equal(statSync(join(dir, 'demo-logins.txt')).mode & 0o777, 0o600);
  const coordinator = people.find((p) => p.role === 'coordinator');
  assert.ok(r.stdout.includes(`${coordinator.email}`) && r.stdout.includes(coordinator.password),
    'the coordinator login is printed');
  for (let w = 1; w <= 10; w++) assert.ok(people.some((p) => p.role === `lead WP${w}`), `lead WP${w}`);

  const fsck = runConsort(['fsck', '--data', dir]);
  assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);

  await withServer({ dataDir: dir }, async (s) => {
    const counts = sql(s, `SELECT (SELECT count(*) FROM partners) p, (SELECT count(DISTINCT country) FROM partners) c,
      (SELECT count(*) FROM wps) w, (SELECT count(*) FROM nodes WHERE is_folder = 0) d,
      (SELECT count(*) FROM versions) v, (SELECT count(DISTINCT mime) FROM versions) m,
      (SELECT count(*) FROM audit WHERE action = 'grant') g`)[0];
    assert.deepEqual([counts.p, counts.c, counts.w], [40, 17, 10]);
    assert.ok(counts.d >= 30 && counts.v >= 2 * counts.d && counts.m >= 6, JSON.stringify(counts));
    assert.ok(counts.g > 100);

    const wpsOf = async (p) => {
      const se = await Session.login(s, p.email, p.password);
      const res = await se.req('GET', '/api/v1/wps');
      assert.equal(res.status, 200);
      return Object.fromEntries(res.body.wps.map((w) => [w.code, w.level]));
    };
    const all = await wpsOf(coordinator);
    assert.equal(Object.keys(all).length, 10);
    const lead3 = await wpsOf(people.find((p) => p.role === 'lead WP3'));
    assert.equal(lead3.WP3, 'manage');
    assert.equal(lead3.WP1, 'read');
    assert.equal(lead3.WP2, 'write');
    assert.equal(lead3.WP10, 'read', 'WP leads read the evaluation');
    // a member of a partner in no technical WP sees management and
    // dissemination only
    const counted = new Map();
    for (const p of people.filter((x) => x.role === 'member')) {
      const seen = await wpsOf(p);
      // the coordinating partner's own members write in WP1
      assert.ok(['read', 'write'].includes(seen.WP1), `${p.email}: WP1 ${seen.WP1}`);
      assert.ok(['write', 'manage'].includes(seen.WP2), `${p.email}: WP2 ${seen.WP2}`);
      assert.equal(seen.WP10, undefined, `${p.email} sees the closed evaluation WP`);
      counted.set(Object.keys(seen).length, (counted.get(Object.keys(seen).length) || 0) + 1);
      if (counted.size > 1) break;
    }
    assert.ok(counted.size > 1, 'members of different partners see different WPs');
    // The documents are served like uploads: versions, status, bytes.
    const coord = await Session.login(s, coordinator.email, coordinator.password);
    const d31 = await coord.req('GET', '/api/v1/wps/WP3/tree/Deliverables/D3.1%20Cascade%20testing%20pathways.docx');
    assert.equal(d31.status, 200, JSON.stringify(d31.body));
    assert.equal(d31.body.versions_total, 3);
    assert.equal(d31.body.status, 'final');
    assert.equal(d31.body.deliverable, 'D3.1');
    const bytes = await s.fetch('/api/v1/wps/WP3/content/Deliverables/D3.1%20Cascade%20testing%20pathways.docx?version=1',
      { headers: { cookie: `__Host-consort=${coord.cookie}` } });
    assert.equal(bytes.status, 200);
    assert.equal(bytes.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    assert.equal(Buffer.from(await bytes.arrayBuffer()).subarray(0, 2).toString(), 'PK');

    // The documents are searchable once indexed, within what each may read.
    const lead = await Session.login(s, people.find((p) => p.role === 'lead WP3').email,
      people.find((p) => p.role === 'lead WP3').password);
    let hits;
    for (let i = 0; i < 300; i++) {
      hits = await lead.req('GET', '/api/v1/search?q=cascade');
      if (hits.status === 200 && hits.body.total > 0 && sql(s, 'SELECT count(*) n FROM index_queue')[0].n === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(hits.status, 200);
    assert.ok(hits.body.hits.some((h) => h.wp === 'WP3'), JSON.stringify(hits.body));
    // someone whose partner is not in WP3 finds nothing there
    const outsider = people.find((p) => p.role === 'member' && p.partner === 'NVGC');
    const readable = await wpsOf(outsider);
    assert.equal(readable.WP3, undefined);
    const o = await Session.login(s, outsider.email, outsider.password);
    const theirs = await o.req('GET', '/api/v1/search?q=cascade');
    assert.equal(theirs.status, 200);
    assert.ok(theirs.body.hits.every((h) => h.wp in readable), JSON.stringify(theirs.body));
    for (const p of people) assert.ok(!s.log.includes(p.password));
  });
});

test('the demo refuses a directory that is not empty, and changes nothing there', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'keep.txt'), 'mine');
  const r = runConsort(['demo', '--data', join(dir, 'data')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^consort demo: .*data is not empty: the demo makes a new data directory\n$/);
  assert.equal(readFileSync(join(dir, 'data', 'keep.txt'), 'utf8'), 'mine');
  const bad = runConsort(['demo']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--data DIR is required/);
});
