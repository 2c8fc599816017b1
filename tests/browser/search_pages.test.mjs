// A search hit in a PDF shows the page of the match, and opening it
// shows the document's preview at that page (issue 18).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, signIn, noProblems, people } from './lib/common.mjs';
import { Session } from '../e2e/lib/accounts.mjs';
import { pagedPdf, until } from '../e2e/lib/search.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.close(); });

test('a hit links to its page of the preview', async () => {
  const me = await Session.login(env.s, people.alice.email);
  const body = pagedPdf([
    'Opening page of the plan.',
    'The second page of the plan.',
    'Only this third page mentions the brovantile assay.',
    'A closing fourth page.',
  ]);
  const r = await me.req('PUT', '/api/v1/wps/WP2/content/Paged/Plan.pdf', { body });
  assert.ok(r.status === 201 || r.status === 200, `PUT: ${r.status}`);
  const hits = await until(async () => (await me.req('GET', '/api/v1/search?q=brovantile')).body?.hits?.length
    && (await me.req('GET', '/api/v1/search?q=brovantile')).body.hits, { what: 'the PDF indexed' });
  assert.equal(hits[0].page, 3, JSON.stringify(hits));

  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.alice);
  await page.goto(`${env.s.url}/#/search?q=brovantile`);
  const hit = page.locator('li.hit', { hasText: 'Plan.pdf' });
  await hit.locator('.hit-page', { hasText: 'page 3' }).waitFor();
  assert.match(await hit.locator('h3 a').getAttribute('href'), /\/Paged\/Plan\.pdf\?page=3$/);
  await hit.locator('h3 a').click();
  await page.getByRole('heading', { level: 1, name: 'Plan.pdf' }).waitFor();
  const pane = page.locator('.doc-preview');
  await pane.locator('.preview-indicator', { hasText: 'Page 3 of 4' }).waitFor({ timeout: 60000 });
  // page 3 is the one scrolled into the pane
  await page.waitForFunction(() => {
    const box = document.querySelector('.preview-pages');
    const f = box?.querySelector('figure[data-page="3"]');
    return f && f.querySelector('img')?.complete && Math.abs(f.offsetTop - 8 - box.scrollTop) < 24;
  }, null, { timeout: 30000 });
  noProblems(problems, [/status of 401/]); // before signing in
});
