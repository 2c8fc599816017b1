// Previews of office documents (issue 18): DOCX, ODT, XLSX and PPTX made
// here by LibreOffice from text, converted by the server's one reused
// LibreOffice (started once: a second document does not start it
// again) and drawn by poppler; a DOCX whose image and field point at a
// loopback listener converts without that listener seeing a connection
// (network namespace and never-update-links settings); a zip bomb and a
// damaged DOCX fail with a reason, and the converter still works after.
// Slow (LibreOffice): run under the normal build only, not under ASan
// (the converter is not instrumented anyway); it reports its runtime.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from './lib/server.mjs';
import { consortium, api, apiJson, urlPath } from './lib/docs.mjs';
import { makeZipBomb, zipStored, sanitized, childrenOf } from './lib/search.mjs';
import { previewState, pngSize, officeDocs } from './lib/previews.mjs';

const skip = sanitized && 'LibreOffice previews are tested under the normal build only';
const t0 = Date.now();
let s, tok, work, docs, bomb;

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
  work = mkdtempSync(join(tmpdir(), 'consort-office-'));
  docs = officeDocs(work, { slides: 4 });
  bomb = makeZipBomb(1024 * 1024 * 1024);
  s = await new Server({ args: ['--preview-seconds', '90'] }).start();
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
  await put('office/bomb.docx', bomb);
  await put('office/broken.docx', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(4000, 7)]));
  for (const p of ['office/bomb.docx', 'office/broken.docx']) {
    const st = await previewState(s, tok.reader, 'WP1', p);
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
});
