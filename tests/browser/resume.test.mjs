// Resumable uploads in the browser: the connection is cut in the middle
// of an upload and the network stays down for a moment; the app says so,
// resumes by itself from what the server kept (tus HEAD, then PATCH from
// that offset), and the document arrives whole. Then the page is
// reloaded mid-upload: the unfinished upload is listed, the same file is
// chosen again, and it resumes instead of starting over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setup, newPage, signIn, checkScreen, noProblems, hasRoute, people } from './lib/common.mjs';
import { startProxy } from './lib/proxy.mjs';
import { Session } from '../e2e/lib/accounts.mjs';

const docs = hasRoute('POST', '/api/v1/uploads');
const skip = !docs && 'needs the documents routes';
const sha = (b) => createHash('sha256').update(b).digest('hex');
let env;
let proxy;
before(async () => {
  env = await setup();
  proxy = await startProxy(env.s.port, { rate: 0 });
});
after(async () => { await proxy.close(); await env.close(); });

function patches(page) {
  const seen = [];
  page.on('request', (r) => {
    if (r.method() === 'PATCH' && r.url().includes('/api/v1/uploads/')) seen.push(Number(r.headers()['upload-offset']));
  });
  page.on('response', (r) => { if (r.url().includes('/api/v1/uploads')) seen.log.push(`${r.request().method()} ${r.status()} ${r.headers()['upload-offset']}`); });
  seen.log = [];
  return seen;
}

async function content(path) {
  const me = await Session.login(env.s, people.alice.email);
  const r = await me.s.fetch(`/api/v1/wps/WP2/content/${path.split('/').map(encodeURIComponent).join('/')}`, {
    headers: { cookie: `__Host-consort=${me.cookie}` },
  });
  assert.equal(r.status, 200);
  return Buffer.from(await r.arrayBuffer());
}

test('a cut connection during an upload: the app retries and the upload completes', { skip }, async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, proxy.url, people.alice);
  const offsets = patches(page);
  await page.goto(`${proxy.url}/#/wp/WP2`);
  await page.getByRole('heading', { level: 1, name: /Germline/ }).waitFor();
  const data = randomBytes(8_000_000);
  proxy.setRate(2_000_000);
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByRole('menuitem', { name: 'Upload files' }).click();
  await (await chooser).setFiles([{ name: 'Imaging dataset.zip', mimeType: 'application/zip', buffer: data }]);
  // Let about a third arrive, then cut everything and stay down 3 s.
  const start = proxy.state.forwarded;
  while (proxy.state.forwarded - start < 3_000_000) await new Promise((r) => setTimeout(r, 50));
  proxy.cut(3000);
  await page.locator('.upload-status', { hasText: /Connection lost at \d+%/ }).waitFor({ timeout: 15000 });
  await checkScreen(page, 'upload-retrying');
  proxy.setRate(0);
  await page.locator('.upload[data-state=done]').waitFor({ timeout: 60000 });
  assert.match(await page.locator('.upload-status').first().textContent(), /Done · version 1/);
  assert.ok(offsets.length >= 2, `a second PATCH resumed the upload: ${offsets}`);
  assert.equal(offsets[0], 0);
  assert.ok(offsets.at(-1) > 0, `it resumed from what the server kept, not from 0: ${offsets}`);
  assert.equal(sha(await content('Imaging dataset.zip')), sha(data));
  noProblems(problems, [/status of 401/, /status of 404/, /ERR_CONNECTION|net::|Failed to load resource/]);
  await page.close();
});

// The name becomes a folder while the bytes travel: the last PATCH is a
// 409 that HEAD shows is not about offsets. The app says why and stops,
// instead of sending the whole file again and again.
test('a commit refused with 409 ends the upload with its reason, not a loop', { skip }, async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, proxy.url, people.alice);
  const offsets = patches(page);
  await page.goto(`${proxy.url}/#/wp/WP2`);
  await page.getByRole('heading', { level: 1, name: /Germline/ }).waitFor();
  const data = randomBytes(3_000_000);
  proxy.setRate(2_000_000);
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByRole('menuitem', { name: 'Upload files' }).click();
  await (await chooser).setFiles([{ name: 'Plate map.bin', mimeType: 'application/octet-stream', buffer: data }]);
  while (offsets.length === 0) await new Promise((r) => setTimeout(r, 50));
  const me = await Session.login(env.s, people.alice.email);
  const r = await me.req('POST', '/api/v1/wps/WP2/folders', { json: { path: 'Plate map.bin' } });
  assert.equal(r.status, 201);
  proxy.setRate(0);
  const failed = page.locator('.upload[data-state=failed]');
  await failed.waitFor({ timeout: 30000 });
  assert.match(await failed.locator('.upload-status').textContent(), /is a folder/);
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(offsets.length, 1, `one PATCH, not sent again: ${offsets.log}`);
  noProblems(problems, [/status of 409/, /Failed to load resource/]);
  await page.close();
});

test('a page reload during an upload: choosing the same file again resumes it', { skip }, async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, proxy.url, people.alice);
  const offsets = patches(page);
  await page.goto(`${proxy.url}/#/wp/WP2`);
  await page.getByRole('heading', { level: 1, name: /Germline/ }).waitFor();
  const data = randomBytes(12_000_000);
  const f = { name: 'Sequencing run 7.bin', mimeType: 'application/octet-stream', buffer: data };
  proxy.setRate(1_500_000);
  let chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByRole('menuitem', { name: 'Upload files' }).click();
  await (await chooser).setFiles([f]);
  const start = proxy.state.forwarded;
  while (proxy.state.forwarded - start < 2_500_000) await new Promise((r) => setTimeout(r, 50));
  // The tab is reloaded (the bytes still in socket buffers never arrive:
  // the proxy drops them, as a closed laptop lid would).
  proxy.cut(0);
  page.once('dialog', (d) => d.accept()); // "leave the page?" while uploading
  await page.reload();
  proxy.setRate(0);
  const left = page.locator('.upload[data-state=left]');
  await left.waitFor();
  assert.match(await left.textContent(), /Sequencing run 7\.bin/);
  await checkScreen(page, 'upload-leftover');
  chooser = page.waitForEvent('filechooser');
  await left.getByRole('button', { name: 'Choose file Sequencing run 7.bin again to resume' }).click();
  await (await chooser).setFiles([f]);
  await page.locator('.upload[data-state=done]').waitFor({ timeout: 60000 });
  assert.ok(offsets.at(-1) > 1_000_000, `resumed from the server's offset after the reload: ${offsets} ${offsets.log}`);
  assert.equal(sha(await content('Sequencing run 7.bin')), sha(data));
  assert.equal(await page.locator('.upload[data-state=left]').count(), 0, 'nothing left over');
  noProblems(problems, [/status of 401/, /status of 404/, /Failed to load resource/]);
  await page.close();
});
