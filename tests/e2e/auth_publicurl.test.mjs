// public-url (issue 13, part 3): every absolute link the server makes
// starts with it, never with the request's Host header, and when it is
// set a request naming another host is answered 421 Misdirected Request.
// Requests go out raw, so the test chooses the Host header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { withServer, runConsort, tempDir, parseResponses } from './lib/server.mjs';
import { addPartner, addUser, sql, PASSWORD } from './lib/accounts.mjs';
import { recordSecret } from './lib/secrets.mjs';

// One request on its own connection with the given Host; {status, headers, body}.
async function raw(s, method, path, { host, headers = {}, json } = {}) {
  const body = json === undefined ? '' : JSON.stringify(json);
  const h = { host, connection: 'close', ...headers };
  if (json !== undefined) Object.assign(h, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  const head = Object.entries(h).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const r = await s.raw(`${method} ${path} HTTP/1.1\r\n${head}\r\n${body}`);
  const [resp] = parseResponses(r.text);
  assert.ok(resp, `no answer to ${method} ${path}: ${r.text.slice(0, 200)}`);
  if ((resp.headers['content-type'] || '').startsWith('application/json')) resp.body = JSON.parse(resp.body);
  return resp;
}

// Sign in as the coordinator with Host `host`; returns a raw requester.
async function coordinator(s, host) {
  const r = await raw(s, 'POST', '/api/v1/session', { host, json: { email: 'coord@a.example', password: PASSWORD } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const cookie = /^__Host-consort=([^;]*)/.exec(r.headers['set-cookie'])[1];
  recordSecret(cookie);
  recordSecret(r.body.csrf);
  return (method, path, opts = {}) => raw(s, method, path,
    { host, ...opts, headers: { cookie: `__Host-consort=${cookie}`, 'x-csrf-token': r.body.csrf, ...opts.headers } });
}

function people(s) {
  addPartner(s, 'UNIA');
  addUser(s, 'coord@a.example', 'UNIA', { coordinator: true });
  addUser(s, 'alice@a.example', 'UNIA');
  return sql(s, "SELECT id FROM users WHERE email = 'alice@a.example'")[0].id;
}

test('without public-url, a password link is built from the certificate name and port, not from Host', async () => {
  await withServer({}, async (s) => {
    const alice = people(s);
    // Nothing is refused for its Host: the default cannot know every name.
    const coord = await coordinator(s, 'evil.example');
    const r = await coord('POST', `/api/v1/users/${alice}/password-link`);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    recordSecret(r.body.token);
    recordSecret(r.body.url);
    assert.equal(r.body.url, `https://localhost:${s.port}/#set-password=${r.body.token}`);
  });
});

test('with public-url, another Host is 421 and changes nothing; links start with public-url', async () => {
  await withServer({ args: ['--public-url', 'https://Docs.Example.org/'] }, async (s) => {
    const alice = people(s);
    const sessions = sql(s, 'SELECT count(*) AS n FROM sessions')[0].n;
    for (const host of ['evil.example', `127.0.0.1:${s.port}`, 'docs.example.org:8443', 'docs.example.org.evil.example', 'docs.example.org:443x']) {
      const r = await raw(s, 'POST', '/api/v1/session', { host, json: { email: 'coord@a.example', password: PASSWORD } });
      assert.equal(r.status, 421, host);
      assert.equal(r.body.error, 'misdirected_request');
      assert.match(r.body.detail, /https:\/\/Docs\.Example\.org/);
      assert.equal((await raw(s, 'GET', '/no/such/thing', { host })).status, 421);
    }
    assert.equal(sql(s, 'SELECT count(*) AS n FROM sessions')[0].n, sessions);
    // Health checks and scrapers come by address.
    assert.equal((await raw(s, 'GET', '/healthz', { host: 'evil.example' })).status, 200);
    assert.equal((await raw(s, 'GET', '/metrics', { host: `127.0.0.1:${s.port}` })).status, 200);
    // Its own name, in any case, with or without the default port.
    for (const host of ['docs.example.org', 'DOCS.example.ORG:443'])
      assert.equal((await raw(s, 'GET', '/healthz', { host })).status, 200);
    const coord = await coordinator(s, 'docs.example.org');
    let r = await coord('GET', '/api/v1/me');
    assert.equal(r.status, 200);
    r = await coord('POST', `/api/v1/users/${alice}/password-link`);
    assert.equal(r.status, 201);
    recordSecret(r.body.token);
    recordSecret(r.body.url);
    assert.equal(r.body.url, `https://Docs.Example.org/#set-password=${r.body.token}`);
    // The same session with another Host: refused before it is looked at.
    r = await coord('POST', `/api/v1/users/${alice}/password-link`, { host: 'evil.example' });
    assert.equal(r.status, 421);
    assert.equal(sql(s, 'SELECT count(*) AS n FROM password_links')[0].n, 1);
  });
});

test('the default link base is the certificate\'s first DNS name that is not a wildcard', async () => {
  const dir = tempDir('consort-cert-');
  const ossl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'),
    '-out', join(dir, 'leaf.csr'), '-subj', '/CN=cn.example.net');
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:*.wild.example,DNS:files.example.net,DNS:localhost,IP:127.0.0.1\\n' > ${join(dir, 'ext.cnf')}`]);
  ossl('x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', process.env.NODE_EXTRA_CA_CERTS, '-CAkey', process.env.CONSORT_TEST_CA_KEY,
    '-CAcreateserial', '-CAserial', join(dir, 'ca.srl'), '-out', join(dir, 'cert.pem'), '-days', '2', '-extfile', join(dir, 'ext.cnf'));
  await withServer({ ownCert: true, args: ['--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')] }, async (s) => {
    const alice = people(s);
    const coord = await coordinator(s, 'localhost');
    const r = await coord('POST', `/api/v1/users/${alice}/password-link`);
    assert.equal(r.status, 201);
    recordSecret(r.body.token);
    recordSecret(r.body.url);
    assert.equal(r.body.url, `https://files.example.net:${s.port}/#set-password=${r.body.token}`);
  });
});

test('a public-url that is not https://HOST[:PORT] stops the start with one clear line', () => {
  // A good one starts (and is shown in --help-config's reference).
  assert.match(runConsort(['serve', '--help-config']).stdout, /public-url/);
  for (const bad of ['http://docs.example.org', 'https://docs.example.org/consort', 'https://user@docs.example.org',
    'https://docs.example.org:99999', 'https://', 'docs.example.org', 'https://docs.example.org?x=1', 'https://docs.example.org#f']) {
    const dir = tempDir();
    const r = runConsort(['serve', '--data', dir, '--listen', '127.0.0.1:1', '--public-url', bad]);
    assert.notEqual(r.status, 0, bad);
    assert.match(r.stderr, /public-url: (must start with https:\/\/|must be https:\/\/HOST\[:PORT\])/, `${bad}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
