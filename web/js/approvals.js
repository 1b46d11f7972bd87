// The Approvals view: the held calls the viewer may answer (GET
// /v1/approvals: its own calls waiting for its MFA step-up, and others'
// calls a role it holds approves), each shown as it will run, with the
// answer (POST /v1/approvals/approve with a fresh one-time code, and for
// an approver an optional grant window; POST /v1/approvals/deny with an
// optional reason); and the history of the last day (GET
// /v1/approvals?state=history): who answered, how and when.
//
// #/approvals/<id> is where a held call's link leads (the broker's
// /approve/<id> redirects here): that call is highlighted, or the view
// says why it is not in the queue. The queue polls while the view is
// shown; the time left counts down and a call past its time leaves the
// queue. The returned function stops both when the view is left.

import { api } from './api.js';
import { addRow, dataTable, el, errorLine, heading, when } from './dom.js';

const POLL_MS = 3000;
// Polls stop after this long without a key or pointer press on the page
// (each poll keeps the web session alive; an idle page should not).
const IDLE_MS = 10 * 60 * 1000;
// The API's limit on a denial's reason, in UTF-8 bytes.
const REASON_BYTES = 511;
// How long a card tells the answer given in it before it goes.
const DONE_MS = 10000;
// The grant windows offered, in seconds, up to the call's grant_max_s.
const GRANTS = [300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600];
const HISTORY_COLUMNS = [['created', 'Held at'], ['caller', 'Caller'], ['tool', 'Tool'],
  ['host', 'Host'], ['request', 'Request'], ['state', 'Outcome'], ['by', 'Answered by'],
  ['at', 'Answered at'], ['reason', 'Reason']];
const STATES = {
  used: 'approved, ran', approved: 'approved', denied: 'denied', expired: 'expired',
  withdrawn: 'withdrawn',
};

// "1h 2m", "4m 05s", "12s" for a number of seconds.
export function left(s) {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  if (h) return `${h}h ${m}m`;
  return m ? `${m}m ${sec}s` : `${s % 60}s`;
}

// A duration the API reads ("15m", "4h", "90s").
function durText(s) {
  if (s % 3600 === 0) return `${s / 3600}h`;
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

function requestText(a) {
  return a.command !== undefined ? a.command : JSON.stringify(a.arguments);
}

function field(dl, name, value) {
  dl.append(el('dt', { textContent: name }), el('dd', { textContent: value }));
}

// The answer form of call a: the code, a grant window (approvers), a
// reason (for a denial), the two buttons and the line that tells.
function answerForm(a, onAnswer) {
  const idp = `approval-${a.id}`;
  const form = el('form', { className: 'approval-answer' });
  const otp = el('input', { id: `${idp}-otp`, name: 'otp', inputMode: 'numeric',
    autocomplete: 'one-time-code', maxLength: 10 });
  form.append(el('p', {}, el('label', { htmlFor: otp.id, textContent: 'One-time code' }), ' ', otp));
  let grant = null;
  if (a.answer === 'approve' && a.grant_max_s > 0) {
    grant = el('select', { id: `${idp}-grant`, name: 'for' },
      el('option', { value: '', textContent: 'this call only' }));
    const windows = GRANTS.filter((s) => s < a.grant_max_s).concat([a.grant_max_s]);
    for (const s of windows) {
      grant.append(el('option', { value: durText(s), textContent: `this request for ${durText(s)}` }));
    }
    form.append(el('p', {}, el('label', { htmlFor: grant.id, textContent: 'Approve for' }), ' ', grant));
  }
  const reason = el('input', { id: `${idp}-reason`, name: 'reason', maxLength: REASON_BYTES });
  form.append(el('p', {}, el('label', { htmlFor: reason.id, textContent: 'Reason (for a denial)' }),
    ' ', reason));
  const approve = el('button', { type: 'submit',
    textContent: a.answer === 'approve' ? 'Approve' : 'Step up and run' });
  const deny = el('button', { type: 'button', className: 'secondary', textContent: 'Deny' });
  const said = el('p', { className: 'approval-said', hidden: true });
  said.setAttribute('role', 'status');
  form.append(el('p', { className: 'actions' }, approve, deny), said);

  const send = async (path, body, done) => {
    approve.disabled = true;
    deny.disabled = true;
    said.hidden = true;
    try {
      await api('POST', path, body);
      said.className = 'approval-said done';
      said.dataset.at = String(Date.now());
      said.textContent = done;
      said.hidden = false;
      onAnswer();
    } catch (err) {
      said.replaceWith(errorLine(err.message));
      form.append(said);
      otp.value = '';
      approve.disabled = false;
      deny.disabled = false;
    }
  };
  const clearErrors = () => { for (const e of form.querySelectorAll('.error')) e.remove(); };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors();
    const body = { id: a.id, otp: otp.value.trim() };
    if (grant && grant.value) body.for = grant.value;
    send('/v1/approvals/approve', body, a.answer === 'approve'
      ? 'Approved: the call goes on.' : 'Stepped up: the call goes on.');
  });
  deny.addEventListener('click', () => {
    clearErrors();
    const body = { id: a.id };
    const why = reason.value.trim();
    if (new TextEncoder().encode(why).length > REASON_BYTES) {
      form.append(errorLine(`The reason is too long: at most ${REASON_BYTES} bytes `
        + '(fewer characters outside ASCII).'));
      return;
    }
    if (why) body.reason = why;
    send('/v1/approvals/deny', body, 'Denied: the call fails and nothing runs.');
  });
  return form;
}

