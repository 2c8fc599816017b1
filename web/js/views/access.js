// Who may do what: a matrix of partners (and, below, individual
// people) against work packages, each cell a level that is saved the
// moment it changes. Coordinators see every work package; a work
// package lead sees those they manage.
import { h, mount, id as newId } from '../dom.js';
import { t } from '../i18n.js';
import { get, put, describe } from '../api.js';
import { href, go } from '../router.js';
import { icon } from '../icons.js';
import { session, isCoordinator, emit } from '../session.js';
import { levelName } from '../format.js';
import { button, dialog, field, input, select, toast, pageHeader, loading, empty, errorBox, tableWrap } from '../ui.js';

const LEVELS = ['none', 'read', 'write', 'manage'];

export default async function access(ctx) {
  ctx.setTitle(t('nav.access'));
  const err = errorBox();
  const body = h('div', loading());
  const live = h('p.sr-only', { role: 'status', 'aria-live': 'polite' });
  const only = ctx.params.get('wp');
  let wps = [];
  let partners = [];
  let users = null;
  const grants = new Map(); // wp code -> {partners: Map, users: Map(email -> {name, partner, level})}

  function levelSelect(label, level, onChange) {
    const s = select(LEVELS.map((l) => [l, l === 'none' ? '—' : levelName(l)]), { value: level || 'none', 'aria-label': label, class: `input level-select level-${level || 'none'}` });
    let previous = s.value;
    s.addEventListener('change', async () => {
      const cell = s.closest('td');
      cell.classList.remove('saved', 'failed');
      cell.classList.add('saving');
      s.disabled = true;
      try {
        await onChange(s.value, previous);
        s.className = `input level-select level-${s.value}`;
        previous = s.value;
        cell.classList.add('saved');
        live.textContent = t('access.savedLive', { what: label, level: levelName(s.value) });
        setTimeout(() => cell.classList.remove('saved'), 2000);
      } catch (e) {
        s.value = previous;
        cell.classList.add('failed');
        toast(describe(e), { kind: 'error' });
      } finally {
        cell.classList.remove('saving');
        s.disabled = false;
        s.focus();
      }
    });
    return s;
  }

  async function setGrant(wp, subject, level) {
    const r = await put(`/api/v1/wps/${encodeURIComponent(wp)}/grants`, { ...subject, level });
    const g = grants.get(wp);
    if (subject.partner) {
      if (level === 'none') g.partners.delete(subject.partner); else g.partners.set(subject.partner, level);
    } else {
      const u = g.users.get(subject.user) || { email: subject.user };
      if (level === 'none') g.users.delete(subject.user); else g.users.set(subject.user, { ...u, level });
    }
    if (session.wps.some((w) => w.code === wp)) emit('wpsChanged');
    return r;
  }

  function cols() {
    return wps.map((w) => h('th', { scope: 'col', class: 'matrix-col' }, h('a', { href: href('wp', w.code), title: w.title }, w.code)));
  }

  function partnerMatrix() {
    if (!partners.length) return empty(t('access.noPartners'), null);
    return tableWrap(h('table.table.matrix',
      h('caption.sr-only', t('access.partnersCaption')),
      h('thead', h('tr', h('th', { scope: 'col', class: 'matrix-corner' }, t('access.partner')), cols())),
      h('tbody', partners.map((p) => h('tr',
        h('th', { scope: 'row' }, h('span.code', p.short), h('span.matrix-sub', p.name)),
        wps.map((w) => h('td.matrix-cell', levelSelect(t('access.cellLabel', { who: p.short, wp: w.code }), grants.get(w.code).partners.get(p.short),
          (level) => setGrant(w.code, { partner: p.short }, level)), h('span.cell-state', { 'aria-hidden': 'true' }, icon('check', { size: 14 })))))))));
  }

  function userMatrix() {
    const people = new Map();
    for (const w of wps) for (const [email, u] of grants.get(w.code).users) if (!people.has(email)) people.set(email, u);
    const list = [...people.values()].sort((a, b) => a.email.localeCompare(b.email));
    if (!list.length) return h('p.muted', t('access.noUserGrants'));
    return tableWrap(h('table.table.matrix',
      h('caption.sr-only', t('access.usersCaption')),
      h('thead', h('tr', h('th', { scope: 'col', class: 'matrix-corner' }, t('access.person')), cols())),
      h('tbody', list.map((u) => h('tr',
        h('th', { scope: 'row' }, h('span.person-name', u.name || u.email), h('span.matrix-sub', u.email)),
        wps.map((w) => h('td.matrix-cell', levelSelect(t('access.cellLabel', { who: u.name || u.email, wp: w.code }), grants.get(w.code).users.get(u.email)?.level,
          async (level) => { await setGrant(w.code, { user: u.email }, level); if (level === 'none') setTimeout(draw, 1200); }), h('span.cell-state', { 'aria-hidden': 'true' }, icon('check', { size: 14 })))))))));
  }

  async function addPerson() {
    if (isCoordinator() && !users) {
      try { users = (await get('/api/v1/users')).users || []; } catch { users = []; }
    }
    const listId = newId('people');
    const email = input({ type: 'email', name: 'email', required: true, autocomplete: 'off', list: users?.length ? listId : null });
    const wp = select(wps.map((w) => [w.code, `${w.code} — ${w.title}`]), { name: 'wp', value: only || wps[0]?.code });
    const level = select(LEVELS.slice(1).map((l) => [l, levelName(l)]), { name: 'level', value: 'read' });
    const fs = [field(t('access.email'), email, { hint: t('access.emailHint') }), field(t('access.wp'), wp), field(t('access.level'), level)];
    const done = await dialog({
      title: t('access.addPerson'),
      build: () => h('div.stack', fs, users?.length ? h('datalist', { id: listId }, users.filter((u) => !u.disabled).map((u) => h('option', { value: u.email }, u.name))) : null),
      submitLabel: t('access.grant'),
      submit: async () => {
        fs[0].setError(null);
        if (!email.value.trim()) { fs[0].setError(t('form.required')); email.focus(); return false; }
        const e = email.value.trim();
        const u = users?.find((x) => x.email.toLowerCase() === e.toLowerCase());
        await setGrant(wp.value, { user: e }, level.value);
        const g = grants.get(wp.value).users.get(e);
        if (g && u) Object.assign(g, { name: u.name, partner: u.partner });
        return { email: e, wp: wp.value, level: level.value };
      },
    });
    if (done) {
      toast(t('access.granted', { who: done.email, level: levelName(done.level), wp: done.wp }));
      draw();
    }
  }

  function draw() {
    if (!wps.length) { mount(body, empty(t('access.noWps'), null)); return; }
    mount(body,
      only ? h('p.filter-note', t('access.onlyWp', { wp: only }), ' ', h('a', { href: '#/admin/access' }, t('access.showAll'))) : null,
      h('section.section', { 'aria-labelledby': 'acc-partners' },
        h('div.section-head', h('h2', { id: 'acc-partners' }, t('access.partners')), h('p.section-sub', t('access.partnersSub'))),
        partnerMatrix()),
      h('section.section', { 'aria-labelledby': 'acc-users' },
        h('div.section-head', h('h2', { id: 'acc-users' }, t('access.people')), h('p.section-sub', t('access.peopleSub')),
          button(t('access.addPerson'), { icon: 'plus', on: addPerson })),
        userMatrix()));
  }

  try {
    const all = isCoordinator() ? (await get('/api/v1/wps')).wps : session.wps.filter((w) => w.level === 'manage');
    wps = (all || []).filter((w) => !only || w.code.toLowerCase() === only.toLowerCase());
    if (only && !wps.length) { go('#/admin/access', { replace: true }); return h('div'); }
    partners = (await get('/api/v1/partners')).partners || [];
    await Promise.all(wps.map(async (w) => {
      const r = await get(`/api/v1/wps/${encodeURIComponent(w.code)}/grants`);
      const g = { partners: new Map(), users: new Map() };
      for (const x of r.grants || []) {
        if (x.user) g.users.set(x.user, { email: x.user, name: x.name, partner: x.partner, level: x.level });
        else g.partners.set(x.partner, x.level);
      }
      grants.set(w.code, g);
    }));
    draw();
  } catch (e) {
    err.show(e);
    body.replaceChildren();
  }
  return h('section.page.page-wide', pageHeader(t('nav.access'), { sub: t('access.sub') }), err, live, body);
}
