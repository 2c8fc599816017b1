// GET /metrics: valid Prometheus text (checked by promtool from Debian's
// prometheus package), counters that follow the traffic, and who may
// scrape (loopback by default, an allow list, a bearer token).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync, symlinkSync, rmSync, readlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { withServer, tempDir, runConsort } from './lib/server.mjs';
import { recordSecret } from './lib/secrets.mjs';
import { consortium, api } from './lib/docs.mjs';
import { sql } from './lib/accounts.mjs';

// {name{labels}: value} from the exposition; labels kept verbatim.
function parse(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text });
  assert.equal(r.error, undefined, `promtool could not run: ${r.error}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function scrape(s, headers = {}) {
  const r = await s.fetch('/metrics', { headers });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return r.text();
}

// The blob walk runs in the background from start: wait for its figures.
async function scrapeWalked(s) {
  for (let i = 0; i < 100; i++) {
    const text = await scrape(s);
    if (text.includes('\nconsort_blobs ')) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('no blob figures in /metrics after 5 s');
}

test('metrics pass promtool and counters move with traffic', async () => {
  await withServer({}, async (s) => {
    const first = await scrapeWalked(s);
    const lint = promtool(first);
    assert.equal(lint.status, 0, lint.out);
    assert.equal(lint.out.trim(), '', `promtool found problems:\n${lint.out}`);
    const a = parse(first);

    for (let i = 0; i < 5; i++) assert.equal((await s.fetch('/healthz')).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await s.fetch(`/no/such/${i}`)).status, 404);
    assert.equal((await s.fetch('/healthz', { method: 'POST', body: 'x' })).status, 405);

    const second = await scrape(s);
    assert.equal(promtool(second).status, 0);
    const b = parse(second);
    const hz = 'consort_http_requests_total{method="GET",route="/healthz",code="200"}';
    assert.equal(b.get(hz) - (a.get(hz) ?? 0), 5);
    const nf = 'consort_http_requests_total{method="",route="unmatched",code="404"}';
    assert.equal(b.get(nf) - (a.get(nf) ?? 0), 3);
    assert.equal(b.get('consort_http_requests_total{method="",route="unmatched",code="405"}'), 1);
    // the first scrape itself was counted when it ended
    assert.ok(b.get('consort_http_requests_total{method="GET",route="/metrics",code="200"}') >= 1);
    const cnt = 'consort_http_request_duration_seconds_count{method="GET",route="/healthz"}';
    assert.equal(b.get(cnt) - (a.get(cnt) ?? 0), 5);
    assert.equal(b.get('consort_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"}'), b.get(cnt));
    const inb = 'consort_http_request_bytes_total{method="GET",route="/healthz"}';
    const outb = 'consort_http_response_bytes_total{method="GET",route="/healthz"}';
    assert.ok(b.get(inb) - (a.get(inb) ?? 0) >= 5 * 'GET /healthz HTTP/1.1\r\n'.length);
    assert.ok(b.get(outb) - (a.get(outb) ?? 0) >= 5 * '{"status":"ok"}'.length);
    assert.ok(b.get('consort_http_connections_open') >= 1);
    assert.ok(b.get('consort_tls_handshakes_total') >= 1);
    assert.ok(b.get('process_resident_memory_bytes') > 0);
    assert.ok(b.get('consort_data_filesystem_avail_bytes') > 0);
    // the blob walk runs at start: an empty store
    assert.equal(b.get('consort_blobs'), 0);
    assert.equal(b.get('consort_blob_bytes'), 0);
    // route labels come from the route table only: no raw paths
    assert.ok(![...b.keys()].some((k) => k.includes('/no/such')), 'raw paths leaked into labels');
    // the search figures: an empty queue and index
    assert.equal(b.get('consort_index_queue_depth'), 0);
    assert.equal(b.get('consort_extraction_failures_total'), 0);
    assert.equal(b.get('consort_index_documents'), 0);
  });
});

test('blob count follows the store: walked at start', async () => {
  const dataDir = tempDir();
  // Two blobs as the store keeps them (name = SHA-256 of the content).
  const put = (hex, bytes) => {
    mkdirSync(join(dataDir, 'blobs', hex.slice(0, 2), hex.slice(2, 4)), { recursive: true });
    writeFileSync(join(dataDir, 'blobs', hex.slice(0, 2), hex.slice(2, 4), hex), bytes);
  };
  put('a'.repeat(64), 'x'.repeat(1000));
  put('b'.repeat(64), 'y'.repeat(234));
  // not a blob name: not counted
  writeFileSync(join(dataDir, 'blobs', 'aa', 'aa', 'stray'), 'zzz');
  await withServer({ dataDir }, async (s) => {
    const m = parse(await scrapeWalked(s));
    assert.equal(m.get('consort_blobs'), 2);
    assert.equal(m.get('consort_blob_bytes'), 1234);
    assert.ok(m.get('consort_blob_walk_timestamp_seconds') > 1.7e9);
  });
  rmSync(dataDir, { recursive: true, force: true });
});

test('metrics are loopback-only by default; metrics-allow and a token decide', async () => {
  await withServer({ args: ['--metrics-allow', '10.0.0.0/8'] }, async (s) => {
    const r = await s.fetch('/metrics');
    assert.equal(r.status, 403);
    assert.equal((await r.json()).error, 'forbidden');
  });
  const dir = tempDir();
  const token = 'metrics-token-' + 'f00d'.repeat(8);
  recordSecret(token);
  writeFileSync(join(dir, 'token'), token + '\n', { mode: 0o600 });
  await withServer({ args: ['--metrics-allow', 'none', '--metrics-token-file', join(dir, 'token')] }, async (s) => {
    assert.equal((await s.fetch('/metrics')).status, 403);
    let r = await s.fetch('/metrics', { headers: { authorization: `Bearer ${token}x` } });
    assert.equal(r.status, 401);
    const body = await r.text();
    assert.ok(!body.includes(token), 'the token was echoed');
    await scrape(s, { authorization: `Bearer ${token}` });
    // /healthz stays public
    assert.equal((await s.fetch('/healthz')).status, 200);
    // the token never reaches the log
    assert.ok(!s.log.includes(token), 'the metrics token appears in the log');
  });
  rmSync(dir, { recursive: true, force: true });
});

// The states themselves are unit-tested (tests/unit/test_health.c): a
// running indexer repairs a missing or broken index within its poll
// interval, so here they can only be seen on the way back to ok.
test('healthz follows the search index, which the indexer repairs', async () => {
  await withServer({}, async (s) => {
    // the indexer makes an empty index at start
    let body = await (await s.fetch('/healthz')).json();
    assert.deepEqual(body, { status: 'ok', database: 'ok', blobs: 'ok', index: 'ok', gc: 'ok',
      mail: { state: 'ok', transport: 'folder', queued: 0, retrying: 0, failed: 0, last_error: '' } });
    const link = join(s.dataDir, 'index', 'current');
    const before = readlinkSync(link);
    symlinkSync('gen-that-is-gone', link + '.tmp');
    renameSync(link + '.tmp', link);
    const seen = new Set();
    for (let i = 0; i < 100; i++) {
      const r = await s.fetch('/healthz');
      assert.equal(r.status, 200, 'a broken index does not take the node out');
      body = await r.json();
      seen.add(`${body.status}/${body.index}`);
      if (body.index === 'ok') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(body.index, 'ok', `not repaired: ${[...seen]}`);
    for (const state of seen) assert.ok(['degraded/error', 'ok/ok'].includes(state), state);
    assert.notEqual(readlinkSync(link), before, 'a new generation');
  });
});

test('on the demo data the index fills, every document extracts, figures agree', async () => {
  const dataDir = join(tempDir(), 'data');
  const r = runConsort(['demo', '--data', dataDir]);
  assert.equal(r.status, 0, r.stderr);
  const docs = Number(/(\d+) documents in/.exec(r.stdout)[1]);
  await withServer({ dataDir }, async (s) => {
    let m;
    for (let i = 0; i < 600; i++) {
      m = parse(await scrape(s));
      if (m.get('consort_index_queue_depth') === 0 && m.get('consort_index_documents') === docs) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(m.get('consort_index_queue_depth'), 0, 'the index queue drains');
    assert.equal(m.get('consort_index_documents'), docs, 'every demo document is indexed');
    assert.equal(m.get('consort_extraction_failures_total'), 0, 'every demo document extracts');
    const walked = parse(await scrapeWalked(s));
    assert.ok(walked.get('consort_blobs') >= docs, 'blobs counted by the walk');
    assert.equal(promtool(await scrape(s)).status, 0);
  });
  rmSync(dataDir, { recursive: true, force: true });
});

test('uploads in progress and stored blobs move with uploads', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    let m = parse(await scrapeWalked(s));
    const blobs0 = m.get('consort_blobs');
    const bytes0 = m.get('consort_blob_bytes');
    assert.equal(m.get('consort_uploads_in_progress') ?? 0, 0);
    // a new document: one more blob, of its size, counted at once (over
    // the small-content threshold: smaller content lives in the database,
    // storage/smallblob.h, and is not a blob file)
    const body = 'metrics ' + 'x'.repeat(100 * 1024);
    let r = await api(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/m.txt', { body });
    assert.ok(r.status === 201 || r.status === 200, `PUT ${r.status}`);
    m = parse(await scrape(s));
    assert.equal(m.get('consort_blobs'), blobs0 + 1);
    assert.equal(m.get('consort_blob_bytes'), bytes0 + body.length);
    // the same content again is deduplicated: no new blob
    r = await api(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/m2.txt', { body });
    assert.ok(r.status === 201 || r.status === 200);
    assert.equal(parse(await scrape(s)).get('consort_blobs'), blobs0 + 1);

    // a tus PATCH whose body is still arriving is an upload in progress
    const meta = `wp ${Buffer.from('WP1').toString('base64')},path ${Buffer.from('up.bin').toString('base64')}`;
    r = await api(s, tokens.writer, 'POST', '/api/v1/uploads',
      { headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', 'Upload-Metadata': meta } });
    assert.equal(r.status, 201);
    const loc = new URL(r.headers.get('location'), s.url).pathname;
    const sock = await s.connect();
    const answer = new Promise((res) => { let t = ''; sock.on('data', (d) => { t += d; if (t.includes('\r\n\r\n')) res(t); }); });
    sock.write(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.writer}\r\n` +
      'Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n' +
      'Content-Length: 10\r\n\r\nabc');
    let active;
    for (let i = 0; i < 50 && active !== 1; i++) {
      active = parse(await scrape(s)).get('consort_uploads_in_progress');
      if (active !== 1) await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(active, 1);
    sock.write('defghij');
    assert.match(await answer, /^HTTP\/1\.1 204/);
    sock.destroy();
    for (let i = 0; i < 50 && active !== 0; i++) {
      active = parse(await scrape(s)).get('consort_uploads_in_progress');
      if (active !== 0) await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(active, 0);
    // ten bytes are small content: a row, not a blob file
    assert.equal(parse(await scrape(s)).get('consort_blobs'), blobs0 + 1);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM small_blobs')[0].n, 1);
  });
});

