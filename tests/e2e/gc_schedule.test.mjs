// Garbage collection inside the server (issue 14): with gc-interval the
// server frees the blobs that a purge left unreferenced, once they are
// older than the grace (1 h, as `consort gc`), without anyone running a
// command; /metrics shows the runs, the bytes reclaimed, the last run
// and its duration; /healthz says "gc": "ok", "off" with gc-interval 0,
// and "overdue" (status degraded, still 200) when runs cannot happen
// because the store's gc lock is held; `consort gc` still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, utimesSync, openSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { withServer, runConsort } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, apiJson, sha256 } from './lib/docs.mjs';
import { until } from './lib/search.mjs';

const blobPath = (s, hash) => `${s.dataDir}/blobs/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;

function metric(text, name) {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test('gc-interval: a purged document\'s blob goes by itself after the grace; metrics and healthz', async () => {
  await withServer({ args: ['--gc-interval', '1s'] }, async (s) => {
    const { tokens } = await consortium(s);
    // Over the small-content tier's 64 KiB: blob files, which have a grace.
    const body = Buffer.alloc(100000, 7);
    const hash = sha256(body);
    let r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/big.bin', { body });
    assert.equal(r.status, 201);
    const young = Buffer.alloc(70000, 9);
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/young.bin', { body: young });
    // Small content lives in the database and needs no grace: its row
    // and its reference are committed together.
    const small = Buffer.alloc(3000, 5);
    r = await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/small.bin', { body: small });
    assert.equal(r.status, 201);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM small_blobs')[0].n, 1);
    for (const name of ['big.bin', 'young.bin', 'small.bin'])
      await apiJson(s, tokens.writer, 'DELETE', `/api/v1/wps/WP1/tree/${name}`);
    const items = (await apiJson(s, tokens.manager, 'GET', '/api/v1/wps/WP1/trash')).body.items;
    for (const it of items) {
      r = await apiJson(s, tokens.manager, 'DELETE', `/api/v1/wps/WP1/trash/${it.id}`);
      assert.equal(r.status, 200);
    }
    assert.ok(existsSync(blobPath(s, hash)));
    // The grace: only the blob made "two hours ago" may go.
    const old = Date.now() / 1000 - 7200;
    utimesSync(blobPath(s, hash), old, old);
    await until(() => !existsSync(blobPath(s, hash)), { timeout: 15000, what: 'the old blob to be collected' });
    assert.ok(existsSync(blobPath(s, sha256(young))), 'a blob younger than the grace stays');
    // The same run removes purged small content, just after the files.
    await until(() => sql(s, 'SELECT count(*) AS n FROM small_blobs')[0].n === 0,
      { timeout: 15000, what: 'purged small content to be collected' });

    const text = await (await s.fetch('/metrics')).text();
    assert.ok(metric(text, 'consort_gc_runs_total') >= 1);
    assert.ok(metric(text, 'consort_gc_reclaimed_bytes_total') >= 103000);
    const last = metric(text, 'consort_gc_last_run_timestamp_seconds');
    assert.ok(Math.abs(last - Date.now() / 1000) < 30, `last run ${last}`);
    assert.ok(metric(text, 'consort_gc_last_duration_seconds') >= 0);
    assert.match(text, /# TYPE consort_gc_reclaimed_bytes_total counter/);
    const h = await (await s.fetch('/healthz')).json();
    assert.equal(h.gc, 'ok');
    assert.equal(h.status, 'ok');
    // The command stays for operators.
    const g = runConsort(['gc', '--data', s.dataDir]);
    assert.equal(g.status, 0, g.stderr);
  });
});

test('gc-interval 0: off; the server collects nothing and says so', async () => {
  await withServer({ args: ['--gc-interval', '0'] }, async (s) => {
    const h = await (await s.fetch('/healthz')).json();
    assert.equal(h.gc, 'off');
    const text = await (await s.fetch('/metrics')).text();
    assert.equal(metric(text, 'consort_gc_runs_total'), undefined);
  });
});

test('healthz: gc overdue while the store\'s gc lock is held, ok again after', async () => {
  await withServer({ args: ['--gc-interval', '500ms'] }, async (s) => {
    // flock(1) holds DATA/gc.lock exclusively, as a running backup would.
    const lockFile = `${s.dataDir}/gc.lock`;
    closeSync(openSync(lockFile, 'a'));
    // One process holds it (exec), so killing it releases the lock.
    const holder = spawn('sh', ['-c', 'exec 9>>"$1"; flock -x 9; exec sleep 120', 'sh', lockFile], { stdio: 'ignore' });
    try {
      // overdue: more than three intervals plus 10 s without a run
      const h = await until(async () => {
        const x = await (await s.fetch('/healthz')).json();
        return x.gc === 'overdue' ? x : null;
      }, { timeout: 40000, interval: 500, what: 'gc to be overdue' });
      assert.equal(h.status, 'degraded');
      assert.equal((await s.fetch('/healthz')).status, 200);
    } finally {
      holder.kill();
    }
    await until(async () => (await (await s.fetch('/healthz')).json()).gc === 'ok', { timeout: 10000, what: 'gc ok again' });
  });
});
