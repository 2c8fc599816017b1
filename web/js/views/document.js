// One document: its details (deliverable code, status), the version
// history with download and restore for every version, and the actions
// rename, move, upload a new version, move to trash.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, post, patch, del, wpApi, contentUrl, describe } from '../api.js';
import { href, go } from '../router.js';
import { icon, fileIcon } from '../icons.js';
import { session, canWrite, canManage, on } from '../session.js';
import { bytes, dateTime, fullDate, relative, kindOf, number } from '../format.js';
import { badge, button, confirm, dialog, field, input, select, toast, linkButton, errorBox, menuButton, tableWrap, scanBadge } from '../ui.js';
import { activityFeed, followButton } from './activity.js';
import { enqueue } from '../upload/queue.js';
import { renameDialog, moveDialog, trashNode, crumbs, statusBadge } from './nodes.js';
import { previewPane } from './preview.js';

const STATUSES = ['', 'draft', 'review', 'final'];

export default function documentView(ctx, { wp: wpCode, node: first }) {
  const wpInfo = session.wps.find((w) => w.code.toLowerCase() === wpCode.toLowerCase());
  const wp = wpInfo ? wpInfo.code : wpCode;
  const writable = canWrite(wp);
  let node = first;
  let locks = [];
  // ?page=N (a search hit's page): the preview opens there, the first time
  let startPage = Number(ctx.params?.get('page')) || 1;
  const page = h('section.page.doc-page');
  const err = errorBox();

  // Check-out: the locks on the document (a check-out or an office
  // application's WebDAV lock), who holds them and until when.
  async function loadLocks() {
    try { locks = (await get(wpApi(wp, 'locks', node.path))).locks || []; } catch { locks = []; }
  }

  async function reload() {
    try {
      node = await get(wpApi(wp, 'tree', node.path), { params: { limit: 1000 } });
      await loadLocks();
      draw();
    } catch (e) {
      err.show(e);
    }
  }

  async function lockAction(kind) {
    try {
      if (kind === 'out') {
        await post(wpApi(wp, 'locks', node.path), { minutes: 120 });
        toast(t('doc.checkedOutToast'));
      } else {
        const l = locks[0];
        if (kind === 'break' && !await confirm({ title: t('doc.breakLockTitle', { name: l.holder.name }), text: t('doc.breakLockText'), confirmLabel: t('doc.breakLock'), danger: true })) return;
        await del(wpApi(wp, 'locks', node.path));
        toast(kind === 'break' ? t('doc.lockBroken') : t('doc.checkedInToast'));
      }
    } catch (e) { toast(describe(e), { kind: 'error' }); }
    reload();
  }

  function lockLine() {
    const l = locks[0];
    if (!l) return null;
    const text = t(l.checkout ? 'doc.checkedOut' : 'doc.lockedDav', { name: l.holder.name || l.holder.email, time: dateTime(l.expires_at) });
    return h('div.alert.alert-info.lock-line', { role: 'status' }, icon('lock', { size: 18 }), h('span', { title: fullDate(l.expires_at) }, text),
      l.mine ? button(t('doc.checkIn'), { kind: 'secondary', on: checkIn })
        : canManage(wp) ? button(t('doc.breakLock'), { kind: 'danger-ghost', on: () => lockAction('break') }) : null);
  }

  // Check in = upload + release: an optional new file (a new version,
  // sent with the holder's session, which the check-out lets write) and
  // then the lock is released. A failed release after a stored upload
  // does not upload again when tried once more.
  async function checkIn() {
    const file = h('input.input', { type: 'file' });
    const comment = h('textarea.input', { rows: '3', maxlength: '2000' });
    const ff = field(t('doc.checkInFile'), file, { hint: t('doc.checkInFileHint') });
    const fc = field(t('doc.comment'), comment, { hint: t('doc.commentHint') });
    let stored = null;
    const r = await dialog({
      title: t('doc.checkInTitle', { name: node.name }),
      build: () => h('div.stack', ff, fc),
      submitLabel: t('doc.checkIn'),
      submit: async () => {
        ff.setError(null);
        const f = file.files[0];
        const c = comment.value.trim();
        if (!f && c) { ff.setError(t('doc.checkInCommentNeedsFile')); file.focus(); return false; }
        if (f && !stored) {
          stored = await api('PUT', contentUrl(wp, node.path), {
            body: f, params: c ? { comment: c } : undefined,
            headers: { 'Content-Type': f.type || 'application/octet-stream' },
          });
        }
        await del(wpApi(wp, 'locks', node.path));
        return stored ? { version: stored.version } : true;
      },
    });
    if (!r) return;
    toast(r.version ? t('doc.checkedInVersion', { n: r.version }) : t('doc.checkedInToast'));
    reload();
  }

  function uploadVersion() {
    const file = h('input.input', { type: 'file' });
    const comment = h('textarea.input', { rows: '3', maxlength: '2000' });
    const ff = field(t('doc.file'), file);
    const fc = field(t('doc.comment'), comment, { hint: t('doc.commentHint') });
    dialog({
      title: t('doc.newVersionTitle', { name: node.name }),
      build: () => h('div.stack', ff, fc),
      submitLabel: t('doc.upload'),
      submit: async () => {
        ff.setError(null);
        if (!file.files[0]) { ff.setError(t('doc.pickFile')); file.focus(); return false; }
        enqueue({ wp, files: [{ file: file.files[0], rel: node.path }], mode: 'version', comment: comment.value.trim() });
        return true;
      },
    });
  }

  async function restore(v) {
    const comment = h('textarea.input', { rows: '2', maxlength: '2000' });
    const fc = field(t('doc.comment'), comment, { hint: t('doc.restoreCommentHint') });
    const r = await dialog({
      title: t('doc.restoreTitle', { v: v.version }),
      build: () => h('div.stack', h('p', t('doc.restoreText', { v: v.version, next: node.version + 1 })), fc),
      submitLabel: t('doc.restore'),
      submit: async () => post(wpApi(wp, 'restore'), { path: node.path, version: v.version, if_version: node.version, ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) }),
    });
    if (r) {
      toast(t('doc.restored', { v: v.version, n: r.version }));
      reload();
    }
  }

  async function editDetails() {
    const deliv = input({ value: node.deliverable || '', autocomplete: 'off', placeholder: 'D5.2', maxlength: '32' });
    const status = select(STATUSES.map((s) => [s, s ? t(`status.${s}`) : t('doc.noStatus')]), { value: node.status || '' });
    const fd = field(t('doc.deliverable'), deliv, { hint: t('doc.deliverableHint') });
    const fs = field(t('doc.status'), status);
    const r = await dialog({
      title: t('doc.detailsTitle'),
      build: () => h('div.stack', fd, fs),
      submit: async () => {
        fd.setError(null);
        const body = {};
        const d = deliv.value.trim();
        if (d !== (node.deliverable || '')) body.deliverable = d || null;
        if (status.value !== (node.status || '')) body.status = status.value || null;
        if (!Object.keys(body).length) return null;
        try {
          return await patch(wpApi(wp, 'tree', node.path), body);
        } catch (e) {
          if (e.status === 400) { fd.setError(describe(e)); deliv.focus(); return false; }
          throw e;
        }
      },
    });
    if (r) { toast(t('doc.detailsSaved')); reload(); }
  }

  function versionRow(v) {
    const current = v.version === node.version;
    return h('tr', { class: current ? 'row-current' : null },
      h('td.nowrap', h('span.vnum', `v${v.version}`), current ? [' ', badge(t('doc.current'), 'accent')] : null,
        scanBadge(v.scan) ? [' ', scanBadge(v.scan)] : null),
      h('td', h('div.person', h('span', v.uploaded_by ? v.uploaded_by.name : t('doc.unknown')),
        h('time.person-email', { datetime: v.uploaded_at, title: fullDate(v.uploaded_at) }, dateTime(v.uploaded_at)),
        v.comment ? h('span.person-email.show-sm', v.comment) : null)),
      h('td.hide-sm.nowrap', bytes(v.size)),
      h('td.break.hide-sm', v.comment || (v.restored_from ? '' : h('span.muted', '—')),
        v.restored_from ? h('span.muted', `${v.comment ? ' · ' : ''}${t('doc.restoredFrom', { v: v.restored_from })}`) : null),
      h('td.col-actions',
        h('div.row-actions',
          h('a.btn.btn-ghost.btn-icon', { href: contentUrl(wp, node.path, v.version), title: t('doc.downloadVersion', { v: v.version }), dataset: { version: String(v.version) } },
            icon('download', { size: 18 }), h('span.sr-only', t('doc.downloadVersion', { v: v.version }))),
          writable && !current ? button(t('doc.restoreVersion', { v: v.version }), { icon: 'restore', kind: 'ghost', iconOnly: true, on: () => restore(v) }) : null)));
  }

  function draw() {
    const kind = kindOf(node.name, node.mime);
    ctx.setTitle(`${node.name} · ${wp}`);
    const parent = node.path.split('/').slice(0, -1).join('/');
    const actions = [linkButton(t('doc.download'), contentUrl(wp, node.path), { icon: 'download', kind: 'primary' })];
    actions.push(followButton(wp, node.path));
    if (writable) {
      actions.push(button(t('doc.newVersion'), { icon: 'upload', on: uploadVersion }));
      if (!locks.length) actions.push(button(t('doc.checkOut'), { icon: 'lock', on: () => lockAction('out') }));
      actions.push(menuButton(t('doc.more'), [
        [t('doc.editDetails'), 'edit', editDetails],
        [t('browse.rename'), 'edit', () => renameDialog(wp, node).then((r) => r && go(href('wp', wp, r.path), { replace: true }))],
        [t('browse.move'), 'move', () => moveDialog(wp, node).then((r) => r && go(href('wp', wp, r.path), { replace: true }))],
        [t('browse.trash'), 'trash', () => trashNode(wp, node, { confirmFirst: true }).then((ok) => ok && go(href('wp', wp, parent)))],
      ], { iconOnly: true, kind: 'secondary' }));
    }
    const facts = h('dl.facts',
      h('dt', t('doc.deliverable')), h('dd', node.deliverable || h('span.muted', t('doc.none'))),
      h('dt', t('doc.status')), h('dd', node.status ? statusBadge(node.status) : h('span.muted', t('doc.noStatus'))),
      h('dt', t('doc.version')), h('dd', `v${node.version}`),
      h('dt', t('doc.size')), h('dd', `${bytes(node.size)} (${t('doc.bytes', { n: number(node.size) })})`),
      h('dt', t('doc.type')), h('dd', node.mime || h('span.muted', '—')),
      h('dt', t('doc.modified')), h('dd', h('time', { datetime: node.modified_at, title: fullDate(node.modified_at) }, relative(node.modified_at)),
        node.modified_by ? ` · ${node.modified_by.name}` : ''),
      h('dt', t('doc.created')), h('dd', h('time', { datetime: node.created_at }, dateTime(node.created_at))),
      h('dt', t('doc.location')), h('dd', h('a', { href: href('wp', wp, parent) }, [wp, ...parent.split('/').filter(Boolean)].join(' / '))));
    const versions = node.versions || [];
    mount(page,
      h('header.page-head',
        crumbs(wp, node.path, wpInfo),
        h('div.page-title-row',
          h('div.doc-title', fileIcon(kind), h('div.page-title', h('h1', { tabindex: '-1' }, node.name),
            h('p.page-sub', h('span', t('doc.versionLine', { v: node.version })), node.deliverable ? [' · ', badge(node.deliverable, 'accent')] : null,
              node.status ? [' ', statusBadge(node.status)] : null, scanBadge(node.scan) ? [' ', scanBadge(node.scan)] : null))),
          h('div.page-actions', actions))),
      lockLine(),
      err,
      previewPane(wp, node, startPage),
      h('div.doc-grid',
        h('section.card.doc-details', { 'aria-labelledby': 'doc-details' },
          h('div.card-head', h('h2', { id: 'doc-details' }, t('doc.details')),
            writable ? button(t('doc.edit'), { kind: 'ghost', icon: 'edit', on: editDetails, attrs: { 'aria-label': t('doc.editDetails') } }) : null),
          facts),
        h('section.card.doc-versions', { 'aria-labelledby': 'doc-versions' },
          h('div.card-head', h('h2', { id: 'doc-versions' }, t('doc.history'), ' ', h('span.count', `(${node.versions_total})`))),
          tableWrap(h('table.table',
            h('caption.sr-only', t('doc.history')),
            h('thead', h('tr', h('th', { scope: 'col' }, t('doc.version')), h('th', { scope: 'col' }, t('doc.uploaded')),
              h('th.hide-sm', { scope: 'col' }, t('doc.size')), h('th.hide-sm', { scope: 'col' }, t('doc.comment')), h('th.col-actions', { scope: 'col' }, h('span.sr-only', t('common.actions'))))),
            h('tbody', versions.map(versionRow)))),
          node.versions_total > versions.length ? h('p.muted', t('doc.moreVersions', { n: node.versions_total - versions.length })) : null),
        h('section.card.doc-activity', { 'aria-labelledby': 'doc-activity' },
          h('div.card-head', h('h2', { id: 'doc-activity' }, t('activity.title'))),
          activityFeed({ wp, path: node.path, limit: 10 }))));
  }

  const off = on('uploaded', (u) => {
    if (u.wp.toLowerCase() === wp.toLowerCase() && u.path === node.path) reload();
  });
  ctx.onLeave(off);
  draw();
  loadLocks().then(() => { if (locks.length) draw(); });
  return page;
}
