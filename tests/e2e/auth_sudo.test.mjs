// Sudo mode (issue 13, part 1): what changes credentials or privileges
// needs a signed-in session that re-authenticated within 10 minutes; an
// API token never does it. First the attack from the issue, step by
// step, with a coordinator's token; then stale and fresh sessions, the
// confirm step (password, and the one-time code when enrolled), its
// throttle and its audit; and what the person concerned is told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addPartner, addUser, sql, Session, Bearer, request, totp, PASSWORD } from './lib/accounts.mjs';

const count = (s, q) => sql(s, q)[0].n;
// Make a session's last sign-in or confirm older than sudo mode allows.
const staleSession = (s, email) =>
  sql(s, `UPDATE sessions SET reauth_at = reauth_at - 601 WHERE user_id = (SELECT id FROM users WHERE email = '${email}')`);

async function enrolTotp(s, session) {
  let r = await session.req('POST', '/api/v1/me/totp');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const { secret } = r.body;
  r = await session.req('POST', '/api/v1/me/totp/confirm', { json: { code: totp(secret) } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return secret;
}

test("the issue's attack with a coordinator's token is refused at every step, and nothing changes", async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'alice@a.example', 'UNIA');
    addUser(s, 'bob@a.example', 'UNIA');
    addUser(s, 'carol@a.example', 'UNIA');
    const alice = await Session.login(s, 'alice@a.example');
    const secret = await enrolTotp(s, alice);
    const coord = await Session.login(s, 'coord@a.example');
    // The token a WebDAV drive mapping stores on a laptop.
    let r = await coord.req('POST', '/api/v1/tokens', { json: { name: 'laptop drive' } });
    assert.equal(r.status, 201);
    const stolen = new Bearer(s, r.body.token);
    const users = (await coord.req('GET', '/api/v1/users')).body.users;
    const id = (email) => users.find((u) => u.email === email).id;
    r = await coord.req('PATCH', `/api/v1/users/${id('carol@a.example')}`, { json: { disabled: true } });
    assert.equal(r.status, 200);
    // The token still does what it did: read the user list.
    assert.equal((await stolen.req('GET', '/api/v1/users')).status, 200);

    const before = sql(s, 'SELECT id, email, coordinator, disabled, totp_secret IS NOT NULL AS totp, password_hash FROM users ORDER BY id');
    const audits = count(s, 'SELECT count(*) AS n FROM audit');
    const steps = [
      // 1. remove Alice's second factor
      ['PATCH', `/api/v1/users/${id('alice@a.example')}`, { totp_reset: true }],
      // 2. a set-password link for her (step 3, set-password, needs it)
      ['POST', `/api/v1/users/${id('alice@a.example')}/password-link`, undefined],
      // the same token creates a coordinator, promotes one, enables one
      ['POST', '/api/v1/users', { email: 'mallory@evil.example', name: 'M', partner: 'UNIA', coordinator: true }],
      ['PATCH', `/api/v1/users/${id('bob@a.example')}`, { coordinator: true }],
      ['PATCH', `/api/v1/users/${id('carol@a.example')}`, { disabled: false }],
      ['PATCH', `/api/v1/users/${id('bob@a.example')}`, { name: 'Bob B' }],
      // nor may it mint itself a fresh credential or confirm a session
      ['POST', '/api/v1/tokens', { name: 'another' }],
      ['POST', '/api/v1/session/confirm', { password: PASSWORD }],
      ['POST', '/api/v1/me/totp', undefined],
    ];
    for (const [method, path, json] of steps) {
      r = await stolen.req(method, path, json === undefined ? {} : { json });
      assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'forbidden', `${method} ${path}`);
      assert.match(r.body.detail, /API tokens cannot/, `${method} ${path}`);
    }
    assert.deepEqual(sql(s, 'SELECT id, email, coordinator, disabled, totp_secret IS NOT NULL AS totp, password_hash FROM users ORDER BY id'), before);
    assert.equal(count(s, 'SELECT count(*) AS n FROM password_links'), 0);
    assert.equal(count(s, 'SELECT count(*) AS n FROM tokens'), 1);
    assert.equal(count(s, 'SELECT count(*) AS n FROM audit'), audits);
    // Alice still signs in only with her second factor.
    r = await request(s, 'POST', '/api/v1/session', { json: { email: 'alice@a.example', password: PASSWORD } });
    assert.equal(r.body.error, 'totp_required');
    r = await request(s, 'POST', '/api/v1/session', { json: { email: 'alice@a.example', password: PASSWORD, totp: totp(secret, { offset: 1 }) } });
    assert.equal(r.status, 200);
  });
});

