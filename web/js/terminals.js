// The console's terminals: tabs of xterm.js sessions over /ws/ssh, the
// WebSocket `ztctl ssh` uses (docs/api.md "Terminals"), and each tab's file
// transfers over /ws/file and the one-time link `ztctl cp` uses. The broker
// decides, records and audits each as for ztctl; the page only shows.
//
// The tabs live in one dock made once for the page, not for a view: the
// Hosts view shows it and leaving the view only takes it off the page, so
// the sessions go on and come back with the view. Closing a tab closes its
// socket; endTerminals (the shell's, at logout) closes them all.

import { Terminal } from '../vendor/xterm.mjs';
import { FitAddon } from '../vendor/addon-fit.mjs';
import { api, apiBlob, apiPut, csrfToken } from './api.js';
import { el, errorLine, saveBlob } from './dom.js';

// What the page moves through a Blob in memory; ztctl cp for larger.
const FILE_MAX = 64 * 1024 * 1024;

const tabs = [];
let serial = 0;
let dock = null;
let tablist = null;
let panels = null;

// The dock: a tab list and the panels, made at the first use.
function theDock() {
  if (!dock) {
    tablist = el('div', { className: 'term-tabs' });
    tablist.setAttribute('role', 'tablist');
    tablist.setAttribute('aria-label', 'Terminals');
    tablist.addEventListener('keydown', onTabKey);
    panels = el('div', { className: 'term-panels' });
    dock = el('section', { id: 'terminals', className: 'terminals', hidden: true }, tablist, panels);
    dock.setAttribute('aria-label', 'Terminals');
    window.addEventListener('resize', () => requestAnimationFrame(fitShown));
  }
  return dock;
}

// Puts the dock (with every running session) at the end of root.
export function attachTerminals(root) {
  root.append(theDock());
  fitShown();
}

// Takes the dock off the page; the sessions go on.
export function detachTerminals() {
  if (dock) dock.remove();
}

// Closes every session (logout).
export function endTerminals() {
  while (tabs.length) closeTab(tabs[0]);
  detachTerminals();
}

function shown() {
  return tabs.find((t) => t.button.getAttribute('aria-selected') === 'true');
}

// Fits the shown terminal to its box; the broker hears of a new size.
function fitShown() {
  const t = shown();
  if (t && dock.isConnected && t.term.element) t.fit.fit();
}

// A WebSocket to /ws/<route> on the web session: the cookie goes by
// itself, the CSRF token as a subprotocol (a page cannot set headers).
function socket(route) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws/${route}`,
    ['zt', `zt-csrf.${csrfToken()}`]);
  ws.binaryType = 'arraybuffer';
  return ws;
}

function select(t, focus = true) {
  for (const o of tabs) {
    const on = o === t;
    o.button.setAttribute('aria-selected', String(on));
    o.button.tabIndex = on ? 0 : -1;
    o.panel.hidden = !on;
  }
  if (dock.isConnected && t.term.element) t.fit.fit();
  if (focus) t.term.focus();
}

// Arrow keys, Home and End move between tabs (the tab pattern of ARIA).
function onTabKey(e) {
  const i = tabs.findIndex((t) => t.button === document.activeElement);
  if (i < 0) return;
  const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  const t = tabs[(to + tabs.length) % tabs.length];
  select(t, false);
  t.button.focus();
}

// The tab's indicator: connecting, held, connected, closed, with words.
function setState(t, state, text) {
  t.state = state;
  t.button.dataset.state = state;
  t.status.dataset.state = state;
  t.status.textContent = text;
}

// The end of a session as the broker said it (exit or error), or as the
// socket closed.
function ended(t, text) {
  if (t.state === 'closed') return;
  setState(t, 'closed', `Closed: ${text}`);
  t.held.hidden = true;
  t.term.options.disableStdin = true;
}

function exitText(m) {
  if (m.reason) return m.reason;
  if (m.signal) return `killed by signal ${m.signal}`;
  if (m.status === null || m.status === undefined) return 'the session ended';
  return `exit status ${m.status}`;
}

// The link to the Approvals view of held call m, in this page (the tabs
// outlive the navigation); built here, not taken from the message.
function approvalLink(m) {
  return el('a', { href: `#/approvals/${encodeURIComponent(m.id)}`,
    textContent: 'Open the approval page' });
}

// The call waits for a person: the broker's message, the page to answer
// it, and for a step-up of one's own a field for the code.
function showHeld(t, m) {
  t.held.replaceChildren(el('span', { textContent: `${m.message} ` }), approvalLink(m));
  if (m.self_stepup) t.held.append(stepUpForm(m.id));
  t.held.hidden = false;
}

