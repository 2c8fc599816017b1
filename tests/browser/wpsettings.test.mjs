// Work-package settings and check-out in the browser (issue 14): the
// coordinator sees usage against the quota, is told what a retention
// change would remove before it is saved ("This removes 2 old
// versions"), archives the work package; a manager checks a document out
// ("Checked out by Alice Martin until …") and another member then gets
// 423 from the API; check-in uploads the edited file as a new version
// and releases the lock, or only releases it without a file; the work
// package's language set on the Settings page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { documents } from './lib/fixture.mjs';
import { Session, sql } from '../e2e/lib/accounts.mjs';

let env;
before(async () => {
  env = await setup();
  await documents(env.s);
});
after(async () => { await env.close(); });

test('settings: usage, a retention change confirmed with what it removes, archiving', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/wp/WP2`);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  const usage = page.locator('.settings-usage');
  await usage.getByText('(no quota)').waitFor();
  const versionsBefore = sql(env.s, "SELECT count(*) AS n FROM versions v JOIN nodes n ON n.id = v.node_id JOIN wps w ON w.id = n.wp_id WHERE w.code = 'WP2'")[0].n;
  await checkScreen(page, 'wp-settings');

  await page.getByLabel('Quota (MB)').fill('50');
  await page.getByLabel('Keep the newest versions').fill('1');
  await page.getByRole('button', { name: 'Save' }).click();
  const dlg = page.getByRole('dialog', { name: 'Remove old versions?' });
  await dlg.waitFor();
  await dlg.getByText(/This removes 2 old versions, [\d.,]+ (bytes|KB|B|kB)/).waitFor();
  // Nothing was removed by asking.
  assert.equal(sql(env.s, "SELECT count(*) AS n FROM versions v JOIN nodes n ON n.id = v.node_id JOIN wps w ON w.id = n.wp_id WHERE w.code = 'WP2'")[0].n, versionsBefore);
  await dlg.getByRole('button', { name: 'Remove and save' }).click();
  await page.getByText(/Settings saved; 2 old versions/).waitFor();
  await usage.getByText(/ of [\d.,]+ (MB|MiB)/).waitFor();
  const row = sql(env.s, "SELECT quota_bytes, keep_versions FROM wps WHERE code = 'WP2'")[0];
  assert.deepEqual(row, { quota_bytes: 50 * 1024 * 1024, keep_versions: 1 });
  assert.equal(sql(env.s, "SELECT count(*) AS n FROM versions v JOIN nodes n ON n.id = v.node_id JOIN wps w ON w.id = n.wp_id WHERE w.code = 'WP2'")[0].n, versionsBefore - 2);

  // Bad input: told at the field, nothing sent.
  await page.getByLabel('Keep versions younger than (days)').fill('-3');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Enter a number of 0 or more.').waitFor();
  await page.getByLabel('Keep versions younger than (days)').fill('');

  await page.getByLabel('Archived (read-only for everyone)').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('dialog', { name: 'Archive WP2?' }).getByRole('button', { name: 'Archive' }).click();
  await page.getByText('Settings saved.').waitFor();
  await usage.getByText('Archived since').waitFor();
  const alice = await Session.login(env.s, people.alice.email);
  const r = await alice.req('PUT', '/api/v1/wps/WP2/content/new.txt', { body: 'x' });
  assert.equal(r.status, 403);
  assert.match(r.body.detail, /archived/);
  await page.getByLabel('Archived (read-only for everyone)').uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Settings saved.').last().waitFor();
  assert.equal(sql(env.s, "SELECT archived_at FROM wps WHERE code = 'WP2'")[0].archived_at, null);
  noProblems(problems, [/status of 401/]); // the sign-in page's probe of /api/v1/me
});

test('a manager sees only title, lead and language as editable', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/settings/WP2`);
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  assert.equal(await page.getByLabel('Title').isEnabled(), true);
  assert.equal(await page.getByLabel('Quota (MB)').isDisabled(), true);
  await page.getByText('Only a coordinator can change these.').waitFor();
  // The work package's language, for search: German, then the default.
  const language = page.getByLabel('Language of its documents');
  assert.equal(await language.inputValue(), '');
  await language.selectOption('de');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Settings saved.').waitFor();
  assert.equal(sql(env.s, "SELECT language FROM wps WHERE code = 'WP2'")[0].language, 'de');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  assert.equal(await page.getByLabel('Language of its documents').inputValue(), 'de');
  await page.getByLabel('Language of its documents').selectOption('');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Settings saved.').waitFor();
  assert.equal(sql(env.s, "SELECT language FROM wps WHERE code = 'WP2'")[0].language, null);
  noProblems(problems, [/status of 401/]); // the sign-in page's probe of /api/v1/me
});

