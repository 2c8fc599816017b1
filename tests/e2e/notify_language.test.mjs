// Mail in the recipient's language (issue 15): a German person and an
// English person get a digest and an account mail, each in their own
// language, through the real SMTP server (lib/smtp.mjs, STARTTLS+AUTH)
// and parsed with mailparser: subjects with umlauts as RFC 2047
// encoded-words (headers stay ASCII), UTF-8 bodies, plural forms, dates
// as the language writes them; the language is the one stored when the
// mail is built; a person who chose none gets English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir } from './lib/server.mjs';
import { addUser, sql, Session } from './lib/accounts.mjs';
import { consortium, apiJson, urlPath } from './lib/docs.mjs';
import { Smtp, smtpArgs } from './lib/smtp.mjs';

const MONTHS_DE = 'Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember';
const MONTHS_EN = 'January|February|March|April|May|June|July|August|September|October|November|December';

async function put(s, token, wp, path) {
  const r = await apiJson(s, token, 'PUT', `/api/v1/wps/${wp}/content/${urlPath(path)}`, { body: `content of ${path}` });
  assert.ok(r.status === 201 || r.status === 200, `PUT ${wp}/${path}: ${r.status}`);
}

// The header block of a raw message: ASCII only (RFC 5322), whatever the
// language.
function assertAsciiHeaders(raw) {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  assert.ok(/^[\x00-\x7f]*$/.test(head), `non-ASCII in headers:\n${head}`);
}

