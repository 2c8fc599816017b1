// Documents in the browser: three files uploaded at once with their
// progress shown, a name clash answered with "keep both", the version
// history with the download of an old version and a restore, and a
// document moved to the trash and restored from it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setup, newPage, signIn, checkScreen, noProblems, hasRoute, people } from './lib/common.mjs';
import { startProxy } from './lib/proxy.mjs';
import { documents } from './lib/fixture.mjs';
import { Session } from '../e2e/lib/accounts.mjs';

const docs = hasRoute('POST', '/api/v1/uploads');
const sha = (b) => createHash('sha256').update(b).digest('hex');
let env;
let proxy;
before(async () => {
  env = await setup();
  if (docs) {
    await documents(env.s);
    // Uploads go through a proxy that limits them to 8 MB/s, so the
    // progress can be watched (socket buffers hold a few MB, so the
    // files are larger than that).
    proxy = await startProxy(env.s.port, { rate: 8_000_000 });
  }
});
after(async () => { if (proxy) await proxy.close(); await env.close(); });

const skip = !docs && 'needs the documents routes';

function file(name, size, fill) {
  const buffer = randomBytes(size);
  if (fill) buffer.write(fill, 0);
  return { name, mimeType: 'application/octet-stream', buffer };
}

async function get(session, path) {
  const enc = path.split('/').map(encodeURIComponent).join('/');
  return session.req('GET', `/api/v1/wps/WP2/tree/${enc}`);
}

test('upload three files with progress, then a name clash kept as both', { skip }, async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, proxy.url, people.alice);
  await page.goto(`${proxy.url}/#/wp/WP2/Deliverables`);
  await page.getByRole('heading', { level: 1, name: 'Deliverables' }).waitFor();
  await checkScreen(page, 'folder');
  const files = [file('D2.3 Survey results.xlsx', 20_000_000), file('D2.4 Training plan.docx', 16_000_000), file('Annex A.pdf', 12_000_000, '%PDF-1.4\n')];
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByRole('menuitem', { name: 'Upload files' }).click();
  await (await chooser).setFiles(files);
  const panel = page.getByRole('region', { name: /Uploading|upload/ });
  await panel.waitFor();
  // Progress is shown: bytes, percentage, speed and time left, and the bars move.
  const status = page.locator('.upload-status').filter({ hasText: /of .*\(\d+%\).*\/s.*left/ }).first();
  await status.waitFor({ timeout: 20000 });
  const seen = await page.locator('.upload-bar').evaluateAll((bars) => bars.map((b) => b.value));
  assert.ok(seen.some((v) => v > 0), `some progress: ${seen}`);
  await checkScreen(page, 'uploading', { axeExclude: [] });
  await page.locator('.upload[data-state=done]').nth(2).waitFor({ timeout: 60000 });
  assert.equal(await page.locator('.upload[data-state=done]').count(), 3);
  // The title follows on the next animation frame.
  await page.locator('.uploads-title', { hasText: /3 uploads complete/ }).waitFor({ timeout: 5000 });
  for (const f of files) await page.locator('.fl-link', { hasText: f.name }).waitFor();
  const me = await Session.login(env.s, people.alice.email);
  for (const f of files) {
    const r = await me.req('GET', `/api/v1/wps/WP2/content/Deliverables/${encodeURIComponent(f.name)}`);
    assert.equal(r.status, 200);
  }

  // The same name again: asked, and "keep both" makes "Annex A (2).pdf".
  // A file this small goes whole with the creation request: no PATCH.
  const tusRequests = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/uploads')) tusRequests.push(r.method()); });
  const chooser2 = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByRole('menuitem', { name: 'Upload files' }).click();
  await (await chooser2).setFiles([file('Annex A.pdf', 1000, '%PDF-1.4\n')]);
  const dlg = page.getByRole('dialog', { name: '“Annex A.pdf” already exists' });
  await dlg.waitFor();
  await checkScreen(page, 'name-clash');
  await dlg.getByText('Keep both').click();
  await dlg.getByRole('button', { name: 'Continue' }).click();
  await page.locator('.fl-link', { hasText: 'Annex A (2).pdf' }).waitFor();
  assert.deepEqual(tusRequests, ['POST'], 'one creation request carried the small file');
  const r2 = await me.req('GET', `/api/v1/wps/WP2/content/Deliverables/${encodeURIComponent('Annex A (2).pdf')}`);
  assert.equal(r2.status, 200);
  assert.equal((await get(me, 'Deliverables/Annex A (2).pdf')).body.mime, 'application/pdf');
  assert.equal((await get(me, 'Deliverables/Annex A.pdf')).body.version, 1, 'the first stays at version 1');
  noProblems(problems, [/status of 401/, /status of 404/]);
  await page.close();
});

