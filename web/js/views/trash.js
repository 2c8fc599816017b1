// A work package's trash: what was deleted, where it was, by whom; put
// it back (asking for a new name when the old one is taken), or, with
// manage level, delete it for good.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del, describe } from '../api.js';
import { href } from '../router.js';
import { icon, fileIcon } from '../icons.js';
import { session, canWrite, canManage } from '../session.js';
import { bytes, dateTime, fullDate, relative, kindOf, number } from '../format.js';
import { button, confirm, dialog, field, input, toast, empty, errorBox, loading, linkButton, tableWrap } from '../ui.js';
import { crumbs } from './nodes.js';

const PAGE = 100;

export default async function trash(ctx) {
  const wpCode = ctx.segments[1];
  const wpInfo = session.wps.find((w) => w.code.toLowerCase() === wpCode.toLowerCase());
  const wp = wpInfo ? wpInfo.code : wpCode;
  const offset = Math.max(0, Number(ctx.params.get('offset')) || 0);
  ctx.setTitle(t('trash.title', { wp }));
  const err = errorBox();
  const body = h('div', loading());
  const writable = canWrite(wp);
  const manager = canManage(wp);

  async function restore(item, name) {
    try {
      const r = await post(`/api/v1/wps/${encodeURIComponent(wp)}/trash/${item.id}/restore`, name ? { name } : undefined);
      toast(t('trash.restored', { name: r.name }), { action: { label: t('trash.show'), run: () => { location.hash = href('wp', wp, r.type === 'folder' ? r.path : r.path.split('/').slice(0, -1).join('/')); } } });
      load();
    } catch (e) {
      if (e.status === 409 && /taken|exists/i.test(e.detail || '')) {
        const n = input({ value: item.name, autocomplete: 'off' });
        const f = field(t('browse.newName'), n);
        const nn = await dialog({
          title: t('trash.nameTaken', { name: item.name }),
          build: () => h('div.stack', h('p', t('trash.nameTakenText')), f),
          submitLabel: t('trash.restore'),
          submit: async () => { if (!n.value.trim()) { f.setError(t('form.required')); return false; } return n.value.trim(); },
        });
        if (nn) restore(item, nn);
      } else {
        toast(describe(e), { kind: 'error' });
      }
    }
  }

  async function purge(item) {
    if (!await confirm({ title: t('trash.purgeTitle', { name: item.name }), text: t('trash.purgeText'), confirmLabel: t('trash.purge'), danger: true })) return;
    try {
      await del(`/api/v1/wps/${encodeURIComponent(wp)}/trash/${item.id}`);
      toast(t('trash.purged', { name: item.name }));
      load();
    } catch (e) { toast(describe(e), { kind: 'error' }); }
  }

  async function load() {
    try {
      const r = await get(`/api/v1/wps/${encodeURIComponent(wp)}/trash`, { params: { offset, limit: PAGE } });
      const items = r.items || [];
      if (!items.length) { mount(body, empty(t('trash.empty'), t('trash.emptyText'))); return; }
      mount(body, tableWrap(h('table.table',
        h('caption.sr-only', t('trash.title', { wp })),
        h('thead', h('tr', h('th', { scope: 'col' }, t('browse.name')), h('th.hide-sm', { scope: 'col' }, t('trash.was')),
          h('th', { scope: 'col' }, t('trash.deleted')), h('th.col-actions', { scope: 'col' }, h('span.sr-only', t('common.actions'))))),
        h('tbody', items.map((it) => h('tr',
          h('td', h('div.trash-name', fileIcon(it.type === 'folder' ? 'folder' : kindOf(it.name, it.mime)),
            h('div.person', h('span.person-name', it.name), h('span.person-email', it.type === 'folder' ? t('trash.folder') : `${bytes(it.size)} · v${it.version}`)))),
          h('td.hide-sm.break', it.path.split('/').slice(0, -1).join(' / ') || wp),
          h('td', h('time', { datetime: it.trashed_at, title: fullDate(it.trashed_at) }, relative(it.trashed_at)),
            it.trashed_by?.name ? h('span.person-email', ` · ${it.trashed_by.name}`) : null),
          h('td.col-actions', h('div.row-actions',
            writable ? button(t('trash.restore'), { icon: 'restore', kind: 'secondary', on: () => restore(it), attrs: { 'aria-label': t('trash.restoreNamed', { name: it.name }) } }) : null,
            manager ? button(t('trash.purgeNamed', { name: it.name }), { icon: 'trash', kind: 'danger-ghost', iconOnly: true, on: () => purge(it) }) : null))))))),
      r.total > PAGE ? h('nav.pager', { 'aria-label': t('audit.pages') },
        h('span.pager-info', t('audit.range', { from: number(offset + 1), to: number(offset + items.length), total: number(r.total) })),
        offset > 0 ? linkButton(t('trash.newer'), href('trash', wp, { offset: Math.max(0, offset - PAGE) || null }), { icon: 'chevronLeft' }) : null,
        offset + items.length < r.total ? linkButton(t('trash.older'), href('trash', wp, { offset: offset + PAGE }), { icon: 'chevronRight' }) : null) : null);
    } catch (e) {
      err.show(e);
      body.replaceChildren();
    }
  }

  await load();
  return h('section.page',
    h('header.page-head', crumbs(wp, '', wpInfo, { last: false }),
      h('div.page-title-row', h('div.page-title', h('h1', { tabindex: '-1' }, icon('trash', { size: 24 }), ' ', t('trash.heading')),
        h('p.page-sub', t('trash.sub'))),
      h('div.page-actions', linkButton(t('trash.back', { wp }), href('wp', wp), { icon: 'chevronLeft' })))),
    err, body);
}
