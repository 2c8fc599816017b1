// Sudo mode and token scopes in the app (issue 13): a coordinator whose
// sign-in is older than ten minutes edits a person and is asked to
// "Confirm it is you" (a wrong password is said in the dialog, the right
// one lets the change through without doing it again); a member makes a
// read-only token for one work package on the account page and sees its
// scope in the list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people, PASSWORD } from './lib/common.mjs';
import { sql } from '../e2e/lib/accounts.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

test('a stale session is asked to confirm it is you, then the change goes through', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/admin/users`);
  await page.getByRole('heading', { level: 1, name: 'People' }).waitFor();
  // The sign-in was long ago.
  sql(env.s, `UPDATE sessions SET reauth_at = reauth_at - 601 WHERE user_id = (SELECT id FROM users WHERE email = '${people.coord.email}')`);

  await page.getByRole('button', { name: `Actions for ${people.bob.name}` }).click();
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: `Edit ${people.bob.name}` });
  await edit.getByLabel('Name').fill('Bob Schneider-Weiss');
  await edit.getByRole('button', { name: 'Save' }).click();

  const confirm = page.getByRole('dialog', { name: 'Confirm it is you' });
  await confirm.waitFor();
  await checkScreen(page, 'confirm-it-is-you');
  await confirm.getByLabel('Password', { exact: true }).fill('not my password at all');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await confirm.getByText('the password is wrong').waitFor();
  assert.equal(sql(env.s, `SELECT name FROM users WHERE email = '${people.bob.email}'`)[0].name, people.bob.name);
  await confirm.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  // The edit is sent again by itself, and its dialog closes.
  await page.getByRole('row', { name: /Bob Schneider-Weiss/ }).waitFor();
  assert.equal(await page.getByRole('dialog').count(), 0);
  assert.equal(sql(env.s, `SELECT name FROM users WHERE email = '${people.bob.email}'`)[0].name, 'Bob Schneider-Weiss');
  assert.deepEqual(sql(env.s, "SELECT detail FROM audit WHERE action LIKE 'reauth%' ORDER BY id").map((r) => r.detail),
    ['wrong password', 'password']);
  // Cancelling leaves the refusal, said in words, and changes nothing.
  sql(env.s, `UPDATE sessions SET reauth_at = reauth_at - 601 WHERE user_id = (SELECT id FROM users WHERE email = '${people.coord.email}')`);
  await page.getByRole('button', { name: `Actions for ${people.carol.name}` }).click();
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  const edit2 = page.getByRole('dialog', { name: `Edit ${people.carol.name}` });
  await edit2.getByLabel('Name').fill('Carol R.');
  await edit2.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('dialog', { name: 'Confirm it is you' }).getByRole('button', { name: 'Cancel' }).click();
  await edit2.getByText('Confirm it is you to make this change.').waitFor();
  assert.equal(sql(env.s, `SELECT name FROM users WHERE email = '${people.carol.email}'`)[0].name, people.carol.name);
  noProblems(problems, [/status of 401/, /status of 403/]);
  await page.close();
});

test('the token page makes a read-only token for one work package and lists its scope', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/account`);
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  await page.getByRole('button', { name: 'New token' }).click();
  const dlg = page.getByRole('dialog', { name: 'New token' });
  await dlg.getByLabel('Name').fill('WP2 drive');
  await dlg.getByLabel('Access').selectOption('read');
  await dlg.getByLabel('Only these:').check();
  await checkScreen(page, 'new-token-scope');
  // Limited to none: said, nothing made.
  await dlg.getByRole('button', { name: 'Create' }).click();
  await dlg.getByText('Choose at least one work package.').waitFor();
  assert.equal(sql(env.s, 'SELECT count(*) AS n FROM tokens')[0].n, 0);
  await dlg.getByLabel(/^WP2 — /).check();
  await dlg.getByRole('button', { name: 'Create' }).click();
  const made = page.getByRole('dialog', { name: 'Your new token' });
  const token = await made.getByLabel('API token').inputValue();
  assert.match(token, /^consort_[A-Za-z0-9_-]{43}$/);
  await made.getByRole('button', { name: 'Close' }).first().click();
  await page.getByRole('row', { name: /WP2 drive/ }).getByText('Read only · WP2').waitFor();
  assert.deepEqual(sql(env.s, "SELECT t.scope, t.wp_limited, w.code FROM tokens t JOIN token_wps tw ON tw.token_id = t.id JOIN wps w ON w.id = tw.wp_id"),
    [{ scope: 'read', wp_limited: 1, code: 'WP2' }]);
  // An ordinary token says so too.
  await page.getByRole('button', { name: 'New token' }).click();
  await page.getByRole('dialog', { name: 'New token' }).getByLabel('Name').fill('backup script');
  await page.getByRole('dialog', { name: 'New token' }).getByRole('button', { name: 'Create' }).click();
  await page.getByRole('dialog', { name: 'Your new token' }).getByRole('button', { name: 'Close' }).first().click();
  await page.getByRole('row', { name: /backup script/ }).getByText('Read and write · All my work packages').waitFor();
  await checkScreen(page, 'account-tokens');
  noProblems(problems, [/status of 401/]);
  await page.close();
});
