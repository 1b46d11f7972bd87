// The Hosts view: GET /v1/hosts (the hosts the user may see) as a table.

import { api } from './api.js';
import { dataTable, el, heading } from './dom.js';

const COLUMNS = [['name', 'Name'], ['kind', 'Kind'], ['labels', 'Labels'], ['online', 'Online']];

function labels(h) {
  const span = el('span');
  for (const [k, v] of Object.entries(h.labels || {})) {
    span.append(el('span', { className: 'label', textContent: `${k}=${v}` }));
  }
  return span;
}

export async function hostsView(root) {
  root.replaceChildren(heading('Hosts'));
  const { hosts } = await api('GET', '/v1/hosts');
  if (!hosts.length) {
    root.append(el('p', { textContent: 'No host you may use is known yet.' }));
    return;
  }
  root.append(dataTable('hosts', COLUMNS, hosts.map((h) => ({
    name: h.name,
    kind: h.kind || '',
    labels: labels(h),
    online: el('span', { className: h.online ? 'online' : 'offline',
      textContent: h.online ? 'online' : 'offline' }),
  }))));
}
