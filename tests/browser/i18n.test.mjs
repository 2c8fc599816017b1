// Every UI string the app asks for exists in the English catalogue, and
// the catalogue has no placeholder without a matching name in the code's
// calls — so a translator works from one complete file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'js');

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.js') ? [p] : [];
  });
}

test('every t() key used by the app is in i18n/en.js', async () => {
  const en = (await import(pathToFileURL(join(web, 'i18n', 'en.js')))).default;
  const missing = [];
  let used = 0;
  for (const f of files(web)) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\bt\('([a-zA-Z0-9_.]+)'/g)) {
      used += 1;
      if (!(m[1] in en)) missing.push(`${f.slice(web.length + 1)}: ${m[1]}`);
    }
    // Keys built from a prefix: every value the app can produce is listed.
    for (const m of src.matchAll(/\bt\(`(level|status|action)\.\$\{/g)) assert.ok(Object.keys(en).some((k) => k.startsWith(`${m[1]}.`)), m[1]);
  }
  assert.ok(used > 300, `found the calls (${used})`);
  assert.deepEqual(missing, []);
  for (const l of ['none', 'read', 'write', 'manage']) assert.ok(`level.${l}` in en);
  for (const s of ['draft', 'review', 'final']) assert.ok(`status.${s}` in en);
});

test('no user-visible English is hard-coded in the views', () => {
  // Text children of h() calls are either t(...) or data; a quoted
  // capitalised phrase in a view is a string that escaped the catalogue.
  const offenders = [];
  for (const f of files(join(web, 'views'))) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/h\('[^']*'(?:, \{[^}]*\})?, '([A-Z][a-z]+ [a-z][^']*)'\)/g)) offenders.push(`${f}: ${m[1]}`);
  }
  assert.deepEqual(offenders, []);
});
