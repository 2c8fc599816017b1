// A second, independent WebDAV client: rclone (Debian package, Go), the
// tool people use to sync folders with WebDAV shares. It copies a tree
// up (MKCOL, PUT), checks it byte for byte by downloading it, uploads a
// changed file (a new version), renames (MOVE) and syncs a deletion
// (DELETE to the trash); the JSON API must see each of these.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { withServer, tempDir } from './lib/server.mjs';
import { consortium, apiJson, sha256 } from './lib/docs.mjs';

function rclone(s, who, args) {
  const env = {
    ...process.env,
    RCLONE_CONFIG: '/nonexistent/rclone.conf',
    RCLONE_CONFIG_C_TYPE: 'webdav',
    RCLONE_CONFIG_C_URL: `${s.url}/dav/`,
    RCLONE_CONFIG_C_VENDOR: 'other',
    RCLONE_CONFIG_C_USER: who.email,
    RCLONE_CONFIG_C_PASS: who.obscured,
  };
  return new Promise((resolve) => {
    execFile('rclone', ['--ca-cert', process.env.NODE_EXTRA_CA_CERTS, '--low-level-retries', '1',
      '--retries', '1', ...args], { env, timeout: 120000, maxBuffer: 16 * 1024 * 1024 },
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

function obscure(password) {
  return new Promise((resolve, reject) => {
    execFile('rclone', ['obscure', password], (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
  });
}

test('rclone: copy a tree up, check it, update, rename, sync a deletion', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const writer = { email: emails.writer, obscured: await obscure(tokens.writer) };
    const local = tempDir('consort-rclone-');
    try {
      const big = randomBytes(300 * 1024);
      mkdirSync(join(local, 'Dossier été', 'sub'), { recursive: true });
      writeFileSync(join(local, 'a.txt'), 'first\n');
      writeFileSync(join(local, 'Dossier été', 'b.bin'), big);
      writeFileSync(join(local, 'Dossier été', 'sub', 'c.txt'), 'deep\n');

      let r = await rclone(s, writer, ['lsjson', 'C:']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).map((e) => [e.Path, e.IsDir]), [['WP1', true]]);

      r = await rclone(s, writer, ['copy', local, 'C:WP1/up']);
      assert.equal(r.code, 0, r.stderr);
      r = await rclone(s, writer, ['check', '--download', local, 'C:WP1/up']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /0 differences found/);
      assert.match(r.stderr, /3 matching files/);

      const b = await apiJson(s, tokens.reader, 'GET',
        `/api/v1/wps/WP1/tree/up/${encodeURIComponent('Dossier été')}/b.bin`);
      assert.equal(b.status, 200);
      assert.equal(b.body.etag, `"${sha256(big)}"`);

      // A changed file is a new version of the same document.
      writeFileSync(join(local, 'a.txt'), 'second, longer\n');
      r = await rclone(s, writer, ['copy', local, 'C:WP1/up']);
      assert.equal(r.code, 0, r.stderr);
      let a = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/tree/up/a.txt');
      assert.deepEqual(a.body.versions.map((v) => v.size), [15, 6]);

      r = await rclone(s, writer, ['moveto', 'C:WP1/up/a.txt', 'C:WP1/up/renamed.txt']);
      assert.equal(r.code, 0, r.stderr);
      a = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/tree/up/renamed.txt');
      assert.equal(a.body.version, 2); // history moved with it
      r = await rclone(s, writer, ['cat', 'C:WP1/up/renamed.txt']);
      assert.equal(r.stdout, 'second, longer\n');

      // Sync a tree without sub/: rclone deletes it on the share, and
      // consort keeps it in the trash.
      rmSync(join(local, 'Dossier été', 'sub'), { recursive: true });
      rmSync(join(local, 'a.txt'));
      writeFileSync(join(local, 'renamed.txt'), readFileSync(join(local, 'Dossier été', 'b.bin')).subarray(0, 10));
      r = await rclone(s, writer, ['sync', local, 'C:WP1/up']);
      assert.equal(r.code, 0, r.stderr);
      const trash = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/trash');
      assert.ok(trash.body.items.some((i) => i.path.startsWith('up/Dossier été/sub')), JSON.stringify(trash.body));
      a = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/tree/up/renamed.txt');
      assert.equal(a.body.version, 3);

      // A reader's rclone cannot write.
      const reader = { email: emails.reader, obscured: await obscure(tokens.reader) };
      r = await rclone(s, reader, ['copy', local, 'C:WP1/reader']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /403/);
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });
});
