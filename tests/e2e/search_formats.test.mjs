// Search over real documents of every supported format, uploaded over
// the API: each is found by a word only its body has, by a phrase, by
// its title (title:) and by a stemmed form; headers, footers, speaker
// notes and spreadsheet cells count as text; a German and a French
// document are found by inflected forms. The documents come from the
// fixture generator (the zip + XML parts office suites write, a PDF with
// a real cross-reference table) and from poppler's pdftocairo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir } from './lib/server.mjs';
import { makeDoc, people, put, found, search, waitIndexed } from './lib/search.mjs';

// Made-up words, so that each occurs in exactly one document: B only in
// the body, T only in the title, S as "<S>ing" in the body (and found
// as "<S>ed"), X only in a header, footer or speaker note.
const DOCS = [
  { fmt: 'pdf', type: 'pdf', B: 'quorvex', T: 'zintaral', S: 'flombark' },
  { fmt: 'docx', type: 'docx', B: 'blenthar', T: 'vostrani', S: 'grissot', X: ['header', 'hedravil'], X2: ['footer', 'fotrelby'] },
  { fmt: 'xlsx', type: 'xlsx', B: 'skivolt', T: 'marquedo', S: 'pelquint', cells: true },
  { fmt: 'pptx', type: 'pptx', B: 'drumbrel', T: 'oskelbar', S: 'dravosk', X: ['notes', 'notavrix'] },
  { fmt: 'odt', type: 'odt', B: 'plavinor', T: 'ferquast', S: 'smerlint', X: ['header', 'hoderquin'], X2: ['footer', 'futralex'] },
  { fmt: 'ods', type: 'ods', B: 'wextrum', T: 'gulbranex', S: 'kobrast', cells: true },
  { fmt: 'odp', type: 'odp', B: 'gontrail', T: 'prevoltan', S: 'tuvemp', X: ['notes', 'nobrelquo'] },
  { fmt: 'html', type: 'html', B: 'fimbrast', T: 'welkaroth', S: 'harplost' },
  { fmt: 'md', type: 'md', B: 'hulverin', T: 'jorvakel', S: 'vindrek' },
  { fmt: 'txt', type: 'txt', B: 'traskelon', T: 'lumbrecht', S: 'yostral' },
  { fmt: 'csv', type: 'csv', B: 'zembrico', T: 'quandorix', S: 'quembert' },
  { fmt: 'cairo', type: 'pdf', B: 'brondavel', T: 'kestrovan', S: 'plimsark' },
];

function english(d) {
  return [
    `This report of the consortium is about the ${d.B} and the ${d.S}ing of samples in the laboratory.`,
    `The crimson ${d.B} ledger was shared with all partners by the coordinator of the project.`,
  ];
}