test('small content is counted at each walk: distinct contents in the database and their bytes, beside the blob files', async () => {
  // A short walk interval: the small-tier figures move at walks only.
  await withServer({ args: ['--metrics-blob-walk', '100ms'] }, async (s) => {
    let m = parse(await scrapeWalked(s));
    assert.equal(m.get('consort_small_blobs'), 0, 'counted at the walk at start');
    assert.equal(m.get('consort_small_blob_bytes'), 0);
    const { tokens } = await consortium(s);
    // Up to SMALLBLOB_MAX (64 KiB, storage/smallblob.h) content is a row
    // of small_blobs; one byte more is a blob file. c.txt repeats a.txt.
    const files = {
      'a.txt': 'alpha '.repeat(100),
      'b.txt': 'beta\n'.repeat(7),
      'c.txt': 'alpha '.repeat(100),
      'max.bin': 'm'.repeat(64 * 1024),
      'big.bin': 'n'.repeat(64 * 1024 + 1),
    };
    for (const [name, body] of Object.entries(files)) {
      const r = await api(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/${name}`, { body });
      assert.equal(r.status, 201, `PUT ${name}`);
    }
    const smallBytes = 600 + 35 + 64 * 1024;
    assert.equal(sql(s, 'SELECT count(*) AS n FROM small_blobs')[0].n, 3);
    // Three distinct contents can only be counted once all are stored,
    // so the bytes of the walk that shows 3 are exact.
    for (let i = 0; i < 100 && m.get('consort_small_blobs') !== 3; i++) {
      await new Promise((res) => setTimeout(res, 50));
      m = parse(await scrape(s));
    }
    assert.equal(m.get('consort_small_blobs'), 3, 'the duplicate is one content');
    assert.equal(m.get('consort_small_blob_bytes'), smallBytes);
    // consort_blobs keeps its meaning: blob files only
    assert.equal(m.get('consort_blobs'), 1);
    assert.equal(m.get('consort_blob_bytes'), 64 * 1024 + 1);
    assert.equal(promtool(await scrape(s)).status, 0);
    // the walk at start of the next run finds the same
    await s.restart();
    m = parse(await scrapeWalked(s));
    assert.equal(m.get('consort_small_blobs'), 3);
    assert.equal(m.get('consort_small_blob_bytes'), smallBytes);
    assert.equal(m.get('consort_blobs'), 1);
  });
});

test('consort_index_documents is the index\'s count right after a restart, before any upload', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    for (const name of ['a.txt', 'b.txt'])
      assert.equal((await api(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/${name}`, { body: `text of ${name}` })).status, 201);
    let m;
    for (let i = 0; i < 300; i++) {
      m = parse(await scrape(s));
      if (m.get('consort_index_documents') === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(m.get('consort_index_documents'), 2);
    await s.restart();
    m = parse(await scrape(s));
    assert.equal(m.get('consort_index_documents'), 2, 'read 0 after a restart before the fix');
  });
});
