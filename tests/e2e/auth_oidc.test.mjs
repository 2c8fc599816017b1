// OpenID Connect sign-in against real providers the test starts: the
// certified oidc-provider package (two clients, a rotating key) and a
// misbehaving provider built with jose for what a good one never sends.
// Covers linking by verified email, unverified emails refused, the
// approval queue, the MFA claim against "second factor required", the
// local code when the provider asserts none, broken ID tokens (alg none,
// HS256, another key, wrong iss/aud/azp, expired, an earlier nonce, a
// wrong at_hash), a replayed state, a callback in another browser, key
// rotation, and a provider that is down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, freePort, tempDir } from './lib/server.mjs';
import { addPartner, addUser, sql, Session, request, totp, PASSWORD } from './lib/accounts.mjs';
import { RealOP, BadOP, Browser, oidcSignIn, CLIENT_SECRET, testCA } from './lib/oidc.mjs';

let s, op, bad, coord, cfgDir;

const accounts = {
  alice: { email: 'alice@a.example', email_verified: true, name: 'Alice A' },
  mallory: { email: 'carol@a.example', email_verified: false, name: 'Not Carol' },
  dora: { email: 'dora@newlab.example', email_verified: true, name: 'Dora New', schac_home_organization: 'newlab.example' },
  erin: { email: 'erin@other.example', email_verified: true, name: 'Erin' },
  frank: { email: 'frank@a.example', email_verified: true, name: 'Frank' },
  gina: { email: 'gina@a.example', email_verified: true, name: 'Gina' },
};

async function me(browser) {
  const cookie = browser.cookie(s.url, '__Host-consort');
  if (!cookie) return null;
  const r = await request(s, 'GET', '/api/v1/me', { headers: { cookie: `__Host-consort=${cookie}` } });
  return r.status === 200 ? r.body : null;
}

// The account mail of `kind` written to DATA/outbox/ (no smtp-url), once
// `n` files are there: [{ to, subject, text }].
async function outbox(kind, n) {
  const dir = join(s.dataDir, 'outbox');
  let files = [];
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    try { files = readdirSync(dir).filter((f) => f.endsWith(`-${kind}.eml`)).sort(); } catch { /* not yet */ }
    if (files.length >= n) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return files.map((f) => {
    const raw = readFileSync(join(dir, f), 'utf8');
    const part = /Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+)/.exec(raw);
    return {
      to: /^To: (.*)\r$/m.exec(raw)[1],
      subject: /^Subject: (.*)\r$/m.exec(raw)[1],
      text: part ? Buffer.from(part[1].replace(/\r\n/g, ''), 'base64').toString('utf8') : '',
    };
  });
}

function lastAudit(action) {
  return sql(s, `SELECT detail, actor FROM audit WHERE action = '${action}' ORDER BY id DESC LIMIT 1`)[0];
}

