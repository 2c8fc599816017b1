// The embedded browser app: index.html with a strict CSP and the
// cache-busting asset prefix, assets cached for a year, gzip, ETags.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';

let s;
before(async () => { s = await new Server({}).start(); });
after(async () => { await s.close(); });

test('GET / is the app page with a strict CSP and no caching', async () => {
  const r = await s.fetch('/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  const html = await r.text();
  assert.doesNotMatch(html, /%ASSETS%/);
  assert.match(html, /\/assets\/[0-9a-f]{16}\/js\/app\.js/);
  assert.doesNotMatch(html, /<script>|<style>|style="/, 'no inline script or style');
});

test('assets are immutable under the bundle prefix, gzip when accepted, 304 on ETag', async () => {
  const html = await (await s.fetch('/')).text();
  const src = /src="([^"]+\.js)"/.exec(html)[1];
  let r = await s.fetch(src, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
  const etag = r.headers.get('etag');
  await r.arrayBuffer();
  r = await s.fetch(src, { headers: { 'If-None-Match': etag } });
  assert.equal(r.status, 304);
  // raw bytes, to see the encoding the server chose
  const raw = await s.raw(`GET ${src} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, br\r\nConnection: close\r\n\r\n`);
  const big = raw.text.length > 600;
  if (big) assert.match(raw.text, /Content-Encoding: gzip/);
  const plain = await s.raw(`GET ${src} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip;q=0\r\nConnection: close\r\n\r\n`);
  assert.doesNotMatch(plain.text, /Content-Encoding/);
});

test('a stale bundle prefix or index.html as an asset is 404', async () => {
  let r = await s.fetch('/assets/0000000000000000/js/app.js');
  assert.equal(r.status, 404);
  await r.arrayBuffer();
  const html = await (await s.fetch('/')).text();
  const prefix = /(\/assets\/[0-9a-f]{16})\//.exec(html)[1];
  r = await s.fetch(`${prefix}/index.html`);
  assert.equal(r.status, 404);
  await r.arrayBuffer();
  const raw = await s.raw(`GET ${prefix}/../index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  assert.match(raw.text, /^HTTP\/1\.1 404/);
});