function stepUpForm(id) {
  const code = el('input', { id: `term-otp-${++serial}`, inputMode: 'numeric',
    autocomplete: 'one-time-code', maxLength: 10, required: true });
  const form = el('form', { className: 'actions' },
    el('label', { htmlFor: code.id, textContent: 'One-time code' }), code,
    el('button', { type: 'submit', textContent: 'Step up' }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    form.querySelector('.error')?.remove();
    try {
      await api('POST', '/v1/approvals/approve', { id, otp: code.value });
    } catch (err) {
      form.append(errorLine(err.message));
    }
  });
  return form;
}

function onControl(t, m) {
  if (m.type === 'held') {
    setState(t, 'held', 'Waiting for approval or an MFA step-up');
    showHeld(t, m);
  } else if (m.type === 'started') {
    setState(t, 'connected', 'Connected (recorded)');
    t.recording = m.recording;
    t.held.hidden = true;
    if (shown() === t) t.term.focus();
  } else if (m.type === 'exit') {
    ended(t, exitText(m));
  } else if (m.type === 'error') {
    ended(t, m.message);
  }
}

// The session: the socket, its first message with the terminal's size,
// output into the terminal, input and size changes to the broker.
function connect(t) {
  const enc = new TextEncoder();
  const ws = socket('ssh');
  t.ws = ws;
  const send = (data) => {
    if (ws.readyState === WebSocket.OPEN && t.state !== 'closed') ws.send(data);
  };
  ws.addEventListener('open', () => {
    ws.send(JSON.stringify({ host: t.host, login: t.login, term: 'xterm-256color',
      cols: t.term.cols, rows: t.term.rows }));
  });
  ws.addEventListener('message', (e) => {
    if (typeof e.data === 'string') {
      let m = null;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      onControl(t, m);
    } else {
      const b = new Uint8Array(e.data);
      if (b.length > 1) t.term.write(b.subarray(1));
    }
  });
  ws.addEventListener('close', (e) => {
    ended(t, e.code === 1000 ? 'the connection closed' : `the connection closed (${e.code})`);
  });
  t.term.onData((d) => send(enc.encode(d)));
  t.term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 255)));
  t.term.onResize(({ cols, rows }) => send(JSON.stringify({ type: 'resize', cols, rows })));
}

