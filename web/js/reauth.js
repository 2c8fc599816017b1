// "Confirm it is you" (sudo mode, docs/accounts.md): changes to
// credentials and privileges need a sign-in or a confirm within the last
// ten minutes. When the server answers 403 reauthentication_required,
// api.js asks here: the dialog takes the password (and the one-time code
// when the account has a second factor), posts it to
// /api/v1/session/confirm, and the request is sent again. Cancel leaves
// the refusal as it was.
import { h } from './dom.js';
import { t } from './i18n.js';
import { post } from './api.js';
import { session } from './session.js';
import { dialog, field, input } from './ui.js';

export async function confirmIdentity() {
  const password = input({ type: 'password', autocomplete: 'current-password', required: true, name: 'password' });
  const code = input({ inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}', name: 'totp' });
  const withCode = !!session.user?.totp_enabled;
  const fs = [field(t('signin.password'), password)];
  if (withCode) fs.push(field(t('signin.code'), code, { hint: t('signin.codeHint') }));
  const ok = await dialog({
    title: t('reauth.title'),
    build: () => h('div.stack', h('p', t('reauth.text')), fs),
    submitLabel: t('reauth.submit'),
    submit: async () => {
      for (const f of fs) f.setError(null);
      if (!password.value) { fs[0].setError(t('form.required')); password.focus(); return false; }
      if (withCode && !/^[0-9]{6}$/.test(code.value.trim())) { fs[1].setError(t('signin.codeMissing')); code.focus(); return false; }
      await post('/api/v1/session/confirm', withCode ? { password: password.value, totp: code.value.trim() } : { password: password.value });
      return true;
    },
  });
  password.value = '';
  return ok === true;
}
