// What happens to a document shows in the next search: a new version,
// a rename, a move, deliverable metadata, trash (of a document and of a
// folder with everything below it), restore from the trash and purge.
// And `consort reindex` while uploads run: the server keeps answering
// from the old index, the new one has every document, nothing is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { withServer, consortBin } from './lib/server.mjs';
import { apiJson } from './lib/docs.mjs';
import { makeDoc, people, put, found, until, waitIndexed, hitPaths, sanitized } from './lib/search.mjs';

const FORMATS = ['docx', 'odt', 'pdf', 'md', 'xlsx', 'html'];

function doc(prefix, i, word) {
  const fmt = FORMATS[i % FORMATS.length];
  const body = `This is ${prefix} document ${i} of the project, with the ${word} and its own word ${prefix}own${i}q in the text.`;
  const bytes = fmt === 'md' ? Buffer.from(`${body}\n`) : makeDoc(fmt, { title: `${prefix} ${i}`, body });
  return { path: `${prefix}/doc ${i}.${fmt}`, bytes };
}

// Wait until a search gives `total` hits (the index catches up after a change).
async function expectTotal(s, token, q, total, params) {
  let last;
  await until(async () => {
    last = await found(s, token, q, params);
    return last.total === total;
  }, { what: () => `${total} hits for ${q} (have ${last?.total})` });
  return last;
}

test('new version, rename, move, metadata, trash, restore and purge show in the next search', async () => {
  await withServer({}, async (s) => {
    const { tokens: { coord: t } } = await people(s);
    const call = (method, path, json) => apiJson(s, t, method, `/api/v1/wps/WP1/${path}`, json === undefined ? {} : { json });
    await put(s, t, 'WP1', 'reports/alpha report.docx', makeDoc('docx', { title: 'Alpha', body: 'The firstcontent of the alpha report is about the pilot study.' }));
    await put(s, t, 'WP1', 'reports/beta notes.md', Buffer.from('# Beta\n\nThe betaword notes of the meeting are here.\n'));
    await put(s, t, 'WP1', 'archive/old/gamma.odt', makeDoc('odt', { title: 'Gamma', body: 'The gammaword of the old archive is in the folder.' }));
    await put(s, t, 'WP1', 'archive/old/deep/delta.txt', Buffer.from('The deltaword file of the archive is deep in the tree.\n'));
    await waitIndexed(s, t, [['WP1', 'reports/alpha report.docx'], ['WP1', 'reports/beta notes.md'],
      ['WP1', 'archive/old/gamma.odt'], ['WP1', 'archive/old/deep/delta.txt']]);
    assert.equal((await found(s, t, 'firstcontent')).total, 1);

    // A new version replaces the old text.
    await put(s, t, 'WP1', 'reports/alpha report.docx', makeDoc('docx', { title: 'Alpha', body: 'The secondcontent of the alpha report replaces the first one.' }));
    let r = await expectTotal(s, t, 'secondcontent', 1);
    assert.equal(r.hits[0].version, 2);
    assert.equal((await found(s, t, 'firstcontent')).total, 0);

    // Rename: found by the new name, not by the old; the text stays.
    assert.equal((await call('PATCH', 'tree/reports/alpha report.docx', { name: 'omega summary.docx' })).status, 200);
    r = await expectTotal(s, t, 'name:omega', 1);
    assert.equal(r.hits[0].path, 'reports/omega summary.docx');
    assert.equal(r.hits[0].name, 'omega summary.docx');
    assert.equal((await found(s, t, 'name:alpha')).total, 0);
    assert.equal((await found(s, t, 'secondcontent')).hits[0].path, 'reports/omega summary.docx');

    // Deliverable metadata: deliverable: and status: fields.
    assert.equal((await call('PATCH', 'tree/reports/omega summary.docx', { deliverable: 'D1.3', status: 'final' })).status, 200);
    r = await expectTotal(s, t, 'deliverable:D1.3 status:final', 1);
    assert.equal(r.hits[0].deliverable, 'D1.3');
    assert.equal(r.hits[0].status, 'final');

    // Move to another folder: the path follows.
    assert.equal((await call('POST', 'folders', { path: 'final' })).status, 201);
    assert.equal((await call('POST', 'move', { from: 'reports/omega summary.docx', to: 'final/omega summary.docx' })).status, 200);
    await until(async () => (await found(s, t, 'secondcontent')).hits[0]?.path === 'final/omega summary.docx', { what: 'the moved path' });
    // Move and rename a whole folder: every document below follows.
    assert.equal((await call('POST', 'move', { from: 'archive/old', to: 'final/older' })).status, 200);
    await until(async () => (await found(s, t, 'deltaword')).hits[0]?.path === 'final/older/deep/delta.txt', { what: 'the moved folder' });
    assert.equal((await found(s, t, 'gammaword')).hits[0].path, 'final/older/gamma.odt');
    // Rename a folder: the paths below it follow, and folder words too.
    assert.equal((await call('PATCH', 'tree/final/older', { name: 'oldest' })).status, 200);
    await until(async () => (await found(s, t, 'deltaword')).hits[0]?.path === 'final/oldest/deep/delta.txt', { what: 'the renamed folder' });
    assert.equal((await call('PATCH', 'tree/final/oldest', { name: 'older' })).status, 200);
    await until(async () => (await found(s, t, 'gammaword')).hits[0]?.path === 'final/older/gamma.odt', { what: 'the folder renamed back' });

    // Trash a document: gone from search; restore: back.
    let del = await call('DELETE', 'tree/reports/beta notes.md');
    assert.equal(del.status, 200);
    await expectTotal(s, t, 'betaword', 0);
    assert.equal((await call('POST', `trash/${del.body.trash_id}/restore`)).status, 200);
    r = await expectTotal(s, t, 'betaword', 1);
    assert.equal(r.hits[0].path, 'reports/beta notes.md');

    // Trash a folder: everything below it goes; restore brings it all back.
    del = await call('DELETE', 'tree/final/older');
    assert.equal(del.status, 200);
    await expectTotal(s, t, 'gammaword OR deltaword', 0);
    assert.equal((await call('POST', `trash/${del.body.trash_id}/restore`)).status, 200);
    r = await expectTotal(s, t, 'gammaword OR deltaword', 2);
    assert.deepEqual(hitPaths(r), ['WP1/final/older/deep/delta.txt', 'WP1/final/older/gamma.odt']);

    // Trash and purge: gone for good, and stays gone after another upload
    // of the same name (a new document, new text).
    del = await call('DELETE', 'tree/reports/beta notes.md');
    await expectTotal(s, t, 'betaword', 0);
    const purge = await call('DELETE', `trash/${del.body.trash_id}`);
    assert.equal(purge.status, 200, JSON.stringify(purge.body));
    await put(s, t, 'WP1', 'reports/beta notes.md', Buffer.from('# Beta again\n\nThe newbetaword text.\n'));
    await expectTotal(s, t, 'newbetaword', 1);
    assert.equal((await found(s, t, 'betaword')).total, 0);
    // Purging a trashed folder.
    del = await call('DELETE', 'tree/final/older');
    await expectTotal(s, t, 'gammaword OR deltaword', 0);
    assert.equal((await call('DELETE', `trash/${del.body.trash_id}`)).status, 200);

    // Restore an old version: the old text is back as version 3.
    assert.equal((await call('POST', 'restore', { path: 'final/omega summary.docx', version: 1 })).status, 201);
    r = await expectTotal(s, t, 'firstcontent', 1);
    assert.equal(r.hits[0].version, 3);
    assert.equal((await found(s, t, 'secondcontent')).total, 0);

    // After all that, the index holds exactly the live documents.
    r = await found(s, t, 'the', { limit: 100 });
    assert.deepEqual(hitPaths(r), ['WP1/final/omega summary.docx', 'WP1/reports/beta notes.md']);
  });
});

