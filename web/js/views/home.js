// Home: the caller's work packages with their level on each.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { href } from '../router.js';
import { session, isCoordinator } from '../session.js';
import { levelName, relative, fullDate, kindOf } from '../format.js';
import { get } from '../api.js';
import { fileIcon } from '../icons.js';
import { badge, empty, linkButton, pageHeader, loading } from '../ui.js';
import { activityFeed } from './activity.js';
import { when } from './events.js';

// Both lists come from the search API (the only view across work
// packages, and it only ever shows what the caller may read): the
// status:… filter for deliverables, and a date window, newest first,
// for recent changes. The index follows uploads within moments.
const day = (d) => d.toISOString().slice(0, 10);

async function recent() {
  const now = new Date();
  const tomorrow = new Date(now.getTime() + 86400000);
  for (const days of [14, 3, 1]) {
    const from = new Date(now.getTime() - days * 86400000);
    const r = await get('/api/v1/search', { params: { q: `date:${day(from)}..${day(tomorrow)}`, limit: 100 } });
    if (r.total <= 100 || days === 1) return (r.hits || []).sort((a, b) => (b.date || '').localeCompare(a.date || '')).slice(0, 8);
  }
  return [];
}

async function byStatus(status) {
  const r = await get('/api/v1/search', { params: { q: `status:${status}`, limit: 8 } });
  return { total: r.total, hits: r.hits || [] };
}

function greeting() {
  const hour = new Date().getHours();
  const first = (session.user.name || '').split(/\s+/)[0];
  if (hour < 12) return t('home.morning', { name: first });
  if (hour < 18) return t('home.afternoon', { name: first });
  return t('home.evening', { name: first });
}

function wpCard(w) {
  return h('li.wp-card',
    h('a.wp-card-link', { href: href('wp', w.code) },
      h('div.wp-card-top', h('span.wp-code', w.code), badge(levelName(w.level), `level-${w.level}`)),
      h('p.wp-card-title', w.title),
      h('p.wp-card-meta', w.lead ? t('home.lead', { lead: w.lead }) : t('home.noLead'))));
}

export default async function home(ctx) {
  ctx.setTitle(t('nav.home'));
  const wps = session.wps;
  const sections = [];
  sections.push(h('section.section', { 'aria-labelledby': 'home-wps' },
    h('div.section-head', h('h2', { id: 'home-wps' }, t('home.yourWps')),
      h('p.section-sub', isCoordinator() ? t('home.coordinatorNote') : t('home.levelsNote'))),
    wps.length
      ? h('ul.wp-grid', wps.map(wpCard))
      : empty(t('home.noWpsTitle'), isCoordinator() ? t('home.noWpsCoordinator') : t('home.noWpsText'),
        isCoordinator() ? linkButton(t('wps.create'), '#/admin/wps', { icon: 'plus', kind: 'primary' }) : null)));
  // The consortium's latest news and upcoming events, for every member.
  const newsEl = h('div', loading());
  const eventsEl = h('div', loading());
  sections.push(h('div.home-pair',
    h('section.section', { 'aria-labelledby': 'home-news' },
      h('div.section-head', h('h2', { id: 'home-news' }, t('news.latest')), h('a', { href: '#/news' }, t('news.allNews'))), newsEl),
    h('section.section', { 'aria-labelledby': 'home-events' },
      h('div.section-head', h('h2', { id: 'home-events' }, t('events.upcomingHeading')), h('a', { href: '#/events' }, t('events.allEvents'))), eventsEl)));
  get('/api/v1/news', { params: { limit: 3 } }).then((r) => {
    newsEl.replaceChildren(r.news.length ? h('ul.feed', r.news.map((n) => h('li', h('div.feed-main', h('a', { href: '#/news' }, n.title),
      h('span.feed-meta', `${relative(n.created_at)}${n.author ? ` · ${n.author}` : ''}`))))) : h('p.muted', t('news.noneTitle')));
  }, () => newsEl.replaceChildren(h('p.muted', t('home.recentUnavailable'))));
  get('/api/v1/events').then((r) => {
    const next = r.events.slice(0, 4);
    eventsEl.replaceChildren(next.length ? h('ul.feed', next.map((e) => h('li', h('div.feed-main', h('a', { href: '#/events' }, e.title),
      h('span.feed-meta', [when(e), e.place].filter(Boolean).join(' · ')))))) : h('p.muted', t('events.noneTitle')));
  }, () => eventsEl.replaceChildren(h('p.muted', t('home.recentUnavailable'))));
  if (wps.length) {
    const tasks = h('div', loading());
    sections.push(h('section.section', { 'aria-labelledby': 'home-tasks' },
      h('div.section-head', h('h2', { id: 'home-tasks' }, t('home.reviewTasks'))), tasks));
    import('./deliverables.js').then((m) => m.reviewTasks().then((list) => tasks.replaceChildren(m.taskList(list))))
      .catch(() => tasks.replaceChildren(h('p.muted', t('home.recentUnavailable'))));
    const feed = h('div', loading());
    const board = h('div', loading());
    sections.push(h('section.section', { 'aria-labelledby': 'home-activity' },
      h('div.section-head', h('h2', { id: 'home-activity' }, t('activity.followedTitle')),
        h('p.section-sub', t('activity.followedSub'))),
      activityFeed({ emptyText: t('activity.noneFollowed') })));
    sections.push(h('section.section', { 'aria-labelledby': 'home-recent' },
      h('div.section-head', h('h2', { id: 'home-recent' }, t('home.recent'))), feed));
    sections.push(h('section.section', { 'aria-labelledby': 'home-deliv' },
      h('div.section-head', h('h2', { id: 'home-deliv' }, t('home.deliverables'))), board));
    recent().then((hits) => {
      feed.replaceChildren(hits.length ? h('ul.feed', hits.map((x) => h('li', fileIcon(kindOf(x.name, x.mime)),
        h('div.feed-main', h('a', { href: href('wp', x.wp, x.path) }, x.name),
          h('span.feed-meta', `${x.wp} · ${x.path.split('/').slice(0, -1).join(' / ') || t('upload.top')} · v${x.version}`)),
        h('time.feed-meta', { datetime: x.date, title: fullDate(x.date) }, relative(x.date))))) : h('p.muted', t('home.noRecent')));
    }, () => feed.replaceChildren(h('p.muted', t('home.recentUnavailable'))));
    Promise.all(['draft', 'review', 'final'].map(byStatus)).then((cols) => {
      board.replaceChildren(h('div.status-board', ['draft', 'review', 'final'].map((st, i) => h('section.status-col', { 'aria-labelledby': `st-${st}` },
        h('h3', { id: `st-${st}` }, badge(t(`status.${st}`), `status-${st}`), h('span.count', String(cols[i].total))),
        cols[i].hits.length ? h('ul', cols[i].hits.map((x) => h('li', h('a', { href: href('wp', x.wp, x.path) }, x.deliverable ? `${x.deliverable} · ${x.name}` : x.name),
          h('span.feed-meta', `${x.wp} · ${relative(x.date)}`)))) : h('p.muted', t('home.noDeliverables'))))));
    }, () => board.replaceChildren(h('p.muted', t('home.recentUnavailable'))));
  }
  return h('section.page', pageHeader(greeting(), { sub: t('home.sub') }), sections);
}
