// Previews (issue 18) without LibreOffice: PDF pages by poppler (a PDF
// from a Debian package's docs), PNG/JPEG/TIFF scaled by
// gdk-pixbuf, SVG rasterised by librsvg (a script and an external image
// in it do nothing: the loopback listener sees no connection); the state
// endpoint (pending, ready, failed with reason, unsupported); ETag,
// nosniff, same-origin; a PDF that spins and a damaged one fail with a
// reason; versions sharing content share the cache (a hit, no new
// file); eviction under an absolute size limit; gc removes the previews
// of collected blobs; read access is required; /metrics shows the cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, statSync, utimesSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Server, tempDir } from './lib/server.mjs';
import { consortium, api, apiJson, urlPath, sha256 } from './lib/docs.mjs';
import { spinningPdf, until } from './lib/search.mjs';
import { PDF_DOC, previewState, pngSize } from './lib/previews.mjs';

let s, tok;
before(async () => {
  s = await new Server({ args: ['--preview-seconds', '20'] }).start();
  ({ tokens: tok } = await consortium(s));
});
after(async () => { await s?.close(); });

const put = async (path, body, token = tok.writer) => {
  const r = await apiJson(s, token, 'PUT', `/api/v1/wps/WP1/content/${urlPath(path)}`, { body });
  assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

const page = (path, q, token = tok.reader) => api(s, token, 'GET', `/api/v1/wps/WP1/preview/${urlPath(path)}?${q}`);
const previewFiles = () => {
  const out = [];
  const dir = join(s.dataDir, 'previews');
  for (const d of readdirSync(dir)) if (d.length === 2) for (const f of readdirSync(join(dir, d))) out.push(f);
  return out;
};
const metric = (text, name) => Number((new RegExp(`^${name} (\\S+)$`, 'm').exec(text) || [])[1]);

test('PDF: state, pages by number and size, headers, caching', async () => {
  const pdf = readFileSync(PDF_DOC);
  const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [PDF_DOC]).toString())[1]);
  await put('docs/spec.pdf', pdf);
  const first = await apiJson(s, tok.reader, 'GET', '/api/v1/wps/WP1/preview/docs/spec.pdf');
  assert.ok([200, 202].includes(first.status));
  const st = await previewState(s, tok.reader, 'WP1', 'docs/spec.pdf');
  assert.equal(st.status, 200, JSON.stringify(st.body));
  assert.equal(st.body.state, 'ready');
  assert.equal(st.body.pages, pages);
  assert.equal(st.body.sha256, sha256(pdf));

  const r = await page('docs/spec.pdf', 'page=2&size=400');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('cross-origin-resource-policy'), 'same-origin');
  assert.equal(r.headers.get('etag'), `"${sha256(pdf)}-p2-w400"`);
  assert.match(r.headers.get('cache-control'), /no-cache/);
  const img = Buffer.from(await r.arrayBuffer());
  assert.equal(pngSize(img).w, 400);
  // a numbered version is immutable; If-None-Match answers 304
  const v = await page('docs/spec.pdf', 'version=1&page=2&size=400');
  assert.match(v.headers.get('cache-control'), /immutable/);
  const again = await api(s, tok.reader, 'GET', '/api/v1/wps/WP1/preview/docs/spec.pdf?page=2&size=400',
    { headers: { 'if-none-match': r.headers.get('etag') } });
  assert.equal(again.status, 304);
  // past the last page; bad parameters
  assert.equal((await page('docs/spec.pdf', `page=${pages + 1}`)).status, 404);
  for (const q of ['page=0', 'page=x', 'page=1&size=300', 'size=200', 'version=0', 'version=9'])
    assert.ok([400, 404].includes((await page('docs/spec.pdf', q)).status), q);
  assert.equal((await apiJson(s, tok.reader, 'GET', '/api/v1/wps/WP1/preview/docs')).status, 400);
  // read access as for a download
  assert.equal((await page('docs/spec.pdf', 'page=1', tok.outsider)).status, 404);
});

