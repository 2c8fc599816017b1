// Starts the real consort binary on a free loopback port with a fresh data
// directory, and offers small helpers to talk to it: fetch (HTTPS, trusted
// through the test CA in NODE_EXTRA_CA_CERTS), raw TLS for malformed
// requests, and process inspection (RSS, exit status).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir, constants as osConstants } from 'node:os';
import { join, dirname, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { recordLog } from './secrets.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..', '..');
// Absolute: a server may run in a directory of its own (Server's cwd).
export const consortBin = resolve(process.env.CONSORT_BIN || join(repoRoot, 'build', 'server', 'consort'));
export const testCert = process.env.CONSORT_TEST_CERT;
export const testKey = process.env.CONSORT_TEST_KEY;
export const testCA = process.env.NODE_EXTRA_CA_CERTS;

export async function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// What a test file leaves behind is removed when its process exits,
// passed or failed (node --test runs each file in a process of its own),
// so test runs do not pile up in /tmp: first the children still running
// are killed (a test that failed never reached its close() or stop()),
// then the exit hooks run (a Ceph cluster is taken down), then the temp
// dirs are removed. CONSORT_KEEP_TMP=1 keeps the dirs, to look into a
// failure (the children are killed all the same).
const tempDirs = [];
const children = new Set();
const exitHooks = [];

// A temp dir in parent ($TMPDIR by default) named prefix + random,
// removed at exit.
export function tempDir(prefix = 'consort-e2e-', parent = tmpdir()) {
  const dir = mkdtempSync(join(parent, prefix));
  tempDirs.push(dir);
  return dir;
}

// A child process that must not outlive the test file: SIGKILLed at exit
// if it is still running then.
export function trackChild(proc) {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

// fn runs (synchronously) at exit, before the temp dirs are removed.
export function atExit(fn) {
  exitHooks.push(fn);
}

process.on('exit', () => {
  for (const p of children) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const fn of exitHooks) {
    try { fn(); } catch (e) { console.error('exit hook:', e); }
  }
  if (process.env.CONSORT_KEEP_TMP === '1') {
    if (tempDirs.length) console.error(`CONSORT_KEEP_TMP: kept ${tempDirs.join(' ')}`);
    return;
  }
  for (const dir of tempDirs) {
    // A child killed just now may still add a file while the dir is
    // walked (ENOTEMPTY): retry, and never throw from an exit handler.
    try { rmSync(dir, { recursive: true, force: true, maxRetries: 5 }); } catch (e) {
      console.error(`could not remove ${dir}: ${e.message}`);
    }
  }
});
// Killed by a signal (^C, a runner's timeout), a process runs no 'exit'
// handlers: exit instead, with the status the signal would have given.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.once(sig, () => process.exit(128 + osConstants.signals[sig]));

