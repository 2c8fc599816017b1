// OpenID providers for the sign-in tests, started by the test on
// loopback on free ports, with TLS from the suite's test CA (the server
// gets --oidc-ca-file with it):
//
// - RealOP: the certified `oidc-provider` package with two clients (a
//   confidential one with client_secret_basic, a public one with PKCE
//   only), accounts the test defines, and a login page that lets the
//   test (or Chromium) pick the account and whether MFA was used. It can
//   be restarted with a new signing key (key rotation).
// - BadOP: a tiny provider built with `jose` that signs in at once and
//   answers the token request with an ID token broken on purpose (alg
//   none, wrong iss/aud, expired, another key, an earlier nonce, ...).
//
// Browser: a fetch-based browser with a cookie jar that follows the
// redirects of a sign-in the way Chromium would.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';
import { freePort, testCert, testKey, testCA } from './server.mjs';
import { recordSecret } from './secrets.mjs';

export const CLIENT_SECRET = 'op-client-secret-' + randomBytes(12).toString('hex');
recordSecret(CLIENT_SECRET);

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

function listen(handler, port) {
  const srv = https.createServer({ cert: readFileSync(testCert), key: readFileSync(testKey) }, handler);
  return new Promise((res, rej) => {
    srv.once('error', rej);
    srv.listen(port, '127.0.0.1', () => res(srv));
  });
}

function closeServer(srv) {
  return new Promise((res) => { srv.closeAllConnections?.(); srv.close(() => res()); });
}

function readBody(req) {
  return new Promise((res) => {
    let b = '';
    req.on('data', (d) => { b += d; });
    req.on('end', () => res(b));
  });
}

export class RealOP {
  // accounts: {sub: {email, email_verified, name, schac_home_organization}}
  constructor({ accounts, redirectUri }) {
    this.accounts = accounts;
    this.redirectUri = redirectUri;
    this.kidSeq = 0;
  }

  get issuer() { return `https://127.0.0.1:${this.port}`; }

  async start() {
    this.port = this.port || await freePort();
    this.key = await signingKey(`k${++this.kidSeq}`);
    const accounts = this.accounts;
    const provider = new Provider(this.issuer, {
      clients: [
        { client_id: 'consort', client_secret: CLIENT_SECRET, redirect_uris: [this.redirectUri],
          token_endpoint_auth_method: 'client_secret_basic' },
        { client_id: 'consort-public', redirect_uris: [this.redirectUri],
          token_endpoint_auth_method: 'none' },
      ],
      jwks: { keys: [this.key] },
      findAccount: async (ctx, id) => (accounts[id] ? {
        accountId: id,
        claims: async () => ({ sub: id, ...accounts[id] }),
      } : undefined),
      claims: {
        openid: ['sub', 'amr', 'acr'], email: ['email', 'email_verified'], profile: ['name', 'schac_home_organization'],
      },
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: false } },
      interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
      // Consent is taken as given: the test is about the relying party.
      loadExistingGrant: async (ctx) => {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
        grant.addOIDCScope('openid email profile');
        await grant.save();
        return grant;
      },
      cookies: { keys: ['test-cookie-key'] },
    });
    this.provider = provider;
    const cb = provider.callback();
    this.srv = await listen(async (req, res) => {
      const m = /^\/interaction\/([^/?]+)/.exec(req.url);
      if (!m) return cb(req, res);
      try {
        if (req.method === 'GET') {
          await provider.interactionDetails(req, res);
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(`<!doctype html><title>Test provider</title><h1>Test provider</h1>
<form method="post"><label>Account <input name="login"></label>
<label><input type="checkbox" name="mfa" value="1"> used a second factor</label>
<button>Sign in at the provider</button></form>`);
          return;
        }
        const form = new URLSearchParams(await readBody(req));
        const login = form.get('login');
        const result = accounts[login]
          ? { login: { accountId: login, amr: form.get('mfa') ? ['pwd', 'otp', 'mfa'] : ['pwd'] } }
          : { error: 'access_denied', error_description: 'no such account' };
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      } catch (e) {
        res.writeHead(500);
        res.end(String(e));
      }
    }, this.port);
    return this;
  }

  async stop() { if (this.srv) await closeServer(this.srv); this.srv = null; }

  // A new signing key with a new kid, as a provider rotating its keys.
  async rotate() { await this.stop(); await this.start(); }
}

export class BadOP {
  constructor({ redirectUri, clientId = 'consort-bad' }) {
    this.redirectUri = redirectUri;
    this.clientId = clientId;
    this.mode = 'ok';
    this.claims = { sub: 'bad-1', email: 'bob@b.example', email_verified: true, name: 'Bob' };
    this.flows = new Map(); // code -> {nonce}
    this.nonces = [];
  }

  get issuer() { return `https://127.0.0.1:${this.port}`; }

