// Dialogs and pieces shared by the folder list and the document page:
// breadcrumbs, rename, move (with a folder picker), new folder, trash.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, patch, del, wpApi, describe } from '../api.js';
import { href } from '../router.js';
import { icon } from '../icons.js';
import { badge, button, dialog, field, input, toast, loading } from '../ui.js';
import { emit } from '../session.js';

export function statusBadge(status) {
  return badge(t(`status.${status}`), `status-${status}`);
}

export function crumbs(wp, path, wpInfo, { last = true } = {}) {
  const parts = path ? path.split('/') : [];
  const items = [h('li', parts.length || !last ? h('a', { href: href('wp', wp), title: wpInfo?.title }, wp) : h('span', { 'aria-current': 'page' }, wp))];
  parts.forEach((p, i) => {
    const isLast = i === parts.length - 1 && last;
    items.push(h('li', isLast ? h('span', { 'aria-current': 'page' }, p) : h('a', { href: href('wp', wp, parts.slice(0, i + 1).join('/')) }, p)));
  });
  return h('nav.crumbs', { 'aria-label': t('browse.breadcrumbs') }, h('ol', items));
}

function parentOf(path) {
  return path.split('/').slice(0, -1).join('/');
}

export async function renameDialog(wp, node) {
  const name = input({ value: node.name, autocomplete: 'off', spellcheck: 'false' });
  const f = field(t('browse.newName'), name);
  const r = await dialog({
    title: t('browse.renameTitle', { name: node.name }),
    build: () => {
      // Select the name without its extension, as file managers do.
      requestAnimationFrame(() => { const dot = node.type === 'document' ? node.name.lastIndexOf('.') : -1; name.setSelectionRange(0, dot > 0 ? dot : node.name.length); });
      return h('div.stack', f);
    },
    submitLabel: t('browse.rename'),
    submit: async () => {
      f.setError(null);
      const v = name.value.trim();
      if (!v) { f.setError(t('form.required')); return false; }
      if (v === node.name) return null;
      try {
        return await patch(wpApi(wp, 'tree', node.path), { name: v });
      } catch (e) {
        if (e.status === 400 || e.status === 409) { f.setError(describe(e)); name.focus(); return false; }
        throw e;
      }
    },
  });
  if (r) {
    toast(t('browse.renamed', { name: r.name }));
    emit('uploaded', { wp, path: r.path });
  }
  return r;
}

// A folder picker inside the move dialog.
function folderPicker(wp, start, onPick) {
  const box = h('div.picker');
  let current = start;
  async function show(p) {
    current = p;
    onPick(p);
    mount(box, loading());
    try {
      const r = await get(wpApi(wp, 'tree', p), { params: { limit: 1000 } });
      const folders = r.entries.filter((e) => e.type === 'folder');
      const parts = p ? p.split('/') : [];
      const trail = [h('button.btn-link', { type: 'button', on: { click: () => show('') } }, wp)];
      parts.forEach((x, i) => trail.push(h('span.picker-sep', { 'aria-hidden': 'true' }, '/'), h('button.btn-link', { type: 'button', on: { click: () => show(parts.slice(0, i + 1).join('/')) } }, x)));
      mount(box,
        h('p.picker-where', h('span.muted', t('browse.moveInto')), ' ', trail),
        folders.length
          ? h('ul.picker-list', { 'aria-label': t('browse.subfolders') }, folders.map((f) => h('li', h('button.picker-item', { type: 'button', on: { click: () => show(f.path) } }, icon('folder', { size: 18 }), h('span', f.name), icon('chevronRight', { size: 16 })))))
          : h('p.muted.picker-empty', t('browse.noSubfolders')));
    } catch (e) {
      mount(box, h('p.field-error', describe(e)));
    }
  }
  show(start);
  return { el: box, get: () => current };
}

export async function moveDialog(wp, node) {
  let dest = parentOf(node.path);
  const picker = folderPicker(wp, dest, (p) => { dest = p; });
  const r = await dialog({
    title: t('browse.moveTitle', { name: node.name }),
    build: () => picker.el,
    submitLabel: t('browse.moveHere'),
    submit: async () => {
      if (dest === parentOf(node.path)) return null;
      if (node.type === 'folder' && (dest === node.path || dest.startsWith(`${node.path}/`))) throw new Error(t('browse.moveIntoItself'));
      return post(wpApi(wp, 'move'), { from: node.path, to: dest ? `${dest}/${node.name}` : node.name });
    },
  });
  if (r) {
    toast(t('browse.moved', { name: node.name, dest: dest || wp }));
    emit('uploaded', { wp, path: r.path });
  }
  return r;
}

export async function newFolderDialog(wp, parent) {
  const name = input({ autocomplete: 'off' });
  const f = field(t('browse.folderName'), name);
  const r = await dialog({
    title: t('browse.newFolder'),
    build: () => h('div.stack', f),
    submitLabel: t('browse.create'),
    submit: async () => {
      f.setError(null);
      const v = name.value.trim();
      if (!v) { f.setError(t('form.required')); return false; }
      if (v.includes('/')) { f.setError(t('browse.noSlash')); return false; }
      try {
        return await post(wpApi(wp, 'folders'), { path: parent ? `${parent}/${v}` : v });
      } catch (e) {
        if (e.status === 400 || e.status === 409) { f.setError(describe(e)); name.focus(); return false; }
        throw e;
      }
    },
  });
  if (r) toast(t('browse.folderMade', { name: r.name }));
  return r;
}

export async function trashNode(wp, node, { confirmFirst = false } = {}) {
  if (confirmFirst) {
    const { confirm } = await import('../ui.js');
    if (!await confirm({ title: t('browse.trashTitle', { name: node.name }), text: node.type === 'folder' ? t('browse.trashFolderText') : t('browse.trashText'), confirmLabel: t('browse.trash'), danger: true })) return false;
  }
  try {
    const r = await del(wpApi(wp, 'tree', node.path));
    toast(t('browse.trashed', { name: node.name }), {
      action: {
        label: t('browse.undo'),
        run: async () => {
          try {
            await post(`/api/v1/wps/${encodeURIComponent(wp)}/trash/${r.trash_id}/restore`);
            toast(t('browse.untrashed', { name: node.name }));
            emit('uploaded', { wp, path: node.path });
          } catch (e) { toast(describe(e), { kind: 'error' }); }
        },
      },
      timeout: 8000,
    });
    emit('uploaded', { wp, path: node.path });
    return true;
  } catch (e) {
    toast(describe(e), { kind: 'error' });
    return false;
  }
}

