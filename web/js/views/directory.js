// The directory (#/directory, #/directory/SHORT): the consortium in
// numbers, its key contacts, partners grouped by country with filters by
// type and work package, and a page per partner with its work packages
// (and which it leads) and its people with their roles.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, api, patch, put } from '../api.js';
import { isCoordinator } from '../session.js';
import { href, go } from '../router.js';
import { badge, empty, errorBox, loading, pageHeader, select, field, toast, button, dialog, input } from '../ui.js';

const TYPES = ['hospital', 'cancer_centre', 'university', 'public_health', 'patient_org', 'ministry', 'company', 'other'];

export function countryName(cc) {
  try { return new Intl.DisplayNames(['en'], { type: 'region' }).of(cc) || cc; } catch { return cc; }
}

// "4 partners in 3 countries; 2 hospitals, 1 university …"
function summary(c) {
  const kinds = TYPES.filter((k) => c.types[k]).map((k) => t(`dir.typeCount.${k}`, { n: c.types[k] }));
  return `${t('dir.partnersIn', { n: c.partners, c: c.countries })}${kinds.length ? `; ${kinds.join(', ')}` : ''}.`;
}

const ROLES = ['coordinator', 'beneficiary', 'affiliated', 'associated'];

// Coordinators: a partner's directory fields.
async function editPartner(p) {
  const type = select(TYPES.map((k) => [k, t(`dir.type.${k}`)]), { value: p.type, name: 'type' });
  const role = select(ROLES.map((k) => [k, t(`dir.role.${k}`)]), { value: p.role, name: 'role' });
  const city = input({ name: 'city', value: p.city, maxlength: '100', autocomplete: 'off' });
  const website = input({ name: 'website', type: 'url', value: p.website, maxlength: '500', autocomplete: 'off' });
  const description = h('textarea.input.textarea', { name: 'description', maxlength: '2000' }, p.description);
  const fs = [field(t('dir.filterType'), type), field(t('dir.roleField'), role), field(t('dir.city'), city),
    field(t('dir.website'), website, { hint: t('dir.websiteHint') }), field(t('dir.description'), description)];
  return dialog({
    title: t('dir.editTitle', { name: p.name }),
    wide: true,
    build: () => h('div.stack', fs),
    submit: async () => {
      fs[3].setError(null);
      try {
        return (await patch(`/api/v1/partners/${encodeURIComponent(p.short)}`, {
          type: type.value, role: role.value, city: city.value.trim(), website: website.value.trim(), description: description.value.trim(),
        })).partner;
      } catch (e) { if (e.status === 400) { fs[3].setError(e.detail); return false; } throw e; }
    },
  });
}

// Coordinators: a person's role line and contact roles.
async function editRoles(x) {
  const line = input({ name: 'role_line', value: x.role_line, maxlength: '200', autocomplete: 'off' });
  const roles = input({ name: 'contact_roles', value: x.contact_roles.join(', '), autocomplete: 'off' });
  const fs = [field(t('dir.roleLine'), line), field(t('dir.contactRoles'), roles, { hint: t('dir.contactRolesHint') })];
  return dialog({
    title: t('dir.rolesTitle', { name: x.name }),
    build: () => h('div.stack', fs),
    submit: async () => {
      const list = roles.value.split(',').map((r) => r.trim()).filter(Boolean);
      try {
        await put(`/api/v1/users/${x.id}/roles`, { role_line: line.value.trim(), contact_roles: list });
      } catch (e) { if (e.status === 400) { fs[1].setError(e.detail); return false; } throw e; }
      return true;
    },
  });
}

function person(p, { withPartner = false, onEdit } = {}) {
  return h('li.person',
    h('p.person-name', p.name, withPartner ? h('span.muted', ` · ${p.partner}`) : null),
    p.role_line ? h('p.person-line', p.role_line) : null,
    p.contact_roles.length ? h('p.person-roles', p.contact_roles.map((r) => badge(r, 'accent'))) : null,
    h('p.person-mail', h('a', { href: `mailto:${p.email}` }, p.email)),
    onEdit ? button(t('dir.editRoles', { name: p.name }), { icon: 'edit', kind: 'ghost', iconOnly: true, on: () => onEdit(p) }) : null);
}

function wpList(wps) {
  if (!wps.length) return null;
  return h('p.partner-wps', wps.map((w) => h('a.wp-chip', { href: href('wp', w.code), title: w.title },
    h('span.wp-code', w.code), w.lead ? h('span.lead-mark', t('dir.lead')) : null)));
}

function partnerCard(p) {
  return h('li.partner-card',
    p.logo ? h('img.partner-logo', { src: p.logo, alt: '', loading: 'lazy' }) : null,
    h('h3', h('a', { href: href('directory', p.short) }, p.name), ' ', h('span.code', p.short)),
    h('p.partner-meta', [t(`dir.type.${p.type}`), p.city, t(`dir.role.${p.role}`)].filter(Boolean).join(' · ')),
    wpList(p.wps),
    p.people.length ? h('p.partner-people', t('dir.people', { n: p.people.length })) : null);
}

