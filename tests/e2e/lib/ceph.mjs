// A real single-node Ceph cluster with a RADOS Gateway for the S3 tests
// (deploy/ceph-up.sh: one monitor, one memstore OSD, radosgw on a free
// loopback port, cephx with a generated keyring, an S3 user). When
// CONSORT_S3_ENDPOINT is set (deploy/test starts one cluster for the
// whole S3 pass) that gateway is used and nothing is started.
import { spawnSync, execFileSync } from 'node:child_process';
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { freePort, tempDir, repoRoot, atExit } from './server.mjs';
import { curl } from './docs.mjs';

export async function startCeph() {
  if (process.env.CONSORT_S3_ENDPOINT) {
    return { endpoint: process.env.CONSORT_S3_ENDPOINT, accessKey: process.env.AWS_ACCESS_KEY_ID,
      secretKey: process.env.AWS_SECRET_ACCESS_KEY, startSeconds: 0, async stop() {},
      tlsEndpoint: process.env.CONSORT_S3_TLS_ENDPOINT, caFile: process.env.CONSORT_S3_CA_FILE };
  }
  const dir = tempDir('consort-ceph-');
  const port = await freePort();
  const script = join(repoRoot, 'deploy', 'ceph-up.sh');
  // radosgw answers TLS too, with a certificate from a CA made here.
  const ca = makeCa(join(dir, 'tls'), '127.0.0.1');
  const env = { ...process.env, CEPH_RGW_SSL_PORT: String(await freePort()), CEPH_RGW_SSL_CERT: ca.cert,
    CEPH_RGW_SSL_KEY: ca.key };
  const r = spawnSync('bash', [script, join(dir, 'c'), String(port)], { encoding: 'utf8', timeout: 180000, env });
  const vars = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  let up = true;
  const down = () => {
    if (!up) return;
    up = false;
    spawnSync('bash', [script, '--down', join(dir, 'c')]);
  };
  // A test that failed before stop(): the daemons must not outlive it.
  atExit(down);
  const stop = async () => {
    down();
    rmSync(dir, { recursive: true, force: true });
  };
  if (r.status !== 0 || !vars.S3_ENDPOINT) {
    await stop();
    throw new Error(`Ceph did not start (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  }
  return { endpoint: vars.S3_ENDPOINT, accessKey: vars.AWS_ACCESS_KEY_ID,
    secretKey: vars.AWS_SECRET_ACCESS_KEY, startSeconds: Number(vars.CEPH_START_SECONDS), stop,
    tlsEndpoint: vars.S3_TLS_ENDPOINT, caFile: ca.ca };
}

// A CA and a server certificate it signed for `ip` (openssl), in dir:
// { ca, cert, key } paths.
export function makeCa(dir, ip) {
  mkdirSync(dir, { recursive: true });
  const ossl = (...a) => execFileSync('openssl', a, { stdio: 'ignore' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'),
    '-days', '2', '-subj', '/CN=consort test store CA');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'leaf.csr'),
    '-subj', `/CN=${ip}`);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  ossl('x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'),
    '-CAcreateserial', '-out', join(dir, 'cert.pem'), '-days', '2', '-extfile', join(dir, 'ext.cnf'));
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

// An S3 request with curl's own SigV4 (for the tests to look into a bucket).
export async function s3curl(ceph, method, path, extra = []) {
  const r = await curl(['-s', '-X', method, '--aws-sigv4', 'aws:amz:us-east-1:s3',
    '--user', `${ceph.accessKey}:${ceph.secretKey}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD',
    '-w', '\n%{http_code}', ...extra, `${ceph.endpoint}${path}`]);
  const text = r.stdout.toString();
  const i = text.lastIndexOf('\n');
  return { status: Number(text.slice(i + 1)), body: text.slice(0, i) };
}

export async function listKeys(ceph, bucket) {
  const r = await s3curl(ceph, 'GET', `/${bucket}?list-type=2&prefix=blobs%2F`);
  return [...r.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
}

// A proxy between consort and the gateway that passes requests through,
// or fails them: mode 'pass', '500', '503', 'slowdown' (503 SlowDown),
// 'cut' (closes the connection), 'delay' (waits delayMs, then passes).
// failPart: a part number whose part uploads always get 503 (the other
// requests as the mode says). partsInFlight/maxPartsInFlight count part
// uploads being answered at once; confirmsInFlight/maxConfirmsInFlight
// the same for HEADs of objects this proxy saw stored (the check after a
// commit, when every upload's content differs).
// Headers go through unchanged, so SigV4 signatures stay valid.
export async function faultProxy(target) {
  const up = new URL(target);
  const state = { mode: 'pass', delayMs: 0, seen: 0, failPart: 0, partsInFlight: 0, maxPartsInFlight: 0,
    confirmsInFlight: 0, maxConfirmsInFlight: 0, stored: new Set(), hosts: new Set(), paths: [] };
  const server = http.createServer((req, res) => {
    state.seen++;
    state.hosts.add(req.headers.host);
    state.paths.push(req.url);
    const part = /[?&]partNumber=(\d+)/.exec(req.url);
    const key = req.url.split('?')[0];
    if (part && req.method === 'PUT') {
      state.partsInFlight++;
      state.maxPartsInFlight = Math.max(state.maxPartsInFlight, state.partsInFlight);
      res.on('close', () => state.partsInFlight--);
    } else if (req.method === 'PUT') {
      res.on('finish', () => { if (res.statusCode === 200) state.stored.add(key); });
    } else if (req.method === 'HEAD' && state.stored.has(key)) {
      state.confirmsInFlight++;
      state.maxConfirmsInFlight = Math.max(state.maxConfirmsInFlight, state.confirmsInFlight);
      res.on('finish', () => state.confirmsInFlight--);
    }
    const fail = () => {
      req.resume();
      if (state.mode === 'cut') { req.socket.destroy(); return; }
      const code = state.mode === '500' ? 500 : 503;
      const body = state.mode === 'slowdown'
        ? '<?xml version="1.0"?><Error><Code>SlowDown</Code></Error>'
        : '<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code></Error>';
      res.writeHead(code, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
      res.end(body);
    };
    const pass = () => {
      const p = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url,
        headers: req.headers }, (pr) => { res.writeHead(pr.statusCode, pr.headers); pr.pipe(res); });
      p.on('error', () => req.socket.destroy());
      req.pipe(p);
    };
    if (part && state.failPart === Number(part[1])) {
      req.resume();
      const body = '<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code></Error>';
      res.writeHead(503, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
      res.end(body);
    } else if (state.mode === 'pass') pass();
    else if (state.mode === 'delay') setTimeout(pass, state.delayMs);
    else fail();
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, state,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}
