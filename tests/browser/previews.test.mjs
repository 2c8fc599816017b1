// Previews in the app (issue 18): a folder shows first-page thumbnails
// of a PDF, a picture and a PPTX; the PPTX's document page shows its
// slides, paged with the keyboard and the buttons, fitting a 360 px
// screen; a document without a preview shows no pane, and one whose
// preview failed says why and offers the download. The PPTX needs
// LibreOffice: under the normal build only (the sanitizer pass skips).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { Session } from '../e2e/lib/accounts.mjs';
import { PDF_DOC, officeDocs } from '../e2e/lib/previews.mjs';
import { sanitized } from '../e2e/lib/search.mjs';
import { tempDir } from '../e2e/lib/server.mjs';

const skip = sanitized && 'LibreOffice previews are tested under the normal build only';
let env, work, docs;
before(async () => {
  if (skip) return;
  work = tempDir('consort-office-');
  docs = officeDocs(work, { slides: 5 });
  env = await setup();
});
after(async () => {
  await env?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('thumbnails in a folder; paging through a PPTX; a failed preview offers the download', { skip }, async () => {
  const me = await Session.login(env.s, people.alice.email);
  const put = async (name, body) => {
    const r = await me.req('PUT', `/api/v1/wps/WP2/content/Previews/${encodeURIComponent(name)}`, { body });
    assert.ok(r.status === 201 || r.status === 200, `${name}: ${r.status}`);
  };
  await put('Spec.pdf', readFileSync(PDF_DOC));
  await put('Deck.pptx', docs.pptx);
  await put('Broken.pdf', Buffer.from('%PDF-1.4\nnot really\n'));
  await put('Notes.bin', Buffer.alloc(100, 1));

  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/wp/WP2/Previews`);
  await page.locator('.fl-link', { hasText: 'Deck.pptx' }).waitFor();
  // PDF and PPTX rows get their first page (the PPTX once converted)
  await page.locator('.fl-row', { hasText: 'Spec.pdf' }).locator('.fl-thumb.loaded').waitFor({ timeout: 60000 });
  await page.locator('.fl-row', { hasText: 'Deck.pptx' }).locator('.fl-thumb.loaded').waitFor({ timeout: 180000 });
  await page.waitForTimeout(1000);
  assert.equal(await page.locator('.fl-row', { hasText: 'Notes.bin' }).locator('.fl-thumb.loaded').count(), 0, 'no thumbnail for a binary');
  await checkScreen(page, 'folder-thumbnails');

  await page.locator('.fl-link', { hasText: 'Deck.pptx' }).click();
  await page.getByRole('heading', { level: 1, name: 'Deck.pptx' }).waitFor();
  const pane = page.locator('.doc-preview');
  await pane.locator('.preview-page img').first().waitFor({ timeout: 60000 });
  assert.equal(await pane.locator('.preview-page').count(), 5);
  const indicator = pane.locator('.preview-indicator');
  assert.equal(await indicator.textContent(), 'Page 1 of 5');
  await pane.locator('.preview-pages').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.locator('.preview-indicator', { hasText: 'Page 3 of 5' }).waitFor();
  await pane.getByRole('button', { name: 'Previous page' }).click();
  await page.locator('.preview-indicator', { hasText: 'Page 2 of 5' }).waitFor();
  await pane.locator('.preview-pages').focus();
  await page.keyboard.press('End');
  await page.locator('.preview-indicator', { hasText: 'Page 5 of 5' }).waitFor();
  // the slides load as they come into view; every one arrives
  await page.waitForFunction(() => [...document.querySelectorAll('.preview-page img')].every((i) => i.complete && i.naturalWidth > 0),
    null, { timeout: 60000 });
  const fit = await page.evaluate(() => {
    const img = document.querySelector('.preview-page img');
    return img.getBoundingClientRect().width <= document.querySelector('.preview-pages').clientWidth;
  });
  assert.ok(fit, 'pages fit the width of the pane');
  await checkScreen(page, 'document-preview');

  await page.goto(`${env.s.url}/#/wp/WP2/Previews/Broken.pdf`);
  await page.getByRole('heading', { level: 1, name: 'Broken.pdf' }).waitFor();
  await page.locator('.preview-status', { hasText: 'No preview:' }).waitFor({ timeout: 60000 });
  assert.equal(await page.locator('.preview-status a', { hasText: 'Download' }).count(), 1);

  await page.goto(`${env.s.url}/#/wp/WP2/Previews/Notes.bin`);
  await page.getByRole('heading', { level: 1, name: 'Notes.bin' }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(await page.locator('.doc-preview:visible').count(), 0, 'no preview pane for a binary');
  noProblems(problems, [/status of 401/]); // before signing in
  await page.close();
});
