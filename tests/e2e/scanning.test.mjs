// Malware scanning (docs/scanning.md) against a real clamd started here:
// its own config in a temp dir, a unix socket, and a signature database
// made in the test from the EICAR string (an .ndb body signature, no
// download). Every way in: API PUT (plain and chunked), tus (EICAR split
// across PATCHes), WebDAV PUT; plain, zipped and inside a DOCX; a clean
// file of each kind; over StreamMaxLength under both policies; clamd
// stopped mid-upload, and a chunked tus upload resumed once it is back;
// rescan finding a blob a newly added signature matches (clamd RELOAD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { withServer, tempDir, runConsort } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';
import { zipStored, docxWithXml } from './lib/search.mjs';
import { EICAR, startClamd } from './lib/clamd.mjs';

const blobPath = (s, hash) => join(s.dataDir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);

function basic(email, token) {
  return `Basic ${Buffer.from(`${email}:${token}`).toString('base64')}`;
}

let lastTus = null;
async function tusPut(s, token, path, parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const meta = `wp ${Buffer.from('WP1').toString('base64')},path ${Buffer.from(path).toString('base64')}`;
  let r = await api(s, token, 'POST', '/api/v1/uploads', { headers: { 'tus-resumable': '1.0.0', 'upload-length': String(total), 'upload-metadata': meta } });
  assert.equal(r.status, 201);
  const loc = new URL(r.headers.get('location'), s.url).pathname;
  lastTus = loc;
  let off = 0;
  for (const p of parts) {
    r = await api(s, token, 'PATCH', loc, { headers: { 'tus-resumable': '1.0.0', 'upload-offset': String(off), 'content-type': 'application/offset+octet-stream' }, body: p });
    off += p.length;
  }
  return r; // the last PATCH's answer
}

function chunked(buf) {
  return Readable.from((function* () { for (let i = 0; i < buf.length; i += 7) yield buf.subarray(i, i + 7); })());
}