async function partnerPage(ctx, short) {
  const { partner: p } = await get(`/api/v1/partners/${encodeURIComponent(short)}`);
  ctx.setTitle(p.name);
  let logoEdit = null;
  if (isCoordinator()) {
    const file = h('input.input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp,image/svg+xml' });
    const f = field(t('dir.logoUpload'), file, { hint: t('dir.logoHint') });
    file.addEventListener('change', async () => {
      f.setError(null);
      if (!file.files[0]) return;
      try {
        await api('PUT', `/api/v1/partners/${encodeURIComponent(p.short)}/logo`, { body: file.files[0], headers: { 'Content-Type': 'application/octet-stream' } });
        toast(t('dir.logoSaved'));
        location.hash = `${location.hash.split('?')[0]}?v=${Date.now()}`; // drawn again with the logo
      } catch (e) { f.setError(e.detail || String(e)); }
    });
    logoEdit = f;
  }
  const reload = () => { location.hash = `${location.hash.split('?')[0]}?v=${Date.now()}`; };
  const actions = isCoordinator() ? [button(t('dir.edit'), { icon: 'edit', on: async () => { if (await editPartner(p)) { toast(t('dir.saved')); reload(); } } })] : null;
  const onEdit = isCoordinator() ? async (x) => { if (await editRoles(x)) { toast(t('dir.saved')); reload(); } } : null;
  return h('section.page.directory-page',
    p.logo ? h('img.partner-logo-large', { src: p.logo, alt: t('dir.logoOf', { name: p.name }) }) : null,
    pageHeader(p.name, { actions, crumbs: h('nav.crumbs', { 'aria-label': t('dir.crumbs') }, h('ol', h('li', h('a', { href: href('directory') }, t('nav.directory'))), h('li', { 'aria-current': 'page' }, p.short))), sub: [t(`dir.type.${p.type}`), p.city, countryName(p.country), t(`dir.role.${p.role}`)].filter(Boolean).join(' · ') }),
    p.description ? h('p.partner-description', p.description) : null,
    p.website ? h('p', h('a', { href: p.website, rel: 'noopener noreferrer', target: '_blank' }, p.website)) : null,
    logoEdit,
    h('section.section', { 'aria-labelledby': 'p-wps' },
      h('div.section-head', h('h2', { id: 'p-wps' }, t('dir.workPackages'))),
      p.wps.length ? h('ul.plain-list', p.wps.map((w) => h('li', h('a', { href: href('wp', w.code) }, h('span.wp-code', w.code), ` ${w.title}`),
        w.lead ? [' ', badge(t('dir.leads'), 'accent')] : null))) : h('p.muted', t('dir.noWps'))),
    h('section.section', { 'aria-labelledby': 'p-people' },
      h('div.section-head', h('h2', { id: 'p-people' }, t('dir.peopleHeading'))),
      p.people.length ? h('ul.people-grid', p.people.map((x) => person(x, { onEdit }))) : h('p.muted', t('dir.noPeople'))));
}

export default async function directory(ctx) {
  const short = ctx.segments[1];
  if (short) return partnerPage(ctx, short);
  ctx.setTitle(t('nav.directory'));
  const type = ctx.params.get('type') || '';
  const wp = ctx.params.get('wp') || '';
  const err = errorBox();
  const body = h('div', loading());
  let d;
  try {
    d = await get('/api/v1/directory', { params: { type: type || undefined, wp: wp || undefined } });
  } catch (e) {
    err.show(e);
    body.replaceChildren();
    return h('section.page', pageHeader(t('nav.directory')), err, body);
  }
  const typeSel = select([['', t('dir.anyType')], ...TYPES.filter((k) => d.counts.types[k]).map((k) => [k, t(`dir.type.${k}`)])], { value: type, name: 'type' });
  const wpCodes = [...new Set(d.partners.flatMap((p) => p.wps.map((w) => w.code)))].sort();
  if (wp && !wpCodes.includes(wp)) wpCodes.push(wp);
  const wpSel = select([['', t('dir.anyWp')], ...wpCodes.map((c) => [c, c])], { value: wp, name: 'wp' });
  const refilter = () => go(href('directory', { type: typeSel.value, wp: wpSel.value }));
  typeSel.addEventListener('change', refilter);
  wpSel.addEventListener('change', refilter);

  const byCountry = new Map();
  for (const p of d.partners) {
    if (!byCountry.has(p.country)) byCountry.set(p.country, []);
    byCountry.get(p.country).push(p);
  }
  const groups = [...byCountry.entries()].map(([cc, ps]) => [countryName(cc), ps]).sort((a, b) => a[0].localeCompare(b[0]));
  mount(body,
    d.key_contacts.length ? h('section.section', { 'aria-labelledby': 'dir-keys' },
      h('div.section-head', h('h2', { id: 'dir-keys' }, t('dir.keyContacts'))),
      h('ul.people-grid', d.key_contacts.map((p) => person(p, { withPartner: true })))) : null,
    h('section.section', { 'aria-labelledby': 'dir-partners' },
      h('div.section-head', h('h2', { id: 'dir-partners' }, t('dir.partnersHeading')),
        h('div.filters', field(t('dir.filterType'), typeSel, { cls: 'field-inline' }), field(t('dir.filterWp'), wpSel, { cls: 'field-inline' }))),
      groups.length ? groups.map(([name, ps]) => h('section.country', { 'aria-label': name },
        h('h3.country-name', name, h('span.count', String(ps.length))),
        h('ul.partner-grid', ps.map(partnerCard))))
        : empty(t('dir.noneTitle'), t('dir.noneText'))));
  return h('section.page.directory-page', pageHeader(t('nav.directory'), { sub: summary(d.counts) }), err, body);
}
