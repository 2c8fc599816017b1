// The deliverable register (#/deliverables): filters (work package,
// partner, status, due this month, overdue), a timeline by month, a
// table whose rows link to the deliverable's page, its document and its
// review; CSV import for coordinators and export for everyone. And one
// deliverable (#/deliverables/D2.1): its record, its document, its
// reviews with every decision, starting a review (its lead), answering
// one (its reviewers), the coordinator's sign-off, and what changed
// between two versions. The server decides who sees and does what; the
// page only leaves out what it would refuse.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, patch, api, describe, contentUrl } from '../api.js';
import { href, go } from '../router.js';
import { session, isCoordinator } from '../session.js';
import { dateTime } from '../format.js';
import { button, field, input, select, pageHeader, loading, empty, errorBox, linkButton, tableWrap, badge, toast, dialog } from '../ui.js';

const STATUSES = ['planned', 'drafting', 'in_review', 'approved', 'submitted', 'accepted', 'revision_requested'];

const statusBadge = (s) => badge(t(`dstatus.${s}`), `dstatus-${s}`);
const reviewText = (r) => (r ? t(`review.${r.state}`, { approvals: r.approvals, pending: r.pending, changes: r.changes }) : t('review.none'));

function docLink(d) {
  if (!d.document) return h('span.muted', t('deliv.noDocument'));
  return h('a', { href: href('wp', d.wp, d.document.path) }, `${d.document.path} · v${d.document.version}`);
}

// A file linked from a review or the submission: a link to the version
// that was attached, or its hash once the file is gone.
function fileLink(wp, f) {
  if (!f) return null;
  if (!f.path) return h('code', f.sha256.slice(0, 12));
  return h('a', { href: contentUrl(wp, f.path, f.version), download: '' }, `${f.path.split('/').pop()} · v${f.version}`);
}

const raw = (method, path, file, params) =>
  api(method, path, { body: file, params, headers: { 'Content-Type': file.type || 'application/octet-stream' } });

function timeline(list) {
  const months = new Map();
  for (const d of list) {
    const key = d.due_date ? d.due_date.slice(0, 7) : (d.due_month ? `M${String(d.due_month).padStart(2, '0')}` : '—');
    if (!months.has(key)) months.set(key, []);
    months.get(key).push(d);
  }
  const keys = [...months.keys()].sort();
  return h('ol.timeline', { 'aria-label': t('deliv.timeline') }, keys.map((k) => h('li.timeline-month',
    h('span.timeline-label', k),
    h('ul.timeline-items', months.get(k).map((d) => h('li', h('a', {
      href: href('deliverables', d.code),
      class: `timeline-chip dstatus-${d.status}${d.overdue ? ' overdue' : ''}`,
      title: `${d.code} — ${d.title} (${t(`dstatus.${d.status}`)})`,
    }, d.code)))))));
}

