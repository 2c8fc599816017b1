// The spine's basic behaviour: start, health, errors as JSON, TLS setup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { withServer, Server, tempDir, runConsort, freePort } from './lib/server.mjs';

test('healthz answers JSON over HTTPS with HSTS', async () => {
  await withServer({}, async (s) => {
    const r = await s.fetch('/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('strict-transport-security'), 'max-age=63072000');
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const body = await r.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.database, 'ok');
  });
});

test('unknown path is a JSON 404, wrong method a 405 with Allow', async () => {
  await withServer({}, async (s) => {
    let r = await s.fetch('/no/such/thing');
    assert.equal(r.status, 404);
    assert.deepEqual(Object.keys(await r.json()).sort(), ['detail', 'error']);
    r = await s.fetch('/healthz', { method: 'DELETE' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET');
    assert.equal((await r.json()).error, 'method_not_allowed');
  });
});

test('first start creates the data dir 0700 with a self-signed P-256 certificate, reused later', async () => {
  const dataDir = tempDir() + '/data';
  const s = new Server({ dataDir, ownCert: true });
  await s.start();
  try {
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.ok(existsSync(`${dataDir}/consort.db`));
    const pem = readFileSync(`${dataDir}/tls/cert.pem`, 'utf8');
    assert.equal(statSync(`${dataDir}/tls/key.pem`).mode & 0o777, 0o600);
    const cert = await new Promise((res, rej) => {
      const req = https.get({ host: '127.0.0.1', port: s.port, path: '/healthz', ca: pem,
        servername: 'localhost' }, (r) => { res(r.socket.getPeerCertificate()); r.resume(); });
      req.on('error', rej);
    });
    assert.match(cert.subjectaltname, /DNS:localhost/);
    assert.match(cert.subjectaltname, /IP Address:127\.0\.0\.1/);
    assert.match(cert.subjectaltname, /IP Address:0:0:0:0:0:0:0:1/);
    assert.equal(cert.asn1Curve, 'prime256v1');
    await s.restart();
    assert.equal(readFileSync(`${dataDir}/tls/cert.pem`, 'utf8'), pem, 'certificate reused');
  } finally {
    await s.close();
  }
});

test('serve refuses to start with a clear message on bad arguments', async () => {
  // A free port, never the default: deploy/run may be serving on 8443.
  const listen = ['--listen', `127.0.0.1:${await freePort()}`];
  let r = runConsort(['serve', ...listen, '--data', tempDir(), '--bogus', '1']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown option '--bogus'/);
  r = runConsort(['serve', ...listen, '--data', tempDir(), '--cert', '/nonexistent.pem', '--key', '/nonexistent.key']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /nonexistent\.pem/);
  r = runConsort(['serve', ...listen, '--data', '/proc/consort-cannot-be-here']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /consort serve: /);
  r = runConsort(['frobnicate']);
  assert.equal(r.status, 2);
});
