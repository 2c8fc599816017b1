// Consortium news and events in the activity feed and in digests (issue
// 15 with issue 20): posting one records its event row in the same
// transaction; everyone gets news by default (the `news` switch of their
// notification settings turns it off), internal events only readers of
// their work packages (acl_event_visible), nobody their own posts or an
// item deleted since; the home feed shows them, a work package's feed
// does not. The digest tells them, linked to the app's news and events
// pages, parsed with mailparser from a real SMTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir } from './lib/server.mjs';
import { addUser, addWp, grant, sql, Session } from './lib/accounts.mjs';
import { consortium, apiJson } from './lib/docs.mjs';
import { Smtp, smtpArgs } from './lib/smtp.mjs';

const DIGEST = /changes? in what you follow/;
const home = async (s, token) => (await apiJson(s, token, 'GET', '/api/v1/activity')).body.groups.map((g) => g.text);

test('news and events: feed, digest, who sees what, the news switch', async () => {
  const smtp = new Smtp();
  await smtp.start();
  const passFile = join(tempDir(), 'smtp-pass');
  writeFileSync(passFile, `${smtp.password}\n`);
  const s = await new Server({ args: smtpArgs(smtp, passFile) }).start();
  try {
    const { tokens, emails } = await consortium(s);
    addWp(s, 'WP2');
    grant(s, 'WP2', { user: emails.writer }, 'read');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true, name: 'Coord' });
    const coord = await Session.login(s, 'coord@a.example');
    const year = new Date().getUTCFullYear() + 1;

    let r = await coord.req('POST', '/api/v1/news', { json: { title: 'Kick-off done', body: 'Thanks, all.' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const newsId = r.body.news.id;
    assert.deepEqual(sql(s, "SELECT object, detail FROM audit WHERE action = 'news_create'"), [{ object: 'Kick-off done', detail: `news ${newsId}` }]);
    r = await coord.req('POST', '/api/v1/events', { json: { title: 'WP2 meeting', start: `${year}-03-01T09:00:00Z`, end: `${year}-03-01T10:00:00Z`, tz: 'UTC', internal: true, wps: ['WP2'] } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    r = await coord.req('POST', '/api/v1/events', { json: { title: 'Open day', start: `${year}-05-01T09:00:00Z`, end: `${year}-05-01T17:00:00Z`, tz: 'UTC', internal: false } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const news2 = (await coord.req('POST', '/api/v1/news', { json: { title: 'Withdrawn', body: 'x' } })).body.news.id;
    assert.equal((await coord.req('DELETE', `/api/v1/news/${news2}`)).status, 204);

    // a failed post records nothing
    const audits = () => sql(s, "SELECT count(*) AS n FROM audit WHERE action IN ('news_create', 'event_create')")[0].n;
    const before = audits();
    r = await coord.req('POST', '/api/v1/news', { json: { title: '', body: 'x' } });
    assert.equal(r.status, 400);
    assert.equal((await apiJson(s, tokens.reader, 'POST', '/api/v1/news', { json: { title: 'Not mine', body: 'x' } })).status, 403);
    assert.equal(audits(), before);

    // the home feed: news for everyone, the internal event only for a reader of WP2
    const reader = await home(s, tokens.reader);
    assert.deepEqual(reader, ['Coord added the event "Open day"', 'Coord posted the news "Kick-off done"']);
    const writer = await home(s, tokens.writer);
    assert.deepEqual(writer, ['Coord added the event "Open day"', 'Coord added the event "WP2 meeting"', 'Coord posted the news "Kick-off done"']);
    // an outsider (no work package) is a member too: news and public events
    assert.deepEqual(await home(s, tokens.outsider), reader);
    // a work package's feed is about its documents
    r = await apiJson(s, tokens.writer, 'GET', '/api/v1/activity?wp=WP2');
    assert.deepEqual(r.body.groups, []);
    const g = (await apiJson(s, tokens.reader, 'GET', '/api/v1/activity')).body.groups[1];
    assert.equal(g.action, 'news_create');
    assert.equal(g.wp, '');

    // the news switch: on by default, off removes them from feed and mail
    r = await apiJson(s, tokens.manager, 'GET', '/api/v1/me/notifications');
    assert.deepEqual(r.body, { mode: 'daily', auto_follow: true, news: true, language: null });
    r = await apiJson(s, tokens.manager, 'PUT', '/api/v1/me/notifications', { json: { news: 'no' } });
    assert.equal(r.status, 400);
    // the person's language: one the app has, or 400 and nothing changes
    r = await apiJson(s, tokens.manager, 'PUT', '/api/v1/me/notifications', { json: { news: false, language: 'fr' } });
    assert.equal(r.status, 400);
    r = await apiJson(s, tokens.manager, 'GET', '/api/v1/me/notifications');
    assert.deepEqual(r.body, { mode: 'daily', auto_follow: true, news: true, language: null });
    r = await apiJson(s, tokens.manager, 'PUT', '/api/v1/me/notifications', { json: { news: false, language: 'de' } });
    assert.deepEqual(r.body, { mode: 'daily', auto_follow: true, news: false, language: 'de' });
    assert.deepEqual(sql(s, "SELECT language FROM users WHERE email = 'manager@a.example'"), [{ language: 'de' }]);
    assert.deepEqual(await home(s, tokens.manager), []);

    // the digest: everyone but the manager (off) and the coordinator (own)
    r = await s.fetch('/_test/notify?force=1', { method: 'POST' });
    assert.equal(r.status, 200);
    const [rm] = await smtp.waitFor(emails.reader, DIGEST);
    assert.match(rm.parsed.subject, /^consort: 2 changes in what you follow$/);
    assert.match(rm.parsed.text, /Coord posted the news "Kick-off done"/);
    assert.match(rm.parsed.text, /Coord added the event "Open day"/);
    assert.match(rm.parsed.text, /https:\/\/localhost:\d+\/#\/news/);
    assert.match(rm.parsed.text, /https:\/\/localhost:\d+\/#\/events/);
    assert.doesNotMatch(rm.parsed.text, /WP2 meeting|Withdrawn/);
    assert.match(rm.parsed.html, /<a href="https:\/\/localhost:\d+\/#\/news">Coord posted the news &quot;Kick-off done&quot;<\/a>|<a href="https:\/\/localhost:\d+\/#\/news">Coord posted the news "Kick-off done"<\/a>/);
    const [wm] = await smtp.waitFor(emails.writer, DIGEST);
    assert.match(wm.parsed.text, /Coord added the event "WP2 meeting"/);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(smtp.to(emails.manager, DIGEST).length, 0);
    assert.equal(smtp.to('coord@a.example', DIGEST).length, 0);

    // a WP2 reader losing access before the digest is not told of its event
    r = await coord.req('POST', '/api/v1/events', { json: { title: 'WP2 second meeting', start: `${year}-03-02T09:00:00Z`, end: `${year}-03-02T10:00:00Z`, tz: 'UTC', internal: true, wps: ['WP2'] } });
    assert.equal(r.status, 201);
    await coord.req('POST', '/api/v1/news', { json: { title: 'Second news', body: 'y' } });
    grant(s, 'WP2', { user: emails.writer }, 'none');
    await s.fetch('/_test/notify?force=1', { method: 'POST' });
    const mails = await smtp.waitFor(emails.writer, DIGEST, { count: 2 });
    assert.match(mails[1].parsed.text, /Second news/);
    assert.doesNotMatch(mails[1].parsed.text, /WP2 second meeting/);
  } finally {
    await s.close();
    await smtp.stop();
  }
});
