// What a searcher can type: malformed queries get 400 with the parser's
// message, bad parameters a 400 naming them, long queries and wildcard
// explosions are capped with a clear error, paging stays within its
// bounds, a spelling suggestion comes when nothing matches, a query of
// only excluded words excludes them, and snippets are HTML-escaped with
// non-empty highlight markers even for documents full of markup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { apiJson } from './lib/docs.mjs';
import { makeDoc, people, put, found, search, waitIndexed } from './lib/search.mjs';

const PAGED = 25;
let s, t;
const docs = [];

before(async () => {
  s = await new Server().start();
  ({ tokens: { coord: t } } = await people(s));
  const add = async (path, bytes) => { await put(s, t, 'WP1', path, bytes); docs.push(['WP1', path]); };
  for (let i = 0; i < PAGED; i++)
    await add(`paged/doc ${i}.txt`, Buffer.from(`The pagingword of document number ${i} is in the report of the project.\n`));
  // Markup as text, in three formats that keep it as text.
  await add('markup/inline.md', Buffer.from('# Markup notes\n\nThe consortium <script>alert("xss")</script> and <b>bold</b> & "quoted" text of the markupword report.\n'));
  await add('markup/entities.html', Buffer.from('<!DOCTYPE html><html><head><title>Entities</title></head><body>' +
    '<p>The markupword page shows &lt;script&gt;evil()&lt;/script&gt; &amp; &quot;more&quot; as text.</p>' +
    '<script>document.write("hiddenscriptword")</script></body></html>'));
  await add('markup/tags.txt', Buffer.from('The markupword note: <img src=x onerror=alert(1)> and <a href="javascript:evil()">link</a> are here.\n'));
  await add('markup/office.docx', makeDoc('docx', { title: '<i>Title</i> & co', body: 'The markupword report says </w:t> and <mark>fake</mark> are only text.' }));
  await waitIndexed(s, t, docs);
});

after(async () => { await s?.close(); });

const raw = async (qs) => apiJson(s, t, 'GET', `/api/v1/search?${qs}`);

test('malformed queries are refused with the parser\'s message', async () => {
  for (const [q, detail] of [
    ['germline AND', 'query: Syntax: <expression> AND <expression>'],
    ['AND germline', 'query: Syntax: <expression> AND <expression>'],
    ['NOT', 'query: Syntax: <expression> NOT <expression>'],
    ['pagingword OR OR report', 'query: Syntax: <expression> OR <expression>'],
    ['pagingword XOR', 'query: Syntax: <expression> XOR <expression>'],
    ['date:2024..later', 'query: Unknown range operation'],
    ['size:big..bigger', 'query: Unknown range operation'],
  ]) {
    const r = await search(s, t, q);
    assert.equal(r.status, 400, q);
    assert.deepEqual(r.body, { error: 'invalid_request', detail }, q);
  }
  // Lenient where the parser is: unbalanced brackets and quotes still search.
  for (const q of ['(pagingword', 'pagingword)', '"pagingword', 'pagingword"'])
    assert.equal((await found(s, t, q)).total, PAGED, q);
});

test('bad parameters are refused and name what is wrong', async () => {
  for (const [qs, detail] of [
    ['', 'q (the query) is required'],
    ['q=', 'q (the query) is required'],
    ['q=%20%20', 'q (the query) is required'],
    ['q=pagingword&limit=101', 'limit must be a number from 0 to 100'],
    ['q=pagingword&limit=-1', 'limit must be a number from 0 to 100'],
    ['q=pagingword&limit=1e2', 'limit must be a number from 0 to 100'],
    ['q=pagingword&limit=', 'limit must be a number from 0 to 100'],
    ['q=pagingword&offset=10001', 'offset must be a number from 0 to 10000'],
    ['q=pagingword&offset=99999999999', 'offset must be a number from 0 to 10000'],
    ['q=pagingword&type=PDF', 'type must be a document type such as pdf or docx'],
    // Undecodable values were taken as absent: no filter at all.
    ['q=a%00b', 'q is not valid percent-encoding or holds a NUL byte'],
    ['q=pagingword&wp=%ZZ', 'wp is not valid percent-encoding or holds a NUL byte'],
    ['q=pagingword&type=%00', 'type is not valid percent-encoding or holds a NUL byte'],
    ['q=pagingword&limit=%4', 'limit is not valid percent-encoding or holds a NUL byte'],
    ['q=pagingword%FF', 'q is not valid UTF-8'],
    ['q=%C0%AF', 'q is not valid UTF-8'],
  ]) {
    const r = await raw(qs);
    assert.equal(r.status, 400, qs);
    assert.deepEqual(r.body, { error: 'invalid_request', detail }, qs);
  }
});

