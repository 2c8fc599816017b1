// UI strings live in i18n/<lang>.js, one object of keys; t() fills in
// {placeholders}. A value may be a function for plurals and grammar.
// Adding a language is adding a file and listing it here.
import en from './i18n/en.js';

const catalogs = { en };
let strings = en;

export function setLanguage(lang) {
  strings = catalogs[lang] || en;
  document.documentElement.lang = catalogs[lang] ? lang : 'en';
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
