// Events (#/events): upcoming events (or all), each with its place or
// online link, its folder for the agenda and minutes, and a .ics
// download; the poster's "New event" form; and the person's calendar
// feed: a secret URL to subscribe to in Outlook, Thunderbird or Google
// Calendar, shown once, replaceable and revocable.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del, patch } from '../api.js';
import { href } from '../router.js';
import { session, canWrite } from '../session.js';
import { fullDate, date } from '../format.js';
import { button, dialog, field, input, select, toast, pageHeader, loading, empty, errorBox, confirm, badge, linkButton, copyText } from '../ui.js';

const browserTz = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// When an event happens, in the zone it was given in.
export function when(e) {
  const opts = { timeZone: e.tz, dateStyle: 'medium', timeStyle: 'short' };
  let text;
  try {
    const f = new Intl.DateTimeFormat('en-GB', opts);
    text = f.formatRange ? f.formatRange(new Date(e.start), new Date(e.end)) : `${f.format(new Date(e.start))} – ${f.format(new Date(e.end))}`;
  } catch { text = `${e.start} – ${e.end}`; }
  return `${text} (${e.tz})`;
}

// "2026-04-27T09:00" in zone `tz` → "2026-04-27T09:00:00+02:00".
export function withOffset(local, tz) {
  const [d, tm] = local.split('T');
  const [y, mo, da] = d.split('-').map(Number);
  const [hh, mi] = tm.split(':').map(Number);
  const asUtc = Date.UTC(y, mo - 1, da, hh, mi);
  const offsetAt = (ms) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) - ms;
  };
  let off = offsetAt(asUtc);
  off = offsetAt(asUtc - off);
  const m = Math.round(off / 60000);
  const sign = m < 0 ? '-' : '+';
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  return `${local}:00${sign}${pad(Math.trunc(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
}

// An instant as "2026-04-27T09:00" in zone `tz`: a datetime-local value.
export function localIn(iso, tz) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

export function eventItem(e, { onDelete, onEdit } = {}) {
  return h('article.event-item', { 'aria-labelledby': `event-${e.id}` },
    h('h2.event-title', { id: `event-${e.id}` }, e.title, ' ', badge(e.internal ? t('events.internal') : t('events.public'), e.internal ? '' : 'accent')),
    h('p.event-when', when(e)),
    e.edited_at ? h('p.event-edited.muted', h('time', { datetime: e.edited_at, title: fullDate(e.edited_at) }, t('events.edited', { date: date(e.edited_at) }))) : null,
    e.place ? h('p.event-place', e.place) : null,
    e.online_url ? h('p', h('a', { href: e.online_url, rel: 'noopener noreferrer', target: '_blank' }, t('events.join'))) : null,
    e.description ? h('p.event-description', e.description) : null,
    h('p.event-links',
      e.folder ? h('a', { href: href('wp', e.folder.wp, e.folder.path) }, t('events.folder', { wp: e.folder.wp, path: e.folder.path })) : null,
      e.wps.length ? h('span.muted', ` ${e.wps.join(', ')}`) : null),
    h('div.event-actions', linkButton(t('events.ics'), `/api/v1/events/${e.id}.ics`, { icon: 'download', kind: 'ghost', download: `event-${e.id}.ics` }),
      onEdit ? button(t('events.edit'), { icon: 'edit', kind: 'ghost', on: () => onEdit(e) }) : null,
      onDelete ? button(t('events.delete'), { icon: 'trash', kind: 'ghost', on: () => onDelete(e) }) : null));
}

// A new event, or `ev` edited in place (PATCH; its linked work packages
// stay, and its folder unless changed here).
async function newEventDialog(ev = null) {
  const title = input({ name: 'title', required: true, maxlength: '200', autocomplete: 'off', value: ev?.title || '' });
  const start = input({ name: 'start', type: 'datetime-local', required: true, value: ev ? localIn(ev.start, ev.tz) : '' });
  const end = input({ name: 'end', type: 'datetime-local', required: true, value: ev ? localIn(ev.end, ev.tz) : '' });
  const tz = input({ name: 'tz', value: ev?.tz || browserTz(), autocomplete: 'off' });
  const place = input({ name: 'place', maxlength: '200', autocomplete: 'off', value: ev?.place || '' });
  const online = input({ name: 'online_url', type: 'url', autocomplete: 'off', value: ev?.online_url || '' });
  const internal = h('input', { type: 'checkbox', name: 'internal', checked: ev ? ev.internal : true });
  const writable = session.wps.filter((w) => canWrite(w.code));
  const wpOptions = writable.map((w) => [w.code, `${w.code} — ${w.title}`]);
  if (ev?.folder && !writable.some((w) => w.code === ev.folder.wp)) wpOptions.push([ev.folder.wp, ev.folder.wp]);
  const folderWp = select([['', t('events.noFolder')], ...wpOptions], { name: 'folder_wp' });
  folderWp.value = ev?.folder?.wp || '';
  const folderPath = input({ name: 'folder_path', autocomplete: 'off', placeholder: t('events.folderPlaceholder'), value: ev?.folder?.path || '' });
  // Linked work packages: those the poster reads (and any it already has).
  const linkable = [...session.wps.map((w) => [w.code, `${w.code} — ${w.title || ''}`]),
    ...(ev?.wps || []).filter((c) => !session.wps.some((w) => w.code === c)).map((c) => [c, c])];
  const wpBoxes = linkable.map(([code], i) => h('input', { type: 'checkbox', id: `ev-wp-${i}`, value: code, checked: !!ev?.wps.includes(code) }));
  const wpSet = linkable.length ? h('fieldset.stack', h('legend', t('events.wps')),
    linkable.map(([, label], i) => h('div.check', wpBoxes[i], h('label', { for: wpBoxes[i].id }, label)))) : null;
  const fs = [field(t('events.titleField'), title), field(t('events.start'), start), field(t('events.end'), end),
    field(t('events.tz'), tz, { hint: t('events.tzHint') }), field(t('events.place'), place), field(t('events.online'), online),
    field(t('events.folderWp'), folderWp), field(t('events.folderPath'), folderPath)];
  return dialog({
    title: ev ? t('events.editTitle') : t('events.newTitle'),
    wide: true,
    build: () => h('div.stack', fs, wpSet, h('label.check', internal, ' ', t('events.internalField'))),
    submitLabel: ev ? t('events.save') : t('events.create'),
    submit: async () => {
      fs.forEach((f) => f.setError(null));
      let bad = false;
      [[title, 0], [start, 1], [end, 2], [tz, 3]].forEach(([el, i]) => { if (!el.value.trim()) { fs[i].setError(t('form.required')); bad = true; } });
      if (folderWp.value && !folderPath.value.trim()) { fs[7].setError(t('form.required')); bad = true; }
      if (bad) return false;
      let s, e;
      try { s = withOffset(start.value, tz.value.trim()); e = withOffset(end.value, tz.value.trim()); } catch { fs[3].setError(t('events.tzHint')); return false; }
      const body = { title: title.value.trim(), start: s, end: e, tz: tz.value.trim(), internal: internal.checked };
      const wps = wpBoxes.filter((b) => b.checked).map((b) => b.value);
      if (ev) {
        if ([...wps].sort().join() !== [...ev.wps].sort().join()) body.wps = wps;
        body.place = place.value.trim();
        body.online_url = online.value.trim();
        if (folderWp.value !== (ev.folder?.wp || '') || folderPath.value.trim() !== (ev.folder?.path || ''))
          body.folder = folderWp.value ? { wp: folderWp.value, path: folderPath.value.trim() } : null;
        return (await patch(`/api/v1/events/${ev.id}`, body)).event;
      }
      if (place.value.trim()) body.place = place.value.trim();
      if (online.value.trim()) body.online_url = online.value.trim();
      if (folderWp.value) body.folder = { wp: folderWp.value, path: folderPath.value.trim() };
      if (wps.length) body.wps = wps;
      return (await post('/api/v1/events', body)).event;
    },
  });
}

function feedSection(err) {
  const box = h('div', loading());
  async function draw(shown) {
    let state;
    try { state = await get('/api/v1/me/calendar'); } catch (e) { err.show(e); return; }
    const make = button(state.active ? t('events.feedNew') : t('events.feedCreate'), { icon: 'link', kind: 'secondary', on: async () => {
      if (state.active && !await confirm({ title: t('events.feedNewTitle'), text: t('events.feedNewText'), confirmLabel: t('events.feedNew') })) return;
      try { const r = await post('/api/v1/me/calendar'); draw(`${location.origin}${r.path}`); } catch (e) { err.show(e); }
    } });
    const revoke = state.active ? button(t('events.feedRevoke'), { icon: 'x', kind: 'ghost', on: async () => {
      if (!await confirm({ title: t('events.feedRevokeTitle'), text: t('events.feedRevokeText'), confirmLabel: t('events.feedRevoke'), danger: true })) return;
      try { await del('/api/v1/me/calendar'); toast(t('events.feedRevoked')); draw(); } catch (e) { err.show(e); }
    } }) : null;
    const url = shown ? input({ value: shown, readonly: true, class: 'input mono', 'aria-label': t('events.feedUrl') }) : null;
    mount(box,
      h('p', state.active ? t('events.feedActive') : t('events.feedNone')),
      url ? h('div.copy-row', url, button(t('common.copy'), { icon: 'copy', on: () => copyText(shown) })) : null,
      url ? h('p.field-hint', t('events.feedOnce')) : null,
      h('div.row', make, revoke));
  }
  draw();
  return h('section.section', { 'aria-labelledby': 'ev-feed' }, h('div.section-head', h('h2', { id: 'ev-feed' }, t('events.feed'))), box);
}

export default async function events(ctx) {
  ctx.setTitle(t('nav.events'));
  const all = ctx.params.get('all') === '1';
  const err = errorBox();
  const body = h('div', loading());
  let r;
  async function load() {
    try { r = await get('/api/v1/events', { params: { all: all ? '1' : undefined } }); } catch (e) { err.show(e); body.replaceChildren(); return; }
    const onDelete = r.may_post ? async (e) => {
      if (!await confirm({ title: t('events.deleteTitle'), text: t('events.deleteText', { title: e.title }), confirmLabel: t('events.delete'), danger: true })) return;
      try { await del(`/api/v1/events/${e.id}`); toast(t('events.deleted')); await load(); } catch (x) { err.show(x); }
    } : null;
    const onEdit = async (e) => {
      if (await newEventDialog(e)) { toast(t('events.saved')); await load(); }
    };
    mount(body, r.events.length ? h('div.event-list', r.events.map((e) => eventItem(e, { onDelete, onEdit: e.may_edit ? onEdit : null }))) : empty(t('events.noneTitle'), t('events.noneText')));
  }
  await load();
  const actions = [linkButton(all ? t('events.upcoming') : t('events.all'), href('events', { all: all ? null : '1' }), { kind: 'ghost' })];
  if (r?.may_post) actions.push(button(t('events.new'), { icon: 'plus', kind: 'primary', on: async () => {
    const e = await newEventDialog();
    if (e) { toast(t('events.created')); await load(); }
  } }));
  return h('section.page.events-page', pageHeader(t('nav.events'), { actions, sub: all ? t('events.subAll') : t('events.sub') }), err, body, feedSection(err));
}
