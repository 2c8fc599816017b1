// The app in a second language (German, web/js/i18n/de.js): a browser in
// German starts in German; the account page's picker switches the app's
// language, which this browser keeps across reloads; back to English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

test('a German browser starts in German', async () => {
  const { page, problems } = await newPage(env.b, { locale: 'de-DE' });
  await page.goto(`${env.s.url}/`);
  await page.getByRole('button', { name: 'Anmelden' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  await page.getByLabel('E-Mail').fill(people.bob.email);
  noProblems(problems, [/status of 401/]);
});

test('the language picker on the account page', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.bob);
  await page.goto(`${env.s.url}/#/account`);
  const pick = page.getByLabel('Language', { exact: true });
  await pick.waitFor();
  assert.equal(await pick.inputValue(), 'en');
  await pick.selectOption('de');
  // drawn again in German
  await page.getByRole('heading', { name: 'Benachrichtigungen' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  assert.equal(await page.getByLabel('Sprache', { exact: true }).inputValue(), 'de');
  await page.getByLabel('E-Mail an mich').waitFor();
  await checkScreen(page, 'account-german');
  // kept in this browser
  await page.reload();
  await page.getByRole('heading', { name: 'Benachrichtigungen' }).waitFor();
  await page.goto(`${env.s.url}/#/`);
  await page.getByRole('link', { name: 'Start' }).first().waitFor();
  // and back
  await page.goto(`${env.s.url}/#/account`);
  await page.getByLabel('Sprache', { exact: true }).selectOption('en');
  await page.getByRole('heading', { name: 'Notifications' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  noProblems(problems, [/status of 401/]);
});
