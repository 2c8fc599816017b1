// The page a set-password link opens (#set-password=TOKEN): choose a
// password. The token goes to the server only in the POST body.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { api, describe } from '../api.js';
import { icon } from '../icons.js';
import { field, input, button, errorBox } from '../ui.js';

export default function setPassword({ token, onDone }) {
  const card = h('div.auth-card');
  const pw = input({ type: 'password', name: 'new-password', autocomplete: 'new-password', minlength: '12', required: true });
  const pw2 = input({ type: 'password', name: 'confirm-password', autocomplete: 'new-password', required: true });
  const f1 = field(t('setpw.password'), pw, { hint: t('setpw.rule') });
  const f2 = field(t('setpw.confirm'), pw2);
  const err = errorBox();
  const submit = button(t('setpw.submit'), { kind: 'primary', type: 'submit', attrs: { class: 'btn btn-primary btn-block' } });
  const form = h('form.auth-form', { novalidate: true }, f1, f2, err, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    f1.setError(null); f2.setError(null); err.show(null);
    if ([...pw.value].length < 12) { f1.setError(t('setpw.tooShort')); pw.focus(); return; }
    if (pw.value !== pw2.value) { f2.setError(t('setpw.mismatch')); pw2.focus(); return; }
    submit.disabled = true;
    try {
      const r = await api('POST', '/api/v1/set-password', { json: { token, password: pw.value }, quiet401: true });
      onDone(r.email);
    } catch (ex) {
      if (ex.status === 404) {
        mount(card, h('h1', t('setpw.expiredTitle')), h('p', t('setpw.expired')), h('p', button(t('setpw.toSignin'), { kind: 'primary', on: () => onDone(null) })));
        return;
      }
      err.show(describe(ex));
    } finally {
      submit.disabled = false;
    }
  });
  mount(card, h('h1', t('setpw.title')), h('p.muted', t('setpw.text')), form);
  return h('main.auth-page', h('div.auth-brand', icon('logo', { size: 28 }), h('span', 'consort')), card);
}
