// News (#/news): the consortium's news, newest first. Coordinators and
// communication contacts post (Markdown; the server makes it safe) and
// remove items.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del, api, patch } from '../api.js';
import { fullDate, date } from '../format.js';
import { richText } from '../richtext.js';
import { button, dialog, field, input, toast, pageHeader, loading, empty, errorBox, confirm } from '../ui.js';

export function newsItem(n, { full = true, onDelete, onEdit } = {}) {
  return h('article.news-item', { 'aria-labelledby': `news-${n.id}` },
    h('h2.news-title', { id: `news-${n.id}` }, n.title),
    h('p.news-meta', h('time', { datetime: n.created_at, title: fullDate(n.created_at) }, date(n.created_at)), n.author ? ` · ${n.author}` : '',
      n.edited_at ? h('span.news-edited', ' · ', h('time', { datetime: n.edited_at, title: fullDate(n.edited_at) }, t('news.edited', { date: date(n.edited_at) }))) : null),
    full && n.image ? h('img.news-image.news-lead', { src: n.image, alt: '' }) : null,
    full ? richText(n.html) : null,
    onDelete || onEdit ? h('div.news-actions',
      onEdit ? button(t('news.edit'), { icon: 'edit', kind: 'ghost', on: () => onEdit(n) }) : null,
      onDelete ? button(t('news.delete'), { icon: 'trash', kind: 'ghost', on: () => onDelete(n) }) : null) : null);
}

// Post a news item, or edit `item` in place (PATCH: what is sent changes).
export async function postNewsDialog(item = null) {
  const title = input({ name: 'title', required: true, maxlength: '200', autocomplete: 'off', value: item?.title || '' });
  const text = h('textarea.input.textarea', { name: 'body', rows: '10', required: true });
  text.value = item?.body || '';
  const picture = h('input.input', { type: 'file', name: 'image', accept: 'image/png,image/jpeg,image/gif,image/webp,image/svg+xml' });
  const fs = [field(t('news.titleField'), title), field(t('news.textField'), text, { hint: t('news.textHint') }),
    field(t('news.picture'), picture, { hint: item?.image ? `${t('news.pictureHint')} ${t('news.pictureKeep')}` : t('news.pictureHint') })];
  return dialog({
    title: item ? t('news.editTitle') : t('news.postTitle'),
    wide: true,
    build: () => h('div.stack', fs),
    submitLabel: item ? t('news.save') : t('news.post'),
    submit: async () => {
      fs.forEach((f) => f.setError(null));
      if (!title.value.trim()) { fs[0].setError(t('form.required')); title.focus(); return false; }
      const body = { title: title.value.trim(), body: text.value };
      if (picture.files[0]) {
        try {
          body.image = (await api('POST', '/api/v1/images', { body: picture.files[0], headers: { 'Content-Type': 'application/octet-stream' } })).image.id;
        } catch (e) { fs[2].setError(e.detail || String(e)); picture.focus(); return false; }
      }
      if (item) return (await patch(`/api/v1/news/${item.id}`, body)).news;
      return (await post('/api/v1/news', body)).news;
    },
  });
}

export default async function news(ctx) {
  ctx.setTitle(t('nav.news'));
  const err = errorBox();
  const body = h('div', loading());
  let r;
  async function load() {
    try {
      r = await get('/api/v1/news', { params: { limit: 50 } });
    } catch (e) { err.show(e); body.replaceChildren(); return; }
    draw();
  }
  async function remove(n) {
    if (!await confirm({ title: t('news.deleteTitle'), text: t('news.deleteText', { title: n.title }), confirmLabel: t('news.delete'), danger: true })) return;
    try { await del(`/api/v1/news/${n.id}`); toast(t('news.deleted')); await load(); } catch (e) { err.show(e); }
  }
  async function edit(n) {
    if (await postNewsDialog(n)) { toast(t('news.saved')); await load(); }
  }
  function draw() {
    mount(body, r.news.length
      ? h('div.news-list', r.news.map((n) => newsItem(n, { onDelete: r.may_post ? remove : null, onEdit: n.may_edit ? edit : null })))
      : empty(t('news.noneTitle'), t('news.noneText')));
  }
  await load();
  const actions = r?.may_post ? [button(t('news.post'), { icon: 'plus', kind: 'primary', on: async () => {
    const n = await postNewsDialog();
    if (n) { toast(t('news.posted')); await load(); }
  } })] : null;
  return h('section.page.news-page', pageHeader(t('nav.news'), { actions, sub: t('news.sub') }), err, body);
}