before(async () => {
  const port = await freePort();
  const redirectUri = `https://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  op = await new RealOP({ accounts, redirectUri }).start();
  bad = await new BadOP({ redirectUri }).start();
  cfgDir = tempDir('consort-oidc-');
  writeFileSync(join(cfgDir, 'secret'), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  const downPort = await freePort();
  writeFileSync(join(cfgDir, 'consort.conf'), `
public-url = https://127.0.0.1:${port}
oidc-ca-file = ${testCA}
oidc-jwks-refetch = 1s

[oidc op]
title = Test Institution
issuer = ${op.issuer}
client-id = consort
client-secret-file = ${join(cfgDir, 'secret')}
partner-claim = schac_home_organization
partner-map = newlab.example=NEWL

[oidc op-public]
title = Test Institution (public client)
issuer = ${op.issuer}
client-id = consort-public
email-domains = a.example

[oidc bad]
issuer = ${bad.issuer}
client-id = consort-bad

[oidc down]
issuer = https://127.0.0.1:${downPort}
client-id = nobody
`);
  s = new Server({ args: ['--config', join(cfgDir, 'consort.conf')] });
  s.port = port;
  await s.start();
  addPartner(s, 'UNIA');
  addPartner(s, 'NEWL');
  addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
  addUser(s, 'alice@a.example', 'UNIA');
  addUser(s, 'carol@a.example', 'UNIA');
  addUser(s, 'frank@a.example', 'UNIA');
  addUser(s, 'gina@a.example', 'UNIA');
  addUser(s, 'bob@b.example', 'UNIA');
  coord = await Session.login(s, 'coord@a.example');
});

after(async () => {
  await s?.close();
  await op?.stop();
  await bad?.stop();
});

test('the providers are listed for the sign-in page', async () => {
  const r = await request(s, 'GET', '/api/v1/auth/oidc');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.providers.map((p) => p.name), ['op', 'op-public', 'bad', 'down']);
  assert.equal(r.body.providers[0].title, 'Test Institution');
  assert.equal((await request(s, 'GET', '/api/v1/auth/oidc/nosuch')).status, 404);
});

test('the authorization request: code flow, PKCE S256, state and nonce, a Lax binding cookie', async () => {
  const b = new Browser();
  const r = await b.fetch(`${s.url}/api/v1/auth/oidc/op`);
  assert.equal(r.status, 302);
  const to = new URL(r.headers.get('location'));
  assert.equal(to.origin, op.issuer);
  assert.equal(to.searchParams.get('response_type'), 'code');
  assert.equal(to.searchParams.get('client_id'), 'consort');
  assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
  assert.match(to.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.match(to.searchParams.get('state'), /^[A-Za-z0-9_-]{43}$/);
  assert.match(to.searchParams.get('nonce'), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(to.searchParams.get('redirect_uri'), `${s.url}/api/v1/auth/oidc/callback`);
  const sc = r.headers.getSetCookie().find((c) => c.startsWith('__Host-consort-oidc='));
  assert.match(sc, /Secure/);
  assert.match(sc, /HttpOnly/);
  assert.match(sc, /SameSite=Lax/);
});

test('a verified email links the existing account; the next sign-in uses the link', async () => {
  const { response, browser } = await oidcSignIn(s, 'op', { login: 'alice' });
  assert.equal(response.status, 200);
  assert.match(await response.text(), /http-equiv="refresh"/);
  const m = await me(browser);
  assert.equal(m.user.email, 'alice@a.example');
  assert.ok(m.csrf);
  assert.deepEqual(sql(s, "SELECT provider, subject FROM oidc_links l JOIN users u ON u.id = l.user_id WHERE u.email = 'alice@a.example'"),
    [{ provider: 'op', subject: 'alice' }]);
  assert.match(lastAudit('oidc_link').detail, /oidc op subject alice, by verified email/);
  assert.match(lastAudit('login').detail, /^oidc op subject alice; single factor/);
  // The session is an ordinary one: CSRF and all.
  const cookie = browser.cookie(s.url, '__Host-consort');
  const sess = new Session(s, cookie, m.csrf, m.user);
  assert.equal((await sess.req('POST', '/api/v1/tokens', { json: { name: 't' }, csrf: null })).status, 403);
  assert.equal((await sess.req('POST', '/api/v1/tokens', { json: { name: 't' } })).status, 201);
  // Again, through the link (the email at the provider could change).
  const again = await oidcSignIn(s, 'op', { login: 'alice' });
  assert.equal((await me(again.browser)).user.email, 'alice@a.example');
});

test('an unverified email is refused and links nothing', async () => {
  const { fragment, browser } = await oidcSignIn(s, 'op', { login: 'mallory' });
  assert.equal(fragment, 'signin-error=unverified');
  assert.equal(await me(browser), null);
  assert.deepEqual(sql(s, "SELECT * FROM oidc_links WHERE subject = 'mallory'"), []);
  assert.match(lastAudit('login_failed').detail, /not verified/);
});

test('a new person waits in the queue; a coordinator chooses the partner and approves', async () => {
  // Every enabled coordinator is told, by mail; a disabled one is not.
  addUser(s, 'coord2@a.example', 'UNIA', { coordinator: true });
  addUser(s, 'coord3@a.example', 'UNIA', { coordinator: true });
  sql(s, "UPDATE users SET disabled = 1 WHERE email = 'coord3@a.example'");
  const { fragment, browser } = await oidcSignIn(s, 'op', { login: 'dora' });
  assert.equal(fragment, 'signin-pending');
  assert.equal(await me(browser), null);
  assert.match(lastAudit('signup_request').detail, /oidc op subject dora; organisation newlab.example/);
  const mails = await outbox('signup_request', 2);
  assert.deepEqual(mails.map((m) => m.to).sort(), ['<coord2@a.example>', '<coord@a.example>']);
  for (const m of mails) {
    assert.equal(m.subject, 'A new person waits for approval');
    assert.match(m.text, /Dora New <dora@newlab\.example> via Test Institution signed in/);
    assert.ok(m.text.includes(`https://127.0.0.1:${s.port}/#/admin/users`), m.text);
  }
  // Only coordinators see the queue.
  const alice = (await oidcSignIn(s, 'op', { login: 'alice' })).browser;
  const ma = await me(alice);
  const aliceSess = new Session(s, alice.cookie(s.url, '__Host-consort'), ma.csrf, ma.user);
  assert.equal((await aliceSess.req('GET', '/api/v1/signups')).status, 403);
  let r = await coord.req('GET', '/api/v1/signups');
  assert.equal(r.status, 200);
  assert.equal(r.body.signups.length, 1);
  const p = r.body.signups[0];
  assert.equal(p.email, 'dora@newlab.example');
  assert.equal(p.partner, 'NEWL'); // mapped from schac_home_organization
  assert.equal(p.organisation, 'newlab.example');
  // Signing in again while waiting keeps one entry.
  await oidcSignIn(s, 'op', { login: 'dora' });
  assert.equal((await coord.req('GET', '/api/v1/signups')).body.signups.length, 1);
  // ... and mails no one again.
  assert.equal(sql(s, "SELECT count(*) AS n FROM outbox WHERE kind = 'signup_request'")[0].n, 2);
  // Bad input: a partner that does not exist changes nothing.
  r = await coord.req('POST', `/api/v1/signups/${p.id}/approve`, { json: { partner: 'NOPE' } });
  assert.equal(r.status, 400);
  assert.equal((await coord.req('GET', '/api/v1/signups')).body.signups.length, 1);
  assert.equal((await coord.req('POST', '/api/v1/signups/999/approve', { json: { partner: 'NEWL' } })).status, 404);
  // Creating an account is sudo mode, as for POST /api/v1/users: a
  // coordinator who signed in long ago confirms first.
  sql(s, "UPDATE sessions SET reauth_at = reauth_at - 601 WHERE user_id = (SELECT id FROM users WHERE email = 'coord@a.example')");
  r = await coord.req('POST', `/api/v1/signups/${p.id}/approve`, { json: { partner: 'NEWL' } });
  assert.equal(r.status, 403);
  assert.equal((await coord.req('GET', '/api/v1/signups')).body.signups.length, 1);
  assert.equal((await coord.req('POST', '/api/v1/session/confirm', { json: { password: PASSWORD } })).status, 200);
  r = await coord.req('POST', `/api/v1/signups/${p.id}/approve`, { json: { partner: 'NEWL' } });
  assert.equal(r.status, 201);
  assert.equal(r.body.email, 'dora@newlab.example');
  assert.equal((await coord.req('GET', '/api/v1/signups')).body.signups.length, 0);
  assert.match(lastAudit('signup_approve').detail, /partner NEWL/);
  const d = await oidcSignIn(s, 'op', { login: 'dora' });
  assert.equal((await me(d.browser)).user.email, 'dora@newlab.example');
});

