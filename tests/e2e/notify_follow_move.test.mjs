// A follow goes with what it follows (issue 15): a rename, a REST move
// and a WebDAV MOVE (between work packages too) re-key the follows of the
// document or folder and of everything below it, in the move's
// transaction; deleting it drops them, so a new document of the same name
// is not followed by those who followed the old one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addWp, grant, sql } from './lib/accounts.mjs';
import { consortium, apiJson, urlPath } from './lib/docs.mjs';

async function put(s, token, wp, path, body = `content of ${path}`) {
  const r = await apiJson(s, token, 'PUT', `/api/v1/wps/${wp}/content/${urlPath(path)}`, { body });
  assert.ok(r.status === 201 || r.status === 200, `PUT ${wp}/${path}: ${r.status}`);
}

// Every follow row, as "WP:path" (with "!" for an explicit no).
const follows = (s, email) =>
  sql(s, `SELECT w.code AS wp, f.path, f.active FROM follows f JOIN wps w ON w.id = f.wp_id
          JOIN users u ON u.id = f.user_id WHERE u.email = '${email}' ORDER BY 1, 2`)
    .map((r) => `${r.active ? '' : '!'}${r.wp}:${r.path}`);

function basic(email, token) {
  return `Basic ${Buffer.from(`${email}:${token}`).toString('base64')}`;
}

