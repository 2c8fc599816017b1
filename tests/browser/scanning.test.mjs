// Malware scanning in the app (docs/scanning.md): a document accepted
// without a scan (over clamd's stream limit, policy accept-unscanned)
// carries an "Unscanned" badge in the folder listing, in the document's
// header and on its version; a clean one carries none. A real clamd is
// started by the test (tests/e2e/lib/clamd.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, people } from './lib/common.mjs';
import { startClamd } from '../e2e/lib/clamd.mjs';

let env, clamd;
before(async () => {
  clamd = await startClamd();
  env = await setup({ args: ['--clamd-socket', clamd.sock, '--scan-unscannable', 'accept-unscanned'] });
  const { Session } = await import('../e2e/lib/accounts.mjs');
  const me = await Session.login(env.s, people.coord.email);
  let r = await me.req('PUT', '/api/v1/wps/WP1/content/Scans/big-dataset.csv', { body: Buffer.alloc(1536 * 1024, 'x') });
  assert.equal(r.status, 201);
  assert.equal(r.body.scan, 'unscanned');
  r = await me.req('PUT', '/api/v1/wps/WP1/content/Scans/minutes.txt', { body: Buffer.from('clean minutes') });
  assert.equal(r.body.scan, 'clean');
});
after(async () => { await env?.close(); await clamd?.stop(); clamd?.cleanup(); });

test('an unscanned document is marked in the listing and on the document', async () => {
  const { page } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/wp/WP1/Scans`);
  const row = page.locator('.fl-row', { hasText: 'big-dataset.csv' });
  await row.waitFor();
  assert.equal(await row.locator('.badge', { hasText: 'Unscanned' }).count(), 1);
  const clean = page.locator('.fl-row', { hasText: 'minutes.txt' });
  assert.equal(await clean.locator('.badge', { hasText: 'Unscanned' }).count(), 0);
  await checkScreen(page, 'scanning-browse');
  await row.locator('a.fl-link').click();
  await page.locator('.page-sub .badge', { hasText: 'Unscanned' }).waitFor();
  const title = await page.locator('.page-sub .badge', { hasText: 'Unscanned' }).getAttribute('title');
  assert.match(title, /without a malware scan/);
  assert.equal(await page.locator('tr .badge', { hasText: 'Unscanned' }).count(), 1, 'on the version');
});
