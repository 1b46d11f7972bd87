// A terminal recording's player: asciicast v2 (a JSON header line, then
// one [time, code, data] line per event) replayed into xterm.js in the
// page. Output ("o") is written, resizes ("r", "COLSxROWS") applied;
// input ("i") and markers are never shown. Play/pause, speed, seeking (the
// terminal is reset and everything up to the time written at once), the
// time played of the total. Pauses longer than IDLE_CAP seconds play as
// IDLE_CAP (the page says so). One player per recording: castPlayer puts
// it in a parent element and returns {title, dispose}; another kind of player (a
// screen recording) can sit beside it under the same shape.

import { Terminal } from '../vendor/xterm.mjs';
import { el } from './dom.js';

const IDLE_CAP = 2;                 // seconds
const SPEEDS = [0.5, 1, 2, 4, 8];
const TICK_MS = 50;
// The largest terminal a recording may ask for (its header or a resize).
const MAX_COLS = 1000;
const MAX_ROWS = 500;
// What an arrow key on the position slider moves, in seconds.
const SEEK_STEP = 5;

// The recording's text as {width, height, title, events: [[t, code, data]],
// capped} with t on the played clock (long pauses shortened). A line that
// does not parse (the end of a running recording) is skipped.
export function parseCast(text) {
  const lines = text.split('\n');
  let head = {};
  try {
    head = JSON.parse(lines[0]);
  } catch {
    head = {};
  }
  const events = [];
  let last = 0;
  let clock = 0;
  let capped = 0;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (!Array.isArray(e) || typeof e[0] !== 'number' || typeof e[2] !== 'string') continue;
    if (e[1] !== 'o' && e[1] !== 'r') continue;
    const gap = Math.max(0, e[0] - last);
    last = Math.max(last, e[0]);
    if (gap > IDLE_CAP) capped++;
    clock += Math.min(gap, IDLE_CAP);
    events.push([clock, e[1], e[2]]);
  }
  return {
    width: Number(head.width) >= 1 ? Math.min(MAX_COLS, Math.floor(Number(head.width))) : 80,
    height: Number(head.height) >= 1 ? Math.min(MAX_ROWS, Math.floor(Number(head.height))) : 24,
    title: typeof head.title === 'string' ? head.title : '',
    events,
    capped,
  };
}

// "m:ss" for seconds.
export function clock(s) {
  const t = Math.floor(s);
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}

// "120x40" as [120, 40] (at most MAX_COLS x MAX_ROWS), or null.
function size(data) {
  const m = /^(\d{1,4})x(\d{1,4})$/.exec(data);
  return m && Number(m[1]) > 0 && Number(m[2]) > 0
    ? [Math.min(MAX_COLS, Number(m[1])), Math.min(MAX_ROWS, Number(m[2]))] : null;
}

