// The app in a second language (German, web/js/i18n/de.js): a browser in
// German starts in German; the account page's picker switches the app's
// language, which this browser keeps across reloads; back to English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { Session } from '../e2e/lib/accounts.mjs';

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
  const bob = await Session.login(env.s, people.bob.email);
  const lang = async () => (await bob.req('GET', '/api/v1/me/notifications')).body.language;
  const until = async (want) => {
    for (let i = 0; i < 50 && (await lang()) !== want; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(await lang(), want);
  };
  assert.equal(await lang(), null);
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.bob);
  // the first sign-in tells the account the app's language
  await until('en');
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
  await until('de');
  // another (English) browser follows the account's language
  const other = await newPage(env.b);
  await signIn(other.page, env.s.url, people.bob);
  await other.page.getByRole('link', { name: 'Start' }).first().waitFor();
  assert.equal(await other.page.evaluate(() => document.documentElement.lang), 'de');
  await other.page.close();
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
  await until('en');
  noProblems(problems, [/status of 401/]);
});