// Opens a session on host as login in a new tab, shown and focused.
export function openTerminal(root, host, login) {
  attachTerminals(root);
  const n = ++serial;
  // files: the tab's /ws/file sockets, closed with it; gone: closed.
  const t = { host, login, state: '', files: new Set(), gone: false };
  // A second tab on the same host and login is told apart by its number.
  const same = tabs.filter((o) => o.host === host && o.login === login).length;
  t.button = el('button', { type: 'button', id: `term-tab-${n}`, className: 'term-tab',
    textContent: `${host} (${login})${same ? ` #${same + 1}` : ''}` });
  t.button.setAttribute('role', 'tab');
  t.button.setAttribute('aria-controls', `term-panel-${n}`);
  t.button.addEventListener('click', () => select(t));
  t.status = el('p', { className: 'term-state' });
  t.status.setAttribute('role', 'status');
  const close = el('button', { type: 'button', className: 'secondary',
    textContent: 'Close' });
  close.setAttribute('aria-label', `Close the terminal on ${host} as ${login}`);
  close.addEventListener('click', () => closeTab(t));
  t.held = el('div', { className: 'term-held', hidden: true });
  const screen = el('div', { className: 'term-screen' });
  t.panel = el('div', { id: `term-panel-${n}`, className: 'term-panel' },
    el('div', { className: 'term-bar' }, t.status, close), t.held, screen, filesBox(t));
  t.panel.setAttribute('role', 'tabpanel');
  t.panel.setAttribute('aria-labelledby', t.button.id);
  tablist.append(t.button);
  panels.append(t.panel);
  dock.hidden = false;
  tabs.push(t);
  t.term = new Terminal({ cursorBlink: true, scrollback: 5000, fontSize: 14 });
  t.fit = new FitAddon();
  t.term.loadAddon(t.fit);
  select(t, false);
  t.term.open(screen);
  t.fit.fit();
  setState(t, 'connecting', 'Connecting…');
  connect(t);
  t.term.focus();
  return t;
}

function closeTab(t) {
  const i = tabs.indexOf(t);
  if (i < 0) return;
  const wasShown = shown() === t;
  t.state = 'closed';
  t.gone = true;
  if (t.ws && t.ws.readyState <= WebSocket.OPEN) t.ws.close(1000);
  for (const ws of t.files) ws.close(1000);
  t.files.clear();
  t.term.dispose();
  t.button.remove();
  t.panel.remove();
  tabs.splice(i, 1);
  if (!tabs.length) {
    dock.hidden = true;
  } else if (wasShown) {
    select(tabs[Math.min(i, tabs.length - 1)]);
  }
}

// ---- files: file_read and file_write with transfer "link" ----

// One call of tool over /ws/file for tab t: resolves with the broker's
// "result" (its link), rejects with its "error" or when the tab closes
// (the socket is the tab's, closed with it); a held call shows in the
// tab's file status.
function fileCall(t, tool, args) {
  return new Promise((resolve, reject) => {
    if (t.gone) {
      reject(new Error('the terminal was closed'));
      return;
    }
    const ws = socket('file');
    const status = t.fileStatus;
    t.files.add(ws);
    let done = false;
    ws.addEventListener('open', () => ws.send(JSON.stringify({ tool, ...args })));
    ws.addEventListener('message', (e) => {
      let m = null;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (m.type === 'held') {
        status.replaceChildren(`${m.message} `, approvalLink(m));
      } else if (m.type === 'result' || m.type === 'error') {
        done = true;
        ws.close(1000);
        if (m.type === 'result') resolve(m);
        else reject(new Error(m.message));
      }
    });
    ws.addEventListener('close', (e) => {
      t.files.delete(ws);
      if (!done) reject(new Error(`the connection closed (${e.code})`));
    });
  });
}

// The link's path on this broker (its URL names the broker's own name).
function linkPath(m) {
  if (!m.link || !m.link.url) throw new Error('the broker\'s answer has no transfer link');
  return new URL(m.link.url).pathname;
}

function mib(n) {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

async function upload(t, file, remote) {
  if (file.size > FILE_MAX) {
    throw new Error(`${file.name} is ${mib(file.size)}; the console uploads at most `
      + `${mib(FILE_MAX)} (ztctl cp has no such limit)`);
  }
  const path = remote.endsWith('/') ? remote + file.name : remote;
  const m = await fileCall(t, 'file_write', { host: t.host, login: t.login, path });
  if (t.gone) throw new Error('the terminal was closed');
  const r = await apiPut(linkPath(m), file);
  return `Uploaded ${r.bytes} bytes to ${r.resolved} (SHA-256 ${r.sha256}).`;
}

async function download(t, remote) {
  const m = await fileCall(t, 'file_read', { host: t.host, login: t.login, path: remote });
  if (t.gone) throw new Error('the terminal was closed');
  const path = linkPath(m); // taken or not, the link expires by itself
  if (m.size > FILE_MAX) {
    throw new Error(`${remote} is ${mib(m.size)}; the console downloads at most `
      + `${mib(FILE_MAX)} (ztctl cp has no such limit)`);
  }
  let blob;
  try {
    blob = await apiBlob(path, 'application/octet-stream');
  } catch (err) {
    if (err instanceof TypeError) throw new Error('the download was cut short');
    throw err;
  }
  if (t.gone) throw new Error('the terminal was closed');
  saveBlob(blob, remote.slice(remote.lastIndexOf('/') + 1) || 'download');
  return `Downloaded ${blob.size} bytes of ${m.resolved}.`;
}

// A labelled field: [paragraph, input].
function field(label, props) {
  const input = el('input', { id: `term-f-${++serial}`, ...props });
  return [el('p', {}, el('label', { htmlFor: input.id, textContent: label }), input), input];
}

// Runs a transfer from a form, its outcome in the tab's file status.
function transferOn(t, form, work) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    t.fileStatus.className = 'term-file-status';
    t.fileStatus.textContent = 'Working…';
    try {
      t.fileStatus.textContent = await work();
    } catch (err) {
      t.fileStatus.className = 'term-file-status error';
      t.fileStatus.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
}

function filesBox(t) {
  const [pFile, file] = field('File to upload', { type: 'file', required: true });
  const [pTo, to] = field('Remote path (a directory ending in / keeps the name)',
    { required: true, placeholder: '/tmp/', autocomplete: 'off' });
  const up = el('form', { className: 'term-upload' }, pFile, pTo,
    el('p', {}, el('button', { type: 'submit', textContent: 'Upload' })));
  const [pFrom, from] = field('Remote file to download', { required: true,
    placeholder: '/etc/hostname', autocomplete: 'off' });
  const down = el('form', { className: 'term-download' }, pFrom,
    el('p', {}, el('button', { type: 'submit', textContent: 'Download' })));
  t.fileStatus = el('p', { className: 'term-file-status' });
  t.fileStatus.setAttribute('role', 'status');
  transferOn(t, up, () => upload(t, file.files[0], to.value));
  transferOn(t, down, () => download(t, from.value));
  return el('details', { className: 'term-files' },
    el('summary', { textContent: `Files on ${t.host} as ${t.login}` }), up, down, t.fileStatus);
}