test('long queries: up to 1024 bytes answer, longer ones are refused', async () => {
  // 1024 bytes of words that all occur: answered, and fast.
  let q = 'pagingword';
  while (q.length + ' report'.length <= 1024) q += ' report';
  assert.ok(q.length > 1015 && q.length <= 1024);
  let t0 = Date.now();
  let r = await found(s, t, q);
  assert.equal(r.total, PAGED);
  assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  // 140 ORs of common words, the heaviest plain query that fits.
  q = Array.from({ length: 140 }, (_, i) => ['the', 'of', 'report', 'project'][i % 4]).join(' OR ');
  t0 = Date.now();
  r = await found(s, t, q.slice(0, 1024).replace(/ OR ?$|OR ?$/, '').trim());
  assert.ok(r.total >= PAGED);
  assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  // 1025 bytes: refused. Counted in bytes, not characters.
  r = await search(s, t, 'a'.repeat(1025));
  assert.equal(r.status, 400);
  assert.equal(r.body.detail, 'q is longer than 1024 bytes');
  r = await search(s, t, 'é'.repeat(513));
  assert.equal(r.status, 400);
  assert.equal(r.body.detail, 'q is longer than 1024 bytes');
  assert.equal((await search(s, t, 'é'.repeat(512))).status, 200);
  // A word longer than anything indexed simply finds nothing.
  assert.equal((await found(s, t, 'x'.repeat(1000))).total, 0);
});

