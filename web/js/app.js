// The browser app: boots, signs in, draws the frame (top bar with the
// search box, navigation, the upload panel) and hands each location to
// its view. Views are loaded on first use, so the first screen needs
// only the modules it shows.
import { h, mount } from './dom.js';
import { t } from './i18n.js';
import { api, get, del, setCsrf, onSessionEnded, onReauthRequired, describe } from './api.js';
import { confirmIdentity } from './reauth.js';
import { parse, href, go } from './router.js';
import { icon } from './icons.js';
import { session, isCoordinator, managesAny, emit, on } from './session.js';
import { toast, menuButton } from './ui.js';
import { syncLanguage } from './langsync.js';

const views = {
  home: () => import('./views/home.js'),
  browse: () => import('./views/browse.js'),
  trash: () => import('./views/trash.js'),
  settings: () => import('./views/wpsettings.js'),
  search: () => import('./views/search.js'),
  users: () => import('./views/users.js'),
  partners: () => import('./views/partners.js'),
  wps: () => import('./views/wps.js'),
  access: () => import('./views/access.js'),
  audit: () => import('./views/audit.js'),
  links: () => import('./views/links.js'),
  deliverables: () => import('./views/deliverables.js'),
  account: () => import('./views/account.js'),
  signin: () => import('./views/signin.js'),
  setpassword: () => import('./views/setpassword.js'),
  directory: () => import('./views/directory.js'),
  news: () => import('./views/news.js'),
  events: () => import('./views/events.js'),
};

const root = document.getElementById('app');
let mainEl = null;
let navEl = null;
let searchInput = null;
let routeSeq = 0;
let leaving = [];
let returnTo = null; // where to go back to after signing in again

function resolve(segments) {
  const [a, b] = segments;
  if (!a) return ['home'];
  if (a === 'wp' && b) return ['browse'];
  if (a === 'trash' && b) return ['trash'];
  if (a === 'settings' && b) return ['settings'];
  if (a === 'search') return ['search'];
  if (a === 'deliverables') return ['deliverables'];
  if (a === 'admin' && ['users', 'partners', 'wps', 'access', 'audit', 'links'].includes(b)) return [b];
  if (a === 'account') return ['account'];
  if (a === 'directory' || a === 'news' || a === 'events') return [a];
  return [null];
}

// The first screen a person can use is drawn: the browser tests read
// this mark to measure time to interactive.
let marked = false;
function markInteractive() {
  if (marked) return;
  marked = true;
  performance.mark('consort-interactive');
}

export function setTitle(text) {
  document.title = text ? `${text} · consort` : 'consort';
}

