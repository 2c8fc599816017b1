// Coordinators: accounts. Create, edit, disable, set-password links,
// require or reset the second factor. Every change is confirmed and the
// row redrawn from the server's answer.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, patch, del, describe } from '../api.js';
import { session } from '../session.js';
import { dateTime } from '../format.js';
import { badge, button, dialog, confirm, field, input, select, toast, menuButton, copyText, pageHeader, loading, empty, errorBox, tableWrap } from '../ui.js';

async function partners() {
  if (!session.partners) session.partners = (await get('/api/v1/partners')).partners || [];
  return session.partners;
}

function linkDialog(link) {
  return dialog({
    title: t('users.linkTitle'),
    wide: true,
    build: () => {
      const box = input({ value: link.url, readonly: true, 'aria-label': t('users.linkLabel') });
      box.addEventListener('focus', () => box.select());
      return h('div.stack',
        h('p', t('users.linkText', { email: link.email, expires: dateTime(link.expires_at) })),
        h('div.copy-row', box, button(t('common.copy'), { icon: 'copy', on: () => copyText(link.url) })),
        h('p.muted', t('users.linkNote')));
    },
  });
}

export async function makeLink(user) {
  const link = await post(`/api/v1/users/${user.id}/password-link`);
  await linkDialog(link);
}

async function userForm(existing) {
  const ps = await partners();
  const email = input({ type: 'email', name: 'email', required: true, autocomplete: 'off', value: existing?.email || '', disabled: !!existing });
  const name = input({ name: 'name', required: true, autocomplete: 'off', value: existing?.name || '' });
  const partner = select(ps.map((p) => [p.short, `${p.short} — ${p.name}`]), { name: 'partner', value: existing?.partner || ps[0]?.short });
  const coord = h('input', { type: 'checkbox', name: 'coordinator', checked: !!existing?.coordinator, id: 'user-coord', 'aria-describedby': 'user-coord-hint' });
  const fields = [field(t('users.email'), email), field(t('users.name'), name), field(t('users.partner'), partner)];
  return dialog({
    title: existing ? t('users.editTitle', { name: existing.name }) : t('users.createTitle'),
    build: () => h('div.stack', existing ? fields.slice(1) : fields,
      h('div.check', coord, h('label', { for: 'user-coord' }, t('users.coordinator')), h('p.check-hint', { id: 'user-coord-hint' }, t('users.coordinatorHint')))),
    submitLabel: existing ? t('common.save') : t('users.create'),
    submit: async () => {
      fields.forEach((f) => f.setError(null));
      if (!existing && !email.value.trim()) { fields[0].setError(t('form.required')); email.focus(); return false; }
      if (!name.value.trim()) { fields[1].setError(t('form.required')); name.focus(); return false; }
      if (!ps.length) throw new Error(t('users.noPartners'));
      if (existing) {
        const body = {};
        if (name.value.trim() !== existing.name) body.name = name.value.trim();
        if (partner.value !== existing.partner) body.partner = partner.value;
        if (coord.checked !== existing.coordinator) body.coordinator = coord.checked;
        if (!Object.keys(body).length) return null;
        return (await patch(`/api/v1/users/${existing.id}`, body)).user;
      }
      return (await post('/api/v1/users', { email: email.value.trim(), name: name.value.trim(), partner: partner.value, coordinator: coord.checked })).user;
    },
  });
}

// People who signed in through an OpenID provider and wait for a
// coordinator: approve with a partner (the provider's organisation
// claim may have suggested one), or refuse.
async function signupsSection(onApproved) {
  const box = h('div');
  let list;
  try {
    list = (await get('/api/v1/signups')).signups || [];
  } catch (e) {
    return null;
  }
  async function approve(p) {
    const ps = await partners();
    const partner = select(ps.map((x) => [x.short, `${x.short} — ${x.name}`]), { name: 'partner', value: p.partner || ps[0]?.short });
    const u = await dialog({
      title: t('signups.approveTitle', { name: p.name }),
      build: () => h('div.stack', h('p', p.email), field(t('users.partner'), partner)),
      submitLabel: t('signups.approve'),
      submit: async () => post(`/api/v1/signups/${p.id}/approve`, { partner: partner.value }),
    });
    if (!u) return;
    list = list.filter((x) => x.id !== p.id);
    draw();
    toast(t('signups.approved', { name: u.name }));
    onApproved(u);
  }
  async function refuse(p) {
    if (!await confirm({ title: t('signups.refuseTitle', { name: p.name }), text: t('signups.refuseText'), confirmLabel: t('signups.refuse'), danger: true })) return;
    try {
      await del(`/api/v1/signups/${p.id}`);
      list = list.filter((x) => x.id !== p.id);
      draw();
      toast(t('signups.refused', { name: p.name }));
    } catch (e) {
      toast(describe(e), { kind: 'error' });
    }
  }
  function draw() {
    if (!list.length) { box.replaceChildren(); return; }
    mount(box, h('section.signups', h('h2', t('signups.title')), h('p.muted', t('signups.text')),
      tableWrap(h('table.table',
        h('caption.sr-only', t('signups.title')),
        h('thead', h('tr', h('th', { scope: 'col' }, t('users.person')), h('th.hide-sm', { scope: 'col' }, t('signups.requested')),
          h('th.col-actions', { scope: 'col' }, h('span.sr-only', t('common.actions'))))),
        h('tbody', list.map((p) => h('tr',
          h('td', h('div.person', h('span.person-name', p.name), h('span.person-email', p.email),
            h('span.muted', [t('signups.via', { provider: p.provider_title }), p.organisation ? ` · ${t('signups.org', { org: p.organisation })}` : ''].join('')))),
          h('td.hide-sm', dateTime(p.requested)),
          h('td.col-actions', h('div.btn-row',
            button(t('signups.approve'), { kind: 'primary', on: () => approve(p).catch((e) => toast(describe(e), { kind: 'error' })) }),
            button(t('signups.refuse'), { on: () => refuse(p) }))))))))));
  }
  draw();
  return box;
}