test('a document uploaded with tus is indexed like any other', async () => {
  await withServer({}, async (s) => {
    const { tokens: { coord: t } } = await people(s);
    const body = makeDoc('odt', { title: 'Resumable', body: 'The tusword report was uploaded in two chunks by the client.' });
    const b64 = (x) => Buffer.from(x).toString('base64');
    const half = Math.floor(body.length / 2);
    let r = await apiJson(s, t, 'POST', '/api/v1/uploads', {
      headers: { 'tus-resumable': '1.0.0', 'upload-length': String(body.length),
        'upload-metadata': `wp ${b64('WP1')},path ${b64('tus/resumable report.odt')}`,
        'content-type': 'application/offset+octet-stream' },
      body: body.subarray(0, half),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.headers.get('upload-offset'), String(half));
    r = await apiJson(s, t, 'PATCH', r.headers.get('location'), {
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': String(half), 'content-type': 'application/offset+octet-stream' },
      body: body.subarray(half),
    });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    const st = await waitIndexed(s, t, [['WP1', 'tus/resumable report.odt']]);
    assert.equal(st['WP1/tus/resumable report.odt'].status, 'indexed');
    const x = await found(s, t, 'tusword');
    assert.equal(x.total, 1);
    assert.equal(x.hits[0].title, 'Resumable');
    assert.equal(x.hits[0].type, 'odt');
  });
});

// The indexer used to notice changes only at its next poll (every
// 500 ms): a search right after a rename still showed the old name for
// up to half a second. A successful write now wakes it; with its poll a
// day apart, only the wake can bring the renames into the index.
test('the indexer is woken by a change, not found by its next poll', async () => {
  await withServer({ args: ['--index-poll', '1d'] }, async (s) => {
    const { tokens: { coord: t } } = await people(s);
    await put(s, t, 'WP1', 'wake/name0.md', Buffer.from('# Wake\n\nThe wakeword text.\n'));
    await waitIndexed(s, t, [['WP1', 'wake/name0.md']]);
    const rounds = 20;
    const lags = [];
    for (let i = 1; i <= rounds; i++) {
      const r = await apiJson(s, t, 'PATCH', `/api/v1/wps/WP1/tree/wake/name${i - 1}.md`, { json: { name: `name${i}.md` } });
      assert.equal(r.status, 200);
      const t0 = Date.now();
      await until(async () => (await found(s, t, 'wakeword')).hits[0]?.name === `name${i}.md`,
        { interval: 5, timeout: 10000, what: `rename ${i} in the index` });
      lags.push(Date.now() - t0);
    }
    lags.sort((a, b) => a - b);
    console.log(`# ${rounds} renames: median ${lags[rounds / 2]} ms until a rename showed in search, slowest ${lags[rounds - 1]} ms`);
  });
});

// Each batch of the indexer ends in a Xapian commit and a SQLite one,
// several flushes that compete with the uploads' own: a burst of
// uploads one after another used to be indexed one document per batch.
// index-gap keeps batches apart, so the burst lands in a few.
test('a burst of uploads is indexed in a few batches (index-gap)', async () => {
  await withServer({ args: ['--index-gap', '3s'] }, async (s) => {
    const { tokens: { coord: t } } = await people(s);
    const commits = async () => {
      const text = await (await s.fetch('/metrics')).text();
      return Number(/^consort_index_commits_total (\d+)$/m.exec(text)[1]);
    };
    const before = await commits();
    const docs = Array.from({ length: 30 }, (_, i) => [`burst/note ${i}.md`, `# Note ${i}\n\nThe burstword of note ${i}.\n`]);
    const t0 = Date.now();
    for (const [path, text] of docs) await put(s, t, 'WP1', path, Buffer.from(text));
    const took = Date.now() - t0;
    await waitIndexed(s, t, docs.map(([path]) => ['WP1', path]));
    const n = (await commits()) - before;
    console.log(`# 30 uploads in ${took} ms were indexed in ${n} batches`);
    assert.equal((await found(s, t, 'burstword')).total, 30);
    // One for the first document, then one per gap while uploads came.
    assert.ok(n <= 2 + Math.ceil(took / 3000), `${n} index commits for 30 uploads in ${took} ms`);
  });
});

test('consort reindex while uploads run loses nothing; the server answers throughout', async () => {
  await withServer({}, async (s) => {
    const { tokens: { coord: t } } = await people(s);
    const before = Array.from({ length: sanitized ? 30 : 60 }, (_, i) => doc('pre', i, 'reindexword'));
    for (const d of before) await put(s, t, 'WP1', d.path, d.bytes);
    await waitIndexed(s, t, before.map((d) => ['WP1', d.path]));
    const during = Array.from({ length: 24 }, (_, i) => doc('mid', i, 'reindexword'));

    const proc = spawn(consortBin, ['reindex', '--data', s.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const done = new Promise((res) => proc.on('exit', (code) => res(code)));
    let finished = false;
    done.then(() => { finished = true; });

    // Upload while the rebuild runs, and keep searching: every answer is
    // 200 and never shows fewer documents than were indexed before.
    let uploaded = 0, searches = 0, worst = 0;
    for (const d of during) {
      await put(s, t, 'WP1', d.path, d.bytes);
      uploaded++;
      const t0 = Date.now();
      const r = await found(s, t, 'reindexword', { limit: 0 });
      worst = Math.max(worst, Date.now() - t0);
      searches++;
      assert.ok(r.total >= before.length, `search during reindex found ${r.total}`);
      assert.equal((await s.fetch('/healthz')).status, 200);
    }
    const code = await done;
    assert.equal(code, 0, out);
    assert.match(out, /done: \d+ extracted \(0 failed\), \d+ documents in the index/);
    assert.ok(uploaded === during.length);

    // Everything is there once: the rebuilt index plus what the server
    // indexed itself after the switch.
    const all = [...before, ...during];
    await waitIndexed(s, t, all.map((d) => ['WP1', d.path]));
    const r = await expectTotal(s, t, 'reindexword', all.length, { limit: 100 });
    assert.equal(new Set(r.hits.map((h) => h.id)).size, 100 > all.length ? all.length : 100);
    for (const [i, d] of all.entries()) {
      const prefix = d.path.split('/')[0];
      const n = Number(/doc (\d+)/.exec(d.path)[1]);
      const one = await found(s, t, `${prefix}own${n}q`);
      assert.equal(one.total, 1, `${d.path} (${i})`);
    }
    console.log(`# reindex of ${before.length} documents with ${during.length} uploads meanwhile; ` +
      `${searches} searches, slowest ${worst} ms; finished during the uploads: ${finished}`);
  });
});