async function metric(s, name) {
  const text = await (await s.fetch('/metrics')).text();
  const m = text.match(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : null;
}

test('scanning: infected refused on every way in, clean kept, rescan, clamd stopped', async () => {
  const clamd = await startClamd();
  try {
    await withServer({ args: ['--clamd-socket', clamd.sock, '--clamd-wait', '500ms'] }, async (s) => {
      const { tokens, emails } = await consortium(s);
      const w = tokens.writer;
      const refused = async (r, what) => {
        const body = r instanceof Response ? await r.json() : r.body;
        assert.equal(r.status, 422, what);
        assert.equal(body.error, 'infected', what);
        assert.match(body.detail, /Eicar-Test-Signature/, what);
      };
      const zip = zipStored({ 'readme.txt': 'hello', 'eicar.com': EICAR });
      const docx = docxWithXml(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${EICAR.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</w:t></w:r></w:p></w:body></w:document>`);
      const cleanZip = zipStored({ 'readme.txt': 'hello' });
      const cleanDocx = docxWithXml('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>fine</w:t></w:r></w:p></w:body></w:document>');

      // API PUT: plain, zipped, inside a DOCX; and the clean ones.
      for (const [name, bad, good] of [['eicar.txt', Buffer.from(EICAR), Buffer.from('plain clean text\n')],
        ['a.zip', zip, cleanZip], ['d.docx', docx, cleanDocx]]) {
        await refused(await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/put/${name}`, { body: bad }), `PUT ${name}`);
        assert.equal(existsSync(blobPath(s, sha256(bad))), false, `${name}: no blob kept`);
        const ok = await apiJson(s, w, 'PUT', `/api/v1/wps/WP1/content/put/clean-${name}`, { body: good });
        assert.equal(ok.status, 201, `clean ${name}`);
        assert.equal(ok.body.scan, 'clean');
      }
      let r = await api(s, w, 'GET', '/api/v1/wps/WP1/content/put/eicar.txt');
      assert.equal(r.status, 404, 'nothing visible after a refusal');
      const doc = await apiJson(s, w, 'GET', '/api/v1/wps/WP1/tree/put/clean-a.zip');
      assert.equal(doc.body.scan, 'clean');
      assert.equal(doc.body.versions[0].scan, 'clean');

      // Chunked PUT.
      await refused(await api(s, w, 'PUT', '/api/v1/wps/WP1/content/chunked/e.bin', { body: chunked(zip) }), 'chunked PUT');
      r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/chunked/ok.bin', { body: chunked(Buffer.from('chunked but clean')) });
      assert.equal(r.status, 201);

      // tus: EICAR split across two PATCHes; the verdict comes with the last.
      const half = Math.floor(EICAR.length / 2);
      await refused(await tusPut(s, w, 'tus/eicar.txt', [Buffer.from(EICAR.slice(0, half)), Buffer.from(EICAR.slice(half))]), 'tus');
      // The refused upload is over: nothing to resume, and none of its
      // bytes stay in a partial file (a refusal is final; other failed
      // commits keep the bytes before the last request).
      assert.equal((await api(s, w, 'HEAD', lastTus, { headers: { 'tus-resumable': '1.0.0' } })).status, 404);
      assert.ok(!existsSync(join(s.dataDir, 'uploads', lastTus.split('/').pop())));
      r = await tusPut(s, w, 'tus/ok.txt', [Buffer.from('two '), Buffer.from('clean halves')]);
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('x-consort-scan'), 'clean');
      assert.equal((await api(s, w, 'GET', '/api/v1/wps/WP1/content/tus/eicar.txt')).status, 404);

      // WebDAV PUT.
      const auth = { authorization: basic(emails.writer, w) };
      r = await s.fetch('/dav/WP1/dav-eicar.docx', { method: 'PUT', headers: auth, body: docx });
      assert.equal(r.status, 422);
      assert.match(await r.text(), /Eicar-Test-Signature/);
      r = await s.fetch('/dav/WP1/dav-ok.docx', { method: 'PUT', headers: auth, body: cleanDocx });
      assert.equal(r.status, 201);

      // Audited: each refusal, and the managers told (an audit record).
      const audit = sql(s, "SELECT action, detail FROM audit WHERE action IN ('upload_refused', 'malware_found')");
      assert.equal(audit.filter((a) => a.action === 'upload_refused').length, 6);
      assert.equal(audit.filter((a) => a.action === 'malware_found').length, 6);
      assert.ok(audit.every((a) => /Eicar-Test-Signature/.test(a.detail)));
      // The work package's managers are told: an event in the activity
      // feed (and notification mail) that only managers see.
      const feed = async (who) => (await apiJson(s, tokens[who], 'GET', '/api/v1/activity?wp=WP1&limit=200')).body.groups;
      const malware = (groups) => groups.filter((g) => g.action === 'malware_found');
      const seen = malware(await feed('manager'));
      assert.ok(seen.length >= 1, 'the manager sees it');
      assert.match(seen[0].text, /upload refused as malware/);
      assert.equal(malware(await feed('writer')).length, 0, 'a writer does not');
      assert.equal(malware(await feed('reader')).length, 0, 'a reader does not');

      // Dedup: the same clean content again is not sent to clamd.
      const cachedBefore = await metric(s, 'consort_scan_verdicts_total{verdict="clean_cached"}');
      r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/put/again.txt', { body: Buffer.from('plain clean text\n') });
      assert.equal(r.status, 201);
      assert.equal(await metric(s, 'consort_scan_verdicts_total{verdict="clean_cached"}'), cachedBefore + 1);
      assert.equal(await metric(s, 'consort_scan_verdicts_total{verdict="infected"}'), 6);
      assert.equal(await metric(s, 'consort_scanner_up'), 1);
      assert.ok(await metric(s, 'consort_scan_seconds_count') >= 7);
      // The scanner's figures are valid exposition (promtool, as metrics.test.mjs).
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: await (await s.fetch('/metrics')).text() });
      assert.equal(lint.error, undefined, `promtool could not run: ${lint.error}`);
      assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'promtool found problems');
      assert.equal(lint.status, 0);
      const h = await (await s.fetch('/healthz')).json();
      assert.equal(h.scanner, 'ok');

      // Over StreamMaxLength (1 MiB here), default policy refuse.
      const big = Buffer.alloc(1536 * 1024, 'a');
      r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/big.txt', { body: big });
      assert.equal(r.status, 422);
      assert.equal(r.body.error, 'unscannable');
      assert.equal(existsSync(blobPath(s, sha256(big))), false);

      // Rescan: a signature added later matches content already stored.
      const marker = 'consort-rescan-marker-9f1c';
      r = await apiJson(s, w, 'PUT', '/api/v1/wps/WP1/content/later.txt', { body: Buffer.from(`old ${marker} content`) });
      assert.equal(r.status, 201);
      await clamd.addSignature('Consort.Test.Later', marker);
      const rs = runConsort(['rescan', '--data', s.dataDir, '--clamd-socket', clamd.sock, '--rate', '0']);
      assert.equal(rs.status, 3, rs.stderr);
      assert.match(rs.stdout, new RegExp(`infected ${sha256(Buffer.from(`old ${marker} content`))} Consort.Test.Later`));
      assert.match(rs.stdout, /nothing was deleted/);
      assert.equal((await api(s, w, 'GET', '/api/v1/wps/WP1/content/later.txt')).status, 200, 'rescan deletes nothing');
      assert.equal((await apiJson(s, w, 'GET', '/api/v1/wps/WP1/tree/later.txt')).body.scan, 'infected');

      // Restore from an outside backup: what comes in is scanned too.
      const outside = tempDir('consort-backup-');
      try {
        let b = runConsort(['backup', join(outside, 'b'), '--data', s.dataDir]);
        assert.equal(b.status, 0, b.stderr);
        b = runConsort(['restore', join(outside, 'b'), '--data', join(outside, 'restored'), '--clamd-socket', clamd.sock]);
        assert.equal(b.status, 3, b.stderr);
        assert.match(b.stdout, /Consort.Test.Later/);
        assert.match(b.stdout, /nothing was deleted/);
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }

      // clamd stopped mid-upload: 503, nothing stored.
      const tail = Buffer.from('the rest of a clean upload');
      const body = new Readable({ read() {} });
      const pending = api(s, w, 'PUT', '/api/v1/wps/WP1/content/midway.txt', { body });
      body.push(Buffer.from('first part, '));
      await new Promise((res) => setTimeout(res, 200));
      await clamd.stop();
      body.push(tail);
      body.push(null);
      r = await pending;
      assert.equal(r.status, 503);
      assert.equal((await r.json()).error, 'scanner_unavailable');
      assert.equal((await api(s, w, 'GET', '/api/v1/wps/WP1/content/midway.txt')).status, 404);
      assert.equal((await (await s.fetch('/healthz')).json()).scanner, 'unreachable');

      // A chunked tus upload whose last PATCH finds clamd down keeps the
      // chunks before it (a scanner that could not be asked refused
      // nothing): 503 with the old offset, and the last chunk is sent again
      // once clamd is back. 100 KiB is kept from its stored blob, 12 bytes
      // from memory (the small tier).
      // While the last PATCH waits for clamd (clamd-wait), a second one
      // sent meanwhile, as a client that timed out would, is kept out
      // (423) rather than taking the upload from under the commit.
      const tusHead = (loc) => api(s, w, 'HEAD', loc, { headers: { 'tus-resumable': '1.0.0' } });
      const tusPatch = (loc, offset, body) => api(s, w, 'PATCH', loc, { headers: { 'tus-resumable': '1.0.0', 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body });
      const waiting = [];
      for (const parts of [[Buffer.alloc(70 * 1024, 'k'), Buffer.alloc(30 * 1024, 'm')], [Buffer.from('abcd'), Buffer.from('efghijkl')]]) {
        const name = `tus/after-outage-${parts[0].length}.txt`;
        lastTus = null;
        const committing = tusPut(s, w, name, parts);
        while (!(lastTus && (await tusHead(lastTus)).headers.get('upload-offset') === String(parts[0].length))) await new Promise((res) => setTimeout(res, 20));
        await new Promise((res) => setTimeout(res, 100));
        const second = await tusPatch(lastTus, parts[0].length, parts[1]);
        assert.equal(second.status, 423, `${name}: a second PATCH during the commit`);
        r = await committing;
        assert.equal(r.status, 503, name);
        assert.equal((await r.json()).error, 'scanner_unavailable');
        assert.equal(r.headers.get('upload-offset'), String(parts[0].length), name);
        const h = await tusHead(lastTus);
        assert.equal(h.status, 200, name);
        assert.equal(h.headers.get('upload-offset'), String(parts[0].length), name);
        assert.equal((await api(s, w, 'GET', `/api/v1/wps/WP1/content/${name}`)).status, 404);
        waiting.push({ name, parts, loc: lastTus });
      }
      await clamd.start();
      for (const { name, parts, loc } of waiting) {
        r = await tusPatch(loc, parts[0].length, parts[1]);
        assert.equal(r.status, 204, name);
        assert.equal(r.headers.get('x-consort-scan'), 'clean', name);
        const got = await api(s, w, 'GET', `/api/v1/wps/WP1/content/${name}`);
        assert.equal(got.status, 200, name);
        assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(Buffer.concat(parts)), name);
      }
    });
  } finally {
    await clamd.stop();
    clamd.cleanup();
  }
});

