// Password guessing: 100 wrong passwords for one account from one
// address end in 429s with Retry-After, while another user (from the
// same address) signs in normally; unknown emails behave exactly like
// real ones, in answers and in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from './lib/server.mjs';
import { addPartner, addUser, sql, Session, request, PASSWORD } from './lib/accounts.mjs';

async function guess(s, email, password = 'not the password') {
  const t0 = performance.now();
  const r = await request(s, 'POST', '/api/v1/session', { json: { email, password } });
  return { ...r, ms: performance.now() - t0 };
}

// A busy machine only adds time: the fastest answer of each kind is the
// one closest to the work itself.
const fastest = (xs) => Math.min(...xs);

test('100 wrong passwords end in 429s while another user signs in', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'victim@a.example', 'UNIA');
    addUser(s, 'colleague@a.example', 'UNIA');

    const statuses = [];
    let retryAfter = null;
    // The other user signs in while the attack runs, from the same address.
    const colleague = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      return Session.login(s, 'colleague@a.example');
    })();
    for (let i = 0; i < 100; i++) {
      const r = await guess(s, 'victim@a.example', `guess number ${i}`);
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = Number(r.headers.get('retry-after'));
        assert.equal(r.body.error, 'rate_limited');
        assert.match(r.body.detail, /too many failed logins; try again in \d+ s/);
      } else {
        assert.equal(r.status, 401);
        assert.equal(r.body.detail, 'wrong email or password');
      }
    }
    const first429 = statuses.indexOf(429);
    console.log(`victim: ${first429} x 401, then ${statuses.length - first429} x 429 (Retry-After ${retryAfter} s)`);
    assert.equal(first429, 5, 'five failures are allowed, then the account locks');
    assert.ok(statuses.slice(first429).every((x) => x === 429), 'every later guess is refused');
    assert.ok(retryAfter >= 1 && retryAfter <= 30);

    const c = await colleague;
    assert.equal((await c.req('GET', '/api/v1/me')).body.user.email, 'colleague@a.example');
    // After the attack too, from the same address.
    await Session.login(s, 'colleague@a.example');
    // The right password does not open a locked account either.
    const right = await guess(s, 'victim@a.example', PASSWORD);
    assert.equal(right.status, 429);

    // Only real password checks were counted and audited: the 95
    // refusals cost no Argon2 time and wrote nothing.
    const failed = sql(s, "SELECT count(*) AS n FROM audit WHERE action = 'login_failed'")[0].n;
    assert.equal(failed, 5);
    const locked = sql(s, "SELECT detail FROM audit WHERE action = 'login_failed' ORDER BY id DESC LIMIT 1")[0];
    assert.match(locked.detail, /wrong password; locked for 30 s/);
  });
});

test('an unknown email is answered like a real one, in words and in time', async () => {
  await withServer({}, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'real@a.example', 'UNIA');
    const known = [], unknown = [];
    // Interleaved, four of each: below the lockout.
    for (let i = 0; i < 4; i++) {
      const a = await guess(s, 'real@a.example');
      const b = await guess(s, `ghost${i}@a.example`);
      assert.equal(a.status, 401);
      assert.equal(b.status, 401);
      assert.deepEqual(a.body, b.body);
      known.push(a.ms);
      unknown.push(b.ms);
    }
    const ratio = fastest(unknown) / fastest(known);
    console.log(`fastest wrong-password answer: known email ${fastest(known).toFixed(1)} ms, ` +
      `unknown email ${fastest(unknown).toFixed(1)} ms (ratio ${ratio.toFixed(2)})`);
    // Both verify an Argon2id hash with the same parameters; without
    // the dummy hash the unknown email would answer in well under 1 ms.
    assert.ok(fastest(unknown) > 5, 'unknown emails are not answered instantly');
    // Sanitizer builds and a busy machine add noise; the bound only has
    // to tell 'the same work' from 'no work at all' (a ratio near 0).
    const [lo, hi] = process.env.CONSORT_SANITIZED ? [0.33, 3] : [0.5, 2];
    assert.ok(ratio > lo && ratio < hi, `timing ratio ${ratio}`);

    // Unknown emails lock out exactly like real ones.
    const ghost = [];
    for (let i = 0; i < 8; i++) ghost.push((await guess(s, 'ghost@a.example')).status);
    assert.deepEqual(ghost, [401, 401, 401, 401, 401, 429, 429, 429]);
  });
});
