// The caller's own account: password, second factor (enrol with a QR
// code, recovery codes, turn off), and API tokens for scripts and the
// network drive.
import { h, mount } from '../dom.js';
import { t, languages, language } from '../i18n.js';
import { saveLanguage } from '../langsync.js';
import { get, post, del, setCsrf, describe } from '../api.js';
import { session, emit } from '../session.js';
import { dateTime } from '../format.js';
import { badge, button, dialog, confirm, field, input, toast, pageHeader, loading, errorBox, copyText, select, tableWrap } from '../ui.js';
import { qrSvg } from '../qr.js';
import { notificationSettings } from './activity.js';

function codesBlock(codes) {
  return h('div.stack',
    h('p', t('account.codesText')),
    h('ol.codes', codes.map((c) => h('li', h('code', c)))),
    button(t('account.copyCodes'), { icon: 'copy', on: () => copyText(codes.join('\n')) }));
}

function showCodes(codes) {
  return dialog({ title: t('account.codesTitle'), build: () => codesBlock(codes) });
}

function passwordSection() {
  const cur = input({ type: 'password', autocomplete: 'current-password' });
  const pw = input({ type: 'password', autocomplete: 'new-password', minlength: '12' });
  const pw2 = input({ type: 'password', autocomplete: 'new-password' });
  const fs = [field(t('account.current'), cur), field(t('account.newPassword'), pw, { hint: t('setpw.rule') }), field(t('setpw.confirm'), pw2)];
  const err = errorBox();
  const submit = button(t('account.changePassword'), { kind: 'primary', type: 'submit' });
  const form = h('form.stack.narrow', { novalidate: true }, fs, err, h('div', submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fs.forEach((f) => f.setError(null));
    err.show(null);
    if (!cur.value) { fs[0].setError(t('form.required')); cur.focus(); return; }
    if ([...pw.value].length < 12) { fs[1].setError(t('setpw.tooShort')); pw.focus(); return; }
    if (pw.value !== pw2.value) { fs[2].setError(t('setpw.mismatch')); pw2.focus(); return; }
    submit.disabled = true;
    try {
      const r = await post('/api/v1/me/password', { current: cur.value, new: pw.value });
      setCsrf(r.csrf);
      session.user = r.user;
      form.reset();
      toast(t('account.passwordChanged'));
    } catch (ex) {
      if (ex.status === 403) { fs[0].setError(t('account.wrongPassword')); cur.focus(); } else err.show(ex);
    } finally {
      submit.disabled = false;
    }
  });
  return h('section.card', { 'aria-labelledby': 'acc-pw' }, h('h2', { id: 'acc-pw' }, t('account.password')), h('p.muted', t('account.passwordSub')), form);
}

