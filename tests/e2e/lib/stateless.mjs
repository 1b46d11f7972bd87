// Raw MCP 2026-07-28 (stateless) requests to the broker, for tests that
// look at the wire itself: the headers the revision asks for, the _meta
// of every request, and the answer read from JSON or from its SSE stream.
import { request, until } from './zt.mjs';

export const V = '2026-07-28';
export const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
let next = 1000;

// One stateless request of method with params by token, declaring caps
// (client capabilities); resolves to the JSON-RPC response.
export async function rpc(broker, token, method, params, caps = {}) {
  const id = next++;
  const name = params.name ?? params.uri ?? params.taskId;
  const r = await request(broker, 'POST', '/mcp', {
    token,
    body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: {
      'io.modelcontextprotocol/protocolVersion': V,
      'io.modelcontextprotocol/clientCapabilities': caps, ...params._meta } } },
    headers: { Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': V,
      'Mcp-Method': method, ...(name !== undefined ? { 'Mcp-Name': name } : {}) },
  });
  if (typeof r.body === 'object') return r.body;
  return String(r.body).split('\n').filter((l) => l.startsWith('data: ') && l.length > 6)
    .map((l) => JSON.parse(l.slice(6))).find((e) => e.id === id);
}

// Polls tasks/get until the task's status is one of want; resolves to it.
export async function taskUntil(broker, token, taskId, want, caps = TASKS) {
  let task;
  await until(async () => {
    task = (await rpc(broker, token, 'tasks/get', { taskId }, caps)).result;
    return want.includes(task?.status);
  }, `task ${taskId} ${want.join(' or ')}`, 30000);
  return task;
}
