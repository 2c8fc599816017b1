// The activity feed and following, through the API: per work package,
// folder and document, grouped, paged, from readable work packages only
// (an unreadable one looks missing), access changes only for managers;
// the personal feed is what one follows minus one's own actions; uploads
// make their author follow the document unless turned off; an explicit
// "do not follow" wins over that and over a work package's default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addWp, grant } from './lib/accounts.mjs';
import { consortium, apiJson, urlPath } from './lib/docs.mjs';

async function put(s, token, wp, path, body = `content of ${path}`) {
  const r = await apiJson(s, token, 'PUT', `/api/v1/wps/${wp}/content/${urlPath(path)}`, { body });
  assert.ok(r.status === 201 || r.status === 200, `PUT ${wp}/${path}: ${r.status}`);
}

const feed = (s, token, q = '') => apiJson(s, token, 'GET', `/api/v1/activity${q}`);

test('feed per work package, folder and document: grouped, paged, readable only', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    addWp(s, 'WP2');
    grant(s, 'WP2', { user: emails.writer }, 'write');
    for (let i = 0; i < 12; i++) await put(s, tokens.writer, 'WP1', `Minutes/m${i}.txt`);
    await put(s, tokens.other, 'WP1', 'Reports/D1.1.txt');
    await put(s, tokens.other, 'WP1', 'Reports/D1.1.txt', 'second version');
    await put(s, tokens.writer, 'WP2', 'hidden.txt');
    let r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Minutes/m0.txt', to: 'Minutes/m0-renamed.txt' } });
    assert.ok(r.status < 300, JSON.stringify(r.body));

    r = await feed(s, tokens.reader, '?wp=WP1');
    assert.equal(r.status, 200);
    const texts = r.body.groups.map((g) => g.text);
    assert.equal(texts[0], 'Writer moved WP1/Minutes/m0-renamed.txt');
    assert.equal(texts[1], 'Other uploaded 2 files to WP1/Reports');
    assert.equal(texts[2], 'Writer uploaded 12 files to WP1/Minutes');
    assert.equal(r.body.groups[2].count, 12);
    assert.equal(r.body.groups[2].items.length, 12);
    assert.equal(r.body.groups[2].wp, 'WP1');
    assert.equal(r.body.groups[2].folder, 'Minutes');
    // access changes are for managers only
    assert.ok(!r.body.groups.some((g) => g.action === 'grant'));
    const m = await feed(s, tokens.manager, '?wp=WP1');
    assert.ok(m.body.groups.some((g) => g.action === 'grant'), 'a manager sees grants');
    // nothing from WP2, which the reader cannot read; asking for it is 404
    assert.ok(!JSON.stringify(r.body).includes('hidden'));
    assert.equal((await feed(s, tokens.reader, '?wp=WP2')).status, 404);
    assert.equal((await feed(s, tokens.outsider, '?wp=WP1')).status, 404);
    assert.equal((await feed(s, tokens.reader, '?wp=NOPE')).status, 404);

    // a folder, a document
    r = await feed(s, tokens.reader, `?wp=WP1&path=Reports`);
    assert.deepEqual(r.body.groups.map((g) => g.text), ['Other uploaded 2 files to WP1/Reports']);
    r = await feed(s, tokens.reader, `?wp=WP1&path=${encodeURIComponent('Minutes/m5.txt')}`);
    assert.deepEqual(r.body.groups.map((g) => g.text), ['Writer uploaded WP1/Minutes/m5.txt']);
    // "Minutes" must not match "Minutes2"
    await put(s, tokens.writer, 'WP1', 'Minutes2/x.txt');
    r = await feed(s, tokens.reader, '?wp=WP1&path=Minutes');
    assert.ok(!JSON.stringify(r.body).includes('Minutes2'));

    // paging: one group a page, then the next from where it ended
    const seen = [];
    let q = '?wp=WP1&limit=1';
    for (let page = 0; page < 10; page++) {
      r = await feed(s, tokens.reader, q);
      assert.equal(r.status, 200);
      assert.ok(r.body.groups.length <= 1);
      seen.push(...r.body.groups.map((g) => g.text));
      if (r.body.next === null) break;
      q = `?wp=WP1&limit=1&before=${r.body.next}`;
    }
    assert.deepEqual(seen, ['Writer uploaded WP1/Minutes2/x.txt', ...texts.filter((t) => !t.includes('grant'))].slice(0, seen.length));
    assert.ok(seen.includes('Writer uploaded 12 files to WP1/Minutes'));

    // bad input
    assert.equal((await feed(s, tokens.reader, '?limit=0')).status, 400);
    assert.equal((await feed(s, tokens.reader, '?limit=abc')).status, 400);
    assert.equal((await feed(s, tokens.reader, '?path=Minutes')).status, 400);
    assert.equal((await feed(s, tokens.reader, '?wp=WP1&path=a//b')).status, 400);
    assert.equal((await s.fetch('/api/v1/activity')).status, 401);
  });
});

