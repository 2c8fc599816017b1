// A tus 1.0 client (core, creation, creation-with-upload, termination)
// for consort's /api/v1/uploads: creates an upload (a small file goes
// with it and is done), sends the file with PATCH and, when
// the connection drops, asks the server with HEAD how much it kept and
// goes on from there. XMLHttpRequest rather than fetch, for upload
// progress events. The upload's URL is remembered in localStorage under
// a fingerprint of the file and its destination, so choosing the same
// file again after a reload resumes instead of starting over.
import { getCsrf } from '../api.js';

const STORE = 'consort.uploads.v1';
// A file this small goes whole with the creation request
// (creation-with-upload): the server commits it there and then, with no
// partial upload to resume (the server's small-content threshold).
const WHOLE_MAX = 64 * 1024;
const RETRY_DELAYS = [1, 2, 4, 8, 15, 30];

export class UploadError extends Error {
  constructor(status, code, detail) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

function b64(text) {
  const bytes = new TextEncoder().encode(text);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fingerprint(user, wp, path, file) {
  return [user, wp.toUpperCase(), path, file.size, file.lastModified || 0].join('\n');
}

export function stored() {
  try { return JSON.parse(localStorage.getItem(STORE) || '{}'); } catch { return {}; }
}
export function remember(fp, entry) {
  const all = stored();
  if (entry) all[fp] = entry; else delete all[fp];
  try { localStorage.setItem(STORE, JSON.stringify(all)); } catch { /* private mode: resuming after reload is lost, nothing else */ }
}

function request(method, url, { headers = {}, body = null, onProgress, bind } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    if (bind) bind(xhr);
    xhr.open(method, url, true);
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    const csrf = getCsrf();
    if (csrf && method !== 'HEAD' && method !== 'GET') xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.setRequestHeader('Tus-Resumable', '1.0.0');
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new UploadError(0, 'network', 'network'));
    xhr.onabort = () => reject(new UploadError(-1, 'aborted', 'aborted'));
    xhr.send(body);
  });
}

function failure(xhr) {
  let code = `http_${xhr.status}`;
  let detail = '';
  try {
    const j = JSON.parse(xhr.responseText || 'null');
    if (j) { code = j.error || code; detail = j.detail || ''; }
  } catch { /* not JSON */ }
  return new UploadError(xhr.status, code, detail);
}

// One file to one destination. Callbacks: onProgress(bytesOnServerOrSent),
// onState(state, info) with state 'creating' | 'uploading' | 'retrying'
// (info.in seconds) | 'waiting-signin' | 'committing'.
export class TusUpload {
  // `meta` (an object) replaces wp/path/comment in Upload-Metadata and
  // `headers` go with every request: a drop link's page (views/share.js)
  // sends {uploader} and its X-Link-Key.
  constructor(file, { endpoint = '/api/v1/uploads', wp, path, comment = '', meta = null, headers = {}, fp, chunkSize = Infinity, onProgress = () => {}, onState = () => {} }) {
    Object.assign(this, { file, endpoint, wp, path, comment, meta, headers, fp, chunkSize, onProgress, onState });
    this.url = fp ? stored()[fp]?.url || null : null;
    this.offset = 0;
    this.xhr = null;
    this.stopped = false;
    this.attempt = 0;
    this.wake = null;
  }

  abort() {
    this.stopped = true;
    if (this.xhr) this.xhr.abort();
    if (this.wake) this.wake();
  }

  // Removes the partial upload on the server (termination extension).
  async terminate() {
    this.abort();
    if (this.fp) remember(this.fp, null);
    if (!this.url) return;
    try { await request('DELETE', this.url, { headers: this.headers }); } catch { /* it expires on its own */ }
  }

  // Continue now: after the user signed in again, or came back online.
  nudge() { if (this.wake) this.wake(); }

