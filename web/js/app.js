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
import { hostsView, resetHosts } from './hosts.js';
import { endTerminals } from './terminals.js';
import { auditView } from './audit.js';
import { recordingsView, resetRecordings } from './recordings.js';
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
// The start under way (a promise), or null: a second call (a 401 while
// logging out, a double click) joins it instead of starting again.
let starting = null;
// The logout under way, or null: a second click while it runs does nothing.
let loggingOut = null;
// The hash a view was last routed for: focus goes to a new view's heading
// when the hash changed (navigation), not on the first view after sign-in.
let routed = null;

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

// The session ends (logout, or none found): the view is left, every
// terminal closes, whichever view is shown, and nothing of the user stays
// (rights, the views' remembered values).
function hideShell() {
  if (leave) leave();
  leave = null;
  shown++;
  routed = null;
  endTerminals();
  resetHosts();
  resetRecordings();
  setCsrf(null);
  rights = { hosts: false, admin: false };
  $('who').hidden = true;
  $('nav').hidden = true;
  $('view').hidden = true;
  $('view').replaceChildren();
}

// The view's arguments from the hash's segments; a malformed escape
// (#/recordings/%E0) gives none.
function hashArgs(parts) {
  try {
    return parts.map(decodeURIComponent);
  } catch {
    return [];
  }
}

// The view for the hash: its first path segment (#/hosts/web1 is /hosts
// with "web1" for the view), or the first one the session may see.
function viewFor(hash) {
  const parts = hash.replace(/^#/, '').split('/');
  const entry = views[`/${parts[1] || ''}`];
  if (entry && allowed(entry[1])) return [entry[0], hashArgs(parts.slice(2))];
  return [rights.hosts ? hostsView : auditView, []];
}

// Shows the view of the hash; without a session (the sign-in form shows)
// it does nothing.
async function route() {
  if (csrfToken() === null) return;
  const [view, rest] = viewFor(location.hash);
  const moved = routed !== null && routed !== location.hash;
  routed = location.hash;
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
    const p = view(root, rest);
    // The view's heading is in place before its first await.
    if (moved) root.querySelector('h1')?.focus();
    const r = await p;
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

// The session found, or made at the sign-in form; the shell shown for it.
async function findSession() {
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
}

// Finds or makes the session, then shows the view. One at a time: a call
// while the session is being found (a second logout, a 401 racing one)
// joins that one; once the shell shows, a session's end starts again.
function start() {
  if (starting) return starting;
  starting = findSession().finally(() => { starting = null; });
  return starting.then(route);
}

async function logoutOnce() {
  try {
    await api('POST', '/v1/web/logout');
  } catch {
    // The session is gone either way once the page forgets it.
  }
  start();
}

function logout() {
  if (!loggingOut) {
    loggingOut = logoutOnce().finally(() => { loggingOut = null; });
  }
  return loggingOut;
}

$('logout').addEventListener('click', logout);
window.addEventListener('hashchange', route);
onSessionEnded(start);
start();
