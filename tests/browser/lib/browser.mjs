// Drives Debian's Chromium (never a downloaded browser) through
// playwright-core against a real consort server. Chromium does not know
// the test CA that tests/e2e/run.mjs makes, so it is told to accept one
// certificate by the SHA-256 of its public key
// (--ignore-certificate-errors-spki-list, honoured only together with a
// --user-data-dir, which playwright always passes): the test server's
// key and nothing else, rather than turning certificate checks off.
import { chromium } from 'playwright-core';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { testCert } from '../../e2e/lib/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const shotDir = resolve(here, '..', 'screenshots');
const require = createRequire(import.meta.url);
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function spkiHash(pemPath) {
  const cert = new X509Certificate(readFileSync(pemPath));
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

// A fresh browser (playwright gives it a new, empty --user-data-dir)
// with a default context; more contexts, each with its own cookies, for
// tests where several people are signed in at once.
export async function launch({ viewport = { width: 1280, height: 800 } } = {}) {
  if (!testCert) throw new Error('run browser tests through tests/e2e/run.mjs (it makes the test CA)');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spkiHash(testCert)}`],
  });
  const newContext = (opts = {}) => browser.newContext({ viewport, acceptDownloads: true, ...opts });
  const context = await newContext();
  return {
    browser,
    context,
    newContext,
    async close() { await browser.close(); },
  };
}

// Console errors and failed requests of a page, for assertions.
export function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  return problems;
}

export async function screenshot(page, name) {
  mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: join(shotDir, `${name}.png`), fullPage: false });
}

// axe-core injected into the page; returns violations with impact
// serious or critical (the ones that fail a test).
export async function axe(page, { exclude = [] } = {}) {
  const src = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(src);
  const result = await page.evaluate(async (ex) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run({ include: [document], exclude: ex.map((s) => [s]) }, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }));
  }, exclude);
  return result;
}

export function seriousOnly(violations) {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function signIn(page, url, email, password) {
  await page.goto(`${url}/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.topbar').waitFor();
}

export { pathToFileURL, writeFileSync };
