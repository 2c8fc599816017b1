// Power loss, simulated (issue 21): the server runs with an LD_PRELOAD
// shim (tests/powerloss/plshim.c) that keeps a copy of DATA as a power
// cut would leave it at every instant: a file's content only as of its
// last fsync/fdatasync, a name only once its directory was fsynced.
// After SIGKILL in the middle of a burst of small uploads (the
// small-content tier: content and version in one WAL flush; some of
// them tus creation requests that carry the whole file) and some
// larger ones (blob files), the server starts on that copy: every
// acknowledged upload is there with its bytes, and fsck is clean. A
// control run that ignores the WAL's flushes shows the simulation does
// lose what was not flushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, runConsort, tempDir } from './lib/server.mjs';
import { sql } from './lib/accounts.mjs';
import { consortium, api, apiJson, sha256 } from './lib/docs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sanitized = !!process.env.CONSORT_SANITIZED;

function buildShim() {
  const out = join(tempDir('consort-plshim-'), 'plshim.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', out, join(here, '..', 'powerloss', 'plshim.c'), '-ldl']);
  return out;
}

// A server whose DATA is watched by the shim; `shadow` becomes DATA after
// a power cut. Returns { s, tokens, shadow }.
async function watchedServer(shim, ignore) {
  const s = await new Server().start();
  const { tokens } = await consortium(s);
  await s.stop(); // clean: nothing unflushed, the WAL checkpointed
  const shadow = tempDir('consort-shadow-');
  execFileSync('cp', ['-a', `${s.dataDir}/.`, shadow]);
  mkdirSync(join(shadow, '.inodes'));
  s.env = {
    LD_PRELOAD: shim,
    PL_DATA: realpathSync(s.dataDir),
    PL_SHADOW: shadow,
    ...(ignore ? { PL_IGNORE: ignore } : {}),
    // The ASan runtime wants to be first; the shim only wraps two calls.
    ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? process.env.ASAN_OPTIONS + ':' : ''}verify_asan_link_order=0`,
  };
  s.proc = null;
  await s.start();
  return { s, tokens, shadow };
}

// Start a server on what the power cut left; the shadow's inode copies
// are only the shim's bookkeeping (the names are hard links to them).
async function afterPowerLoss(shadow) {
  rmSync(join(shadow, '.inodes'), { recursive: true, force: true });
  const f = runConsort(['fsck', '--data', shadow]);
  const s = await new Server({ dataDir: shadow }).start();
  return { s, fsck: { ok: f.status === 0, out: f.stdout + f.stderr } };
}

function versionsOf(s) {
  const rows = sql(s, 'SELECT n.name, v.number, v.blob FROM versions v JOIN nodes n ON n.id = v.node_id');
  return new Map(rows.map((r) => [`${r.name}#${r.number}`, r.blob]));
}

