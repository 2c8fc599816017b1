// Coordinators: partner institutions.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { session } from '../session.js';
import { button, dialog, field, input, toast, pageHeader, loading, empty, errorBox, tableWrap } from '../ui.js';

export default async function partners(ctx) {
  ctx.setTitle(t('nav.partners'));
  const body = h('div', loading());
  const err = errorBox();
  let list = [];

  function draw() {
    if (!list.length) { mount(body, empty(t('partners.none'), t('partners.noneText'))); return; }
    mount(body, tableWrap(h('table.table',
      h('caption.sr-only', t('nav.partners')),
      h('thead', h('tr', h('th', { scope: 'col' }, t('partners.short')), h('th', { scope: 'col' }, t('partners.name')), h('th', { scope: 'col' }, t('partners.country')))),
      h('tbody', list.map((p) => h('tr', h('td', h('span.code', p.short)), h('td', p.name), h('td', p.country)))))));
  }

  const create = button(t('partners.create'), { icon: 'plus', kind: 'primary', on: async () => {
    const short = input({ name: 'short', required: true, autocomplete: 'off', maxlength: '32' });
    const name = input({ name: 'name', required: true, autocomplete: 'off' });
    const country = input({ name: 'country', required: true, autocomplete: 'off', maxlength: '2', class: 'input input-short' });
    const fs = [field(t('partners.short'), short, { hint: t('partners.shortHint') }), field(t('partners.name'), name), field(t('partners.country'), country, { hint: t('partners.countryHint') })];
    const p = await dialog({
      title: t('partners.createTitle'),
      build: () => h('div.stack', fs),
      submitLabel: t('partners.create'),
      submit: async () => {
        fs.forEach((f) => f.setError(null));
        let bad = false;
        [[short, 0], [name, 1], [country, 2]].forEach(([el, i]) => { if (!el.value.trim()) { fs[i].setError(t('form.required')); bad = true; } });
        if (!bad && !/^[A-Za-z]{2}$/.test(country.value.trim())) { fs[2].setError(t('partners.countryHint')); bad = true; }
        if (bad) { body.ownerDocument.querySelector('dialog [aria-invalid=true]')?.focus(); return false; }
        return (await post('/api/v1/partners', { short: short.value.trim(), name: name.value.trim(), country: country.value.trim() })).partner;
      },
    });
    if (!p) return;
    list.push(p);
    list.sort((a, b) => a.short.localeCompare(b.short));
    session.partners = null;
    draw();
    toast(t('partners.created', { short: p.short }));
  } });

  try {
    list = (await get('/api/v1/partners')).partners || [];
    session.partners = list;
    draw();
  } catch (e) {
    err.show(e);
    body.replaceChildren();
  }
  return h('section.page', pageHeader(t('nav.partners'), { actions: [create], sub: t('partners.sub') }), err, body);
}
