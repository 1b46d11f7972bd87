// The Admin view (administrators only; the API refuses anyone else):
// #/admin/users, #/admin/bots, #/admin/tokens, #/admin/roles and
// #/admin/agents, each a table with its form, through the admin endpoints
// of the API (docs/api.md, "Administration"). A secret the broker mints
// (an invite, a bot token, a join token) is shown once, in a panel with a
// copy button, and kept nowhere else; removing or locking asks first.

import { api, ApiError } from './api.js';
import { addRow, dataTable, el, errorLine, heading, when } from './dom.js';

const TABS = [['users', 'Users'], ['bots', 'Bots'], ['tokens', 'Join tokens'],
  ['roles', 'Roles'], ['agents', 'Agents']];

// A line saying what was done, announced to screen readers.
function statusLine() {
  const p = el('p', { id: 'admin-status', className: 'status' });
  p.setAttribute('role', 'status');
  return p;
}

// A labelled input inside a paragraph.
function field(id, label, props = {}) {
  return el('p', {}, el('label', { htmlFor: id, textContent: label }),
    el('input', { id, name: id, autocomplete: 'off', ...props }));
}

// A button; action runs on click.
function button(text, action, className = '') {
  const b = el('button', { type: 'button', textContent: text, className });
  b.addEventListener('click', action);
  return b;
}

// Asks in place of the buttons in cell: question, then the action on yes.
function confirmIn(cell, question, yes, action) {
  const was = [...cell.childNodes];
  const box = el('span', { className: 'confirm' }, el('span', { textContent: question }));
  const restore = () => cell.replaceChildren(...was);
  box.append(button(yes, () => { restore(); action(); }, 'danger'),
    button('Cancel', restore, 'secondary'));
  cell.replaceChildren(box);
  box.querySelector('button').focus();
}

// The actions cell of a row: [label, action, question (asks first) or
// undefined] for each button.
function actions(list) {
  const cell = el('span', { className: 'actions' });
  for (const [label, action, question] of list) {
    cell.append(button(label, question ? () => confirmIn(cell, question, label, action) : action,
      'secondary'));
  }
  return cell;
}

// Text with a button that copies it.
function copyable(id, text, label) {
  const code = el('code', { id, textContent: text });
  const b = button('Copy', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      // No clipboard (permissions): select it for the keyboard's copy.
      getSelection().selectAllChildren(code);
      b.textContent = 'Selected: press Ctrl+C';
    }
  }, 'secondary');
  b.setAttribute('aria-label', `Copy ${label}`);
  return el('div', { className: 'copyable' }, code, b);
}

// The panel that shows a secret once: title, then its parts.
function secretPanel(title, ...parts) {
  const panel = el('section', { id: 'admin-secret', className: 'secret' },
    el('h2', { textContent: title }), ...parts,
    el('p', { className: 'muted', textContent: 'Shown only once: the broker keeps only its hash.' }),
    button('Done', () => panel.remove(), 'secondary'));
  panel.setAttribute('aria-live', 'polite');
  return panel;
}

// Shows panel above table, in place of any secret shown before.
function showSecret(table, panel) {
  document.getElementById('admin-secret')?.remove();
  table.before(panel);
}

// Runs an API call for a form or button: its refusal in the status line.
async function attempt(status, fn) {
  status.replaceChildren();
  status.className = 'status';
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    status.replaceChildren(errorLine(e.message));
  }
}

function say(status, text) {
  status.className = 'status ok';
  status.textContent = text;
}

// A form that adds something: its non-empty values (numbers from number
// inputs) are POSTed to path; then the answer is shown (show), the table
// listed again (load) and done(answer) said.
function addForm(id, inputs, submit, { status, path, show, load, done }) {
  const f = el('form', { id, className: 'admin-form' }, ...inputs,
    el('p', { className: 'actions' }, el('button', { type: 'submit', textContent: submit })));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const req = {};
    for (const [k, v] of new FormData(f)) {
      if (v !== '') req[k] = f.elements[k].type === 'number' ? Number(v) : v;
    }
    attempt(status, async () => {
      const answer = await api('POST', path, req);
      f.reset();
      show(answer);
      await load();
      say(status, done(answer));
    });
  });
  return f;
}

// ---- users ----

const USER_COLUMNS = [['name', 'Name'], ['roles', 'Roles'], ['state', 'State'],
  ['created', 'Created'], ['actions', 'Actions']];

