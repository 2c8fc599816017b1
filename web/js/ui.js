// Small building blocks shared by the views: buttons, form fields,
// inline errors, toasts, modal dialogs (native <dialog>) and popup
// menus with keyboard support.
import { h, id as newId, mount } from './dom.js';
import { icon } from './icons.js';
import { t } from './i18n.js';
import { describe } from './api.js';

export function button(label, { icon: ic, kind = 'secondary', type = 'button', on, iconOnly = false, attrs = {} } = {}) {
  const b = h('button', { type, class: ['btn', `btn-${kind}`, iconOnly && 'btn-icon'], ...attrs },
    ic ? icon(ic, { size: 18 }) : null,
    iconOnly ? h('span.sr-only', label) : h('span', label));
  if (iconOnly) b.title = label;
  if (on) b.addEventListener('click', on);
  return b;
}

export function linkButton(label, href, { icon: ic, kind = 'secondary', download = false, attrs = {} } = {}) {
  return h('a', { href, class: ['btn', `btn-${kind}`], download: download || null, ...attrs },
    ic ? icon(ic, { size: 18 }) : null, h('span', label));
}

// A labelled form control with an optional hint and a slot for its error.
export function field(label, control, { hint, cls } = {}) {
  const cid = control.id || newId('f');
  control.id = cid;
  const err = h('p.field-error', { id: `${cid}-err`, hidden: true });
  const describedBy = [];
  let hintEl = null;
  if (hint) {
    hintEl = h('p.field-hint', { id: `${cid}-hint` }, hint);
    describedBy.push(hintEl.id);
  }
  if (describedBy.length) control.setAttribute('aria-describedby', describedBy.join(' '));
  const wrap = h('div', { class: ['field', cls] }, h('label', { for: cid }, label), control, hintEl, err);
  wrap.setError = (msg) => {
    err.textContent = msg || '';
    err.hidden = !msg;
    if (msg) {
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', [...describedBy, err.id].join(' '));
    } else {
      control.removeAttribute('aria-invalid');
      if (describedBy.length) control.setAttribute('aria-describedby', describedBy.join(' '));
      else control.removeAttribute('aria-describedby');
    }
  };
  return wrap;
}

export function input(attrs = {}) {
  return h('input', { class: 'input', ...attrs });
}

export function select(options, attrs = {}) {
  return h('select', { class: 'input', ...attrs },
    options.map(([value, label]) => h('option', { value, selected: attrs.value === value }, label)));
}

// An error shown where it happened; empty and hidden until set.
export function errorBox() {
  const el = h('div.alert.alert-error', { role: 'alert', hidden: true });
  el.show = (err) => {
    if (!err) { el.hidden = true; el.replaceChildren(); return; }
    mount(el, icon('alert', { size: 18 }), h('span', typeof err === 'string' ? err : describe(err)));
    el.hidden = false;
  };
  return el;
}

export function loading(text = t('common.loading')) {
  return h('div.loading', { role: 'status' }, h('span.spinner', { 'aria-hidden': 'true' }), h('span', text));
}

export function empty(title, text, ...actions) {
  return h('div.empty', h('p.empty-title', title), text ? h('p.empty-text', text) : null,
    actions.length ? h('div.empty-actions', actions) : null);
}

export function badge(text, kind = '') {
  return h('span', { class: ['badge', kind && `badge-${kind}`] }, text);
}

// The malware verdict of a document or version that needs a person's
// attention (docs/scanning.md); null when clean or never scanned.
export function scanBadge(scan) {
  if (scan !== 'unscanned' && scan !== 'infected') return null;
  const b = badge(t(`scan.${scan}`), 'warn');
  b.title = t(`scan.${scan}Title`);
  return b;
}

// ---- toasts -------------------------------------------------------------

let toastRegion = null;
export function toast(message, { kind = 'ok', timeout = 5000, action } = {}) {
  if (!toastRegion) {
    toastRegion = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastRegion);
  }
  const el = h('div', { class: ['toast', `toast-${kind}`] },
    icon(kind === 'error' ? 'alert' : 'check', { size: 18 }), h('span', message),
    action ? h('button.toast-action', { type: 'button', on: { click: () => { el.remove(); action.run(); } } }, action.label) : null,
    button(t('common.dismiss'), { icon: 'x', kind: 'ghost', iconOnly: true, on: () => el.remove() }));
  toastRegion.appendChild(el);
  if (timeout) setTimeout(() => el.remove(), kind === 'error' ? timeout * 2 : timeout);
  return el;
}

// ---- dialogs --------------------------------------------------------------

