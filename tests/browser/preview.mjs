// Development aid, not part of the suite: starts a server with the test
// consortium, takes screenshots of the main screens at laptop and phone
// width into tests/browser/screenshots/, and prints axe findings.
//   node tests/e2e/run.mjs tests/browser/preview.mjs   (or with PREVIEW_KEEP=1 to keep it running)
import { Server } from '../e2e/lib/server.mjs';
import { launch, screenshot, signIn, axe, watch } from './lib/browser.mjs';
import { consortium, documents, people, PASSWORD } from './lib/fixture.mjs';

const s = await new Server({}).start();
consortium(s);
if (process.env.PREVIEW_DOCS) await documents(s);
const b = await launch();
const page = await b.context.newPage();
const problems = watch(page);
await signIn(page, s.url, people.coord.email, PASSWORD);
const screens = (process.env.PREVIEW_SCREENS || '#/,#/admin/users,#/admin/partners,#/admin/wps,#/admin/access,#/admin/audit,#/account').split(',');
for (const [vw, tag] of [[{ width: 1280, height: 800 }, 'laptop'], [{ width: 360, height: 740 }, 'phone']]) {
  await page.setViewportSize(vw);
  for (const hash of screens) {
    await page.goto(`${s.url}/${hash}`);
    await page.waitForTimeout(400);
    const name = `preview-${tag}-${hash.replace(/[#/]+/g, '-').replace(/^-|-$/g, '') || 'home'}`;
    await screenshot(page, name);
    if (tag === 'laptop') {
      const v = await axe(page);
      for (const x of v) console.log(hash, x.impact, x.id, x.help, x.nodes.join(' | '));
    }
  }
}
console.log(problems.join('\n'));
if (process.env.PREVIEW_KEEP) { console.log(s.url); await new Promise(() => {}); }
await b.close();
await s.close();