// /healthz asks clamd whether it is there; a hung clamd (stopped: the
// socket still takes connections, nothing answers) must not hold the
// event loop that answers it for the question's timeout (1 s), nor an
// upload for clamd-timeout (2 minutes): it waits clamd-wait, then 503.
test('scanning: a hung clamd shows in /healthz without holding it; uploads wait clamd-wait', async () => {
  const clamd = await startClamd();
  try {
    await withServer({ args: ['--clamd-socket', clamd.sock, '--workers', '1', '--clamd-wait', '1s'] }, async (s) => {
      const { tokens } = await consortium(s);
      const health = async () => {
        const t0 = performance.now();
        const h = await (await s.fetch('/healthz')).json();
        return { ms: performance.now() - t0, scanner: h.scanner };
      };
      assert.equal((await health()).scanner, 'ok');
      clamd.signal('SIGSTOP');
      const seen = [];
      const until = Date.now() + 15000;
      while (Date.now() < until && seen.at(-1)?.scanner !== 'unreachable') {
        seen.push(await health());
        await new Promise((res) => setTimeout(res, 250));
      }
      assert.equal(seen.at(-1).scanner, 'unreachable', JSON.stringify(seen));
      assert.ok(seen.length >= 3, 'it was asked while clamd hung');
      const slowest = Math.max(...seen.map((x) => x.ms));
      assert.ok(slowest < 800, `/healthz waited for the hung clamd: ${JSON.stringify(seen)}`);
      const t0 = Date.now();
      const up = await s.fetch('/api/v1/wps/WP1/content/while-hung.txt', {
        method: 'PUT', headers: { authorization: `Bearer ${tokens.writer}` }, body: 'hello', signal: AbortSignal.timeout(30000),
      });
      assert.equal(up.status, 503);
      assert.equal((await up.json()).error, 'scanner_unavailable');
      assert.ok(Date.now() - t0 < 10000, `the upload waited ${Date.now() - t0} ms`);
      clamd.signal('SIGCONT');
      const back = Date.now() + 15000;
      while (Date.now() < back && (await health()).scanner !== 'ok') await new Promise((res) => setTimeout(res, 250));
      assert.equal((await health()).scanner, 'ok');
    });
  } finally {
    await clamd.stop();
    clamd.cleanup();
  }
});