// The card of held call a: the call as it will run, time left, the form.
function card(a, onAnswer) {
  const dl = el('dl', { className: 'approval-call' });
  field(dl, 'Caller', a.caller);
  field(dl, 'Tool', a.tool);
  if (a.host) field(dl, 'Host', a.host);
  if (a.login) field(dl, 'Login', a.login);
  if (a.command !== undefined) field(dl, 'Command', a.command);
  field(dl, 'Rule', a.rule);
  field(dl, 'Needs', a.needs);
  const timeLeft = el('dd', { className: 'approval-left' });
  dl.append(el('dt', { textContent: 'Time left' }), timeLeft);
  const box = el('article', { className: 'approval', id: `approval-${a.id}` },
    el('h2', { textContent: `${a.tool}${a.host ? ` on ${a.host}` : ''} for ${a.caller}` }),
    dl,
    el('p', { className: 'approval-label', textContent: 'The exact request' }),
    el('pre', { className: 'approval-args', textContent: JSON.stringify(a.arguments, null, 2) }),
    answerForm(a, onAnswer));
  box.dataset.id = a.id;
  box.dataset.expires = String(a.expires_at);
  box.setAttribute('aria-label', `held call ${a.id}`);
  return box;
}

export async function approvalsView(root, args = []) {
  const focus = args[0] || null;
  const status = el('p', { id: 'approvals-status', textContent: 'Loading…' });
  status.setAttribute('role', 'status');
  const notice = el('p', { id: 'approvals-notice', className: 'notice', hidden: true });
  const queue = el('div', { id: 'approvals-queue' });
  const history = dataTable('approvals-history', HISTORY_COLUMNS);
  const historyNote = el('p', { id: 'approvals-history-status' });
  root.replaceChildren(heading('Approvals'), notice, status, queue,
    el('h2', { textContent: 'History (last 24 hours)' }), historyNote, history);

  let gone = false;
  let busy = false;
  let first = true;
  let ended = [];
  let failing = false;

  const showHistory = () => {
    history.tBodies[0].replaceChildren();
    for (const a of ended) {
      const tr = addRow(history, HISTORY_COLUMNS, {
        created: when(a.created_at), caller: a.caller, tool: a.tool, host: a.host,
        request: requestText(a), state: STATES[a.state] || a.state, by: a.answered_by,
        at: when(a.answered_at), reason: a.reason,
      });
      tr.dataset.id = a.id;
      tr.className = `state-${a.state}`;
    }
    historyNote.textContent = ended.length ? `${ended.length} ended` : 'Nothing ended in the last 24 hours.';
  };

  // Says where the linked call is when the queue does not hold it.
  const showNotice = () => {
    if (!focus || queue.querySelector(`[data-id="${CSS.escape(focus)}"]`)) {
      notice.hidden = true;
      return;
    }
    const h = ended.find((a) => a.id === focus);
    notice.textContent = h
      ? `Held call ${focus} no longer waits: ${STATES[h.state] || h.state}`
        + `${h.answered_by ? ` by ${h.answered_by}` : ''}${h.answered_at ? ` at ${when(h.answered_at)}` : ''}.`
      : `Held call ${focus} is not in your queue: it waits for someone else's answer, `
        + 'has ended, or is not yours to see.';
    notice.hidden = false;
  };

  const tick = () => {
    const now = Date.now() / 1000;
    for (const box of [...queue.children]) {
      const s = Math.floor(Number(box.dataset.expires) - now);
      if (s <= 0 && !box.querySelector('.done')) {
        box.remove();
        continue;
      }
      box.querySelector('.approval-left').textContent = s > 0 ? left(s) : 'answered';
    }
    const n = [...queue.children].filter((b) => !b.querySelector('.done')).length;
    if (failing) return;
    status.className = '';
    status.textContent = n ? `${n} held call${n > 1 ? 's' : ''} wait${n > 1 ? '' : 's'} for your answer.`
      : 'Nothing waits for your answer.';
  };

  const refresh = async () => {
    if (busy || gone) return;
    busy = true;
    try {
      const [pending, past] = await Promise.all([api('GET', '/v1/approvals'),
        api('GET', '/v1/approvals?state=history')]);
      if (gone) return;
      failing = false;
      ended = past.approvals;
      const ids = new Set(pending.approvals.map((a) => a.id));
      // Cards stay as they are (a code being typed stays); the ones no
      // longer pending go, those that tell their own answer a little later.
      for (const box of [...queue.children]) {
        const done = box.querySelector('.done');
        if (!ids.has(box.dataset.id) && (!done || Date.now() - Number(done.dataset.at) > DONE_MS)) {
          box.remove();
        }
      }
      for (const a of pending.approvals) {
        if (queue.querySelector(`[data-id="${CSS.escape(a.id)}"]`)) continue;
        const box = card(a, () => refresh());
        if (a.id === focus) box.classList.add('focus');
        queue.append(box);
        if (a.id === focus && first) {
          box.scrollIntoView({ block: 'center' });
          box.querySelector('input').focus();
        }
      }
      showHistory();
      tick();
      showNotice();
      first = false;
    } catch (err) {
      // The first load's refusal goes to the router (a 401 signs in again).
      if (first) throw err;
      failing = true;
      status.textContent = `The queue cannot be refreshed: ${err.message}`;
      status.className = 'error';
    } finally {
      busy = false;
    }
  };

  // Polls while the page is seen and used: none while the tab is hidden,
  // and after IDLE_MS without a key or pointer press, none until asked.
  let lastInput = Date.now();
  let paused = false;
  const resume = el('button', { type: 'button', id: 'approvals-resume',
    textContent: 'Polling paused while you were away: refresh' });
  const pausedLine = el('p', { id: 'approvals-paused', className: 'notice', hidden: true }, resume);
  status.after(pausedLine);
  const onInput = () => { lastInput = Date.now(); };
  resume.addEventListener('click', () => {
    paused = false;
    lastInput = Date.now();
    pausedLine.hidden = true;
    refresh();
  });
  const poll = () => {
    if (paused || document.hidden) return;
    if (Date.now() - lastInput > IDLE_MS) {
      paused = true;
      pausedLine.hidden = false;
      return;
    }
    refresh();
  };

  await refresh();
  document.addEventListener('keydown', onInput, true);
  document.addEventListener('pointerdown', onInput, true);
  const timer = setInterval(poll, POLL_MS);
  const clock = setInterval(tick, 1000);
  return () => {
    gone = true;
    clearInterval(timer);
    clearInterval(clock);
    document.removeEventListener('keydown', onInput, true);
    document.removeEventListener('pointerdown', onInput, true);
  };
}