test('a stale session confirms with its password, then may change accounts for 10 minutes; every step audited', async () => {
  await withServer({ args: ['--login-account-failures', '3'] }, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'alice@a.example', 'UNIA');
    const coord = await Session.login(s, 'coord@a.example');
    const alice = (await coord.req('GET', '/api/v1/users')).body.users.find((u) => u.email === 'alice@a.example');
    // Fresh from signing in: allowed.
    let r = await coord.req('PATCH', `/api/v1/users/${alice.id}`, { json: { name: 'Alice A' } });
    assert.equal(r.status, 200);
    let me = (await coord.req('GET', '/api/v1/me')).body;
    assert.ok(Date.parse(me.sudo_until) > Date.now() + 500e3, me.sudo_until);

    staleSession(s, 'coord@a.example');
    const changes = [
      ['PATCH', `/api/v1/users/${alice.id}`, { totp_reset: true }],
      ['PATCH', `/api/v1/users/${alice.id}`, { coordinator: true }],
      ['POST', `/api/v1/users/${alice.id}/password-link`, undefined],
      ['POST', '/api/v1/users', { email: 'new@a.example', name: 'N', partner: 'UNIA' }],
      ['POST', '/api/v1/tokens', { name: 'script' }],
      ['POST', '/api/v1/me/totp', undefined],
    ];
    const users = sql(s, 'SELECT * FROM users ORDER BY id');
    for (const [method, path, json] of changes) {
      r = await coord.req(method, path, json === undefined ? {} : { json });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.error, 'reauthentication_required', `${method} ${path}`);
      // The policy's answer: a dry run says the same.
      r = await coord.req(method, path, { headers: { 'x-consort-dry-run': '1' } });
      assert.equal(r.body.error, 'reauthentication_required');
    }
    assert.deepEqual(sql(s, 'SELECT * FROM users ORDER BY id'), users);
    assert.equal(count(s, 'SELECT count(*) AS n FROM tokens'), 0);
    // What does not change credentials still works.
    assert.equal((await coord.req('GET', '/api/v1/users')).status, 200);
    assert.equal((await coord.req('POST', '/api/v1/wps', { json: { code: 'WP1', title: 'One' } })).status, 201);

    // Bad input, wrong password: refused, nothing confirmed.
    for (const [body, status, error] of [
      [{}, 400, 'invalid_request'],
      [{ password: 7 }, 400, 'invalid_request'],
      [{ password: PASSWORD, extra: 1 }, 400, 'invalid_request'],
      [{ password: 'wrong password here' }, 403, 'forbidden'],
    ]) {
      r = await coord.req('POST', '/api/v1/session/confirm', { json: body });
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.body.error, error);
    }
    // The CSRF token is required like on any unsafe request.
    r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: PASSWORD }, csrf: null });
    assert.equal(r.status, 403);
    r = await coord.req('PATCH', `/api/v1/users/${alice.id}`, { json: { name: 'x' } });
    assert.equal(r.body.error, 'reauthentication_required');

    r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: PASSWORD } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(Date.parse(r.body.sudo_until) > Date.now() + 500e3);
    for (const [method, path, json] of changes.slice(0, 5)) {
      r = await coord.req(method, path, json === undefined ? {} : { json });
      assert.ok(r.status === 200 || r.status === 201, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const audit = sql(s, "SELECT action, actor, detail FROM audit WHERE action IN ('reauth', 'reauth_failed') ORDER BY id");
    assert.deepEqual(audit, [
      { action: 'reauth_failed', actor: 'coord@a.example', detail: 'wrong password' },
      { action: 'reauth', actor: 'coord@a.example', detail: 'password' },
    ]);
    // The person concerned is told (today: a record in their name).
    const told = sql(s, `SELECT actor, object, detail FROM audit WHERE action = 'account_notice' AND user_id = ${alice.id} ORDER BY id`);
    assert.deepEqual(told.map((t) => t.detail), [
      'account changed: name (by coord@a.example)',
      'account changed: second factor reset (by coord@a.example)',
      'account changed: coordinator=true (by coord@a.example)',
      'a set-password link was made (by coord@a.example)',
    ]);
    assert.ok(told.every((t) => t.actor === 'alice@a.example' && t.object === 'alice@a.example'));

    // The confirm step is throttled on the sign-in counters: three
    // wrong passwords lock the account, the right one waits too.
    staleSession(s, 'coord@a.example');
    for (let i = 0; i < 3; i++) {
      r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: `wrong password ${i}` } });
      assert.equal(r.status, 403);
    }
    r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: PASSWORD } });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    r = await coord.req('PATCH', `/api/v1/users/${alice.id}`, { json: { name: 'x' } });
    assert.equal(r.body.error, 'reauthentication_required');
  });
});

test('with a second factor, confirming needs the one-time code too, and a code works once', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'alice@a.example', 'UNIA');
    let coord = await Session.login(s, 'coord@a.example');
    const secret = await enrolTotp(s, coord);
    const used = totp(secret, { offset: 1 });
    coord = await Session.login(s, 'coord@a.example', PASSWORD, { totp: used });
    staleSession(s, 'coord@a.example');
    let r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: PASSWORD } });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /field 'totp' is required/);
    // The code the sign-in used is spent.
    r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: PASSWORD, totp: used } });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /one-time code/);
    r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: 'not the password', totp: used } });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /password is wrong/);
    r = await coord.req('POST', '/api/v1/users', { json: { email: 'n@a.example', name: 'N', partner: 'UNIA', coordinator: true } });
    assert.equal(r.body.error, 'reauthentication_required');
    // A later code (rather than waiting 30 s for one: the last step used
    // is moved back to the present one).
    sql(s, `UPDATE users SET totp_last_step = ${Math.floor(Date.now() / 30000)} WHERE email = 'coord@a.example'`);
    r = await coord.req('POST', '/api/v1/session/confirm', { json: { password: PASSWORD, totp: totp(secret, { offset: 1 }) } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await coord.req('POST', '/api/v1/users', { json: { email: 'n@a.example', name: 'N', partner: 'UNIA', coordinator: true } });
    assert.equal(r.status, 201);
    assert.deepEqual(sql(s, "SELECT detail FROM audit WHERE action LIKE 'reauth%' ORDER BY id").map((x) => x.detail),
      ['wrong or reused one-time code', 'wrong password', 'password and one-time code']);
    assert.deepEqual(sql(s, "SELECT actor, detail FROM audit WHERE action = 'account_notice' AND object = 'n@a.example'"),
      [{ actor: 'n@a.example', detail: 'account created as a coordinator (by coord@a.example)' }]);
  });
});
