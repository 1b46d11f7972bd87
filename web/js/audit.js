// The Audit view: the chain's state (GET /v1/audit/verify, for auditors and
// administrators), the events newest first under filters the broker
// applies (GET /v1/audit?order=desc&...), paged with `before`, one event's
// full details, and an export of the current filter (GET
// /v1/audit/export, fetched with the CSRF header, saved from a Blob).
// Live: on the newest page, new events that pass the filter are added at
// the top as they happen (the /ws/audit tail, opened with the filter and
// the newest seq shown; closed when the view is left, the page is an older
// one or the filter changes, then opened again with the new filter).
// Everything from the log goes into the page through textContent.

import { api, apiBlob, ApiError, csrfToken } from './api.js';
import { el, saveBlob } from './dom.js';

const PAGE = 50;
// Rows the table keeps while live adds to it (the oldest go; Next goes on
// from the oldest kept).
const LIVE_ROWS_MAX = 500;
// The filter inputs: [query argument, label, input type, placeholder].
const FIELDS = [
  ['from', 'From', 'datetime-local', ''],
  ['to', 'To', 'datetime-local', ''],
  ['actor', 'Actor', 'text', 'user:alice'],
  ['type', 'Type', 'text', 'tool.* or user.login'],
  ['outcome', 'Outcome', 'text', 'success, denied, failure'],
  ['host', 'Host', 'text', 'web1'],
  ['q', 'Text in details', 'text', ''],
];

// A short line from an event's details: its scalar fields, up to 100 chars.
function summary(details) {
  if (typeof details !== 'object' || details === null) return String(details).slice(0, 100);
  const parts = [];
  for (const [k, v] of Object.entries(details)) {
    if (k === 'host') continue;
    if (v === null || typeof v === 'object') continue;
    parts.push(`${k}=${v}`);
  }
  const s = parts.join(' ');
  return s.length > 100 ? `${s.slice(0, 99)}…` : s;
}

// The filter form's values as query arguments (datetime-local is local
// time; the API takes unix seconds).
function filterQuery(form) {
  const q = new URLSearchParams();
  for (const [name, , type] of FIELDS) {
    const v = form.elements[name].value.trim();
    if (!v) continue;
    if (type === 'datetime-local') {
      const t = new Date(v).getTime();
      if (!Number.isNaN(t)) q.set(name, String(Math.floor(t / 1000)));
    } else {
      q.set(name, v);
    }
  }
  return q;
}

// Shows the chain's state in p; nothing once p is off the page (the view
// was left while the verify ran).
async function showChain(p) {
  try {
    const v = await api('GET', '/v1/audit/verify');
    if (!p.isConnected) return;
    if (v.ok) {
      p.className = 'chain chain-ok';
      p.textContent = `Chain verified up to #${v.head_seq}, head sha256:${v.head_hash}`;
    } else {
      p.className = 'chain chain-broken';
      p.textContent = `Chain broken at #${v.first_bad}: ${v.reason} (${v.checked} events before it verified)`;
    }
    p.dataset.firstBad = v.ok ? '' : String(v.first_bad);
    p.hidden = false;
  } catch (err) {
    if (!p.isConnected) return;
    if (err instanceof ApiError && err.status === 403) {
      p.hidden = true; // only auditors and administrators verify
      return;
    }
    p.className = 'chain error';
    p.textContent = `The chain cannot be checked: ${err.message}`;
    p.hidden = false;
  }
}

// One event's row, at the end of body or (first) at its top.
function addEvent(body, detail, ev, first = false) {
  const tr = body.insertRow(first ? 0 : -1);
  tr.dataset.seq = String(ev.seq);
  const open = el('button', { type: 'button', className: 'link', textContent: `#${ev.seq}` });
  open.setAttribute('aria-label', `Details of event ${ev.seq}`);
  const d = ev.details && typeof ev.details === 'object' ? ev.details : {};
  const cells = [['#', open], ['Time', ev.time], ['Type', ev.type], ['Actor', ev.actor],
    ['Outcome', ev.outcome], ['Host', typeof d.host === 'string' ? d.host : ''],
    ['Summary', summary(ev.details)]];
  for (const [label, content] of cells) {
    const td = el('td', {}, content);
    td.dataset.label = label;
    tr.append(td);
  }
  tr.className = `clickable outcome-${ev.outcome}`;
  tr.addEventListener('click', () => showDetail(detail, ev));
}

