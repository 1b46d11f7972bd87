// The Recordings view. #/recordings: the sessions recorded (GET
// /v1/recordings: the caller's own, or everyone's for an auditor or
// administrator), newest first, filtered by host and user on the broker.
// #/recordings/ID: that recording played in the page (GET
// /v1/recordings/ID, the asciicast file; every read is audited by the
// broker) by player.js.

import { apiBlob, api } from './api.js';
import { addRow, dataTable, el, errorLine, heading, when } from './dom.js';
import { castPlayer, clock } from './player.js';

const COLUMNS = [['host', 'Host'], ['login', 'Login'], ['actor', 'Who'],
  ['started', 'Start'], ['length', 'Length'], ['bytes', 'Bytes'], ['open', 'Recording']];
const FIELDS = [['host', 'Host', 'web1'], ['user', 'User', 'alice']];
const ID = /^[0-9a-f]{32}$/;
// The recordings the list last showed, by id: what the player says of one
// opened from there (its host, login, who, whether it still runs).
const seen = new Map();

// Forgets the list shown (logout).
export function resetRecordings() {
  seen.clear();
}

function length(r) {
  if (!r.ended_at) return 'running';
  return clock(Math.max(0, r.ended_at - r.started_at));
}

function openLink(r) {
  const a = el('a', { href: `#/recordings/${r.id}`, textContent: 'Play' });
  a.setAttribute('aria-label', `Play the session of ${r.actor} on ${r.host} as ${r.login}, ${when(r.started_at)}`);
  return a;
}

async function listView(root) {
  const form = el('form', { id: 'recordings-filter', className: 'filters' });
  form.setAttribute('aria-label', 'Filter recordings');
  for (const [name, label, placeholder] of FIELDS) {
    const id = `recordings-${name}`;
    form.append(el('p', {}, el('label', { htmlFor: id, textContent: label }),
      el('input', { id, name, placeholder, maxLength: 64 })));
  }
  form.append(el('p', { className: 'actions' },
    el('button', { type: 'submit', textContent: 'Apply' }),
    el('button', { type: 'reset', textContent: 'Clear', className: 'secondary' })));
  const status = el('p', { id: 'recordings-status' });
  status.setAttribute('aria-live', 'polite');
  const table = dataTable('recordings', COLUMNS);
  root.replaceChildren(heading('Recordings'), form, status, table);

  async function load() {
    const q = new URLSearchParams({ limit: '200' });
    for (const [name] of FIELDS) {
      const v = form.elements[name].value.trim();
      if (v) q.set(name, v);
    }
    status.className = '';
    status.textContent = 'Loading…';
    let list;
    try {
      ({ recordings: list } = await api('GET', `/v1/recordings?${q}`));
    } catch (err) {
      status.className = 'error';
      status.textContent = err.message;
      return;
    }
    table.tBodies[0].replaceChildren();
    seen.clear();
    for (const r of list) {
      seen.set(r.id, r);
      const tr = addRow(table, COLUMNS, { ...r, started: when(r.started_at), length: length(r),
        open: openLink(r) });
      tr.dataset.id = r.id;
    }
    status.textContent = list.length ? `${list.length} recordings` : 'No recording you may see matches.';
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  form.addEventListener('reset', () => setTimeout(load, 0));
  await load();
}

async function playView(root, id) {
  const back = el('a', { href: '#/recordings', textContent: 'All recordings' });
  const h1 = heading('Recording');
  root.replaceChildren(h1, el('p', {}, back));
  if (!ID.test(id)) {
    root.append(errorLine('No such recording.'));
    return null;
  }
  const status = el('p', { id: 'player-status', textContent: 'Loading…' });
  status.setAttribute('aria-live', 'polite');
  // The player's place, in the view from the start: if another view
  // replaces this one before the recording arrives, it goes nowhere.
  const place = el('div');
  root.append(status, place);
  let text;
  try {
    text = await (await apiBlob(`/v1/recordings/${id}`, 'application/x-asciicast')).text();
  } catch (err) {
    status.replaceWith(errorLine(err.message));
    return null;
  }
  // What the list said of it, if it was opened from there.
  const r = seen.get(id);
  if (r) {
    h1.textContent = `Recording: ${r.actor} on ${r.host} as ${r.login}`;
    status.textContent = `Started ${when(r.started_at)}, ${r.ended_at ? `length ${length(r)}` : 'still running'}.`;
  } else {
    status.textContent = '';
  }
  const player = castPlayer(place, text, { running: !!r && !r.ended_at });
  if (!r && player.title) h1.textContent = `Recording: ${player.title}`;
  return () => player.dispose();
}

export async function recordingsView(root, args = []) {
  if (args.length && args[0]) return playView(root, args[0]);
  await listView(root);
  return null;
}