function invitePanel(inv) {
  const img = el('img', { id: 'admin-qr', className: 'qr',
    src: `data:image/svg+xml,${encodeURIComponent(inv.qr_svg)}`,
    alt: `QR code of ${inv.user}'s enrolment command` });
  return secretPanel(`Invite for ${inv.user}`,
    el('p', { textContent: `${inv.user} enrols with this command before ${when(inv.expires_at)}; `
      + 'it works once, and earlier invites no longer work.' }),
    copyable('admin-invite-command', inv.command, 'the enrolment command'),
    el('p', {}, el('span', { textContent: 'Invite: ' }),
      el('code', { id: 'admin-invite', textContent: inv.invite })),
    img);
}

async function usersView(body, status) {
  const table = dataTable('admin-users', USER_COLUMNS);
  const showInvite = (inv) => showSecret(table, invitePanel(inv));
  const verb = (path, name, done) => attempt(status, async () => {
    const r = await api('POST', path, { name });
    if (r.invite) showInvite(r);
    await load();
    say(status, done);
  });
  async function load() {
    const { users } = await api('GET', '/v1/users');
    table.tBodies[0].replaceChildren();
    for (const u of users) {
      // Unlock lifts a lock and a block (too many failed sign-ins) alike.
      const list = [u.state === 'locked' || u.state === 'blocked'
        ? ['Unlock', () => verb('/v1/users/unlock', u.name, `${u.name} unlocked`)]
        : ['Lock', () => verb('/v1/users/lock', u.name,
          `${u.name} locked; their sessions are revoked`), `Lock ${u.name}?`]];
      list.push(u.state === 'invited'
        ? ['New invite', () => verb('/v1/users/invite', u.name, `a new invite for ${u.name}`)]
        : ['Reset', () => verb('/v1/users/reset', u.name,
          `${u.name} reset: password and TOTP cleared, sessions revoked`),
        `Reset ${u.name}'s password and TOTP?`]);
      list.push(['Remove', () => verb('/v1/users/rm', u.name, `${u.name} removed`),
        `Remove ${u.name}?`]);
      addRow(table, USER_COLUMNS, { name: u.name, roles: u.roles.join(', '), state: u.state,
        created: when(u.created_at), actions: actions(list) }).dataset.name = u.name;
    }
  }
  body.append(addForm('admin-user-add', [
    field('user-name', 'Name', { required: true, name: 'name' }),
    field('user-roles', 'Roles (comma-separated)', { required: true, name: 'roles' }),
  ], 'Add user', { status, path: '/v1/users', show: showInvite, load,
    done: (inv) => `${inv.user} added` }), table);
  await load();
}

// ---- bots ----

const BOT_COLUMNS = [['name', 'Name'], ['roles', 'Roles'], ['created', 'Created'],
  ['actions', 'Actions']];

function tokenPanel(t) {
  const capped = t.ttl_capped_by ? ` (shortened by role ${t.ttl_capped_by})` : '';
  return secretPanel(`Token for ${t.bot}`,
    el('p', { textContent: `Give it to the bot as "Authorization: Bearer <token>". `
      + `It expires ${when(t.expires_at)}${capped}; its id is ${t.id}.` }),
    copyable('admin-bot-token', t.token, 'the bot token'));
}

async function botsView(body, status) {
  const table = dataTable('admin-bots', BOT_COLUMNS);
  const show = (t) => showSecret(table, tokenPanel(t));
  const token = (name, rotate) => attempt(status, async () => {
    const t = await api('POST', '/v1/bots/token', { name, rotate });
    show(t);
    say(status, rotate ? `a new token for ${name}; ${t.revoked} earlier revoked`
      : `a new token for ${name}`);
  });
  async function load() {
    const { bots } = await api('GET', '/v1/bots');
    table.tBodies[0].replaceChildren();
    for (const b of bots) {
      addRow(table, BOT_COLUMNS, { name: b.name, roles: b.roles.join(', '),
        created: when(b.created_at), actions: actions([
          ['New token', () => token(b.name, false)],
          ['Rotate', () => token(b.name, true), `Revoke ${b.name}'s earlier tokens?`],
          ['Remove', () => attempt(status, async () => {
            await api('POST', '/v1/bots/rm', { name: b.name });
            await load();
            say(status, `${b.name} removed; its tokens no longer work`);
          }), `Remove ${b.name}?`],
        ]) }).dataset.name = b.name;
    }
  }
  body.append(addForm('admin-bot-add', [
    field('bot-name', 'Name', { required: true, name: 'name' }),
    field('bot-roles', 'Roles (comma-separated)', { required: true, name: 'roles' }),
    field('bot-ttl', 'Token lifetime (e.g. 1h, at most 7d)', { name: 'ttl', placeholder: '1h' }),
  ], 'Add bot', { status, path: '/v1/bots', show, load, done: (t) => `${t.bot} added` }), table);
  await load();
}