function tfaSection(redraw) {
  const u = session.user;
  const box = h('section.card', { 'aria-labelledby': 'acc-tfa' });

  async function enrol() {
    const r = await post('/api/v1/me/totp');
    const code = input({ inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]*' });
    const f = field(t('account.enterCode'), code, { hint: t('account.enterCodeHint') });
    const codes = await dialog({
      title: t('account.tfaSetup'),
      wide: true,
      build: () => h('div.tfa-setup',
        h('div.qr', { role: 'img', 'aria-label': t('account.qrLabel') }, qrSvg(r.uri)),
        h('div.stack',
          h('ol.steps', h('li', t('account.step1')), h('li', t('account.step2')), h('li', t('account.step3'))),
          h('details', h('summary', t('account.cantScan')),
            h('p', t('account.secretText')), h('p', h('code.secret', r.secret.replace(/(.{4})/g, '$1 ').trim())),
            button(t('common.copy'), { icon: 'copy', on: () => copyText(r.secret) })),
          f)),
      submitLabel: t('account.turnOn'),
      submit: async () => {
        f.setError(null);
        const v = code.value.replace(/\s+/g, '');
        if (!/^\d{6}$/.test(v)) { f.setError(t('account.codeFormat')); code.focus(); return false; }
        try {
          return (await post('/api/v1/me/totp/confirm', { code: v })).recovery_codes;
        } catch (ex) {
          if (ex.status === 400) { f.setError(t('account.codeWrong')); code.select(); return false; }
          throw ex;
        }
      },
    });
    if (!codes) return;
    const me = await get('/api/v1/me');
    session.user = me.user;
    if (session.enrolmentRequired) { session.enrolmentRequired = false; emit('enrolled'); }
    toast(t('account.tfaOn'));
    redraw();
    await showCodes(codes);
  }

  async function withPassword(title, text, label, fn, danger = false) {
    const pw = input({ type: 'password', autocomplete: 'current-password' });
    const f = field(t('account.current'), pw);
    return dialog({
      title, danger, submitLabel: label,
      build: () => h('div.stack', h('p', text), f),
      submit: async () => {
        f.setError(null);
        if (!pw.value) { f.setError(t('form.required')); pw.focus(); return false; }
        try { return await fn(pw.value); } catch (ex) {
          if (ex.status === 403 && ex.code === 'forbidden' && /password/i.test(ex.detail || '')) { f.setError(t('account.wrongPassword')); pw.select(); return false; }
          throw ex;
        }
      },
    });
  }

  const actions = [];
  if (u.totp_enabled) {
    actions.push(button(t('account.newCodes'), { icon: 'refresh', on: async () => {
      const codes = await withPassword(t('account.newCodes'), t('account.newCodesText'), t('account.newCodes'), async (p) => (await post('/api/v1/me/recovery-codes', { password: p })).recovery_codes);
      if (codes) { const me = await get('/api/v1/me'); session.user = me.user; redraw(); await showCodes(codes); }
    } }));
    if (!u.totp_required) {
      actions.push(button(t('account.turnOff'), { kind: 'danger-ghost', on: async () => {
        const ok = await withPassword(t('account.turnOffTitle'), t('account.turnOffText'), t('account.turnOff'), async (p) => { await post('/api/v1/me/totp/disable', { password: p }); return true; }, true);
        if (ok) { const me = await get('/api/v1/me'); session.user = me.user; toast(t('account.tfaOff')); redraw(); }
      } }));
    }
  } else {
    actions.push(button(t('account.setUp'), { kind: 'primary', icon: 'lock', on: () => enrol().catch((e) => toast(describe(e), { kind: 'error' })) }));
  }
  mount(box,
    h('div.card-head', h('h2', { id: 'acc-tfa' }, t('account.tfa')),
      u.totp_enabled ? badge(t('users.tfaOn'), 'ok') : u.totp_required ? badge(t('account.required'), 'warn') : badge(t('users.tfaOff'), 'muted')),
    h('p.muted', u.totp_enabled ? t('account.tfaOnText', { n: u.recovery_codes_left }) : t('account.tfaOffText')),
    u.totp_required && u.totp_enabled ? h('p.muted', t('account.requiredNote')) : null,
    h('div.row', actions));
  return box;
}

function tokensSection() {
  const box = h('section.card', { 'aria-labelledby': 'acc-tokens' });
  const list = h('div', loading());
  const err = errorBox();

  async function load() {
    try {
      const r = await get('/api/v1/tokens');
      const tokens = (r.tokens || []).filter((x) => x.state === 'active');
      if (!tokens.length) { mount(list, h('p.muted', t('account.noTokens'))); return; }
      mount(list, tableWrap(h('table.table',
        h('caption.sr-only', t('account.tokens')),
        h('thead', h('tr', h('th', { scope: 'col' }, t('account.tokenName')), h('th.hide-sm', { scope: 'col' }, t('account.tokenUsed')), h('th', { scope: 'col' }, t('account.tokenExpires')), h('th.col-actions', { scope: 'col' }, h('span.sr-only', t('common.actions'))))),
        h('tbody', tokens.map((x) => h('tr',
          h('td', x.name, x.current ? [' ', badge(t('account.thisToken'), 'muted')] : null,
            h('div.token-scope', t('account.scopeSummary', { scope: t(x.scope === 'read' ? 'account.scopeRead' : 'account.scopeWrite'),
              wps: x.wps ? x.wps.join(', ') : t('account.allWps') }))),
          h('td.hide-sm', x.last_used_at ? dateTime(x.last_used_at) : h('span.muted', t('account.never'))),
          h('td', dateTime(x.expires_at)),
          h('td.col-actions', button(t('account.revoke'), { kind: 'danger-ghost', attrs: { 'aria-label': t('account.revokeNamed', { name: x.name }) }, on: async () => {
            if (!await confirm({ title: t('account.revokeTitle'), text: t('account.revokeText', { name: x.name }), confirmLabel: t('account.revoke'), danger: true })) return;
            try { await del(`/api/v1/tokens/${x.id}`); toast(t('account.revoked', { name: x.name })); load(); } catch (e) { toast(describe(e), { kind: 'error' }); }
          } }))))))));
    } catch (e) {
      err.show(e);
      list.replaceChildren();
    }
  }

  const create = button(t('account.newToken'), { icon: 'plus', on: async () => {
    const name = input({ autocomplete: 'off', maxlength: '100' });
    const days = select([['30', t('account.days', { n: 30 })], ['90', t('account.days', { n: 90 })], ['365', t('account.days', { n: 365 })]], { value: '90' });
    const scope = select([['write', t('account.scopeWrite')], ['read', t('account.scopeRead')]], { value: 'write', name: 'scope' });
    const fs = [field(t('account.tokenName'), name, { hint: t('account.tokenNameHint') }), field(t('account.tokenValid'), days),
      field(t('account.tokenScope'), scope, { hint: t('account.scopeHint') })];
    // All work packages, or only the ones ticked.
    const only = h('input', { type: 'checkbox', id: 'tok-only', name: 'only', 'aria-describedby': 'tok-only-hint' });
    const boxes = session.wps.map((w) => h('input', { type: 'checkbox', name: 'wp', value: w.code, id: `tok-wp-${w.code}`, disabled: true }));
    only.addEventListener('change', () => { for (const b of boxes) b.disabled = !only.checked; });
    const wpErr = h('p.field-error', { hidden: true, role: 'alert' });
    const wpSet = h('fieldset.stack', h('legend', t('account.tokenWps')),
      h('div.check', only, h('label', { for: 'tok-only' }, t('account.someWps')), h('p.check-hint', { id: 'tok-only-hint' }, t('account.wpsHint'))),
      session.wps.map((w, i) => h('div.check', boxes[i], h('label', { for: boxes[i].id }, `${w.code} — ${w.title || ''}`))),
      wpErr);
    const r = await dialog({
      title: t('account.newToken'),
      build: () => h('div.stack', fs, wpSet),
      submitLabel: t('account.create'),
      submit: async () => {
        fs[0].setError(null);
        wpErr.hidden = true;
        if (!name.value.trim()) { fs[0].setError(t('form.required')); name.focus(); return false; }
        const body = { name: name.value.trim(), expires_days: Number(days.value), scope: scope.value };
        if (only.checked) {
          body.wps = boxes.filter((b) => b.checked).map((b) => b.value);
          if (!body.wps.length) { wpErr.textContent = t('account.pickWps'); wpErr.hidden = false; return false; }
        }
        return post('/api/v1/tokens', body);
      },
    });
    if (!r) return;
    load();
    await dialog({
      title: t('account.tokenMade'),
      wide: true,
      build: () => {
        const v = input({ value: r.token, readonly: true, 'aria-label': t('account.tokenValue') });
        return h('div.stack', h('p', t('account.tokenOnce')), h('div.copy-row', v, button(t('common.copy'), { icon: 'copy', on: () => copyText(r.token) })),
          h('p.muted', t('account.tokenDav', { email: session.user.email })));
      },
    });
  } });
  mount(box, h('div.card-head', h('h2', { id: 'acc-tokens' }, t('account.tokens')), create), h('p.muted', t('account.tokensSub')), err, list);
  load();
  return box;
}

// The app's language: kept with the account and in this browser; the
// page is drawn again in it.
function languagePicker() {
  const pick = select(languages, { id: 'acc-language', value: language() });
  pick.addEventListener('change', async () => {
    try {
      await saveLanguage(pick.value);
    } catch (e) { toast(describe(e), { kind: 'error' }); }
    location.reload();
  });
  return h('div.stack.narrow', field(t('account.language'), pick));
}

export default async function account(ctx) {
  ctx.setTitle(t('nav.account'));
  const me = await get('/api/v1/me');
  session.user = me.user;
  const u = session.user;
  const wrap = h('div.cards');
  const draw = () => {
    const forced = session.enrolmentRequired;
    mount(wrap,
      forced ? h('div.alert.alert-warn', { role: 'alert' }, t('account.enrolRequired')) : null,
      h('section.card', { 'aria-labelledby': 'acc-me' },
        h('h2', { id: 'acc-me' }, t('account.profile')),
        h('dl.facts',
          h('dt', t('users.name')), h('dd', u.name),
          h('dt', t('users.email')), h('dd', u.email),
          h('dt', t('users.partner')), h('dd', u.partner || '—'),
          h('dt', t('account.role')), h('dd', u.coordinator ? t('users.coordinatorBadge') : t('account.member'))),
        languagePicker()),
      tfaSection(draw),
      forced ? null : passwordSection(),
      forced ? null : notificationSettings(),
      forced ? null : tokensSection());
  };
  draw();
  return h('section.page', pageHeader(t('nav.account')), wrap);
}
