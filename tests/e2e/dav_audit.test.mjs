// WebDAV changes (MKCOL, COPY, MOVE within and between work packages,
// DELETE) and the trash purge commit together with their audit record
// (issue 15): each leaves its record, and when the record cannot be
// written (a trigger makes the insert fail) the request fails and the
// change is rolled back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addWp, grant, sql } from './lib/accounts.mjs';
import { consortium, apiJson } from './lib/docs.mjs';

function basic(email, token) {
  return `Basic ${Buffer.from(`${email}:${token}`).toString('base64')}`;
}

async function setup(s) {
  const c = await consortium(s);
  addWp(s, 'WP3');
  grant(s, 'WP3', { user: c.emails.writer }, 'write');
  const dav = async (method, path, headers = {}, body) => {
    const r = await s.fetch(path, { method, headers: { authorization: basic(c.emails.writer, c.tokens.writer), ...headers }, body });
    await r.text();
    return r.status;
  };
  return { ...c, dav };
}

const audit = (s, action, object) =>
  sql(s, `SELECT a.object, a.detail, w.code AS wp FROM audit a LEFT JOIN wps w ON w.id = a.wp_id
          WHERE a.action = '${action}' AND a.object = '${object}'`);

const live = (s, wp, name) =>
  sql(s, `SELECT n.id FROM nodes n JOIN wps w ON w.id = n.wp_id
          WHERE w.code = '${wp}' AND n.name = '${name}' AND n.trashed_at IS NULL`).length;

function failAudit(s, action) {
  sql(s, `CREATE TRIGGER fail_audit BEFORE INSERT ON audit WHEN NEW.action = '${action}'
          BEGIN SELECT RAISE(ABORT, 'audit write refused by the test'); END`);
}
const allowAudit = (s) => sql(s, 'DROP TRIGGER fail_audit');
// The refused insert is a constraint error (SQLite's RAISE(ABORT)).
const refused = (status) => assert.ok(status >= 400, `status ${status}`);

test('dav: MKCOL, COPY, MOVE, DELETE and the purge each leave their audit record', async () => {
  await withServer({}, async (s) => {
    const { dav, tokens } = await setup(s);
    assert.equal(await dav('MKCOL', '/dav/WP1/Folder'), 201);
    assert.equal(audit(s, 'folder_create', 'Folder').length, 1);
    assert.equal(await dav('PUT', '/dav/WP1/Folder/a.txt', {}, 'alpha'), 201);
    assert.equal(await dav('COPY', '/dav/WP1/Folder/a.txt', { destination: '/dav/WP1/b.txt' }), 201);
    assert.match(audit(s, 'copy', 'b.txt')[0].detail, /from WP1:Folder\/a\.txt \(WebDAV\)/);
    assert.equal(await dav('MOVE', '/dav/WP1/b.txt', { destination: '/dav/WP1/c.txt' }), 201);
    assert.match(audit(s, 'move', 'c.txt')[0].detail, /from b\.txt \(WebDAV\)/);
    assert.equal(await dav('MOVE', '/dav/WP1/c.txt', { destination: '/dav/WP3/c.txt' }), 201);
    assert.equal(audit(s, 'copy', 'c.txt')[0].wp, 'WP3');
    assert.match(audit(s, 'delete', 'c.txt')[0].detail, /moved to WP3:c\.txt \(WebDAV\)/);
    assert.equal(await dav('DELETE', '/dav/WP1/Folder'), 204);
    const del = audit(s, 'delete', 'Folder');
    assert.equal(del.length, 1);
    const entry = Number(/entry (\d+)/.exec(del[0].detail)[1]);
    const r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${entry}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(audit(s, 'purge', 'Folder')[0].detail, new RegExp(`trash entry ${entry}: 2 nodes`));
  });
});

test('dav: a change whose audit record cannot be written is rolled back', async () => {
  await withServer({}, async (s) => {
    const { dav, tokens } = await setup(s);
    assert.equal(await dav('PUT', '/dav/WP1/a.txt', {}, 'alpha'), 201);

    failAudit(s, 'folder_create');
    refused(await dav('MKCOL', '/dav/WP1/Folder'));
    allowAudit(s);
    assert.equal(live(s, 'WP1', 'Folder'), 0);

    failAudit(s, 'copy');
    refused(await dav('COPY', '/dav/WP1/a.txt', { destination: '/dav/WP1/b.txt' }));
    allowAudit(s);
    assert.equal(live(s, 'WP1', 'b.txt'), 0);

    failAudit(s, 'move');
    refused(await dav('MOVE', '/dav/WP1/a.txt', { destination: '/dav/WP1/c.txt' }));
    allowAudit(s);
    assert.equal(live(s, 'WP1', 'a.txt'), 1);
    assert.equal(live(s, 'WP1', 'c.txt'), 0);

    // Between work packages: the copy's record is written, the source's
    // delete record is not: neither the copy nor the trashing stays.
    failAudit(s, 'delete');
    refused(await dav('MOVE', '/dav/WP1/a.txt', { destination: '/dav/WP3/a.txt' }));
    assert.equal(live(s, 'WP1', 'a.txt'), 1);
    assert.equal(live(s, 'WP3', 'a.txt'), 0);
    assert.equal(audit(s, 'copy', 'a.txt').length, 0);

    refused(await dav('DELETE', '/dav/WP1/a.txt'));
    allowAudit(s);
    assert.equal(live(s, 'WP1', 'a.txt'), 1);

    assert.equal(await dav('DELETE', '/dav/WP1/a.txt'), 204);
    const entry = Number(/entry (\d+)/.exec(audit(s, 'delete', 'a.txt')[0].detail)[1]);
    failAudit(s, 'purge');
    const r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${entry}`);
    refused(r.status);
    allowAudit(s);
    assert.equal(sql(s, `SELECT count(*) AS n FROM nodes WHERE id = ${entry}`)[0].n, 1);
    assert.equal(audit(s, 'purge', 'a.txt').length, 0);
  });
});
