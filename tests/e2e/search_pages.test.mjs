// Search hits say on which page the hit is (issue 18): a 3-page PDF made
// here with a word only on page 2 and one only on page 3 gives "page" 2
// and 3; a plain-text document (no page breaks) gives no "page". A
// form feed in a text file is a page break too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { people, put, found, waitIndexed } from './lib/search.mjs';

// A PDF with one page per string of `pages`, with a real xref table.
function pagedPdf(pages) {
  const objs = [];
  const n = pages.length;
  const kids = pages.map((_, i) => `${3 + 2 * i} 0 R`).join(' ');
  objs.push('<< /Type /Catalog /Pages 2 0 R >>');
  objs.push(`<< /Type /Pages /Kids [${kids}] /Count ${n} >>`);
  pages.forEach((text, i) => {
    const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
    objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${4 + 2 * i} 0 R /Resources << /Font << /F1 ${3 + 2 * n} 0 R >> >> >>`);
    objs.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  objs.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

let s, tok;
before(async () => {
  s = await new Server().start();
  ({ tokens: { coord: tok } } = await people(s));
});
after(async () => { await s?.stop(); });

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