test('power loss in a burst of small uploads: every acknowledged upload survives, fsck clean', { timeout: 10 * 60 * 1000 }, async () => {
  const shim = buildShim();
  const { s, tokens, shadow } = await watchedServer(shim);
  let after, batches, changes;
  try {
    const acked = new Map(); // "name#version" → sha256
    const tusAcked = new Map(); // upload id → "name#version"
    let stop = false;
    const writers = [tokens.writer, tokens.other];
    const loop = async (k) => {
      for (let i = 0; !stop; i++) {
        // Mostly small-tier content; every 5th a blob file.
        const size = i % 5 === 4 ? 100 * 1024 + Math.floor(Math.random() * 200 * 1024) : 1 + Math.floor(Math.random() * 60 * 1024);
        const body = randomBytes(size);
        const name = `p-${k}-${i % 7}.bin`;
        let r;
        // Every third small one a tus creation request carrying it whole.
        if (i % 3 === 1 && size <= 64 * 1024) {
          try {
            r = await api(s, writers[k % 2], 'POST', '/api/v1/uploads', {
              headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(size),
                'Upload-Metadata': `wp ${Buffer.from('WP1').toString('base64')},path ${Buffer.from(`pl/${name}`).toString('base64')}`,
                'Content-Type': 'application/offset+octet-stream' },
              body });
            await r.arrayBuffer();
          } catch {
            return; // cut by the kill
          }
          assert.equal(r.status, 201);
          assert.equal(r.headers.get('upload-offset'), String(size));
          const key = `${name}#${r.headers.get('x-consort-version')}`;
          acked.set(key, sha256(body));
          tusAcked.set(r.headers.get('location').split('/').pop(), key);
          continue;
        }
        try {
          r = await apiJson(s, writers[k % 2], 'PUT', `/api/v1/wps/WP1/content/pl/${name}`, { body });
        } catch {
          return; // cut by the kill
        }
        assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
        acked.set(`${name}#${r.body.version}`, sha256(body));
      }
    };
    const loops = Array.from({ length: 16 }, (_, k) => loop(k));
    const target = (sanitized ? 60 : 150) + Math.floor(Math.random() * 150);
    const deadline = Date.now() + 60000;
    while (acked.size < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // The group commit batches: 16 writers, fewer WAL flushes than uploads.
    const text = await (await s.fetch('/metrics')).text();
    const metric = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    batches = metric('consort_commit_batches_total');
    changes = metric('consort_commit_changes_total');
    assert.ok(batches > 0 && changes > batches, `group commits batch (${changes} uploads in ${batches} commits)`);
    await new Promise((r) => setTimeout(r, Math.random() * 30));
    s.proc.kill('SIGKILL');
    await s.exited;
    stop = true;
    await Promise.all(loops);
    assert.ok(acked.size >= 60, `enough uploads were acknowledged (${acked.size})`);

    after = await afterPowerLoss(shadow);
    assert.ok(after.fsck.ok, `fsck after the power loss:\n${after.fsck.out}`);
    const versions = versionsOf(after.s);
    const small = new Set(sql(after.s, 'SELECT hash FROM small_blobs').map((r) => r.hash));
    let inSmall = 0;
    for (const [key, hash] of acked) {
      assert.equal(versions.get(key), hash, `acknowledged ${key} survived`);
      if (small.has(hash)) inSmall++;
      const [name, version] = key.split('#');
      const r = await api(after.s, tokens.reader, 'GET', `/api/v1/wps/WP1/content/pl/${name}?version=${version}`);
      assert.equal(r.status, 200);
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), hash, `content of ${key}`);
    }
    assert.ok(inSmall > acked.size / 2, `most went through the small-content tier (${inSmall} of ${acked.size})`);
    // An acknowledged tus upload is also finished as an upload (a client
    // that lost the answer learns so from HEAD).
    assert.ok(tusAcked.size > 0, 'some tus uploads were acknowledged');
    const uploads = new Map(sql(after.s, 'SELECT id, version FROM uploads').map((r) => [r.id, r.version]));
    for (const [id, key] of tusAcked)
      assert.equal(uploads.get(id), Number(key.split('#')[1]), `tus upload of ${key} finished`);
    console.log(`# power loss: ${acked.size} acknowledged (${tusAcked.size} by tus), ${inSmall} of them small, ${versions.size} versions after; ${changes} uploads in ${batches} group commits before the kill`);
  } finally {
    await after?.s.close();
    await s.close();
    rmSync(shadow, { recursive: true, force: true });
  }
});

test('control: when the WAL flush is not counted, the simulation loses acknowledged uploads', { timeout: 5 * 60 * 1000 }, async () => {
  const shim = buildShim();
  const { s, tokens, shadow } = await watchedServer(shim, 'consort.db-wal');
  let after;
  try {
    const acked = new Map();
    for (let i = 0; i < 20; i++) {
      const body = randomBytes(10 * 1024);
      const r = await apiJson(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/ctl/c-${i}.bin`, { body });
      assert.equal(r.status, 201);
      acked.set(`c-${i}.bin#1`, sha256(body));
    }
    s.proc.kill('SIGKILL');
    await s.exited;
    after = await afterPowerLoss(shadow);
    const versions = versionsOf(after.s);
    const lost = [...acked.keys()].filter((k) => versions.get(k) !== acked.get(k));
    assert.ok(lost.length > 0, 'the shim dropped the unflushed commits');
  } finally {
    await after?.s.close();
    await s.close();
    rmSync(shadow, { recursive: true, force: true });
  }
});
