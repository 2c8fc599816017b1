// Home: the caller's work packages with their level on each.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { href } from '../router.js';
import { session, isCoordinator } from '../session.js';
import { levelName } from '../format.js';
import { badge, empty, linkButton, pageHeader } from '../ui.js';

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
  return h('section.page', pageHeader(greeting(), { sub: t('home.sub') }), sections);
}
