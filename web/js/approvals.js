// The Approvals view: GET /v1/approvals, the held calls the viewer may
// answer (its own step-ups, others' calls a role it holds approves).

import { api } from './api.js';
import { dataTable, el, heading, when } from './dom.js';

const COLUMNS = [['caller', 'Caller'], ['tool', 'Tool'], ['host', 'Host'],
  ['needs', 'Needs'], ['expires', 'Expires']];

export async function approvalsView(root) {
  root.replaceChildren(heading('Approvals'));
  const { approvals } = await api('GET', '/v1/approvals');
  if (!approvals.length) {
    root.append(el('p', { textContent: 'Nothing waits for your answer.' }));
    return;
  }
  root.append(dataTable('approvals', COLUMNS, approvals.map((a) => ({
    ...a, expires: when(a.expires_at),
  }))));
}
