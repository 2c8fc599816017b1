// Documents in their own language (issue 14): a short German ODT that
// declares nothing is identified as German and found by the singular of
// its compound; a declared language goes before what the text suggests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { people, put, found, waitIndexed, makeDoc, zipStored, docxWithXml } from './lib/search.mjs';

const GERMAN = 'Die Krebsfrüherkennungsuntersuchungen wurden in allen Partnerländern durchgeführt.';

test('language: the German ODT of the issue is found by the singular; declared languages win', async () => {
  await withServer({}, async (s) => {
    const { tokens: { coord: token } } = await people(s);
    await put(s, token, 'WP1', 'de/Früherkennung.odt', makeDoc('odt', { title: 'Bericht', body: GERMAN }));
    // Declared Swedish, text English: Swedish stemming, as the author said.
    await put(s, token, 'WP1', 'sv/report.docx', docxWithXml(
      '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>' +
      '<w:rPr><w:lang w:val="sv-SE"/></w:rPr><w:t>Partnerna diskuterar rapporterna.</w:t></w:r></w:p></w:body></w:document>'));
    // HTML declaring French.
    await put(s, token, 'WP1', 'fr/page.html', Buffer.from(
      '<!doctype html><html lang="fr"><body><p>Les recommandations ont été publiées.</p></body></html>'));
    // An ODT whose style says "no language" (zxx): the text decides.
    await put(s, token, 'WP1', 'nl/notitie.odt', zipStored({
      mimetype: 'application/vnd.oasis.opendocument.text',
      'content.xml': '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" ' +
        'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"><office:automatic-styles>' +
        '<style:style style:name="P1"><style:text-properties fo:language="zxx"/></style:style></office:automatic-styles>' +
        '<office:body><office:text><text:p>De onderzoeken werden in alle partnerlanden uitgevoerd.</text:p>' +
        '</office:text></office:body></office:document-content>',
    }));
    const docs = [['WP1', 'de/Früherkennung.odt'], ['WP1', 'sv/report.docx'], ['WP1', 'fr/page.html'], ['WP1', 'nl/notitie.odt']];
    const states = await waitIndexed(s, token, docs);
    for (const [k, v] of Object.entries(states)) assert.equal(v.status, 'indexed', `${k}: ${JSON.stringify(v)}`);

    let r = await found(s, token, 'Krebsfrüherkennungsuntersuchung');
    assert.deepEqual(r.hits.map((h) => h.path), ['de/Früherkennung.odt']);
    assert.equal(r.hits[0].language, 'de');
    assert.match(r.hits[0].snippet, /<mark>Krebsfrüherkennungsuntersuchungen<\/mark>/);
    // German "Partnerländern" and Dutch "partnerlanden", each stemmed in its language
    r = await found(s, token, 'Partnerland');
    assert.deepEqual(r.hits.map((h) => h.path).sort(), ['de/Früherkennung.odt', 'nl/notitie.odt']);

    r = await found(s, token, 'rapport');
    assert.deepEqual(r.hits.map((h) => h.path), ['sv/report.docx']);
    assert.equal(r.hits[0].language, 'sv');

    r = await found(s, token, 'recommandation');
    assert.deepEqual(r.hits.map((h) => h.path), ['fr/page.html']);
    assert.equal(r.hits[0].language, 'fr');

    r = await found(s, token, 'onderzoek');
    assert.deepEqual(r.hits.map((h) => h.path), ['nl/notitie.odt']);
    assert.equal(r.hits[0].language, 'nl');
  });
});

test('language: index-language is the fallback for documents that say and show none', async () => {
  const { runConsort, tempDir, freePort } = await import('./lib/server.mjs');
  const r = runConsort(['serve', '--listen', `127.0.0.1:${await freePort()}`, '--data', tempDir(), '--index-language', 'xx']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /index-language: 'xx' is not a language code consort stems/);
  await withServer({ args: ['--index-language', 'de'] }, async (s) => {
    const { tokens: { coord: token } } = await people(s);
    // Too little text to identify, nothing declared: German, as configured.
    await put(s, token, 'WP1', 'kurz.txt', Buffer.from('Berichte 2024'));
    // Declared or identified languages are not overridden.
    await put(s, token, 'WP1', 'page.html', Buffer.from('<html lang="fr"><p>Rapports</p></html>'));
    await waitIndexed(s, token, [['WP1', 'kurz.txt'], ['WP1', 'page.html']]);
    let hits = (await found(s, token, 'bericht')).hits;
    assert.deepEqual(hits.map((h) => [h.path, h.language]), [['kurz.txt', 'de']]);
    hits = (await found(s, token, 'rapport')).hits;
    assert.deepEqual(hits.map((h) => [h.path, h.language]), [['page.html', 'fr']]);
  });
});