test('a refused person leaves the queue', async () => {
  accounts.henry = { email: 'henry@x.example', email_verified: true, name: 'Henry' };
  assert.equal((await oidcSignIn(s, 'op', { login: 'henry' })).fragment, 'signin-pending');
  const id = (await coord.req('GET', '/api/v1/signups')).body.signups[0].id;
  assert.equal((await coord.req('DELETE', `/api/v1/signups/${id}`)).status, 204);
  assert.equal((await coord.req('GET', '/api/v1/signups')).body.signups.length, 0);
  assert.equal((await coord.req('DELETE', `/api/v1/signups/${id}`)).status, 404);
});

test('a provider limited to email domains refuses others; the public client works with PKCE alone', async () => {
  const e = await oidcSignIn(s, 'op-public', { login: 'erin' });
  assert.equal(e.fragment, 'signin-error=domain');
  const f = await oidcSignIn(s, 'op-public', { login: 'frank' });
  assert.equal((await me(f.browser)).user.email, 'frank@a.example');
});

test('MFA at the provider satisfies "second factor required"; without it the account is held to enrolling', async () => {
  const id = sql(s, "SELECT id FROM users WHERE email = 'gina@a.example'")[0].id;
  assert.equal((await coord.req('PATCH', `/api/v1/users/${id}`, { json: { totp_required: true } })).status, 200);
  const withMfa = await oidcSignIn(s, 'op', { login: 'gina', mfa: true });
  let m = await me(withMfa.browser);
  assert.equal(m.totp_enrolment_required, false);
  assert.match(lastAudit('login').detail, /second factor at the provider \(amr pwd otp mfa\)/);
  const cookie = withMfa.browser.cookie(s.url, '__Host-consort');
  assert.equal((await request(s, 'GET', '/api/v1/wps', { headers: { cookie: `__Host-consort=${cookie}` } })).status, 200);
  const without = await oidcSignIn(s, 'op', { login: 'gina' });
  m = await me(without.browser);
  assert.equal(m.totp_enrolment_required, true);
  const c2 = without.browser.cookie(s.url, '__Host-consort');
  assert.equal((await request(s, 'GET', '/api/v1/wps', { headers: { cookie: `__Host-consort=${c2}` } })).status, 403);
});

