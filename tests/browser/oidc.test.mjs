// OpenID Connect sign-in in Chromium against the oidc-provider package
// the test starts: the provider buttons on the sign-in page, a person
// clicking one, signing in at the provider and landing in the app; a
// newcomer told they wait, a coordinator approving them on the People
// page; the local code asked after the provider; a provider that is
// down, with local sign-in still working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, freePort, tempDir } from '../e2e/lib/server.mjs';
import { Session, totp } from '../e2e/lib/accounts.mjs';
import { RealOP, CLIENT_SECRET, oidcSignIn, testCA } from '../e2e/lib/oidc.mjs';
import { launch } from './lib/browser.mjs';
import { consortium, people } from './lib/fixture.mjs';
import { newPage, signIn, checkScreen, noProblems } from './lib/common.mjs';

let s, op, b;
const accounts = {
  alice: { email: people.alice.email, email_verified: true, name: people.alice.name },
  bob: { email: people.bob.email, email_verified: true, name: people.bob.name },
  nina: { email: 'nina@new.example', email_verified: true, name: 'Nina Newcomer', schac_home_organization: 'lab-c.example' },
};

before(async () => {
  const port = await freePort();
  op = await new RealOP({ accounts, redirectUri: `https://127.0.0.1:${port}/api/v1/auth/oidc/callback` }).start();
  const dir = tempDir('consort-oidc-b-');
  writeFileSync(join(dir, 'secret'), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'consort.conf'), `public-url = https://127.0.0.1:${port}
oidc-ca-file = ${testCA}
[oidc uni]
title = Test University
issuer = ${op.issuer}
client-id = consort
client-secret-file = ${join(dir, 'secret')}
partner-claim = schac_home_organization
partner-map = lab-c.example=LABC
[oidc down]
title = Closed Institute
issuer = https://127.0.0.1:${await freePort()}
client-id = nobody
`);
  s = new Server({ args: ['--config', join(dir, 'consort.conf')] });
  s.port = port;
  await s.start();
  consortium(s);
  b = await launch();
});

after(async () => {
  await b?.close();
  await s?.close();
  await op?.stop();
});

// Signed out, the app's first questions are answered 401; the test
// provider has no favicon (404 on its page).
const signedOut = [/status of 401/];
const atOp = [/status of 401/, /status of 404/];

async function atProvider(page, login) {
  await page.getByRole('heading', { name: 'Test provider' }).waitFor();
  await page.getByLabel('Account').fill(login);
  await page.getByRole('button', { name: 'Sign in at the provider' }).click();
}

test('click the provider, sign in there, land in the app', async () => {
  const { page, problems } = await newPage(b);
  await page.goto(`${s.url}/`);
  const btn = page.getByRole('link', { name: 'Sign in with Test University' });
  await btn.waitFor();
  await page.getByRole('link', { name: 'Sign in with Closed Institute' }).waitFor();
  await checkScreen(page, 'signin-providers');
  await btn.click();
  await atProvider(page, 'alice');
  await page.locator('.topbar').waitFor();
  assert.equal(new URL(page.url()).origin, s.url);
  await page.locator('#nav').getByRole('link', { name: /WP2/ }).waitFor();
  noProblems(problems, atOp);
  await page.close();
});

test('a newcomer waits; a coordinator approves them on the People page', async () => {
  const { page, problems } = await newPage(b);
  await page.goto(`${s.url}/`);
  await page.getByRole('link', { name: 'Sign in with Test University' }).click();
  await atProvider(page, 'nina');
  await page.getByText(/A coordinator of the project has been asked to approve your account/).waitFor();
  assert.equal(new URL(page.url()).hash, '#/');

  const coord = await newPage(b);
  await signIn(coord.page, s.url, people.coord);
  await coord.page.goto(`${s.url}/#/admin/users`);
  await coord.page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
  await coord.page.getByText('organisation lab-c.example', { exact: false }).waitFor();
  await checkScreen(coord.page, 'people-signups');
  await coord.page.getByRole('button', { name: 'Approve' }).click();
  const dlg = coord.page.getByRole('dialog');
  assert.equal(await dlg.getByLabel('Partner').inputValue(), 'LABC'); // from the claim
  await dlg.getByRole('button', { name: 'Approve' }).click();
  await coord.page.getByText('Nina Newcomer can now sign in.').waitFor();
  await coord.page.getByRole('cell', { name: /nina@new\.example/ }).waitFor();
  noProblems(coord.problems, signedOut);
  await coord.page.close();

  await page.getByRole('link', { name: 'Sign in with Test University' }).click();
  // The provider remembers her: straight back, signed in.
  await page.locator('.topbar').waitFor();
  noProblems(problems, atOp);
  await page.close();
});

test('after the provider, the account\'s own code is asked', async () => {
  // Bob enrols a second factor (through a provider sign-in of his own).
  const { browser } = await oidcSignIn(s, 'uni', { login: 'bob' });
  const me = await (await browser.fetch(`${s.url}/api/v1/me`)).json();
  const bob = new Session(s, browser.cookie(s.url, '__Host-consort'), me.csrf, me.user);
  const secret = (await bob.req('POST', '/api/v1/me/totp')).body.secret;
  assert.equal((await bob.req('POST', '/api/v1/me/totp/confirm', { json: { code: totp(secret) } })).status, 200);

  const { page, problems } = await newPage(b);
  await page.goto(`${s.url}/`);
  await page.getByRole('link', { name: 'Sign in with Test University' }).click();
  await atProvider(page, 'bob');
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  assert.doesNotMatch(page.url(), /signin-totp/); // the ticket left the address bar
  await page.getByLabel('Authentication code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText(/That code is not right/).waitFor();
  await page.getByLabel('Authentication code').fill(totp(secret, { offset: 1 }));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('.topbar').waitFor();
  noProblems(problems, atOp);
  await page.close();
});

test('a provider that is down: a clear message, local sign-in still works', async () => {
  const { page, problems } = await newPage(b);
  await page.goto(`${s.url}/`);
  await page.getByRole('link', { name: 'Sign in with Closed Institute' }).click();
  await page.getByRole('alert').getByText(/cannot be reached right now/).waitFor();
  await page.getByLabel('Email').fill(people.carol.email);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('.topbar').waitFor();
  noProblems(problems, signedOut);
  await page.close();
});
