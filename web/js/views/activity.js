// Activity and following: the feed of a work package, folder or
// document (or the caller's own, on home), grouped by the server
// ("Marta uploaded 12 files to WP3/Minutes"), paged with "Show more";
// the Follow button; the notification settings card of the account page.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { href } from '../router.js';
import { get, put, del, describe } from '../api.js';
import { relative, fullDate } from '../format.js';
import { button, field, select, toast, loading } from '../ui.js';

function groupLink(g) {
  // consortium news and events live on their own pages
  if (g.action === 'news_create') return '#/news';
  if (g.action === 'event_create') return '#/events';
  const one = g.count === 1 && g.action !== 'grant' && g.action !== 'delete' && g.action !== 'purge';
  return one ? href('wp', g.wp, g.items[0].path) : href('wp', g.wp, g.folder);
}

function groupItem(g) {
  return h('li.activity-item', { 'data-action': g.action },
    h('div.feed-main', h('a', { href: groupLink(g) }, g.text),
      g.count > 1 ? h('span.feed-meta', g.items.map((i) => i.path.split('/').pop()).join(', ') +
        (g.count > g.items.length ? ' …' : '')) : null),
    h('time.feed-meta', { datetime: g.until, title: fullDate(g.until) }, relative(g.until)));
}

// The feed; `wp` absent: the caller's own (what they follow).
export function activityFeed({ wp, path, limit = 20, emptyText } = {}) {
  const list = h('ul.feed.activity', { 'aria-live': 'polite' });
  const more = button(t('activity.more'), { kind: 'ghost' });
  const box = h('div.activity-box', loading());
  let before = null;
  async function page() {
    more.disabled = true;
    try {
      const r = await get('/api/v1/activity', { params: { wp, path: path || undefined, limit, before: before || undefined } });
      list.append(...r.groups.map(groupItem));
      before = r.next;
      more.hidden = r.next === null;
      if (!list.children.length) box.replaceChildren(h('p.muted', emptyText || t('activity.none')));
      else box.replaceChildren(list, more);
    } catch (e) {
      box.replaceChildren(h('p.muted', describe(e)));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', page);
  page();
  return box;
}

// Follow / Following for a work package (path '') or a folder or document.
export function followButton(wp, path = '') {
  const b = button(t('activity.follow'), { icon: 'plus', kind: 'secondary', attrs: { 'aria-pressed': 'false' } });
  let following = false;
  const show = () => {
    b.setAttribute('aria-pressed', String(following));
    b.querySelector('span').textContent = following ? t('activity.following') : t('activity.follow');
    b.classList.toggle('is-following', following);
  };
  get('/api/v1/follows').then((r) => {
    const mine = r.follows.find((f) => f.wp.toLowerCase() === wp.toLowerCase() && f.path === path);
    following = !!(mine && mine.follow);
    show();
  }, () => {});
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      if (following) await del('/api/v1/follows', { json: { wp, path } });
      else await put('/api/v1/follows', { wp, path });
      following = !following;
      show();
      toast(following ? t('activity.nowFollowing') : t('activity.notFollowing'));
    } catch (e) {
      toast(describe(e), { kind: 'error' });
    } finally {
      b.disabled = false;
    }
  });
  show();
  return b;
}

// The account page's card: how often mail comes, automatic following.
export function notificationSettings() {
  const mode = select([
    ['immediate', t('activity.modeImmediate')], ['hourly', t('activity.modeHourly')],
    ['daily', t('activity.modeDaily')], ['off', t('activity.modeOff')],
  ]);
  const auto = h('input', { type: 'checkbox', id: 'notify-auto' });
  const news = h('input', { type: 'checkbox', id: 'notify-news' });
  const box = h('section.card', { 'aria-labelledby': 'acc-notify' },
    h('h2', { id: 'acc-notify' }, t('activity.settings')),
    h('p.muted', t('activity.settingsSub')),
    h('div.stack.narrow', field(t('activity.mode'), mode),
      h('label.check', auto, ' ', t('activity.autoFollow')),
      h('label.check', news, ' ', t('activity.news'))));
  get('/api/v1/me/notifications').then((r) => {
    mode.value = r.mode; auto.checked = r.auto_follow; news.checked = r.news !== false;
  }, () => {});
  const save = async (json) => {
    try {
      await put('/api/v1/me/notifications', json);
      toast(t('activity.saved'));
    } catch (e) { toast(describe(e), { kind: 'error' }); }
  };
  mode.addEventListener('change', () => save({ mode: mode.value }));
  auto.addEventListener('change', () => save({ auto_follow: auto.checked }));
  news.addEventListener('change', () => save({ news: news.checked }));
  return box;
}
