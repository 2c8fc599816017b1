// The second factor end to end: a coordinator requires it, the user is
// held to enrolling, enrols with a code the test computes from the
// secret (RFC 6238, as an authenticator app would), then signs in with
// codes and recovery codes, none of which works twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addPartner, addUser, sql, Session, request, totp, PASSWORD } from './lib/accounts.mjs';

const login = (s, body) => request(s, 'POST', '/api/v1/session', { json: { email: 'alice@a.example', password: PASSWORD, ...body } });

test('TOTP: required by a coordinator, enrolled, used at login, never twice', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'alice@a.example', 'UNIA');
    const coord = await Session.login(s, 'coord@a.example');
    const alice0 = await Session.login(s, 'alice@a.example');
    const id = alice0.user.id;

    // The coordinator requires a second factor: Alice's open session is
    // held to enrolling from its next request on.
    let r = await coord.req('PATCH', `/api/v1/users/${id}`, { json: { totp_required: true } });
    assert.equal(r.status, 200);
    assert.equal(r.body.user.totp_required, true);
    r = await alice0.req('GET', '/api/v1/wps');
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /second factor must be enrolled first/);
    r = await alice0.req('GET', '/api/v1/me');
    assert.equal(r.status, 200);
    assert.equal(r.body.totp_enrolment_required, true);

    // A fresh login says so too.
    const alice = await Session.login(s, 'alice@a.example');
    r = await login(s, {});
    assert.equal(r.body.totp_enrolment_required, true);

    // Enrol: the secret and the otpauth:// URI an app scans.
    r = await alice.req('POST', '/api/v1/me/totp');
    assert.equal(r.status, 200);
    const { secret, uri } = r.body;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.equal(uri, `otpauth://totp/consort:alice%40a.example?secret=${secret}&issuer=consort&algorithm=SHA1&digits=6&period=30`);
    // Still pending: not yet on.
    assert.equal((await alice.req('GET', '/api/v1/me')).body.user.totp_enabled, false);
    r = await alice.req('POST', '/api/v1/me/totp/confirm', { json: { code: '000000' === totp(secret) ? '111111' : '000000' } });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /does not match/);
    r = await alice.req('POST', '/api/v1/me/totp/confirm', { json: { code: totp(secret) } });
    assert.equal(r.status, 200);
    const codes = r.body.recovery_codes;
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    assert.equal(new Set(codes).size, 10);
    // Only hashes are stored.
    const stored = sql(s, `SELECT hex(code_hash) AS h FROM recovery_codes WHERE user_id = ${id}`);
    assert.equal(stored.length, 10);
    r = await alice.req('GET', '/api/v1/me');
    assert.equal(r.body.user.totp_enabled, true);
    assert.equal(r.body.user.recovery_codes_left, 10);
    assert.equal(r.body.totp_enrolment_required, false);
    assert.equal((await alice.req('GET', '/api/v1/wps')).status, 200, 'enrolled: the session works');
    r = await alice.req('POST', '/api/v1/me/totp');
    assert.equal(r.status, 409);

    // Login: password alone asks for the code...
    r = await login(s, {});
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'totp_required');
    assert.equal(r.headers.getSetCookie().length, 0, 'no session without the code');
    // ...a wrong code fails...
    const right = totp(secret, { offset: 1 });
    r = await login(s, { totp: right === '123456' ? '654321' : '123456' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_credentials');
    // ...the code of the next step (clock drift) is accepted once...
    r = await login(s, { totp: right });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.csrf);
    // ...and not twice, nor is an older one.
    r = await login(s, { totp: right });
    assert.equal(r.status, 401);
    assert.match(r.body.detail, /already used/);
    r = await login(s, { totp: totp(secret) });
    assert.equal(r.status, 401);

    // Recovery codes: each once, typed in any case.
    r = await login(s, { recovery_code: codes[0].toUpperCase() });
    assert.equal(r.status, 200);
    r = await login(s, { recovery_code: codes[0] });
    assert.equal(r.status, 401);
    assert.match(r.body.detail, /recovery code/);
    assert.equal((await alice.req('GET', '/api/v1/me')).body.user.recovery_codes_left, 9);

    // New recovery codes need the password; the old ones stop working.
    r = await alice.req('POST', '/api/v1/me/recovery-codes', { json: { password: 'wrong password!' } });
    assert.equal(r.status, 403);
    r = await alice.req('POST', '/api/v1/me/recovery-codes', { json: { password: PASSWORD } });
    assert.equal(r.status, 200);
    const codes2 = r.body.recovery_codes;
    r = await login(s, { recovery_code: codes[1] });
    assert.equal(r.status, 401);
    r = await login(s, { recovery_code: codes2[1] });
    assert.equal(r.status, 200);

    // Required by the coordinator: cannot be switched off by the user.
    r = await alice.req('POST', '/api/v1/me/totp/disable', { json: { password: PASSWORD } });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /coordinator requires/);
    r = await coord.req('PATCH', `/api/v1/users/${id}`, { json: { totp_required: false } });
    assert.equal(r.status, 200);
    r = await alice.req('POST', '/api/v1/me/totp/disable', { json: { password: 'wrong password!' } });
    assert.equal(r.status, 403);
    r = await alice.req('POST', '/api/v1/me/totp/disable', { json: { password: PASSWORD } });
    assert.equal(r.status, 204);
    r = await login(s, {});
    assert.equal(r.status, 200, 'password alone again');

    // The audit log has the story.
    const actions = sql(s, `SELECT action FROM audit WHERE user_id = ${id} ORDER BY id`).map((a) => a.action);
    for (const a of ['totp_enable', 'login', 'login_failed', 'recovery_codes_failed', 'recovery_codes', 'totp_disable_failed', 'totp_disable'])
      assert.ok(actions.includes(a), `audit has ${a}: ${actions}`);
    assert.ok(sql(s, `SELECT count(*) AS n FROM audit WHERE action = 'user_update' AND object = 'alice@a.example' AND detail = 'totp_required=true'`)[0].n === 1);
  });
});

