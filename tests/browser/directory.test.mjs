// The consortium's own pages in the app: the directory with its counts,
// key contacts and filters, a partner's page; posting news with an image
// from a work package (and Markdown that tries to run script, which does
// nothing); a new event with its folder for the agenda, opened from the
// event; latest news and upcoming events on home; the directory in the
// search results. Each screen passes the accessibility check and fits
// a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { Session } from '../e2e/lib/accounts.mjs';

let env, coord;

// A 2x2 PNG (red), for the news image.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

before(async () => {
  env = await setup();
  coord = await Session.login(env.s, people.coord.email);
  const patch = async (short, json) => {
    const r = await coord.req('PATCH', `/api/v1/partners/${short}`, { json });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  await patch('OFFICE', { type: 'other', role: 'coordinator', city: 'Brussels', website: 'https://office.example', description: 'The project office.' });
  await patch('UNIA', { type: 'university', city: 'Antwerp' });
  await patch('INSTB', { type: 'cancer_centre', city: 'Bordeaux' });
  await patch('LABC', { type: 'hospital', city: 'Milan' });
  const users = (await coord.req('GET', '/api/v1/users')).body.users;
  const id = (email) => users.find((u) => u.email === email).id;
  let r = await coord.req('PUT', `/api/v1/users/${id(people.coord.email)}/roles`, { json: { role_line: 'Project manager', contact_roles: ['Project coordinator', 'Communication'] } });
  assert.equal(r.status, 204);
  r = await coord.req('PUT', `/api/v1/users/${id(people.alice.email)}/roles`, { json: { contact_roles: ['WP2 lead'] } });
  assert.equal(r.status, 204);
  r = await coord.req('PUT', '/api/v1/wps/WP1/content/photos/team.png', { body: PNG });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
});
after(async () => { await env.close(); });

test('the directory: counts, key contacts, filters, a partner page', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Directory' }).click();
  await page.getByRole('heading', { level: 1, name: 'Directory' }).waitFor();
  assert.equal(await page.locator('.page-sub').textContent(),
    '4 partners in 3 countries; 1 hospital, 1 comprehensive cancer centre, 1 university or research institute, 1 other.');
  const keys = page.locator('section[aria-labelledby=dir-keys] .person');
  assert.equal(await keys.count(), 2);
  assert.match(await keys.filter({ hasText: 'Clara Coordinator' }).textContent(), /Project coordinator.*Communication|Communication.*Project coordinator/);
  assert.deepEqual(await page.locator('.country-name').evaluateAll((els) => els.map((e) => e.firstChild.textContent)), ['Belgium', 'France', 'Italy']);
  await checkScreen(page, 'directory');

  await page.getByLabel('Type').selectOption('cancer_centre');
  await page.waitForURL(/type=cancer_centre/);
  // the list is redrawn after the URL changes: wait for the filtered one
  await page.waitForFunction(() => document.querySelectorAll('.partner-card').length === 1, null, { timeout: 10000 });
  assert.deepEqual(await page.locator('.partner-card h3 a').allTextContents(), ['Institut Bergonié']);
  await page.getByLabel('Type').selectOption('');
  await page.getByLabel('Work package', { exact: true }).selectOption('WP1');
  await page.waitForURL(/wp=WP1/);
  // WP1: led by OFFICE, read by UNIA and INSTB; LABC has nothing in it.
  await page.waitForFunction(() => document.querySelectorAll('.partner-card').length === 3, null, { timeout: 10000 });
  assert.deepEqual((await page.locator('.partner-card h3 a').allTextContents()).sort(), ['Institut Bergonié', 'Project Office', 'University of Antwerp']);

  await page.getByRole('link', { name: 'Project Office' }).click();
  await page.getByRole('heading', { level: 1, name: 'Project Office' }).waitFor();
  assert.match(await page.locator('.page-sub').textContent(), /Brussels · Belgium · Coordinator/);
  assert.match(await page.locator('main').textContent(), /The project office\./);
  assert.match(await page.locator('section[aria-labelledby=p-wps]').textContent(), /WP1 Project management\s*Lead/);
  assert.match(await page.locator('section[aria-labelledby=p-people]').textContent(), /Clara Coordinator.*Project manager/);
  await checkScreen(page, 'partner');

  // From the search box: people and partners above the documents.
  await page.locator('#q').fill('bordeaux');
  await page.keyboard.press('Enter');
  await page.locator('.dir-hits').waitFor();
  assert.match(await page.locator('.dir-hits').textContent(), /Institut Bergonié/);
  noProblems(problems, [/status of 401/]);
});