  sleep(seconds) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      const onOnline = () => done();
      function done() { clearTimeout(timer); window.removeEventListener('online', onOnline); resolve(); }
      this.wake = () => { this.wake = null; done(); };
      window.addEventListener('online', onOnline);
    });
  }

  async create() {
    this.onState('creating');
    const meta = this.meta
      ? [...Object.entries(this.meta).map(([k, v]) => `${k} ${b64(v)}`), `filename ${b64(this.file.name)}`]
      : [`wp ${b64(this.wp)}`, `path ${b64(this.path)}`, `filename ${b64(this.file.name)}`];
    if (this.comment && !this.meta) meta.push(`comment ${b64(this.comment)}`);
    const whole = this.file.size > 0 && this.file.size <= WHOLE_MAX;
    const xhr = await request('POST', this.endpoint, {
      headers: { ...this.headers, 'Upload-Length': String(this.file.size), 'Upload-Metadata': meta.join(','),
        ...(whole ? { 'Content-Type': 'application/offset+octet-stream' } : {}) },
      body: whole ? this.file : null,
      onProgress: whole ? (n) => this.onProgress(n) : undefined,
      bind: (x) => { this.xhr = x; },
    });
    if (xhr.status !== 201) throw failure(xhr);
    const loc = xhr.getResponseHeader('Location');
    if (!loc) throw new UploadError(xhr.status, 'protocol', 'no Location in the answer');
    this.url = new URL(loc, location.href).pathname;
    this.offset = Number(xhr.getResponseHeader('Upload-Offset') || 0);
    const version = xhr.getResponseHeader('X-Consort-Version');
    if (version) return { version: Number(version), etag: xhr.getResponseHeader('ETag') }; // empty or small: complete at once
    if (this.fp) remember(this.fp, { url: this.url, wp: this.wp, path: this.path, name: this.file.name, size: this.file.size, at: Date.now() });
    return null;
  }

  // Offset the server holds; null when the upload is gone. A finished
  // upload reports its version.
  async head() {
    const xhr = await request('HEAD', this.url, { headers: this.headers, bind: (x) => { this.xhr = x; } });
    if (xhr.status === 404 || xhr.status === 410) return null;
    if (xhr.status !== 200) throw failure(xhr);
    const offset = Number(xhr.getResponseHeader('Upload-Offset'));
    const version = xhr.getResponseHeader('X-Consort-Version');
    return { offset, version: version ? Number(version) : null, etag: xhr.getResponseHeader('ETag') };
  }

  async patch() {
    const end = Math.min(this.file.size, this.offset + this.chunkSize);
    const start = this.offset;
    this.onState('uploading');
    const xhr = await request('PATCH', this.url, {
      headers: { ...this.headers, 'Upload-Offset': String(start), 'Content-Type': 'application/offset+octet-stream' },
      body: this.file.slice(start, end),
      onProgress: (n) => this.onProgress(start + n),
      bind: (x) => { this.xhr = x; },
    });
    if (xhr.status === 204) {
      this.offset = Number(xhr.getResponseHeader('Upload-Offset'));
      this.attempt = 0;
      this.onProgress(this.offset);
      const version = xhr.getResponseHeader('X-Consort-Version');
      if (version) return { version: Number(version), etag: xhr.getResponseHeader('ETag') };
      return null;
    }
    throw failure(xhr);
  }

  // Resolves with {version, etag} once the document version exists.
  async start() {
    this.stopped = false;
    for (;;) {
      if (this.stopped) throw new UploadError(-1, 'aborted', 'aborted');
      try {
        if (!this.url) {
          const done = await this.create();
          if (done) return this.finish(done);
        } else {
          const st = await this.head();
          if (!st) {
            this.url = null;
            if (this.fp) remember(this.fp, null);
            continue;
          }
          if (st.version) return this.finish(st);
          this.offset = st.offset;
          this.onProgress(this.offset);
        }
        for (;;) {
          if (this.stopped) throw new UploadError(-1, 'aborted', 'aborted');
          if (this.offset >= this.file.size && this.file.size > 0) this.onState('committing');
          const done = await this.patch();
          if (done) return this.finish(done);
        }
      } catch (e) {
        if (this.stopped || e.status === -1) throw new UploadError(-1, 'aborted', 'aborted');
        if (e.status === 0 || e.status === 423 || e.status === 503 || e.status === 502 || e.status === 504) {
          // Connection lost (or the server is busy): wait, then ask it
          // how much arrived and go on from there.
          const wait = RETRY_DELAYS[Math.min(this.attempt, RETRY_DELAYS.length - 1)];
          this.attempt += 1;
          this.onState('retrying', { in: wait, offline: !navigator.onLine });
          await this.sleep(wait);
          continue;
        }
        if (e.status === 409 && this.url) {
          // Offsets disagreed: HEAD (at the top) tells the truth. When they
          // agree, the 409 was the commit's (the name became a folder or a
          // look-alike meanwhile): sending the bytes again fails the same way.
          const st = await this.head().catch(() => undefined);
          if (st && !st.version && st.offset === this.offset) throw e;
          continue;
        }
        if (e.status === 401) {
          this.onState('waiting-signin');
          await new Promise((resolve) => { this.wake = () => { this.wake = null; resolve(); }; });
          continue;
        }
        throw e;
      }
    }
  }

  finish(r) {
    if (this.fp) remember(this.fp, null);
    return r;
  }
}
