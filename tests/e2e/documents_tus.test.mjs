// Resumable uploads (tus 1.0) with the real tus-js-client from npm in
// Node: a plain upload, a connection cut mid-way and resumed, the server
// killed mid-way and the upload resumed from the saved offset after the
// restart; and the protocol by hand: OPTIONS, checksums (460, the offset
// does not move), method override, termination, expiry, per-user limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { Upload } from 'tus-js-client';
import { withServer, Server, freePort, tempDir } from './lib/server.mjs';
import { sql, consort } from './lib/accounts.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function tusUpload(s, token, data, { path, comment, chunkSize, endpoint, onBeforeRequest, onAfterResponse, onChunkComplete, retryDelays } = {}) {
  return new Promise((resolve, reject) => {
    const up = new Upload(data, {
      endpoint: endpoint || `${s.url}/api/v1/uploads`,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { wp: 'WP1', path, comment: comment || '', filename: path.split('/').pop(), filetype: 'image/svg+xml' },
      chunkSize: chunkSize || Infinity,
      retryDelays: retryDelays || [100, 300, 600, 1000, 2000, 3000, 5000, 8000],
      onBeforeRequest,
      onAfterResponse,
      onChunkComplete,
      onError: reject,
      onSuccess: () => resolve(up),
    });
    up.start();
  });
}

test('tus-js-client: an upload becomes a version; the connection cut mid-way resumes', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const data = randomBytes(6 * 1024 * 1024);
    data.write('%PDF-1.5\n', 0);
    const up = await tusUpload(s, tokens.writer, data, { path: 'Deliverables/D2.1.pdf', comment: 'via tus' });
    assert.match(up.url, /\/api\/v1\/uploads\/[A-Za-z0-9_-]{43}$/);
    let r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/Deliverables/D2.1.pdf');
    assert.equal(r.status, 200);
    assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(data));
    let doc = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/tree/Deliverables/D2.1.pdf');
    assert.equal(doc.body.mime, 'application/pdf', 'from the bytes, not from filetype');
    assert.equal(doc.body.versions[0].comment, 'via tus');
    const audit = sql(s, "SELECT detail FROM audit WHERE action = 'upload'");
    assert.equal(audit.length, 1);
    assert.match(audit[0].detail, /resumable/);
    // HEAD after the end still answers: everything arrived, version 1.
    r = await api(s, tokens.writer, 'HEAD', new URL(up.url).pathname, { headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('upload-offset'), String(data.length));
    assert.equal(r.headers.get('x-consort-version'), '1');
    // Someone else's upload does not exist for them.
    r = await api(s, tokens.other, 'HEAD', new URL(up.url).pathname, { headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(r.status, 404);

    // A proxy that cuts the first upload connection after 5 MiB.
    const port = await freePort();
    const size2 = 8 * 1024 * 1024;
    let forwarded = 0, cuts = 0;
    const proxy = net.createServer(async (client) => {
      // After the cut the network stays down, as a real outage would,
      // until the server has noticed the dead connection and saved what
      // arrived (on a loaded machine that is not a fixed time).
      if (cuts) {
        client.pause();
        const deadline = Date.now() + 15000;
        while (!sql(s, `SELECT 1 FROM uploads WHERE length = ${size2} AND offset > 0`).length && Date.now() < deadline)
          await new Promise((res) => setTimeout(res, 100));
        client.resume();
      }
      const upstream = net.connect(s.port, '127.0.0.1');
      client.on('data', (d) => {
        forwarded += d.length;
        if (cuts === 0 && forwarded > 5 * 1024 * 1024) {
          cuts++;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(d);
      });
      upstream.on('data', (d) => client.write(d));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise((res) => proxy.listen(port, '127.0.0.1', res));
    try {
      const data2 = randomBytes(size2);
      const patches = [];
      await tusUpload(s, tokens.writer, data2, {
        path: 'Deliverables/big.bin',
        endpoint: `https://localhost:${port}/api/v1/uploads`,
        onBeforeRequest: (req) => { if (req.getMethod() === 'PATCH') patches.push(Number(req.getHeader('Upload-Offset'))); },
      });
      assert.equal(cuts, 1);
      assert.ok(patches.length >= 2, `resumed with a second PATCH: ${patches}`);
      assert.equal(patches[0], 0);
      assert.ok(patches[1] > 0, `the bytes that arrived before the cut were kept: resumed at ${patches[1]}`);
      r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/Deliverables/big.bin');
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(data2));
    } finally {
      proxy.close();
    }
  });
});

test('tus-js-client: the server killed mid-way, restarted, the upload resumes from the saved offset', async () => {
  const s = await new Server().start();
  try {
    const { tokens } = await consortium(s);
    const data = randomBytes(12 * 1024 * 1024);
    const patches = [];
    let killed = false, restarted = null;
    await tusUpload(s, tokens.writer, data, {
      path: 'restart/survivor.bin',
      chunkSize: 1024 * 1024,
      onBeforeRequest: (req) => { if (req.getMethod() === 'PATCH') patches.push(Number(req.getHeader('Upload-Offset'))); },
      onChunkComplete: (chunk, accepted) => {
        if (!killed && accepted >= 4 * 1024 * 1024) {
          killed = true;
          // SIGKILL: nothing is flushed on the way out; only what was
          // made durable before each answer counts.
          s.proc.kill('SIGKILL');
          restarted = s.exited.then(() => { s.proc = null; return s.start(); });
        }
      },
    });
    assert.ok(killed);
    await restarted;
    const resumedAt = patches.find((p, i) => i > 0 && p <= patches[i - 1]) ?? patches[patches.length - 1];
    assert.ok(resumedAt >= 4 * 1024 * 1024, `resumed from the saved offset (${resumedAt}), not from 0: ${patches}`);
    const r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/restart/survivor.bin');
    assert.equal(r.status, 200);
    assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(data));
    assert.equal(sql(s, 'SELECT count(*) AS n FROM versions')[0].n, 1);
  } finally {
    await s.close();
  }
});