// A player of the recording text (asciicast v2), appended to parent (in
// the document: the terminal measures itself); running: the session still
// runs (the player has what existed when it was fetched).
export function castPlayer(parent, text, { running = false } = {}) {
  const cast = parseCast(text);
  // The slider's steps are hundredths: the total is the last event's time
  // rounded up to one, so that its end is at or after that event.
  const total = cast.events.length ? Math.ceil(cast.events.at(-1)[0] * 100) / 100 : 0;
  const term = new Terminal({ cols: cast.width, rows: cast.height, disableStdin: true,
    convertEol: false, scrollback: 1000, cursorBlink: false });

  const play = el('button', { type: 'button', id: 'player-play', textContent: 'Play' });
  const speed = el('select', { id: 'player-speed' });
  for (const s of SPEEDS) speed.append(el('option', { value: String(s), textContent: `${s}x`, selected: s === 1 }));
  const seek = el('input', { type: 'range', id: 'player-seek', min: '0', max: String(total),
    step: '0.01', value: '0' });
  const time = el('span', { id: 'player-time', className: 'player-time' });
  const screen = el('div', { id: 'player-term', className: 'player-term' });
  screen.setAttribute('role', 'region');
  screen.setAttribute('aria-label', 'Recorded terminal');
  const notes = [`Pauses longer than ${IDLE_CAP} s play as ${IDLE_CAP} s`
    + `${cast.capped ? ` (${cast.capped} shortened)` : ''}; typed input is not shown.`];
  if (running) notes.push('The session still runs: this plays what was recorded when it was opened.');
  const node = el('section', { id: 'player', className: 'player' },
    el('p', { className: 'player-controls' }, play,
      el('label', { htmlFor: 'player-speed', textContent: 'Speed' }), speed,
      el('label', { htmlFor: 'player-seek', textContent: 'Position' }), seek, time),
    screen,
    el('p', { id: 'player-note', className: 'player-note', textContent: notes.join(' ') }));
  node.setAttribute('aria-label', 'Player');
  node.dataset.state = 'paused';

  let pos = 0;          // the played clock, seconds
  let next = 0;         // the index of the first event not written
  let timer = null;
  let lastTick = 0;

  // Writes the events not written yet up to played time t, in order (a
  // resize after the output before it: xterm.js writes asynchronously,
  // resizes at once).
  function writeUntil(t) {
    let out = '';
    for (; next < cast.events.length && cast.events[next][0] <= t; next++) {
      const [, code, data] = cast.events[next];
      if (code === 'o') {
        out += data;
      } else {
        const dims = size(data);
        if (dims) {
          term.write(out, () => term.resize(dims[0], dims[1]));
          out = '';
        }
      }
    }
    if (out) term.write(out);
  }

  function show() {
    time.textContent = `${clock(pos)} / ${clock(total)}`;
    seek.value = String(pos);
    seek.setAttribute('aria-valuetext', `${clock(pos)} of ${clock(total)}`);
  }

  function pause(state = 'paused') {
    if (timer) clearInterval(timer);
    timer = null;
    play.textContent = 'Play';
    node.dataset.state = state;
  }

  function tick() {
    const now = performance.now();
    pos = Math.min(total, pos + ((now - lastTick) / 1000) * Number(speed.value));
    lastTick = now;
    writeUntil(pos);
    show();
    if (pos >= total) pause('ended');
  }

  // Goes to played time t: from the start (a reset, in the write order)
  // when it is back, else on from where it is; all of it written at once.
  function seekTo(t) {
    const to = Math.max(0, Math.min(total, t));
    if (next > 0 && cast.events[next - 1][0] > to) {
      term.write('\x1bc', () => term.resize(cast.width, cast.height));
      next = 0;
    }
    pos = to;
    lastTick = performance.now();
    writeUntil(pos);
    show();
    if (timer === null) node.dataset.state = pos >= total ? 'ended' : 'paused';
  }

  play.addEventListener('click', () => {
    if (timer) {
      pause();
      return;
    }
    if (pos >= total) seekTo(0);
    play.textContent = 'Pause';
    node.dataset.state = 'playing';
    lastTick = performance.now();
    timer = setInterval(tick, TICK_MS);
  });
  seek.addEventListener('input', () => seekTo(Number(seek.value)));
  // The slider's steps are hundredths: arrows move SEEK_STEP seconds,
  // Home and End go to the ends.
  seek.addEventListener('keydown', (e) => {
    const to = { ArrowLeft: pos - SEEK_STEP, ArrowDown: pos - SEEK_STEP,
      ArrowRight: pos + SEEK_STEP, ArrowUp: pos + SEEK_STEP, Home: 0, End: total }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    seekTo(to);
  });

  parent.append(node);
  term.open(screen);
  // The terminal takes no input: Tab leaves it (no keyboard trap).
  term.attachCustomKeyEventHandler((e) => e.key !== 'Tab');
  show();
  return {
    title: cast.title,
    dispose() {
      pause();
      term.dispose();
    },
  };
}
