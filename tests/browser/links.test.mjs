// Share links in the browser (issue 16, docs/links.md): a manager sets the
// work package's link policy on its Settings page and sees its live
// links there; the recipient's page (/s/SECRET, no account) asks for the
// password, says so when it is wrong, shows the document and downloads
// it; a folder link is browsed and one of its files downloaded; a link
// revoked on the Settings page stops at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

const inDays = (d) => new Date(Date.now() + d * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');

test('share links: policy on the Settings page, the recipient page with a password, download, revoke', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/settings/WP2`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await page.getByLabel('Share links to people without an account').selectOption('download');
  await page.getByLabel('Longest lifetime of a link (days)').fill('14');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Settings saved').first().waitFor();
  assert.deepEqual(sql(env.s, "SELECT mode, max_days, password_required FROM link_policies p JOIN wps w ON w.id = p.wp_id WHERE w.code = 'WP2'")[0],
    { mode: 'download', max_days: 14, password_required: 0 });

  // Alice (a writer of WP2) makes two links through the API.
  const alice = await Session.login(env.s, people.alice.email);
  const mk = async (json) => {
    const r = await alice.req('POST', '/api/v1/links', { json: { wp: 'WP2', expires_at: inDays(7), ...json } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    recordSecret(r.body.secret);
    return r.body;
  };
  const doc = await mk({ path: 'Work plan 2024.txt', password: 'board review 2024', note: 'For the advisory board' });
  // ...and one through the folder list's row menu.
  await page.goto(`${env.s.url}/#/wp/WP2`);
  await page.getByRole('button', { name: 'Actions for Meetings' }).click();
  await page.getByRole('menuitem', { name: 'Share link…' }).click();
  const dlg = page.getByRole('dialog', { name: /Share “Meetings” with a link/ });
  await dlg.getByText('At most 14 days in this work package.').waitFor();
  await dlg.getByLabel('Password (optional)').fill('short');
  await dlg.getByRole('button', { name: 'Make link' }).click();
  await dlg.getByText(/password/).filter({ hasText: /8/ }).first().waitFor();
  await dlg.getByLabel('Password (optional)').fill('');
  await dlg.getByLabel('Note for the recipient (optional)').fill('Minutes of our meetings');
  await dlg.getByRole('button', { name: 'Make link' }).click();
  const made = page.getByRole('dialog', { name: 'Link made' });
  const url = await made.getByLabel('Share link').inputValue();
  assert.match(url, /^https:\/\/[^/]+\/s\/[A-Za-z0-9_-]{43}$/);
  recordSecret(url.split('/').pop());
  await made.getByRole('button', { name: 'Close' }).first().click();
  const folder = { url: new URL(url).pathname };
  assert.equal(sql(env.s, "SELECT note FROM links ORDER BY id DESC LIMIT 1")[0].note, 'Minutes of our meetings');

  // The recipient: no account, a page of its own.
  const { page: out, problems: outProblems } = await newPage(env.b, { acceptDownloads: true });
  await out.goto(`${env.s.url}${doc.url}`);
  await out.getByRole('heading', { name: 'This link is protected' }).waitFor();
  await out.getByLabel('Password').fill('not it');
  await out.getByRole('button', { name: 'Open' }).click();
  await out.getByText('That password is not right.').waitFor();
  await out.getByLabel('Password').fill('board review 2024');
  await out.getByRole('button', { name: 'Open' }).click();
  await out.getByRole('heading', { name: 'Work plan 2024.txt' }).waitFor();
  await out.getByText('For the advisory board').waitFor();
  await checkScreen(out, 'share-document');
  const [dl] = await Promise.all([out.waitForEvent('download'), out.getByRole('link', { name: 'Download' }).click()]);
  assert.equal(dl.suggestedFilename(), 'Work plan 2024.txt');
  assert.equal(readFileSync(await dl.path(), 'utf8'), 'Tasks and milestones of WP2 for 2024.\n');
  assert.equal(await out.evaluate(() => location.pathname.startsWith('/s/')), true);
  // The wrong password was a 401 the page expected.
  noProblems(outProblems, [/status of 401/]);

  // A folder link: its files, one downloaded.
  await out.goto(`${env.s.url}${folder.url}`);
  await out.getByRole('heading', { name: 'Meetings' }).waitFor();
  await out.getByText('Minutes of our meetings').waitFor();
  await out.getByRole('link', { name: /2024-06 Progress meeting.md/ }).waitFor();
  await out.getByRole('link', { name: 'Download everything (ZIP)' }).waitFor();
  const [dl2] = await Promise.all([out.waitForEvent('download'), out.getByRole('link', { name: /2024-03 Kick-off minutes.md/ }).click()]);
  assert.match(readFileSync(await dl2.path(), 'utf8'), /^# Kick-off/);

  // Alice sees both on the Settings page and revokes the document's link.
  await page.goto(`${env.s.url}/#/settings/WP2`);
  await page.getByRole('heading', { name: 'Live share links' }).waitFor();
  const row = page.locator('.settings-links tr', { hasText: 'Work plan 2024.txt' });
  await row.getByRole('cell', { name: '1', exact: true }).waitFor();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog', { name: 'Revoke this link?' }).getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('The link was revoked.').waitFor();
  await page.locator('.settings-links tr', { hasText: 'Work plan 2024.txt' }).waitFor({ state: 'detached' });
  // (GET /me before signing in is the 401 every signed-out page starts
  // with; the 400 is the short password the dialog was given)
  noProblems(problems, [/status of 401/, /status of 400/]);

  // The overview: the folder link is still live there, with its CSV.
  await page.goto(`${env.s.url}/#/admin/links`);
  await page.getByRole('heading', { level: 1, name: 'Share links' }).waitFor();
  await page.getByRole('cell', { name: /WP2\/Meetings/ }).waitFor();
  assert.equal(await page.getByRole('cell', { name: /Work plan 2024/ }).count(), 0);
  await checkScreen(page, 'share-links-overview');
  await page.getByLabel('Show').selectOption('all');
  await page.getByRole('cell', { name: /Work plan 2024/ }).waitFor();
  const csv = await page.evaluate(async () => (await fetch('/api/v1/links?state=all&format=csv')).text());
  assert.equal(csv.trim().split('\r\n').length, 3);

  await out.goto(`${env.s.url}${doc.url}`);
  await out.getByRole('heading', { name: 'This link does not work' }).waitFor();
  await checkScreen(out, 'share-gone');
});
