// litmus, the classic WebDAV compliance suite (Debian package `litmus`),
// against the real server: basic, copymove, props, locks and http. Every
// suite must pass in full (http's expect100 is skipped by litmus itself
// over TLS). litmus signs in with Basic: the email and an API token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { withServer, tempDir } from './lib/server.mjs';
import { consortium } from './lib/docs.mjs';

// litmus writes debug.log and child.log into its working directory.
function litmus(url, user, pass) {
  const cwd = tempDir('consort-litmus-');
  return new Promise((resolve) => {
    execFile('litmus', ['-k', url, user, pass],
      { cwd, env: { ...process.env, TESTS: 'basic copymove props locks http' }, timeout: 600000,
        maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        rmSync(cwd, { recursive: true, force: true });
        resolve({ code: err ? err.code : 0, out: stdout + stderr });
      });
  });
}

test('litmus: basic, copymove, props, locks and http pass', async () => {
  await withServer({}, async (s) => {
    const { tokens, emails } = await consortium(s);
    const r = await litmus(`${s.url}/dav/WP1/`, emails.writer, tokens.writer);
    const summaries = {};
    for (const m of r.out.matchAll(/<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed/g))
      summaries[m[1]] = { run: Number(m[2]), passed: Number(m[3]), failed: Number(m[4]) };
    const failures = r.out.split('\n').filter((l) => /FAIL/.test(l));
    console.log(Object.entries(summaries).map(([k, v]) => `${k}: ${v.passed}/${v.run}`).join(', '));
    assert.deepEqual(Object.keys(summaries).sort(), ['basic', 'copymove', 'http', 'locks', 'props'],
      r.out.slice(-3000));
    for (const [suite, v] of Object.entries(summaries)) {
      assert.equal(v.failed, 0, `${suite}: ${failures.join('\n')}`);
      assert.ok(v.run >= 3, `${suite} ran its tests`);
    }
    assert.equal(summaries.locks.run, 41);
    assert.equal(summaries.props.run, 30);
    assert.equal(r.code, 0, r.out.slice(-3000));
  });
});
