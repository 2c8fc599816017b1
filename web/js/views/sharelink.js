// Making a share link (docs/links.md) from a row of the folder list: the
// work package's policy says how long it may live and whether it needs a
// password; the link's URL is shown once, to copy and send. On a folder,
// when the policy allows drop links, the kind can be "drop": the limits
// are then files and size per file.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, describe } from '../api.js';
import { dialog, field, input, select, copyText } from '../ui.js';

const day = (d) => new Date(Date.now() + d * 86400e3).toISOString().slice(0, 10);

export async function shareDialog(wp, node) {
  let policy = { links: 'download', links_max_days: 30, links_password: false };
  try { policy = (await get(`/api/v1/wps/${encodeURIComponent(wp)}`)).wp; } catch { /* the server decides anyway */ }
  const max = Math.max(1, policy.links_max_days || 30);
  const expires = input({ type: 'date', required: true, min: day(0), max: day(max - 1), value: day(Math.min(7, max - 1)) });
  const password = input({ type: 'password', autocomplete: 'new-password', minlength: 8, required: !!policy.links_password });
  const limit = input({ type: 'number', min: 1, step: 1, inputmode: 'numeric' });
  const note = h('textarea.input', { rows: 3, maxlength: 1000 });
  const fExpires = field(t('sharelink.expires'), expires, { hint: t('sharelink.expiresHint', { n: max }) });
  const fPassword = field(policy.links_password ? t('sharelink.passwordRequired') : t('sharelink.password'), password, { hint: t('sharelink.passwordHint') });
  const fLimit = field(t('sharelink.limit'), limit, { hint: t('sharelink.limitHint') });
  const fNote = field(t('sharelink.note'), note, { hint: t('sharelink.noteHint') });
  const canDrop = policy.links === 'drop' && node.type !== 'document';
  const kind = select([['download', t('sharelink.kindDownload')], ['drop', t('sharelink.kindDrop')]], { value: 'download' });
  const fKind = canDrop ? field(t('sharelink.kind'), kind) : null;
  const files = input({ type: 'number', min: 1, step: 1, inputmode: 'numeric' });
  const size = input({ type: 'number', min: 0.001, step: 'any', inputmode: 'decimal' });
  const fFiles = field(t('sharelink.maxFiles'), files, { hint: t('sharelink.limitHint') });
  const fSize = field(t('sharelink.maxSize'), size, { hint: t('sharelink.limitHint') });
  const drop = () => canDrop && kind.value === 'drop';
  const toggle = () => { fLimit.hidden = drop(); fFiles.hidden = !drop(); fSize.hidden = !drop(); };
  kind.addEventListener('change', toggle);
  toggle();
  const made = await dialog({
    title: t('sharelink.title', { name: node.name || wp }),
    build: () => h('div.stack', policy.links === 'off' ? h('p', t('sharelink.off')) : null, fKind, fExpires, fPassword, fLimit, fFiles, fSize, fNote),
    submitLabel: t('sharelink.make'),
    submit: async () => {
      for (const f of [fExpires, fPassword, fLimit, fFiles, fSize, fNote]) f.setError(null);
      if (!expires.value) { fExpires.setError(t('form.required')); return false; }
      const body = { wp, path: node.path || '', expires_at: `${expires.value}T23:59:59Z`, note: note.value };
      if (password.value) body.password = password.value;
      if (drop()) {
        body.kind = 'drop';
        if (files.value) body.max_files = Number(files.value);
        if (size.value) body.max_file_size = Math.round(Number(size.value) * 1e6);
      } else if (limit.value) body.max_downloads = Number(limit.value);
      try {
        return await post('/api/v1/links', body);
      } catch (e) {
        const f = { expires_at: fExpires, password: fPassword, max_downloads: fLimit, max_files: fFiles, max_file_size: fSize, note: fNote }[/field '(\w+)'/.exec(e.detail || '')?.[1]];
        if (f && e.status === 400) { f.setError(describe(e)); return false; }
        throw e;
      }
    },
  });
  if (!made) return null;
  const url = `${location.origin}${made.url}`;
  await dialog({
    title: t('sharelink.madeTitle'),
    build: () => h('div.stack', h('p', t('sharelink.madeText')),
      h('input.input', { readonly: true, value: url, 'aria-label': t('sharelink.url'), on: { focus: (e) => e.target.select() } })),
    submitLabel: t('common.copy'),
    submit: async () => { await copyText(url); return true; },
  });
  return made;
}
