// The sign-in form: user, password and one-time code to POST /v1/web/login.
// The API's own messages are shown (wrong code, a code used already, a
// locked account, a blocked address), under a short heading per code.

import { api } from './api.js';

const HEADINGS = {
  invalid_otp: 'Wrong one-time code.',
  otp_replayed: 'That one-time code was already used.',
  account_locked: 'This account is locked.',
  rate_limited: 'Too many attempts.',
  invalid_credentials: 'Wrong user name or password.',
};

function showError(el, err) {
  const head = HEADINGS[err.code];
  el.textContent = head ? `${head} ${err.message}` : err.message;
  el.dataset.code = err.code;
  el.hidden = false;
}

// The form's promise while it waits for a login, or null.
let waiting = null;

// Shows the form; resolves with the session once a login succeeds. A call
// while the form waits gets the same promise (one submit listener, one
// POST per submit).
export function loginView() {
  if (waiting) return waiting;
  const section = document.getElementById('login');
  const form = document.getElementById('login-form');
  const error = document.getElementById('login-error');
  const submit = document.getElementById('login-submit');
  section.hidden = false;
  error.hidden = true;
  form.reset();
  document.getElementById('login-user').focus();
  waiting = new Promise((resolve) => {
    const onSubmit = async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      submit.disabled = true;
      try {
        const session = await api('POST', '/v1/web/login', {
          user: String(f.get('user')), password: String(f.get('password')),
          otp: String(f.get('otp')).trim(),
        });
        form.removeEventListener('submit', onSubmit);
        form.reset();
        section.hidden = true;
        waiting = null;
        resolve(session);
      } catch (err) {
        showError(error, err);
        const otp = document.getElementById('login-otp');
        otp.value = '';
        otp.focus();
      } finally {
        submit.disabled = false;
      }
    };
    form.addEventListener('submit', onSubmit);
  });
  return waiting;
}