const TUS = { 'Tus-Resumable': '1.0.0' };
const b64 = (t) => Buffer.from(t).toString('base64');

async function create(s, token, length, meta, extra = {}) {
  const metadata = Object.entries(meta).map(([k, v]) => (v === null ? k : `${k} ${b64(v)}`)).join(',');
  return api(s, token, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': String(length), 'Upload-Metadata': metadata, ...extra } });
}

function patch(s, token, loc, offset, body, headers = {}) {
  return api(s, token, 'PATCH', loc, { headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers }, body });
}

test('tus by hand: OPTIONS, checksums (460 keeps the offset), override, termination, expiry, limits', async () => {
  await withServer({ args: ['--uploads-per-user', '3', '--upload-bytes-per-user', '1M', '--max-upload', '4M'] }, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer;

    let r = await s.fetch('/api/v1/uploads', { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('tus-version'), '1.0.0');
    assert.equal(r.headers.get('tus-resumable'), '1.0.0');
    assert.deepEqual(r.headers.get('tus-extension').split(','), ['creation', 'creation-with-upload', 'termination', 'expiration', 'checksum']);
    assert.equal(r.headers.get('tus-max-size'), String(4 * 1024 * 1024));
    assert.equal(r.headers.get('tus-checksum-algorithm'), 'sha1,sha256');
    assert.match(r.headers.get('access-control-expose-headers'), /Upload-Offset/);
    assert.match(r.headers.get('access-control-expose-headers'), /Location/);

    // Refusals from the headers.
    r = await api(s, w, 'POST', '/api/v1/uploads', { headers: { 'Upload-Length': '5' } });
    assert.equal(r.status, 412, 'Tus-Resumable is required');
    assert.equal(r.headers.get('tus-version'), '1.0.0');
    r = await create(s, w, 5 * 1024 * 1024, { wp: 'WP1', path: 'big' });
    assert.equal(r.status, 413);
    r = await create(s, tokens.reader, 5, { wp: 'WP1', path: 'x' });
    assert.equal(r.status, 403, 'a reader cannot upload');
    r = await create(s, tokens.outsider, 5, { wp: 'WP1', path: 'x' });
    assert.equal(r.status, 404);
    r = await create(s, w, 5, { wp: 'WP1', path: '../etc/passwd' });
    assert.equal(r.status, 400);
    r = await create(s, w, 5, { wp: 'WP1' });
    assert.equal(r.status, 400);
    r = await s.fetch('/api/v1/uploads', { method: 'POST', headers: { ...TUS, 'Upload-Length': '5', 'Upload-Metadata': `wp ${b64('WP1')},path ${b64('a')}` } });
    assert.equal(r.status, 401, 'anonymous');

    // Checksums: sha1 and sha256; a wrong one is 460 and the offset stays.
    r = await create(s, w, 10, { wp: 'WP1', path: 'sums/ten.txt', comment: 'ten bytes', filename: 'evil.html', filetype: 'text/html', flag: null });
    assert.equal(r.status, 201);
    const loc = r.headers.get('location');
    assert.ok(r.headers.get('upload-expires'));
    const sha1 = (t) => createHash('sha1').update(t).digest('base64');
    const sha2 = (t) => createHash('sha256').update(t).digest('base64');
    r = await patch(s, w, loc, 0, 'hello', { 'Upload-Checksum': `sha1 ${sha1('hello')}` });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('upload-offset'), '5');
    r = await patch(s, w, loc, 5, 'WORLD', { 'Upload-Checksum': `sha256 ${sha2('world')}` });
    assert.equal(r.status, 460);
    r = await api(s, w, 'HEAD', loc, { headers: TUS });
    assert.equal(r.headers.get('upload-offset'), '5', 'the offset did not move');
    assert.equal(r.headers.get('upload-length'), '10');
    r = await patch(s, w, loc, 5, 'world', { 'Upload-Checksum': `md5 ${b64('x')}` });
    assert.equal(r.status, 400, 'unsupported algorithm');
    r = await patch(s, w, loc, 3, 'world');
    assert.equal(r.status, 409, 'wrong offset');
    assert.equal(r.headers.get('upload-offset'), '5');
    r = await patch(s, w, loc, 5, 'world', { 'Content-Type': 'application/octet-stream' });
    assert.equal(r.status, 415);
    r = await patch(s, tokens.other, loc, 5, 'world');
    assert.equal(r.status, 404, "someone else's upload");
    // The last bytes through X-HTTP-Method-Override commit the version.
    r = await api(s, w, 'POST', loc, { headers: { ...TUS, 'X-HTTP-Method-Override': 'PATCH', 'Upload-Offset': '5', 'Content-Type': 'application/offset+octet-stream', 'Upload-Checksum': `sha256 ${sha2('world')}` }, body: 'world' });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('upload-offset'), '10');
    assert.equal(r.headers.get('x-consort-version'), '1');
    r = await api(s, w, 'GET', '/api/v1/wps/WP1/content/sums/ten.txt');
    assert.equal(await r.text(), 'helloworld');
    assert.equal(r.headers.get('content-type'), 'text/plain');

    // creation-with-upload, and a new version of the same document.
    r = await api(s, w, 'POST', '/api/v1/uploads', { headers: { ...TUS, 'Upload-Length': '4', 'Upload-Metadata': `wp ${b64('WP1')},path ${b64('sums/ten.txt')}`, 'Content-Type': 'application/offset+octet-stream' }, body: 'v2!!' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('upload-offset'), '4');
    assert.equal(r.headers.get('x-consort-version'), '2');

    // Termination.
    r = await create(s, w, 100, { wp: 'WP1', path: 'gone.txt' });
    const loc2 = r.headers.get('location');
    r = await patch(s, w, loc2, 0, 'partial');
    assert.equal(r.status, 204);
    const id2 = loc2.split('/').pop();
    assert.ok(existsSync(`${s.dataDir}/uploads/${id2}`));
    r = await api(s, w, 'DELETE', loc2, { headers: TUS });
    assert.equal(r.status, 204);
    assert.ok(!existsSync(`${s.dataDir}/uploads/${id2}`));
    r = await api(s, w, 'HEAD', loc2, { headers: TUS });
    assert.equal(r.status, 404);

    // Expiry: an expired upload is removed with its file.
    r = await create(s, w, 100, { wp: 'WP1', path: 'late.txt' });
    const loc3 = r.headers.get('location');
    await patch(s, w, loc3, 0, 'some');
    const id3 = loc3.split('/').pop();
    sql(s, `UPDATE uploads SET expires_at = 1 WHERE id = '${id3}'`);
    r = await patch(s, w, loc3, 4, 'more');
    assert.equal(r.status, 410);
    assert.ok(!existsSync(`${s.dataDir}/uploads/${id3}`));
    assert.equal(sql(s, `SELECT count(*) AS n FROM uploads WHERE id = '${id3}'`)[0].n, 0);

    // Per-user limits: 3 unfinished uploads, 1 MiB announced together.
    const open = [];
    for (let i = 0; i < 3; i++) {
      r = await create(s, w, 1000, { wp: 'WP1', path: `open${i}` });
      assert.equal(r.status, 201);
      open.push(r.headers.get('location'));
    }
    r = await create(s, w, 1000, { wp: 'WP1', path: 'one-too-many' });
    assert.equal(r.status, 429);
    assert.match((await r.json()).detail, /unfinished uploads/);
    r = await create(s, tokens.other, 1000, { wp: 'WP1', path: 'theirs' });
    assert.equal(r.status, 201, 'the limit is per user');
    await api(s, w, 'DELETE', open[0], { headers: TUS });
    r = await create(s, w, 1024 * 1024, { wp: 'WP1', path: 'too-big-together' });
    assert.equal(r.status, 429);
    assert.match((await r.json()).detail, /total/);
  });
});