test('images: PNG, JPEG, TIFF scaled by gdk-pixbuf', async () => {
  // 1000x500 pictures drawn from the Debian PDF by poppler itself
  const dir = tempDir('consort-img-');
  const formats = {};
  for (const [flag, ext] of [['-png', 'png'], ['-jpeg', 'jpg'], ['-tiff', 'tif']]) {
    execFileSync('pdftoppm', [flag, '-f', '1', '-l', '1', '-scale-to-x', '1000', '-scale-to-y', '500',
      '-singlefile', PDF_DOC, join(dir, 'x')]);
    formats[ext] = readFileSync(join(dir, `x.${ext}`));
  }
  rmSync(dir, { recursive: true, force: true });
  for (const [ext, body] of Object.entries(formats)) {
    await put(`img/pic.${ext}`, body);
    const st = await previewState(s, tok.reader, 'WP1', `img/pic.${ext}`);
    assert.equal(st.body.state, 'ready', `${ext}: ${JSON.stringify(st.body)}`);
    assert.equal(st.body.pages, 1);
    const r = await page(`img/pic.${ext}`, 'page=1&size=200');
    assert.equal(r.status, 200, ext);
    assert.deepEqual(pngSize(Buffer.from(await r.arrayBuffer())), { w: 200, h: 100 }, ext);
  }
});

