// Sessions, API tokens, set-password links and password changes, as a
// browser and a script see them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, Server } from './lib/server.mjs';
import { addPartner, addUser, sql, sha256hex, Session, Bearer, request, cookieOf, PASSWORD } from './lib/accounts.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict, and stored only as a hash', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'alice@a.example', 'UNIA');
    const r = await request(s, 'POST', '/api/v1/session', { json: { email: 'ALICE@a.example', password: PASSWORD } });
    assert.equal(r.status, 200);
    const [set] = r.headers.getSetCookie();
    const parts = set.split(';').map((x) => x.trim());
    assert.match(parts[0], /^__Host-consort=[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(parts.slice(1).sort(), ['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Strict', 'Secure']);
    const cookie = cookieOf(r.headers);
    assert.match(r.body.csrf, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(r.body.user.email, 'alice@a.example');
    const rows = sql(s, 'SELECT lower(hex(token_hash)) AS h FROM sessions');
    assert.deepEqual(rows, [{ h: sha256hex(cookie) }]);
    assert.ok(!JSON.stringify(sql(s, 'SELECT * FROM sessions')).includes(cookie), 'the cookie itself is not stored');
    // The CSRF token comes back from /me after a page reload.
    const alice = new Session(s, cookie, r.body.csrf);
    assert.equal((await alice.req('GET', '/api/v1/me')).body.csrf, r.body.csrf);
    // Unsafe methods need it; safe ones do not.
    assert.equal((await alice.req('GET', '/api/v1/wps', { csrf: null })).status, 200);
    let x = await alice.req('POST', '/api/v1/tokens', { json: { name: 't' }, csrf: null });
    assert.equal(x.status, 403);
    x = await alice.req('POST', '/api/v1/tokens', { json: { name: 't' }, csrf: r.body.csrf.slice(0, -1) + (r.body.csrf.endsWith('A') ? 'B' : 'A') });
    assert.equal(x.status, 403);
    x = await alice.req('POST', '/api/v1/tokens', { json: { name: 't' } });
    assert.equal(x.status, 201);
    // A made-up or malformed cookie is not a session.
    for (const c of ['x', 'A'.repeat(43), `${cookie}x`, '']) {
      const bad = await new Session(s, c, r.body.csrf).req('GET', '/api/v1/me');
      assert.equal(bad.status, 401, c);
    }
    // Logout ends it and clears the cookie.
    x = await alice.req('DELETE', '/api/v1/session');
    assert.equal(x.status, 204);
    assert.match(x.headers.getSetCookie()[0], /^__Host-consort=; .*Max-Age=0/);
    assert.equal((await alice.req('GET', '/api/v1/me')).status, 401);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM sessions')[0].n, 0);
    const audit = sql(s, 'SELECT action, actor, peer FROM audit WHERE action IN (\'login\', \'logout\') ORDER BY id');
    assert.deepEqual(audit, [{ action: 'login', actor: 'alice@a.example', peer: '127.0.0.1' },
      { action: 'logout', actor: 'alice@a.example', peer: '127.0.0.1' }]);
  });
});

test('sessions end after the idle time and after the absolute lifetime', async () => {
  await withServer({ args: ['--session-idle', '2s', '--session-max', '4s'] }, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'alice@a.example', 'UNIA');
    // Idle: unused for 2 s. Session times are whole seconds, so a login
    // at X.97 is already "1 s idle" at X+1.0: the first use comes soon.
    let a = await Session.login(s, 'alice@a.example');
    await sleep(300);
    assert.equal((await a.req('GET', '/api/v1/me')).status, 200);
    await sleep(2300);
    let r = await a.req('GET', '/api/v1/me');
    assert.equal(r.status, 401);
    assert.match(r.body.detail, /expired/);
    // Absolute: in use every second, still over after 4 s.
    a = await Session.login(s, 'alice@a.example');
    const t0 = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - t0 < 8000) {
      await sleep(700);
      status = (await a.req('GET', '/api/v1/me')).status;
    }
    const lasted = (Date.now() - t0) / 1000;
    assert.equal(status, 401);
    assert.ok(lasted >= 3 && lasted <= 6, `an active session lasted ${lasted} s`);
  });
});

