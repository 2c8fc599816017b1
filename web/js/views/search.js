// Search results (#/search?q=…&wp=…&type=…): highlighted snippets, the
// work package, type and date of each hit, facets by work package and
// type, a "did you mean" when nothing matched, open or download.
import { h, mount, highlighted } from '../dom.js';
import { t } from '../i18n.js';
import { get, contentUrl, describe } from '../api.js';
import { href } from '../router.js';
import { icon, fileIcon } from '../icons.js';
import { session } from '../session.js';
import { bytes, date, fullDate, number, kindOf } from '../format.js';
import { badge, empty, errorBox, loading, linkButton } from '../ui.js';
import { statusBadge } from './nodes.js';

const PAGE = 20;

export default async function search(ctx) {
  const q = (ctx.params.get('q') || '').trim();
  const wp = ctx.params.get('wp') || '';
  const type = ctx.params.get('type') || '';
  const box = ctx.searchBox();
  if (box) box.value = q;
  ctx.setTitle(q ? t('search.titleFor', { q }) : t('search.title'));
  const err = errorBox();
  const results = h('div.results');
  const facetsEl = h('aside.facets', { 'aria-label': t('search.refine') });
  const summary = h('p.results-summary', { role: 'status' });
  let offset = 0;
  let hits = [];

  const link = (params) => href('search', { q, wp, type, ...params });

  function facetList(title, id, key, items, active) {
    if (!items || !items.length) return null;
    return h('section.facet', { 'aria-labelledby': id },
      h('h2.facet-title', { id }, title),
      h('ul',
        active ? h('li', h('a.facet-link', { href: link({ [key]: null }) }, icon('x', { size: 14 }), h('span', t('search.anyValue')))) : null,
        items.map((f) => {
          const v = f[key];
          const label = key === 'type' ? t(`type.${v}`) === `type.${v}` ? v.toUpperCase() : t(`type.${v}`) : v;
          const title2 = key === 'wp' ? session.wps.find((w) => w.code === v)?.title : null;
          return h('li', h('a.facet-link', { href: link({ [key]: active === v ? null : v }), 'aria-current': active === v ? 'true' : null, title: title2 || null },
            h('span.facet-name', label), h('span.facet-count', number(f.count))));
        })));
  }

  function hitEl(x) {
    const kind = kindOf(x.name, x.mime);
    const folder = x.path.split('/').slice(0, -1).join(' / ');
    return h('li.hit',
      fileIcon(kind),
      h('div.hit-main',
        h('h3.hit-title', h('a', { href: href('wp', x.wp, x.path, x.page ? { page: x.page } : undefined) }, x.title || x.name)),
        h('p.hit-path', h('span.wp-code', x.wp), ' ', h('span', [folder, x.name].filter(Boolean).join(' / '))),
        x.snippet ? h('p.hit-snippet', highlighted(x.snippet)) : null,
        h('p.hit-meta',
          h('span', t(`type.${x.type}`) === `type.${x.type}` ? (x.type || '').toUpperCase() : t(`type.${x.type}`)),
          h('span', h('time', { datetime: x.date, title: fullDate(x.date) }, date(x.date))),
          x.page ? h('span.hit-page', t('search.onPage', { n: x.page })) : null,
          x.size !== undefined ? h('span', bytes(x.size)) : null,
          x.author ? h('span', x.author) : null,
          x.deliverable ? badge(x.deliverable, 'accent') : null,
          x.status ? statusBadge(x.status) : null)),
      h('div.hit-actions',
        h('a.btn.btn-ghost.btn-icon', { href: contentUrl(x.wp, x.path), title: t('search.downloadNamed', { name: x.name }) }, icon('download', { size: 18 }), h('span.sr-only', t('search.downloadNamed', { name: x.name })))));
  }

  async function fetchPage() {
    const r = await get('/api/v1/search', { params: { q, wp: wp || undefined, type: type || undefined, limit: PAGE, offset } });
    return r;
  }

  // People, partners and work packages matching the words: their own
  // section above the documents (the server answers it on the first page).
  const dirEl = h('div');
  function drawDirectory(items) {
    if (!items || !items.length) { dirEl.replaceChildren(); return; }
    const link = (x) => (x.kind === 'partner' ? href('directory', x.key) : x.kind === 'wp' ? href('wp', x.key) : `mailto:${x.key}`);
    mount(dirEl, h('section.section.dir-hits', { 'aria-labelledby': 'dir-hits' },
      h('h2', { id: 'dir-hits' }, t('dir.searchHeading')),
      h('ul.feed', items.map((x) => h('li.dir-hit', badge(t(`dir.kind.${x.kind}`)),
        h('div.feed-main', h('a', { href: link(x) }, x.title), h('span.feed-meta', [x.kind === 'person' ? x.key : x.kind === 'partner' ? x.key : null, x.detail].filter(Boolean).join(' · '))))))));
  }

  let more = null;
  function drawResults(r) {
    if (!hits.length) {
      mount(results, empty(t('search.noneTitle'), t('search.noneText', { q }),
        r.suggestion ? h('p', t('search.didYouMean'), ' ', h('a', { href: href('search', { q: r.suggestion, wp, type }) }, r.suggestion)) : null,
        wp || type ? linkButton(t('search.everywhere'), href('search', { q }), { kind: 'secondary' }) : null));
      return;
    }
    more = offset + PAGE < r.total && offset + PAGE <= 10000 ? h('button.btn.btn-secondary.more-btn', { type: 'button' }, t('search.more')) : null;
    if (more) {
      more.addEventListener('click', async () => {
        more.disabled = true;
        offset += PAGE;
        try {
          const r2 = await fetchPage();
          const start = hits.length;
          hits = hits.concat(r2.hits || []);
          drawResults(r2);
          results.querySelectorAll('.hit-title a')[start]?.focus();
        } catch (e) { err.show(e); more.disabled = false; }
      });
    }
    mount(results, h('ol.hits', hits.map(hitEl)), more);
  }

  if (!q) {
    mount(results, empty(t('search.startTitle'), t('search.startText')));
  } else {
    mount(results, loading(t('search.searching')));
    try {
      const r = await fetchPage();
      hits = r.hits || [];
      const filters = [wp ? t('search.inWp', { wp }) : null, type ? t('search.ofType', { type: t(`type.${type}`) === `type.${type}` ? type.toUpperCase() : t(`type.${type}`) }) : null].filter(Boolean).join(', ');
      summary.textContent = r.total
        ? t(r.total_exact === false ? 'search.aboutResults' : 'search.results', { n: r.total, q }) + (filters ? ` ${filters}` : '')
        : '';
      mount(facetsEl,
        facetList(t('search.byWp'), 'facet-wp', 'wp', r.facets?.wp, wp),
        facetList(t('search.byType'), 'facet-type', 'type', r.facets?.type, type));
      drawDirectory(r.directory);
      drawResults(r);
    } catch (e) {
      if (e.status === 400) err.show(t('search.badQuery', { detail: describe(e) }));
      else err.show(e);
      results.replaceChildren();
    }
  }
  return h('section.page.search-page',
    h('header.page-head', h('div.page-title', h('h1', { tabindex: '-1' }, q ? t('search.heading', { q }) : t('search.title')), summary)),
    err,
    dirEl,
    h('div.search-layout', facetsEl, results));
}
