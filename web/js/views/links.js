// Share links overview (#/admin/links, docs/links.md): coordinators see
// every link of the consortium, managers those of their work packages
// and their own: what is shared, by whom, until when, how often used and
// when last; each can be revoked, and the list exported as CSV (a plain
// download link).
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, del } from '../api.js';
import { href, go } from '../router.js';
import { dateTime, fullDate, number } from '../format.js';
import { button, field, select, pageHeader, loading, empty, errorBox, linkButton, tableWrap, confirm, toast, badge } from '../ui.js';

export default async function links(ctx) {
  ctx.setTitle(t('nav.links'));
  const state = ctx.params.get('state') === 'all' ? 'all' : 'live';
  const err = errorBox();
  const body = h('div', loading());
  const which = select([['live', t('links.stateLive')], ['all', t('links.stateAll')]], { name: 'state', value: state });
  which.addEventListener('change', () => go(href('admin', 'links', { state: which.value === 'all' ? 'all' : null })));
  const csv = `/api/v1/links?${new URLSearchParams({ state, format: 'csv' })}`;

  async function show() {
    let list;
    try {
      list = (await get('/api/v1/links', { params: { state } })).links;
    } catch (e) {
      err.show(e);
      body.replaceChildren();
      return;
    }
    if (!list.length) { mount(body, empty(t('links.none'), t('links.noneText'))); return; }
    mount(body, tableWrap(h('table.table',
      h('caption.sr-only', t('nav.links')),
      h('thead', h('tr', ['what', 'creator', 'expires', 'uses', 'lastUse', 'state'].map((c) => h('th', { scope: 'col' }, t(`links.${c}`))),
        h('th', { scope: 'col' }, h('span.sr-only', t('common.actions'))))),
      h('tbody', list.map((l) => h('tr',
        h('td.break', `${l.wp}/${l.path || ''}`, l.version ? ` (${t('share.version', { n: l.version })})` : '',
          l.kind === 'drop' ? h('span', ' ', badge(t('links.drop'))) : null,
          l.password ? h('span', ' ', badge(t('links.password'))) : null,
          l.note ? h('div.field-hint', l.note) : null),
        h('td', l.creator.name || l.creator.email),
        h('td.nowrap', h('time', { datetime: l.expires_at, title: fullDate(l.expires_at) }, dateTime(l.expires_at))),
        h('td', (l.max_downloads || l.max_files) ? `${number(l.uses)} / ${number(l.max_downloads || l.max_files)}` : number(l.uses)),
        h('td.nowrap', l.last_used_at ? dateTime(l.last_used_at) : '—'),
        h('td', t(`links.state.${l.state}`)),
        h('td', l.state === 'live' ? button(t('links.revoke'), { kind: 'danger', on: async () => {
          if (!await confirm({ title: t('links.revokeTitle'), text: t('links.revokeText'), confirmLabel: t('links.revoke'), danger: true })) return;
          try { await del(`/api/v1/links/${l.id}`); toast(t('links.revoked')); show(); } catch (e) { err.show(e); }
        } }) : null)))))));
  }
  show();
  return h('section.page.page-wide',
    pageHeader(t('nav.links'), { sub: t('links.sub'), actions: [linkButton(t('links.export'), csv, { icon: 'download', download: true })] }),
    h('div.filters', field(t('links.show'), which)), err, body);
}