// ---- join tokens ----

const TOKEN_COLUMNS = [['id', 'ID'], ['state', 'State'], ['uses', 'Uses left'],
  ['expires', 'Expires'], ['name', 'Name'], ['by', 'Created by'], ['actions', 'Actions']];

async function tokensView(body, status) {
  const table = dataTable('admin-tokens', TOKEN_COLUMNS);
  async function load() {
    const { tokens } = await api('GET', '/v1/tokens');
    table.tBodies[0].replaceChildren();
    for (const t of tokens) {
      addRow(table, TOKEN_COLUMNS, { id: t.id, state: t.state, uses: t.uses_left,
        expires: when(t.expires_at), name: t.name || '', by: t.created_by,
        actions: actions([['Remove', () => attempt(status, async () => {
          await api('POST', '/v1/tokens/rm', { id: t.id });
          await load();
          say(status, `token ${t.id} removed`);
        }), `Remove token ${t.id}?`]]) }).dataset.id = t.id;
    }
  }
  const show = (t) => showSecret(table, secretPanel(`Join token ${t.id}`,
    el('p', { textContent: `On the host, replace HOST with the broker's address and run this `
      + `before ${when(t.expires_at)} (${t.uses} use${t.uses === 1 ? '' : 's'}):` }),
    copyable('admin-join-command', t.command, 'the agent command')));
  body.append(addForm('admin-token-add', [
    field('token-ttl', 'Lifetime (1m to 24h)', { name: 'ttl', placeholder: '30m' }),
    field('token-uses', 'Uses (1 to 100)', { name: 'uses', type: 'number', min: 1, max: 100,
      placeholder: '1' }),
    field('token-name', 'Agent name (only this name may join)', { name: 'name' }),
    field('token-labels', 'Labels (k=v,k2=v2)', { name: 'labels' }),
  ], 'Add join token', { status, path: '/v1/tokens', show, load,
    done: (t) => `join token ${t.id} added` }), table);
  await load();
}

// ---- roles ----

const ROLE_COLUMNS = [['name', 'Role'], ['updated', 'Updated'], ['actions', 'Actions']];
const ROLE_TEMPLATE = 'kind: role\nname: \nallow:\n  tools: [list_hosts]\n';

// The YAML editor: a textarea with a line-numbered gutter beside it, and
// mark(n) to point at line n (0: none).
function yamlEditor() {
  const gutter = el('pre', { id: 'role-gutter', className: 'gutter' });
  gutter.setAttribute('aria-hidden', 'true');
  const text = el('textarea', { id: 'role-yaml', name: 'yaml', spellcheck: false, rows: 16,
    wrap: 'off', value: ROLE_TEMPLATE });
  text.setAttribute('aria-label', 'Role YAML');
  let marked = 0;
  const number = () => {
    const n = text.value.split('\n').length;
    const lines = [];
    for (let i = 1; i <= n; i++) {
      lines.push(el('span', { textContent: String(i), className: i === marked ? 'bad' : '' }));
    }
    gutter.replaceChildren(...lines);
    gutter.scrollTop = text.scrollTop;
  };
  text.addEventListener('input', () => { marked = 0; number(); });
  text.addEventListener('scroll', () => { gutter.scrollTop = text.scrollTop; });
  number();
  return {
    node: el('div', { className: 'editor' }, gutter, text),
    text,
    set(value) { text.value = value; marked = 0; number(); },
    mark(line) {
      marked = line;
      number();
      if (!line) return;
      // Select the line, which scrolls it into view.
      const starts = text.value.split('\n');
      const from = starts.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
      text.focus();
      text.setSelectionRange(from, from + (starts[line - 1] || '').length);
    },
  };
}

