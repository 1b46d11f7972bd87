// The console's entry point: finds or makes the web session, then routes
// the hash (#/hosts, #/audit, ...) to a view. Every view talks to /v1
// through api.js. The nav shows what the session's rights allow (the API
// decides either way): an auditor who does not administer reviews audit
// and recordings only; Admin is for administrators.

import './csp.js';
import {
  api, ApiError, csrfToken, onSessionEnded, setCsrf,
} from './api.js';
import { loginView } from './login.js';
import { hostsView } from './hosts.js';
import { endTerminals } from './terminals.js';
import { auditView } from './audit.js';
import { recordingsView } from './recordings.js';
import { approvalsView } from './approvals.js';
import { adminView } from './admin.js';

// path: [view, what it needs: '' (anyone), 'hosts' (not an auditor only),
// 'admin'].
const views = {
  '/hosts': [hostsView, 'hosts'],
  '/audit': [auditView, ''],
  '/recordings': [recordingsView, ''],
  '/approvals': [approvalsView, 'hosts'],
  '/admin': [adminView, 'admin'],
};
const $ = (id) => document.getElementById(id);
let rights = { hosts: false, admin: false };
// What the shown view gives to be called when another replaces it (a view
// with a connection or a timer returns it), or null.
let leave = null;
// Counts the views shown: a view that resolves after another replaced it
// (its answer came late) is left at once, and says nothing.
let shown = 0;

function allowed(need) {
  return need === '' || rights[need];
}

function showShell(session) {
  setCsrf(session.csrf);
  rights = { admin: !!session.admin, hosts: !!session.admin || !session.auditor };
  for (const a of $('nav').querySelectorAll('a[data-needs]')) {
    a.hidden = !allowed(a.dataset.needs);
  }
  $('who-user').textContent = session.user;
  $('who-roles').textContent = session.roles.length ? `(${session.roles.join(', ')})` : '';
  $('who').hidden = false;
  $('nav').hidden = false;
}

// The session ends (logout, or none found): the view is left and every
// terminal closes, whichever view is shown.
function hideShell() {
  if (leave) leave();
  leave = null;
  shown++;
  endTerminals();
  setCsrf(null);
  $('who').hidden = true;
  $('nav').hidden = true;
  $('view').hidden = true;
  $('view').replaceChildren();
}

// The view for the hash: its first path segment (#/hosts/web1 is /hosts
// with "web1" for the view), or the first one the session may see.
function viewFor(hash) {
  const parts = hash.replace(/^#/, '').split('/');
  const entry = views[`/${parts[1] || ''}`];
  if (entry && allowed(entry[1])) return [entry[0], parts.slice(2).map(decodeURIComponent)];
  return [rights.hosts ? hostsView : auditView, []];
}

async function route() {
  const [view, rest] = viewFor(location.hash);
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${location.hash.split('/')[1] || ''}`) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  const root = $('view');
  root.hidden = false;
  if (leave) leave();
  leave = null;
  const mine = ++shown;
  try {
    const r = await view(root, rest);
    if (typeof r === 'function' && mine === shown) leave = r;
    else if (typeof r === 'function') r();
  } catch (err) {
    if (mine !== shown) return;
    // The session's end: api.js forgot the token and hands it to start
    // (onSessionEnded).
    if (err instanceof ApiError && err.status === 401 && csrfToken() === null) return;
    const p = document.createElement('p');
    p.className = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = err.message;
    root.append(p);
  }
}

async function start() {
  hideShell();
  let session = null;
  try {
    session = await api('GET', '/v1/web/session');
  } catch {
    session = null;
  }
  $('loading').hidden = true;
  if (!session) session = await loginView();
  showShell(session);
  await route();
}

async function logout() {
  try {
    await api('POST', '/v1/web/logout');
  } catch {
    // The session is gone either way once the page forgets it.
  }
  start();
}

$('logout').addEventListener('click', logout);
window.addEventListener('hashchange', route);
onSessionEnded(start);
start();
