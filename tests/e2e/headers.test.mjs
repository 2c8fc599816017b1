// Response headers built from users' names come out whole: a
// Content-Disposition for the longest non-Latin file name a document may
// have, and Location for long paths, over the API and over WebDAV. They
// used to be formatted into a 1 KiB buffer and cut (mid-escape).
//
// Names are capped at 255 bytes of UTF-8 (storage/name.h), not 255
// characters: a Greek letter is two bytes, so the longest Greek name is
// 125 letters and 'x.pdf' (255 bytes, 130 characters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { consortium, apiJson, urlPath } from './lib/docs.mjs';

const NAME = 'Δ'.repeat(125) + 'x.pdf';
const DIR = 'Ω'.repeat(127); // 254 bytes
const DIR2 = 'Ψ'.repeat(127);

function basic(email, token) {
  return `Basic ${Buffer.from(`${email}:${token}`).toString('base64')}`;
}

// The name a browser saves as: RFC 6266 filename* (RFC 8187 UTF-8
// percent-encoding), and the ASCII fallback beside it.
function dispositionName(value) {
  assert.ok(value, 'Content-Disposition is present');
  const star = /;\s*filename\*=UTF-8''([^;\s]*)\s*$/.exec(value);
  assert.ok(star, `filename* ends the header: ${value.slice(-80)}`);
  const plain = /;\s*filename="([^"]*)"/.exec(value);
  assert.ok(plain, 'an ASCII fallback filename is present');
  return { name: decodeURIComponent(star[1]), fallback: plain[1] };
}

test('headers: the longest Greek file name comes back whole in Content-Disposition (API and WebDAV)', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const w = tokens.writer;
    assert.equal(Buffer.byteLength(NAME), 255);
    const path = `${DIR}/${DIR2}/${NAME}`;
    const url = `/api/v1/wps/WP1/content/${urlPath(path)}`;

    // One byte more is refused, clearly, and creates nothing.
    const over = await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/${urlPath('Δ'.repeat(126) + '.pdf')}`, { body: 'x' });
    assert.equal(over.status, 400);
    assert.equal(over.body.error, 'invalid_request');
    assert.match(over.body.detail, /255/);

    let r = await apiJson(s, w, 'PUT', url, { body: '%PDF-1.4 long name\n' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const location = r.headers.get('location');

    for (const method of ['GET', 'HEAD']) {
      r = await s.fetch(url, { method, headers: { authorization: `Bearer ${w}` } });
      assert.equal(r.status, 200, method);
      await r.arrayBuffer();
      const d = dispositionName(r.headers.get('content-disposition'));
      assert.equal(d.name, NAME, `${method}: filename* decodes to the exact name`);
      assert.equal(d.fallback, '_'.repeat(250) + 'x.pdf');
    }
    // Location is the request path (3 kB of percent-escapes): whole.
    assert.equal(location, url);

    // The network drive downloads through the same path.
    r = await s.fetch(`/dav/WP1/${urlPath(path)}`, { headers: { authorization: basic(emails.writer, w) } });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '%PDF-1.4 long name\n');
    assert.equal(dispositionName(r.headers.get('content-disposition')).name, NAME);
  });
});

test('headers: Location for long WebDAV paths (MKCOL, COPY, MOVE) comes back whole', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const auth = { authorization: basic(emails.writer, tokens.writer) };
    const dav = (method, path, headers = {}, body) =>
      s.fetch(path, { method, headers: { ...auth, ...headers }, body });

    const a = `/dav/WP1/${urlPath(DIR)}`;
    const ab = `${a}/${urlPath(DIR2)}`;
    const abc = `${ab}/${urlPath('Ξ'.repeat(127))}`;
    for (const p of [a, ab, abc]) {
      const r = await dav('MKCOL', p);
      assert.equal(r.status, 201, p);
      assert.equal(r.headers.get('location'), p, 'MKCOL Location is the whole path');
    }
    assert.ok(abc.length > 2000, `the path is long (${abc.length} bytes)`);

    let r = await dav('PUT', `${abc}/${urlPath(NAME)}`, {}, 'content');
    assert.equal(r.status, 201);

    // COPY into a new long path: Location names the copy.
    const copy = `${ab}/${urlPath('Φ'.repeat(127))}`;
    r = await dav('COPY', abc, { destination: copy, depth: 'infinity' });
    assert.equal(r.status, 201);
    assert.equal(decodeURIComponent(new URL(r.headers.get('location'), 'https://x').pathname),
      decodeURIComponent(copy) + '/');

    // MOVE the long-named file beside it.
    const moved = `${copy}/${urlPath('Σ'.repeat(125) + 'y.pdf')}`;
    r = await dav('MOVE', `${copy}/${urlPath(NAME)}`, { destination: moved });
    assert.equal(r.status, 201);
    assert.equal(decodeURIComponent(new URL(r.headers.get('location'), 'https://x').pathname),
      decodeURIComponent(moved));
    r = await dav('GET', moved);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'content');
    assert.equal(dispositionName(r.headers.get('content-disposition')).name, 'Σ'.repeat(125) + 'y.pdf');
  });
});
