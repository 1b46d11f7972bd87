// The Hosts view: GET /v1/hosts (the hosts the user may see) as a table.

import { api } from './api.js';

function cell(tr, label, content) {
  const td = document.createElement('td');
  td.dataset.label = label;
  if (typeof content === 'string') td.textContent = content;
  else td.append(content);
  tr.append(td);
}

export async function hostsView(root) {
  const h1 = document.createElement('h1');
  h1.textContent = 'Hosts';
  h1.tabIndex = -1;
  root.replaceChildren(h1);
  const { hosts } = await api('GET', '/v1/hosts');
  if (!hosts.length) {
    const p = document.createElement('p');
    p.textContent = 'No host you may use is known yet.';
    root.append(p);
    return;
  }
  const table = document.createElement('table');
  table.id = 'hosts';
  const head = table.createTHead().insertRow();
  for (const name of ['Name', 'Kind', 'Labels', 'Online']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = name;
    head.append(th);
  }
  const body = table.createTBody();
  for (const h of hosts) {
    const tr = body.insertRow();
    cell(tr, 'Name', h.name);
    cell(tr, 'Kind', h.kind || '');
    const labels = document.createElement('span');
    for (const [k, v] of Object.entries(h.labels || {})) {
      const l = document.createElement('span');
      l.className = 'label';
      l.textContent = `${k}=${v}`;
      labels.append(l);
    }
    cell(tr, 'Labels', labels);
    const on = document.createElement('span');
    on.className = h.online ? 'online' : 'offline';
    on.textContent = h.online ? 'online' : 'offline';
    cell(tr, 'Online', on);
  }
  root.append(table);
}
