// The recipient's page of a share link (/s/SECRET, docs/links.md): a
// small page of its own, with no session and no access to anything but
// the link's own routes (/api/v1/s/SECRET/...). It shows the note, asks
// for the password when the link has one, and offers the document, or
// the folder to browse, its files and the folder as a ZIP; for a drop
// link, a form to upload into the folder (name, files by drag-and-drop
// or the picker, progress, resumed through tus after a cut) that shows
// nothing of what is there. The key a password gives stays in this
// page's memory only.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { icon } from '../icons.js';
import { bytes, dateTime } from '../format.js';
import { field, input, button, errorBox } from '../ui.js';
import { TusUpload } from '../upload/tus.js';

export default function share(root, secret) {
  const base = `/api/v1/s/${encodeURIComponent(secret)}`;
  const card = h('div.auth-card.share-card');
  const page = h('main.auth-page', h('div.auth-brand', icon('logo', { size: 28 }), h('span', 'consort')), card);
  let key = null;
  mount(root, page);
  document.title = t('share.title');

  // An answer whose body is never read keeps its request open in the
  // browser (the page never goes idle): error bodies are read too.
  const drain = (r) => r.arrayBuffer().catch(() => null);
  const withKey = (url) => (key ? `${url}${url.includes('?') ? '&' : '?'}key=${key}` : url);

  async function meta(path) {
    const r = await fetch(path ? `${base}?path=${encodeURIComponent(path)}` : base,
      { headers: key ? { 'X-Link-Key': key } : {} });
    if (!r.ok) await drain(r);
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(t('error.status', { status: r.status }));
    return (await r.json()).link;
  }

  function gone() {
    mount(card, h('h1', t('share.goneTitle')), h('p', t('share.gone')));
  }

  function askPassword() {
    const pw = input({ type: 'password', name: 'password', autocomplete: 'off', required: true });
    const err = errorBox();
    const submit = button(t('share.unlock'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block' } });
    const form = h('form.auth-form', { novalidate: true }, field(t('share.password'), pw), err, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.show(null);
      if (!pw.value) { err.show(t('share.passwordMissing')); return; }
      submit.disabled = true;
      try {
        const r = await fetch(`${base}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ password: pw.value }) });
        if (!r.ok) await drain(r);
        if (r.status === 401) err.show(t('share.passwordWrong'));
        else if (r.status === 429) err.show(t('share.throttled', { seconds: r.headers.get('retry-after') || '30' }));
        else if (r.status === 404) gone();
        else if (!r.ok) err.show(t('error.status', { status: r.status }));
        else { key = (await r.json()).key; await show(''); }
      } catch {
        err.show(t('error.network'));
      } finally {
        submit.disabled = false;
      }
    });
    mount(card, h('h1', t('share.passwordTitle')), h('p', t('share.passwordText')), form);
    pw.focus();
  }

  const download = (href, label) => h('a.btn.btn-primary', { href: withKey(href), download: '', rel: 'noreferrer' }, label);

  async function show(path) {
    let l;
    try {
      l = await meta(path);
    } catch (e) {
      mount(card, h('h1', t('error.title')), h('p', e.message));
      return;
    }
    if (!l) { gone(); return; }
    if (l.password_required && !l.unlocked) { askPassword(); return; }
    const note = l.note ? h('p.share-note', l.note) : null;
    const expires = h('p.muted', t('share.expires', { when: dateTime(l.expires_at) }));
    if (l.kind === 'drop') { dropForm(l, note, expires); return; }
    const target = l.target;
    if (target.type === 'document') {
      mount(card, h('h1', target.name), note,
        h('p', `${bytes(target.size)} · ${t('share.version', { n: target.version })}`),
        download(`${base}/file`, t('share.download')), expires);
      return;
    }
    const crumbs = h('nav.share-crumbs', h('a', { href: '#', on: { click: (e) => { e.preventDefault(); show(''); } } }, target.path ? t('share.top') : ''),
      target.path ? ` / ${target.path}` : '');
    const rows = target.entries.map((e) => {
      const p = target.path ? `${target.path}/${e.name}` : e.name;
      return h('li.share-entry', e.folder
        ? h('a', { href: '#', on: { click: (ev) => { ev.preventDefault(); show(p); } } }, icon('folder'), ` ${e.name}`)
        : h('a', { href: withKey(`${base}/file?path=${encodeURIComponent(p)}`), download: '', rel: 'noreferrer' },
          icon('file'), ` ${e.name}`, h('span.muted', ` · ${bytes(e.size)}`)));
    });
    mount(card, h('h1', target.name || t('share.folder')), note, crumbs,
      rows.length ? h('ul.share-list', rows) : h('p.muted', t('share.empty')),
      download(`${base}/zip${target.path ? `?path=${encodeURIComponent(target.path)}` : ''}`, t('share.zip')), expires);
  }

  // The drop page: the uploader names themselves, then picks or drops
  // files; each goes up through tus, one after the other, with its bar.
  function dropForm(l, note, expires) {
    const name = input({ name: 'uploader', autocomplete: 'name', required: true, maxlength: '100' });
    const err = errorBox();
    const picker = h('input', { type: 'file', multiple: true, class: 'sr-only', id: 'drop-files', tabindex: '-1', 'aria-hidden': 'true' });
    const pick = button(t('drop.pick'), { on: { click: () => picker.click() } });
    const zone = h('div.drop-zone', icon('upload'), h('p', t('drop.zone')), pick, picker);
    const list = h('ul.share-list.drop-list');
    const limits = [];
    if (l.max_file_size) limits.push(t('drop.maxSize', { size: bytes(l.max_file_size) }));
    if (l.max_files) limits.push(t('drop.filesLeft', { n: l.files_left }));
    let queue = Promise.resolve();

    function send(file) {
      const bar = h('progress.upload-bar', { max: String(file.size || 1), value: '0', 'aria-label': t('upload.progressOf', { name: file.name }) });
      const state = h('span.muted', t('drop.waiting'));
      list.append(h('li.share-entry.drop-item', h('span', icon('file'), ` ${file.name}`), bar, state));
      const uploader = name.value.trim();
      queue = queue.then(async () => {
        const up = new TusUpload(file, {
          endpoint: `${base}/uploads`,
          meta: { uploader },
          headers: key ? { 'X-Link-Key': key } : {},
          fp: ['drop', secret, uploader, file.name, file.size, file.lastModified || 0].join('\n'),
          onProgress: (n) => { bar.value = String(n); state.textContent = `${Math.floor((100 * n) / (file.size || 1))} %`; },
          onState: (st, info) => {
            if (st === 'retrying') state.textContent = t('drop.retrying', { seconds: info.in });
          },
        });
        try {
          await up.start();
          bar.value = String(file.size || 1);
          state.textContent = t('drop.done');
          state.className = 'drop-done';
        } catch (e) {
          state.className = 'field-error';
          if (e.status === 413) state.textContent = t('drop.tooLarge');
          else if (e.status === 409) state.textContent = t('drop.full');
          else if (e.status === 404) state.textContent = t('share.gone');
          else state.textContent = e.detail || t('error.status', { status: e.status });
        }
      });
    }
    function take(files) {
      err.show(null);
      if (!name.value.trim()) { err.show(t('drop.nameMissing')); name.focus(); return; }
      for (const f of files) send(f);
    }
    picker.addEventListener('change', () => { take([...picker.files]); picker.value = ''; });
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('drag'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('drag'));
    zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('drag'); take([...e.dataTransfer.files]); });
    mount(card, h('h1', t('drop.title')), note, h('p', t('drop.text')),
      limits.length ? h('p.muted', limits.join(' · ')) : null,
      field(t('drop.name'), name, { hint: t('drop.nameHint') }), err, zone, list, expires);
  }

  show('');
}