test('a coordinator resets a lost second factor', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
    addUser(s, 'alice@a.example', 'UNIA');
    const coord = await Session.login(s, 'coord@a.example');
    const alice = await Session.login(s, 'alice@a.example');
    const { secret } = (await alice.req('POST', '/api/v1/me/totp')).body;
    assert.equal((await alice.req('POST', '/api/v1/me/totp/confirm', { json: { code: totp(secret) } })).status, 200);
    assert.equal((await login(s, {})).body.error, 'totp_required');
    const r = await coord.req('PATCH', `/api/v1/users/${alice.user.id}`, { json: { totp_reset: true } });
    assert.equal(r.status, 200);
    assert.equal(r.body.user.totp_enabled, false);
    assert.equal(r.body.user.recovery_codes_left, 0);
    assert.equal((await login(s, {})).status, 200);
  });
});

test('guessing one-time codes locks the account; asking for the code does not reset the count', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'alice@a.example', 'UNIA');
    const alice = await Session.login(s, 'alice@a.example');
    const { secret } = (await alice.req('POST', '/api/v1/me/totp')).body;
    assert.equal((await alice.req('POST', '/api/v1/me/totp/confirm', { json: { code: totp(secret) } })).status, 200);
    const valid = new Set([-1, 0, 1].map((offset) => totp(secret, { offset })));
    const wrong = ['000000', '111111', '222222', '333333', '444444', '555555', '666666', '777777']
      .filter((c) => !valid.has(c));
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      // The right password alone (the first step of every two-step login)...
      statuses.push((await login(s, {})).status);
      // ...then a guessed code.
      statuses.push((await login(s, { totp: wrong[i] })).status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
    // Locked: even the right code is refused now.
    assert.equal((await login(s, { totp: totp(secret, { offset: 1 }) })).status, 429);
  });
});
