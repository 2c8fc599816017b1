// A work package's folders and documents (#/wp/WP1/path). A folder is a
// virtual list: only the rows in view exist, pages of the listing are
// fetched as they scroll into view, so a folder of 10,000 documents
// scrolls as smoothly as one of ten. Sorting is the server's; the filter
// box loads the remaining pages and filters by name. Keyboard: arrows,
// Home/End, PageUp/PageDown, Enter opens, Backspace goes up, F2 renames,
// Delete moves to the trash, Shift+F10 opens a row's menu. A path that
// names a document shows the document page.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, wpApi, contentUrl, describe } from '../api.js';
import { href, go } from '../router.js';
import { icon } from '../icons.js';
import { thumbOrIcon } from './preview.js';
import { session, canWrite, wpLevel, on } from '../session.js';
import { bytes, relative, fullDate, number, kindOf, levelName } from '../format.js';
import { badge, button, dialog, menuButton, errorBox, loading, empty, toast, linkButton, scanBadge } from '../ui.js';
import { activityFeed, followButton } from './activity.js';
import { enqueue, pickFiles, fromDrop } from '../upload/queue.js';
import { renameDialog, moveDialog, trashNode, newFolderDialog, crumbs, statusBadge } from './nodes.js';

const PAGE = 200;
const OVERSCAN = 8;

export default async function browse(ctx) {
  const wp = ctx.segments[1];
  const path = ctx.segments.slice(2).join('/');
  const node = await get(wpApi(wp, 'tree', path), { params: { limit: PAGE, sort: ctx.params.get('sort') || undefined, order: ctx.params.get('order') || undefined } });
  if (node.type === 'document') {
    const mod = await import('./document.js');
    return mod.default(ctx, { wp, node });
  }
  return folderView(ctx, wp, path, node);
}

