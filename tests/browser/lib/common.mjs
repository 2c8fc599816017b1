// What every browser test file needs: a server with the test
// consortium, a browser, and helpers to sign in, check accessibility
// and take screenshots of a screen at laptop and phone width.
import assert from 'node:assert/strict';
import { Server, runConsort } from '../../e2e/lib/server.mjs';
import { launch, watch, screenshot, axe, seriousOnly } from './browser.mjs';
import { consortium, people, PASSWORD } from './fixture.mjs';

export { people, PASSWORD };

export async function setup({ seed = true, args } = {}) {
  const s = await new Server({ args }).start();
  if (seed) consortium(s);
  const b = await launch();
  return { s, b, async close() { await b.close(); await s.close(); } };
}

// Does this build serve documents? (The documents routes arrive with
// their own branch; tests that need them say so when they are absent.)
export function hasRoute(method, pattern) {
  const r = runConsort(['routes']);
  if (r.status !== 0) return false;
  return JSON.parse(r.stdout).some((x) => x.method === method && x.pattern === pattern);
}

// A page in a context of its own (its own cookies: one person).
export async function newPage(b, { problems = true, ...opts } = {}) {
  // English unless a test asks for another locale (the app follows the
  // browser's language: web/js/i18n.js)
  const ctx = await b.newContext({ locale: 'en-US', ...opts });
  const page = await ctx.newPage();
  page.on('close', () => { ctx.close().catch(() => {}); });
  const seen = problems ? watch(page) : [];
  return { page, problems: seen };
}

export async function signIn(page, url, who, password = PASSWORD) {
  await page.goto(`${url}/`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.topbar').waitFor();
}

// Screenshot at laptop width, then at 360 px (checking nothing overflows
// sideways), then back; and an axe run that must find nothing serious.
export async function checkScreen(page, name, { axeExclude = [] } = {}) {
  // Pictures and fonts settle first. A page that never goes idle (the
  // share page, now and then) must not cost the context's 120 s timeout
  // twice a test, as it did.
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
  await screenshot(page, `${name}-laptop`);
  const v = seriousOnly(await axe(page, { exclude: axeExclude }));
  assert.deepEqual(v, [], `axe on ${name}: ${JSON.stringify(v, null, 1)}`);
  const size = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(150);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = overflow > 0 ? await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, .sidebar, .filelist-body'))
    .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} right=${Math.round(e.getBoundingClientRect().right)}`)) : [];
  await screenshot(page, `${name}-phone`);
  const vp = seriousOnly(await axe(page, { exclude: axeExclude }));
  await page.setViewportSize(size);
  assert.ok(overflow <= 0, `${name} is ${overflow} px wider than a 360 px screen: ${wide.join(', ')}`);
  assert.deepEqual(vp, [], `axe on ${name} at 360 px: ${JSON.stringify(vp, null, 1)}`);
}

export function noProblems(problems, allow = []) {
  const left = problems.filter((p) => !allow.some((a) => a.test(p)));
  assert.deepEqual(left, [], 'no script errors in the page');
}
