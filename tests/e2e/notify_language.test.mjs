// Mail in the recipient's language (issue 15): a German person and an
// English person get a digest and an account mail, each in their own
// language, through the real SMTP server (lib/smtp.mjs, STARTTLS+AUTH)
// and parsed with mailparser: subjects with umlauts as RFC 2047
// encoded-words (headers stay ASCII), UTF-8 bodies, plural forms, dates
// as the language writes them; the language is the one stored when the
// mail is built; a person who chose none gets English. Review tasks and
// deliverable reminders too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session } from './lib/accounts.mjs';
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

    // The app's feed speaks the same language as the mail.
    for (const [who, sentence] of [['reader', /^Writer hat 3 Dateien nach WP1\/Minutes hochgeladen$/],
                                   ['manager', /^Writer uploaded 3 files to WP1\/Minutes$/]]) {
      r = await apiJson(s, tokens[who], 'GET', '/api/v1/activity?wp=WP1');
      assert.equal(r.status, 200);
      assert.ok(r.body.groups.some((g) => sentence.test(g.text)),
        `${who}: ${JSON.stringify(r.body.groups.map((g) => g.text))}`);
    }

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
    // (the consortium's own "e2e" token made a mail with this subject too)
    let nt;
    for (const until = Date.now() + 30000; !nt && Date.now() < until;) {
      nt = smtp.to(emails.reader, /neues API-Token/).find((m) => m.parsed.text.includes('Schlüssel'));
      if (!nt) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(nt, 'the mail about the token "Schlüssel"');
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

const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
const TABLE = 'Deliverable No,Deliverable Name,WP No,Lead Beneficiary,Type,Dissemination Level,Due Date (in months)\r\n' +
  'D2.1,Datenmanagementplan für Ärzte,WP2,INSTB,R,PU,6\r\nD2.2,Pilot,WP2,INSTB,DEM,PU,12\r\n';

test('review tasks and deliverable reminders in each person\'s language', async () => {
  const smtp = new Smtp();
  await smtp.start();
  const passFile = join(tempDir(), 'smtp-pass');
  writeFileSync(passFile, `${smtp.password}\n`);
  const args = [...smtpArgs(smtp, passFile), '--reminder-interval', '0', '--reminder-days', '3'];
  const s = await new Server({ args }).start();
  try {
    for (const p of ['UNIA', 'INSTB', 'LABC', 'HOSPD']) addPartner(s, p);
    addWp(s, 'WP2', { lead: 'INSTB' });
    const people = [['coord@a.example', 'UNIA', null, true], ['lead@b.example', 'INSTB', 'write'],
      ['rev1@c.example', 'LABC', 'read'], ['rev2@d.example', 'HOSPD', 'read']];
    const sess = {};
    for (const [email, partner, level, coordinator] of people) {
      addUser(s, email, partner, { coordinator: !!coordinator });
      if (level) grant(s, 'WP2', { user: email }, level);
      sess[email.split('@')[0]] = await Session.login(s, email);
    }
    const { coord, lead, rev1 } = sess;
    // rev1 and the lead read German; rev2 chose nothing
    for (const who of [rev1, lead]) {
      const r = await who.req('PUT', '/api/v1/me/notifications', { json: { language: 'de' } });
      assert.equal(r.status, 200);
    }
    let r = await coord.req('POST', '/api/v1/deliverables/import', { body: TABLE, headers: { 'content-type': 'text/csv' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const [code, due] of [['D2.1', day(30)], ['D2.2', day(-1)]]) {
      r = await lead.req('PATCH', `/api/v1/deliverables/${code}`, { json: { due_date: due } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    r = await lead.req('PUT', '/api/v1/wps/WP2/content/plan.txt', { body: 'The plan.\n', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 201);
    r = await lead.req('PATCH', '/api/v1/deliverables/D2.1', { json: { document: 'plan.txt' } });
    assert.equal(r.status, 200);
    r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev1@c.example', 'rev2@d.example'], due: day(1) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));

    const [de] = await smtp.waitFor('rev1@c.example', /^Begutachtung: D2\.1, Version 1$/);
    assertAsciiHeaders(de.raw);
    assert.match(de.parsed.text, /^Hallo,/);
    assert.ok(de.parsed.text.includes(`Sie werden gebeten, D2.1 „Datenmanagementplan für Ärzte“, Version 1, bis ${day(1)} zu begutachten.`), de.parsed.text);
    assert.match(de.parsed.html, />In consort öffnen<\/a>/);
    const [en] = await smtp.waitFor('rev2@d.example', /^Review task: D2\.1, version 1$/);
    assert.ok(en.parsed.text.includes(`You are asked to review D2.1 "Datenmanagementplan für Ärzte", version 1, by ${day(1)}.`), en.parsed.text);

    r = await s.fetch('/_test/reminders', { method: 'POST' });
    assert.equal(r.status, 200);
    const [rm] = await smtp.waitFor('rev1@c.example', /^Erinnerung: Ihre Begutachtung von D2\.1 ist am/);
    assert.equal(rm.parsed.subject, `Erinnerung: Ihre Begutachtung von D2.1 ist am ${day(1)} fällig`);
    await smtp.waitFor('rev2@d.example', new RegExp(`^Reminder: your review of D2\\.1 is due on ${day(1)}$`));
    const [od] = await smtp.waitFor('lead@b.example', /^Erinnerung: Deliverable D2\.2 ist seit/);
    assert.equal(od.parsed.subject, `Erinnerung: Deliverable D2.2 ist seit ${day(-1)} überfällig`);
    assert.match(od.parsed.text, /Deliverable D2\.2 „Pilot“ war am \d{4}-\d\d-\d\d fällig und ist noch nicht eingereicht\./);
  } finally {
    await s.close();
    await smtp.stop();
  }
});