// The file for one entry: its name and bytes.
function build(d) {
  const lines = english(d);
  const title = `${d.T} annual review`;
  const extra = {};
  if (d.X) extra[d.X[0]] = `${d.X[1]} is written here`;
  if (d.X2) extra[d.X2[0]] = `${d.X2[1]} on every page`;
  switch (d.fmt) {
    case 'txt':
      return { name: `${title}.txt`, bytes: Buffer.from(lines.join('\n\n') + '\n') };
    case 'csv':
      return {
        name: `${title}.csv`,
        bytes: Buffer.from(`id,text,amount\n1,"${lines[0]}",12.5\n2,"${lines[1]}",7\n`),
      };
    case 'md':
      return { name: `notes ${d.B.slice(0, 3)}.md`, bytes: makeDoc('md', { heading: title, body: lines.join('\n') }) };
    case 'cairo': {
      // Rewritten by poppler's cairo backend: compressed streams, embedded
      // subset fonts, no document title (so it comes from the file name).
      const dir = tempDir('consort-cairo-');
      try {
        writeFileSync(join(dir, 'in.pdf'), makeDoc('pdf', { body: lines.join('\n') }));
        execFileSync('pdftocairo', ['-pdf', join(dir, 'in.pdf'), join(dir, 'out.pdf')]);
        return { name: `${title}.pdf`, bytes: readFileSync(join(dir, 'out.pdf')) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    default: {
      // Spreadsheets: one row per sentence, cells split on ';', with a number.
      const body = d.cells ? lines.map((l, i) => `${l};${i + 1}.5;total`).join('\n') : lines.join('\n');
      return { name: `file ${d.B.slice(0, 3)}.${d.fmt}`, bytes: makeDoc(d.fmt, { title, author: 'Jane Doe', body, ...extra }) };
    }
  }
}

const GERMAN = 'Die Untersuchungen der Keimbahn wurden in allen Ländern des Konsortiums durchgeführt, ' +
  'und die Ergebnisse sind mit den Partnern geteilt worden. Das ist ein Bericht über die Empfehlungen, ' +
  'die für die Kliniken und Labore gelten, auch wenn sie noch nicht veröffentlicht sind.';
const FRENCH = 'Les recommandations du consortium sont publiées dans le rapport, et les résultats des ' +
  'analyses génétiques sont partagés avec les partenaires. Ce document est une synthèse pour les ' +
  'cliniciens qui ne sont pas dans le projet.';

let s, token;
const paths = {};

before(async () => {
  s = await new Server().start();
  ({ tokens: { coord: token } } = await people(s));
  const docs = [];
  for (const d of DOCS) {
    const { name, bytes } = build(d);
    const path = `formats/${name}`;
    paths[d.fmt] = path;
    await put(s, token, 'WP1', path, bytes);
    docs.push(['WP1', path]);
  }
  paths.de = 'languages/Bericht Keimbahn.docx';
  await put(s, token, 'WP1', paths.de, makeDoc('docx', { title: 'Bericht', body: GERMAN }));
  paths.fr = 'languages/Synthèse.odt';
  await put(s, token, 'WP1', paths.fr, makeDoc('odt', { title: 'Synthèse', body: FRENCH }));
  docs.push(['WP1', paths.de], ['WP1', paths.fr]);
  const states = await waitIndexed(s, token, docs);
  for (const [k, v] of Object.entries(states)) assert.equal(v.status, 'indexed', `${k}: ${JSON.stringify(v)}`);
});

after(async () => { await s?.close(); });

// The one hit of a query, checked to be the document of `fmt`.
async function one(q, fmt, what) {
  const r = await found(s, token, q);
  assert.equal(r.total, 1, `${what} (${q}): ${JSON.stringify(r.hits.map((h) => h.path))}`);
  assert.equal(r.hits[0].path, paths[fmt], what);
  return r.hits[0];
}

for (const d of DOCS) {
  test(`${d.fmt}: found by a body word, a phrase, its title and a stemmed form`, async () => {
    const hit = await one(d.B, d.fmt, 'body word');
    assert.equal(hit.type, d.type);
    assert.equal(hit.wp, 'WP1');
    assert.equal(hit.index_status, 'indexed');
    assert.equal(hit.language, 'en');
    assert.match(hit.snippet, new RegExp(`<mark>${d.B}</mark>`, 'i'));
    assert.match(hit.title, new RegExp(`^${d.T} annual review`));

    await one(`"crimson ${d.B} ledger"`, d.fmt, 'phrase');
    // The same words out of order: a phrase needs positions.
    assert.equal((await found(s, token, `"ledger ${d.B} crimson"`)).total, 0);
    assert.equal((await found(s, token, `ledger ${d.B} crimson`)).total, 1);

    await one(`title:${d.T}`, d.fmt, 'title field');
    await one(d.T, d.fmt, 'title word without a field');
    assert.equal((await found(s, token, `title:${d.B}`)).total, 0, 'a body word is not in the title field');

    // Only "<S>ing" is in the text: "<S>ed" and "<S>s" meet it at the stem.
    assert.equal((await found(s, token, `"${d.S}ed"`)).total, 0, 'the literal form is not there');
    await one(`${d.S}ed`, d.fmt, 'stemmed form');
    await one(`${d.S}s`, d.fmt, 'another stemmed form');
  });
}

test('headers, footers and speaker notes are searchable text', async () => {
  for (const d of DOCS) {
    for (const x of [d.X, d.X2].filter(Boolean)) {
      const hit = await one(x[1], d.fmt, `${d.fmt} ${x[0]}`);
      assert.match(hit.snippet, new RegExp(`<mark>${x[1]}</mark>`), `${d.fmt} ${x[0]} snippet`);
    }
  }
});

test('spreadsheet cells: shared strings and numbers', async () => {
  for (const fmt of ['xlsx', 'ods', 'csv']) {
    const d = DOCS.find((x) => x.fmt === fmt);
    const r = await found(s, token, `${d.B} ${fmt === 'csv' ? '12.5' : '1.5'}`);
    assert.deepEqual(r.hits.map((h) => h.path), [paths[fmt]], fmt);
  }
});

test('every format is counted in the facets, words common to all find all', async () => {
  const r = await found(s, token, 'crimson ledger', { limit: 100 });
  assert.equal(r.total, DOCS.length);
  assert.equal(r.hits.length, DOCS.length);
  const types = Object.fromEntries(r.facets.type.map((f) => [f.type, f.count]));
  assert.deepEqual(types, { pdf: 2, docx: 1, xlsx: 1, pptx: 1, odt: 1, ods: 1, odp: 1, html: 1, md: 1, txt: 1, csv: 1 });
  assert.deepEqual(r.facets.wp, [{ wp: 'WP1', count: DOCS.length }]);
  // Not adjacent anywhere: the phrase finds nothing.
  assert.equal((await found(s, token, '"crimson ledger"')).total, 0);
  // type= narrows to one format.
  const pptx = await found(s, token, 'crimson', { type: 'pptx' });
  assert.deepEqual(pptx.hits.map((h) => h.path), [paths.pptx]);
  // Script and style of the HTML page are not text.
  assert.equal((await found(s, token, 'scriptword')).total, 0);
  assert.equal((await found(s, token, 'stylesheetword')).total, 0);
  // Author from the document properties.
  const a = await found(s, token, 'author:doe');
  assert.ok(a.total >= 6, `author: ${a.total}`);
  assert.ok(a.hits.every((h) => h.author === 'Jane Doe'));
});

test('German and French documents are found by inflected forms', async () => {
  let hit = await one('untersuchung', 'de', 'German singular of Untersuchungen');
  assert.equal(hit.language, 'de');
  assert.match(hit.snippet, /<mark>Untersuchungen<\/mark>/);
  await one('ergebnis', 'de', 'German Ergebnisse');
  await one('empfehlung kliniken', 'de', 'German Empfehlungen');
  assert.equal((await found(s, token, '"untersuchung"')).total, 0, 'not literally there');

  hit = await one('recommandation', 'fr', 'French singular of recommandations');
  assert.equal(hit.language, 'fr');
  assert.match(hit.snippet, /<mark>recommandations<\/mark>/);
  await one('publiée partagé', 'fr', 'French participles');
  await one('analyse génétique', 'fr', 'French plural adjectives');
  // Accents as typed or not: the stored text keeps them, queries need them.
  await one('synthèse', 'fr', 'French title');
  await one('title:synthèse', 'fr', 'French title field');
});

test('search needs q and refuses a bad type', async () => {
  assert.equal((await search(s, token, '')).status, 400);
  assert.equal((await search(s, token, 'x', { type: 'PDF!' })).status, 400);
});