// Opens a modal. `build(close)` returns the body; `submit` (if given)
// runs on the form's submit and closes the dialog when it resolves;
// errors it throws are shown in the dialog. Resolves with what close()
// was given (undefined on Escape or Cancel).
export function dialog({ title, build, submit, submitLabel = t('common.save'), danger = false, wide = false, cancelLabel = t('common.cancel'), noCancel = false }) {
  return new Promise((resolve) => {
    const titleId = newId('dlg');
    const err = errorBox();
    let result;
    const dlg = h('dialog', { class: ['dialog', wide && 'dialog-wide'], 'aria-labelledby': titleId });
    const close = (v) => { result = v; dlg.close(); };
    const body = build ? build(close) : null;
    const submitBtn = submit ? button(submitLabel, { kind: danger ? 'danger' : 'primary', type: 'submit' }) : null;
    const form = h('form', { method: 'dialog', novalidate: true },
      h('header.dialog-head', h('h2', { id: titleId }, title),
        button(t('common.close'), { icon: 'x', kind: 'ghost', iconOnly: true, on: () => close() })),
      h('div.dialog-body', body, err),
      h('footer.dialog-foot',
        noCancel ? null : button(submit ? cancelLabel : t('common.close'), { kind: 'secondary', on: () => close() }),
        submitBtn));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!submit) return close();
      err.show(null);
      submitBtn.disabled = true;
      submitBtn.setAttribute('aria-busy', 'true');
      try {
        const v = await submit(form);
        if (v !== false) close(v === undefined ? true : v);
      } catch (ex) {
        err.show(ex);
      } finally {
        submitBtn.disabled = false;
        submitBtn.removeAttribute('aria-busy');
      }
    });
    dlg.appendChild(form);
    const opener = document.activeElement;
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = dlg.querySelector('[autofocus], .dialog-body input, .dialog-body select, .dialog-body textarea');
    if (first) first.focus();
  });
}

export function confirm({ title, text, confirmLabel = t('common.ok'), danger = false }) {
  return dialog({ title, build: () => h('p', text), submit: async () => true, submitLabel: confirmLabel, danger });
}

// ---- popup menus ----------------------------------------------------------

// A button that opens a menu of [label, iconName, onSelect, {danger}]
// items; arrow keys move, Escape closes and returns focus. The menu is
// placed on the page's top layer (fixed, beside the button), so a list
// row that clips its content cannot cut it off; scrolling closes it.
export function menuButton(label, items, { icon: ic = 'more', kind = 'ghost', iconOnly = true, cls } = {}) {
  const menuId = newId('menu');
  const btn = button(label, { icon: ic, kind, iconOnly, attrs: { 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId } });
  const wrap = h('div', { class: ['menu-wrap', cls] }, btn);
  let menu = null;
  const closeMenu = (focusBtn) => {
    if (!menu) return;
    menu.remove();
    menu = null;
    btn.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    window.removeEventListener('scroll', onScroll, true);
    window.removeEventListener('resize', onScroll);
    if (focusBtn && btn.isConnected) btn.focus();
  };
  const outside = (e) => { if (!wrap.contains(e.target) && !(menu && menu.contains(e.target))) closeMenu(false); };
  const onScroll = (e) => { if (menu && !menu.contains(e.target)) closeMenu(false); };
  const open = () => {
    const list = (typeof items === 'function' ? items() : items).filter(Boolean);
    menu = h('div.menu', { role: 'menu', id: menuId, 'aria-label': label },
      list.map(([text, iname, fn, opts = {}]) => {
        const it = h('button', { type: 'button', role: 'menuitem', tabindex: '-1', class: ['menu-item', opts.danger && 'danger'] },
          iname ? icon(iname, { size: 18 }) : null, h('span', text));
        it.addEventListener('click', () => { closeMenu(true); fn(); });
        return it;
      }));
    menu.addEventListener('keydown', (e) => {
      const its = [...menu.querySelectorAll('[role=menuitem]')];
      const i = its.indexOf(document.activeElement);
      if (e.key === 'ArrowDown') { e.preventDefault(); its[(i + 1) % its.length].focus(); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); its[(i - 1 + its.length) % its.length].focus(); }
      else if (e.key === 'Home') { e.preventDefault(); its[0].focus(); }
      else if (e.key === 'End') { e.preventDefault(); its[its.length - 1].focus(); }
      else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeMenu(true); }
      else if (e.key === 'Tab') { e.preventDefault(); closeMenu(true); }
    });
    // Inside an open dialog the menu must be in the dialog's top layer.
    (btn.closest('dialog') || document.body).appendChild(menu);
    const r = btn.getBoundingClientRect();
    const mw = menu.offsetWidth;
    const mh = menu.offsetHeight;
    const left = Math.max(8, Math.min(window.innerWidth - mw - 8, r.right - mw));
    const below = r.bottom + 4 + mh <= window.innerHeight - 8 || r.top - 4 - mh < 8;
    menu.style.left = `${left}px`;
    menu.style.top = `${below ? r.bottom + 4 : r.top - 4 - mh}px`;
    btn.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    window.addEventListener('scroll', onScroll, true);
    window.addEventListener('resize', onScroll);
    menu.querySelector('[role=menuitem]')?.focus();
  };
  btn.addEventListener('click', (e) => { e.stopPropagation(); if (menu) closeMenu(true); else open(); });
  btn.addEventListener('keydown', (e) => { if (e.key === 'ArrowDown' && !menu) { e.preventDefault(); open(); } });
  return wrap;
}

// Copy text, with a toast either way.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t('common.copied'));
  } catch {
    toast(t('common.copyFailed'), { kind: 'error' });
  }
}

export function pageHeader(title, { crumbs, actions, sub } = {}) {
  return h('header.page-head',
    crumbs || null,
    h('div.page-title-row',
      h('div.page-title', h('h1', { tabindex: '-1' }, title), sub ? h('p.page-sub', sub) : null),
      actions ? h('div.page-actions', actions) : null));
}

// A table that may scroll sideways on a narrow screen: a named region
// that takes keyboard focus, so it can be scrolled without a mouse. Its
// name is the table's caption.
export function tableWrap(table, cls = '') {
  const caption = table.querySelector('caption')?.textContent || '';
  return h('div', { class: ['table-wrap', cls], role: 'region', tabindex: '0', 'aria-label': caption }, table);
}
