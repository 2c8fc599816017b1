// The "no secret in any log" check of the end-to-end suite.
//
// Tests record every secret they use or are handed (passwords, session
// cookies, CSRF tokens, API tokens, links, metrics tokens) with
// recordSecret(); every server the harness starts leaves its complete
// stderr/stdout, and every command its stderr, in the artifacts
// directory (lib/server.mjs). After all tests, run.mjs calls
// checkArtifacts(), which fails the run when any recorded secret (as
// is, percent-encoded or base64-encoded) appears in any of those logs.
//
// The files are per process (node --test runs test files in parallel
// processes), so nothing is shared while writing.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const MIN_LEN = 8; // shorter values would match by chance

// Read when used, so a test of this module can point it elsewhere.
const dir = () => process.env.E2E_ARTIFACTS;

function file(kind) {
  mkdirSync(join(dir(), kind), { recursive: true });
  return join(dir(), kind, `${process.pid}.txt`);
}

export function recordSecret(value) {
  if (!dir() || typeof value !== 'string' || value.length < MIN_LEN) return;
  appendFileSync(file('secrets'), JSON.stringify(value) + '\n');
}

// Text a server or command wrote to its logs.
export function recordLog(text) {
  if (!dir() || !text) return;
  appendFileSync(file('logs'), text.endsWith('\n') ? text : text + '\n');
}

function readAll(kind) {
  const d = join(dir(), kind);
  if (!existsSync(d)) return [];
  return readdirSync(d).map((f) => readFileSync(join(d, f), 'utf8'));
}

// Returns {secrets, bytes, leaks: [{secret, form, line}]}.
export function checkArtifacts() {
  const secrets = new Set();
  for (const t of readAll('secrets'))
    for (const line of t.split('\n')) if (line) secrets.add(JSON.parse(line));
  const logs = readAll('logs').join('\n');
  const leaks = [];
  for (const s of secrets) {
    const forms = { raw: s, url: encodeURIComponent(s), base64: Buffer.from(s).toString('base64') };
    for (const [form, v] of Object.entries(forms)) {
      const i = logs.indexOf(v);
      if (i >= 0) {
        const start = logs.lastIndexOf('\n', i) + 1;
        const end = logs.indexOf('\n', i);
        leaks.push({ secret: s.slice(0, 4) + '…', form, line: logs.slice(start, end < 0 ? undefined : end) });
        break;
      }
    }
  }
  return { secrets: secrets.size, bytes: logs.length, leaks };
}