async function register(ctx) {
  ctx.setTitle(t('deliv.title'));
  const p = ctx.params;
  const f = { wp: p.get('wp') || '', partner: p.get('partner') || '', status: p.get('status') || '', due: p.get('due') || '' };
  const err = errorBox();
  let wps = [];
  let partners = [];
  try { wps = (await get('/api/v1/wps')).wps || []; } catch { /* no list: no filter choices */ }
  try { partners = (await get('/api/v1/partners')).partners || []; } catch { /* idem */ }
  const wp = select([['', t('deliv.allWps')], ...wps.map((w) => [w.code, w.code])], { name: 'wp', value: f.wp });
  const partner = select([['', t('deliv.allPartners')], ...partners.map((x) => [x.short, x.short])], { name: 'partner', value: f.partner });
  const status = select([['', t('deliv.allStatuses')], ...STATUSES.map((s) => [s, t(`dstatus.${s}`)])], { name: 'status', value: f.status });
  const due = select([['', t('deliv.anyDue')], ['month', t('deliv.dueMonth')], ['overdue', t('deliv.overdue')]], { name: 'due', value: f.due });
  const form = h('form.filters', { 'aria-label': t('deliv.filters') },
    field(t('deliv.wp'), wp), field(t('deliv.partner'), partner), field(t('deliv.status'), status), field(t('deliv.due'), due),
    h('div.filters-actions', button(t('audit.apply'), { kind: 'primary', type: 'submit' }),
      button(t('audit.clear'), { kind: 'ghost', on: () => go('#/deliverables') })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go(href('deliverables', { wp: wp.value, partner: partner.value, status: status.value, due: due.value }));
  });
  const q = Object.fromEntries(Object.entries(f).filter(([, v]) => v));
  const actions = [linkButton(t('deliv.export'), `/api/v1/deliverables?${new URLSearchParams({ ...q, format: 'csv' })}`, { icon: 'download', download: true })];
  if (isCoordinator()) {
    const file = h('input.sr-only', { type: 'file', accept: '.csv,text/csv', id: 'deliv-import-file', 'aria-label': t('deliv.import') });
    file.addEventListener('change', async () => {
      const chosen = file.files[0];
      if (!chosen) return;
      try {
        const r = await api('POST', '/api/v1/deliverables/import', { body: await chosen.text(), headers: { 'Content-Type': 'text/csv' } });
        toast(t('deliv.imported', { created: r.created, updated: r.updated }));
        go(location.hash);
      } catch (e2) { err.show(describe(e2)); }
      file.value = '';
    });
    actions.unshift(file, button(t('deliv.import'), { icon: 'upload', on: () => file.click() }));
  }
  let body;
  try {
    const r = await get('/api/v1/deliverables', { params: q });
    const list = r.deliverables || [];
    body = list.length ? [
      h('section.section', { 'aria-labelledby': 'deliv-tl' }, h('div.section-head', h('h2', { id: 'deliv-tl' }, t('deliv.timeline'))), timeline(list)),
      h('section.section', { 'aria-labelledby': 'deliv-list' }, h('div.section-head', h('h2', { id: 'deliv-list' }, t('deliv.count', { n: list.length }))),
        tableWrap(h('table.table.table-deliv',
          h('thead', h('tr', ['deliv.code', 'deliv.name', 'deliv.wp', 'deliv.lead', 'deliv.due', 'deliv.type', 'deliv.status', 'deliv.review', 'deliv.document'].map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', list.map((d) => h('tr', { class: d.overdue ? 'overdue' : '' },
            h('th', { scope: 'row' }, h('a', { href: href('deliverables', d.code) }, d.code)),
            h('td', d.title),
            h('td', d.wp),
            h('td', d.lead || '—'),
            h('td', d.due_date || (d.due_month ? `M${d.due_month}` : '—'), d.overdue ? [' ', badge(t('deliv.overdueBadge'), 'warn')] : null),
            h('td', `${d.type} · ${d.dissemination}`),
            h('td', statusBadge(d.status)),
            h('td', d.review ? h('a', { href: href('deliverables', d.code, { review: d.review.id }) }, reviewText(d.review)) : h('span.muted', reviewText(null))),
            h('td', docLink(d)))))))),
    ] : empty(t('deliv.emptyTitle'), isCoordinator() ? t('deliv.emptyCoordinator') : t('deliv.emptyText'));
  } catch (e) {
    err.show(describe(e));
    body = null;
  }
  return h('section.page', pageHeader(t('deliv.title'), { sub: t('deliv.sub'), actions }), form, err, body);
}

const backLink = () => h('nav.crumbs', { 'aria-label': t('deliv.back') }, h('a', { href: '#/deliverables' }, t('deliv.title')));

function diffView(r) {
  return h('div.diff', { role: 'group', 'aria-label': t('diff.label', { from: r.from.version, to: r.to.version }) },
    h('p.muted', t('diff.summary', { from: r.from.version, to: r.to.version, inserted: r.stats.inserted, deleted: r.stats.deleted }),
      r.approximate ? [' ', t('diff.approximate')] : null),
    h('div.diff-text', r.changes.map((c) => {
      if (c.op === 'insert') return h('ins', c.text);
      if (c.op === 'delete') return h('del', c.text);
      return c.elided ? [h('span', c.text), h('span.diff-elided', t('diff.elided', { n: c.elided })), h('span', c.tail)] : h('span', c.text);
    })));
}

