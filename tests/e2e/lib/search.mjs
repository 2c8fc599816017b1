// Helpers for the search tests: real documents from the fixture
// generator (tests/fixtures/docgen.c, built as `docgen` beside the
// consort binary), uploads over the API, searches, and waiting for the
// index by polling the API (never by sleeping a fixed time).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, readdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { consortBin, tempDir } from './server.mjs';
import { addPartner, addUser, addWp, grant, Session } from './accounts.mjs';
import { apiJson, urlPath } from './docs.mjs';

export const docgenBin = process.env.DOCGEN_BIN ||
  resolve(dirname(consortBin), '..', 'tests', 'fixtures', 'docgen');

export const sanitized = !!process.env.CONSORT_SANITIZED;

// A document of `format` (docx xlsx pptx odt ods odp pdf html md text)
// as a Buffer; opts: title, author, heading, body, header, footer, notes.
export function makeDoc(format, opts = {}) {
  const dir = tempDir('consort-docgen-');
  try {
    const out = join(dir, `doc.${format}`);
    const args = [format, out];
    for (const k of ['title', 'author', 'heading', 'body', 'header', 'footer', 'notes'])
      if (opts[k] !== undefined) args.push(`--${k}`, opts[k]);
    execFileSync(docgenBin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A DOCX whose document.xml expands to `expanded` bytes.
export function makeZipBomb(expanded) {
  const dir = tempDir('consort-docgen-');
  try {
    execFileSync(docgenBin, ['bomb', join(dir, 'b.docx'), String(expanded)], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(join(dir, 'b.docx'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Accounts for a search test: a coordinator and the given members, one
// token each. `members`: {name: {wp: level, ...}}. Work packages are
// created first. Returns {tokens: {name: token}, emails: {name: email}}.
export async function people(s, { wps = ['WP1'], members = {} } = {}) {
  addPartner(s, 'UNIA');
  for (const wp of wps) addWp(s, wp);
  const all = { coord: null, ...members };
  const tokens = {};
  const emails = {};
  for (const [name, levels] of Object.entries(all)) {
    const email = `${name}@a.example`;
    addUser(s, email, 'UNIA', { coordinator: name === 'coord' });
    for (const [wp, level] of Object.entries(levels || {})) grant(s, wp, { user: email }, level);
    const session = await Session.login(s, email);
    const r = await session.req('POST', '/api/v1/tokens', { json: { name: 'search e2e' } });
    if (r.status !== 201) throw new Error(`token for ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    tokens[name] = r.body.token;
    emails[name] = email;
  }
  return { tokens, emails };
}

// PUT a document; throws unless it was stored. Returns the answer body.
export async function put(s, token, wp, path, body) {
  const r = await apiJson(s, token, 'PUT', `/api/v1/wps/${wp}/content/${urlPath(path)}`, { body });
  if (r.status !== 201 && r.status !== 200)
    throw new Error(`PUT ${wp}/${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// GET /api/v1/search with the given parameters; {status, body}.
export function search(s, token, q, params = {}) {
  const qs = new URLSearchParams({ q, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  return apiJson(s, token, 'GET', `/api/v1/search?${qs}`);
}

// Search and insist on 200; returns the body.
export async function found(s, token, q, params) {
  const r = await search(s, token, q, params);
  if (r.status !== 200) throw new Error(`search ${q}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// Paths of the hits, sorted (for order-free comparisons).
export const hitPaths = (body) => body.hits.map((h) => `${h.wp}/${h.path}`).sort();

// The document node (with its "index" state) from the tree route.
export async function docNode(s, token, wp, path) {
  const r = await apiJson(s, token, 'GET', `/api/v1/wps/${wp}/tree/${urlPath(path)}`);
  if (r.status !== 200) throw new Error(`GET tree ${wp}/${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// Poll `fn` until it returns a truthy value; throws with `what` and the
// last value after `timeout` ms.
export async function until(fn, { timeout = 30000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Wait until the index has looked at the current version of every
// document in `docs` ([[wp, path], ...]); returns {"wp/path": index}.
export async function waitIndexed(s, token, docs, { timeout = 60000 } = {}) {
  const out = {};
  let left = docs.slice();
  // In queue order: while one is pending, the ones after it most likely
  // are too, so each round asks about one pending document only.
  await until(async () => {
    while (left.length) {
      const [wp, path] = left[0];
      const n = await docNode(s, token, wp, path);
      if (!(n.index && n.index.status !== 'pending' && n.index.version === n.version)) return false;
      out[`${wp}/${path}`] = n.index;
      left.shift();
    }
    return true;
  }, { timeout, what: () => `the index of ${left.map((d) => d.join('/')).join(', ')}` });
  return out;
}

// Processes whose parent is `pid` (from /proc), as {pid, cmdline}.
export function childrenOf(pid) {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const cmdline = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(e), cmdline });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

// A small PDF that makes pdftotext spin: the page draws a form ten times,
// that form draws the next one ten times, and so on `depth` levels down
// (10^depth drawings of one word; a billion-laughs attack on PDF forms).
export function spinningPdf(depth = 9, fan = 10) {
  const objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /X 5 0 R >> >> >>'];
  const draw = Array.from({ length: fan }, () => '/X Do').join(' ');
  objs.push(`<< /Length ${draw.length} >>\nstream\n${draw}\nendstream`);
  for (let k = 0; k < depth; k++) {
    const last = k === depth - 1;
    const body = last ? 'BT /F1 10 Tf 72 700 Td (laughs) Tj ET' : draw;
    const res = last ? `/Font << /F1 ${5 + depth} 0 R >>` : `/XObject << /X ${6 + k} 0 R >>`;
    objs.push(`<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << ${res} >> /Length ${body.length} >>\nstream\n${body}\nendstream`);
  }
  objs.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  let out = '%PDF-1.4\n';
  const offs = [];
  objs.forEach((o, i) => { offs.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` + offs.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// A zip archive of `files` ({name: string | Buffer}), stored without
// compression: for office files whose parts a test writes by hand.
export function zipStored(files) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const fname = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += 30 + fname.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

// A DOCX whose document.xml is `xml` (for hostile XML).
export function docxWithXml(xml) {
  return zipStored({
    '[Content_Types].xml': '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    '_rels/.rels': '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/document.xml': xml,
  });
}

// A PDF with one page per string of `pages` (plain ASCII, no parentheses
// or backslashes), with a real cross-reference table.
export function pagedPdf(pages) {
  const objs = [];
  const n = pages.length;
  const kids = pages.map((_, i) => `${3 + 2 * i} 0 R`).join(' ');
  objs.push('<< /Type /Catalog /Pages 2 0 R >>');
  objs.push(`<< /Type /Pages /Kids [${kids}] /Count ${n} >>`);
  pages.forEach((text, i) => {
    const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
    objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${4 + 2 * i} 0 R /Resources << /Font << /F1 ${3 + 2 * n} 0 R >> >> >>`);
    objs.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  objs.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