  async start() {
    this.port = await freePort();
    const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
    const other = await jose.generateKeyPair('RS256', { extractable: true });
    this.privateKey = privateKey;
    this.otherKey = other.privateKey;
    this.jwk = { ...(await jose.exportJWK(publicKey)), kid: 'bad1', alg: 'RS256', use: 'sig' };
    this.srv = await listen(async (req, res) => {
      const url = new URL(req.url, this.issuer);
      const json = (o, status = 200) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(o)); };
      if (url.pathname === '/.well-known/openid-configuration') {
        return json({ issuer: this.issuer, authorization_endpoint: `${this.issuer}/authorize`,
          token_endpoint: `${this.issuer}/token`, jwks_uri: `${this.issuer}/jwks`,
          id_token_signing_alg_values_supported: ['RS256'], response_types_supported: ['code'],
          subject_types_supported: ['public'], frontchannel_logout_supported: true,
          frontchannel_logout_session_supported: true });
      }
      if (url.pathname === '/jwks') return json({ keys: [this.jwk] });
      if (url.pathname === '/authorize') {
        const code = randomBytes(16).toString('hex');
        this.flows.set(code, { nonce: url.searchParams.get('nonce'), challenge: url.searchParams.get('code_challenge'),
          method: url.searchParams.get('code_challenge_method') });
        this.nonces.push(url.searchParams.get('nonce'));
        const to = new URL(url.searchParams.get('redirect_uri'));
        to.searchParams.set('code', code);
        to.searchParams.set('state', url.searchParams.get('state'));
        res.writeHead(302, { location: to.toString() });
        return res.end();
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = new URLSearchParams(await readBody(req));
        const flow = this.flows.get(form.get('code'));
        this.flows.delete(form.get('code'));
        if (!flow) return json({ error: 'invalid_grant' }, 400);
        // PKCE as a real provider checks it.
        const s256 = createHash('sha256').update(form.get('code_verifier') || '').digest('base64url');
        if (flow.method !== 'S256' || s256 !== flow.challenge) return json({ error: 'invalid_grant' }, 400);
        return json(await this.tokenAnswer(flow));
      }
      res.writeHead(404);
      res.end();
    }, this.port);
    return this;
  }

  async tokenAnswer(flow) {
    const now = Math.floor(Date.now() / 1000);
    const accessToken = randomBytes(24).toString('base64url');
    const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
    // A session id of the provider's, for front-channel logout.
    this.sid = randomBytes(12).toString('hex');
    const claims = { iss: this.issuer, aud: this.clientId, iat: now, exp: now + 300, nonce: flow.nonce,
      at_hash: atHash, sid: this.sid, ...this.claims };
    const m = this.mode;
    if (m === 'wrong-iss') claims.iss = 'https://evil.example';
    if (m === 'wrong-aud') claims.aud = 'someone-else';
    if (m === 'wrong-azp') { claims.aud = [this.clientId, 'other']; claims.azp = 'other'; }
    if (m === 'expired') { claims.iat = now - 900; claims.exp = now - 600; }
    if (m === 'old-nonce') claims.nonce = this.nonces[0];
    if (m === 'bad-at-hash') claims.at_hash = 'AAAAAAAAAAAAAAAAAAAAAA';
    let idToken;
    if (m === 'none') {
      idToken = new jose.UnsecuredJWT(claims).encode();
    } else if (m === 'hs256') {
      idToken = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'bad1' })
        .sign(new TextEncoder().encode('a shared secret anyone could know!!'));
    } else {
      const key = m === 'other-key' ? this.otherKey : this.privateKey;
      idToken = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'bad1' }).sign(key);
    }
    return { access_token: accessToken, token_type: 'Bearer', expires_in: 300, id_token: idToken };
  }

  async stop() { if (this.srv) await closeServer(this.srv); this.srv = null; }
}

// A browser in a test: cookies per host, redirects followed by hand.
export class Browser {
  constructor() { this.jar = new Map(); }

  cookieHeader(url) {
    const host = new URL(url).host;
    const c = this.jar.get(host);
    return c ? [...c].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  store(url, headers) {
    const host = new URL(url).host;
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    const c = this.jar.get(host);
    for (const sc of headers.getSetCookie()) {
      const m = /^([^=]+)=([^;]*)/.exec(sc);
      if (!m) continue;
      recordSecret(m[2]);
      if (/max-age=0\b/i.test(sc) || m[2] === '') c.delete(m[1]);
      else c.set(m[1], m[2]);
    }
  }

  cookie(url, name) { return this.jar.get(new URL(url).host)?.get(name); }

  async fetch(url, { method = 'GET', body, headers = {} } = {}) {
    const h = { ...headers };
    const ck = this.cookieHeader(url);
    if (ck) h.cookie = ck;
    const r = await fetch(url, { method, body, headers: h, redirect: 'manual' });
    this.store(url, r.headers);
    return r;
  }

  // Follow redirects from `url` until an answer that is not one, or one
  // that leaves for `stopAt` (a URL prefix). Returns {url, response}.
  async follow(url, { stopAt, max = 20 } = {}) {
    let cur = url;
    let opts = {};
    for (let i = 0; i < max; i++) {
      const r = await this.fetch(cur, opts);
      const loc = r.headers.get('location');
      if (r.status < 300 || r.status > 399 || !loc) return { url: cur, response: r };
      await r.arrayBuffer();
      cur = new URL(loc, cur).toString();
      opts = {};
      if (stopAt && cur.startsWith(stopAt)) return { url: cur, response: r };
    }
    throw new Error('too many redirects');
  }
}

// Sign in through provider `name` of consort `s` as `login` at a RealOP
// (mfa: tick the second factor). Returns {fragment, browser, response}:
// the app's fragment when sent back to the app (#signin-...), or the
// continue page's response with the session cookie in the browser.
export async function oidcSignIn(s, name, { login, mfa = false, browser = new Browser() } = {}) {
  let { url, response } = await browser.follow(`${s.url}/api/v1/auth/oidc/${name}`);
  if (/\/interaction\//.test(url)) {
    await response.text();
    const body = new URLSearchParams({ login, ...(mfa ? { mfa: '1' } : {}) }).toString();
    const r = await browser.fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await r.arrayBuffer();
    ({ url, response } = await browser.follow(new URL(r.headers.get('location'), url).toString(),
      { stopAt: `${s.url}/#` }));
  }
  const fragment = url.startsWith(`${s.url}/#`) ? decodeURIComponent(url.slice(s.url.length + 2)) : null;
  return { fragment, browser, response, url };
}

export { testCA };
