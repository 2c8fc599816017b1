// The person's language lives with their account too (GET/PUT
// /api/v1/me/notifications "language"): when they first sign in, the app
// tells the server the language it runs in; from then on the app follows
// the account's language on every browser, and the account page's picker
// changes both.
import { get, put } from './api.js';
import { language, chooseLanguage } from './i18n.js';

// true when the app's language changed (the caller draws again).
export async function syncLanguage() {
  let r;
  try { r = await get('/api/v1/me/notifications'); } catch { return false; }
  if (!r.language) {
    put('/api/v1/me/notifications', { language: language() }).catch(() => {});
    return false;
  }
  if (r.language === language()) return false;
  chooseLanguage(r.language);
  return language() === r.language;
}

export async function saveLanguage(lang) {
  chooseLanguage(lang);
  await put('/api/v1/me/notifications', { language: lang });
}
