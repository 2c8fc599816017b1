// Editing in place in the app: an event edited from the events page
// (its form filled with its current values in its own time zone; the
// calendar keeps its UID and sees SEQUENCE rise), a news item edited
// from the news page, both marked as edited; and a coordinator uploading
// an SVG logo (with a script that does not run), shown redrawn as PNG.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { Session } from '../e2e/lib/accounts.mjs';

let env, coord;

before(async () => {
  env = await setup();
  coord = await Session.login(env.s, people.coord.email);
});
after(async () => { await env.close(); });

test('an event edited in the app keeps its UID; the calendar sees SEQUENCE rise', async () => {
  const year = new Date().getFullYear() + 1;
  let r = await coord.req('POST', '/api/v1/events', {
    json: { title: 'General Assembly', start: `${year}-04-27T09:00:00+02:00`, end: `${year}-04-28T17:00:00+02:00`, tz: 'Europe/Rome', place: 'Rome', folder: { wp: 'WP1', path: 'Meetings/GA' } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.event.id;
  const ics0 = (await coord.req('GET', `/api/v1/events/${id}.ics`)).body;
  const uid = ics0.match(/^UID:(.*)\r$/m)[1];
  assert.match(ics0, /^SEQUENCE:0\r$/m);

  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/events`);
  const ev = page.locator('.event-item').filter({ hasText: 'General Assembly' });
  await ev.getByRole('button', { name: 'Edit' }).click();
  const dialog = page.locator('dialog');
  // The form holds the event as it is, in the zone it was given in.
  assert.equal(await dialog.getByLabel('Title').inputValue(), 'General Assembly');
  assert.equal(await dialog.getByLabel('Starts').inputValue(), `${year}-04-27T09:00`);
  assert.equal(await dialog.getByLabel('Time zone').inputValue(), 'Europe/Rome');
  assert.equal(await dialog.getByLabel('Folder', { exact: true }).inputValue(), 'Meetings/GA');
  await dialog.getByLabel('Title').fill('General Assembly Meeting — internal');
  await dialog.getByLabel('Starts').fill(`${year}-04-27T10:30`);
  await dialog.getByLabel('Place').fill('Aula Magna, Rome');
  await dialog.getByLabel(/^WP2 — /).check();
  await checkScreen(page, 'event-edit');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const edited = page.locator('.event-item').filter({ hasText: 'General Assembly Meeting — internal' });
  await edited.waitFor();
  assert.match(await edited.locator('.event-when').textContent(), /27 Apr.*10:30/);
  await edited.locator('.event-edited').getByText(/^Edited /).waitFor();

  r = await coord.req('GET', `/api/v1/events/${id}`);
  assert.equal(r.body.event.start, `${year}-04-27T08:30:00Z`);
  assert.deepEqual(r.body.event.folder, { wp: 'WP1', path: 'Meetings/GA' }, 'the folder stays');
  assert.deepEqual(r.body.event.wps, ['WP2']);
  const ics1 = (await coord.req('GET', `/api/v1/events/${id}.ics`)).body;
  assert.equal(ics1.match(/^UID:(.*)\r$/m)[1], uid);
  assert.match(ics1, /^SEQUENCE:1\r$/m);

  // A bad value is said in the form; nothing changes.
  await edited.getByRole('button', { name: 'Edit' }).click();
  await dialog.getByLabel('Online link').fill('javascript:alert(1)');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByText(/http or https/).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.match((await coord.req('GET', `/api/v1/events/${id}.ics`)).body, /^SEQUENCE:1\r$/m);
  noProblems(problems, [/status of 401/, /status of 400/]);
});

test('a news item edited in the app shows as edited; a member has no Edit', async () => {
  let r = await coord.req('POST', '/api/v1/news', { json: { title: 'Kick-off', body: 'It went *well*.' } });
  assert.equal(r.status, 201);
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/news`);
  const item = page.locator('.news-item').filter({ hasText: 'Kick-off' });
  await item.getByRole('button', { name: 'Edit' }).click();
  const dialog = page.locator('dialog');
  assert.equal(await dialog.getByLabel('Text', { exact: true }).inputValue(), 'It went *well*.');
  await dialog.getByLabel('Title').fill('Kick-off in Brussels');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const edited = page.locator('.news-item').filter({ hasText: 'Kick-off in Brussels' });
  await edited.locator('.news-edited').waitFor();
  assert.equal(await edited.locator('em').textContent(), 'well');

  const m = await newPage(env.b);
  await signIn(m.page, env.s.url, people.bob);
  await m.page.goto(`${env.s.url}/#/news`);
  await m.page.locator('.news-item').filter({ hasText: 'Kick-off in Brussels' }).waitFor();
  assert.equal(await m.page.getByRole('button', { name: 'Edit' }).count(), 0);
  noProblems(problems, [/status of 401/]);
  noProblems(m.problems, [/status of 401/]);
});

test('a coordinator uploads an SVG logo: redrawn as a PNG, its script never runs', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/directory/LABC`);
  await page.getByRole('heading', { level: 1, name: 'Laboratorio Clinico' }).waitFor();
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" onload="top.pwned=1">' +
    '<script>top.pwned = 2</script><rect width="120" height="60" fill="#2a6"/></svg>';
  await page.getByLabel('Logo').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(svg) });
  const img = page.getByRole('img', { name: 'Logo of Laboratorio Clinico' });
  await img.waitFor();
  await page.waitForFunction(() => document.querySelector('.partner-logo-large')?.complete);
  assert.equal(await img.evaluate((i) => i.naturalWidth), 120);
  const src = await img.getAttribute('src');
  const res = await env.s.fetch(src, { headers: { cookie: `__Host-consort=${coord.cookie}` } });
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(Buffer.from(await res.arrayBuffer()).subarray(1, 4).toString(), 'PNG');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  noProblems(problems, [/status of 401/]);
});