// A relative --data used to refuse every chunk of a chunked upload
// ("partial upload path must be absolute"): the data directory is made
// absolute once at start.
test('tus with a relative --data: a chunked upload in three PATCHes, downloaded exactly', async () => {
  const cwd = tempDir('consort-cwd-');
  const s = await new Server({ dataDir: join(cwd, 'data'), cwd }).start();
  try {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    const data = randomBytes(200 * 1024);
    let r = await create(s, w, data.length, { wp: 'WP1', path: 'relative/chunked.bin' });
    assert.equal(r.status, 201);
    const loc = r.headers.get('location');
    for (const [from, to] of [[0, 80 * 1024], [80 * 1024, 160 * 1024], [160 * 1024, data.length]]) {
      r = await patch(s, w, loc, from, data.subarray(from, to));
      assert.equal(r.status, 204, `PATCH at ${from}: ${await r.text()}`);
      assert.equal(r.headers.get('upload-offset'), String(to));
    }
    assert.equal(r.headers.get('x-consort-version'), '1');
    r = await api(s, tokens.reader, 'GET', '/api/v1/wps/WP1/content/relative/chunked.bin');
    assert.equal(r.status, 200);
    assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(data));
  } finally {
    await s.close();
    rmSync(cwd, { recursive: true, force: true });
  }
});