test('version history: download an old version, restore it', { skip }, async () => {
  const { page, problems } = await newPage(env.b, { acceptDownloads: true });
  await signIn(page, env.s.url, people.alice);
  const path = 'Deliverables/D2.1 Germline testing guidelines.pdf';
  await page.goto(`${env.s.url}/#/wp/WP2/${path.split('/').map(encodeURIComponent).join('/')}`);
  await page.getByRole('heading', { level: 1, name: 'D2.1 Germline testing guidelines.pdf' }).waitFor();
  const rows = page.locator('.doc-versions tbody tr');
  assert.equal(await rows.count(), 3);
  assert.match(await rows.nth(2).textContent(), /First draft for the partners/);
  await checkScreen(page, 'document');

  const me = await Session.login(env.s, people.alice.email);
  const v1 = await me.req('GET', `/api/v1/wps/WP2/content/${encodeURIComponent('Deliverables')}/${encodeURIComponent('D2.1 Germline testing guidelines.pdf')}?version=1`);
  const dl = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download version 1' }).click();
  const download = await dl;
  assert.equal(download.suggestedFilename(), 'D2.1 Germline testing guidelines.pdf');
  const got = readFileSync(await download.path());
  assert.equal(sha(got), sha(Buffer.from(v1.body)), 'the bytes of version 1');
  assert.match(got.toString(), /draft 1/);

  await page.getByRole('button', { name: 'Restore version 1' }).click();
  const dlg = page.getByRole('dialog', { name: 'Restore version 1?' });
  await dlg.getByLabel('Comment').fill('Back to the first draft');
  await checkScreen(page, 'restore');
  await dlg.getByRole('button', { name: 'Restore' }).click();
  await page.getByText('Version 1 restored as version 4.').waitFor();
  await page.locator('.doc-versions tbody tr').nth(3).waitFor();
  const top = await page.locator('.doc-versions tbody tr').first().textContent();
  assert.match(top, /v4/);
  assert.match(top, /restored from v1/);
  assert.match(top, /Back to the first draft/);
  const now = await me.req('GET', `/api/v1/wps/WP2/content/${encodeURIComponent('Deliverables')}/${encodeURIComponent('D2.1 Germline testing guidelines.pdf')}`);
  assert.equal(sha(Buffer.from(now.body)), sha(Buffer.from(v1.body)));
  noProblems(problems, [/status of 401/]);
  await page.close();
});

