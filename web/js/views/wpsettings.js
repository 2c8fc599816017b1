// A work package's settings (#/settings/WP1): its usage against the
// quota (bytes, documents, versions, trash), title and lead for its
// managers, quota, retention and archiving for coordinators. Before a
// retention change is saved the server is asked, without changing
// anything (PATCH ?dry_run=1), what it would remove, and that is shown
// for confirmation ("This removes 312 old versions, 1.2 GB"). The
// language (for managers) is what search stems a document in when it
// neither declares one nor has text enough to tell.
import { h, mount } from '../dom.js';
import { t, locale } from '../i18n.js';
import { get, patch, del, describe } from '../api.js';
import { href } from '../router.js';
import { icon } from '../icons.js';
import { session, canManage, isCoordinator } from '../session.js';
import { bytes, number, fullDate, dateTime } from '../format.js';
import { button, confirm, field, input, select, toast, errorBox, linkButton, tableWrap } from '../ui.js';
import { crumbs } from './nodes.js';

const MB = 1024 * 1024;
// The codes the server stems (search/lang.c lang_normalize).
const LANGUAGES = ['bg', 'ca', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'eu', 'fi', 'fr', 'ga', 'hr',
  'hu', 'it', 'lt', 'lv', 'mt', 'nb', 'nl', 'nn', 'no', 'pl', 'pt', 'ro', 'ru', 'sk', 'sl', 'sv', 'tr'];

function languageOptions() {
  let names = null;
  try { names = new Intl.DisplayNames([locale()], { type: 'language' }); } catch { /* codes only */ }
  const opts = LANGUAGES.map((c) => [c, names ? `${names.of(c)} (${c})` : c]);
  opts.sort((a, b) => a[1].localeCompare(b[1], locale()));
  return [['', t('settings.languageDefault')], ...opts];
}

