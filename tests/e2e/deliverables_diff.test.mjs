// What changed between two versions, against the real server and its
// sandboxed extraction helper: DOCX, ODT and PDF pairs built here
// (tests/fixtures/docgen), HTML and TXT word by word, Markdown and CSV
// line by line; additions and deletions exactly where the edit was;
// bad requests refused; an unreadable work package looks missing. And
// 200-page documents: a few edits and a complete rewrite, timed (the
// figures are printed; the machine may be loaded, so the bound asserted
// is generous: the algorithm's cap keeps it bounded either way).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, tempDir } from './lib/server.mjs';
import { makeDoc, docgenBin, people, put, sanitized } from './lib/search.mjs';
import { apiJson, urlPath } from './lib/docs.mjs';

let s, tok;

before(async () => {
  s = await new Server().start();
  ({ tokens: tok } = await people(s, { wps: ['WP1', 'WP2'], members: { reader: { WP1: 'read' } } }));
});

after(async () => { await s?.close(); });

const diff = (token, wp, path, q) => apiJson(s, token, 'GET', `/api/v1/wps/${wp}/diff/${urlPath(path)}?${q}`);

// The changes as [op, words] with the equal runs left out.
const edits = (body) => body.changes.filter((c) => c.op !== 'equal').map((c) => [c.op, c.text.trim()]);

const V1 = 'The consortium will collect germline data from six clinics.\nEach clinic reports monthly to the coordinator.\nData is kept for ten years.';
const V2 = 'The consortium will collect germline and somatic data from six clinics.\nEach clinic reports quarterly to the coordinator.\nData is kept for ten years.';

for (const fmt of ['docx', 'odt', 'pdf', 'html']) {
  test(`${fmt}: word by word`, async () => {
    const path = `diff/plan.${fmt}`;
    await put(s, tok.coord, 'WP1', path, makeDoc(fmt, { title: 'Plan', body: V1 }));
    await put(s, tok.coord, 'WP1', path, makeDoc(fmt, { title: 'Plan', body: V2 }));
    const r = await diff(tok.reader, 'WP1', path, 'from=1&to=2');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.mode, 'words');
    assert.equal(r.body.algorithm, 'myers');
    assert.equal(r.body.from.type, fmt);
    assert.equal(r.body.approximate, false);
    assert.deepEqual(edits(r.body), [['insert', 'and somatic'], ['delete', 'monthly'], ['insert', 'quarterly']]);
    assert.deepEqual(r.body.stats, { deleted: 1, inserted: 3 });
    // and backwards
    const back = await diff(tok.reader, 'WP1', path, 'from=2&to=1');
    assert.deepEqual(edits(back.body), [['delete', 'and somatic'], ['delete', 'quarterly'], ['insert', 'monthly']]);
    // the same version: no change
    const same = await diff(tok.reader, 'WP1', path, 'from=2&to=2');
    assert.deepEqual(edits(same.body), []);
  });
}

test('txt word by word; markdown and csv line by line', async () => {
  await put(s, tok.coord, 'WP1', 'diff/notes.txt', Buffer.from('one two three\nfour five\n'));
  await put(s, tok.coord, 'WP1', 'diff/notes.txt', Buffer.from('one 2 three\n   four five six\n'));
  let r = await diff(tok.reader, 'WP1', 'diff/notes.txt', 'from=1&to=2');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(edits(r.body), [['delete', 'two'], ['insert', '2'], ['insert', 'six']]);

  await put(s, tok.coord, 'WP1', 'diff/table.csv', Buffer.from('site,count\nberlin,12\nparis,7\n'));
  await put(s, tok.coord, 'WP1', 'diff/table.csv', Buffer.from('site,count\nberlin,12\nparis,9\nrome,4\n'));
  r = await diff(tok.reader, 'WP1', 'diff/table.csv', 'from=1&to=2');
  assert.equal(r.body.mode, 'lines');
  assert.deepEqual(edits(r.body), [['delete', 'paris,7'], ['insert', 'paris,9\nrome,4']]);
  // words asked for explicitly
  r = await diff(tok.reader, 'WP1', 'diff/table.csv', 'from=1&to=2&mode=words');
  assert.equal(r.body.mode, 'words');

  await put(s, tok.coord, 'WP1', 'diff/readme.md', Buffer.from('# Title\n\nFirst paragraph.\n\nSecond one.\n'));
  await put(s, tok.coord, 'WP1', 'diff/readme.md', Buffer.from('# Title\n\nFirst paragraph, longer.\n\nSecond one.\n'));
  r = await diff(tok.reader, 'WP1', 'diff/readme.md', 'from=1&to=2');
  assert.equal(r.body.mode, 'lines');
  assert.deepEqual(edits(r.body), [['delete', 'First paragraph.'], ['insert', 'First paragraph, longer.']]);
});

