// The one way the app talks to the server: JSON in and out, the CSRF
// token on every unsafe request, errors as ApiError with the server's
// code and sentence. A 401 on anything but signing in means the session
// ended: the app is told (onSessionEnded) and sends the user to sign-in.
// A 403 reauthentication_required (sudo mode) asks the person to confirm
// it is them (onReauthRequired) and sends the request once more.
import { t } from './i18n.js';

let csrf = null;
let sessionEnded = () => {};
let reauthRequired = null;

export function setCsrf(token) { csrf = token || null; }
export function getCsrf() { return csrf; }
export function onSessionEnded(fn) { sessionEnded = fn; }
// `fn(err)` resolves true once the session is confirmed (reauth.js).
export function onReauthRequired(fn) { reauthRequired = fn; }

export class ApiError extends Error {
  constructor(status, code, detail, headers) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.headers = headers;
  }
}

function query(params) {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Each segment of a document path percent-encoded on its own.
export function encodePath(path) {
  return String(path || '').split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

export function wpApi(wp, what, path = '') {
  const p = encodePath(path);
  return `/api/v1/wps/${encodeURIComponent(wp)}/${what}${p || what === 'tree' ? `/${p}` : ''}`;
}

export function contentUrl(wp, path, version) {
  return wpApi(wp, 'content', path) + (version ? `?version=${version}` : '');
}

export async function api(method, path, opts = {}) {
  const { json, body: raw, params, headers = {}, signal, quiet401 = false, retried = false } = opts;
  const h = { Accept: 'application/json', ...headers };
  let body = raw; // a raw body (e.g. a CSV file) with its Content-Type in headers
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  if (csrf && !['GET', 'HEAD', 'OPTIONS'].includes(method)) h['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch(path + query(params), { method, headers: h, body, signal, credentials: 'same-origin' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', t('error.network'));
  }
  const text = r.status === 204 ? '' : await r.text();
  let data = null;
  if (text && (r.headers.get('Content-Type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!r.ok) {
    const code = data?.error || `http_${r.status}`;
    const err = new ApiError(r.status, code, data?.detail || t('error.status', { status: r.status }), r.headers);
    if (r.status === 401 && code === 'unauthenticated' && !quiet401) sessionEnded(err);
    if (r.status === 403 && code === 'reauthentication_required' && reauthRequired && !retried &&
        await reauthRequired(err))
      return api(method, path, { ...opts, retried: true });
    throw err;
  }
  return data ?? {};
}

export const get = (path, opts) => api('GET', path, opts);
export const post = (path, json, opts = {}) => api('POST', path, { ...opts, json });
export const put = (path, json, opts = {}) => api('PUT', path, { ...opts, json });
export const patch = (path, json, opts = {}) => api('PATCH', path, { ...opts, json });
export const del = (path, opts) => api('DELETE', path, opts);

// A sentence for people about any error thrown by api() or the app.
export function describe(err) {
  if (!err) return '';
  if (err instanceof ApiError) {
    if (err.status === 0) return t('error.network');
    if (err.status === 429) {
      const after = Number(err.headers?.get('Retry-After'));
      return after ? t('error.rateLimitedFor', { n: after }) : t('error.rateLimited');
    }
    if (err.status === 507) return `${t('error.quota')} ${err.detail || ''}`.trim();
    if (err.status === 403 && err.code === 'forbidden') return err.detail || t('error.forbidden');
    if (err.code === 'reauthentication_required') return t('error.reauth');
    return err.detail || err.code;
  }
  return err.message || String(err);
}
