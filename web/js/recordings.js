// The Recordings view: GET /v1/recordings (the caller's sessions, or every
// session for an auditor or administrator), newest first.

import { api } from './api.js';
import { dataTable, el, heading, when } from './dom.js';

const COLUMNS = [['host', 'Host'], ['login', 'Login'], ['actor', 'Who'],
  ['started', 'Start'], ['length', 'Length'], ['bytes', 'Bytes']];

function length(r) {
  if (!r.ended_at) return 'running';
  return `${Math.max(0, r.ended_at - r.started_at)} s`;
}

export async function recordingsView(root) {
  root.replaceChildren(heading('Recordings'));
  const { recordings } = await api('GET', '/v1/recordings?limit=200');
  if (!recordings.length) {
    root.append(el('p', { textContent: 'No recording you may see yet.' }));
    return;
  }
  root.append(dataTable('recordings', COLUMNS, recordings.map((r) => ({
    ...r, started: when(r.started_at), length: length(r),
  }))));
}