test('digest and account mail in each person\'s language', async () => {
  const smtp = new Smtp();
  await smtp.start();
  const passFile = join(tempDir(), 'smtp-pass');
  writeFileSync(passFile, `${smtp.password}\n`);
  const s = await new Server({ args: smtpArgs(smtp, passFile) }).start();
  try {
    const { tokens, sessions, emails } = await consortium(s);
    // reader: German; other: chose nothing (English); manager: English
    let r = await apiJson(s, tokens.reader, 'PUT', '/api/v1/me/notifications', { json: { language: 'de' } });
    assert.equal(r.status, 200);
    r = await apiJson(s, tokens.manager, 'PUT', '/api/v1/me/notifications', { json: { language: 'en' } });
    assert.equal(r.status, 200);
    for (const who of ['reader', 'other', 'manager']) {
      r = await apiJson(s, tokens[who], 'PUT', '/api/v1/follows', { json: { wp: 'WP1' } });
      assert.equal(r.status, 200);
    }
    for (const n of ['a', 'b', 'c']) await put(s, tokens.writer, 'WP1', `Minutes/${n}.txt`);
    await put(s, tokens.writer, 'WP1', 'Bericht-Übersicht.txt');
    r = await s.fetch('/_test/notify?force=1', { method: 'POST' });
    assert.equal(r.status, 200);

    // German: subject with umlauts survives (encoded-words in the raw header)
    const [de] = await smtp.waitFor(emails.reader, /Änderungen in dem, was Sie verfolgen/);
    assert.equal(de.parsed.subject, 'consort: 4 Änderungen in dem, was Sie verfolgen');
    assert.match(de.raw, /^Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=/m);
    assertAsciiHeaders(de.raw);
    assert.match(de.raw, /Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64/);
    assert.match(de.parsed.text, /^Hallo,/);
    assert.match(de.parsed.text, /4 Änderungen in dem, was Sie in consort verfolgen:/);
    assert.match(de.parsed.text, /Writer hat 3 Dateien nach WP1\/Minutes hochgeladen/);
    assert.match(de.parsed.text, /Writer hat WP1\/Bericht-Übersicht\.txt hochgeladen/);
    assert.match(de.parsed.text, new RegExp(`\\(\\d{1,2}\\. (${MONTHS_DE}) \\d{4}, \\d\\d:\\d\\d UTC\\)`));
    assert.match(de.parsed.text, /Diese Mails abbestellen: https:\/\/localhost:\d+\/api\/v1\/unsubscribe\//);
    assert.match(de.parsed.html, /<a href="https:\/\/localhost:\d+\/#\/wp\/WP1\/Minutes">Writer hat 3 Dateien nach WP1\/Minutes hochgeladen<\/a>/);
    assert.match(de.parsed.html, />Abbestellen<\/a>/);
    assert.doesNotMatch(de.parsed.text, /uploaded|change in|Hello/);

    // English, chosen or not chosen
    for (const who of ['other', 'manager']) {
      const [en] = await smtp.waitFor(emails[who], /changes in what you follow/);
      assert.equal(en.parsed.subject, 'consort: 4 changes in what you follow');
      assert.match(en.raw, /^Subject: consort: 4 changes in what you follow\r$/m, 'ASCII subjects stay plain');
      assertAsciiHeaders(en.raw);
      assert.match(en.parsed.text, /^Hello,/);
      assert.match(en.parsed.text, /Writer uploaded 3 files to WP1\/Minutes/);
      assert.match(en.parsed.text, /Writer uploaded WP1\/Bericht-Übersicht\.txt/);
      assert.match(en.parsed.text, new RegExp(`\\(\\d{1,2} (${MONTHS_EN}) \\d{4}, \\d\\d:\\d\\d UTC\\)`));
      assert.doesNotMatch(en.parsed.text, /hochgeladen|Hallo/);
    }

    // one change: the singular form in both languages
    await put(s, tokens.writer, 'WP1', 'one-more.txt');
    await s.fetch('/_test/notify?force=1', { method: 'POST' });
    const [de1] = await smtp.waitFor(emails.reader, /^consort: 1 Änderung in dem/);
    assert.equal(de1.parsed.subject, 'consort: 1 Änderung in dem, was Sie verfolgen');
    const [en1] = await smtp.waitFor(emails.other, /^consort: 1 change in what you follow$/);
    assert.match(en1.parsed.text, /1 change in what you follow on consort:/);

    // account mail: the set-password link, in each person's language
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    const coord = await Session.login(s, 'coord@a.example');
    const idOf = (email) => sql(s, `SELECT id FROM users WHERE email = '${email}'`)[0].id;
    const deLink = await coord.req('POST', `/api/v1/users/${idOf(emails.reader)}/password-link`);
    assert.equal(deLink.status, 201);
    const [dp] = await smtp.waitFor(emails.reader, /Passwort für consort festlegen/);
    assert.equal(dp.parsed.subject, 'Passwort für consort festlegen');
    assertAsciiHeaders(dp.raw);
    assert.match(dp.parsed.text, /^Hallo,/);
    assert.match(dp.parsed.text, /Er funktioniert einmal:/);
    assert.ok(dp.parsed.text.includes(deLink.body.url));
    assert.ok(dp.parsed.html.includes(`<a href="${deLink.body.url}">`));
    const enLink = await coord.req('POST', `/api/v1/users/${idOf(emails.other)}/password-link`);
    assert.equal(enLink.status, 201);
    const [ep] = await smtp.waitFor(emails.other, /^Set your consort password$/);
    assert.match(ep.parsed.text, /It works once:/);
    assert.ok(ep.parsed.text.includes(enLink.body.url));

    // the language when the mail is built: the reader switches to English
    r = await apiJson(s, tokens.reader, 'PUT', '/api/v1/me/notifications', { json: { language: 'en' } });
    assert.equal(r.status, 200);
    const reset = await coord.req('PATCH', `/api/v1/users/${idOf(emails.reader)}`, { json: { totp_reset: true } });
    assert.equal(reset.status, 200);
    const [tr] = await smtp.waitFor(emails.reader, /second factor was reset/);
    assert.match(tr.parsed.text, /reset by coord@a\.example/);
    // and German again: the German second-factor mail
    r = await apiJson(s, tokens.reader, 'PUT', '/api/v1/me/notifications', { json: { language: 'de' } });
    assert.equal(r.status, 200);
    const reset2 = await coord.req('PATCH', `/api/v1/users/${idOf(emails.reader)}`, { json: { totp_reset: true } });
    assert.equal(reset2.status, 200);
    const [tr2] = await smtp.waitFor(emails.reader, /zweiter Faktor wurde zurückgesetzt/);
    assert.equal(tr2.parsed.subject, 'Ihr zweiter Faktor wurde zurückgesetzt');
    assert.match(tr2.parsed.text, /wurde von coord@a\.example zurückgesetzt/);

    // a long German subject: several encoded-words, folded, cut between
    // whole characters; the token's name (UTF-8) in the body
    const tok = await sessions.reader.req('POST', '/api/v1/tokens', { json: { name: 'Schlüssel' } });
    assert.ok(tok.status === 201 || tok.status === 200, String(tok.status));
    const [nt] = await smtp.waitFor(emails.reader, /neues API-Token/);
    assert.equal(nt.parsed.subject, 'Für Ihr consort-Konto wurde ein neues API-Token erstellt');
    assert.match(nt.raw, /^Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r\n =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r$/m);
    for (const w of nt.raw.match(/=\?UTF-8\?B\?[^?]*\?=/g)) {
      assert.ok(w.length <= 75, `encoded-word of ${w.length} characters`);
      // each word decodes to whole UTF-8 characters on its own
      const bytes = Buffer.from(w.slice(10, -2), 'base64');
      assert.equal(Buffer.from(bytes.toString('utf8'), 'utf8').compare(bytes), 0);
      assert.ok(!bytes.toString('utf8').includes('\ufffd'));
    }
    assertAsciiHeaders(nt.raw);
    assert.match(nt.parsed.text, /namens „Schlüssel“ erstellt/);
  } finally {
    await s.close();
    await smtp.stop();
  }
});
