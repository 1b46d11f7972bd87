// The console's entry point: finds or makes the web session, then routes
// the hash (#/hosts, #/audit) to a view. Every view talks to /v1 through api.js.

import { api, ApiError, setCsrf } from './api.js';
import { loginView } from './login.js';
import { hostsView } from './hosts.js';
import { auditView } from './audit.js';

const views = { '/hosts': hostsView, '/audit': auditView };
const $ = (id) => document.getElementById(id);

function showShell(session) {
  setCsrf(session.csrf);
  $('who-user').textContent = session.user;
  $('who-roles').textContent = session.roles.length ? `(${session.roles.join(', ')})` : '';
  $('who').hidden = false;
  $('nav').hidden = false;
}

function hideShell() {
  setCsrf(null);
  $('who').hidden = true;
  $('nav').hidden = true;
  $('view').hidden = true;
  $('view').replaceChildren();
}

async function route() {
  const path = location.hash.replace(/^#/, '') || '/hosts';
  const view = views[path] || hostsView;
  const root = $('view');
  root.hidden = false;
  try {
    await view(root);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      start();
      return;
    }
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
start();