async function route() {
  if (!session.user) return;
  const seq = ++routeSeq;
  const loc = parse();
  const main = mainEl;
  if (session.enrolmentRequired && loc.segments[0] !== 'account') {
    go(href('account', { enrol: '1' }), { replace: true });
    return;
  }
  for (const fn of leaving.splice(0)) { try { fn(); } catch { /* a view's cleanup must not stop navigation */ } }
  const [name] = resolve(loc.segments);
  highlightNav(loc);
  closeDrawer();
  if (searchInput && loc.segments[0] !== 'search') searchInput.value = '';
  if (!name) {
    mount(main, notFound());
    return;
  }
  main.setAttribute('aria-busy', 'true');
  let mod;
  try {
    mod = await views[name]();
  } catch (e) {
    main.removeAttribute('aria-busy');
    mount(main, h('div.alert.alert-error', { role: 'alert' }, t('error.loadApp'), ' ', describe(e)));
    return;
  }
  if (seq !== routeSeq || !main.isConnected) return;
  const ctx = {
    segments: loc.segments,
    params: loc.params,
    isCurrent: () => seq === routeSeq,
    onLeave: (fn) => leaving.push(fn),
    setTitle,
    searchBox: () => searchInput,
  };
  try {
    const el = await mod.default(ctx);
    if (seq !== routeSeq || !main.isConnected) return;
    mount(main, el);
    markInteractive();
  } catch (e) {
    if (seq !== routeSeq || !main.isConnected) return;
    if (e?.status === 401) return;
    mount(main, h('section.page',
      h('header.page-head', h('h1', { tabindex: '-1' }, e?.status === 404 ? t('error.notFoundTitle') : t('error.title'))),
      h('div.alert.alert-error', { role: 'alert' }, icon('alert', { size: 18 }), h('span', describe(e))),
      h('p', h('a', { href: '#/' }, t('nav.backHome')))));
    setTitle(t('error.title'));
  } finally {
    main.removeAttribute('aria-busy');
  }
  if (seq === routeSeq && !main.contains(document.activeElement)) {
    const h1 = main.querySelector('h1');
    if (h1 && document.activeElement?.closest?.('.topbar') == null) h1.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

function notFound() {
  setTitle(t('error.notFoundTitle'));
  return h('section.page', h('header.page-head', h('h1', { tabindex: '-1' }, t('error.notFoundTitle'))),
    h('p', t('error.notFoundText')), h('p', h('a', { href: '#/' }, t('nav.backHome'))));
}

// ---- the frame --------------------------------------------------------------

function navLink(hash, label, ic, extra) {
  return h('li', h('a.nav-link', { href: hash, dataset: { nav: hash } }, icon(ic, { size: 18 }), h('span.nav-text', label), extra || null));
}

function renderNav() {
  const items = [navLink('#/', t('nav.home'), 'home'), navLink('#/deliverables', t('nav.deliverables'), 'list'),
    navLink('#/directory', t('nav.directory'), 'building'), navLink('#/news', t('nav.news'), 'list'), navLink('#/events', t('nav.events'), 'clock')];
  const wpItems = session.wps.map((w) => h('li', h('a.nav-link.nav-wp', { href: href('wp', w.code), dataset: { nav: href('wp', w.code) }, title: `${w.code} — ${w.title}` },
    h('span.wp-code', w.code), h('span.nav-text', w.title))));
  const admin = [];
  if (isCoordinator()) {
    admin.push(navLink('#/admin/users', t('nav.users'), 'users'));
    admin.push(navLink('#/admin/partners', t('nav.partners'), 'building'));
    admin.push(navLink('#/admin/wps', t('nav.wps'), 'layers'));
  }
  if (isCoordinator() || managesAny()) admin.push(navLink('#/admin/access', t('nav.access'), 'shield'));
  if (isCoordinator()) admin.push(navLink('#/admin/audit', t('nav.audit'), 'list'));
  if (isCoordinator() || managesAny()) admin.push(navLink('#/admin/links', t('nav.links'), 'link'));
  mount(navEl,
    h('ul.nav-list', items),
    h('h2.nav-heading', { id: 'nav-wps' }, t('nav.workPackages')),
    wpItems.length ? h('ul.nav-list', { 'aria-labelledby': 'nav-wps' }, wpItems) : h('p.nav-empty', t('nav.noWps')),
    admin.length ? [h('h2.nav-heading', { id: 'nav-admin' }, t('nav.admin')), h('ul.nav-list', { 'aria-labelledby': 'nav-admin' }, admin)] : null);
  highlightNav(parse());
}

function highlightNav(loc) {
  if (!navEl) return;
  const segs = loc.segments;
  let key = '#/';
  if (segs[0] === 'wp' || segs[0] === 'trash') key = href('wp', segs[1] || '');
  else if (segs[0] === 'admin') key = `#/admin/${segs[1]}`;
  else if (segs[0]) key = null;
  for (const a of navEl.querySelectorAll('a[data-nav]')) {
    const cur = key && a.dataset.nav.toLowerCase() === key.toLowerCase();
    if (cur) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function closeDrawer() {
  document.body.classList.remove('drawer-open');
  document.getElementById('menu-toggle')?.setAttribute('aria-expanded', 'false');
}

function initials(name) {
  return (name || '?').split(/\s+/).filter(Boolean).slice(0, 2).map((s) => s[0].toUpperCase()).join('');
}

async function signOut() {
  try { await del('/api/v1/session'); } catch { /* gone already: the same outcome */ }
  setCsrf(null);
  session.user = null;
  session.wps = [];
  emit('signedOut');
  history.replaceState(null, '', '#/');
  showSignin({ notice: t('signin.signedOut') });
}

function renderShell() {
  searchInput = h('input#q.search-input', { type: 'search', name: 'q', placeholder: t('search.placeholder'), autocomplete: 'off', 'aria-label': t('search.label'), title: t('search.shortcut') });
  const form = h('form.search-form', { role: 'search' }, icon('search', { size: 18, cls: 'search-icon' }), searchInput);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = searchInput.value.trim();
    if (q) go(href('search', { q }));
  });
  const toggle = h('button#menu-toggle.btn.btn-ghost.btn-icon.menu-toggle', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'nav', title: t('nav.menu') },
    icon('menu'), h('span.sr-only', t('nav.menu')));
  toggle.addEventListener('click', () => {
    const open = !document.body.classList.contains('drawer-open');
    document.body.classList.toggle('drawer-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    if (open) navEl.querySelector('a')?.focus();
  });
  const user = session.user;
  const userMenu = menuButton(t('nav.userMenu', { name: user.name }), [
    [t('nav.account'), 'user', () => go('#/account')],
    [t('nav.signOut'), 'logout', signOut],
  ], { icon: 'user', iconOnly: true, cls: 'user-menu' });
  const avatar = userMenu.querySelector('button');
  avatar.classList.add('avatar');
  avatar.replaceChildren(h('span', { 'aria-hidden': 'true' }, initials(user.name)), h('span.sr-only', t('nav.userMenu', { name: user.name })));
  navEl = h('nav#nav.sidebar', { 'aria-label': t('nav.main') });
  mainEl = h('main#main.main', { tabindex: '-1' });
  const scrim = h('div.scrim', { 'aria-hidden': 'true' });
  scrim.addEventListener('click', closeDrawer);
  mount(root,
    h('a.skip-link', { href: '#main', on: { click: (e) => { e.preventDefault(); mainEl.focus(); } } }, t('nav.skip')),
    h('header.topbar',
      toggle,
      h('a.brand', { href: '#/', 'aria-label': t('nav.brand') }, icon('logo', { size: 22 }), h('span', { 'aria-hidden': 'true' }, 'consort')),
      form,
      h('div.topbar-user', h('span.user-name', user.name), userMenu)),
    h('div.layout', navEl, scrim, mainEl));
  document.addEventListener('keydown', globalKeys);
  renderNav();
}

function globalKeys(e) {
  if (e.key === 'Escape' && document.body.classList.contains('drawer-open')) { closeDrawer(); document.getElementById('menu-toggle')?.focus(); }
  const tag = (e.target.tagName || '').toLowerCase();
  const typing = tag === 'input' || tag === 'textarea' || tag === 'select' || e.target.isContentEditable;
  if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey && searchInput) {
    e.preventDefault();
    searchInput.focus();
  }
}

export async function refreshWps() {
  const r = await get('/api/v1/wps');
  session.wps = r.wps || [];
  if (navEl) renderNav();
  emit('wps', session.wps);
}

// ---- signing in and out -------------------------------------------------------------

async function showSignin({ notice, next, email, problem, ticket } = {}) {
  document.removeEventListener('keydown', globalKeys);
  navEl = null;
  mainEl = null;
  const mod = await views.signin();
  mount(root, mod.default({ notice, email, problem, ticket, onSignedIn: (me) => signedIn(me, next) }));
  setTitle(t('signin.title'));
  root.querySelector('input')?.focus();
  markInteractive();
}

async function signedIn(me, next, wpsEarly = null) {
  setCsrf(me.csrf);
  session.user = me.user;
  session.enrolmentRequired = !!me.totp_enrolment_required;
  session.wps = [];
  if (!session.enrolmentRequired) {
    try {
      const early = wpsEarly && await wpsEarly.catch(() => null);
      if (early) { session.wps = early.wps || []; emit('wps', session.wps); } else await refreshWps();
    } catch (e) {
      toast(describe(e), { kind: 'error' });
    }
  }
  renderShell();
  emit('signedIn', session.user);
  // the account's language (set at the first sign-in from the app's)
  if (!session.enrolmentRequired) syncLanguage().then((changed) => { if (changed) { renderShell(); route(); } });
  // Uploads a reload left unfinished are offered for resuming at once,
  // on whatever screen the person lands.
  if (Object.keys(localStorage).some((k) => k.startsWith('consort.uploads'))) {
    import('./upload/queue.js').then((m) => m.init(), () => {});
  }
  const target = next || returnTo;
  returnTo = null;
  if (target && target !== location.hash) {
    go(target, { replace: true });
  } else {
    route();
  }
}

onSessionEnded(() => {
  if (!session.user) return;
  returnTo = location.hash || '#/';
  session.user = null;
  setCsrf(null);
  emit('sessionEnded');
  showSignin({ notice: t('signin.expired'), next: returnTo });
});

onReauthRequired(() => (session.user ? confirmIdentity() : false));

on('wpsChanged', () => { refreshWps().catch((e) => toast(describe(e), { kind: 'error' })); });

on('enrolled', () => {
  session.enrolmentRequired = false;
  refreshWps().catch(() => {});
});

async function boot() {
  // A share link's page (/s/SECRET): only the link, no session, no frame.
  const shared = /^\/s\/([A-Za-z0-9_-]+)$/.exec(location.pathname);
  if (shared) {
    const mod = await import('./views/share.js');
    mod.default(root, shared[1]);
    return;
  }
  window.addEventListener('hashchange', route);
  const m = /^#set-password=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m) {
    // The secret leaves the address bar and the history at once.
    history.replaceState(null, '', `${location.pathname}#/`);
    const mod = await views.setpassword();
    mount(root, mod.default({
      token: m[1],
      onDone: (email) => showSignin({ notice: email ? t('setpw.done') : null, email }),
    }));
    setTitle(t('setpw.title'));
    return;
  }
  // Back from an OpenID provider: the server's verdict is in the
  // fragment; it leaves the address bar at once (a ticket is a secret).
  const back = /^#signin-(error|pending|totp)(?:=([A-Za-z0-9_-]+))?$/.exec(location.hash);
  if (back) {
    history.replaceState(null, '', `${location.pathname}#/`);
    if (back[1] === 'totp' && back[2]) { showSignin({ ticket: back[2] }); return; }
    if (back[1] === 'pending') { showSignin({ notice: t('signin.oidcPending') }); return; }
    const known = ['unavailable', 'invalid', 'expired', 'denied', 'unverified', 'domain', 'disabled', 'no-email', 'throttled'];
    showSignin({ problem: t(`signin.oidc.${known.includes(back[2]) ? back[2] : 'invalid'}`) });
    return;
  }
  // The first screen's module loads while the session is asked for.
  const [first] = resolve(parse().segments);
  if (first && views[first]) views[first]().catch(() => {});
  // The work packages are asked for alongside the session: one round
  // trip less before the first screen (a 401 for both when signed out).
  const wpsEarly = api('GET', '/api/v1/wps', { quiet401: true });
  wpsEarly.catch(() => {});
  try {
    const me = await api('GET', '/api/v1/me', { quiet401: true });
    await signedIn(me, null, wpsEarly);
  } catch (e) {
    if (e.status === 401) {
      const here = location.hash;
      showSignin({ next: here && here !== '#/' && here !== '#' ? here : null });
    } else {
      mount(root, h('div.boot-error', { role: 'alert' }, h('h1', t('error.title')), h('p', describe(e)),
        h('button.btn.btn-primary', { type: 'button', on: { click: () => location.reload() } }, t('common.retry'))));
    }
  }
}

boot();