// The /ws/audit tail on the web session: the cookie, this page's Origin
// and the CSRF token as a subprotocol.
function tailSocket() {
  const url = new URL('/ws/audit', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return new WebSocket(url, ['zt', `zt-csrf.${csrfToken()}`]);
}

function showDetail(section, ev) {
  const h = section.querySelector('h2');
  h.textContent = `Event #${ev.seq}: ${ev.type}`;
  section.querySelector('pre').textContent = JSON.stringify(ev, null, 2);
  section.hidden = false;
  h.focus();
}

export async function auditView(root) {
  const h1 = el('h1', { textContent: 'Audit', tabIndex: -1 });
  const chain = el('p', { id: 'audit-chain', className: 'chain', hidden: true });
  chain.setAttribute('role', 'status');

  const form = el('form', { id: 'audit-filter', className: 'filters' });
  form.setAttribute('aria-label', 'Filter events');
  for (const [name, label, type, placeholder] of FIELDS) {
    const id = `audit-${name}`;
    form.append(el('p', {}, el('label', { htmlFor: id, textContent: label }),
      el('input', { id, name, type, placeholder, maxLength: name === 'host' ? 64 : 256 })));
  }
  const apply = el('button', { type: 'submit', textContent: 'Apply' });
  const clear = el('button', { type: 'reset', textContent: 'Clear', className: 'secondary' });
  const exportBtn = el('button', { type: 'button', id: 'audit-export',
    textContent: 'Export JSON lines', className: 'secondary' });
  form.append(el('p', { className: 'actions' }, apply, clear, exportBtn));

  const status = el('p', { id: 'audit-status' });
  status.setAttribute('aria-live', 'polite');
  const live = el('input', { type: 'checkbox', id: 'audit-live', checked: true });
  const liveStatus = el('span', { id: 'audit-live-status' });
  liveStatus.setAttribute('aria-live', 'polite');
  const liveLine = el('p', { className: 'live' }, live,
    el('label', { htmlFor: 'audit-live', textContent: 'Live: new events at the top' }), liveStatus);
  const table = el('table', { id: 'audit' });
  const head = table.createTHead().insertRow();
  for (const name of ['#', 'Time', 'Type', 'Actor', 'Outcome', 'Host', 'Summary']) {
    head.append(el('th', { scope: 'col', textContent: name }));
  }
  const body = table.createTBody();
  const prev = el('button', { type: 'button', id: 'audit-prev', textContent: 'Previous', className: 'secondary' });
  const next = el('button', { type: 'button', id: 'audit-next', textContent: 'Next', className: 'secondary' });
  const pager = el('p', { className: 'actions' }, prev, next);
  const detail = el('section', { id: 'audit-detail', hidden: true },
    el('h2', { tabIndex: -1 }), el('pre', { id: 'audit-json' }));
  detail.setAttribute('aria-label', 'Event details');
  root.replaceChildren(h1, chain, form, liveLine, status, table, pager, detail);

  // Paging newest first: `before` of each page shown, to go back.
  let query = new URLSearchParams();
  let stack = [];
  let before = 0;
  let newest = 0;       // the newest seq shown
  let socket = null;    // the live tail, when open
  let left = false;     // the view was left: nothing opens any more
  let loads = 0;        // the loads asked for: only the last one's answer shows
  let tailFrom = null;  // since for the tail when no event is shown, or null

  function liveSays(state, text) {
    liveStatus.dataset.state = state;
    liveStatus.textContent = text;
  }

  function stopLive() {
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    socket = null;
  }

  // Opens the tail for the filter shown, after the newest event shown,
  // when live is wanted and the page is the newest.
  function startLive() {
    stopLive();
    if (left) return;
    if (!live.checked) {
      liveSays('off', '');
      return;
    }
    if (before) {
      liveSays('off', 'New events show on the newest page only.');
      return;
    }
    const filter = Object.fromEntries(query);
    if (newest) filter.since = newest;
    else if (tailFrom !== null) filter.since = tailFrom;
    const ws = tailSocket();
    let count = 0;
    let why = '';
    socket = ws;
    liveSays('connecting', 'Connecting…');
    ws.addEventListener('open', () => ws.send(JSON.stringify(filter)));
    ws.addEventListener('message', (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      if (msg.type === 'live') {
        liveSays('live', 'Watching for new events.');
      } else if (msg.type === 'event' && msg.event && msg.event.seq > newest) {
        newest = msg.event.seq;
        addEvent(body, detail, msg.event, true);
        while (body.rows.length > LIVE_ROWS_MAX) body.deleteRow(-1);
        if (body.rows.length === LIVE_ROWS_MAX) {
          next.dataset.before = body.rows[LIVE_ROWS_MAX - 1].dataset.seq;
          next.disabled = false;
        }
        count++;
        liveSays('live', `${count} new ${count === 1 ? 'event' : 'events'}.`);
      } else if (msg.type === 'end' || msg.type === 'error') {
        why = msg.reason || msg.message || '';
      }
    });
    ws.onclose = () => {
      socket = null;
      live.checked = false;
      liveSays('ended', `Live ended${why ? `: ${why}` : ''}.`);
    };
  }

  // The buttons that ask for a page, off while one loads.
  function busy(on) {
    for (const b of [apply, prev, next]) b.disabled = on;
  }

  async function load() {
    stopLive();
    const mine = ++loads;
    const q = new URLSearchParams(query);
    q.set('order', 'desc');
    q.set('limit', String(PAGE));
    if (before) q.set('before', String(before));
    status.textContent = 'Loading…';
    busy(true);
    let page;
    try {
      page = await api('GET', `/v1/audit?${q}`);
    } catch (err) {
      if (mine !== loads || left) return;
      busy(false);
      prev.disabled = stack.length === 0;
      next.disabled = true;
      status.className = 'error';
      status.textContent = err.message;
      return;
    }
    if (mine !== loads || left) return;
    busy(false);
    status.className = '';
    body.replaceChildren();
    for (const ev of page.events) addEvent(body, detail, ev);
    newest = page.events.length ? page.events[0].seq : 0;
    status.textContent = page.events.length
      ? `${page.events.length} events${page.more ? ', more on the next page' : ''}`
      : 'No event matches.';
    prev.disabled = stack.length === 0;
    next.disabled = !page.more;
    next.dataset.before = String(page.next);
    // The newest page with no event: the tail starts from the beginning,
    // so that an event logged between the GET and the socket still shows.
    tailFrom = !before && !page.events.length && !page.more ? 0 : null;
    startLive();
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    query = filterQuery(form);
    stack = [];
    before = 0;
    detail.hidden = true;
    load();
  });
  form.addEventListener('reset', () => {
    query = new URLSearchParams();
    stack = [];
    before = 0;
    detail.hidden = true;
    setTimeout(load, 0);
  });
  next.addEventListener('click', () => {
    stack.push(before);
    before = Number(next.dataset.before);
    load();
  });
  prev.addEventListener('click', () => {
    before = stack.pop() || 0;
    load();
  });
  exportBtn.addEventListener('click', async () => {
    const q = new URLSearchParams(query); // the filter applied, as shown
    try {
      saveBlob(await apiBlob(`/v1/audit/export?${q}`, 'application/x-ndjson'), 'audit.jsonl');
    } catch (err) {
      status.className = 'error';
      status.textContent = `Export failed: ${err.message}`;
    }
  });

  live.addEventListener('change', startLive);

  // The full verify may take long: the view does not wait for it.
  showChain(chain);
  await load();
  return () => {
    left = true;
    stopLive();
  };
}