test('posting news with an image; script in the text does nothing', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/news`);
  await page.getByRole('heading', { level: 1, name: 'News' }).waitFor();
  await page.getByRole('button', { name: 'Post news' }).click();
  await page.getByLabel('Title').fill('Kick-off in Brussels');
  await page.getByLabel('Text', { exact: true }).fill([
    'The **kick-off** went well. <script>window.pwned = 1</script>',
    '',
    '![The team](/api/v1/wps/WP1/content/photos/team.png) ![tracker](https://tracker.example/p.gif)',
    '',
    '[Minutes](/#/wp/WP1) and [bad](javascript:window.pwned=2) <img src=x onerror="window.pwned=3">',
  ].join('\n'));
  await page.getByLabel('Picture (optional)').setInputFiles({ name: 'team.png', mimeType: 'image/png', buffer: PNG });
  await page.locator('dialog').getByRole('button', { name: 'Post news' }).click();
  const item = page.locator('.news-item').filter({ hasText: 'Kick-off in Brussels' });
  await item.waitFor();
  await item.locator('.rich-text img').waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('.news-item img')].every((i) => i.complete));
  assert.equal(await item.locator('.rich-text img').evaluate((i) => i.naturalWidth), 2, 'the image from the work package loads');
  assert.equal(await item.locator('.news-lead').evaluate((i) => i.naturalWidth), 2, 'the uploaded picture, redrawn, loads');
  assert.match(await item.locator('.news-lead').getAttribute('src'), /^\/api\/v1\/images\/\d+$/);
  assert.equal(await item.locator('img').count(), 2, 'no image from elsewhere');
  assert.match(await item.textContent(), /tracker/, 'its alternative text stays');
  assert.equal(await item.locator('strong').textContent(), 'kick-off');
  assert.equal(await item.getByRole('link', { name: 'Minutes' }).getAttribute('href'), '/#/wp/WP1');
  assert.equal(await item.getByRole('link', { name: 'bad' }).count(), 0, 'a javascript: link is no link');
  await item.getByText('bad').click();
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await checkScreen(page, 'news');

  // Home shows it; a member sees it but cannot post.
  await page.goto(`${env.s.url}/#/`);
  await page.locator('section[aria-labelledby=home-news]').getByText('Kick-off in Brussels').waitFor();
  const m = await newPage(env.b);
  await signIn(m.page, env.s.url, people.bob);
  await m.page.goto(`${env.s.url}/#/news`);
  await m.page.locator('.news-item').first().waitFor();
  assert.equal(await m.page.getByRole('button', { name: 'Post news' }).count(), 0);
  noProblems(problems, [/status of 401/]);
  noProblems(m.problems, [/status of 401/]);
});