test('check-out in the app: the holder and expiry shown, others refused, check-in', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  const path = 'Deliverables/D2.2 Counselling pathways.txt';
  await page.goto(`${env.s.url}/#/wp/WP2/${path.split('/').map(encodeURIComponent).join('/')}`);
  await page.getByRole('button', { name: 'Check out' }).click();
  const line = page.locator('.lock-line');
  await line.getByText(/Checked out by Alice Martin until /).waitFor();
  await checkScreen(page, 'document-checked-out');
  const bob = await Session.login(env.s, people.bob.email);
  const alice = await Session.login(env.s, people.alice.email);
  grantWrite();
  let r = await bob.req('PUT', `/api/v1/wps/WP2/content/${path.split('/').map(encodeURIComponent).join('/')}`, { body: 'theirs' });
  assert.equal(r.status, 423);
  assert.match(r.body.detail, /checked out by Alice Martin until/);
  const enc = path.split('/').map(encodeURIComponent).join('/');
  const versionsOf = () => sql(env.s, `SELECT v.number, v.comment FROM versions v JOIN nodes n ON n.id = v.node_id WHERE n.name = 'D2.2 Counselling pathways.txt' ORDER BY v.number`);
  const before = versionsOf();
  // Check in = upload + release: a comment without a file is refused in the dialog.
  await line.getByRole('button', { name: 'Check in' }).click();
  let dlg = page.getByRole('dialog', { name: /Check in “D2.2 Counselling pathways.txt”/ });
  await dlg.getByLabel('Comment').fill('Pathways revised');
  await dlg.getByRole('button', { name: 'Check in' }).click();
  await dlg.getByText('A comment goes with a new version').waitFor();
  assert.deepEqual(versionsOf(), before);
  assert.equal((await alice.req('GET', `/api/v1/wps/WP2/locks/${enc}`)).body.locks.length, 1);
  await dlg.getByLabel('New version (optional)').setInputFiles({ name: 'D2.2.txt', mimeType: 'text/plain', buffer: Buffer.from('revised pathways, checked in') });
  await dlg.getByRole('button', { name: 'Check in' }).click();
  const n = before[before.length - 1].number + 1;
  await page.getByText(`Checked in as version ${n}.`).waitFor();
  await page.getByRole('button', { name: 'Check out' }).waitFor();
  assert.deepEqual(versionsOf().at(-1), { number: n, comment: 'Pathways revised' });
  r = await alice.req('GET', `/api/v1/wps/WP2/content/${enc}`);
  assert.equal(r.body, 'revised pathways, checked in');
  assert.deepEqual((await alice.req('GET', `/api/v1/wps/WP2/locks/${enc}`)).body.locks, []);
  r = await bob.req('PUT', `/api/v1/wps/WP2/content/${enc}`, { body: 'theirs' });
  assert.equal(r.status, 200);
  // Check in without a file only releases.
  await page.getByRole('button', { name: 'Check out' }).click();
  await line.getByText(/Checked out by Alice Martin until /).waitFor();
  const count = versionsOf().length;
  await line.getByRole('button', { name: 'Check in' }).click();
  dlg = page.getByRole('dialog', { name: /Check in/ });
  await dlg.getByRole('button', { name: 'Check in' }).click();
  await page.getByText('Checked in.').waitFor();
  assert.equal(versionsOf().length, count);
  assert.deepEqual((await alice.req('GET', `/api/v1/wps/WP2/locks/${enc}`)).body.locks, []);
  noProblems(problems, [/status of 401/]); // the sign-in page's probe of /api/v1/me
});

// Bob (INSTB) writes to WP2 for the check-out test.
function grantWrite() {
  const r = sql(env.s, "SELECT count(*) AS n FROM grants g JOIN partners p ON p.id = g.partner_id JOIN wps w ON w.id = g.wp_id WHERE p.short = 'INSTB' AND w.code = 'WP2' AND g.level >= 2")[0].n;
  if (!r) sql(env.s, "INSERT INTO grants(wp_id, partner_id, level, granted_at) SELECT w.id, p.id, 2, 0 FROM wps w, partners p WHERE w.code = 'WP2' AND p.short = 'INSTB'");
}