async function rolesView(body, status) {
  const table = dataTable('admin-roles', ROLE_COLUMNS);
  const editor = yamlEditor();
  const error = el('p', { id: 'role-error', className: 'error', hidden: true });
  error.setAttribute('role', 'alert');
  async function load() {
    const { roles } = await api('GET', '/v1/roles');
    table.tBodies[0].replaceChildren();
    for (const r of roles) {
      addRow(table, ROLE_COLUMNS, { name: r.name, updated: when(r.updated_at),
        actions: actions([
          ['View', () => attempt(status, async () => {
            const { yaml } = await api('GET', `/v1/roles/${encodeURIComponent(r.name)}`);
            editor.set(yaml);
            error.hidden = true;
            say(status, `role ${r.name} loaded into the editor`);
          })],
          ['Remove', () => attempt(status, async () => {
            await api('POST', '/v1/roles/rm', { name: r.name });
            await load();
            say(status, `role ${r.name} removed`);
          }), `Remove role ${r.name}? Identities that name it keep the name, which then allows nothing.`],
        ]) }).dataset.name = r.name;
    }
  }
  const apply = el('form', { id: 'role-apply', className: 'admin-form' },
    el('h2', { textContent: 'Apply a role' }), editor.node, error,
    el('p', { className: 'actions' }, el('button', { type: 'submit', textContent: 'Apply' })));
  apply.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    editor.mark(0);
    status.replaceChildren();
    try {
      const r = await api('POST', '/v1/roles', { yaml: editor.text.value });
      await load();
      say(status, r.warning ? `role ${r.role} applied; warning: ${r.warning}`
        : `role ${r.role} applied`);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const line = e.error && Number.isInteger(e.error.line) ? e.error.line : 0;
      // "role.yaml:3: unknown key ..." -> "line 3: unknown key ..."
      error.textContent = line ? `line ${line}: ${e.message.replace(/^[^:]*:\d+: /, '')}`
        : e.message;
      error.hidden = false;
      editor.mark(line);
    }
  });
  body.append(table, apply);
  await load();
}

// ---- agents ----

const AGENT_COLUMNS = [['name', 'Name'], ['state', 'State'], ['seen', 'Last seen'],
  ['labels', 'Labels'], ['pending', 'Waiting for approval'], ['actions', 'Actions']];

function labelsText(l) {
  return Object.entries(l || {}).map(([k, v]) => `${k}=${v}`).join(', ');
}

async function agentsView(body, status) {
  const table = dataTable('admin-agents', AGENT_COLUMNS);
  const verb = (v, name, done, question) => [v[0].toUpperCase() + v.slice(1),
    () => attempt(status, async () => {
      await api('POST', `/v1/agents/${v}`, { name });
      await load();
      say(status, `agent ${name} ${done}`);
    }), question];
  async function load() {
    const { agents } = await api('GET', '/v1/agents');
    table.tBodies[0].replaceChildren();
    for (const a of agents) {
      const list = [a.locked ? verb('unlock', a.name, 'unlocked')
        : verb('lock', a.name, 'locked', `Lock agent ${a.name}? Its connections end at once.`)];
      if (a.pending) list.push(verb('approve', a.name, 'approved', `Approve ${a.name}'s claims?`));
      addRow(table, AGENT_COLUMNS, { name: a.name,
        state: a.locked ? 'locked' : a.online ? 'online' : 'offline', seen: when(a.last_seen),
        labels: labelsText(a.claims && a.claims.labels),
        pending: a.pending ? labelsText(a.pending.labels) || 'claims' : '',
        actions: actions(list) }).dataset.name = a.name;
    }
  }
  body.append(table);
  await load();
}

const VIEWS = { users: usersView, bots: botsView, tokens: tokensView, roles: rolesView,
  agents: agentsView };

export async function adminView(root, args = []) {
  const sub = VIEWS[args[0]] ? args[0] : 'users';
  const tabs = el('nav', { className: 'subnav' });
  tabs.setAttribute('aria-label', 'Admin');
  for (const [key, label] of TABS) {
    const a = el('a', { href: `#/admin/${key}`, id: `admin-tab-${key}`, textContent: label });
    if (key === sub) a.setAttribute('aria-current', 'page');
    tabs.append(a);
  }
  const status = statusLine();
  const body = el('div', { id: 'admin-body' });
  root.replaceChildren(heading('Admin'), tabs, status, body);
  await VIEWS[sub](body, status);
  // The first listing is in (tests and scripts wait for it).
  body.dataset.loaded = sub;
}
