// The Hosts view: GET /v1/hosts (the hosts the user may see) as a table,
// with a Connect action on each online SSH host for a terminal in a tab
// (terminals.js). The terminals outlive the view: it shows them again.
// An auditor who does not administer opens no session (the broker refuses
// /ws/ssh to them), so gets no Connect.

import { api } from './api.js';
import { dataTable, el, heading, when } from './dom.js';
import { attachTerminals, detachTerminals, openTerminal } from './terminals.js';

const COLUMNS = [['name', 'Name'], ['kind', 'Kind'], ['labels', 'Labels'], ['online', 'Online'],
  ['seen', 'Last seen'], ['connect', 'Terminal']];
// The login last typed in a Connect form (the next form offers it).
let lastLogin = '';

// Forgets what the user typed (logout).
export function resetHosts() {
  lastLogin = '';
}

function labels(h) {
  const span = el('span');
  for (const [k, v] of Object.entries(h.labels || {})) {
    span.append(el('span', { className: 'label', textContent: `${k}=${v}` }));
  }
  return span;
}

// The Connect form of host h: a labelled login field and the button.
function connectForm(root, h) {
  const id = `connect-login-${h.name}`;
  const login = el('input', { id, name: 'login', required: true, autocomplete: 'off',
    value: lastLogin, spellcheck: false, className: 'login-field' });
  const form = el('form', { className: 'connect' },
    el('label', { htmlFor: id, className: 'visually-hidden', textContent: `Login on ${h.name}` }),
    login, el('button', { type: 'submit', textContent: 'Connect' }));
  login.placeholder = 'login';
  form.querySelector('button').setAttribute('aria-label', `Connect to ${h.name}`);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    lastLogin = login.value.trim();
    if (lastLogin) openTerminal(root, h.name, lastLogin);
  });
  return form;
}

export async function hostsView(root) {
  // The list's place, in the view from the start: an answer that comes
  // after another view replaced this one fills a box on no page.
  const box = el('div');
  root.replaceChildren(heading('Hosts'), box);
  const [{ hosts }, me] = await Promise.all([api('GET', '/v1/hosts'),
    api('GET', '/v1/web/session')]);
  if (!box.isConnected) return null;
  const mayConnect = me.admin || !me.auditor;
  if (!hosts.length) {
    box.append(el('p', { textContent: 'No host you may use is known yet.' }));
  } else {
    box.append(dataTable('hosts', COLUMNS, hosts.map((h) => ({
      name: h.name,
      kind: h.kind || '',
      labels: labels(h),
      online: el('span', { className: h.online ? 'online' : 'offline',
        textContent: h.online ? 'online' : 'offline' }),
      seen: when(h.last_seen),
      connect: mayConnect && h.online && h.kind === 'ssh' ? connectForm(root, h) : '',
    }))));
  }
  attachTerminals(root);
  return detachTerminals;
}
