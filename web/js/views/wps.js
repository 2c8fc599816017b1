// Coordinators: work packages.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { href } from '../router.js';
import { session, emit } from '../session.js';
import { date } from '../format.js';
import { icon } from '../icons.js';
import { button, dialog, field, input, select, toast, pageHeader, loading, empty, errorBox, linkButton, tableWrap } from '../ui.js';

export default async function wps(ctx) {
  ctx.setTitle(t('nav.wps'));
  const body = h('div', loading());
  const err = errorBox();
  let list = [];

  function draw() {
    if (!list.length) { mount(body, empty(t('wps.none'), t('wps.noneText'))); return; }
    mount(body, tableWrap(h('table.table',
      h('caption.sr-only', t('nav.wps')),
      h('thead', h('tr', h('th', { scope: 'col' }, t('wps.code')), h('th', { scope: 'col' }, t('wps.title')),
        h('th.hide-sm', { scope: 'col' }, t('wps.lead')), h('th.hide-sm', { scope: 'col' }, t('wps.created')), h('th.col-actions', { scope: 'col' }, h('span.sr-only', t('common.actions'))))),
      h('tbody', list.map((w) => h('tr',
        h('td', h('a.code', { href: href('wp', w.code) }, w.code)), h('td', w.title), h('td.hide-sm', w.lead || h('span.muted', '—')),
        h('td.hide-sm', date(w.created_at)),
        h('td.col-actions', h('a.btn.btn-ghost', { href: href('admin', 'access', { wp: w.code }), title: t('wps.accessFor', { code: w.code }) }, icon('shield', { size: 18 }), h('span.hide-sm', { 'aria-hidden': 'true' }, t('wps.access')), h('span.sr-only', t('wps.accessFor', { code: w.code }))))))))));
  }

  const create = button(t('wps.create'), { icon: 'plus', kind: 'primary', on: async () => {
    if (!session.partners) session.partners = (await get('/api/v1/partners')).partners || [];
    const code = input({ name: 'code', required: true, autocomplete: 'off', maxlength: '32', placeholder: 'WP7' });
    const title = input({ name: 'title', required: true, autocomplete: 'off' });
    const lead = select([['', t('wps.noLead')], ...session.partners.map((p) => [p.short, `${p.short} — ${p.name}`])], { name: 'lead' });
    const fs = [field(t('wps.code'), code, { hint: t('wps.codeHint') }), field(t('wps.title'), title), field(t('wps.lead'), lead)];
    const w = await dialog({
      title: t('wps.createTitle'),
      build: () => h('div.stack', fs),
      submitLabel: t('wps.create'),
      submit: async () => {
        fs.forEach((f) => f.setError(null));
        if (!code.value.trim()) { fs[0].setError(t('form.required')); code.focus(); return false; }
        if (!title.value.trim()) { fs[1].setError(t('form.required')); title.focus(); return false; }
        const b = { code: code.value.trim(), title: title.value.trim() };
        if (lead.value) b.lead = lead.value;
        return (await post('/api/v1/wps', b)).wp;
      },
    });
    if (!w) return;
    list.push(w);
    list.sort((a, b) => a.code.localeCompare(b.code, undefined, { numeric: true }));
    draw();
    emit('wpsChanged');
    toast(t('wps.created', { code: w.code }));
  } });

  try {
    list = (await get('/api/v1/wps')).wps || [];
    draw();
  } catch (e) {
    err.show(e);
    body.replaceChildren();
  }
  return h('section.page', pageHeader(t('nav.wps'), { actions: [create], sub: t('wps.sub') }), err, body);
}
