// The Admin view (administrators): the roles in force (GET /v1/roles).

import { api } from './api.js';
import { dataTable, heading } from './dom.js';

export async function adminView(root) {
  root.replaceChildren(heading('Admin'));
  const { roles } = await api('GET', '/v1/roles');
  root.append(dataTable('roles', [['name', 'Role']], roles.map((r) => ({ name: r.name }))));
}