export default async function users(ctx) {
  ctx.setTitle(t('nav.users'));
  const body = h('div', loading());
  const filter = input({ type: 'search', placeholder: t('users.filter'), 'aria-label': t('users.filter'), class: 'input input-filter' });
  const err = errorBox();
  let list = [];

  const status = (u) => [
    u.disabled ? badge(t('users.disabled'), 'muted') : badge(t('users.active'), 'ok'),
    u.coordinator ? badge(t('users.coordinatorBadge'), 'accent') : null,
    !u.has_password && !u.disabled ? badge(t('users.noPassword'), 'warn') : null,
  ];
  const twofa = (u) => (u.totp_enabled ? badge(t('users.tfaOn'), 'ok') : u.totp_required ? badge(t('users.tfaPending'), 'warn') : h('span.muted', t('users.tfaOff')));

  async function change(u, body, msg) {
    try {
      const r = await patch(`/api/v1/users/${u.id}`, body);
      Object.assign(u, r.user);
      toast(msg);
      draw();
    } catch (e) {
      toast(describe(e), { kind: 'error' });
    }
  }

  function actions(u) {
    return menuButton(t('users.actionsFor', { name: u.name }), () => [
      [t('users.edit'), 'edit', async () => { const r = await userForm(u); if (r) { Object.assign(u, r); toast(t('users.saved', { name: u.name })); draw(); } }],
      !u.disabled ? [t('users.makeLink'), 'link', () => makeLink(u).catch((e) => toast(describe(e), { kind: 'error' }))] : null,
      !u.totp_required ? [t('users.requireTfa'), 'lock', () => change(u, { totp_required: true }, t('users.tfaRequired', { name: u.name }))]
        : [t('users.unrequireTfa'), 'lock', () => change(u, { totp_required: false }, t('users.tfaNotRequired', { name: u.name }))],
      u.totp_enabled ? [t('users.resetTfa'), 'refresh', async () => {
        if (await confirm({ title: t('users.resetTfaTitle'), text: t('users.resetTfaText', { name: u.name }), confirmLabel: t('users.resetTfa'), danger: true })) change(u, { totp_reset: true }, t('users.tfaReset', { name: u.name }));
      }] : null,
      u.disabled ? [t('users.enable'), 'check', () => change(u, { disabled: false }, t('users.enabled', { name: u.name }))]
        : [t('users.disable'), 'x', async () => {
          if (await confirm({ title: t('users.disableTitle'), text: t('users.disableText', { name: u.name }), confirmLabel: t('users.disable'), danger: true })) change(u, { disabled: true }, t('users.disabledMsg', { name: u.name }));
        }, { danger: true }],
    ]);
  }

  function draw() {
    const q = filter.value.trim().toLowerCase();
    const rows = list.filter((u) => !q || `${u.name} ${u.email} ${u.partner}`.toLowerCase().includes(q));
    if (!list.length) { mount(body, empty(t('users.none'), t('users.noneText'))); return; }
    mount(body, tableWrap(h('table.table',
      h('caption.sr-only', t('nav.users')),
      h('thead', h('tr', h('th', { scope: 'col' }, t('users.person')), h('th.hide-sm', { scope: 'col' }, t('users.partner')),
        h('th.hide-sm', { scope: 'col' }, t('users.status')), h('th.hide-sm', { scope: 'col' }, t('users.tfa')), h('th.col-actions', { scope: 'col' }, h('span.sr-only', t('common.actions'))))),
      h('tbody', rows.map((u) => h('tr', { class: u.disabled ? 'row-muted' : null },
        h('td', h('div.person', h('span.person-name', u.name), h('span.person-email', u.email), h('div.badges.show-sm', status(u)))),
        h('td.hide-sm', u.partner),
        h('td.hide-sm', h('div.badges', status(u))),
        h('td.hide-sm', twofa(u)),
        h('td.col-actions', actions(u))))))),
    rows.length ? null : h('p.muted.pad', t('common.noMatch')));
  }

  filter.addEventListener('input', draw);
  const create = button(t('users.create'), { icon: 'plus', kind: 'primary', on: async () => {
    const u = await userForm(null);
    if (!u) return;
    list.push(u);
    list.sort((a, b) => a.email.localeCompare(b.email));
    draw();
    toast(t('users.created', { name: u.name }));
    if (await confirm({ title: t('users.linkNowTitle'), text: t('users.linkNowText', { name: u.name }), confirmLabel: t('users.makeLink') })) {
      makeLink(u).catch((e) => toast(describe(e), { kind: 'error' }));
    }
  } });

  try {
    list = (await get('/api/v1/users')).users || [];
    draw();
  } catch (e) {
    err.show(e);
    body.replaceChildren();
  }
  const signups = await signupsSection((u) => {
    list.push(u);
    list.sort((a, b) => a.email.localeCompare(b.email));
    draw();
  });
  return h('section.page', pageHeader(t('nav.users'), { actions: [create], sub: t('users.sub') }),
    signups, h('div.toolbar', filter), err, body);
}