test('follows move with rename and REST move, and go with a delete', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const follow = async (who, wp, path, on = true) => {
      const r = await apiJson(s, tokens[who], on ? 'PUT' : 'DELETE', '/api/v1/follows', { json: { wp, path } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };
    await put(s, tokens.writer, 'WP1', 'Bérichte/plan.txt');
    await put(s, tokens.writer, 'WP1', 'Bérichte/Sub/deep.txt');
    await put(s, tokens.writer, 'WP1', 'Bérichte2/keep.txt');
    await follow('reader', 'WP1', 'Bérichte');
    await follow('reader', 'WP1', 'Bérichte2', false);
    assert.deepEqual(follows(s, emails.writer), ['WP1:Bérichte/Sub/deep.txt', 'WP1:Bérichte/plan.txt', 'WP1:Bérichte2/keep.txt']);

    // a rename of the document
    let r = await apiJson(s, tokens.writer, 'PATCH', `/api/v1/wps/WP1/tree/${urlPath('Bérichte/plan.txt')}`, { json: { name: 'Plan v2.txt' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(follows(s, emails.writer), ['WP1:Bérichte/Plan v2.txt', 'WP1:Bérichte/Sub/deep.txt', 'WP1:Bérichte2/keep.txt']);
    // the follow still works: someone else's new version reaches the feed
    await put(s, tokens.other, 'WP1', 'Bérichte/Plan v2.txt', 'v2');
    r = await apiJson(s, tokens.writer, 'GET', '/api/v1/activity');
    assert.equal(r.body.groups[0].text, 'Other uploaded WP1/Bérichte/Plan v2.txt');

    // a folder's move takes the follows of everything below it, and not
    // of a sibling whose name starts the same ("Bérichte2")
    await put(s, tokens.manager, 'WP1', 'Archiv/readme.txt');
    r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Bérichte', to: 'Archiv/Berichte' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(follows(s, emails.writer), ['WP1:Archiv/Berichte/Plan v2.txt', 'WP1:Archiv/Berichte/Sub/deep.txt', 'WP1:Bérichte2/keep.txt']);
    assert.deepEqual(follows(s, emails.reader), ['WP1:Archiv/Berichte', '!WP1:Bérichte2']);
    r = await apiJson(s, tokens.reader, 'GET', '/api/v1/follows');
    assert.ok(r.body.follows.some((f) => f.path === 'Archiv/Berichte' && f.follow), JSON.stringify(r.body));

    // a move whose audit record cannot be written is rolled back, follows too
    sql(s, `CREATE TRIGGER fail_audit BEFORE INSERT ON audit WHEN NEW.action = 'move'
            BEGIN SELECT RAISE(ABORT, 'audit write refused by the test'); END`);
    r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Archiv', to: 'Elsewhere' } });
    assert.ok(r.status >= 400, `status ${r.status}`);
    sql(s, 'DROP TRIGGER fail_audit');
    assert.deepEqual(follows(s, emails.reader), ['WP1:Archiv/Berichte', '!WP1:Bérichte2']);

    // a move with replace: the replaced document's follows go to the trash with it
    await put(s, tokens.other, 'WP1', 'target.txt');
    assert.deepEqual(follows(s, emails.other), ['WP1:Archiv/Berichte/Plan v2.txt', 'WP1:target.txt']);
    await follow('reader', 'WP1', 'Bérichte2/keep.txt');
    r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Bérichte2/keep.txt', to: 'target.txt', replace: true } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(follows(s, emails.other), ['WP1:Archiv/Berichte/Plan v2.txt']);
    assert.ok(follows(s, emails.reader).includes('WP1:target.txt'));
    assert.ok(follows(s, emails.writer).includes('WP1:target.txt'));

    // bad input changes nothing
    const before = [follows(s, emails.writer), follows(s, emails.reader)];
    r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Archiv', to: 'a//b' } });
    assert.equal(r.status, 400);
    r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Nope', to: 'Other' } });
    assert.equal(r.status, 404);
    r = await apiJson(s, tokens.reader, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'Archiv', to: 'Other' } });
    assert.equal(r.status, 403);
    assert.deepEqual([follows(s, emails.writer), follows(s, emails.reader)], before);

    // delete: the follows go; a new document of the same name is not followed
    r = await apiJson(s, tokens.writer, 'DELETE', `/api/v1/wps/WP1/tree/${urlPath('Archiv/Berichte')}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(follows(s, emails.reader), ['!WP1:Bérichte2', 'WP1:target.txt']);
    assert.deepEqual(follows(s, emails.writer), ['WP1:target.txt']);
    await put(s, tokens.other, 'WP1', 'Archiv/Berichte/Plan v2.txt', 'a new one');
    r = await apiJson(s, tokens.writer, 'GET', '/api/v1/activity');
    assert.ok(!r.body.groups.some((g) => g.text.includes('Archiv/Berichte/Plan v2.txt') && g.action === 'upload'), JSON.stringify(r.body.groups));
  });
});

test('follows move with a WebDAV MOVE, within and between work packages', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    addWp(s, 'WP3');
    grant(s, 'WP3', { user: emails.writer }, 'write');
    grant(s, 'WP3', { user: emails.reader }, 'read');
    const dav = async (method, path, headers = {}, body) => {
      const r = await s.fetch(encodeURI(path), { method, headers: { authorization: basic(emails.writer, tokens.writer), ...headers }, body });
      await r.text();
      return r.status;
    };
    assert.equal(await dav('MKCOL', '/dav/WP1/Folder'), 201);
    assert.equal(await dav('PUT', '/dav/WP1/Folder/a.txt', {}, 'alpha'), 201);
    let r = await apiJson(s, tokens.reader, 'PUT', '/api/v1/follows', { json: { wp: 'WP1', path: 'Folder' } });
    assert.equal(r.status, 200);
    assert.deepEqual(follows(s, emails.writer), ['WP1:Folder/a.txt']);

    assert.equal(await dav('MOVE', '/dav/WP1/Folder', { destination: '/dav/WP1/Mappe' }), 201);
    assert.deepEqual(follows(s, emails.writer), ['WP1:Mappe/a.txt']);
    assert.deepEqual(follows(s, emails.reader), ['WP1:Mappe']);

    // between work packages (a copy, then the source to the trash): the
    // follows go to the copy, in the same transaction
    assert.equal(await dav('MOVE', '/dav/WP1/Mappe', { destination: '/dav/WP3/Mappe' }), 201);
    assert.deepEqual(follows(s, emails.writer), ['WP3:Mappe/a.txt']);
    assert.deepEqual(follows(s, emails.reader), ['WP3:Mappe']);
    // and they work there: another's upload in WP3 reaches the reader
    grant(s, 'WP3', { user: emails.other }, 'write');
    await put(s, tokens.other, 'WP3', 'Mappe/b.txt');
    r = await apiJson(s, tokens.reader, 'GET', '/api/v1/activity');
    assert.equal(r.body.groups[0].text, 'Other uploaded WP3/Mappe/b.txt');

    // a refused audit record rolls the cross-package move back, follows too
    sql(s, `CREATE TRIGGER fail_audit BEFORE INSERT ON audit WHEN NEW.action = 'delete'
            BEGIN SELECT RAISE(ABORT, 'audit write refused by the test'); END`);
    assert.ok((await dav('MOVE', '/dav/WP3/Mappe', { destination: '/dav/WP1/Back' })) >= 400);
    sql(s, 'DROP TRIGGER fail_audit');
    assert.deepEqual(follows(s, emails.reader), ['WP3:Mappe']);

    // a COPY leaves follows where they are
    assert.equal(await dav('COPY', '/dav/WP3/Mappe', { destination: '/dav/WP1/Kopie' }), 201);
    assert.deepEqual(follows(s, emails.reader), ['WP3:Mappe']);

    // DELETE drops them
    assert.equal(await dav('DELETE', '/dav/WP3/Mappe'), 204);
    assert.deepEqual(follows(s, emails.reader), []);
    assert.deepEqual(follows(s, emails.writer), []);
  });
});