test('rename, move to the trash, restore from the trash; keyboard through a folder', { skip }, async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/wp/WP2/Meetings`);
  await page.getByRole('heading', { level: 1, name: 'Meetings' }).waitFor();
  // Keyboard: focus the first row, move down, rename with F2.
  const first = page.locator('.fl-row[aria-rowindex="2"]');
  await first.focus();
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-rowindex')), '3');
  await page.keyboard.press('F2');
  const dlg = page.getByRole('dialog', { name: /Rename/ });
  await dlg.getByLabel('New name').fill('2024-06 Progress meeting (final).md');
  await dlg.getByRole('button', { name: 'Rename' }).click();
  await page.locator('.fl-link', { hasText: '2024-06 Progress meeting (final).md' }).waitFor();
  // Delete moves it to the trash (with an undo in the message).
  await page.locator('.fl-row', { hasText: 'Kick-off' }).focus();
  await page.keyboard.press('Delete');
  await page.getByText('“2024-03 Kick-off minutes.md” moved to the trash.').waitFor();
  await page.locator('.fl-link', { hasText: 'Kick-off' }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Trash' }).click();
  await page.getByRole('heading', { level: 1, name: 'Trash' }).waitFor();
  await checkScreen(page, 'trash');
  await page.getByRole('button', { name: 'Restore 2024-03 Kick-off minutes.md' }).click();
  await page.getByText('“2024-03 Kick-off minutes.md” restored.').waitFor();
  await page.getByText('The trash is empty').waitFor();
  await page.goto(`${env.s.url}/#/wp/WP2/Meetings`);
  await page.locator('.fl-link', { hasText: 'Kick-off' }).waitFor();
  // Backspace goes up a folder.
  await page.locator('.fl-row[aria-rowindex="2"]').focus();
  await page.keyboard.press('Backspace');
  await page.getByRole('heading', { level: 1, name: /Germline testing guidelines/ }).waitFor();
  noProblems(problems, [/status of 401/]);
  await page.close();
});

// The list's behaviour is the browser's; under the sanitizer build only
// making the documents is slower, so it makes fewer.
const N = process.env.CONSORT_SANITIZED ? 2000 : 10000;

test('a folder of 10,000 documents scrolls without rendering them all', { skip }, async () => {
  const me = await Session.login(env.s, people.alice.email);
  const put = (i) => me.req('PUT', `/api/v1/wps/WP2/content/Big/doc-${String(i).padStart(5, '0')}.txt`, { body: `document ${i}\n` });
  for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => put(i + k)));
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  const t0 = Date.now();
  await page.goto(`${env.s.url}/#/wp/WP2/Big`);
  await page.locator('.fl-link', { hasText: 'doc-00000.txt' }).waitFor();
  const firstPaint = Date.now() - t0;
  assert.equal(await page.locator('.filelist').getAttribute('aria-rowcount'), String(N + 1));
  const rowsInDom = await page.locator('.filelist-body .fl-row').count();
  assert.ok(rowsInDom < 60, `only the rows in view exist: ${rowsInDom}`);
  // Jump to the end with the keyboard and scroll back by wheel.
  await page.locator('.fl-row[aria-rowindex="2"]').focus();
  const t1 = Date.now();
  await page.keyboard.press('End');
  await page.locator('.fl-link', { hasText: `doc-${String(N - 1).padStart(5, '0')}.txt` }).waitFor();
  const toEnd = Date.now() - t1;
  const frames = await page.evaluate(async () => {
    const times = [];
    let last = performance.now();
    for (let i = 0; i < 60; i++) {
      window.scrollBy(0, -900);
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((a, b) => a - b);
    return { median: times[30], worst: times[59] };
  });
  await screenshot10k(page);
  console.log(`${N} documents: first rows in ${firstPaint} ms, End in ${toEnd} ms, scroll frame median ${frames.median.toFixed(1)} ms, worst ${frames.worst.toFixed(1)} ms`);
  // Frame times are printed above, not asserted (timing belongs to
  // benchmarks). What must hold is that the work per frame does not grow
  // with the folder: a few dozen rows exist, whatever the scroll position.
  assert.ok(await page.locator('.filelist-body .fl-row').count() < 60);
  // Filtering by name loads the rest and narrows the list.
  await page.getByLabel('Filter this folder by name').fill('doc-0199');
  await page.getByText(`10 of ${N.toLocaleString('en')} match`).waitFor({ timeout: 20000 });
  noProblems(problems, [/status of 401/]);
  await page.close();
});

async function screenshot10k(page) {
  const { screenshot } = await import('./lib/browser.mjs');
  await screenshot(page, 'folder-10000-laptop');
}
