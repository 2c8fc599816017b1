// GNOME's WebDAV client: gvfs (what Files/Nautilus uses for davs://),
// driven with `gio` in a private D-Bus session. It mounts the share with
// Basic authentication (email + API token, answered at its prompt),
// lists, saves a file twice (two versions), makes a folder, copies,
// renames, reads back, asks for the ETag, and deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withServer, tempDir } from './lib/server.mjs';
import { consortium, apiJson, sha256 } from './lib/docs.mjs';

// One shell script per run: gvfsd lives as long as the D-Bus session.
function script(url, email, token) {
  return `set -u
/usr/libexec/gvfsd --no-fuse >/dev/null 2>&1 &
sleep 1
U=${url}
# gvfs asks about the test CA (1: log in anyway), then user and password.
printf '1\\n%s\\n%s\\n' '${email}' '${token}' | timeout 60 gio mount "$U/" >/dev/null 2>&1 || echo MOUNT-FAILED
echo "== list"; gio list "$U/"
printf 'first version\\n' | gio save "$U/Gio note.txt" && echo SAVED1
printf 'second\\n' | gio save "$U/Gio note.txt" && echo SAVED2
gio mkdir "$U/Gio folder" && echo MKDIR
gio copy "$U/Gio note.txt" "$U/Gio folder/copy.txt" && echo COPIED
gio move "$U/Gio folder/copy.txt" "$U/Gio folder/renamed.txt" && echo MOVED
echo "== cat"; gio cat "$U/Gio folder/renamed.txt"
echo "== info"; gio info -a etag::value,standard::size "$U/Gio note.txt"
gio remove "$U/Gio folder/renamed.txt" && echo REMOVED
echo "== after"; gio list "$U/Gio folder/"
gio mount -u "$U/" && echo UNMOUNTED
`;
}

test('gvfs (gio): mount with Basic, list, save twice, mkdir, copy, rename, read, delete', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/existing.txt', { body: 'x' });
    const dir = tempDir('consort-gvfs-');
    try {
      const url = `davs://127.0.0.1:${s.port}/dav/WP1`;
      writeFileSync(join(dir, 'run.sh'), script(url, emails.writer, tokens.writer));
      const out = await new Promise((resolve) => {
        execFile('dbus-run-session', ['--', 'bash', join(dir, 'run.sh')],
          { cwd: dir, env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir }, timeout: 180000 },
          (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
      });
      const o = out.stdout;
      assert.doesNotMatch(o, /MOUNT-FAILED/, out.stderr.slice(-2000));
      assert.match(o, /== list\nexisting\.txt\n/);
      for (const step of ['SAVED1', 'SAVED2', 'MKDIR', 'COPIED', 'MOVED', 'REMOVED', 'UNMOUNTED'])
        assert.match(o, new RegExp(step), `${step}:\n${o}\n${out.stderr.slice(-2000)}`);
      assert.match(o, /== cat\nsecond\n/);
      assert.match(o, new RegExp(`etag::value: "${sha256('second\n')}"`));
      assert.match(o, /standard::size: 7/);
      assert.match(o, /== after\n(?!.*renamed)/);

      const doc = await apiJson(s, tokens.reader, 'GET', `/api/v1/wps/WP1/tree/${encodeURIComponent('Gio note.txt')}`);
      assert.deepEqual(doc.body.versions.map((v) => [v.version, v.size]), [[2, 7], [1, 14]]);
      const trash = await apiJson(s, tokens.reader, 'GET', '/api/v1/wps/WP1/trash');
      assert.deepEqual(trash.body.items.map((i) => i.path), ['Gio folder/renamed.txt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
