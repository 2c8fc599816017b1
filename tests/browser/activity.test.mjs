// Activity and following in Chromium: the Follow button on a work
// package, a folder and a document (its state kept by the server), the
// document's activity card, the work package's activity dialog, the
// personal feed on home, and the notification settings on the account
// page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { Session } from '../e2e/lib/accounts.mjs';

let env;
before(async () => {
  env = await setup();
  env.bob = await Session.login(env.s, people.bob.email);
  env.alice = await Session.login(env.s, people.alice.email);
});
after(async () => { await env.close(); });

const put = (who, wp, path, body) => who.req('PUT', `/api/v1/wps/${wp}/content/${path.split('/').map(encodeURIComponent).join('/')}`, { body });

test('follow a work package and a document, see their activity and the personal feed', async () => {
  // Alice (write on WP2) uploads; Bob (INSTB: write on WP3, read on WP1)
  // cannot read WP2.
  for (let i = 1; i <= 3; i++) assert.equal((await put(env.alice, 'WP2', `Guidelines/draft-${i}.md`, `# Draft ${i}\n`)).status, 201);
  assert.equal((await put(env.alice, 'WP2', 'Guidelines/draft-1.md', '# Draft 1, second\n')).status, 200);
  // the coordinator reads every work package
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);

  // the work package: Follow → Following, kept across a reload
  await page.goto(`${env.s.url}/#/wp/WP2`);
  const follow = page.getByRole('button', { name: 'Follow', exact: true });
  await follow.click();
  await page.getByRole('button', { name: 'Following' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Following' }).getAttribute('aria-pressed'), 'true');
  await page.reload();
  await page.getByRole('button', { name: 'Following' }).waitFor();
  const r = await (await Session.login(env.s, people.coord.email)).req('GET', '/api/v1/follows');
  assert.ok(r.body.follows.some((f) => f.wp === 'WP2' && f.path === '' && f.follow));

  // the work package's activity, grouped
  await page.getByRole('button', { name: 'Activity', exact: true }).click();
  const dlg = page.getByRole('dialog', { name: 'Activity in WP2' });
  await dlg.waitFor();
  await dlg.getByRole('link', { name: 'Alice Martin uploaded 4 files to WP2/Guidelines' }).waitFor();
  await checkScreen(page, 'activity-wp');
  await dlg.getByRole('button', { name: 'Close' }).first().click();

  // a document: its own activity card and Follow button
  await page.goto(`${env.s.url}/#/wp/WP2/Guidelines/draft-1.md`);
  const card = page.locator('.doc-activity');
  await card.getByRole('link', { name: 'Alice Martin uploaded 2 files to WP2/Guidelines' }).waitFor();
  await page.getByRole('button', { name: 'Follow', exact: true }).click();
  await page.getByRole('button', { name: 'Following' }).waitFor();
  await checkScreen(page, 'activity-document');

  // home: what others changed in what one follows
  assert.equal((await put(env.alice, 'WP2', 'Guidelines/final.md', '# Final\n')).status, 201);
  await page.goto(`${env.s.url}/#/`);
  const feed = page.locator('section[aria-labelledby="home-activity"]');
  await feed.getByRole('link', { name: /Alice Martin uploaded/ }).first().waitFor();
  assert.match(await feed.textContent(), /final\.md/);
  await checkScreen(page, 'activity-home');

  // unfollow
  await page.goto(`${env.s.url}/#/wp/WP2`);
  await page.getByRole('button', { name: 'Following' }).click();
  await page.getByRole('button', { name: 'Follow', exact: true }).waitFor();
  noProblems(problems, [/status of 401/]);
});

test('a news item and an event in the home feed, linked to their pages', async () => {
  const coord = await Session.login(env.s, people.coord.email);
  let r = await coord.req('POST', '/api/v1/news', { json: { title: 'Consortium meeting minutes are out', body: 'See WP1.' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const year = new Date().getUTCFullYear() + 1;
  r = await coord.req('POST', '/api/v1/events', { json: { title: 'Open review day', start: `${year}-06-01T09:00:00Z`, end: `${year}-06-01T12:00:00Z`, tz: 'UTC', internal: false } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/`);
  const feed = page.locator('section[aria-labelledby="home-activity"]');
  const link = feed.getByRole('link', { name: /posted the news "Consortium meeting minutes are out"/ });
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '#/news');
  assert.equal(await feed.getByRole('link', { name: /added the event "Open review day"/ }).getAttribute('href'), '#/events');
  await checkScreen(page, 'activity-home-news');
  await link.click();
  await page.waitForURL(/#\/news$/);
  noProblems(problems, [/status of 401/]);
});

test('notification settings on the account page', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.bob);
  await page.goto(`${env.s.url}/#/account`);
  const mode = page.getByLabel('Mail me');
  await mode.waitFor();
  await page.waitForFunction(() => document.querySelector('#acc-notify') && document.querySelector('section[aria-labelledby="acc-notify"] select').value === 'daily');
  await mode.selectOption('hourly');
  await page.getByText('Notification settings saved.').waitFor();
  await page.getByLabel('Follow documents I upload or edit').uncheck();
  await page.getByText('Notification settings saved.').first().waitFor();
  let r;
  for (let i = 0; i < 50; i++) {
    r = await env.bob.req('GET', '/api/v1/me/notifications');
    if (r.body.auto_follow === false) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(r.body, { mode: 'hourly', auto_follow: false, news: true, language: 'en' });
  // consortium news: on by default, one switch turns it off
  const news = page.getByLabel('Consortium news and events, in my feed and my mail');
  assert.equal(await news.isChecked(), true);
  await news.uncheck();
  for (let i = 0; i < 50; i++) {
    r = await env.bob.req('GET', '/api/v1/me/notifications');
    if (r.body.news === false) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(r.body.news, false);
  await checkScreen(page, 'account-notifications');
  noProblems(problems, [/status of 401/]);
});
