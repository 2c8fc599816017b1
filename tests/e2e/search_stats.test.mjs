// No figure in a search answer depends on documents the caller cannot
// read (issue 13, part 2). A writer of WP1 only puts "alpha guessedword
// beta" and "alpha controlword beta" in WP1 and searches; then WP2 (which
// the writer cannot read) fills with the same words, in other languages
// too, and with near misses that a spelling correction could pick. The
// writer's answers must be identical, byte for byte: order, scores,
// totals, facets, snippets and suggestions. With one index for every
// work package the scores told how often WP2 used "guessedword".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { makeDoc, people, put, found, waitIndexed } from './lib/search.mjs';

let s, tok;

const WP1 = [
  ['notes/guess.txt', 'alpha guessedword beta'],
  ['notes/control.txt', 'alpha controlword beta'],
  ['notes/both.md', '# Both words\n\nalpha guessedword controlword gamma delta epsilon and more words here'],
  ['notes/other.txt', 'gamma delta epsilon, nothing of the two words'],
];

const QUERIES = [
  'guessedword OR controlword',
  'alpha',
  'alpha beta',
  'guessedword',
  '"alpha guessedword"',
  'alpha -controlword',
  'gue*',
  'guesedword',
  'guesedword OR controlwrd',
  'title:both OR guessedword',
  'gamma OR guessedword OR controlword',
];

async function answers() {
  const out = {};
  for (const q of QUERIES) {
    const r = await found(s, tok.writer1, q, { limit: 20 });
    out[q] = r;
  }
  return out;
}

before(async () => {
  s = await new Server().start();
  ({ tokens: tok } = await people(s, {
    wps: ['WP1', 'WP2'],
    members: { writer1: { WP1: 'write' } },
  }));
  for (const [path, body] of WP1) await put(s, tok.writer1, 'WP1', path, Buffer.from(body + '\n'));
  await waitIndexed(s, tok.writer1, WP1.map(([p]) => ['WP1', p]));
});

after(async () => { await s?.close(); });

test('answers of a WP1 writer do not change when WP2 fills with the same words', async () => {
  const before1 = await answers();
  // sanity: the queries do find and score something
  assert.equal(before1['guessedword OR controlword'].total, 3);
  assert.ok(before1['guessedword OR controlword'].hits.every((h) => h.score > 0));
  assert.equal(before1.guesedword.suggestion, 'guessedword');

  const wp2 = [];
  for (let i = 0; i < 12; i++) {
    const words = Array(1 + i).fill('guessedword').join(' ');
    wp2.push([`bulk/g${i}.txt`, Buffer.from(`${words} alpha ${i % 3 ? 'beta' : ''} guessedwords guesedwort guessedwerk\n`)]);
  }
  wp2.push(['bulk/long.txt', Buffer.from(`${'filler '.repeat(3000)} alpha guessedword\n`)]);
  wp2.push(['bulk/de.docx', makeDoc('docx', {
    title: 'Guessedword Bericht',
    body: 'Die guessedword Untersuchungen wurden in den Kliniken mit den Partnern durchgeführt und ausgewertet, und das ist nicht für alle.',
  })]);
  wp2.push(['bulk/fr.odt', makeDoc('odt', {
    title: 'Rapport guessedword',
    body: 'Les recommandations guessedword pour les patients et les partenaires de la santé sont dans le rapport de la commission.',
  })]);
  wp2.push(['bulk/controlwrd.txt', Buffer.from('controlwrd controlwrd controlwrd guessedwordy gue gues guesx guessed\n')]);
  for (const [path, body] of wp2) await put(s, tok.coord, 'WP2', path, body);
  await waitIndexed(s, tok.coord, wp2.map(([p]) => ['WP2', p]));

  // the coordinator sees WP2's words: the documents are in the index
  const c = await found(s, tok.coord, 'guessedword', { limit: 100 });
  assert.ok(c.total >= 16, `coordinator total ${c.total}`);

  const after1 = await answers();
  for (const q of QUERIES)
    assert.deepEqual(after1[q], before1[q], `answer to ${q} changed after WP2 was filled`);
});