// Run a consort subcommand to completion; returns {status, stdout, stderr}.
export function runConsort(args, { input } = {}) {
  const r = spawnSync(consortBin, args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = r.stderr?.toString() ?? '';
  recordLog(stderr); // for the suite's secrets check (lib/secrets.mjs)
  return { status: r.status ?? -1, signal: r.signal, error: r.error, stdout: r.stdout?.toString() ?? '', stderr };
}

// CONSORT_BLOB_STORE=s3 runs every test's server with its blobs in the
// object store at CONSORT_S3_ENDPOINT (deploy/ceph-up.sh; keys from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), one fresh bucket per data
// directory, so the suites written for local files run against Ceph.
// CONSORT_S3_CACHE_SIZE adds the local read cache (s3-cache-size).
function s3Args(server) {
  if (process.env.CONSORT_BLOB_STORE !== 's3' || server.extraArgs.includes('--blob-store')) return [];
  if (!server.s3Bucket) server.s3Bucket = `consort-${randomBytes(6).toString('hex')}`;
  const cache = process.env.CONSORT_S3_CACHE_SIZE ? ['--s3-cache-size', process.env.CONSORT_S3_CACHE_SIZE] : [];
  return ['--blob-store', 's3', '--s3-endpoint', process.env.CONSORT_S3_ENDPOINT,
    '--s3-bucket', server.s3Bucket, ...cache];
}

export class Server {
  // cwd: run the server there, given --data relative to it (this.dataDir
  // stays absolute for the helpers).
  constructor({ dataDir, args = [], ownCert = false, env, cwd } = {}) {
    this.dataDir = dataDir || tempDir();
    this.cwd = cwd;
    this.ownDataDir = !dataDir;
    this.extraArgs = args;
    this.ownCert = ownCert; // true: let consort make its self-signed cert
    this.env = env; // extra environment variables for the server
    this.log = '';
    this.proc = null;
  }

  get url() { return `https://127.0.0.1:${this.port}`; }

  async start() {
    this.port = this.port || await freePort();
    const data = this.cwd ? relative(this.cwd, this.dataDir) : this.dataDir;
    const args = ['serve', '--data', data, '--listen', `127.0.0.1:${this.port}`,
      ...(this.ownCert || !testCert ? [] : ['--cert', testCert, '--key', testKey]),
      ...s3Args(this), ...this.extraArgs];
    this.allLogs = (this.allLogs || '') + this.log;
    this.log = '';
    this.proc = spawn(consortBin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.cwd,
      env: this.env ? { ...process.env, ...this.env } : process.env });
    trackChild(this.proc);
    let mine = '';
    this.proc.stdout.on('data', (d) => { this.log += d; mine += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; mine += d; });
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => res({ code, signal })));
    // Everything this process logged goes to the suite's secrets check
    // ('close' comes after the last output).
    this.proc.on('close', () => recordLog(mine));
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      if (this.log.includes('consort listening on')) return this;
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`consort did not start:\n${this.log}`);
  }

  // Stop with SIGTERM (or another signal); resolves to {code, signal}.
  // Sanitizer reports make the exit code non-zero, so tests check it.
  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill(signal);
    const r = await this.exited;
    return r;
  }

  async restart() {
    await this.stop();
    this.proc = null;
    return this.start();
  }

  // Stops the server, asserts a clean exit, removes the data directory.
  async close() {
    const r = await this.stop();
    if (this.ownDataDir) rmSync(this.dataDir, { recursive: true, force: true });
    if (r && r.code !== 0 && r.signal !== 'SIGKILL')
      throw new Error(`consort exited with ${JSON.stringify(r)}:\n${this.log.slice(-4000)}`);
    return r;
  }

  rssKiB() {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  }

  fetch(path, opts = {}) {
    return fetch(this.url + path, opts);
  }

  // Open a TLS socket to the server.
  connect() {
    return new Promise((res, rej) => {
      const s = tls.connect({ host: '127.0.0.1', port: this.port, servername: 'localhost',
        ca: testCA ? readFileSync(testCA) : undefined, rejectUnauthorized: !!testCA });
      s.once('secureConnect', () => res(s));
      s.once('error', rej);
    });
  }

  // Send raw bytes, collect everything until the server closes or
  // `idleMs` passes without data. Returns {text, closed}.
  async raw(bytes, { idleMs = 1500, endAfterWrite = false } = {}) {
    const s = await this.connect();
    return new Promise((res) => {
      let buf = Buffer.alloc(0);
      let timer;
      const finish = (closed) => { clearTimeout(timer); s.destroy(); res({ text: buf.toString('latin1'), closed }); };
      const arm = () => { clearTimeout(timer); timer = setTimeout(() => finish(false), idleMs); };
      s.on('data', (d) => { buf = Buffer.concat([buf, d]); arm(); });
      s.on('end', () => finish(true));
      s.on('close', () => finish(true));
      s.on('error', () => finish(true));
      arm();
      s.write(bytes);
      if (endAfterWrite) s.end();
    });
  }
}

// Split a byte stream of HTTP/1.1 responses (Content-Length framed) into
// [{status, headers, body}].
export function parseResponses(text) {
  const out = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] || 0);
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

export async function withServer(opts, fn) {
  const s = await new Server(opts).start();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export { existsSync };
