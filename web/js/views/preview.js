// Previews (issue 18): a document's pages as images made by the server
// (GET /api/v1/wps/{wp}/preview/{path}), shown on the document page, and
// small first-page thumbnails in folder listings. Pages load lazily as
// they scroll into view, fit the width of the pane (a toggle shows them
// larger), and are paged with the buttons, the arrow and page keys, or by
// swiping (the pane scrolls). A preview that failed says why and offers
// the download.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, wpApi, contentUrl, describe } from '../api.js';
import { fileIcon } from '../icons.js';
import { button, linkButton } from '../ui.js';

const SIZES = [200, 400, 800, 1200, 1600];
const OFFICE = /(officedocument|opendocument\.(text|spreadsheet|presentation|graphics)|msword|ms-excel|ms-powerpoint|rtf)/;
const EXT = /\.(pdf|png|jpe?g|gif|tiff?|webp|svg|bmp|docx?|xlsx?|pptx?|odt|ods|odp|odg|rtf)$/i;

// True when the server may make a preview of this entry.
export function previewable(e) {
  const m = e.mime || '';
  return m === 'application/pdf' || m.startsWith('image/') || OFFICE.test(m) || EXT.test(e.name || '');
}

function pageUrl(wp, path, version, page, size) {
  return `${wpApi(wp, 'preview', path)}?${version ? `version=${version}&` : ''}page=${page}&size=${size}`;
}

// The smallest made width that covers `css` CSS pixels on this screen.
function sizeFor(css) {
  const want = css * (window.devicePixelRatio || 1);
  return SIZES.find((s) => s >= want) || SIZES[SIZES.length - 1];
}

// A folder row's icon, replaced by the first page once it loaded.
export function thumbOrIcon(wp, e, kind) {
  const fallback = fileIcon(kind);
  if (e.type !== 'document' || !previewable(e)) return fallback;
  const box = h('span.fl-thumb', fallback);
  // The state first (JSON, also for a failed preview), the image only
  // when there is one: no failed image loads.
  const ask = async (tries) => {
    let st;
    try { st = await get(`${wpApi(wp, 'preview', e.path)}?version=${e.version}`); } catch { return; }
    if (st.state === 'pending' && tries < 30 && box.isConnected !== false) { setTimeout(() => ask(tries + 1), 1000 + tries * 250); return; }
    if (st.state !== 'ready') return;
    const img = h('img', { alt: '', decoding: 'async', width: '32', height: '32' });
    img.addEventListener('load', () => { box.classList.add('loaded'); });
    img.addEventListener('error', () => img.remove());
    img.src = pageUrl(wp, e.path, e.version, 1, 200);
    box.append(img);
  };
  setTimeout(() => ask(0), 0);
  return box;
}

// The document page's preview pane.
// `start`: the page to open at (a search hit's page).
export function previewPane(wp, node, start = 1) {
  const status = h('p.preview-status', { role: 'status' }, t('preview.loading'));
  const pages = h('div.preview-pages', { role: 'region', tabindex: '0', 'aria-label': t('preview.pages') });
  const indicator = h('span.preview-indicator', { 'aria-live': 'polite' });
  const tools = h('div.preview-tools');
  const pane = h('section.card.doc-preview', { 'aria-labelledby': 'doc-preview' },
    h('div.card-head', h('h2', { id: 'doc-preview' }, t('preview.title')), tools),
    status, pages);
  let count = 0, current = 1, large = false, stopped = false, jumpUntil = 0, jumpTo = start > 1 ? Math.floor(start) : 0;

  function figures() { return [...pages.querySelectorAll('figure')]; }

  function show(n) {
    if (!count) return;
    current = Math.min(Math.max(1, n), count);
    const f = figures()[current - 1];
    jumpUntil = Date.now() + 800; // the scroll that follows does not move the indicator
    if (f) pages.scrollTo({ top: f.offsetTop - 8, behavior: 'smooth' });
    indicator.textContent = t('preview.pageOf', { n: current, total: count });
  }

  function drawPages(state) {
    count = state.pages;
    status.hidden = true;
    const width = pages.clientWidth || 360;
    const size = sizeFor(large ? Math.min(width * 2, 1600) : width);
    mount(pages, Array.from({ length: count }, (_, i) => h('figure.preview-page', { dataset: { page: String(i + 1) } },
      h('img', { src: pageUrl(wp, node.path, node.version, i + 1, size), loading: i < Math.max(2, jumpTo) ? 'eager' : 'lazy', decoding: 'async',
        alt: t('preview.pageOf', { n: i + 1, total: count }), on: { error: (ev) => { ev.target.replaceWith(h('p.muted', t('preview.pageFailed'))); } } }),
      h('figcaption.sr-only', t('preview.pageOf', { n: i + 1, total: count })))));
    pages.classList.toggle('large', large);
    mount(tools,
      button(t('preview.prev'), { kind: 'ghost', icon: 'chevronLeft', iconOnly: true, on: () => show(current - 1) }),
      indicator,
      button(t('preview.next'), { kind: 'ghost', icon: 'chevronRight', iconOnly: true, on: () => show(current + 1) }),
      button(large ? t('preview.fit') : t('preview.zoom'), { kind: 'ghost', on: () => { large = !large; drawPages(state); } }));
    indicator.textContent = t('preview.pageOf', { n: current, total: count });
    if (jumpTo) {
      // the pages before it are loaded first, so that it stays where it was scrolled to
      const target = Math.min(jumpTo, count);
      const before = figures().slice(0, target).map((f) => f.querySelector('img')?.decode().catch(() => {}));
      jumpTo = 0;
      show(target);
      Promise.all(before).then(() => { if (current === target) show(target); });
    }
  }

  function failed(reason) {
    status.hidden = false;
    mount(status, h('span', t('preview.failed', { reason })), ' ',
      linkButton(t('doc.download'), contentUrl(wp, node.path, node.version), { icon: 'download', kind: 'secondary' }));
    mount(tools);
  }

  pages.addEventListener('keydown', (ev) => {
    const next = { ArrowRight: 1, ArrowDown: 1, PageDown: 1, ' ': 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1 }[ev.key];
    if (ev.key === 'Home') { ev.preventDefault(); show(1); } else if (ev.key === 'End') { ev.preventDefault(); show(count); } else if (next) { ev.preventDefault(); show(current + next); }
  });
  // The page in view, for the indicator, as the pane scrolls (touch too).
  pages.addEventListener('scroll', () => {
    if (Date.now() < jumpUntil || !count) return;
    const atEnd = pages.scrollTop + pages.clientHeight >= pages.scrollHeight - 2;
    const f = atEnd ? figures()[count - 1] : figures().findLast((x) => x.offsetTop <= pages.scrollTop + 16);
    if (f) { current = Number(f.dataset.page); indicator.textContent = t('preview.pageOf', { n: current, total: count }); }
  }, { passive: true });

  async function load(delay = 500) {
    if (stopped || !pane.isConnected && delay > 500) return;
    try {
      const st = await get(`${wpApi(wp, 'preview', node.path)}?version=${node.version}`);
      if (st.state === 'pending') { setTimeout(() => load(Math.min(delay * 1.5, 4000)), delay); return; }
      if (st.state === 'ready') drawPages(st);
      else if (st.state === 'failed') failed(st.reason);
      else pane.hidden = true; // no preview for this type
    } catch (e) {
      failed(describe(e));
    }
  }
  load();
  pane.stop = () => { stopped = true; };
  return pane;
}
