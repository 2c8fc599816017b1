// Signing in and out: wrong password, the home screen with the work
// packages and levels, two-step verification at sign-in, a session that
// ends (sign in again, back to the same screen), a set-password link
// made by a coordinator and used by its owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people, PASSWORD } from './lib/common.mjs';
import { Session, totp } from '../e2e/lib/accounts.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

// 401s the app expects: /me before signing in, and the failed attempts.
const expected401 = [/status of 401/];

test('sign in: a wrong password is refused where it was typed; then home shows my work packages and levels', async () => {
  const { page, problems } = await newPage(env.b);
  await page.goto(`${env.s.url}/`);
  await checkScreen(page, 'signin');
  await page.getByLabel('Email').fill(people.alice.email);
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'The email or password is not right.' }).waitFor();
  assert.equal(await page.getByLabel('Password', { exact: true }).evaluate((e) => document.activeElement === e), true, 'focus goes back to the password');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: /Alice/ }).waitFor();
  const cards = page.locator('.wp-card');
  assert.deepEqual(await cards.locator('.wp-code').allTextContents(), ['WP1', 'WP2']);
  assert.match(await cards.nth(0).textContent(), /Read/);
  assert.match(await cards.nth(1).textContent(), /Manage/, 'her own manage grant beats her partner’s write');
  assert.equal(await page.locator('#nav').getByRole('link', { name: /WP3/ }).count(), 0, 'no grant, no WP3');
  await checkScreen(page, 'home');
  // sign out
  await page.getByRole('button', { name: /Account menu/ }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  noProblems(problems, expected401);
  await page.close();
});

test('two-step verification: the code is asked for after the password', async () => {
  const me = await Session.login(env.s, people.bob.email);
  const begin = await me.req('POST', '/api/v1/me/totp');
  const code = totp(begin.body.secret);
  const ok = await me.req('POST', '/api/v1/me/totp/confirm', { json: { code } });
  assert.equal(ok.status, 200);
  const { page, problems } = await newPage(env.b);
  await page.goto(`${env.s.url}/`);
  await page.getByLabel('Email').fill(people.bob.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Authentication code').waitFor();
  await checkScreen(page, 'signin-totp');
  await page.getByLabel('Authentication code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').filter({ hasText: /not right/ }).waitFor();
  // The code used for enrolling cannot be used again: take the next step's.
  await page.getByLabel('Authentication code').fill(totp(begin.body.secret, { offset: 1 }));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('.topbar').waitFor();
  await page.getByRole('heading', { level: 1, name: /Bob/ }).waitFor();
  noProblems(problems, expected401);
  await page.close();
});

test('a session that ends sends to sign-in, and back to the same screen after', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/admin/partners`);
  await page.getByRole('heading', { level: 1, name: 'Partners' }).waitFor();
  // The server forgets the session (as after the idle timeout).
  await page.context().clearCookies();
  await page.getByRole('link', { name: 'People' }).click();
  await page.getByText('Your session has ended').waitFor();
  await page.getByLabel('Email').fill(people.coord.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'People' }).waitFor();
  assert.equal(new URL(page.url()).hash, '#/admin/users');
  noProblems(problems, expected401);
  await page.close();
});

test('a coordinator makes an account and a set-password link; its owner sets a password and signs in', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/admin/users`);
  await page.getByRole('button', { name: 'New person' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Email').fill('dora@lab-c.example');
  await dlg.getByLabel('Name').fill('Dora Bianchi');
  await dlg.getByLabel('Partner', { exact: true }).selectOption('LABC');
  await dlg.getByRole('button', { name: 'New person' }).click();
  await page.getByRole('dialog', { name: 'Make a set-password link now?' }).getByRole('button', { name: 'Make a set-password link' }).click();
  const linkBox = page.getByRole('dialog', { name: 'Set-password link' }).getByLabel('Set-password link');
  const url = await linkBox.inputValue();
  assert.match(url, /#set-password=[A-Za-z0-9_-]{43}$/);
  await checkScreen(page, 'set-password-link');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).first().click();
  await page.getByRole('row', { name: /Dora Bianchi/ }).getByText('No password yet').first().waitFor();
  await checkScreen(page, 'people');
  await page.close();

  const { page: p2, problems: pr2 } = await newPage(env.b);
  await p2.context().clearCookies();
  const token = url.split('#set-password=')[1];
  await p2.goto(`${env.s.url}/#set-password=${token}`);
  await p2.getByRole('heading', { name: 'Choose your password' }).waitFor();
  assert.equal(new URL(p2.url()).hash, '#/', 'the token leaves the address bar');
  await checkScreen(p2, 'set-password');
  await p2.getByLabel('New password').fill('short');
  await p2.getByLabel('Repeat the password').fill('short');
  await p2.getByRole('button', { name: 'Set password' }).click();
  await p2.getByText('The password needs at least 12 characters.').waitFor();
  await p2.getByLabel('New password').fill('lantern orbit meadow 42');
  await p2.getByLabel('Repeat the password').fill('lantern orbit meadow 42');
  await p2.getByRole('button', { name: 'Set password' }).click();
  await p2.getByText('Your password is set').waitFor();
  assert.equal(await p2.getByLabel('Email').inputValue(), 'dora@lab-c.example');
  await p2.getByLabel('Password', { exact: true }).fill('lantern orbit meadow 42');
  await p2.getByRole('button', { name: 'Sign in' }).click();
  await p2.getByRole('heading', { level: 1, name: /Dora/ }).waitFor();
  noProblems(problems, expected401);
  noProblems(pr2, expected401);
  await p2.close();
});