test('following: personal feed, automatic follows, explicit no, a WP default', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    // the writer's upload makes them follow the document
    await put(s, tokens.writer, 'WP1', 'Reports/plan.txt');
    let r = await apiJson(s, tokens.writer, 'GET', '/api/v1/follows');
    assert.deepEqual(r.body.follows, [{ wp: 'WP1', path: 'Reports/plan.txt', follow: true, auto: true, default: false }]);
    assert.equal(r.body.mode, 'daily');
    // someone else's new version shows in the writer's personal feed;
    // their own upload does not
    await put(s, tokens.other, 'WP1', 'Reports/plan.txt', 'v2');
    await put(s, tokens.other, 'WP1', 'Reports/other.txt');
    r = await feed(s, tokens.writer);
    assert.deepEqual(r.body.groups.map((g) => g.text), ['Other uploaded WP1/Reports/plan.txt']);

    // auto-follow off: the reader-turned-writer's upload follows nothing
    r = await apiJson(s, tokens.other, 'PUT', '/api/v1/me/notifications', { json: { auto_follow: false } });
    assert.deepEqual(r.body, { mode: 'daily', auto_follow: false, news: true, language: null });
    await put(s, tokens.other, 'WP1', 'Reports/quiet.txt');
    r = await apiJson(s, tokens.other, 'GET', '/api/v1/follows');
    assert.ok(!r.body.follows.some((f) => f.path === 'Reports/quiet.txt'));

    // a WP default: the reader follows WP1 without asking...
    r = await apiJson(s, tokens.manager, 'PUT', '/api/v1/follows', { json: { wp: 'WP1', members: true } });
    assert.equal(r.status, 200);
    r = await apiJson(s, tokens.reader, 'GET', '/api/v1/follows');
    assert.deepEqual(r.body.members_follow, ['WP1']);
    assert.deepEqual(r.body.follows, [{ wp: 'WP1', path: '', follow: true, auto: false, default: true }]);
    r = await feed(s, tokens.reader);
    assert.ok(r.body.groups.length >= 2);
    // ...until they say no to a folder: the most specific word wins
    r = await apiJson(s, tokens.reader, 'DELETE', '/api/v1/follows', { json: { wp: 'WP1', path: 'Reports' } });
    assert.equal(r.status, 200);
    r = await feed(s, tokens.reader);
    assert.ok(!r.body.groups.some((g) => g.folder === 'Reports'), JSON.stringify(r.body));
    // the outsider sees nothing of WP1's default
    r = await apiJson(s, tokens.outsider, 'GET', '/api/v1/follows');
    assert.deepEqual(r.body.follows, []);
    assert.deepEqual((await feed(s, tokens.outsider)).body.groups, []);
    // bad input changes nothing
    assert.equal((await apiJson(s, tokens.reader, 'PUT', '/api/v1/follows', { json: {} })).status, 400);
    assert.equal((await apiJson(s, tokens.reader, 'PUT', '/api/v1/follows', { json: { wp: 'WP1', path: 7 } })).status, 400);
    assert.equal((await apiJson(s, tokens.manager, 'PUT', '/api/v1/follows', { json: { wp: 'WP1', path: 'x', members: true } })).status, 400);
    assert.equal((await apiJson(s, tokens.reader, 'PUT', '/api/v1/me/notifications', { json: { auto_follow: 'yes' } })).status, 400);
    // DELETE by query string too
    r = await apiJson(s, tokens.writer, 'DELETE', `/api/v1/follows?wp=WP1&path=${encodeURIComponent('Reports/plan.txt')}`);
    assert.equal(r.status, 200);
    r = await apiJson(s, tokens.writer, 'GET', '/api/v1/follows');
    assert.ok(r.body.follows.some((f) => f.path === 'Reports/plan.txt' && f.follow === false));
  });
});
