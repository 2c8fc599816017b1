// SIGKILL of the server in the middle of indexing: the queue survives in
// the database, the restarted server resumes it, and every document ends
// up in the index exactly once (search totals count each document once,
// each has its index state at its current version, the queue is empty).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { withServer, consortBin, runConsort } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { makeDoc, spinningPdf, people, put, found, until, waitIndexed, childrenOf, docNode } from './lib/search.mjs';

const FORMATS = ['docx', 'pdf', 'odt', 'xlsx', 'md', 'pptx', 'html', 'ods', 'odp'];

// Document i: an English text with the word common to all and its own.
// Does helper argument `arg` name content `blob`: its blob file, or the
// private copy the indexer makes of small content (storage/smallblob.h)?
function reads(arg, blob) {
  if (arg.includes(blob)) return true;
  if (!arg.includes('cas-export-')) return false;
  try {
    return createHash('sha256').update(readFileSync(arg)).digest('hex') === blob;
  } catch {
    return false; // removed meanwhile
  }
}

function doc(i) {
  const fmt = FORMATS[i % FORMATS.length];
  const body = `This is document ${i} of the crash test, with the sharedcrashword and the own word unikat${i}x of the file.`;
  const bytes = fmt === 'md' ? Buffer.from(`# Document ${i}\n\n${body}\n`) : makeDoc(fmt, { title: `Document ${i}`, body });
  return { path: `crash/doc ${String(i).padStart(2, '0')}.${fmt}`, bytes };
}

test('SIGKILL during indexing: the restart resumes the queue, every document is indexed once', async () => {
  await withServer({ args: ['--extract-cpu-seconds', '2'] }, async (s) => {
    const { tokens: { coord } } = await people(s);
    const docs = Array.from({ length: 36 }, (_, i) => doc(i));
    // A first lot, indexed before anything happens.
    for (const d of docs.slice(0, 8)) await put(s, coord, 'WP1', d.path, d.bytes);
    await waitIndexed(s, coord, docs.slice(0, 8).map((d) => ['WP1', d.path]));

    // A second lot with a PDF in the middle that keeps pdftotext busy for
    // its whole CPU allowance: the server is killed while it works on it,
    // with documents extracted but not committed before it and documents
    // not yet looked at after it.
    for (const d of docs.slice(8, 20)) await put(s, coord, 'WP1', d.path, d.bytes);
    const spin = await put(s, coord, 'WP1', 'crash/slow.pdf', spinningPdf());
    for (const d of docs.slice(20)) await put(s, coord, 'WP1', d.path, d.bytes);
    const blob = spin.etag.replaceAll('"', '');
    await until(() => {
      const helper = childrenOf(s.proc.pid).find((c) => c.cmdline.includes('extract-worker'));
      return helper && childrenOf(helper.pid).some((c) => c.cmdline.some((a) => reads(a, blob)));
    }, { what: 'pdftotext working on the slow PDF' });
    const r = await s.stop('SIGKILL');
    assert.equal(r.signal, 'SIGKILL');

    const queued = sql(s, 'SELECT count(DISTINCT node_id) AS n FROM index_queue')[0].n;
    const stated = sql(s, 'SELECT count(*) AS n FROM index_state')[0].n;
    assert.ok(queued > docs.length - 20, `the kill left work in the queue (${queued} documents queued)`);
    assert.ok(stated >= 8 && stated < docs.length + 1, `${stated} documents had an index state at the kill`);

    s.proc = null;
    await s.start();
    const all = [...docs.map((d) => ['WP1', d.path]), ['WP1', 'crash/slow.pdf']];
    const states = await waitIndexed(s, coord, all, { timeout: 90000 });
    for (const d of docs) assert.equal(states[`WP1/${d.path}`].status, 'indexed', d.path);
    assert.equal(states['WP1/crash/slow.pdf'].status, 'failed');
    assert.match(states['WP1/crash/slow.pdf'].reason, /CPU limit/);

    // Exactly once: totals count every document once, each finds its own.
    const every = await found(s, coord, 'sharedcrashword', { limit: 100 });
    assert.equal(every.total, docs.length);
    assert.equal(new Set(every.hits.map((h) => h.id)).size, docs.length);
    assert.deepEqual(every.facets.wp, [{ wp: 'WP1', count: docs.length }]);
    for (let i = 0; i < docs.length; i++) {
      const one = await found(s, coord, `unikat${i}x`);
      assert.equal(one.total, 1, `unikat${i}x`);
      assert.equal(one.hits[0].path, docs[i].path);
    }
    assert.equal((await found(s, coord, 'name:slow')).total, 1);
    await until(() => sql(s, 'SELECT count(*) AS n FROM index_queue')[0].n === 0, { what: 'an empty queue' });
    const rows = sql(s, 'SELECT s.version = n.current_version AS current, count(*) AS n FROM index_state s JOIN nodes n ON n.id = s.node_id GROUP BY 1');
    assert.deepEqual(rows, [{ current: 1, n: docs.length + 1 }]);
  });
});

