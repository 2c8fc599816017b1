// Sign-in: email and password, then the authenticator code (or a
// recovery code) when the account has a second factor; or a button per
// OpenID provider (the browser leaves for the provider and comes back
// through the server's callback). A provider sign-in that still owes
// the account's code comes back with a ticket and asks for the code here.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { api, describe } from '../api.js';
import { icon } from '../icons.js';
import { field, input, button, errorBox, linkButton } from '../ui.js';

export default function signin({ notice, problem, ticket, email: presetEmail, onSignedIn }) {
  const card = h('div.auth-card');
  const page = h('main.auth-page', h('div.auth-brand', icon('logo', { size: 28 }), h('span', 'consort')), card);
  let creds = null;

  function stepPassword() {
    const email = input({ type: 'email', name: 'email', autocomplete: 'username', required: true, value: presetEmail || creds?.email || '' });
    const password = input({ type: 'password', name: 'password', autocomplete: 'current-password', required: true });
    const err = errorBox();
    const submit = button(t('signin.submit'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block' } });
    const form = h('form.auth-form', { novalidate: true },
      field(t('signin.email'), email),
      field(t('signin.password'), password),
      err, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.show(null);
      if (!email.value.trim() || !password.value) {
        err.show(t('signin.missing'));
        (email.value.trim() ? password : email).focus();
        return;
      }
      submit.disabled = true;
      try {
        const me = await api('POST', '/api/v1/session', { json: { email: email.value.trim(), password: password.value }, quiet401: true });
        onSignedIn(me);
      } catch (ex) {
        if (ex.code === 'totp_required') {
          creds = { email: email.value.trim(), password: password.value };
          stepCode(false);
          return;
        }
        err.show(ex.code === 'invalid_credentials' ? t('signin.wrong') : describe(ex));
        password.select();
        password.focus();
      } finally {
        submit.disabled = false;
      }
    });
    const providers = h('div.auth-providers');
    mount(card,
      h('h1', t('signin.title')),
      notice ? h('p.alert.alert-info', { role: 'status' }, icon('info', { size: 18 }), h('span', notice)) : null,
      problem ? h('p.alert.alert-error', { role: 'alert' }, icon('alert', { size: 18 }), h('span', problem)) : null,
      form, providers);
    // The buttons come when the list does; the form works meanwhile.
    api('GET', '/api/v1/auth/oidc', { quiet401: true }).then((r) => {
      const list = r.providers || [];
      if (!list.length) return;
      mount(providers, h('p.auth-or', t('signin.or')),
        list.map((p) => linkButton(t('signin.with', { name: p.title }), `/api/v1/auth/oidc/${encodeURIComponent(p.name)}`,
          { attrs: { class: 'btn btn-secondary btn-block' } })));
    }, () => {});
  }

  function stepCode(recovery) {
    const code = input(recovery
      ? { name: 'recovery', autocomplete: 'off', spellcheck: 'false', required: true }
      : { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*', maxlength: '6', required: true });
    const err = errorBox();
    const submit = button(t('signin.verify'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block' } });
    const other = h('button.btn-link', { type: 'button' }, recovery ? t('signin.useCode') : t('signin.useRecovery'));
    other.addEventListener('click', () => stepCode(!recovery));
    const back = h('button.btn-link', { type: 'button' }, t('signin.back'));
    back.addEventListener('click', () => { ticket = null; stepPassword(); });
    const form = h('form.auth-form', { novalidate: true },
      field(recovery ? t('signin.recoveryCode') : t('signin.code'), code, { hint: recovery ? t('signin.recoveryHint') : t('signin.codeHint') }),
      err, submit, h('div.auth-links', other, back));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.show(null);
      const v = code.value.replace(/\s+/g, '');
      if (!v) { err.show(t('signin.codeMissing')); code.focus(); return; }
      submit.disabled = true;
      try {
        const code1 = recovery ? { recovery_code: v } : { totp: v };
        const me = ticket
          ? await api('POST', '/api/v1/auth/oidc/totp', { json: { ticket, ...code1 }, quiet401: true })
          : await api('POST', '/api/v1/session', { json: { ...creds, ...code1 }, quiet401: true });
        ticket = null;
        creds = null;
        onSignedIn(me);
      } catch (ex) {
        if (ex.code === 'totp_required' || ex.code === 'invalid_credentials') err.show(recovery ? t('signin.wrongRecovery') : t('signin.wrongCode'));
        else if (ticket && ex.code === 'unauthenticated') { ticket = null; stepPassword(); return; }
        else err.show(describe(ex));
        code.select();
        code.focus();
      } finally {
        submit.disabled = false;
      }
    });
    mount(card, h('h1', t('signin.codeTitle')), h('p.muted', recovery ? t('signin.recoveryText') : t('signin.codeText')), form);
    code.focus();
  }

  if (ticket) stepCode(false);
  else stepPassword();
  return page;
}
