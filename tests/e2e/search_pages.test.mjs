// Search hits say on which page the hit is (issue 18): a 3-page PDF made
// here with a word only on page 2 and one only on page 3 gives "page" 2
// and 3; a plain-text document (no page breaks) gives no "page". A
// form feed in a text file is a page break too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { people, put, found, waitIndexed, pagedPdf } from './lib/search.mjs';

let s, tok;
before(async () => {
  s = await new Server().start();
  ({ tokens: { coord: tok } } = await people(s));
});
after(async () => { await s?.close(); });

test('a hit in a PDF names its page; text without page breaks names none', async () => {
  await put(s, tok, 'WP1', 'three.pdf', pagedPdf([
    'The opening page talks about the project plan.',
    'The middle page alone mentions the vorquastel sample.',
    'The last page alone mentions the drimbelow result.',
  ]));
  await put(s, tok, 'WP1', 'plain.txt', Buffer.from('A plain note about the vorquastel sample.\n'));
  await put(s, tok, 'WP1', 'paged.txt', Buffer.from('first sheet\n\fsecond sheet\n\fthird sheet with glimmerox\n'));
  await waitIndexed(s, tok, [['WP1', 'three.pdf'], ['WP1', 'plain.txt'], ['WP1', 'paged.txt']]);

  const r = await found(s, tok, 'vorquastel');
  const pdf = r.hits.find((h) => h.path === 'three.pdf');
  const txt = r.hits.find((h) => h.path === 'plain.txt');
  assert.ok(pdf && txt, JSON.stringify(r.hits));
  assert.equal(pdf.page, 2);
  assert.equal(pdf.pages, 3);
  assert.match(pdf.snippet, /<mark>vorquastel<\/mark>/);
  assert.ok(!pdf.snippet.includes('\f'), 'no form feed in the snippet');
  assert.equal(txt.page, undefined);

  const last = (await found(s, tok, 'drimbelow')).hits;
  assert.deepEqual(last.map((h) => [h.path, h.page]), [['three.pdf', 3]]);
  const first = (await found(s, tok, 'opening')).hits;
  assert.deepEqual(first.map((h) => [h.path, h.page]), [['three.pdf', 1]]);
  const paged = (await found(s, tok, 'glimmerox')).hits;
  assert.deepEqual(paged.map((h) => [h.path, h.page]), [['paged.txt', 3]]);
  // a match only in the file name is on no page
  const byName = (await found(s, tok, 'three')).hits.find((h) => h.path === 'three.pdf');
  assert.equal(byName?.page, undefined);
});