test('a lost index is rebuilt on start; a killed reindex leaves the live index alone and its leftovers are removed', async () => {
  await withServer({ args: ['--extract-cpu-seconds', '2'] }, async (s) => {
    const { tokens: { coord } } = await people(s);
    const docs = Array.from({ length: 12 }, (_, i) => doc(i));
    // First in the queue, a PDF that keeps the indexer busy for 2 s.
    await put(s, coord, 'WP1', 'crash/slow.pdf', spinningPdf());
    for (const d of docs) await put(s, coord, 'WP1', d.path, d.bytes);
    await waitIndexed(s, coord, docs.map((d) => ['WP1', d.path]));
    assert.equal((await found(s, coord, 'sharedcrashword')).total, docs.length);

    // The index directory is lost while the server is down: the new,
    // empty index is filled again, and until then no document claims to
    // be indexed (they did: index_state outlived the index).
    await s.stop();
    rmSync(join(s.dataDir, 'index'), { recursive: true, force: true });
    s.proc = null;
    await s.start();
    const last = docs[docs.length - 1].path;
    assert.equal((await docNode(s, coord, 'WP1', last)).index.status, 'pending');
    await until(async () => (await found(s, coord, 'sharedcrashword')).total === docs.length,
      { timeout: 60000, what: 'every document back in a new index' });
    assert.equal((await waitIndexed(s, coord, [['WP1', last]]))[`WP1/${last}`].status, 'indexed');
    for (let i = 0; i < docs.length; i += 3) assert.equal((await found(s, coord, `unikat${i}x`)).total, 1);

    // consort reindex killed while it builds its generation.
    const live = readlinkSync(join(s.dataDir, 'index', 'current'));
    const proc = spawn(consortBin, ['reindex', '--data', s.dataDir, '--extract-cpu-seconds', '2'], { stdio: 'ignore' });
    const exited = new Promise((res) => proc.on('exit', (code, signal) => res(signal)));
    await until(() => readdirSync(join(s.dataDir, 'index')).some((e) => e.startsWith('gen-') && e !== live),
      { interval: 5, what: 'the new generation' });
    proc.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(readlinkSync(join(s.dataDir, 'index', 'current')), live);
    assert.equal((await found(s, coord, 'sharedcrashword')).total, docs.length);
    assert.ok(readdirSync(join(s.dataDir, 'index')).filter((e) => e.startsWith('gen-')).length > 1, 'the half-built generation is there');
    // The next reindex finishes and leaves nothing but its own generation.
    // With the server's extraction limits (the slow PDF costs 2 s, not 30).
    const t0 = Date.now();
    const r = runConsort(['reindex', '--data', s.dataDir, '--extract-cpu-seconds', '2']);
    assert.ok(Date.now() - t0 < 20000, `reindex took ${Date.now() - t0} ms`);
    assert.equal(r.status, 0, r.stderr);
    const now = readlinkSync(join(s.dataDir, 'index', 'current'));
    assert.deepEqual(readdirSync(join(s.dataDir, 'index')).filter((e) => e.startsWith('gen-')), [now]);
    assert.match((await docNode(s, coord, 'WP1', 'crash/slow.pdf')).index.reason, /CPU limit \(2 s\)/);
    await until(async () => (await found(s, coord, 'sharedcrashword')).total === docs.length, { what: 'the rebuilt index' });
    await put(s, coord, 'WP1', 'crash/after.md', Buffer.from('# After\n\nThe sharedcrashword once more.\n'));
    await until(async () => (await found(s, coord, 'sharedcrashword')).total === docs.length + 1, { what: 'an upload after the switch' });
  });
});