// The server keeps 32 idle writers open between chunks; an upload in use
// is claimed whatever their number, so a second PATCH sent while the
// last one's commit waits for clamd is kept out (423) even when more
// uploads than that are being written at once.
test('scanning: with more uploads at once than writers kept open, a PATCH during a commit is kept out', async () => {
  const clamd = await startClamd();
  const bodies = [];
  try {
    await withServer({ args: ['--clamd-socket', clamd.sock, '--uploads-per-user', '50', '--clamd-wait', '5s'] }, async (s) => {
      const { tokens } = await consortium(s);
      const w = tokens.writer;
      const tus = { 'tus-resumable': '1.0.0' };
      const create = async (path, length) => {
        const meta = `wp ${Buffer.from('WP1').toString('base64')},path ${Buffer.from(path).toString('base64')}`;
        const r = await api(s, w, 'POST', '/api/v1/uploads', { headers: { ...tus, 'upload-length': String(length), 'upload-metadata': meta } });
        assert.equal(r.status, 201, path);
        return new URL(r.headers.get('location'), s.url).pathname;
      };
      const patch = (loc, offset, body) => api(s, w, 'PATCH', loc, { headers: { ...tus, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body });
      // Its first chunk is in, its writer kept open; the uploads below take its place.
      const parts = [Buffer.alloc(70 * 1024, 'p'), Buffer.alloc(30 * 1024, 'q')];
      const loc = await create('many/last.bin', 100 * 1024);
      assert.equal((await patch(loc, 0, parts[0])).status, 204);
      // 33 uploads each with a PATCH whose body is still coming.
      const writing = [];
      for (let i = 0; i < 33; i++) {
        const l = await create(`many/u${i}.bin`, 100);
        const body = new Readable({ read() {} });
        bodies.push(body);
        body.push(Buffer.alloc(10, 'a'));
        writing.push({ loc: l, body, answer: patch(l, 0, body) });
      }
      // each is claimed once a PATCH beside it is refused
      for (const u of writing) {
        let r;
        for (let t = 0; t < 100 && (r = await patch(u.loc, 0, Buffer.alloc(0))).status !== 423; t++) await new Promise((res) => setTimeout(res, 50));
        assert.equal(r.status, 423, `${u.loc} claimed by its PATCH`);
      }
      await clamd.stop();
      const committing = patch(loc, parts[0].length, parts[1]);
      await new Promise((res) => setTimeout(res, 1000));
      const second = await patch(loc, parts[0].length, parts[1]);
      assert.equal(second.status, 423, `a second PATCH during the commit: ${second.status} ${await second.text()}`);
      const r = await committing;
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('upload-offset'), String(parts[0].length));
      await clamd.start();
      assert.equal((await patch(loc, parts[0].length, parts[1])).status, 204);
      const got = await api(s, w, 'GET', '/api/v1/wps/WP1/content/many/last.bin');
      assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(Buffer.concat(parts)));
      for (const u of writing) {
        u.body.push(Buffer.alloc(90, 'b'));
        u.body.push(null);
        assert.equal((await u.answer).status, 204, u.loc);
      }
    });
  } finally {
    for (const b of bodies) if (!b.readableEnded) b.destroy();
    await clamd.stop();
    clamd.cleanup();
  }
});