test('a password change ends every session and hands a new one to the caller', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'alice@a.example', 'UNIA');
    const a1 = await Session.login(s, 'alice@a.example');
    const a2 = await Session.login(s, 'alice@a.example');
    const token = (await a1.req('POST', '/api/v1/tokens', { json: { name: 'sync' } })).body.token;
    let r = await a1.req('POST', '/api/v1/me/password', { json: { current: 'wrong password!', new: 'a brand new passphrase' } });
    assert.equal(r.status, 403);
    assert.equal((await a2.req('GET', '/api/v1/me')).status, 200, 'a failed change ends nothing');
    r = await a1.req('POST', '/api/v1/me/password', { json: { current: PASSWORD, new: 'a brand new passphrase' } });
    assert.equal(r.status, 200);
    const fresh = new Session(s, cookieOf(r.headers), r.body.csrf);
    assert.equal((await a1.req('GET', '/api/v1/me')).status, 401);
    assert.equal((await a2.req('GET', '/api/v1/me')).status, 401);
    assert.equal((await fresh.req('GET', '/api/v1/me')).status, 200);
    // API tokens are separate credentials and keep working.
    assert.equal((await new Bearer(s, token).req('GET', '/api/v1/me')).status, 200);
    assert.equal((await request(s, 'POST', '/api/v1/session', { json: { email: 'alice@a.example', password: PASSWORD } })).status, 401);
    await Session.login(s, 'alice@a.example', 'a brand new passphrase');
  });
});

