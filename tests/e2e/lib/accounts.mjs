// Helpers for tests that need accounts: build a consortium with the
// command line, sign in (cookie + CSRF) or use an API token, compute TOTP
// codes, and look into the database with the sqlite3 shell.
import { createHash, createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { runConsort } from './server.mjs';
import { recordSecret } from './secrets.mjs';

export const PASSWORD = 'correct horse battery staple';
recordSecret(PASSWORD);

// Every secret that passes through these helpers is recorded for the
// suite's check that none reaches a log (lib/secrets.mjs): what a test
// sends (passwords, link tokens, bearer tokens, cookies) and what the
// server hands out (session cookies, CSRF and API tokens, TOTP secrets,
// recovery codes, set-password links).
const SECRET_KEY = /password|token|secret|csrf|code|uri|url/i;

function recordSecretsIn(value, key = '') {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) recordSecret(value);
  } else if (Array.isArray(value)) {
    for (const v of value) recordSecretsIn(v, key);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) recordSecretsIn(v, k);
  }
}

// Run `consort ARGS --data DIR`; throws with stderr on failure.
export function consort(s, args, input) {
  const r = runConsort([...args, '--data', s.dataDir], { input });
  if (r.status !== 0) throw new Error(`consort ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export function addPartner(s, short, { name = `${short} institute`, country = 'DE' } = {}) {
  return consort(s, ['partner', 'add', '--short', short, '--name', name, '--country', country]);
}

export function addUser(s, email, partner, { coordinator = false, password = PASSWORD, name } = {}) {
  const args = ['user', 'add', '--email', email, '--name', name || email.split('@')[0], '--partner', partner];
  if (coordinator) args.push('--coordinator');
  if (password === null) return consort(s, args);
  recordSecret(password);
  args.push('--password-stdin');
  return consort(s, args, `${password}\n`);
}

export function addWp(s, code, { title = `${code} title`, lead } = {}) {
  const args = ['wp', 'add', '--code', code, '--title', title];
  if (lead) args.push('--lead', lead);
  return consort(s, args);
}

export function grant(s, wp, subject, level) {
  const args = ['grant', '--wp', wp, '--level', level];
  if (subject.user) args.push('--user', subject.user);
  else args.push('--partner', subject.partner);
  return consort(s, args);
}

// SQL against the server's database through the sqlite3 shell (the
// server keeps running; WAL lets both in, and a write waits up to 10 s
// for a commit of the server's, as the server's own connections do).
// Returns rows as arrays.
export function sql(s, statement) {
  const out = execFileSync('sqlite3', ['-bail', '-json', '-cmd', '.timeout 10000', `${s.dataDir}/consort.db`, statement],
    { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
  return out ? JSON.parse(out) : [];
}

export function sha256hex(text) {
  return createHash('sha256').update(text).digest('hex');
}

async function parse(r) {
  const text = await r.text();
  let body = text;
  if ((r.headers.get('content-type') || '').startsWith('application/json') && text) body = JSON.parse(text);
  recordSecretsIn(body);
  for (const c of r.headers.getSetCookie()) recordSecret(/^[^=]+=([^;]*)/.exec(c)?.[1]);
  return { status: r.status, headers: r.headers, body };
}

// One request; `json` becomes the body with its content type.
export async function request(s, method, path, { json, body, headers = {} } = {}) {
  const h = { ...headers };
  let b = body;
  recordSecretsIn(json);
  for (const [k, v] of Object.entries(h))
    if (/^(authorization|cookie|x-csrf-token)$/i.test(k)) recordSecret(String(v).replace(/^(Bearer |__Host-consort=)/, ''));
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    b = typeof json === 'string' ? json : JSON.stringify(json);
  }
  return parse(await s.fetch(path, { method, headers: h, body: b, redirect: 'manual' }));
}

function cookieOf(headers) {
  for (const c of headers.getSetCookie()) {
    const m = /^__Host-consort=([^;]*)/.exec(c);
    if (m) return m[1];
  }
  return null;
}

// A signed-in browser: the session cookie and the CSRF token.
export class Session {
  constructor(s, cookie, csrf, user) {
    this.s = s;
    this.cookie = cookie;
    this.csrf = csrf;
    this.user = user;
  }

  static async login(s, email, password = PASSWORD, extra = {}) {
    const r = await request(s, 'POST', '/api/v1/session', { json: { email, password, ...extra } });
    if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    return new Session(s, cookieOf(r.headers), r.body.csrf, r.body.user);
  }

  // `csrf: null` sends none, a string sends that one.
  req(method, path, { csrf = this.csrf, headers = {}, ...opts } = {}) {
    const h = { cookie: `__Host-consort=${this.cookie}`, ...headers };
    if (csrf !== null) h['x-csrf-token'] = csrf;
    return request(this.s, method, path, { ...opts, headers: h });
  }
}

// A script holding an API token.
export class Bearer {
  constructor(s, token) {
    this.s = s;
    this.token = token;
  }

  req(method, path, { headers = {}, ...opts } = {}) {
    return request(this.s, method, path, { ...opts, headers: { authorization: `Bearer ${this.token}`, ...headers } });
  }
}

export { cookieOf };

function base32decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, acc = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '')) {
    acc = (acc << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

// RFC 6238 code for a base32 secret at step floor(t/30) + offset.
export function totp(secret, { t = Date.now() / 1000, offset = 0, digits = 6 } = {}) {
  const step = Math.floor(t / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}