test('an account with TOTP is asked for its code unless the provider asserted MFA', async () => {
  // Frank enrols a second factor.
  const f = await oidcSignIn(s, 'op', { login: 'frank' });
  const fm = await me(f.browser);
  const frank = new Session(s, f.browser.cookie(s.url, '__Host-consort'), fm.csrf, fm.user);
  let r = await frank.req('POST', '/api/v1/me/totp');
  const secret = r.body.secret;
  r = await frank.req('POST', '/api/v1/me/totp/confirm', { json: { code: totp(secret) } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const { fragment, browser } = await oidcSignIn(s, 'op', { login: 'frank' });
  assert.match(fragment, /^signin-totp=[A-Za-z0-9_-]{43}$/);
  assert.equal(await me(browser), null);
  const ticket = fragment.split('=')[1];
  // Wrong codes are refused (and counted); bad input is a 400.
  r = await request(s, 'POST', '/api/v1/auth/oidc/totp', { json: { ticket, totp: '000000' } });
  assert.equal(r.status, 401);
  r = await request(s, 'POST', '/api/v1/auth/oidc/totp', { json: { ticket } });
  assert.equal(r.status, 400);
  r = await request(s, 'POST', '/api/v1/auth/oidc/totp', { json: { ticket: 'x'.repeat(43), totp: totp(secret, { offset: 1 }) } });
  assert.equal(r.status, 401);
  r = await request(s, 'POST', '/api/v1/auth/oidc/totp', { json: { ticket, totp: totp(secret, { offset: 1 }) } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.user.email, 'frank@a.example');
  assert.match(lastAudit('login').detail, /oidc op subject frank; and one-time code/);
  // The ticket worked once.
  r = await request(s, 'POST', '/api/v1/auth/oidc/totp', { json: { ticket, totp: totp(secret, { offset: -1 }) } });
  assert.equal(r.status, 401);
  // With MFA at the provider, no local code is asked.
  const withMfa = await oidcSignIn(s, 'op', { login: 'frank', mfa: true });
  assert.equal((await me(withMfa.browser)).user.email, 'frank@a.example');
});

test('a replayed callback (state) and a callback in another browser are refused', async () => {
  const b = new Browser();
  let { url, response } = await b.follow(`${s.url}/api/v1/auth/oidc/bad`, { stopAt: `${s.url}/api/v1/auth/oidc/callback` });
  const callback = url;
  // Another browser (no binding cookie) presents the callback first.
  const other = new Browser();
  let r = await other.fetch(callback);
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/#signin-error=expired');
  assert.match(lastAudit('login_failed').detail, /another browser/);
  // The state is spent now, so the right browser cannot use it either.
  r = await b.fetch(callback);
  assert.equal(r.headers.get('location'), '/#signin-error=expired');
  // A fresh flow works, once; its replay is refused.
  ({ url, response } = await b.follow(`${s.url}/api/v1/auth/oidc/bad`, { stopAt: `${s.url}/api/v1/auth/oidc/callback` }));
  r = await b.fetch(url);
  assert.equal(r.status, 200);
  r = await b.fetch(url);
  assert.equal(r.headers.get('location'), '/#signin-error=expired');
  assert.match(lastAudit('login_failed').detail, /unknown or used state/);
  void response;
});

for (const [mode, why] of [
  ['none', /unsigned \(alg none\)|not a signed JWT/],
  ['hs256', /algorithm the provider does not announce/],
  ['other-key', /signature does not verify/],
  ['wrong-iss', /another issuer/],
  ['wrong-aud', /another client \(aud\)/],
  ['wrong-azp', /another party \(azp\)/],
  ['expired', /expired/],
  ['old-nonce', /nonce/],
  ['bad-at-hash', /at_hash/],
]) {
  test(`an ID token that is ${mode} is refused`, async () => {
    bad.mode = mode;
    try {
      const { fragment, browser } = await oidcSignIn(s, 'bad', {});
      assert.equal(fragment, 'signin-error=invalid');
      assert.equal(await me(browser), null);
      assert.match(lastAudit('login_failed').detail, why);
    } finally {
      bad.mode = 'ok';
    }
  });
}

test('the misbehaving provider does sign in when it behaves (the tests above can fail)', async () => {
  const { browser } = await oidcSignIn(s, 'bad', {});
  assert.equal((await me(browser)).user.email, 'bob@b.example');
});

test('front-channel logout: the provider ends the sessions of its sid, and only those', async () => {
  const one = await oidcSignIn(s, 'bad', {});
  const sidOne = bad.sid;
  const two = await oidcSignIn(s, 'bad', {});
  assert.ok(await me(one.browser));
  assert.ok(await me(two.browser));
  // Bad input, another issuer, an unknown sid: nothing ends.
  assert.equal((await request(s, 'GET', `/api/v1/auth/oidc/logout?iss=${encodeURIComponent(bad.issuer)}`)).status, 400);
  let r = await request(s, 'GET', `/api/v1/auth/oidc/logout?iss=${encodeURIComponent(op.issuer)}&sid=${sidOne}`);
  assert.equal(r.status, 200);
  r = await request(s, 'GET', `/api/v1/auth/oidc/logout?iss=${encodeURIComponent(bad.issuer)}&sid=nosuch`);
  assert.equal(r.status, 200);
  assert.ok(await me(one.browser));
  // The provider's iframe: the first session ends, the second stays.
  r = await request(s, 'GET', `/api/v1/auth/oidc/logout?iss=${encodeURIComponent(bad.issuer)}&sid=${sidOne}`);
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.headers.get('content-security-policy'), /frame-ancestors/);
  assert.equal(await me(one.browser), null);
  assert.ok(await me(two.browser));
  assert.match(lastAudit('logout').detail, /front-channel logout/);
});

test('key rotation: a new kid fetches the keys again', async () => {
  const before = sql(s, "SELECT count(*) AS n FROM oidc_links WHERE subject = 'alice'")[0].n;
  assert.equal(before, 1);
  await op.rotate();
  await new Promise((r) => setTimeout(r, 1100)); // past oidc-jwks-refetch
  const { browser, fragment } = await oidcSignIn(s, 'op', { login: 'alice' });
  assert.equal(fragment, null);
  assert.equal((await me(browser)).user.email, 'alice@a.example');
});

test('a provider that is down: a clear message, and local sign-in still works', async () => {
  const { fragment } = await oidcSignIn(s, 'down', {});
  assert.equal(fragment, 'signin-error=unavailable');
  assert.match(s.log, /oidc_unavailable.*provider down/);
  const local = await Session.login(s, 'alice@a.example');
  assert.equal(local.user.email, 'alice@a.example');
});

test('config: providers are checked at start', async () => {
  const { runConsort } = await import('./lib/server.mjs');
  const bad1 = join(cfgDir, 'bad1.conf');
  writeFileSync(bad1, '[oidc x]\nissuer = https://x.example\nclient-id = a\n');
  let r = runConsort(['serve', '--data', tempDir(), '--config', bad1]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /need public-url/);
  writeFileSync(bad1, 'public-url = https://h.example\n[oidc x]\nissuer = http://x.example\nclient-id = a\n');
  r = runConsort(['serve', '--data', tempDir(), '--config', bad1]);
  assert.match(r.stderr, /issuer must be an https URL/);
  writeFileSync(bad1, 'public-url = https://h.example\n[oidc X!]\n');
  r = runConsort(['serve', '--data', tempDir(), '--config', bad1]);
  assert.match(r.stderr, /bad1.conf:2: an \[oidc\] NAME takes only/);
  writeFileSync(bad1, 'public-url = https://h.example\n[oidc x]\nlisten = 1\n');
  r = runConsort(['serve', '--data', tempDir(), '--config', bad1]);
  assert.match(r.stderr, /unknown key 'listen' in an \[oidc\] section/);
  writeFileSync(bad1, 'public-url = https://h.example/path\n');
  r = runConsort(['serve', '--data', tempDir(), '--config', bad1]);
  assert.match(r.stderr, /public-url/);
});