// The last PATCH of a chunked upload whose commit failed (here: the work
// package's quota, filled meanwhile) used to lose every chunk before it:
// the partial file was removed while the row kept its offset, so the
// client's retry met "the server holds 0 bytes". The bytes before that
// request are kept: HEAD shows the recorded offset, the last chunk sent
// again once the quota is raised commits, and the download is exact.
test('tus: a chunked upload whose final PATCH fails (quota) resumes from the recorded offset', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    consort(s, ['wp', 'set', '--code', 'WP1', '--quota', '400K']);
    // One upload past the small-content size (the commit stores its
    // partial file as a blob), one within it (its bytes go to the
    // database with the version).
    const uploads = [
      { name: 'big.bin', data: randomBytes(300 * 1024), chunks: [150 * 1024, 250 * 1024] },
      { name: 'small.bin', data: randomBytes(60 * 1024), chunks: [30 * 1024] },
    ];
    let r;
    for (const u of uploads) {
      r = await create(s, w, u.data.length, { wp: 'WP1', path: `quota/${u.name}` });
      assert.equal(r.status, 201);
      u.loc = r.headers.get('location');
      u.file = `${s.dataDir}/uploads/${u.loc.split('/').pop()}`;
      let from = 0;
      for (const to of u.chunks) {
        r = await patch(s, w, u.loc, from, u.data.subarray(from, to));
        assert.equal(r.status, 204);
        from = to;
      }
      u.cut = from;
    }
    // Meanwhile someone else fills the work package.
    r = await api(s, tokens.other, 'PUT', '/api/v1/wps/WP1/content/filler.bin', { body: randomBytes(350 * 1024) });
    assert.ok(r.status === 200 || r.status === 201, `filler: ${r.status}`);
    for (const u of uploads) {
      r = await patch(s, w, u.loc, u.cut, u.data.subarray(u.cut));
      assert.equal(r.status, 507, `${u.name}: the commit is over the quota`);
      assert.match((await r.json()).detail, /quota/);
      assert.equal(r.headers.get('upload-offset'), String(u.cut), `${u.name}: the failure says where to resume`);
      r = await api(s, w, 'HEAD', u.loc, { headers: TUS });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('upload-offset'), String(u.cut), `${u.name}: HEAD gives the recorded offset`);
      assert.equal(statSync(u.file).size, u.cut, `${u.name}: the partial file holds exactly that`);
    }
    consort(s, ['wp', 'set', '--code', 'WP1', '--quota', '2M']);
    for (const u of uploads) {
      r = await patch(s, w, u.loc, u.cut, u.data.subarray(u.cut));
      assert.equal(r.status, 204, `${u.name}: the last chunk again: ${await r.text()}`);
      assert.equal(r.headers.get('upload-offset'), String(u.data.length));
      assert.equal(r.headers.get('x-consort-version'), '1');
      r = await api(s, tokens.reader, 'GET', `/api/v1/wps/WP1/content/quota/${u.name}`);
      assert.equal(r.status, 200);
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), sha256(u.data), `${u.name}: exact`);
      assert.ok(!existsSync(u.file), `${u.name}: the partial file is gone with the commit`);
    }
  });
});

