// UI strings live in i18n/<lang>.js, one object of keys; t() fills in
// {placeholders}. A value may be a function for plurals and grammar.
// Adding a language: copy i18n/en.js to i18n/<lang>.js, translate every
// value (tests/browser/i18n.test.mjs checks that no key and no
// placeholder is missing), import it here and list it in `languages`
// with its own name; the account page's picker offers it.
import en from './i18n/en.js';
import de from './i18n/de.js';

const catalogs = { en, de };
// [code, the language's name in that language] for the picker
export const languages = [['en', 'English'], ['de', 'Deutsch']];
const STORE = 'consort.language';
let strings = en;

export function setLanguage(lang) {
  strings = catalogs[lang] || en;
  document.documentElement.lang = catalogs[lang] ? lang : 'en';
}

// The language chosen in this browser, else the browser's own when the
// app has it, else English.
export function initialLanguage() {
  let stored = null;
  try { stored = localStorage.getItem(STORE); } catch { /* private mode */ }
  if (stored && catalogs[stored]) return stored;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const code = String(l).slice(0, 2).toLowerCase();
    if (catalogs[code]) return code;
  }
  return 'en';
}

// The person's choice: kept in this browser and used from now on.
export function chooseLanguage(lang) {
  if (!catalogs[lang]) return;
  try { localStorage.setItem(STORE, lang); } catch { /* private mode */ }
  setLanguage(lang);
}

export function language() {
  return catalogs[document.documentElement.lang] ? document.documentElement.lang : 'en';
}

export function t(key, params = {}) {
  const v = strings[key] ?? en[key];
  if (v === undefined) return key;
  if (typeof v === 'function') return v(params);
  return v.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
}

export function locale() {
  return document.documentElement.lang || 'en';
}

setLanguage(initialLanguage());
