// TLS policy seen from real clients (openssl s_client): TLS 1.2 and 1.3
// only, ECDHE with AEAD only, the agreed groups, no renegotiation,
// resumption on. The full audit with testssl is tests/bench/tls-audit.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Server } from './lib/server.mjs';

let s;
before(async () => { s = await new Server({}).start(); });
after(async () => { await s.close(); });

function sClient(args, input = 'Q\n') {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${s.port}`, '-servername', 'localhost', ...args],
    { input, encoding: 'utf8', timeout: 10000 });
  return { ok: /Cipher is (?!\(NONE\))/.test(r.stdout) && !/Cipher is \(NONE\)/.test(r.stdout), out: r.stdout + r.stderr };
}

test('TLS 1.2 and 1.3 are offered, nothing older', () => {
  assert.ok(sClient(['-tls1_3']).ok);
  assert.ok(sClient(['-tls1_2']).ok);
  assert.ok(!sClient(['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']).ok);
  assert.ok(!sClient(['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']).ok);
});

test('TLS 1.2 suites are ECDHE with AEAD only', () => {
  for (const c of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'])
    assert.ok(sClient(['-tls1_2', '-cipher', c]).ok, c);
  for (const c of ['ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA', 'AES128-GCM-SHA256',
    'DHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA'])
    assert.ok(!sClient(['-tls1_2', '-cipher', c]).ok, `${c} must be refused`);
});

test('key exchange groups are X25519, P-256 and P-384', () => {
  for (const g of ['X25519', 'P-256', 'P-384']) assert.ok(sClient(['-groups', g]).ok, g);
  assert.ok(!sClient(['-groups', 'P-521']).ok, 'P-521 refused');
  assert.ok(!sClient(['-groups', 'ffdhe2048']).ok, 'finite-field DH refused');
});

test('client-initiated renegotiation is refused', () => {
  // "R" asks s_client to renegotiate (TLS 1.2); the server must not.
  const r = spawnSync('sh', ['-c', `(printf 'R\\n'; sleep 1) | openssl s_client -connect 127.0.0.1:${s.port} -tls1_2`],
    { encoding: 'utf8', timeout: 10000 });
  const out = r.stdout + r.stderr;
  assert.match(out, /RENEGOTIATING/);
  assert.match(out, /no renegotiation/, 'the server answers the attempt with a no_renegotiation alert');
});

test('sessions resume', () => {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${s.port}`, '-tls1_2', '-reconnect'],
    { input: '', encoding: 'utf8', timeout: 15000 });
  assert.match(r.stdout, /Reused, TLSv1\.2/);
});