test('API tokens: shown once, stored hashed, expiring, revocable, listed with last use', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'alice@a.example', 'UNIA');
    addUser(s, 'bob@a.example', 'UNIA');
    const a = await Session.login(s, 'alice@a.example');
    const b = await Session.login(s, 'bob@a.example');
    let r = await a.req('POST', '/api/v1/tokens', { json: { name: 'backup script', expires_days: 30 } });
    assert.equal(r.status, 201);
    const { token, id, expires_at } = r.body;
    assert.match(token, /^consort_[A-Za-z0-9_-]{43}$/);
    const days = (Date.parse(expires_at) - Date.now()) / 86400e3;
    assert.ok(days > 29.9 && days < 30.1, `expires in ${days} days`);
    assert.equal(sql(s, `SELECT lower(hex(token_hash)) AS h FROM tokens WHERE id = ${id}`)[0].h, sha256hex(token));

    r = await a.req('GET', '/api/v1/tokens');
    assert.equal(r.body.tokens.length, 1);
    const listed = r.body.tokens[0];
    assert.equal(listed.name, 'backup script');
    assert.equal(listed.state, 'active');
    assert.equal(listed.last_used_at, null);
    assert.ok(!JSON.stringify(r.body).includes(token.slice(8)), 'never listed again');

    const script = new Bearer(s, token);
    r = await script.req('GET', '/api/v1/me');
    assert.equal(r.status, 200);
    assert.equal(r.body.auth, 'token');
    assert.equal(r.body.csrf, undefined);
    r = await a.req('GET', '/api/v1/tokens');
    assert.ok(r.body.tokens[0].last_used_at, 'last use recorded');
    // WebDAV clients send the token as a Basic password.
    const basic = (user) => ({ authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}` });
    assert.equal((await request(s, 'GET', '/api/v1/me', { headers: basic('Alice@a.example') })).status, 200);
    assert.equal((await request(s, 'GET', '/api/v1/me', { headers: basic('bob@a.example') })).status, 401);
    assert.equal((await request(s, 'GET', '/api/v1/me', { headers: { authorization: `Basic ${Buffer.from(`alice@a.example:${PASSWORD}`).toString('base64')}` } })).status, 401,
      'the account password is no token');
    // A token cannot mint tokens or change credentials.
    r = await script.req('POST', '/api/v1/tokens', { json: { name: 'child' } });
    assert.equal(r.status, 403);
    // Bob cannot revoke Alice's token.
    r = await b.req('DELETE', `/api/v1/tokens/${id}`);
    assert.equal(r.status, 404);
    assert.equal((await script.req('GET', '/api/v1/me')).status, 200);
    r = await a.req('DELETE', `/api/v1/tokens/${id}`);
    assert.equal(r.status, 204);
    r = await script.req('GET', '/api/v1/me');
    assert.equal(r.status, 401);
    assert.equal(r.body.detail, 'this API token was revoked');
    r = await a.req('GET', '/api/v1/tokens');
    assert.equal(r.body.tokens[0].state, 'revoked');
    assert.equal((await a.req('DELETE', `/api/v1/tokens/${id}`)).status, 404, 'already revoked');
    // Expired tokens stop working at their time.
    const t2 = (await a.req('POST', '/api/v1/tokens', { json: { name: 'short' } })).body;
    sql(s, `UPDATE tokens SET expires_at = strftime('%s','now') WHERE id = ${t2.id}`);
    r = await new Bearer(s, t2.token).req('GET', '/api/v1/me');
    assert.equal(r.body.detail, 'this API token has expired');
    for (const bad of ['consort_x', `consort_${'A'.repeat(43)}`, t2.token.replace('consort_', 'other__')]) {
      r = await new Bearer(s, bad).req('GET', '/api/v1/me');
      assert.equal(r.status, 401);
    }
    const audit = sql(s, "SELECT action, object FROM audit WHERE action LIKE 'token_%' ORDER BY id");
    assert.deepEqual(audit.map((x) => x.action), ['token_create', 'token_revoke', 'token_create']);
    assert.equal(audit[0].object, 'backup script');
  });
});

test('disabling a user stops their session and tokens at once; enabling lets them sign in again', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'alice@a.example', 'UNIA');
    const coord = await Session.login(s, 'coord@a.example');
    const a = await Session.login(s, 'alice@a.example');
    const token = (await a.req('POST', '/api/v1/tokens', { json: { name: 'dav' } })).body.token;
    let r = await coord.req('PATCH', `/api/v1/users/${a.user.id}`, { json: { disabled: true } });
    assert.equal(r.status, 200);
    assert.equal(r.body.user.disabled, true);
    assert.equal((await a.req('GET', '/api/v1/me')).status, 401);
    r = await new Bearer(s, token).req('GET', '/api/v1/me');
    assert.equal(r.status, 401);
    assert.equal(r.body.detail, 'this account is disabled');
    r = await request(s, 'POST', '/api/v1/session', { json: { email: 'alice@a.example', password: PASSWORD } });
    assert.equal(r.status, 401);
    assert.equal(r.body.detail, 'wrong email or password');
    r = await coord.req('PATCH', `/api/v1/users/${a.user.id}`, { json: { disabled: false } });
    assert.equal(r.status, 200);
    assert.equal((await new Bearer(s, token).req('GET', '/api/v1/me')).status, 200);
    await Session.login(s, 'alice@a.example');
    // The last coordinator stays.
    r = await coord.req('PATCH', `/api/v1/users/${coord.user.id}`, { json: { coordinator: false } });
    assert.equal(r.status, 409);
  });
});

test('a one-time set-password link: secret only in the fragment and the JSON body, usable once', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    const coord = await Session.login(s, 'coord@a.example');
    let r = await coord.req('POST', '/api/v1/users', { json: { email: 'new@a.example', name: 'New Person', partner: 'unia' } });
    assert.equal(r.status, 201);
    const user = r.body.user;
    assert.equal(user.has_password, false);
    assert.equal(user.partner, 'UNIA');
    r = await request(s, 'POST', '/api/v1/session', { json: { email: 'new@a.example', password: PASSWORD } });
    assert.equal(r.status, 401, 'no password yet');

    r = await coord.req('POST', `/api/v1/users/${user.id}/password-link`);
    assert.equal(r.status, 201);
    const { token, url } = r.body;
    assert.equal(url, `https://localhost:${s.port}/#set-password=${token}`);
    // A second link replaces the first.
    r = await coord.req('POST', `/api/v1/users/${user.id}/password-link`);
    const token2 = r.body.token;
    r = await request(s, 'POST', '/api/v1/set-password', { json: { token, password: 'a fine new passphrase' } });
    assert.equal(r.status, 404);
    // A weak password is refused and the link survives.
    r = await request(s, 'POST', '/api/v1/set-password', { json: { token: token2, password: 'weak' } });
    assert.equal(r.status, 400);
    r = await request(s, 'POST', '/api/v1/set-password', { json: { token: token2, password: 'a fine new passphrase' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.email, 'new@a.example');
    r = await request(s, 'POST', '/api/v1/set-password', { json: { token: token2, password: 'another passphrase!' } });
    assert.equal(r.status, 404, 'used up');
    await Session.login(s, 'new@a.example', 'a fine new passphrase');
    // Expired links do not work.
    r = await coord.req('POST', `/api/v1/users/${user.id}/password-link`);
    sql(s, "UPDATE password_links SET expires_at = strftime('%s','now') WHERE used_at IS NULL");
    r = await request(s, 'POST', '/api/v1/set-password', { json: { token: r.body.token, password: 'another passphrase!' } });
    assert.equal(r.status, 404);
    // The server log never saw a secret: it went in bodies only.
    assert.ok(!s.log.includes(token2), 'no link secret in the log');
    const actions = sql(s, "SELECT action FROM audit WHERE (object = 'new@a.example' OR actor = 'new@a.example') AND action <> 'account_notice' ORDER BY id").map((x) => x.action);
    assert.deepEqual(actions.slice(0, 4), ['user_create', 'login_failed', 'password_link', 'password_link']);
    assert.ok(actions.includes('password_set'));
    // The person was told of each (auth_notice; mail hooks in there).
    assert.deepEqual(sql(s, "SELECT detail FROM audit WHERE action = 'account_notice' AND actor = 'new@a.example' ORDER BY id").map((x) => x.detail),
      ['account created (by coord@a.example)', ...Array(3).fill('a set-password link was made (by coord@a.example)')]);
  });
});