async function one(ctx, code) {
  ctx.setTitle(code);
  const err = errorBox();
  let d;
  try {
    d = (await get(`/api/v1/deliverables/${encodeURIComponent(code)}`)).deliverable;
  } catch (e) {
    return h('section.page', pageHeader(code, { crumbs: backLink() }), h('p', describe(e)));
  }
  const reload = () => go(location.hash);
  const me = session.user?.email || '';
  const act = (fn) => async () => { try { await fn(); reload(); } catch (e) { err.show(describe(e)); } };
  const setStatus = (s, extra = {}) => act(() => patch(`/api/v1/deliverables/${encodeURIComponent(d.code)}`, { status: s, ...extra }));
  const actions = [];
  if (d.may_edit) {
    actions.push(button(t('deliv.linkDocument'), { icon: 'link', on: async () => {
      const path = input({ value: d.document?.path || '', autocomplete: 'off' });
      const fd = field(t('deliv.documentPath', { wp: d.wp }), path);
      const ok = await dialog({ title: t('deliv.linkDocument'), build: () => fd, submitLabel: t('common.save'),
        submit: async () => {
          try { await patch(`/api/v1/deliverables/${encodeURIComponent(d.code)}`, { document: path.value.trim() }); return true; } catch (e) { fd.setError(describe(e)); return false; }
        } });
      if (ok) reload();
    } }));
    if (d.document) {
      actions.push(button(t('review.start'), { icon: 'users', kind: 'primary', on: async () => {
        const version = input({ type: 'number', min: 1, value: d.document.version });
        const reviewers = input({ autocomplete: 'off', placeholder: 'name@example.org, …' });
        const partnersIn = input({ autocomplete: 'off', placeholder: 'UNIA, …' });
        const dueIn = input({ type: 'date' });
        const fv = field(t('review.version'), version);
        const fr = field(t('review.reviewers'), reviewers, { hint: t('review.reviewersHint') });
        const fp = field(t('review.partners'), partnersIn);
        const fdue = field(t('review.due'), dueIn);
        const ok = await dialog({ title: t('review.start'), build: () => h('div.stack', fv, fr, fp, fdue), submitLabel: t('review.start'),
          submit: async () => {
            const list = (s) => s.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
            try {
              await post(`/api/v1/deliverables/${encodeURIComponent(d.code)}/reviews`, {
                version: Number(version.value), reviewers: list(reviewers.value), partners: list(partnersIn.value), due: dueIn.value || null });
              return true;
            } catch (e) { fr.setError(describe(e)); return false; }
          } });
        if (ok) reload();
      } }));
    }
    if (['planned', 'revision_requested'].includes(d.status)) actions.push(button(t('deliv.markDrafting'), { on: setStatus('drafting') }));
  }
  if (d.may_sign_off) {
    if (d.review?.state === 'approved' && ['in_review', 'drafting'].includes(d.status)) actions.push(button(t('deliv.approve'), { kind: 'primary', on: setStatus('approved') }));
    if (['approved', 'revision_requested'].includes(d.status)) actions.push(button(t('deliv.submit'), { kind: 'primary', on: async () => {
      const on = input({ type: 'date', value: new Date().toISOString().slice(0, 10), required: true });
      const file = input({ type: 'file', accept: 'application/pdf,.pdf' });
      const fon = field(t('deliv.submittedOn'), on);
      const ffile = field(t('deliv.submittedFile'), file, { hint: t('deliv.submittedFileHint', { code: d.code }) });
      const ok = await dialog({ title: t('deliv.submit'), build: () => h('div.stack', fon, ffile), submitLabel: t('deliv.submit'),
        submit: async () => {
          try {
            const f = file.files[0];
            if (f) await raw('PUT', `/api/v1/deliverables/${encodeURIComponent(d.code)}/submission`, f, { submitted_on: on.value });
            else await patch(`/api/v1/deliverables/${encodeURIComponent(d.code)}`, { status: 'submitted', submitted_on: on.value });
            return true;
          } catch (e) { ffile.setError(describe(e)); return false; }
        } });
      if (ok) reload();
    } }));
    if (d.status === 'submitted') {
      actions.push(button(t('deliv.accepted'), { on: setStatus('accepted') }));
      actions.push(button(t('deliv.revision'), { on: setStatus('revision_requested') }));
    }
  }
  const facts = h('dl.facts',
    h('dt', t('deliv.status')), h('dd', statusBadge(d.status)),
    h('dt', t('deliv.wp')), h('dd', h('a', { href: href('wp', d.wp) }, d.wp)),
    h('dt', t('deliv.lead')), h('dd', d.lead || '—'),
    h('dt', t('deliv.due')), h('dd', d.due_date || '—', d.due_month ? ` (M${d.due_month})` : '', d.overdue ? [' ', badge(t('deliv.overdueBadge'), 'warn')] : null),
    h('dt', t('deliv.type')), h('dd', `${d.type} · ${d.dissemination}`),
    h('dt', t('deliv.document')), h('dd', docLink(d)),
    h('dt', t('deliv.review')), h('dd', reviewText(d.review)),
    d.submitted_on ? [h('dt', t('deliv.submittedOn')), h('dd', d.submitted_on)] : null,
    d.submitted_file ? [h('dt', t('deliv.submittedFile')), h('dd', fileLink(d.wp, d.submitted_file))] : null);
  const reviews = (d.reviews || []).map((r, i) => {
    const mine = r.decisions.find((x) => x.reviewer === me);
    const latest = i === 0;
    const diffBox = h('div');
    const showDiff = d.document && d.document.version !== r.version
      ? button(t('diff.sinceReview', { version: r.version }), { on: async () => {
        diffBox.replaceChildren(loading());
        try {
          const res = await get(`/api/v1/wps/${encodeURIComponent(d.wp)}/diff/${d.document.path.split('/').map(encodeURIComponent).join('/')}`, { params: { from: r.version, to: d.document.version } });
          diffBox.replaceChildren(diffView(res));
        } catch (e) { diffBox.replaceChildren(h('p', describe(e))); }
      } }) : null;
    let answer = null;
    if (latest && mine) {
      const comment = h('textarea.input', { rows: 3, 'aria-label': t('review.comment') }, mine.comment || '');
      const file = input({ type: 'file' });
      const decide = (decision) => act(async () => {
        const base = `/api/v1/deliverables/${encodeURIComponent(d.code)}/reviews/${r.id}`;
        await post(`${base}/decision`, { decision, comment: comment.value });
        const f = file.files[0];
        if (f) await raw('PUT', `${base}/attachment`, f, { name: f.name });
      });
      answer = h('div.stack.review-answer', field(t('review.comment'), comment),
        field(t('review.file'), file, { hint: t('review.fileHint') }),
        h('div.filters-actions', button(t('review.approve'), { kind: 'primary', on: decide('approve') }), button(t('review.changes'), { on: decide('changes') })));
    }
    return h('section.section.review', { id: `review-${r.id}`, 'aria-labelledby': `review-h-${r.id}` },
      h('div.section-head', h('h2', { id: `review-h-${r.id}` }, t('review.heading', { id: r.id, version: r.version })),
        h('p.section-sub', t('review.meta', { by: r.started_by || '—', at: dateTime(r.started_at), due: r.due_date || '—' }), ' ',
          h('code', r.sha256.slice(0, 12)), ' ',
          h('a', { href: `/api/v1/deliverables/${encodeURIComponent(d.code)}/reviews/${r.id}?format=csv`, download: '' }, t('review.exportCsv')))),
      tableWrap(h('table.table', h('thead', h('tr', ['review.reviewer', 'review.partner', 'review.decision', 'review.comment', 'review.file', 'review.when'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', r.decisions.map((x) => h('tr', h('td', x.name, h('br'), h('span.muted', x.reviewer)), h('td', x.partner),
          h('td', x.decision ? badge(t(`decision.${x.decision}`), x.decision === 'approve' ? 'ok' : 'warn') : h('span.muted', t('review.pendingOne'))),
          h('td', x.comment || '—'), h('td', fileLink(d.wp, x.attachment) || '—'),
          h('td', x.decided_at ? dateTime(x.decided_at) : '—')))))),
      answer, showDiff, diffBox);
  });
  return h('section.page', pageHeader(`${d.code} — ${d.title}`, { crumbs: backLink(), actions }),
    err, h('section.section', facts), reviews.length ? reviews : h('p.muted', t('review.noneYet')));
}

export default async function deliverables(ctx) {
  const code = ctx.segments[1];
  const page = code ? await one(ctx, code) : await register(ctx);
  const focus = ctx.params.get('review');
  if (focus) queueMicrotask(() => document.getElementById(`review-${focus}`)?.scrollIntoView());
  return page;
}

// Home: the caller's open review tasks.
export async function reviewTasks() {
  const r = await get('/api/v1/me/reviews');
  return r.reviews || [];
}
export function taskList(tasks) {
  return tasks.length
    ? h('ul.feed', tasks.map((x) => h('li', h('div.feed-main',
      h('a', { href: href('deliverables', x.deliverable, { review: x.id }) }, t('review.task', { code: x.deliverable, version: x.version })),
      h('span.feed-meta', t('review.taskMeta', { by: x.started_by || '—', due: x.due_date || '—' }))))))
    : h('p.muted', t('review.noTasks'));
}