test('SVG is rasterised; its script and external image do nothing', async () => {
  let connections = 0;
  const listener = createServer((c) => { connections++; c.destroy(); });
  await new Promise((r) => listener.listen(0, '127.0.0.1', r));
  const port = listener.address().port;
  const svg = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="200">
  <script>fetch('http://127.0.0.1:${port}/script')</script>
  <rect width="400" height="200" fill="#3a6"/>
  <image x="0" y="0" width="50" height="50" xlink:href="http://127.0.0.1:${port}/img.png"/>
  <image x="50" y="0" width="50" height="50" href="file:///etc/passwd"/>
</svg>`;
  await put('img/logo.svg', Buffer.from(svg));
  const st = await previewState(s, tok.reader, 'WP1', 'img/logo.svg');
  assert.equal(st.body.state, 'ready', JSON.stringify(st.body));
  const r = await page('img/logo.svg', 'page=1&size=200');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.deepEqual(pngSize(Buffer.from(await r.arrayBuffer())), { w: 200, h: 100 });
  await new Promise((res) => setTimeout(res, 300));
  listener.close();
  assert.equal(connections, 0, 'no connection from the SVG');
});

test('hostile and unsupported: a spinning PDF, a damaged PDF, a binary; each says why', async () => {
  await put('bad/spin.pdf', spinningPdf(9, 10));
  await put('bad/broken.pdf', Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5000, 0x41)]));
  await put('bad/blob.bin', Buffer.alloc(3000, 3));
  for (const p of ['bad/spin.pdf', 'bad/broken.pdf']) {
    const st = await previewState(s, tok.reader, 'WP1', p);
    assert.equal(st.status, 200);
    if (p === 'bad/spin.pdf' && st.body.state === 'ready') {
      // pdfinfo counts its page at once; drawing it is what spins
      const r = await page(p, 'page=1&size=200');
      const b = await r.json();
      assert.equal(r.status, 415, JSON.stringify(b));
      assert.match(b.detail, /limit|longer than/);
      continue;
    }
    assert.equal(st.body.state, 'failed', `${p}: ${JSON.stringify(st.body)}`);
    assert.ok(st.body.reason.length > 5, st.body.reason);
    const r = await page(p, 'page=1');
    assert.equal(r.status, 415);
    assert.equal((await r.json()).detail, st.body.reason);
  }
  const u = await apiJson(s, tok.reader, 'GET', '/api/v1/wps/WP1/preview/bad/blob.bin');
  assert.equal(u.status, 200);
  assert.equal(u.body.state, 'unsupported');
  assert.equal((await page('bad/blob.bin', 'page=1')).status, 415);
});

test('versions and copies with the same content share previews; metrics count hits and misses', async () => {
  const pdf = readFileSync(PDF_DOC);
  await put('share/a.pdf', Buffer.from('%PDF-1.4 not this one'));
  await put('share/a.pdf', pdf); // version 2: content already previewed above
  await put('share/copy.pdf', pdf);
  const before = previewFiles().length;
  let text = await (await s.fetch('/metrics')).text();
  const hits0 = metric(text, 'consort_preview_cache_hits_total');
  const st = await apiJson(s, tok.reader, 'GET', '/api/v1/wps/WP1/preview/share/copy.pdf');
  assert.equal(st.status, 200, 'known at once: the content was previewed as docs/spec.pdf');
  assert.equal(st.body.state, 'ready');
  for (const p of ['share/a.pdf?version=2&', 'share/copy.pdf?']) {
    const r = await api(s, tok.reader, 'GET', `/api/v1/wps/WP1/preview/${p}page=2&size=400`);
    assert.equal(r.status, 200);
  }
  assert.equal(previewFiles().length, before, 'no new cache files');
  text = await (await s.fetch('/metrics')).text();
  assert.equal(metric(text, 'consort_preview_cache_hits_total'), hits0 + 2);
  assert.ok(metric(text, 'consort_preview_cache_misses_total') >= 1);
  assert.ok(metric(text, 'consort_preview_cache_bytes') > 0);
  assert.ok(metric(text, 'consort_preview_cache_limit_bytes') >= 16 * 1024 * 1024);
});

test('eviction under an absolute limit, least recently used first; gc removes previews of collected blobs', async () => {
  const s2 = await new Server({ args: ['--preview-cache-size', '600K', '--gc-interval', '1s'] }).start();
  try {
    const { tokens } = await consortium(s2);
    const pdf = readFileSync(PDF_DOC);
    const body = await (await apiJson(s2, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/spec.pdf', { body: pdf })).body;
    const hash = sha256(pdf);
    const dir = join(s2.dataDir, 'previews', hash.slice(0, 2));
    const sizeOf = () => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    let total = 0;
    for (let p = 1; p <= 12; p++) {
      const r = await api(s2, tokens.reader, 'GET', `/api/v1/wps/WP1/preview/spec.pdf?page=${p}&size=1200`);
      assert.equal(r.status, 200, `page ${p}`);
      total += (await r.arrayBuffer()).byteLength;
      // later pages are more recent: make the order certain on a coarse clock
      const f = join(dir, `${hash}-p${p}-w1200.png`);
      if (existsSync(f)) utimesSync(f, Date.now() / 1000 - 1000 + p * 10, Date.now() / 1000 - 1000 + p * 10);
    }
    assert.ok(total > 600 * 1024, `made ${total} bytes, more than the limit`);
    assert.ok(sizeOf() <= 600 * 1024, `cache ${sizeOf()} within the limit`);
    assert.ok(existsSync(join(dir, `${hash}-p12-w1200.png`)), 'the newest stays');
    assert.ok(!existsSync(join(dir, `${hash}-p2-w1200.png`)), 'an old one went');
    const text = await (await s2.fetch('/metrics')).text();
    assert.ok(metric(text, 'consort_preview_cache_evictions_total') >= 1);
    assert.equal(metric(text, 'consort_preview_cache_limit_bytes'), 600 * 1024);

    // gc: purge the document; once its blob is collected its previews go
    void body;
    await apiJson(s2, tokens.writer, 'DELETE', '/api/v1/wps/WP1/tree/spec.pdf');
    for (const it of (await apiJson(s2, tokens.manager, 'GET', '/api/v1/wps/WP1/trash')).body.items)
      await apiJson(s2, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${it.id}`);
    const blob = join(s2.dataDir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
    const old = Date.now() / 1000 - 7200;
    utimesSync(blob, old, old);
    await until(() => !existsSync(blob), { timeout: 20000, what: 'the blob to be collected' });
    await until(() => !readdirSync(dir).some((f) => f.startsWith(hash)), { timeout: 20000, what: 'its previews to go' });
  } finally {
    await s2.close();
  }
});