// A long PATCH records its offset every 32 MiB, and a PATCH that is not
// the last one at its end: each a flush of the partial file. On a slow
// disk that takes long, and it happens on a disk thread: the loop that
// reads the body goes on answering everyone else (one loop here, and
// every flush of a partial file made 1.5 s slower by a preloaded shim).
test('tus: the flushes of a long PATCH do not hold up the other requests of its loop', async () => {
  const shim = join(tempDir('consort-slowsync-'), 'slowsync.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', shim, join(here, '..', 'fixtures', 'slowsync.c'), '-ldl']);
  const env = {
    LD_PRELOAD: shim, SLOWSYNC_MATCH: '/uploads/', SLOWSYNC_MS: '1500',
    ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? process.env.ASAN_OPTIONS + ':' : ''}verify_asan_link_order=0`,
  };
  await withServer({ args: ['--workers', '1'], env }, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    const data = randomBytes(48 * 1024 * 1024);
    const first = 40 * 1024 * 1024;
    const meta = `wp ${Buffer.from('WP1').toString('base64')},path ${Buffer.from('slow/disk.bin').toString('base64')}`;
    let r = await api(s, w, 'POST', '/api/v1/uploads', { headers: { 'tus-resumable': '1.0.0', 'upload-length': String(data.length), 'upload-metadata': meta } });
    assert.equal(r.status, 201);
    const loc = new URL(r.headers.get('location'), s.url).pathname;
    const patch = (offset, body) => api(s, w, 'PATCH', loc, { headers: { 'tus-resumable': '1.0.0', 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body });
    let writing = true;
    const waits = [];
    const probe = (async () => {
      while (writing) {
        const t0 = performance.now();
        assert.equal((await s.fetch('/healthz')).status, 200);
        waits.push(Math.round(performance.now() - t0));
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const t0 = performance.now();
    r = await patch(0, data.subarray(0, first)); // past 32 MiB, and not the last
    const took = performance.now() - t0;
    writing = false;
    await probe;
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('upload-offset'), String(first));
    assert.ok(took >= 3000, `both flushes were slowed (${Math.round(took)} ms)`);
    assert.ok(Math.max(...waits) < 1000, `/healthz waited for a flush: ${waits.join(' ')} ms`);
    r = await patch(first, data.subarray(first));
    assert.equal(r.status, 204);
    const got = await api(s, w, 'GET', '/api/v1/wps/WP1/content/slow/disk.bin');
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(data));
  });
});

// A slow line: under 32 MiB a PATCH's bytes would be made durable only
// at its end. upload-sync-interval bounds that in time, so what a crash
// may lose is bounded, and HEAD from another client shows the progress.
test('tus: a slow PATCH has its bytes made durable every upload-sync-interval', async () => {
  await withServer({ args: ['--upload-sync-interval', '1s'] }, async (s) => {
    const { tokens } = await consortium(s);
    const w = tokens.writer;
    const data = randomBytes(300 * 1024);
    const meta = `wp ${Buffer.from('WP1').toString('base64')},path ${Buffer.from('slow/line.bin').toString('base64')}`;
    let r = await api(s, w, 'POST', '/api/v1/uploads', { headers: { 'tus-resumable': '1.0.0', 'upload-length': String(data.length), 'upload-metadata': meta } });
    assert.equal(r.status, 201);
    const loc = new URL(r.headers.get('location'), s.url).pathname;
    const head = async () => Number((await api(s, w, 'HEAD', loc, { headers: { 'tus-resumable': '1.0.0' } })).headers.get('upload-offset'));
    const body = new Readable({ read() {} });
    const answer = api(s, w, 'PATCH', loc, { headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body });
    const sent = [];
    for (let i = 0; i < 3; i++) {
      body.push(data.subarray(i * 100 * 1024, (i + 1) * 100 * 1024));
      await new Promise((res) => setTimeout(res, 1300));
      sent.push(await head());
    }
    body.push(null);
    r = await answer;
    // the bytes of each second, recorded by the next that came, while the PATCH was open
    assert.ok(sent[1] >= 100 * 1024 && sent[2] >= 200 * 1024, `offsets while sending: ${sent}`);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('upload-offset'), String(data.length));
    const got = await api(s, w, 'GET', '/api/v1/wps/WP1/content/slow/line.bin');
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(data));
  });
});
