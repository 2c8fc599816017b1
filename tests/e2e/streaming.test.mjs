// Large bodies in both directions with constant server memory: a chunked
// upload of 2 GiB into the test sink and a 1 GiB Range download.
// Under sanitizers (CONSORT_SANITIZED=1) the sizes shrink, the checks don't.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import https from 'node:https';
import { Server } from './lib/server.mjs';

const GiB = 1024 ** 3;
const scale = process.env.CONSORT_SANITIZED ? 1 / 4 : 1;
let s;
before(async () => { s = await new Server({ args: ['--test-hooks', '--max-upload', '4G'] }).start(); });
after(async () => { await s.close(); });

// Bytes [start, start+len) of the test source's pattern: byte i = i mod 251.
const PIECE = 1 << 20;
const period = Buffer.alloc(PIECE + 251); // any window of PIECE bytes starts within it
for (let i = 0; i < period.length; i++) period[i] = i % 251;
function* pattern(start, len, piece = PIECE) {
  let pos = start;
  const end = start + len;
  while (pos < end) {
    const n = Math.min(piece, end - pos);
    const off = pos % 251;
    yield period.subarray(off, off + n);
    pos += n;
  }
}

function sampleRss(server) {
  const base = server.rssKiB();
  let peak = base;
  const t = setInterval(() => { peak = Math.max(peak, server.rssKiB()); }, 50);
  return () => { clearInterval(t); return peak - base; };
}

test('a 2 GiB chunked upload streams through with flat server memory', async () => {
  const total = Math.round(2 * GiB * scale);
  const stop = sampleRss(s);
  const sent = createHash('sha256');
  const result = await new Promise((resolve, reject) => {
    const req = https.request(`${s.url}/_test/sink`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' } },
      (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode, body: b })); });
    req.on('error', reject);
    const gen = pattern(0, total);
    const pump = () => {
      for (;;) {
        const { value, done } = gen.next();
        if (done) { req.end(); return; }
        sent.update(value);
        if (!req.write(value)) { req.once('drain', pump); return; }
      }
    };
    pump();
  });
  const grown = stop();
  assert.equal(result.status, 200, result.body);
  const body = JSON.parse(result.body);
  assert.equal(body.bytes, total);
  assert.equal(body.sha256, sent.digest('hex'));
  assert.ok(grown < 32 * 1024, `server RSS grew by ${grown} KiB`);
});

test('a 1 GiB Range download streams with flat server memory', async () => {
  const size = Math.round(2 * GiB * scale);
  const first = Math.round(GiB / 2 * scale) + 7;
  const len = Math.round(GiB * scale);
  const stop = sampleRss(s);
  const got = createHash('sha256');
  let n = 0;
  const res = await fetch(`${s.url}/_test/source?size=${size}`, { headers: { Range: `bytes=${first}-${first + len - 1}` } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes ${first}-${first + len - 1}/${size}`);
  for await (const chunk of res.body) { got.update(chunk); n += chunk.length; }
  const grown = stop();
  const want = createHash('sha256');
  for (const piece of pattern(first, len)) want.update(piece);
  assert.equal(n, len);
  assert.equal(got.digest('hex'), want.digest('hex'));
  assert.ok(grown < 32 * 1024, `server RSS grew by ${grown} KiB`);
});
