// The body of tests/bench/previews.sh (see there).
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, runConsort } from '../e2e/lib/server.mjs';
import { consortium, api, apiJson } from '../e2e/lib/docs.mjs';
import { Session } from '../e2e/lib/accounts.mjs';

const N = Number(process.env.BENCH_SAMPLES || 10);
const COLD = Number(process.env.BENCH_COLD || 4);
const work = mkdtempSync(join(tmpdir(), 'consort-bench-previews-'));
const profile = `file://${join(work, 'profile')}`;
const soffice = (to, files) => execFileSync('soffice', [`-env:UserInstallation=${profile}`, '--headless',
  '--convert-to', to, '--outdir', work, ...files], { stdio: 'ignore', timeout: 600000 });

function deck(i) {
  const page = (k) => `<draw:page draw:name="s${k}"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="22cm" svg:height="12cm">` +
    `<draw:text-box><text:p>Deck ${i}, slide ${k}</text:p><text:p>Results of task ${k}: ${'measured, '.repeat(20)}</text:p></draw:text-box></draw:frame></draw:page>`;
  return '<?xml version="1.0" encoding="UTF-8"?><office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ' +
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2" ' +
    'office:mimetype="application/vnd.oasis.opendocument.presentation"><office:body><office:presentation>' +
    Array.from({ length: 20 }, (_, k) => page(k + 1)).join('') + '</office:presentation></office:body></office:document>';
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)]; };
const fmt = (name, xs) => console.log(`${name.padEnd(34)} n=${String(xs.length).padStart(2)}  p50 ${(pct(xs, 50) / 1000).toFixed(2)} s  p95 ${(pct(xs, 95) / 1000).toFixed(2)} s`);

async function firstPage(s, token, path) {
  const t0 = Date.now();
  for (;;) {
    const r = await apiJson(s, token, 'GET', `/api/v1/wps/WP1/preview/${path}`);
    if (r.status === 200 && r.body.state !== 'ready') throw new Error(`${path}: ${JSON.stringify(r.body)}`);
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const r = await api(s, token, 'GET', `/api/v1/wps/WP1/preview/${path}?page=1&size=800`);
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  await r.arrayBuffer();
  return Date.now() - t0;
}

try {
  console.log(`# making ${N + COLD + 1} decks and a 20-page PDF with LibreOffice…`);
  const decks = [];
  for (let i = 0; i <= N + COLD; i++) { writeFileSync(join(work, `deck${i}.fodp`), deck(i)); decks.push(join(work, `deck${i}.fodp`)); }
  soffice('pptx', decks);
  writeFileSync(join(work, 'report.txt'), Array.from({ length: 20 }, (_, p) => `Page ${p + 1}\n` + 'A line of the report. '.repeat(4) + '\n' + 'More text of the page.\n'.repeat(45)).join('\f'));
  soffice('pdf', [join(work, 'report.txt')]);
  const pdf = readFileSync(join(work, 'report.pdf'));
  const pages = /Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [join(work, 'report.pdf')]).toString())[1];
  console.log(`# PDF: ${pages} pages; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

  const pdfT = [], cold = [], warm = [];
  // cold: each sample on a fresh server (LibreOffice not yet started)
  for (let i = 0; i < COLD; i++) {
    const s = await new Server().start();
    try {
      const { tokens } = await consortium(s);
      await apiJson(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/cold${i}.pptx`, { body: readFileSync(join(work, `deck${i}.pptx`)) });
      cold.push(await firstPage(s, tokens.reader, `cold${i}.pptx`));
    } finally { await s.close(); }
  }
  const s = await new Server().start();
  try {
    const { tokens } = await consortium(s);
    // warm up the converter
    await apiJson(s, tokens.writer, 'PUT', '/api/v1/wps/WP1/content/warmup.pptx', { body: readFileSync(join(work, `deck${COLD}.pptx`)) });
    await firstPage(s, tokens.reader, 'warmup.pptx');
    for (let i = 0; i < N; i++) {
      await apiJson(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/warm${i}.pptx`, { body: readFileSync(join(work, `deck${COLD + 1 + i}.pptx`)) });
      warm.push(await firstPage(s, tokens.reader, `warm${i}.pptx`));
      const body = Buffer.concat([pdf, Buffer.from(`\n% sample ${i}\n`)]);
      await apiJson(s, tokens.writer, 'PUT', `/api/v1/wps/WP1/content/report${i}.pdf`, { body });
      pdfT.push(await firstPage(s, tokens.reader, `report${i}.pdf`));
    }
  } finally { await s.close(); }
  fmt('20-page PDF', pdfT);
  fmt('20-slide PPTX, cold converter', cold);
  fmt('20-slide PPTX, warm converter', warm);

  // the demo: preview store against blob store
  const dir = join(work, 'demo');
  const d = runConsort(['demo', '--data', dir]);
  if (d.status !== 0) throw new Error(d.stderr);
  const coord = readFileSync(join(dir, 'demo-logins.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t')).find((f) => f[2] === 'coordinator');
  const sd = await new Server({ dataDir: dir }).start();
  let docs = 0, shown = 0, failed = 0;
  try {
    const me = await Session.login(sd, coord[0], coord[1]);
    const wps = (await me.req('GET', '/api/v1/wps')).body;
    const list = Array.isArray(wps) ? wps : wps.wps || wps.items;
    const walk = async (wp, path) => {
      const r = await me.req('GET', `/api/v1/wps/${wp}/tree/${path.split('/').filter(Boolean).map(encodeURIComponent).join('/')}?limit=1000`);
      for (const e of r.body.entries || []) {
        if (e.type === 'folder') { await walk(wp, e.path); continue; }
        docs++;
        const enc = e.path.split('/').map(encodeURIComponent).join('/');
        let st;
        for (;;) {
          st = await me.req('GET', `/api/v1/wps/${wp}/preview/${enc}`);
          if (st.status !== 202) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        if (st.body.state === 'failed') failed++;
        if (st.body.state !== 'ready') continue;
        shown++;
        await me.req('GET', `/api/v1/wps/${wp}/preview/${enc}?page=1&size=200`);
        for (let p = 1; p <= Math.min(3, st.body.pages); p++) await me.req('GET', `/api/v1/wps/${wp}/preview/${enc}?page=${p}&size=800`);
      }
    };
    for (const w of list) await walk(w.code, '');
  } finally { await sd.close(); }
  const du = (p) => { let n = 0; const go = (q) => { for (const f of readdirSync(q)) { const st = statSync(join(q, f)); if (st.isDirectory()) go(join(q, f)); else n += st.size; } }; go(p); return n; };
  const blobs = du(join(dir, 'blobs')), previews = du(join(dir, 'previews'));
  console.log(`demo: ${docs} documents, ${shown} with previews, ${failed} failed; blobs ${(blobs / 1048576).toFixed(1)} MiB, ` +
    `previews ${(previews / 1048576).toFixed(1)} MiB (${(100 * previews / blobs).toFixed(1)}% of the blobs)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
