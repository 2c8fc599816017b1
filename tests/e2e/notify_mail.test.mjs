// Notifications by mail, against a real SMTP server started here
// (lib/smtp.mjs: STARTTLS and AUTH required) and parsed with mailparser:
// following, digest content (grouped, linked, text and HTML), no mail about
// one's own actions or about what the recipient cannot read when the digest
// is built (access revoked after the event), a work package's members
// following by default, the RFC 8058 one-click unsubscribe without signing
// in, account mail, SMTP down then up (nothing lost, nothing twice, across
// a restart), and 1,000 events in one digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, freePort } from './lib/server.mjs';
import { addUser, addWp, grant, sql, Session } from './lib/accounts.mjs';
import { consortium, apiJson, urlPath } from './lib/docs.mjs';
import { recordSecret } from './lib/secrets.mjs';
import { Smtp, smtpArgs } from './lib/smtp.mjs';

const DIGEST = /changes? in what you follow/;

async function setup({ smtpUp = true } = {}) {
  const smtp = new Smtp();
  if (smtpUp) await smtp.start();
  else smtp.port = await freePort();
  const passFile = join(tempDir(), 'smtp-pass');
  writeFileSync(passFile, `${smtp.password}\n`);
  const s = await new Server({ args: smtpArgs(smtp, passFile) }).start();
  const c = await consortium(s);
  return { s, smtp, ...c };
}

async function put(s, token, wp, path, body = `content of ${path}`) {
  const r = await apiJson(s, token, 'PUT', `/api/v1/wps/${wp}/content/${urlPath(path)}`, { body });
  assert.ok(r.status === 201 || r.status === 200, `PUT ${wp}/${path}: ${r.status} ${JSON.stringify(r.body)}`);
}

async function runDigests(s, force = true) {
  const r = await s.fetch(`/_test/notify${force ? '?force=1' : ''}`, { method: 'POST' });
  assert.equal(r.status, 200);
  return r.json();
}

async function follow(s, token, json, method = 'PUT') {
  return apiJson(s, token, method, '/api/v1/follows', { json });
}