test('a new event with its folder, its .ics and the calendar address', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/events`);
  await page.getByRole('heading', { level: 1, name: 'Events' }).waitFor();
  await page.getByRole('button', { name: 'New event' }).click();
  const year = new Date().getFullYear() + 1;
  await page.getByLabel('Title').fill('General Assembly Meeting');
  await page.getByLabel('Starts').fill(`${year}-04-27T09:00`);
  await page.getByLabel('Ends').fill(`${year}-04-28T17:00`);
  await page.getByLabel('Time zone').fill('Europe/Rome');
  await page.getByLabel('Place').fill('Rome');
  await page.getByLabel('Folder for agenda and minutes: work package').selectOption('WP1');
  await page.getByLabel('Folder', { exact: true }).fill('Meetings/GA Rome');
  await page.locator('dialog').getByRole('button', { name: 'Create event' }).click();
  const ev = page.locator('.event-item').filter({ hasText: 'General Assembly Meeting' });
  await ev.waitFor();
  assert.match(await ev.locator('.event-when').textContent(), /27 Apr.*09:00.*(Europe\/Rome)/);
  const r = await coord.req('GET', '/api/v1/events');
  const made = r.body.events.find((e) => e.title === 'General Assembly Meeting');
  assert.equal(made.start, `${year}-04-27T07:00:00Z`, 'Rome summer time is UTC+2');
  await checkScreen(page, 'events');

  const dl = page.waitForEvent('download');
  await ev.getByRole('link', { name: /\.ics/ }).click();
  assert.equal((await dl).suggestedFilename(), `event-${made.id}.ics`);

  await page.getByRole('button', { name: 'Make my calendar address' }).click();
  const url = await page.getByLabel('Your calendar address').inputValue();
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/calendar\/[\w-]{43}\.ics$/);
  const feed = await env.s.fetch(new URL(url).pathname);
  assert.equal(feed.status, 200);
  assert.match(await feed.text(), /SUMMARY:General Assembly Meeting/);

  // A second event, removed again.
  const r2 = await coord.req('POST', '/api/v1/events', { json: { title: 'Cancelled call', start: `${year}-05-01T10:00:00Z`, end: `${year}-05-01T11:00:00Z`, tz: 'UTC' } });
  assert.equal(r2.status, 201);
  await page.reload();
  const gone = page.locator('.event-item').filter({ hasText: 'Cancelled call' });
  await gone.getByRole('button', { name: 'Remove' }).click();
  await page.locator('dialog').getByRole('button', { name: 'Remove' }).click();
  await gone.waitFor({ state: 'detached' });
  assert.equal((await coord.req('GET', `/api/v1/events/${r2.body.event.id}`)).status, 404);

  await ev.getByRole('link', { name: /Agenda and minutes/ }).click();
  await page.getByRole('heading', { level: 1, name: 'GA Rome' }).waitFor();
  noProblems(problems, [/status of 401/]);
});

test('a coordinator uploads a partner logo; it shows on the partner page and card', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/directory/LABC`);
  await page.getByRole('heading', { level: 1, name: 'Laboratorio Clinico' }).waitFor();
  await page.getByLabel('Logo').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
  const img = page.getByRole('img', { name: 'Logo of Laboratorio Clinico' });
  await img.waitFor();
  await page.waitForFunction(() => document.querySelector('.partner-logo-large')?.complete);
  assert.equal(await img.evaluate((i) => i.naturalWidth), 2);
  // Not a picture: said in words, nothing changes.
  await page.getByLabel('Logo').setInputFiles({ name: 'logo.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture at all') });
  await page.getByText(/not a PNG, JPEG, GIF, WebP or SVG/).waitFor();
  // The partner's details and a person's roles, edited in the app.
  await page.getByRole('button', { name: 'Edit details' }).click();
  await page.getByLabel('City').fill('Pavia');
  await page.getByLabel('Role in the grant').selectOption('associated');
  await page.getByLabel('Website').fill('javascript:alert(1)');
  await page.locator('dialog').getByRole('button', { name: 'Save' }).click();
  await page.locator('dialog').getByText(/http or https/).waitFor();
  await page.getByLabel('Website').fill('https://labc.example');
  await page.locator('dialog').getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /Pavia · Italy · Associated partner/.test(document.querySelector('.page-sub')?.textContent || ''));
  await page.getByRole('button', { name: 'Edit the roles of Carol Rossi' }).click();
  await page.getByLabel('Role line').fill('Lab manager');
  await page.getByLabel('Contact roles').fill('Communication, WP4 lead');
  await page.locator('dialog').getByRole('button', { name: 'Save' }).click();
  await page.locator('.person').filter({ hasText: 'Lab manager' }).getByText('WP4 lead').waitFor();
  await checkScreen(page, 'partner-coordinator');
  await page.goto(`${env.s.url}/#/directory`);
  await page.locator('.partner-card .partner-logo').first().waitFor();
  assert.match(await page.locator('section[aria-labelledby=dir-keys]').textContent(), /Carol Rossi/);
  noProblems(problems, [/status of 401/, /status of 415/, /status of 400/]); // the refusals tried on purpose
});