test('scanning: accept-unscanned policies store the content marked unscanned', async () => {
  const clamd = await startClamd();
  try {
    await withServer({ args: ['--clamd-socket', clamd.sock, '--clamd-wait', '300ms',
      '--scan-unscannable', 'accept-unscanned', '--scan-unreachable', 'accept-unscanned'] }, async (s) => {
      const { tokens } = await consortium(s);
      const big = Buffer.alloc(1536 * 1024, 'b');
      let r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/big.txt', { body: big });
      assert.equal(r.status, 201);
      assert.equal(r.body.scan, 'unscanned');
      const doc = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/tree/big.txt');
      assert.equal(doc.body.scan, 'unscanned');
      assert.equal(doc.body.versions[0].scan, 'unscanned');
      // Infected is refused whatever the policies.
      r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/e.txt', { body: Buffer.from(EICAR) });
      assert.equal(r.status, 422);
      await clamd.stop();
      r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/while-down.txt', { body: Buffer.from('no scanner') });
      assert.equal(r.status, 201);
      assert.equal(r.body.scan, 'unscanned');
    });
  } finally {
    await clamd.stop();
    clamd.cleanup();
  }
});

test('scanning: off without clamd-socket; bad options refused', async () => {
  await withServer({}, async (s) => {
    const { tokens } = await consortium(s);
    const r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/e.txt', { body: Buffer.from(EICAR) });
    assert.equal(r.status, 201, 'scanning is off: today\'s behaviour');
    assert.equal(r.body.scan, null);
    assert.equal((await (await s.fetch('/healthz')).json()).scanner, undefined, 'healthz as before');
  });
  const d = tempDir();
  let r = runConsort(['serve', '--data', d, '--clamd-socket', '/x.sock', '--scan-unscannable', 'maybe']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /scan-unscannable: must be refuse or accept-unscanned/);
  r = runConsort(['serve', '--data', d, '--clamd-socket', 'relative.sock']);
  assert.match(r.stderr, /clamd-socket must be an absolute path/);
  r = runConsort(['rescan', '--data', d]);
  assert.equal(r.status, 2);
  rmSync(d, { recursive: true, force: true });
});