test('digest: what one follows, grouped and linked; never own actions, never what one cannot read now', async () => {
  const { s, smtp, tokens, emails } = await setup();
  try {
    // other follows WP1 and (while it may read it) WP2
    addWp(s, 'WP2');
    grant(s, 'WP2', { user: emails.other }, 'read');
    grant(s, 'WP2', { user: emails.writer }, 'write');
    assert.equal((await follow(s, tokens.other, { wp: 'WP1' })).status, 200);
    assert.equal((await follow(s, tokens.other, { wp: 'WP2' })).status, 200);
    // a work package one cannot read cannot be followed (and looks missing)
    assert.equal((await follow(s, tokens.outsider, { wp: 'WP1' })).status, 404);
    assert.equal((await follow(s, tokens.other, { wp: 'WP1', path: '../x' })).status, 400);
    // the manager makes WP1's members follow it; that needs manage
    assert.equal((await follow(s, tokens.reader, { wp: 'WP1', members: true })).status, 403);
    assert.equal((await follow(s, tokens.manager, { wp: 'WP1', members: true })).status, 200);

    for (const n of ['a', 'b', 'c']) await put(s, tokens.writer, 'WP1', `Minutes/${n}.txt`);
    await put(s, tokens.other, 'WP1', 'own-upload.txt');
    await put(s, tokens.writer, 'WP2', 'secret-plan.txt');
    // access to WP2 ends after the event and before the digest
    grant(s, 'WP2', { user: emails.other }, 'none');

    const run = await runDigests(s);
    assert.ok(run.mails >= 2, JSON.stringify(run));
    const [mail] = await smtp.waitFor(emails.other, DIGEST);
    assert.equal(mail.secure, true, 'STARTTLS before the message');
    assert.equal(mail.user, smtp.user, 'authenticated');
    assert.equal(mail.from, 'noreply@docs.example.org');
    const text = mail.parsed.text;
    assert.match(text, /Writer uploaded 3 files to WP1\/Minutes/);
    assert.match(text, /https:\/\/localhost:\d+\/#\/wp\/WP1\/Minutes/);
    assert.doesNotMatch(text, /own-upload/, 'no mail about one\'s own action');
    assert.doesNotMatch(text, /secret-plan|WP2/, 'nothing from a WP unreadable at send time');
    assert.match(mail.parsed.html, /<a href="https:\/\/localhost:\d+\/#\/wp\/WP1\/Minutes">Writer uploaded 3 files/);
    assert.match(mail.parsed.subject, /^consort: 3 changes in what you follow$/);
    const unsub = /^List-Unsubscribe: <([^>]*)>\r$/m.exec(mail.raw)?.[1];
    assert.match(String(unsub), /^https:\/\/localhost:\d+\/api\/v1\/unsubscribe\/[0-9a-f]{64}$/);
    assert.match(mail.raw, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    assert.ok(mail.parsed.messageId);

    // reader follows WP1 by its default: sees both writers' uploads
    const [rmail] = await smtp.waitFor(emails.reader, DIGEST);
    assert.match(rmail.parsed.text, /Writer uploaded 3 files to WP1\/Minutes/);
    assert.match(rmail.parsed.text, /Other uploaded WP1\/own-upload\.txt/);
    // the writer follows WP1 by its default too: told of Other's upload,
    // never of their own
    const [wmail] = await smtp.waitFor(emails.writer, DIGEST);
    assert.match(wmail.parsed.text, /Other uploaded WP1\/own-upload\.txt/);
    assert.doesNotMatch(wmail.parsed.text, /Writer|Minutes|secret-plan/);
    // the outsider follows nothing it can read
    assert.equal(smtp.to(emails.outsider, DIGEST).length, 0);

    // nothing new: no second digest
    await runDigests(s);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(smtp.to(emails.other, DIGEST).length, 1);

    // one-click unsubscribe: no cookie, no token, the secret in the URL
    const url = new URL(unsub);
    recordSecret(url.pathname.split('/').pop());
    const page = await s.fetch(url.pathname);
    assert.equal(page.status, 200, 'GET shows a page and changes nothing');
    assert.equal((await apiJson(s, tokens.other, 'GET', '/api/v1/me/notifications')).body.mode, 'daily');
    const r = await s.fetch(url.pathname, { method: 'POST', body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200);
    assert.equal((await apiJson(s, tokens.other, 'GET', '/api/v1/me/notifications')).body.mode, 'off');
    const bad = await s.fetch(`/api/v1/unsubscribe/${'0'.repeat(64)}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' });
    assert.equal(bad.status, 404);
    await put(s, tokens.writer, 'WP1', 'Minutes/d.txt');
    await runDigests(s);
    await smtp.waitFor(emails.reader, DIGEST, { count: 2 });
    assert.equal(smtp.to(emails.other, DIGEST).length, 1, 'unsubscribed: no more digests');
  } finally {
    await s.close();
    await smtp.stop();
  }
});

test('immediate, hourly, daily: a digest comes when its time has come; bad settings are refused', async () => {
  const { s, smtp, tokens, emails } = await setup();
  try {
    assert.equal((await follow(s, tokens.reader, { wp: 'WP1' })).status, 200);
    let r = await apiJson(s, tokens.reader, 'PUT', '/api/v1/me/notifications', { json: { mode: 'weekly' } });
    assert.equal(r.status, 400);
    r = await apiJson(s, tokens.reader, 'GET', '/api/v1/me/notifications');
    assert.deepEqual(r.body, { mode: 'daily', auto_follow: true, news: true, language: null });
    r = await apiJson(s, tokens.reader, 'PUT', '/api/v1/me/notifications', { json: { mode: 'immediate' } });
    assert.deepEqual(r.body, { mode: 'immediate', auto_follow: true, news: true, language: null });
    await put(s, tokens.writer, 'WP1', 'now.txt');
    // no hook: the mail thread's own round (notify-interval 200ms)
    const [m] = await smtp.waitFor(emails.reader, DIGEST);
    assert.match(m.parsed.text, /Writer uploaded WP1\/now\.txt/);
    // daily (the default) for other, who follows WP1 too: not before a day
    assert.equal((await follow(s, tokens.other, { wp: 'WP1' })).status, 200);
    sql(s, `UPDATE notify_prefs SET last_mail_at = strftime('%s','now') - 3600 WHERE user_id = (SELECT id FROM users WHERE email = '${emails.other}')`);
    await put(s, tokens.writer, 'WP1', 'later.txt');
    await runDigests(s, false);
    await new Promise((res) => setTimeout(res, 800));
    assert.equal(smtp.to(emails.other, DIGEST).length, 0, 'daily: not due after an hour');
    sql(s, `UPDATE notify_prefs SET last_mail_at = strftime('%s','now') - 86401 WHERE user_id = (SELECT id FROM users WHERE email = '${emails.other}')`);
    const [d] = await smtp.waitFor(emails.other, DIGEST);
    assert.match(d.parsed.text, /later\.txt/);
  } finally {
    await s.close();
    await smtp.stop();
  }
});

test('account mail: set-password link, second factor reset, new token', async () => {
  const { s, smtp, emails } = await setup();
  try {
    // a token was made for each member by the set-up
    const [t] = await smtp.waitFor(emails.reader, /new API token/);
    assert.match(t.parsed.text, /named "e2e"/);
    assert.doesNotMatch(t.raw, /^List-Unsubscribe/m, 'account mail is not unsubscribable');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    const coord = await Session.login(s, 'coord@a.example');
    const id = sql(s, `SELECT id FROM users WHERE email = '${emails.reader}'`)[0].id;
    const link = await coord.req('POST', `/api/v1/users/${id}/password-link`);
    assert.equal(link.status, 201);
    const [m] = await smtp.waitFor(emails.reader, /Set your consort password/);
    // the mail's link is the answer's, both from public-url's default
    assert.match(link.body.url, /^https:\/\/localhost:\d+\/#set-password=/);
    assert.ok(m.parsed.text.includes(link.body.url));
    const reset = await coord.req('PATCH', `/api/v1/users/${id}`, { json: { totp_reset: true } });
    assert.equal(reset.status, 200);
    const [r] = await smtp.waitFor(emails.reader, /second factor was reset/);
    assert.match(r.parsed.text, /reset by coord@a\.example/);
  } finally {
    await s.close();
    await smtp.stop();
  }
});

test('SMTP down then up: nothing lost, nothing sent twice, across a restart', async () => {
  const { s, smtp, tokens, emails } = await setup({ smtpUp: false });
  try {
    assert.equal((await follow(s, tokens.reader, { wp: 'WP1' })).status, 200);
    await put(s, tokens.writer, 'WP1', 'during-outage.txt');
    await runDigests(s);
    // failing: visible in /healthz and /metrics
    const deadline = Date.now() + 20000;
    let h;
    while (Date.now() < deadline) {
      h = await (await s.fetch('/healthz')).json();
      if (h.mail.retrying > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(h.status, 'degraded');
    assert.ok(h.mail.retrying > 0 && h.mail.queued > 0, JSON.stringify(h));
    assert.notEqual(h.mail.last_error, '');
    const metrics = await (await s.fetch('/metrics')).text();
    assert.match(metrics, /consort_mail_send_errors_total [1-9]/);
    assert.match(metrics, /consort_mail_queued [1-9]/);
    // the server restarts while the mail server is still down
    await s.restart();
    await runDigests(s);
    await smtp.start();
    const [m] = await smtp.waitFor(emails.reader, DIGEST, { timeout: 40000 });
    assert.match(m.parsed.text, /during-outage\.txt/);
    // every queued message arrives (the account mail of the set-up
    // waited out longer back-offs), once
    const until = Date.now() + 60000;
    while (Date.now() < until && sql(s, "SELECT count(*) AS n FROM outbox WHERE state <> 'sent'")[0].n > 0)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal(sql(s, "SELECT count(*) AS n FROM outbox WHERE state <> 'sent'")[0].n, 0);
    await new Promise((r) => setTimeout(r, 1000));
    const ids = smtp.mails.map((x) => x.parsed.messageId);
    assert.equal(ids.length, sql(s, 'SELECT count(*) AS n FROM outbox')[0].n);
    assert.equal(new Set(ids).size, ids.length, `duplicates: ${ids.join(' ')}`);
    assert.equal(smtp.to(emails.reader, DIGEST).length, 1);
    h = await (await s.fetch('/healthz')).json();
    assert.equal(h.mail.state, 'ok');
  } finally {
    await s.close();
    await smtp.stop();
  }
});

test('1,000 events make one digest', async () => {
  const { s, smtp, tokens, emails } = await setup();
  try {
    assert.equal((await follow(s, tokens.reader, { wp: 'WP1' })).status, 200);
    const jobs = [];
    for (let i = 0; i < 1000; i++) jobs.push([`bulk/f${i % 10}/doc${i}.txt`]);
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < jobs.length) {
        const [path] = jobs[next++];
        await put(s, tokens.writer, 'WP1', path);
      }
    }));
    const run = await runDigests(s);
    assert.ok(run.events >= 1000, JSON.stringify(run));
    const [m] = await smtp.waitFor(emails.reader, DIGEST);
    assert.match(m.parsed.subject, /^consort: 1000 changes in what you follow$/);
    // grouped by folder (uploads to one folder from 8 clients interleave,
    // so a folder may appear in a few runs), each with its count
    let total = 0;
    for (const g of m.parsed.text.matchAll(/Writer uploaded (\d+) files to WP1\/bulk\/f\d/g)) total += Number(g[1]);
    for (const g of m.parsed.text.matchAll(/Writer uploaded WP1\/bulk\/f\d\/doc\d+\.txt/g)) total += 1;
    assert.equal(total, 1000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.to(emails.reader, DIGEST).length, 1);
  } finally {
    await s.close();
    await smtp.stop();
  }
});

test('without smtp-url mail goes to DATA/outbox/ as .eml files', async () => {
  const s = await new Server({ args: ['--test-hooks', '--notify-interval', '200ms'] }).start();
  try {
    const { tokens } = await consortium(s);
    assert.equal((await follow(s, tokens.reader, { wp: 'WP1' })).status, 200);
    await put(s, tokens.writer, 'WP1', 'filed.txt');
    await runDigests(s);
    const dir = join(s.dataDir, 'outbox');
    let files = [];
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      try { files = readdirSync(dir).filter((f) => f.endsWith('-digest.eml')); } catch { /* not yet */ }
      if (files.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(files.length, 1);
    const raw = readFileSync(join(dir, files[0]), 'utf8');
    assert.match(raw, /^To: <reader@b\.example>\r$/m);
    const h = await (await s.fetch('/healthz')).json();
    assert.equal(h.mail.transport, 'folder');
  } finally {
    await s.close();
  }
});
