// A work package's language (issue 14): the indexer's order is declared →
// identified from the text → the work package's language → index-language.
// A German text too short to identify is found by its stem once its work
// package is set to German (the change re-queues the WP's documents), and
// loses the stem again when the setting goes back to the default; bad
// codes are refused by the API and `consort wp set` with nothing changed;
// only managers and coordinators may set it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, runConsort } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { apiJson } from './lib/docs.mjs';
import { people, put, found, waitIndexed, until } from './lib/search.mjs';

const wpLanguage = (s) => sql(s, "SELECT language FROM wps WHERE code = 'WP1'")[0].language;
const paths = async (s, token, q) => (await found(s, token, q)).hits.map((h) => `${h.path}:${h.language}`).sort();

test('a WP language: stems short texts, bad codes refused, re-indexes on change', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await people(s, { members: { manager: { WP1: 'manage' }, writer: { WP1: 'write' } } });
    // Too short to identify, nothing declared; and one that declares French.
    await put(s, tokens.writer, 'WP1', 'kurz.txt', Buffer.from('Berichte 2024'));
    await put(s, tokens.writer, 'WP1', 'page.html', Buffer.from('<html lang="fr"><p>Rapports</p></html>'));
    await waitIndexed(s, tokens.writer, [['WP1', 'kurz.txt'], ['WP1', 'page.html']]);
    assert.deepEqual(await paths(s, tokens.writer, 'bericht'), []);
    assert.deepEqual(await paths(s, tokens.writer, 'rapport'), ['page.html:fr']);

    let r = await apiJson(s, tokens.writer, 'GET', '/api/v1/wps/WP1');
    assert.equal(r.status, 200);
    assert.equal(r.body.wp.language, null);

    // Refused: codes consort does not stem, wrong case, wrong type; a writer.
    for (const [json, re] of [
      [{ language: 'xx' }, /field 'language': 'xx' is not a language code consort stems/],
      [{ language: 'EN' }, /'EN' is not a language code/],
      [{ language: 'de-AT' }, /'de-AT' is not a language code/],
      [{ language: 'zh' }, /'zh' is not a language code/],
      [{ language: '' }, /language/],
      [{ language: 7 }, /language/],
      [{ title: 'New', language: 'und' }, /'und' is not a language code/],
    ]) {
      r = await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json });
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.equal(r.body.error, 'invalid_request');
      assert.match(r.body.detail, re);
    }
    r = await apiJson(s, tokens.writer, 'PATCH', '/api/v1/wps/WP1', { json: { language: 'de' } });
    assert.equal(r.status, 403);
    assert.equal(wpLanguage(s), null);
    assert.notEqual(sql(s, "SELECT title FROM wps WHERE code = 'WP1'")[0].title, 'New');

    // The manager sets German: the short text is indexed again, stemmed.
    r = await apiJson(s, tokens.manager, 'PATCH', '/api/v1/wps/WP1', { json: { language: 'de' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.wp.language, 'de');
    assert.equal(wpLanguage(s), 'de');
    r = await apiJson(s, tokens.writer, 'GET', '/api/v1/wps/WP1');
    assert.equal(r.body.wp.language, 'de');
    await until(async () => (await paths(s, tokens.writer, 'bericht')).length > 0, { what: 'kurz.txt stemmed in German' });
    assert.deepEqual(await paths(s, tokens.writer, 'bericht'), ['kurz.txt:de']);
    // The declared language stays.
    assert.deepEqual(await paths(s, tokens.writer, 'rapport'), ['page.html:fr']);
    // A new short document in the WP is German from the start.
    await put(s, tokens.writer, 'WP1', 'protokolle.txt', Buffer.from('Protokolle 2025'));
    await waitIndexed(s, tokens.writer, [['WP1', 'protokolle.txt']]);
    assert.deepEqual(await paths(s, tokens.writer, 'protokoll'), ['protokolle.txt:de']);
    // A rename keeps the language without extracting again.
    r = await apiJson(s, tokens.writer, 'POST', '/api/v1/wps/WP1/move', { json: { from: 'kurz.txt', to: 'kurz2.txt' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await until(async () => (await paths(s, tokens.writer, 'bericht'))[0] === 'kurz2.txt:de', { what: 'the rename' });

    const audit = sql(s, "SELECT detail FROM audit WHERE action = 'wp_update' ORDER BY id DESC LIMIT 1")[0];
    assert.match(audit.detail, /language=de/);

    // Back to the server's default (none here): no stems for the short texts.
    r = await apiJson(s, tokens.coord, 'PATCH', '/api/v1/wps/WP1', { json: { language: null } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.wp.language, null);
    assert.equal(wpLanguage(s), null);
    await until(async () => (await paths(s, tokens.writer, 'protokoll')).length === 0, { what: 'protokolle.txt unstemmed' });
    assert.deepEqual(await paths(s, tokens.writer, 'bericht'), []);
    assert.deepEqual(await paths(s, tokens.writer, 'rapport'), ['page.html:fr']);

    // The command line: bad codes refused, nothing changed; de and default.
    const set = (...args) => runConsort(['wp', 'set', '--data', s.dataDir, '--code', 'WP1', ...args]);
    for (const code of ['xx', 'EN', '']) {
      const c = set('--language', code);
      assert.notEqual(c.status, 0, code);
      assert.match(c.stderr, /language/);
    }
    assert.equal(wpLanguage(s), null);
    let c = set('--language', 'de');
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /language=de/);
    assert.equal(wpLanguage(s), 'de');
    await until(async () => (await paths(s, tokens.writer, 'protokoll')).length === 1, { what: 'German again after the CLI' });
    c = set('--language', 'default');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(wpLanguage(s), null);
  });
});

test('a WP language goes after identification and before index-language', async () => {
  await withServer({ args: ['--index-language', 'fr'] }, async (s) => {
    const { tokens } = await people(s, { wps: ['WP1', 'WP2'] });
    let r = await apiJson(s, tokens.coord, 'PATCH', '/api/v1/wps/WP1', { json: { language: 'de' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // Identified English in a German WP stays English.
    await put(s, tokens.coord, 'WP1', 'en.txt', Buffer.from(
      'The partners discussed the reports of the working groups at the meeting in Brussels last week.'));
    await put(s, tokens.coord, 'WP1', 'kurz.txt', Buffer.from('Berichte 2024'));
    await put(s, tokens.coord, 'WP2', 'court.txt', Buffer.from('Rapports 2024'));
    await waitIndexed(s, tokens.coord, [['WP1', 'en.txt'], ['WP1', 'kurz.txt'], ['WP2', 'court.txt']]);
    assert.deepEqual(await paths(s, tokens.coord, 'report'), ['en.txt:en']);
    assert.deepEqual(await paths(s, tokens.coord, 'bericht'), ['kurz.txt:de']);
    assert.deepEqual(await paths(s, tokens.coord, 'rapport'), ['court.txt:fr']);
  });
});
