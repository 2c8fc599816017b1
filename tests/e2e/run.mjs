// Runs the end-to-end suite: makes a throwaway CA and a localhost
// certificate signed by it, then runs `node --test` over tests/e2e with
// NODE_EXTRA_CA_CERTS pointing at the CA, so Node's fetch, tus-js-client
// and the WebDAV client verify the server's certificate for real.
//
//   node tests/e2e/run.mjs [test files...]
//   CONSORT_BIN=build-asan/server/consort node tests/e2e/run.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, constants as osConstants } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'consort-ca-'));
// The CA and the logs are removed however the run ends (a failed openssl,
// ^C, a timeout's SIGTERM), unless CONSORT_KEEP_TMP=1 keeps them.
process.on('exit', () => {
  if (process.env.CONSORT_KEEP_TMP === '1') console.error(`CONSORT_KEEP_TMP: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});
// A signal goes on to the test runner, so that it stops its files (which
// remove their own temp dirs); this process then exits as the signal
// would have made it.
let child = null;
let stoppedBy = null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    stoppedBy = sig;
    if (child) child.kill(sig);
    else process.exit(128 + osConstants.signals[sig]);
  });
}
const ossl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
  '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '2',
  '-subj', '/CN=consort test CA');
ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'leaf.csr'), '-subj', '/CN=localhost');
writeFileSync(join(dir, 'ext.cnf'),
  'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n' +
  'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
ossl('x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', join(dir, 'ca.pem'),
  '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, 'cert.pem'),
  '-days', '2', '-extfile', join(dir, 'ext.cnf'));

let files = process.argv.slice(2);
if (files.length === 0)
  files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(here, f));

const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
  CONSORT_TEST_CERT: join(dir, 'cert.pem'),
  CONSORT_TEST_KEY: join(dir, 'key.pem'),
  CONSORT_TEST_CA_KEY: join(dir, 'ca.key'),
  E2E_ARTIFACTS: join(dir, 'artifacts'),
};
process.env.E2E_ARTIFACTS = env.E2E_ARTIFACTS;
const concurrency = process.env.E2E_CONCURRENCY || '2';
child = spawn(process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', '--test-reporter-destination=stdout',
   '--test-reporter=tap', `--test-reporter-destination=${join(dir, 'results.tap')}`, ...files],
  { env, stdio: 'inherit' });
const r = await new Promise((res) => child.on('exit', (status, signal) => res({ status, signal })));
if (stoppedBy) process.exit(128 + osConstants.signals[stoppedBy]);
let summary = '';
try {
  summary = execFileSync('grep', ['-E', '^# (pass|fail) ', join(dir, 'results.tap')]).toString();
} catch { /* no summary: the runner itself failed */ }
let pass = Number(/# pass (\d+)/.exec(summary)?.[1] ?? 0);
let fail = Number(/# fail (\d+)/.exec(summary)?.[1] ?? (r.status === 0 ? 0 : 1));

// After every test: no secret any test used may appear in any log that
// any server or command wrote (lib/secrets.mjs). Counted as one test.
const { checkArtifacts } = await import('./lib/secrets.mjs');
const check = checkArtifacts();
if (check.secrets > 0) {
  if (check.leaks.length === 0) {
    pass++;
    console.log(`✔ no secret in the logs (${check.secrets} secrets, ${check.bytes} bytes of logs)`);
  } else {
    fail++;
    console.log(`✖ secrets in the logs (${check.leaks.length} of ${check.secrets}):`);
    for (const l of check.leaks.slice(0, 20)) console.log(`  ${l.secret} (${l.form}) in: ${l.line}`);
  }
}
console.log(`e2e: ${pass} passed, ${fail} failed`);
if (process.env.E2E_SUMMARY_FILE)
  writeFileSync(process.env.E2E_SUMMARY_FILE, `${pass} ${fail}\n`);
process.exit(r.status === 0 && fail === 0 ? 0 : 1);