test('bad requests are refused; an unreadable work package looks missing', async () => {
  await put(s, tok.coord, 'WP2', 'secret.txt', Buffer.from('a\n'));
  await put(s, tok.coord, 'WP2', 'secret.txt', Buffer.from('b\n'));
  let r = await diff(tok.reader, 'WP2', 'secret.txt', 'from=1&to=2');
  assert.equal(r.status, 404);
  r = await diff(tok.reader, 'WP1', 'diff/notes.txt', 'from=0&to=2');
  assert.equal(r.status, 400);
  r = await diff(tok.reader, 'WP1', 'diff/notes.txt', 'from=1');
  assert.equal(r.status, 400);
  r = await diff(tok.reader, 'WP1', 'diff/notes.txt', 'from=1&to=2&mode=chars');
  assert.equal(r.status, 400);
  r = await diff(tok.reader, 'WP1', 'diff/notes.txt', 'from=1&to=9');
  assert.equal(r.status, 404);
  assert.match(r.body.detail, /no version 9/);
  r = await diff(tok.reader, 'WP1', 'diff/missing.txt', 'from=1&to=2');
  assert.equal(r.status, 404);
  r = await diff(tok.reader, 'WP1', 'diff', 'from=1&to=2');
  assert.equal(r.status, 400);
  // a spreadsheet is not a text document
  await put(s, tok.coord, 'WP1', 'diff/sheet.xlsx', makeDoc('xlsx', { body: 'a;b\n1;2' }));
  await put(s, tok.coord, 'WP1', 'diff/sheet.xlsx', makeDoc('xlsx', { body: 'a;b\n1;3' }));
  r = await diff(tok.reader, 'WP1', 'diff/sheet.xlsx', 'from=1&to=2');
  assert.equal(r.status, 415);
});

// 200 pages of ~450 words each, deterministic.
function pages(n, seed) {
  const words = ['germline', 'clinic', 'variant', 'consortium', 'patient', 'cohort', 'data', 'the', 'of',
    'and', 'screening', 'report', 'analysis', 'protocol', 'sample', 'result', 'risk', 'model'];
  let x = seed;
  const out = [];
  for (let p = 0; p < n; p++) {
    const w = [];
    for (let i = 0; i < 450; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      w.push(words[x % words.length]);
    }
    out.push(`Page ${p + 1}. ${w.join(' ')}.`);
  }
  return out;
}

function bigDoc(fmt, body) {
  const dir = tempDir('consort-diff-');
  try {
    writeFileSync(join(dir, 'body.txt'), body);
    execFileSync(docgenBin, [fmt, join(dir, `doc.${fmt}`), '--title', 'Big', '--body-file', join(dir, 'body.txt')]);
    return readFileSync(join(dir, `doc.${fmt}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const fmt of ['pdf', 'docx']) {
  test(`200-page ${fmt}: a few edits, and a complete rewrite, in bounded time`, { timeout: 300000 }, async () => {
    const p1 = pages(200, 1);
    const p2 = [...p1];
    p2[10] = p2[10].replace('Page 11.', 'Page 11. An inserted sentence about consent.');
    p2[150] = p2[150].replace(/ germline /, ' somatic ');
    p2.splice(100, 1); // a page removed
    const path = `big/report.${fmt}`;
    await put(s, tok.coord, 'WP1', path, bigDoc(fmt, p1.join('\n')));
    await put(s, tok.coord, 'WP1', path, bigDoc(fmt, p2.join('\n')));
    await put(s, tok.coord, 'WP1', path, bigDoc(fmt, pages(200, 99).join('\n')));
    let t = Date.now();
    let r = await diff(tok.reader, 'WP1', path, 'from=1&to=2');
    const fewMs = Date.now() - t;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.approximate, false);
    const ed = edits(r.body);
    assert.deepEqual(ed[0], ['insert', 'An inserted sentence about consent.']);
    assert.equal(ed[1][0], 'delete');
    // the removed page (its 452 words; Myers may keep either "Page" word)
    assert.ok(ed[1][1].includes('101.'), ed[1][1].slice(0, 40));
    assert.deepEqual(ed.slice(2), [['delete', 'germline'], ['insert', 'somatic']]);
    assert.deepEqual(r.body.stats, { deleted: 453, inserted: 6 });
    assert.ok(r.body.changes.some((c) => c.elided > 0), 'long equal runs are cut');
    t = Date.now();
    r = await diff(tok.reader, 'WP1', path, 'from=2&to=3');
    const rewriteMs = Date.now() - t;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.approximate, true); // D past the cap: one deletion, one insertion
    assert.ok(r.body.stats.deleted > 80000 && r.body.stats.inserted > 80000);
    console.log(`# 200-page ${fmt}: few edits ${fewMs} ms, complete rewrite ${rewriteMs} ms` +
      ` (extraction of both versions included${sanitized ? ', ASan build' : ''}; shared, loaded machine)`);
    assert.ok(rewriteMs < (sanitized ? 120000 : 60000));
  });
}
