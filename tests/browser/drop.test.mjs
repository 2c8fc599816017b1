// Drop links in the browser (issue 16, docs/links.md): a writer makes one
// through the folder row's "Share link…" dialog; then someone without an account opens the link, states their name, sends a
// file with the picker (progress shown to the end) and one by
// drag-and-drop; a file over the link's size limit is refused with a
// clear message; the page shows nothing of the folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { documents } from './lib/fixture.mjs';
import { Session, sql } from '../e2e/lib/accounts.mjs';
import { recordSecret } from '../e2e/lib/secrets.mjs';

let env;
before(async () => {
  env = await setup();
  await documents(env.s);
});
after(async () => { await env.close(); });


test('drop page: name, file picker with progress, drag-and-drop, size limit', async () => {
  const alice = await Session.login(env.s, people.alice.email);
  let r = await alice.req('PATCH', '/api/v1/wps/WP2', { json: { links: 'drop' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Alice makes it through the folder row's "Share link…" dialog.
  const { page } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/wp/WP2`);
  await page.getByRole('button', { name: 'Actions for Meetings' }).click();
  await page.getByRole('menuitem', { name: 'Share link…' }).click();
  const dlg = page.getByRole('dialog', { name: /Share “Meetings” with a link/ });
  await dlg.getByLabel('Kind of link').selectOption('drop');
  assert.equal(await dlg.getByLabel('Most downloads (optional)').isVisible(), false);
  await dlg.getByLabel('Most files (optional)').fill('5');
  await dlg.getByLabel('Largest file in MB (optional)').fill('6.3');
  await dlg.getByLabel('Note for the recipient (optional)').fill('Please send the signed minutes');
  await dlg.getByRole('button', { name: 'Make link' }).click();
  const made = page.getByRole('dialog', { name: 'Link made' });
  const url = await made.getByLabel('Share link').inputValue();
  recordSecret(url.split('/').pop());
  const link = sql(env.s, 'SELECT id, kind, max_uses, max_file_size FROM links ORDER BY id DESC LIMIT 1')[0];
  assert.deepEqual({ ...link, id: 0 }, { id: 0, kind: 'drop', max_uses: 5, max_file_size: 6300000 });
  const linkId = link.id;
  // Its managers see it among the work package's links, marked as drop.
  await page.goto(`${env.s.url}/#/settings/WP2`);
  await page.locator('.settings-links tr', { hasText: 'Meetings (drop)' }).getByRole('cell', { name: '0 / 5', exact: true }).waitFor();

  const { page: out, problems } = await newPage(env.b);
  await out.goto(url);
  await out.getByRole('heading', { name: 'Send files' }).waitFor();
  await out.getByText('Please send the signed minutes').waitFor();
  await out.getByText(/At most 6.3 MB per file · 5 more files accepted/).waitFor();
  assert.equal(await out.getByText('Kick-off').count(), 0, 'nothing of the folder shows');
  await checkScreen(out, 'drop-page');

  // No name: said so, nothing sent.
  await out.locator('#drop-files').setInputFiles({ name: 'early.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
  await out.getByText('Enter your name first.').waitFor();

  // The picker: a 5 MiB file, its bar followed to the end.
  await out.getByLabel('Your name').fill('Eve Reviewer');
  await out.evaluate(() => {
    window.seen = [];
    window.poll = setInterval(() => { const p = document.querySelector('progress'); if (p) window.seen.push(Number(p.value)); }, 5);
  });
  const big = Buffer.alloc(5 * 1024 * 1024, 7);
  await out.locator('#drop-files').setInputFiles({ name: 'signed minutes.pdf', mimeType: 'application/pdf', buffer: big });
  await out.locator('.drop-item', { hasText: 'signed minutes.pdf' }).getByText('Sent').waitFor({ timeout: 60000 });
  const seen = await out.evaluate(() => { clearInterval(window.poll); return window.seen; });
  assert.equal(seen[seen.length - 1], big.length, 'the bar ends full');
  assert.equal(await out.locator('.drop-item progress').first().getAttribute('max'), String(big.length));

  // Drag-and-drop onto the zone.
  const dt = await out.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['dropped by hand'], 'note.txt', { type: 'text/plain' }));
    return d;
  });
  await out.locator('.drop-zone').dispatchEvent('drop', { dataTransfer: dt });
  await out.locator('.drop-item', { hasText: 'note.txt' }).getByText('Sent').waitFor();

  // Over the size limit: refused, said clearly.
  await out.locator('#drop-files').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(6300001) });
  await out.locator('.drop-item', { hasText: 'huge.bin' }).getByText('Too large for this link').waitFor();

  const rows = sql(env.s, `SELECT object FROM audit WHERE action = 'upload' AND actor = 'link #${linkId}' ORDER BY id`);
  assert.equal(rows.length, 2);
  assert.match(rows[0].object, /^Meetings\/Eve Reviewer \d{4}-\d\d-\d\dT\d{6}Z signed minutes\.pdf$/);
  assert.match(rows[1].object, /^Meetings\/Eve Reviewer \d{4}-\d\d-\d\dT\d{6}Z note\.txt$/);
  noProblems(problems, [/status of 413/]);
});