function folderView(ctx, wpCode, path, first) {
  const wpInfo = session.wps.find((w) => w.code.toLowerCase() === wpCode.toLowerCase());
  const wp = wpInfo ? wpInfo.code : wpCode;
  const writable = canWrite(wp);
  const sort = ctx.params.get('sort') || 'name';
  const order = ctx.params.get('order') || (sort === 'name' ? 'asc' : 'desc');
  const folderName = path ? path.split('/').pop() : (wpInfo ? wpInfo.title : wp);
  ctx.setTitle(path ? `${folderName} · ${wp}` : `${wp} ${folderName}`);

  // ---- data: a sparse array of entries, filled page by page ----
  let total = first.total;
  let entries = new Array(total);
  const pending = new Map();
  first.entries.forEach((e, i) => { entries[i] = e; });
  let filter = '';
  let view = null; // filtered entries, or null for all
  let cursor = 0;

  async function loadPage(p, limit = PAGE) {
    if (pending.has(p)) return pending.get(p);
    const job = get(wpApi(wp, 'tree', path), { params: { offset: p * limit, limit, sort, order } }).then((r) => {
      if (r.total !== total) { total = r.total; entries.length = total; }
      r.entries.forEach((e, i) => { entries[p * limit + i] = e; });
    }).finally(() => pending.delete(p));
    pending.set(p, job);
    return job;
  }

  const count = () => (view ? view.length : total);
  const at = (i) => (view ? view[i] : entries[i]);

  // ---- the list ----
  const body = h('div.filelist-body', { role: 'rowgroup' });
  const sortHeader = (key, label, cls) => {
    const active = sort === key;
    const nextOrder = active ? (order === 'asc' ? 'desc' : 'asc') : (key === 'name' ? 'asc' : 'desc');
    return h('div', { role: 'columnheader', class: ['fl-cell', cls], 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('a.sort-link', { href: href('wp', wp, path, { sort: key === 'name' ? null : key, order: nextOrder === (key === 'name' ? 'asc' : 'desc') ? null : nextOrder }), title: t('browse.sortBy', { col: label }) },
        label, active ? icon(order === 'asc' ? 'arrowUp' : 'arrowDown', { size: 14 }) : null));
  };
  const plainHeader = (label, cls) => h('div', { role: 'columnheader', class: ['fl-cell', cls] }, label);
  const headRow = h('div.fl-row.fl-head', { role: 'row', 'aria-rowindex': '1' },
    sortHeader('name', t('browse.name'), 'fl-name'),
    sortHeader('size', t('browse.size'), 'fl-size'),
    plainHeader(t('browse.version'), 'fl-version'),
    plainHeader(t('browse.modifiedBy'), 'fl-by'),
    sortHeader('modified', t('browse.modified'), 'fl-date'),
    h('div', { role: 'columnheader', class: 'fl-cell fl-actions' }, h('span.sr-only', t('common.actions'))));
  const grid = h('div.filelist', { role: 'grid', 'aria-label': t('browse.listLabel', { name: folderName }), 'aria-rowcount': String(count() + 1) },
    h('div', { role: 'rowgroup' }, headRow), body);
  const statusLine = h('p.list-status', { role: 'status' });
  const live = h('p.sr-only', { 'aria-live': 'polite' });

  const narrow = matchMedia('(max-width: 640px)');
  const rowHeight = () => (narrow.matches ? 64 : 52);
  let rendered = new Map(); // index -> element

  function target(e) { return e.type === 'folder' ? href('wp', wp, e.path) : href('wp', wp, e.path); }

  function rowMenu(e) {
    const items = [];
    if (e.type === 'document') items.push([t('browse.download'), 'download', () => { location.href = contentUrl(wp, e.path); }]);
    items.push([t('browse.open'), e.type === 'folder' ? 'folder' : 'file', () => go(target(e))]);
    if (writable) {
      items.push([t('browse.rename'), 'edit', () => renameDialog(wp, e).then((n) => n && reload())]);
      items.push([t('browse.move'), 'move', () => moveDialog(wp, e).then((n) => n && reload())]);
      items.push([t('browse.share'), 'link', () => import('./sharelink.js').then((m) => m.shareDialog(wp, e))]);
      items.push([t('browse.trash'), 'trash', () => trashNode(wp, e).then((ok) => ok && reload()), { danger: true }]);
    }
    return items;
  }

  function makeRow(i) {
    const e = at(i);
    const rh = rowHeight();
    if (!e) {
      const el = h('div.fl-row.fl-skeleton', { role: 'row', 'aria-rowindex': String(i + 2), tabindex: i === cursor ? '0' : '-1', 'aria-busy': 'true' }, h('div.fl-cell.fl-name', { role: 'gridcell' }, h('span.skeleton')));
      el.style.transform = `translateY(${i * rh}px)`;
      return el;
    }
    const kind = e.type === 'folder' ? 'folder' : kindOf(e.name, e.mime);
    const meta = e.type === 'folder' ? relative(e.modified_at) : [bytes(e.size), `v${e.version}`, relative(e.modified_at)].join(' · ');
    const menu = h('button.btn.btn-ghost.btn-icon.row-menu', { type: 'button', tabindex: '-1', title: t('browse.actionsFor', { name: e.name }), 'aria-haspopup': 'menu' },
      icon('more', { size: 18 }), h('span.sr-only', t('browse.actionsFor', { name: e.name })));
    menu.addEventListener('click', (ev) => {
      ev.stopPropagation();
      const real = menuButton(t('browse.actionsFor', { name: e.name }), () => rowMenu(e));
      real.querySelector('button').tabIndex = -1;
      menu.replaceWith(real);
      real.querySelector('button').click();
    });
    const link = h('a.fl-link', { href: target(e), tabindex: '-1' }, e.name);
    const el = h('div.fl-row', { role: 'row', 'aria-rowindex': String(i + 2), tabindex: i === cursor ? '0' : '-1', dataset: { i: String(i) }, 'aria-selected': i === cursor ? 'true' : 'false' },
      h('div.fl-cell.fl-name', { role: 'gridcell' }, thumbOrIcon(wp, e, kind),
        h('div.fl-namebox', h('div.fl-nameline', link,
          e.deliverable ? badge(e.deliverable, 'accent') : null, e.status ? statusBadge(e.status) : null, scanBadge(e.scan)),
          h('span.fl-meta', meta))),
      h('div.fl-cell.fl-size', { role: 'gridcell' }, e.type === 'document' ? bytes(e.size) : ''),
      h('div.fl-cell.fl-version', { role: 'gridcell' }, e.type === 'document' ? `v${e.version}` : ''),
      h('div.fl-cell.fl-by', { role: 'gridcell' }, e.modified_by ? e.modified_by.name : ''),
      h('div.fl-cell.fl-date', { role: 'gridcell' }, h('time', { datetime: e.modified_at, title: fullDate(e.modified_at) }, relative(e.modified_at))),
      h('div.fl-cell.fl-actions', { role: 'gridcell' },
        e.type === 'document' ? h('a.btn.btn-ghost.btn-icon', { href: contentUrl(wp, e.path), tabindex: '-1', title: t('browse.downloadNamed', { name: e.name }) }, icon('download', { size: 18 }), h('span.sr-only', t('browse.downloadNamed', { name: e.name }))) : null,
        menu));
    el.style.transform = `translateY(${i * rh}px)`;
    el.addEventListener('click', (ev) => {
      if (ev.target.closest('a, button, .menu')) return;
      setCursor(i, false);
      go(target(e));
    });
    el.addEventListener('focus', () => { if (cursor !== i) setCursor(i, false); });
    return el;
  }

  let frame = 0;
  function schedule() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); }

  function visibleRange() {
    const rh = rowHeight();
    const top = body.getBoundingClientRect().top;
    const from = Math.max(0, Math.floor(-top / rh) - OVERSCAN);
    const to = Math.min(count(), Math.ceil((window.innerHeight - top) / rh) + OVERSCAN);
    return [from, Math.max(from, to)];
  }

  function draw() {
    if (!body.isConnected) return;
    const rh = rowHeight();
    body.style.height = `${count() * rh}px`;
    grid.setAttribute('aria-rowcount', String(count() + 1));
    const [from, to] = visibleRange();
    const keep = new Map();
    let refocus = null;
    for (const [i, el] of rendered) {
      const stale = el.dataset.gen !== String(gen) || (at(i) && el.classList.contains('fl-skeleton'));
      const focused = el.contains(document.activeElement);
      if (!stale && ((i >= from && i < to) || (focused && i === cursor))) {
        keep.set(i, el);
      } else {
        if (focused && !stale) refocus = null;
        else if (focused) refocus = i;
        el.remove();
      }
    }
    for (let i = from; i < to; i++) {
      if (keep.has(i)) continue;
      const el = makeRow(i);
      el.dataset.gen = String(gen);
      body.appendChild(el);
      keep.set(i, el);
      if (!at(i) && !view) loadPage(Math.floor(i / PAGE)).then(schedule, (e) => err.show(e));
    }
    if (refocus !== null && keep.has(refocus)) keep.get(refocus).focus({ preventScroll: true });
    rendered = keep;
  }

  let gen = 0;
  function redrawAll() {
    gen += 1;
    for (const el of rendered.values()) el.remove();
    rendered = new Map();
    draw();
    updateStatus();
  }

  function setCursor(i, focus = true) {
    const n = count();
    if (!n) return;
    cursor = Math.max(0, Math.min(n - 1, i));
    for (const [j, el] of rendered) {
      el.tabIndex = j === cursor ? 0 : -1;
      el.setAttribute('aria-selected', j === cursor ? 'true' : 'false');
    }
    if (!focus) return;
    const rh = rowHeight();
    const top = body.getBoundingClientRect().top + cursor * rh;
    const headH = 56 + 44;
    if (top < headH) window.scrollBy(0, top - headH);
    else if (top + rh > window.innerHeight) window.scrollBy(0, top + rh - window.innerHeight + 8);
    draw();
    const el = rendered.get(cursor);
    if (el) { el.tabIndex = 0; el.focus({ preventScroll: true }); }
  }

  function parent() {
    if (!path) return;
    go(href('wp', wp, path.split('/').slice(0, -1).join('/')));
  }

  let typed = '';
  let typedAt = 0;
  body.addEventListener('keydown', (e) => {
    const row = e.target.closest('.fl-row');
    if (!row || e.target !== row) {
      if (e.key === 'Escape' && row) row.focus();
      return;
    }
    const page = Math.max(1, Math.floor(window.innerHeight / rowHeight()) - 2);
    const cur = at(cursor);
    switch (e.key) {
      case 'ArrowDown': e.preventDefault(); setCursor(cursor + 1); break;
      case 'ArrowUp':
        e.preventDefault();
        if (e.altKey) parent(); else setCursor(cursor - 1);
        break;
      case 'PageDown': e.preventDefault(); setCursor(cursor + page); break;
      case 'PageUp': e.preventDefault(); setCursor(cursor - page); break;
      case 'Home': e.preventDefault(); setCursor(0); break;
      case 'End': e.preventDefault(); setCursor(count() - 1); break;
      case 'Enter': if (cur) { e.preventDefault(); go(target(cur)); } break;
      case 'Backspace': e.preventDefault(); parent(); break;
      case 'F2': if (cur && writable) { e.preventDefault(); renameDialog(wp, cur).then((n) => n && reload()); } break;
      case 'Delete': if (cur && writable) { e.preventDefault(); trashNode(wp, cur).then((ok) => ok && reload()); } break;
      case 'ContextMenu':
      case 'F10':
        if (e.key === 'ContextMenu' || e.shiftKey) { e.preventDefault(); row.querySelector('.row-menu, .menu-wrap button')?.click(); }
        break;
      default:
        if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey && e.key !== ' ') {
          const now = Date.now();
          typed = now - typedAt > 800 ? e.key.toLowerCase() : typed + e.key.toLowerCase();
          typedAt = now;
          const n = count();
          for (let k = 0; k < n; k++) {
            const j = (cursor + (typed.length === 1 ? 1 : 0) + k) % n;
            const x = at(j);
            if (x && x.name.toLowerCase().startsWith(typed)) { setCursor(j); break; }
          }
        }
    }
  });

  // ---- filter ----
  const err = errorBox();
  const filterInput = h('input.input.input-filter', { type: 'search', placeholder: t('browse.filter'), 'aria-label': t('browse.filterLabel'), autocomplete: 'off' });
  let filterSeq = 0;
  filterInput.addEventListener('input', async () => {
    const q = filterInput.value.trim().toLowerCase();
    const mine = ++filterSeq;
    filter = q;
    if (!q) { view = null; cursor = 0; redrawAll(); return; }
    // Everything must be here to filter: fetch what is missing, 1000 at a time.
    if (entries.includes(undefined) || entries.length !== total || [...entries].some((x) => x === undefined)) {
      statusLine.textContent = t('browse.loadingAll', { n: number(total) });
      try {
        const big = 1000;
        for (let p = 0; p * big < total; p++) {
          let missing = false;
          for (let i = p * big; i < Math.min(total, (p + 1) * big); i++) if (!entries[i]) { missing = true; break; }
          if (missing) await loadPage(p, big);
          if (mine !== filterSeq) return;
        }
      } catch (e) { err.show(e); return; }
    }
    if (mine !== filterSeq) return;
    view = entries.filter((e) => e && e.name.toLowerCase().includes(filter));
    cursor = 0;
    redrawAll();
    live.textContent = t('browse.matches', { n: view.length });
  });

  function updateStatus() {
    const folders = first.entries.filter((e) => e.type === 'folder').length;
    if (view) statusLine.textContent = t('browse.filtered', { n: number(view.length), total: number(total) });
    else statusLine.textContent = total ? t('browse.items', { n: total }) : '';
    return folders;
  }

  async function reload() {
    try {
      const r = await get(wpApi(wp, 'tree', path), { params: { limit: PAGE, sort, order } });
      first = r;
      total = r.total;
      entries = new Array(total);
      r.entries.forEach((e, i) => { entries[i] = e; });
      pending.clear();
      if (filter) filterInput.dispatchEvent(new Event('input'));
      else { view = null; redrawAll(); }
      emptyState.hidden = total > 0;
      listWrap.hidden = total === 0;
      if (cursor >= count()) cursor = Math.max(0, count() - 1);
    } catch (e) {
      err.show(e);
    }
  }

  // ---- header, actions, drop zone ----
  const actions = [];
  if (writable) {
    actions.push(menuButton(t('browse.upload'), [
      [t('browse.uploadFiles'), 'file', () => pickFiles({ wp, folder: path })],
      [t('browse.uploadFolder'), 'folder', () => pickFiles({ wp, folder: path, directory: true })],
    ], { icon: 'upload', kind: 'primary', iconOnly: false, cls: 'upload-menu' }));
    actions.push(button(t('browse.newFolder'), { icon: 'folderPlus', on: () => newFolderDialog(wp, path).then((n) => n && reload()) }));
  }
  actions.push(followButton(wp, path));
  actions.push(button(t('activity.title'), { kind: 'ghost', on: () => dialog({
    title: t('activity.titleOf', { name: path ? `${wp}/${path}` : wp }), wide: true,
    build: () => activityFeed({ wp, path }) }) }));
  actions.push(linkButton(t('browse.trashView'), href('trash', wp), { icon: 'trash', kind: 'ghost' }));
  if (!path) actions.push(linkButton(t('browse.settings'), href('settings', wp), { icon: 'lock', kind: 'ghost' }));
  const level = wpLevel(wp);
  const head = h('header.page-head',
    path ? crumbs(wp, path, wpInfo) : null,
    h('div.page-title-row',
      h('div.page-title', h('h1', { tabindex: '-1' }, path ? folderName : h('span', h('span.wp-code.wp-code-lg', wp), ' ', folderName)),
        h('p.page-sub', level ? t('browse.yourLevel', { level: levelName(level) }) : '')),
      h('div.page-actions', actions)));

  const emptyState = empty(t('browse.emptyTitle'), writable ? t('browse.emptyWritable') : t('browse.emptyText'),
    writable ? button(t('browse.uploadFiles'), { icon: 'upload', kind: 'primary', on: () => pickFiles({ wp, folder: path }) }) : null);
  emptyState.hidden = total > 0;
  const listWrap = h('div', grid, h('p.kbd-hint', t('browse.keys')));
  listWrap.hidden = total === 0;
  const drop = h('div.dropzone', { 'aria-hidden': 'true' }, icon('upload', { size: 28 }), h('p', t('browse.dropHere', { name: folderName })));
  const page = h('section.page.browse', head,
    h('div.toolbar', filterInput, statusLine, live), err, emptyState, listWrap, drop);

  if (writable) {
    let depth = 0;
    const isFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
    page.addEventListener('dragenter', (e) => { if (!isFiles(e)) return; e.preventDefault(); depth += 1; page.classList.add('dragging'); });
    page.addEventListener('dragover', (e) => { if (!isFiles(e)) return; e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
    page.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) page.classList.remove('dragging'); });
    page.addEventListener('drop', async (e) => {
      if (!isFiles(e)) return;
      e.preventDefault();
      depth = 0;
      page.classList.remove('dragging');
      try {
        const { files, folders } = await fromDrop(e.dataTransfer);
        enqueue({ wp, folder: path, files, folders });
      } catch (ex) { toast(describe(ex), { kind: 'error' }); }
    });
  }

  // ---- lifecycle ----
  const onScroll = () => schedule();
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('resize', onScroll);
  let reloadTimer = 0;
  const off = on('uploaded', (u) => {
    if (u.wp.toLowerCase() !== wp.toLowerCase()) return;
    const dir = u.path ? u.path.split('/').slice(0, -1).join('/') : path;
    if (u.path && dir !== path && !dir.startsWith(`${path}/`) && path !== '' ) return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, 300);
  });
  ctx.onLeave(() => {
    window.removeEventListener('scroll', onScroll);
    window.removeEventListener('resize', onScroll);
    off();
    clearTimeout(reloadTimer);
  });
  updateStatus();
  requestAnimationFrame(() => draw());
  return page;
}
