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

test('every language file has every key of en.js, with the same placeholders', async () => {
  const en = (await import(pathToFileURL(join(web, 'i18n', 'en.js')))).default;
  const langs = readdirSync(join(web, 'i18n')).filter((f) => f.endsWith('.js') && f !== 'en.js');
  assert.ok(langs.includes('de.js'), 'German is there');
  // i18n.js lists every file, so the picker offers it
  const i18n = readFileSync(join(web, 'i18n.js'), 'utf8');
  const names = (v, key) => {
    if (typeof v !== 'function') return [...new Set([...v.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();
    // a function's parameters are the names it destructures
    const m = /^\s*(?:async\s*)?\(\s*\{([^}]*)\}/.exec(v.toString());
    assert.ok(m, `${key}: a function value takes ({ names })`);
    return m[1].split(',').map((x) => x.trim()).filter(Boolean).sort();
  };
  for (const f of langs) {
    const code = f.replace(/\.js$/, '');
    assert.match(i18n, new RegExp(`import ${code} from './i18n/${f}'`), `${f} is imported by i18n.js`);
    assert.match(i18n, new RegExp(`\\['${code}', '[^']+'\\]`), `${f} is in the picker's list`);
    const other = (await import(pathToFileURL(join(web, 'i18n', f)))).default;
    const missing = Object.keys(en).filter((k) => !(k in other));
    const extra = Object.keys(other).filter((k) => !(k in en));
    assert.deepEqual(missing, [], `${f} lacks keys of en.js`);
    assert.deepEqual(extra, [], `${f} has keys en.js does not`);
    for (const k of Object.keys(en)) {
      assert.equal(typeof other[k], typeof en[k], `${f} ${k}: a ${typeof en[k]} as in en.js`);
      assert.deepEqual(names(other[k], k), names(en[k], k), `${f} ${k}: the same placeholders as en.js`);
      if (typeof en[k] === 'function') {
        // it runs and fills every value in
        const params = Object.fromEntries(names(en[k], k).map((n) => [n, 2]));
        assert.equal(typeof other[k](params), 'string');
      } else {
        assert.ok(other[k].trim().length > 0, `${f} ${k} is empty`);
      }
    }
  }
});
