// Helpers of the preview tests (issue 18).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { apiJson, urlPath } from './docs.mjs';
import { until } from './search.mjs';

// A PDF from a Debian package's docs (shared-mime-info, TEST_PACKAGES).
export const PDF_DOC = '/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf';

// The preview state of a document, waiting while it is pending.
export async function previewState(srv, token, wp, path, q = '') {
  let r;
  await until(async () => {
    r = await apiJson(srv, token, 'GET', `/api/v1/wps/${wp}/preview/${urlPath(path)}${q}`);
    return r.status !== 202;
  }, { timeout: 180000, interval: 200, what: `preview of ${path}` });
  return r;
}

// Width and height of a PNG.
export function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString(), 'PNG', 'a PNG');
  return { w: buf.readUInt32BE(16), h: buf.readUInt32BE(20) };
}

// Documents made by LibreOffice from text, as a person would save them.
export function officeDocs(dir, { slides = 3 } = {}) {
  const profile = `file://${join(dir, 'profile')}`;
  const conv = (to, file) => execFileSync('soffice', [`-env:UserInstallation=${profile}`, '--headless',
    '--convert-to', to, '--outdir', dir, join(dir, file)], { stdio: 'ignore', timeout: 180000 });
  writeFileSync(join(dir, 'memo.txt'), 'Minutes of the kick-off meeting\n\nAll partners attended.\n' +
    'Work package 2 starts in month 3.\n'.repeat(150));
  writeFileSync(join(dir, 'budget.csv'), 'partner,person months,cost\n' +
    Array.from({ length: 60 }, (_, i) => `P${i},${i + 3},${(i + 1) * 1000}`).join('\n') + '\n');
  const page = (i) => `<draw:page draw:name="s${i}"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="22cm" svg:height="4cm">` +
    `<draw:text-box><text:p>Slide ${i}: results of task ${i}</text:p></draw:text-box></draw:frame></draw:page>`;
  writeFileSync(join(dir, 'deck.fodp'), '<?xml version="1.0" encoding="UTF-8"?>' +
    '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ' +
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" ' +
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" office:version="1.2" ' +
    'office:mimetype="application/vnd.oasis.opendocument.presentation"><office:body><office:presentation>' +
    Array.from({ length: slides }, (_, i) => page(i + 1)).join('') + '</office:presentation></office:body></office:document>');
  conv('docx', 'memo.txt');
  writeFileSync(join(dir, 'fresh.txt'), 'A different memo, converted after the hostile ones.\n');
  conv('docx', 'fresh.txt');
  conv('odt', 'memo.txt');
  conv('xlsx', 'budget.csv');
  conv('pptx', 'deck.fodp');
  return {
    docx: readFileSync(join(dir, 'memo.docx')), odt: readFileSync(join(dir, 'memo.odt')),
    xlsx: readFileSync(join(dir, 'budget.xlsx')), pptx: readFileSync(join(dir, 'deck.pptx')),
    fresh: readFileSync(join(dir, 'fresh.docx')),
  };
}

