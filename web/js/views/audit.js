// Coordinators: the audit log with filters, paging and CSV export of
// everything that matches (the export is a plain download link, so it
// streams straight to disk).
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';
import { href, go } from '../router.js';
import { dateTime, fullDate, number } from '../format.js';
import { button, field, input, select, pageHeader, loading, empty, errorBox, linkButton, tableWrap } from '../ui.js';

const ACTIONS = ['login', 'login_failed', 'logout', 'password_change', 'password_change_failed', 'password_set', 'password_link',
  'totp_enable', 'totp_disable', 'totp_disable_failed', 'recovery_codes', 'recovery_codes_failed', 'token_create', 'token_revoke',
  'user_create', 'user_update', 'partner_create', 'wp_create', 'grant',
  'link_create', 'link_revoke', 'link_view', 'link_unlock', 'link_password_failed', 'link_download',
  'upload', 'download', 'folder_create', 'restore', 'move', 'rename', 'metadata', 'delete', 'restore_trash', 'purge',
  'deliverable_import', 'deliverable_update', 'review_start', 'review_decision', 'review_attachment', 'deliverable_submit'];
const PAGE = 50;

export default async function audit(ctx) {
  ctx.setTitle(t('nav.audit'));
  const p = ctx.params;
  const filters = { user: p.get('user') || '', wp: p.get('wp') || '', action: p.get('action') || '', since: p.get('since') || '', until: p.get('until') || '' };
  const offset = Math.max(0, Number(p.get('offset')) || 0);
  const err = errorBox();
  const body = h('div', loading());

  let wps = [];
  try { wps = (await get('/api/v1/wps')).wps || []; } catch { /* the filter then offers no list */ }

  const user = input({ type: 'search', name: 'user', value: filters.user, autocomplete: 'off', placeholder: 'name@example.org' });
  const wp = select([['', t('audit.allWps')], ...wps.map((w) => [w.code, w.code])], { name: 'wp', value: filters.wp });
  const action = select([['', t('audit.allActions')], ...ACTIONS.map((a) => [a, t(`action.${a}`)])], { name: 'action', value: filters.action });
  const since = input({ type: 'date', name: 'since', value: filters.since });
  const until = input({ type: 'date', name: 'until', value: filters.until });
  const form = h('form.filters', { 'aria-label': t('audit.filters') },
    field(t('audit.user'), user), field(t('audit.wp'), wp), field(t('audit.action'), action),
    field(t('audit.since'), since), field(t('audit.until'), until, { hint: t('audit.untilHint') }),
    h('div.filters-actions', button(t('audit.apply'), { kind: 'primary', type: 'submit' }),
      button(t('audit.clear'), { kind: 'ghost', on: () => go('#/admin/audit') })));
  const current = () => ({ user: user.value.trim(), wp: wp.value, action: action.value, since: since.value, until: until.value });
  form.addEventListener('submit', (e) => { e.preventDefault(); go(href('admin', 'audit', current())); });

  // `until` is inclusive in the form (a day), exclusive in the API.
  function apiParams(f) {
    const q = {};
    if (f.user) q.user = f.user;
    if (f.wp) q.wp = f.wp;
    if (f.action) q.action = f.action;
    if (f.since) q.since = f.since;
    if (f.until) {
      const d = new Date(`${f.until}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() + 1);
      q.until = d.toISOString().slice(0, 10);
    }
    return q;
  }
  const q = apiParams(filters);
  const csv = `/api/v1/audit?${new URLSearchParams({ ...q, format: 'csv' })}`;

  try {
    const r = await get('/api/v1/audit', { params: { ...q, limit: PAGE, offset } });
    const entries = r.entries || [];
    if (!entries.length) {
      mount(body, empty(t('audit.none'), t('audit.noneText')));
    } else {
      const pager = h('nav.pager', { 'aria-label': t('audit.pages') },
        h('span.pager-info', t('audit.range', { from: number(offset + 1), to: number(offset + entries.length), total: number(r.total) })),
        offset > 0 ? linkButton(t('audit.newer'), href('admin', 'audit', { ...filters, offset: Math.max(0, offset - PAGE) || null }), { icon: 'chevronLeft' }) : null,
        offset + entries.length < r.total ? linkButton(t('audit.older'), href('admin', 'audit', { ...filters, offset: offset + PAGE }), { icon: 'chevronRight' }) : null);
      mount(body, tableWrap(h('table.table.table-audit',
        h('caption.sr-only', t('nav.audit')),
        h('thead', h('tr', ['time', 'user', 'action', 'wp', 'object', 'detail', 'address'].map((c) => h('th', { scope: 'col', class: c === 'address' ? 'hide-sm' : null }, t(`audit.col.${c}`))))),
        h('tbody', entries.map((e) => h('tr', { class: /failed/.test(e.action) ? 'row-warn' : null },
          h('td.nowrap', h('time', { datetime: e.at, title: fullDate(e.at) }, dateTime(e.at))),
          h('td', e.user || h('span.muted', '—')),
          h('td', h('span.action', t(`action.${e.action}`) === `action.${e.action}` ? e.action : t(`action.${e.action}`))),
          h('td', e.wp || ''),
          h('td.break', e.object || ''),
          h('td.break', e.detail || ''),
          h('td.hide-sm.nowrap', e.address || '')))))), pager);
    }
  } catch (e) {
    err.show(e);
    body.replaceChildren();
  }
  return h('section.page.page-wide',
    pageHeader(t('nav.audit'), { sub: t('audit.sub'), actions: [linkButton(t('audit.export'), csv, { icon: 'download', download: true })] }),
    form, err, body);
}
