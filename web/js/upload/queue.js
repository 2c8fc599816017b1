// The upload queue and its panel: files and folders chosen or dropped
// anywhere in a work package go here; each gets a progress bar with
// speed and time left, can be cancelled, and resumes by itself after a
// dropped connection (tus). Name clashes are asked about before anything
// is sent: a new version of the existing document, or keep both under a
// new name. Uploads left unfinished by a reload are listed so the same
// file can be chosen again to resume.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, wpApi, describe, ApiError, getCsrf } from '../api.js';
import { icon } from '../icons.js';
import { bytes, duration } from '../format.js';
import { session, on, emit } from '../session.js';
import { button, dialog, toast } from '../ui.js';
import { TusUpload, UploadError, fingerprint, stored, remember } from './tus.js';

const CONCURRENCY = 2;
let items = [];
let seq = 0;
let panel = null;
let listEl = null;
let summaryEl = null;
let collapsed = false;

function joinPath(...parts) {
  return parts.filter(Boolean).join('/').split('/').filter(Boolean).join('/');
}

// ---- name clashes --------------------------------------------------------------

async function exists(wp, path) {
  try {
    const n = await get(wpApi(wp, 'tree', path), { params: { limit: 1 } });
    return n.type;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

function withSuffix(path, n) {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${dir}${stem} (${n})${ext}`;
}

async function freeName(wp, path, taken) {
  for (let n = 2; n < 1000; n++) {
    const p = withSuffix(path, n);
    if (taken.has(p.toLowerCase())) continue;
    if (!(await exists(wp, p))) return p;
  }
  throw new Error(t('upload.noFreeName'));
}

function askClash(clashes) {
  const names = clashes.map((c) => c.path.split('/').pop());
  let choice = 'version';
  const radios = [
    ['version', t('upload.asVersion'), t('upload.asVersionHint')],
    ['both', t('upload.keepBoth'), t('upload.keepBothHint')],
    ['skip', t('upload.skip'), t('upload.skipHint')],
  ].map(([value, label, hint]) => {
    const r = h('input', { type: 'radio', name: 'clash', value, checked: value === 'version' });
    r.addEventListener('change', () => { choice = value; });
    return h('label.choice', r, h('span.choice-text', h('span.choice-label', label), h('span.choice-hint', hint)));
  });
  return dialog({
    title: names.length === 1 ? t('upload.clashOne', { name: names[0] }) : t('upload.clashMany', { n: names.length }),
    build: () => h('div.stack',
      h('p', names.length === 1 ? t('upload.clashOneText') : t('upload.clashManyText')),
      names.length > 1 ? h('ul.clash-list', names.slice(0, 8).map((n) => h('li', n)), names.length > 8 ? h('li.muted', t('upload.andMore', { n: names.length - 8 })) : null) : null,
      h('fieldset.choices', h('legend.sr-only', t('upload.whatToDo')), radios)),
    submitLabel: t('upload.continue'),
    submit: async () => choice,
  });
}

// ---- the queue ----------------------------------------------------------------------

// `files`: [{file, rel}] where rel is the path below the drop target
// ("report.pdf", or "Folder/sub/report.pdf" for a folder). `folders`:
// empty folders to create. `mode`: 'ask' (check for clashes) or
// 'version' (a new version of `target` on purpose).
export async function enqueue({ wp, folder = '', files, folders = [], mode = 'ask', comment = '' }) {
  if (!files.length && !folders.length) return;
  ensurePanel();
  for (const f of folders) {
    try { await post(wpApi(wp, 'folders'), { path: joinPath(folder, f), parents: true }); } catch (e) { toast(describe(e), { kind: 'error' }); }
  }
  if (folders.length && !files.length) emit('uploaded', { wp });
  const planned = files.map(({ file, rel }) => ({ file, path: joinPath(folder, rel) }));
  if (mode === 'ask' && planned.length) {
    let clashes = [];
    try {
      const kinds = await Promise.all(planned.map((p) => exists(wp, p.path)));
      planned.forEach((p, i) => { p.existing = kinds[i]; });
      const folderClash = planned.find((p) => p.existing === 'folder');
      if (folderClash) {
        toast(t('upload.folderInWay', { name: folderClash.path.split('/').pop() }), { kind: 'error' });
        planned.splice(0, planned.length, ...planned.filter((p) => p.existing !== 'folder'));
      }
      clashes = planned.filter((p) => p.existing === 'document');
    } catch (e) {
      toast(describe(e), { kind: 'error' });
      return;
    }
    if (clashes.length) {
      const choice = await askClash(clashes);
      if (!choice) return;
      if (choice === 'skip') {
        const skip = new Set(clashes);
        planned.splice(0, planned.length, ...planned.filter((p) => !skip.has(p)));
      } else if (choice === 'both') {
        const taken = new Set(planned.map((p) => p.path.toLowerCase()));
        for (const c of clashes) {
          c.path = await freeName(wp, c.path, taken);
          taken.add(c.path.toLowerCase());
        }
      }
    }
  }
  for (const p of planned) {
    items.push({
      id: ++seq, file: p.file, wp, path: p.path, comment, state: 'queued', sent: 0, total: p.file.size,
      samples: [], speed: 0, error: null, version: null, tus: null, row: null,
    });
  }
  collapsed = false;
  render();
  pump();
}

function active() { return items.filter((i) => ['creating', 'uploading', 'retrying', 'committing', 'waiting-signin'].includes(i.state)); }

function pump() {
  while (active().length < CONCURRENCY) {
    const next = items.find((i) => i.state === 'queued');
    if (!next) break;
    run(next);
  }
  render();
}

function sample(item, sent) {
  const now = performance.now();
  item.sent = sent;
  item.samples.push([now, sent]);
  while (item.samples.length > 2 && now - item.samples[0][0] > 5000) item.samples.shift();
  const [t0, s0] = item.samples[0];
  if (now - t0 > 300) item.speed = ((sent - s0) * 1000) / (now - t0);
}

async function run(item) {
  item.state = 'creating';
  item.error = null;
  const fp = fingerprint(session.user?.id, item.wp, item.path, item.file);
  const up = new TusUpload(item.file, {
    wp: item.wp, path: item.path, comment: item.comment, fp,
    onProgress: (n) => {
      sample(item, n);
      if (n >= item.total && item.state === 'uploading') item.state = 'committing';
      update(item);
    },
    onState: (state, info) => {
      item.state = state === 'uploading' && item.sent >= item.total && item.total > 0 ? 'committing' : state;
      item.retryIn = info?.in;
      item.offline = info?.offline;
      if (state === 'retrying') { item.samples = []; item.speed = 0; }
      update(item);
    },
  });
  item.tus = up;
  try {
    const r = await up.start();
    item.state = 'done';
    item.version = r.version;
    item.sent = item.total;
    emit('uploaded', { wp: item.wp, path: item.path, version: r.version });
  } catch (e) {
    if (e.code === 'aborted') {
      if (item.state !== 'cancelled') item.state = 'paused';
    } else {
      item.state = 'failed';
      item.error = e;
    }
  }
  update(item);
  pump();
}

function errorText(e) {
  if (!e) return '';
  if (e instanceof UploadError) {
    if (e.status === 507) return t('upload.quota');
    if (e.status === 413) return t('upload.tooBig', { detail: e.detail || '' });
    if (e.status === 429) return t('upload.tooMany');
    if (e.status === 403) return t('upload.forbidden');
    if (e.status === 412) return t('upload.changed', { detail: e.detail || '' });
    return e.detail || t('error.status', { status: e.status });
  }
  return describe(e);
}

function statusText(item) {
  const pct = item.total ? Math.floor((item.sent / item.total) * 100) : 100;
  switch (item.state) {
    case 'queued': return t('upload.queued');
    case 'creating': return t('upload.starting');
    case 'uploading': {
      const left = item.speed > 0 ? (item.total - item.sent) / item.speed : NaN;
      return [t('upload.progress', { sent: bytes(item.sent), total: bytes(item.total), pct }),
        item.speed > 0 ? t('upload.speed', { speed: bytes(item.speed) }) : null,
        Number.isFinite(left) ? t('upload.left', { time: duration(left) }) : null].filter(Boolean).join(' · ');
    }
    case 'committing': return t('upload.saving');
    case 'retrying': return item.offline ? t('upload.offline', { pct }) : t('upload.retrying', { n: item.retryIn, pct });
    case 'waiting-signin': return t('upload.signin');
    case 'done': return t('upload.done', { version: item.version });
    case 'failed': return errorText(item.error);
    case 'cancelled': return t('upload.cancelled');
    case 'paused': return t('upload.paused');
    default: return '';
  }
}

function cancel(item) {
  item.state = 'cancelled';
  if (item.tus) item.tus.terminate();
  update(item);
  pump();
}

function retry(item) {
  item.state = 'queued';
  item.error = null;
  pump();
}

// ---- uploads left from an earlier page load ---------------------------------------------

function leftovers() {
  const mine = [];
  const all = stored();
  for (const [fp, e] of Object.entries(all)) {
    const [user] = fp.split('\n');
    if (String(user) !== String(session.user?.id)) continue;
    if (Date.now() - (e.at || 0) > 24 * 3600 * 1000) { remember(fp, null); continue; }
    if (items.some((i) => i.state !== 'done' && i.wp.toUpperCase() === e.wp.toUpperCase() && i.path === e.path)) continue;
    mine.push({ fp, ...e });
  }
  return mine;
}

function resumePick(entry) {
  const picker = h('input', { type: 'file', class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
  picker.addEventListener('change', () => {
    const file = picker.files[0];
    picker.remove();
    if (!file) return;
    if (file.size !== entry.size || file.name !== entry.name) {
      toast(t('upload.notSameFile', { name: entry.name }), { kind: 'error' });
      return;
    }
    // Same name and size: resume under the remembered upload, whatever
    // its modification time says.
    const fp = fingerprint(session.user?.id, entry.wp, entry.path, file);
    if (fp !== entry.fp) { remember(fp, { ...entry }); remember(entry.fp, null); }
    enqueue({ wp: entry.wp, files: [{ file, rel: entry.path }], mode: 'version' });
  });
  document.body.appendChild(picker);
  picker.click();
}

function forget(entry) {
  remember(entry.fp, null);
  fetch(entry.url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', 'X-CSRF-Token': getCsrf() || '' } }).catch(() => {});
  render();
}

// ---- the panel -------------------------------------------------------------------------

function ensurePanel() {
  if (panel && panel.isConnected) return;
  summaryEl = h('h2.uploads-title', { id: 'uploads-title' });
  listEl = h('ul.uploads-list');
  const toggle = button(t('upload.collapse'), { icon: 'chevronDown', kind: 'ghost', iconOnly: true, attrs: { 'aria-expanded': 'true', 'aria-controls': 'uploads-list' } });
  listEl.id = 'uploads-list';
  toggle.addEventListener('click', () => { collapsed = !collapsed; render(); });
  const close = button(t('upload.clear'), { icon: 'x', kind: 'ghost', iconOnly: true, on: () => {
    items = items.filter((i) => !['done', 'cancelled', 'failed'].includes(i.state));
    render();
  } });
  panel = h('section.uploads', { 'aria-labelledby': 'uploads-title' },
    h('header.uploads-head', summaryEl, h('div.uploads-tools', toggle, close)), listEl);
  panel.toggle = toggle;
  panel.close = close;
  document.body.appendChild(panel);
}

function row(item) {
  const bar = h('progress.upload-bar', { max: String(item.total || 1), value: String(item.sent), 'aria-label': t('upload.progressOf', { name: item.file.name }) });
  const status = h('p.upload-status');
  const actions = h('div.upload-actions');
  const name = h('p.upload-name', { title: `${item.wp}/${item.path}` }, h('span.upload-file', item.file.name));
  const dest = h('p.upload-dest', `${item.wp} / ${item.path.split('/').slice(0, -1).join(' / ') || t('upload.top')}`);
  const li = h('li.upload', { dataset: { state: item.state } }, icon(item.state === 'done' ? 'check' : 'file', { size: 20, cls: 'upload-icon' }),
    h('div.upload-main', name, dest, bar, status), actions);
  item.row = { li, bar, status, actions };
  fill(item);
  return li;
}

function fill(item) {
  const r = item.row;
  if (!r) return;
  r.li.dataset.state = item.state;
  r.bar.max = item.total || 1;
  r.bar.value = item.state === 'done' ? (item.total || 1) : item.sent;
  r.status.textContent = statusText(item);
  r.status.classList.toggle('upload-error', item.state === 'failed');
  r.status.setAttribute('role', item.state === 'failed' ? 'alert' : 'none');
  const running = ['queued', 'creating', 'uploading', 'retrying', 'committing', 'waiting-signin'].includes(item.state);
  const acts = [];
  if (running) acts.push(button(t('upload.cancelNamed', { name: item.file.name }), { icon: 'x', kind: 'ghost', iconOnly: true, on: () => cancel(item) }));
  if (item.state === 'failed' || item.state === 'paused') acts.push(button(t('upload.retryNamed', { name: item.file.name }), { icon: 'refresh', kind: 'ghost', iconOnly: true, on: () => retry(item) }));
  if (item.state === 'retrying') acts.unshift(button(t('upload.retryNow'), { kind: 'ghost', on: () => item.tus?.nudge() }));
  const key = acts.map((a) => a.textContent).join('|');
  if (r.actions.dataset.key !== key) {
    const hadFocus = r.actions.contains(document.activeElement);
    mount(r.actions, acts);
    r.actions.dataset.key = key;
    if (hadFocus) (r.actions.querySelector('button') || panel.toggle).focus();
  }
}

let summaryTimer = 0;
function update(item) {
  fill(item);
  if (!summaryTimer) summaryTimer = requestAnimationFrame(() => { summaryTimer = 0; summary(); });
}

function summary() {
  if (!panel) return;
  const running = active().length + items.filter((i) => i.state === 'queued').length;
  const failed = items.filter((i) => i.state === 'failed').length;
  const done = items.filter((i) => i.state === 'done').length;
  const total = items.filter((i) => i.state !== 'cancelled').reduce((a, i) => a + i.total, 0);
  const sent = items.filter((i) => i.state !== 'cancelled').reduce((a, i) => a + (i.state === 'done' ? i.total : i.sent), 0);
  let text;
  if (running) text = t('upload.summaryRunning', { n: running, pct: total ? Math.floor((sent / total) * 100) : 0 });
  else if (failed) text = t('upload.summaryFailed', { n: failed });
  else text = t('upload.summaryDone', { n: done });
  summaryEl.textContent = text;
  panel.close.hidden = running > 0;
}

function render() {
  const left = session.user ? leftovers() : [];
  if (!items.length && !left.length) {
    if (panel) { panel.remove(); panel = null; }
    return;
  }
  ensurePanel();
  panel.classList.toggle('collapsed', collapsed);
  panel.toggle.setAttribute('aria-expanded', String(!collapsed));
  panel.toggle.querySelector('.icon').replaceWith(icon(collapsed ? 'chevronUp' : 'chevronDown', { size: 18 }));
  panel.toggle.querySelector('.sr-only').textContent = collapsed ? t('upload.expand') : t('upload.collapse');
  const rows = items.slice().reverse().map((i) => (i.row && i.row.li) || row(i));
  const leftRows = left.map((e) => h('li.upload', { dataset: { state: 'left' } }, icon('clock', { size: 20, cls: 'upload-icon' }),
    h('div.upload-main', h('p.upload-name', h('span.upload-file', e.name)), h('p.upload-dest', `${e.wp} / ${e.path}`),
      h('p.upload-status', t('upload.leftover'))),
    h('div.upload-actions',
      button(t('upload.chooseAgain'), { kind: 'secondary', on: () => resumePick(e), attrs: { 'aria-label': t('upload.chooseAgainNamed', { name: e.name }) } }),
      button(t('upload.discardNamed', { name: e.name }), { icon: 'x', kind: 'ghost', iconOnly: true, on: () => forget(e) }))));
  mount(listEl, leftRows, rows);
  summary();
  if (!items.length) summaryEl.textContent = t('upload.summaryLeft', { n: left.length });
}

// Pick files (or a folder) with the system dialog.
export function pickFiles({ wp, folder, directory = false }) {
  const picker = h('input', { type: 'file', multiple: true, class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
  if (directory) picker.webkitdirectory = true;
  picker.addEventListener('change', () => {
    const files = [...picker.files].map((file) => ({ file, rel: directory && file.webkitRelativePath ? file.webkitRelativePath : file.name }));
    picker.remove();
    enqueue({ wp, folder, files });
  });
  document.body.appendChild(picker);
  picker.click();
}

// Files and folders from a drop, walking directories.
export async function fromDrop(dataTransfer) {
  const files = [];
  const folders = [];
  const entries = [...(dataTransfer.items || [])].map((it) => (it.kind === 'file' && it.webkitGetAsEntry ? it.webkitGetAsEntry() : null));
  if (!entries.some(Boolean)) {
    for (const file of dataTransfer.files || []) files.push({ file, rel: file.name });
    return { files, folders };
  }
  const readAll = (dir) => new Promise((resolve, reject) => {
    const reader = dir.createReader();
    const out = [];
    const next = () => reader.readEntries((batch) => { if (!batch.length) resolve(out); else { out.push(...batch); next(); } }, reject);
    next();
  });
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      files.push({ file, rel: prefix + entry.name });
    } else if (entry.isDirectory) {
      const children = await readAll(entry);
      if (!children.length) folders.push(prefix + entry.name);
      for (const c of children) await walk(c, `${prefix}${entry.name}/`);
    }
  };
  for (const e of entries) if (e) await walk(e, '');
  return { files, folders };
}

// Shows uploads left unfinished by an earlier page load.
export function init() { render(); }

export function busy() { return active().length + items.filter((i) => i.state === 'queued').length > 0; }

on('signedIn', () => {
  for (const i of items) if (i.state === 'waiting-signin') i.tus?.nudge();
  render();
});
on('signedOut', () => {
  for (const i of items) if (i.tus && i.state !== 'done') { i.state = 'cancelled'; i.tus.abort(); }
  items = [];
  render();
});
window.addEventListener('beforeunload', (e) => {
  if (busy()) { e.preventDefault(); e.returnValue = ''; }
});
