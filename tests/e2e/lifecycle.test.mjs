// Process life: certificate reload on SIGHUP without dropping
// connections, graceful shutdown on SIGTERM with a request in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { Server, tempDir, testCert, testKey, parseResponses } from './lib/server.mjs';

const caKey = process.env.CONSORT_TEST_CA_KEY;
const ca = process.env.NODE_EXTRA_CA_CERTS;

// A fresh leaf certificate for localhost signed by the test CA.
function makeCert(dir, name) {
  const key = join(dir, `${name}.key`), csr = join(dir, `${name}.csr`), crt = join(dir, `${name}.pem`);
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial',
    '-out', crt, '-days', '1', '-extfile', ext], { stdio: 'ignore' });
  return { key, crt };
}

function peerCN(sock) { return sock.getPeerCertificate().subject.CN; }

async function request(sock, path = '/healthz') {
  return new Promise((res) => {
    let buf = '';
    const on = (d) => {
      buf += d;
      const res1 = parseResponses(buf);
      if (res1.length && buf.length >= buf.indexOf('\r\n\r\n') + 4 + Number(res1[0].headers['content-length'])) {
        sock.off('data', on);
        res(buf);
      }
    };
    sock.on('data', on);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
  });
}

test('SIGHUP reloads the certificate; open connections keep working', async () => {
  const dir = tempDir();
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  copyFileSync(testCert, cert);
  copyFileSync(testKey, key);
  const s = new Server({ args: ['--cert', cert, '--key', key], ownCert: true });
  await s.start();
  try {
    const old = await s.connect();
    assert.equal(peerCN(old), 'localhost');
    const fresh = makeCert(dir, 'renewed');
    copyFileSync(fresh.crt, cert);
    copyFileSync(fresh.key, key);
    s.proc.kill('SIGHUP');
    let now;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = await s.connect();
      if (peerCN(now) === 'renewed') break;
      now.destroy();
    }
    assert.equal(peerCN(now), 'renewed', 'new connections get the new certificate');
    assert.match(await request(now), /^HTTP\/1\.1 200/);
    assert.match(await request(old), /^HTTP\/1\.1 200/, 'the old connection still answers');
    assert.match(s.log, /certificate reloaded/);
    // A broken certificate is refused and the running one stays.
    writeFileSync(cert, 'not a certificate');
    s.proc.kill('SIGHUP');
    for (let i = 0; i < 50 && !/reload failed/.test(s.log); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(s.log, /certificate reload failed, keeping the old one/);
    const after = await s.connect();
    assert.equal(peerCN(after), 'renewed');
    [old, now, after].forEach((x) => x.destroy());
  } finally {
    await s.close();
  }
});

test('SIGTERM lets a request in flight finish, refuses new connections, exits 0', async () => {
  const s = await new Server({ args: ['--test-hooks'] }).start();
  const total = 2 * 1024 * 1024;
  // A slow upload: the sink pauses 20 ms after every piece (~3 s in all).
  // Its body is sent after the server's 100 Continue, which says the
  // request is in the handler's hands.
  let started;
  const inHandler = new Promise((res) => { started = res; });
  const upload = new Promise((resolve, reject) => {
    const req = https.request(`${s.url}/_test/sink?pause_ms=20`, { method: 'POST',
      headers: { 'Content-Length': total, Expect: '100-continue' } }, (res) => {
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode, body: b }));
    });
    req.on('error', reject);
    let sent = 0;
    const piece = Buffer.alloc(64 * 1024, 7);
    const pump = () => {
      while (sent < total) {
        sent += piece.length;
        if (!req.write(piece)) { req.once('drain', pump); return; }
      }
      req.end();
    };
    req.on('continue', () => { started(); pump(); });
  });
  await inHandler;
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  await refused(s, 'no new connections after SIGTERM');
  const r = await upload;
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).bytes, total);
  const exit = await s.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(Date.now() - t0 < 10000);
  assert.match(s.log, /consort stopped/);
});

// Connect until the listener is gone (the signal reaches the loop at its
// own pace on a loaded machine); fail after 3 s.
async function refused(s, message) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const sock = await s.connect().catch(() => null);
    if (!sock) return;
    sock.destroy();
    assert.ok(Date.now() < deadline, message);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('SIGTERM cuts requests still running after the grace period', async () => {
  const s = await new Server({ args: ['--test-hooks', '--shutdown-grace', '500ms'] }).start();
  const sock = await s.connect();
  sock.on('error', () => {});
  // SIGTERM once the handler reads the body (100 Continue): a request
  // whose head is not read yet would be dropped at once, not cut later.
  const inHandler = new Promise((res) => {
    let head = '';
    sock.on('data', (d) => { head += d.toString('latin1'); if (/^HTTP\/1\.1 100 /.test(head)) res(); });
  });
  sock.write('POST /_test/sink HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n');
  await inHandler;
  sock.write(Buffer.alloc(1000));
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  const exit = await s.exited;
  const dt = Date.now() - t0;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(dt >= 400 && dt < 5000, `stopped after ${dt} ms`);
  assert.match(s.log, /grace period over/);
});

test('idle keep-alive connections do not delay shutdown', async () => {
  const s = await new Server({}).start();
  const sock = await s.connect();
  sock.on('error', () => {});
  assert.match(await request(sock), /^HTTP\/1\.1 200/);
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  const exit = await s.exited;
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 < 2000);
});