test('raising the Argon2 parameters rehashes a password at its next login', async () => {
  await withServer({ args: ['--argon2-memory', '24576', '--argon2-iterations', '3'] }, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'alice@a.example', 'UNIA');
    const hash = () => sql(s, "SELECT password_hash AS h FROM users")[0].h;
    assert.match(hash(), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await Session.login(s, 'alice@a.example');
    assert.match(hash(), /^\$argon2id\$v=19\$m=24576,t=3,p=1\$/);
    await Session.login(s, 'alice@a.example');
  });
});

// Slow hashes (one job thread, 64 MiB and 8 passes each) keep logins
// queued on the pool while the server is told to stop.
for (const [what, grace, want] of [
  ['answers the queued logins within the grace period', '20s', 200],
  ['cuts them after a short grace period, without leaks', '100ms', 'closed'],
]) {
  test(`stopping while password hashes run ${what}`, async () => {
    const s = new Server({ args: ['--job-threads', '1', '--argon2-memory', '65536', '--argon2-iterations', '8',
      '--shutdown-grace', grace] });
    await s.start();
    try {
      addPartner(s, 'UNIA');
      for (let i = 0; i < 3; i++) addUser(s, `u${i}@a.example`, 'UNIA');
      const logins = [];
      for (let i = 0; i < 3; i++)
        logins.push(request(s, 'POST', '/api/v1/session', { json: { email: `u${i}@a.example`, password: PASSWORD } })
          .then((r) => r.status, () => 'closed'));
      // Wait until the server has the requests (the first hash is running).
      const t0 = Date.now();
      while (!/POST \/api\/v1\/session/.test(s.log) && Date.now() - t0 < 400) await sleep(10);
      await sleep(150);
      const exit = await s.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, s.log);
      const results = await Promise.all(logins);
      console.log(`logins during shutdown (grace ${grace}):`, results.join(' '));
      assert.ok(results.includes(want), results.join(' '));
    } finally {
      await s.close();
    }
  });
}