export default async function wpSettings(ctx) {
  const wpCode = ctx.segments[1];
  const wpInfo = session.wps.find((w) => w.code.toLowerCase() === wpCode.toLowerCase());
  const wp = wpInfo ? wpInfo.code : wpCode;
  const base = `/api/v1/wps/${encodeURIComponent(wp)}`;
  ctx.setTitle(t('settings.title', { wp }));
  const manager = canManage(wp);
  const coord = isCoordinator();
  const err = errorBox();
  const usageBox = h('dl.settings-usage');
  let cur = (await get(base)).wp;

  const title = input({ value: cur.title, maxlength: 200, autocomplete: 'off', disabled: !manager });
  const lead = input({ value: cur.lead || '', maxlength: 32, autocomplete: 'off', disabled: !manager });
  const quota = input({ type: 'number', min: 0, step: 'any', inputmode: 'decimal', disabled: !coord,
    value: cur.quota === null ? '' : String(Math.round((cur.quota / MB) * 100) / 100) });
  const keepV = input({ type: 'number', min: 0, step: 1, disabled: !coord, value: cur.keep_versions ?? '' });
  const keepD = input({ type: 'number', min: 0, step: 1, disabled: !coord, value: cur.keep_days ?? '' });
  const language = select(languageOptions(), { value: cur.language || '', disabled: !manager });
  const archived = h('input', { type: 'checkbox', checked: !!cur.archived, disabled: !coord });
  const fTitle = field(t('settings.wpTitle'), title);
  const fLead = field(t('settings.lead'), lead, { hint: t('settings.leadHint') });
  const fLanguage = field(t('settings.language'), language, { hint: t('settings.languageHint') });
  const fQuota = field(t('settings.quota'), quota, { hint: t('settings.quotaHint') });
  const fKeepV = field(t('settings.keepVersions'), keepV, { hint: t('settings.keepVersionsHint') });
  const fKeepD = field(t('settings.keepDays'), keepD, { hint: t('settings.keepDaysHint') });
  const archivedLabel = h('label.check', archived, ' ', t('settings.archived'));
  // Share links (docs/links.md): the policy for the work package's managers.
  const linkModes = [['off', t('settings.linksOff')], ['download', t('settings.linksDownload')], ['drop', t('settings.linksDrop')]];
  const linksMode = select(linkModes, { value: cur.links || 'off', disabled: !manager });
  const linksDays = input({ type: 'number', min: 1, max: 365, step: 1, disabled: !manager, value: cur.links_max_days ?? 30 });
  const linksPassword = h('input', { type: 'checkbox', checked: !!cur.links_password, disabled: !manager });
  const fLinks = field(t('settings.links'), linksMode, { hint: t('settings.linksHint') });
  const fLinksDays = field(t('settings.linksMaxDays'), linksDays);
  const linksPasswordLabel = h('label.check', linksPassword, ' ', t('settings.linksPassword'));
  const linkList = h('div.settings-links');

  function showUsage() {
    const u = cur.usage;
    const pct = u.quota ? Math.min(100, Math.round((u.bytes / u.quota) * 100)) : null;
    mount(usageBox,
      h('div', h('dt', t('settings.used')), h('dd', u.quota !== null ? t('settings.usedOf', { used: bytes(u.bytes), quota: bytes(u.quota), pct }) : t('settings.usedNoQuota', { used: bytes(u.bytes) }),
        u.quota !== null ? h('progress.quota-bar', { max: 100, value: pct, 'aria-label': t('settings.used') }) : null)),
      h('div', h('dt', t('settings.documents')), h('dd', number(u.documents))),
      h('div', h('dt', t('settings.versions')), h('dd', number(u.versions))),
      h('div', h('dt', t('settings.trash')), h('dd', t('settings.trashUsage', { n: number(u.trash.entries), size: bytes(u.trash.bytes) }))),
      cur.archived ? h('div', h('dt', t('settings.archivedSince')), h('dd', fullDate(cur.archived_at))) : null);
  }

  // "" → null (the server's default); otherwise a whole number >= 0.
  function count(el, f) {
    const v = el.value.trim();
    if (v === '') return null;
    if (!/^\d+$/.test(v)) { f.setError(t('settings.wholeNumber')); throw new Error('invalid'); }
    return Number(v);
  }

  function changes() {
    for (const f of [fTitle, fLead, fLanguage, fQuota, fKeepV, fKeepD, fLinks, fLinksDays]) f.setError('');
    const body = {};
    if (manager) {
      if (!title.value.trim()) { fTitle.setError(t('form.required')); throw new Error('invalid'); }
      if (title.value.trim() !== cur.title) body.title = title.value.trim();
      const l = lead.value.trim();
      if (l !== (cur.lead || '')) body.lead = l || null;
      if (language.value !== (cur.language || '')) body.language = language.value || null;
      if (linksMode.value !== (cur.links || 'off')) body.links = linksMode.value;
      const days = count(linksDays, fLinksDays);
      if (days !== null && days !== cur.links_max_days) body.links_max_days = days;
      if (linksPassword.checked !== !!cur.links_password) body.links_password = linksPassword.checked;
    }
    if (coord) {
      const q = quota.value.trim();
      let qb = null;
      if (q !== '') {
        if (!/^\d+(\.\d+)?$/.test(q)) { fQuota.setError(t('settings.wholeNumber')); throw new Error('invalid'); }
        qb = Math.round(Number(q) * MB);
      }
      if (qb !== cur.quota) body.quota = qb;
      const kv = count(keepV, fKeepV);
      if (kv !== cur.keep_versions) body.keep_versions = kv;
      const kd = count(keepD, fKeepD);
      if (kd !== cur.keep_days) body.keep_days = kd;
      if (archived.checked !== cur.archived) body.archived = archived.checked;
    }
    return body;
  }

  async function save() {
    err.show(null);
    let body;
    try { body = changes(); } catch { return; }
    if (!Object.keys(body).length) { toast(t('settings.nothing')); return; }
    try {
      if ('keep_versions' in body || 'keep_days' in body) {
        const dry = await patch(`${base}?dry_run=1`, body);
        const w = dry.would_remove;
        if (w.versions > 0 && !await confirm({
          title: t('settings.retentionTitle'),
          text: t('settings.retentionText', { n: number(w.versions), size: bytes(w.bytes) }),
          confirmLabel: t('settings.retentionConfirm'), danger: true })) return;
      }
      if (body.archived === true && !await confirm({ title: t('settings.archiveTitle', { wp }), text: t('settings.archiveText'), confirmLabel: t('settings.archiveConfirm') })) return;
      const r = await patch(base, body);
      cur = r.wp;
      showUsage();
      toast(r.removed?.versions ? t('settings.savedRemoved', { n: number(r.removed.versions), size: bytes(r.removed.bytes) }) : t('settings.saved'));
      if (wpInfo) { wpInfo.title = cur.title; wpInfo.lead = cur.lead; wpInfo.archived = cur.archived; }
    } catch (e) {
      const f = { title: fTitle, lead: fLead, language: fLanguage, quota: fQuota, keep_versions: fKeepV, keep_days: fKeepD, links: fLinks, links_max_days: fLinksDays }[/field '(\w+)'|^(\w+) must/.exec(e.detail || '')?.slice(1).find(Boolean)];
      if (f) f.setError(describe(e)); else err.show(e);
    }
  }

  // The work package's live links, for its managers: who made what,
  // until when, how often used; each can be revoked.
  async function showLinks() {
    if (!manager) return;
    let links;
    try { links = (await get(`/api/v1/links?wp=${encodeURIComponent(wp)}`)).links; } catch (e) { mount(linkList, h('p', describe(e))); return; }
    if (!links.length) { mount(linkList, h('p.field-hint', t('settings.linksNone'))); return; }
    mount(linkList, tableWrap(h('table.table',
      h('thead', h('tr', h('th', t('links.what')), h('th', t('links.creator')), h('th', t('links.expires')), h('th', t('links.uses')), h('th', t('links.lastUse')), h('th', h('span.sr-only', t('common.actions'))))),
      h('tbody', links.map((l) => h('tr',
        h('td', l.path || '/', l.kind === 'drop' ? ` (${t('links.drop')})` : '', l.note ? h('div.field-hint', l.note) : null),
        h('td', l.creator.name || l.creator.email),
        h('td', dateTime(l.expires_at)),
        h('td', (l.max_downloads || l.max_files) ? `${number(l.uses)} / ${number(l.max_downloads || l.max_files)}` : number(l.uses)),
        h('td', l.last_used_at ? dateTime(l.last_used_at) : '—'),
        h('td', button(t('links.revoke'), { kind: 'danger', on: async () => {
          if (!await confirm({ title: t('links.revokeTitle'), text: t('links.revokeText'), confirmLabel: t('links.revoke'), danger: true })) return;
          try { await del(`/api/v1/links/${l.id}`); toast(t('links.revoked')); showLinks(); } catch (e) { err.show(e); }
        } }))))))));
  }

  showUsage();
  showLinks();
  const form = h('form.stack.settings-form', { novalidate: true, on: { submit: (e) => { e.preventDefault(); save(); } } },
    h('h2', t('settings.general')), fTitle, fLead, fLanguage,
    h('h2', t('settings.storage')), coord ? null : h('p.field-hint', t('settings.coordOnly')),
    fQuota, fKeepV, fKeepD, archivedLabel, h('p.field-hint', t('settings.archivedHint')),
    h('h2', t('settings.linksHeading')), fLinks, fLinksDays, linksPasswordLabel,
    manager ? h('div.form-actions', button(t('common.save'), { kind: 'primary', type: 'submit' })) : null);
  return h('section.page',
    h('header.page-head', crumbs(wp, '', wpInfo, { last: false }),
      h('div.page-title-row', h('div.page-title', h('h1', { tabindex: '-1' }, icon('lock', { size: 24 }), ' ', t('settings.heading')),
        h('p.page-sub', t('settings.sub'))),
      h('div.page-actions', linkButton(t('trash.back', { wp }), href('wp', wp), { icon: 'chevronLeft' })))),
    err, h('h2', t('settings.usage')), usageBox, form,
    manager ? h('h2', t('settings.linksLive')) : null, linkList);
}