test('wildcard explosions are capped with a clear error', async () => {
  let r = await found(s, t, 'paging*');
  assert.equal(r.total, PAGED);
  const eight = 'p* r* t* o* n* i* d* m*';
  const t0 = Date.now();
  r = await found(s, t, eight);
  assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms for eight wildcards`);
  r = await search(s, t, `${eight} a*`);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { error: 'invalid_request', detail: 'query: at most 8 wildcards (word*) in one query' });
  r = await search(s, t, 'a* '.repeat(300));
  assert.equal(r.status, 400);
  // Stars that follow no word are not wildcards.
  assert.equal((await found(s, t, `pagingword ${'* '.repeat(20)}`)).total, PAGED);
});

test('paging: limit and offset within bounds, every hit once', async () => {
  const seen = new Set();
  for (const offset of [0, 10, 20]) {
    const r = await found(s, t, 'pagingword', { limit: 10, offset });
    assert.equal(r.total, PAGED);
    assert.equal(r.offset, offset);
    assert.equal(r.limit, 10);
    assert.equal(r.hits.length, Math.min(10, PAGED - offset));
    for (const h of r.hits) seen.add(h.id);
  }
  assert.equal(seen.size, PAGED);
  let r = await found(s, t, 'pagingword', { limit: 100 });
  assert.equal(r.hits.length, PAGED);
  assert.deepEqual(new Set(r.hits.map((h) => h.id)), seen);
  r = await found(s, t, 'pagingword', { offset: PAGED });
  assert.deepEqual([r.total, r.hits.length], [PAGED, 0]);
  r = await found(s, t, 'pagingword', { offset: 10000, limit: 100 });
  assert.deepEqual([r.total, r.hits.length], [PAGED, 0]);
  // limit=0: only the count and the facets.
  r = await found(s, t, 'pagingword', { limit: 0 });
  assert.deepEqual([r.total, r.hits.length], [PAGED, 0]);
  assert.deepEqual(r.facets, { wp: [{ wp: 'WP1', count: PAGED }], type: [{ type: 'txt', count: PAGED }] });
  r = await found(s, t, 'pagingword');
  assert.equal(r.limit, 20);
  assert.equal(r.hits.length, 20);
});

test('a spelling suggestion when nothing matches, and only then', async () => {
  let r = await found(s, t, 'pagingwrod');
  assert.equal(r.total, 0);
  assert.equal(r.suggestion, 'pagingword');
  assert.equal((await found(s, t, r.suggestion)).total, PAGED);
  r = await found(s, t, 'markupwrd report');
  assert.equal(r.suggestion, 'markupword report');
  assert.equal((await found(s, t, 'pagingword')).suggestion, null);
  assert.equal((await found(s, t, 'qqxqzzvk')).suggestion, null);
});

test('excluding words: -word alone means everything but', async () => {
  let r = await found(s, t, '-pagingword', { limit: 100 });
  assert.equal(r.total, docs.length - PAGED);
  assert.ok(r.hits.every((h) => h.path.startsWith('markup/')));
  r = await found(s, t, '-pagingword -markupword');
  assert.equal(r.total, 0);
  r = await found(s, t, 'markupword -"quoted text"', { limit: 100 });
  assert.equal(r.total, 3);
  assert.deepEqual((await found(s, t, 'NOT pagingword', { limit: 100 })).total, docs.length - PAGED);
});

// Outside the <mark> elements nothing may be markup; every <mark> holds text.
function assertSafeSnippet(snippet, what) {
  const marks = [...snippet.matchAll(/<mark>(.*?)<\/mark>/g)].map((m) => m[1]);
  assert.ok(marks.length > 0, `${what}: no highlight in ${snippet}`);
  for (const m of marks) assert.ok(m.trim().length > 0 && !/[<>]/.test(m), `${what}: empty or odd mark in ${snippet}`);
  const rest = snippet.replace(/<mark>|<\/mark>/g, '');
  assert.ok(!/[<>]/.test(rest), `${what}: unescaped markup in ${snippet}`);
  assert.ok(!/&(?!(amp|lt|gt|quot|#39|#x27);)/.test(rest), `${what}: bare & in ${snippet}`);
}

test('snippets are HTML-escaped, with non-empty highlight markers', async () => {
  let r = await found(s, t, 'alert');
  const paths = r.hits.map((h) => h.path).sort();
  assert.deepEqual(paths, ['markup/inline.md', 'markup/tags.txt']);
  for (const h of r.hits) assertSafeSnippet(h.snippet, h.path);
  const md = r.hits.find((h) => h.path === 'markup/inline.md');
  assert.equal(md.type, 'md');
  assert.equal(md.title, 'Markup notes');
  assert.match(md.snippet, /&lt;script <mark>alert<\/mark>\("xss"\)&lt;\/script/);
  const txt = r.hits.find((h) => h.path === 'markup/tags.txt');
  assert.match(txt.snippet, /&lt;img src=x onerror=<mark>alert<\/mark>\(1\)&gt;/);

  r = await found(s, t, 'evil', { limit: 100 });
  assert.equal(r.total, 2);
  for (const h of r.hits) assertSafeSnippet(h.snippet, h.path);
  const html = r.hits.find((h) => h.path === 'markup/entities.html');
  assert.match(html.snippet, /&lt;script&gt;<mark>evil<\/mark>\(\)&lt;\/script&gt; &amp; "more"/);
  assert.equal((await found(s, t, 'hiddenscriptword')).total, 0, 'an HTML page\'s script is not text');

  // A document whose text holds the marker's own tag, and markup in a title.
  r = await found(s, t, 'fake');
  assert.equal(r.total, 1);
  assertSafeSnippet(r.hits[0].snippet, 'docx');
  assert.match(r.hits[0].snippet, /&lt;mark&gt;<mark>fake<\/mark>&lt;\/mark&gt;/);
  assert.equal(r.hits[0].title, '<i>Title</i> & co', 'the title is plain text, not HTML');

  // Every way of matching highlights something real: stems, wildcards,
  // phrases, fields, several words.
  for (const q of ['markupwords', 'markup*', '"markupword report"', 'bold OR quoted', 'markupword title:markup', 'onerror', 'report -pagingword', 'xss']) {
    r = await found(s, t, q, { limit: 100 });
    assert.ok(r.total > 0, q);
    for (const h of r.hits) assertSafeSnippet(h.snippet, `${q} in ${h.path}`);
  }
});
