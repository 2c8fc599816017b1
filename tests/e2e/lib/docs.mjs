// Helpers for the document tests: a small consortium made with the real
// command line (partners, users with passwords, a work package, grants),
// API tokens for its members, and a curl runner that trusts the test CA.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { addPartner, addUser, addWp, grant, Session } from './accounts.mjs';

// Users: writer (write), other (write), reader (read), manager (manage)
// on WP1; outsider has no grant. Returns {tokens: {name: token}, sessions}.
export async function consortium(s, { wp = 'WP1' } = {}) {
  addPartner(s, 'UNIA');
  addPartner(s, 'INSTB', { country: 'FR' });
  const people = {
    writer: ['writer@a.example', 'UNIA', 'write'],
    other: ['other@b.example', 'INSTB', 'write'],
    reader: ['reader@b.example', 'INSTB', 'read'],
    manager: ['manager@a.example', 'UNIA', 'manage'],
    outsider: ['outsider@b.example', 'INSTB', null],
  };
  addWp(s, wp);
  const tokens = {};
  const sessions = {};
  for (const [name, [email, partner, level]] of Object.entries(people)) {
    addUser(s, email, partner, { name: name[0].toUpperCase() + name.slice(1) });
    if (level) grant(s, wp, { user: email }, level);
    const session = await Session.login(s, email);
    sessions[name] = session;
    const r = await session.req('POST', '/api/v1/tokens', { json: { name: 'e2e' } });
    if (r.status !== 201 && r.status !== 200) throw new Error(`token for ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    tokens[name] = r.body.token;
  }
  return { tokens, sessions, emails: Object.fromEntries(Object.entries(people).map(([k, v]) => [k, v[0]])) };
}

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

// fetch with a bearer token; returns the Response.
export function api(s, token, method, path, { headers = {}, body, json, duplex } = {}) {
  const h = { authorization: `Bearer ${token}`, ...headers };
  let b = body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    b = JSON.stringify(json);
  }
  return s.fetch(path, { method, headers: h, body: b, duplex: duplex || (b && typeof b.pipe === 'function' ? 'half' : undefined) });
}

export async function apiJson(s, token, method, path, opts) {
  const r = await api(s, token, method, path, opts);
  const text = await r.text();
  let body = text;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body };
}

// Percent-encode each segment of a document path for a URL.
export function urlPath(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

// Run curl with the test CA; resolves {code, stdout (Buffer), stderr}.
export function curl(args, { input } = {}) {
  return new Promise((resolve) => {
    const p = execFile('curl', ['--silent', '--show-error', '--cacert', process.env.NODE_EXTRA_CA_CERTS, ...args],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? err.code : 0, stdout, stderr: stderr.toString() });
      });
    if (input !== undefined) p.stdin.end(input);
  });
}
