// Previews of office documents (issue 18): DOCX, ODT, XLSX and PPTX made
// here by LibreOffice from text, converted by the server's reused
// LibreOffice (started once: a second document converted after the first
// does not start another) and drawn by poppler; two RTF documents
// converted at the same time by two converters of the pool
// (`preview-converters 2`), each preview right; a DOCX whose image and field point at a
// loopback listener converts without that listener seeing a connection
// (network namespace and never-update-links settings); a zip bomb and a
// damaged DOCX fail with a reason, and the converter still works after.
// Slow (LibreOffice): run under the normal build only, not under ASan
// (the converter is not instrumented anyway); it reports its runtime.
// The bounds of `preview-converters` are checked under both builds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Server, runConsort, tempDir, freePort } from './lib/server.mjs';
import { consortium, api, apiJson, urlPath } from './lib/docs.mjs';
import { makeZipBomb, zipStored, sanitized, childrenOf } from './lib/search.mjs';
import { previewState, pngSize, officeDocs } from './lib/previews.mjs';

const skip = sanitized && 'LibreOffice previews are tested under the normal build only';
const t0 = Date.now();
let s, tok, work, docs, bomb, serverTmp;

// A DOCX whose picture and INCLUDETEXT field live at `url`.
function docxLinking(url) {
  const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
  const R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  return zipStored({
    '[Content_Types].xml': '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    '_rels/.rels': '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/_rels/document.xml.rels': '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      `<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="${url}/pic.png" TargetMode="External"/>` +
      `<Relationship Id="rId6" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="${url}/link" TargetMode="External"/></Relationships>`,
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="${W}" xmlns:r="${R}" ` +
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" ' +
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><w:body>' +
      '<w:p><w:r><w:t>Linked content follows.</w:t></w:r></w:p>' +
      `<w:p><w:fldSimple w:instr=' INCLUDETEXT "${url}/included.txt" '><w:r><w:t>old</w:t></w:r></w:fldSimple></w:p>` +
      `<w:p><w:fldSimple w:instr=' INCLUDEPICTURE "${url}/field.png" \\d '><w:r><w:t>pic</w:t></w:r></w:fldSimple></w:p>` +
      '<w:p><w:hyperlink r:id="rId6"><w:r><w:t>a link</w:t></w:r></w:hyperlink></w:p>' +
      '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="914400" cy="914400"/><wp:docPr id="1" name="p"/><a:graphic>' +
      '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="1" name="p"/><pic:cNvPicPr/></pic:nvPicPr>' +
      '<pic:blipFill><a:blip r:link="rId5"/></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm>' +
      '<a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>' +
      '</w:body></w:document>',
  });
}

before(async () => {
  if (skip) return;
  // made before the server starts (LibreOffice is slow to start here)
  work = tempDir('consort-office-');
  docs = officeDocs(work, { slides: 4 });
  bomb = makeZipBomb(1024 * 1024 * 1024);
  // a TMPDIR of its own, to see what the converters leave in it
  serverTmp = tempDir('consort-office-tmp-');
  s = await new Server({ args: ['--preview-seconds', '90', '--preview-converters', '2'], env: { TMPDIR: serverTmp } }).start();
  ({ tokens: tok } = await consortium(s));
});
after(async () => {
  await s?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  if (!skip) console.log(`# previews_office: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

const put = async (path, body) => {
  const r = await apiJson(s, tok.writer, 'PUT', `/api/v1/wps/WP1/content/${urlPath(path)}`, { body });
  assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
};
const soffices = () => childrenOf(s.proc.pid).filter((c) => /soffice/.test(c.cmdline[0] || '')).map((c) => c.pid);
// The converters' lines of /metrics, by name (with labels).
async function converterMetrics() {
  const text = await (await s.fetch('/metrics')).text();
  return Object.fromEntries([...text.matchAll(/^(consort_preview_conver\S+) (\S+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

test('DOCX, ODT, XLSX, PPTX: converted once by one LibreOffice, pages drawn', { skip }, async () => {
  const started = [];
  for (const [ext, body] of Object.entries(docs)) {
    await put(`office/doc.${ext}`, body);
    const st = await previewState(s, tok.reader, 'WP1', `office/doc.${ext}`);
    assert.equal(st.body.state, 'ready', `${ext}: ${JSON.stringify(st.body)}`);
    if (ext === 'pptx') assert.equal(st.body.pages, 4);
    if (ext === 'docx' || ext === 'odt') assert.ok(st.body.pages >= 2, `${ext}: ${st.body.pages} pages`);
    const r = await api(s, tok.reader, 'GET', `/api/v1/wps/WP1/preview/office/doc.${ext}?page=${st.body.pages}&size=400`);
    assert.equal(r.status, 200, ext);
    assert.equal(pngSize(Buffer.from(await r.arrayBuffer())).w, 400);
    started.push(...soffices());
  }
  assert.equal(new Set(started).size, 1, `one converter for all: ${[...new Set(started)]}`);
  const m = await converterMetrics();
  assert.equal(m.consort_preview_converters, 2);
  assert.equal(m.consort_preview_converters_running, 1);
  assert.equal(m.consort_preview_converters_busy, 0);
  assert.equal(m['consort_preview_converter_starts_total{outcome="ok"}'], 1);
  assert.equal(m['consort_preview_converter_starts_total{outcome="failed"}'], 0);
  assert.equal(m['consort_preview_conversions_total{outcome="ok"}'], Object.keys(docs).length, JSON.stringify(m));
  assert.ok(m.consort_preview_conversion_seconds_total > 0);
});

test('a DOCX with external links: no connection is attempted', { skip }, async () => {
  let connections = 0;
  const listener = createServer((c) => { connections++; c.destroy(); });
  await new Promise((r) => listener.listen(0, '127.0.0.1', r));
  await put('office/linked.docx', docxLinking(`http://127.0.0.1:${listener.address().port}`));
  const st = await previewState(s, tok.reader, 'WP1', 'office/linked.docx');
  assert.equal(st.body.state, 'ready', JSON.stringify(st.body));
  await new Promise((r) => setTimeout(r, 500));
  listener.close();
  assert.equal(connections, 0, 'the listener saw no connection');
});

test('a zip bomb and a damaged DOCX fail with a reason; the converter works after', { skip }, async () => {
  const m0 = await converterMetrics();
  const outcomes = (m) => ['ok', 'failed', 'timeout'].map((o) => m[`consort_preview_conversions_total{outcome="${o}"}`]);
  await put('office/bomb.docx', bomb);
  await put('office/broken.docx', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(4000, 7)]));
  let refused = 0;
  for (const p of ['office/bomb.docx', 'office/broken.docx']) {
    const st = await previewState(s, tok.reader, 'WP1', p);
    refused += st.body.state !== 'ready';
    if (st.body.state === 'ready') {
      // LibreOffice may open what is left of it as an empty document:
      // then it was bounded, which is what matters
      assert.ok(st.body.pages >= 1);
      continue;
    }
    assert.equal(st.body.state, 'failed', `${p}: ${JSON.stringify(st.body)}`);
    assert.ok(st.body.reason.length > 5);
  }
  await put('office/after.odt', Buffer.concat([docs.odt, Buffer.alloc(0)]));
  await put('office/after.xlsx', docs.xlsx); // content seen: no conversion needed
  await put('office/after2.docx', docs.docx);
  // a new content after the failures: the converter starts again if it was killed
  await put('office/fresh.docx', docs.fresh);
  const st = await previewState(s, tok.reader, 'WP1', 'office/fresh.docx');
  assert.equal(st.body.state, 'ready', JSON.stringify(st.body));
  // Each conversion counted once, by its outcome: only the two bad ones
  // were new content (the rest was converted before).
  const [ok0, failed0, late0] = outcomes(m0);
  const [ok, failed, late] = outcomes(await converterMetrics());
  const seen = JSON.stringify([outcomes(m0), [ok, failed, late]]);
  assert.equal(ok + failed + late - (ok0 + failed0 + late0), 2, seen);
  assert.equal(failed + late - (failed0 + late0), refused, seen);
});

// An RTF of `pages` pages, each saying which document and page it is.
const rtf = (tag, pages) => Buffer.from('{\\rtf1\\ansi ' +
  Array.from({ length: pages }, (_, i) => `${tag}: page ${i + 1}\\par`).join('\\page ') + '}');

test('two documents convert at the same time on two converters, both previews right', { skip }, async () => {
  const before = new Set(soffices());
  const logs = () => ((s.allLogs || '') + s.log).split('\n').filter((l) => /converter/.test(l)).join('\n');
  assert.ok(before.size <= 1, `at most one converter running before: ${[...before]}\n${logs()}`);
  // uploaded together: each upload queues its conversion on the pool
  await Promise.all([put('office/two-a.rtf', rtf('A', 3)), put('office/two-b.rtf', rtf('B', 5))]);
  const [a, b] = await Promise.all(['office/two-a.rtf', 'office/two-b.rtf']
    .map((p) => previewState(s, tok.reader, 'WP1', p)));
  assert.equal(a.body.state, 'ready', JSON.stringify(a.body));
  assert.equal(b.body.state, 'ready', JSON.stringify(b.body));
  assert.equal(a.body.pages, 3);
  assert.equal(b.body.pages, 5);
  // the second converter started only because the first was busy
  const now = soffices();
  assert.equal(new Set(now).size, 2, `two converters: ${now}\n${logs()}`);
  assert.ok([...before].every((p) => now.includes(p)), 'a running converter was kept');
  assert.match(logs(), /converter 2 started \(pid \d+\)/);
  for (const [p, pages] of [['office/two-a.rtf', 3], ['office/two-b.rtf', 5]]) {
    const r = await api(s, tok.reader, 'GET', `/api/v1/wps/WP1/preview/${p}?page=${pages}&size=400`);
    assert.equal(r.status, 200, p);
    assert.equal(pngSize(Buffer.from(await r.arrayBuffer())).w, 400);
  }
});

test('a converter that ends leaves no pipe in /tmp and no temp files', { skip }, async () => {
  const pid = s.proc.pid;
  const pipes = () => readdirSync('/tmp').filter((n) => n.startsWith(`OSL_PIPE_${process.getuid()}_consort-preview-${pid}-`));
  // those of the converters killed after a failure are gone already
  const m = await converterMetrics();
  assert.ok(m['consort_preview_converter_starts_total{outcome="ok"}'] > m.consort_preview_converters_running,
    `a converter ended during the tests: ${JSON.stringify(m)}`);
  assert.equal(pipes().length, m.consort_preview_converters_running, pipes().join(' '));
  await s.stop();
  assert.deepEqual(pipes(), []);
  // soffice's temp dirs (lu*.tmp) are in its profile, emptied at each start
  assert.deepEqual(readdirSync(serverTmp).filter((n) => /^lu.*\.tmp$/.test(n)), []);
});

test('preview-converters out of its bounds is refused at start', async () => {
  const listen = `127.0.0.1:${await freePort()}`;
  for (const [v, why] of [['17', /--preview-converters: value '17' is above the maximum/],
    ['-1', /--preview-converters: value '-1' must not be negative/],
    ['two', /--preview-converters: .*is not a number/]]) {
    const r = runConsort(['serve', '--listen', listen, '--data', tempDir(), '--preview-converters', v]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, why);
  }
});
