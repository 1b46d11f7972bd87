// The tool-call behaviours every MCP front door must show, run once per
// transport (Streamable HTTP, ztctl mcp over stdio): progress, a
// cancellation that stops the broker's work, an elicitation round trip,
// and the error for an unknown tool. get() returns {client, broker, S}
// once the suite's before() hook has connected; the broker must run with
// --diagnostic-tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';

export function toolBehaviourTests(get) {
  test('progress notifications arrive while a call runs', async () => {
    const { client } = get();
    const seen = [];
    const r = await client.callTool({ name: 'diag_progress', arguments: { steps: 3, interval_ms: 20 } },
      undefined, { onprogress: (p) => seen.push(p) });
    assert.equal(r.structuredContent.steps, 3);
    // The last one may be lost in the client: when it reaches the SDK in
    // the same read as the response, the SDK drops the progress handler
    // before it runs the notification's (typescript-sdk issue 2580).
    assert.deepEqual(seen.map((p) => p.progress).slice(0, 2), [1, 2]);
    assert.equal(seen[0].total, 3);
    assert.ok(seen.length <= 3);
  });

  test('a cancellation stops the work on the broker', async () => {
    const { client, broker } = get();
    const ac = new AbortController();
    let first;
    const started = new Promise((r) => { first = r; });
    const call = client.callTool({ name: 'diag_progress', arguments: { steps: 100, interval_ms: 100 } },
      undefined, { signal: ac.signal, onprogress: () => first() });
    await started;
    ac.abort('test cancels');
    await assert.rejects(call);
    // The broker noted that the call ended early, long before its 10 s.
    await new Promise((r) => setTimeout(r, 500));
    assert.match(broker.log.join(''), /diag_progress: cancelled after \d+ of 100 steps/);
    const w = await client.callTool({ name: 'whoami', arguments: {} });
    assert.ok(w.structuredContent.name.length > 0);
  });

  test('an elicitation round trip', async () => {
    const { client, S } = get();
    let asked;
    client.setRequestHandler(S.types.ElicitRequestSchema, async (req) => {
      asked = req.params;
      return { action: 'accept', content: { answer: 'forty-two' } };
    });
    const r = await client.callTool({ name: 'diag_elicit', arguments: { question: 'The answer?' } });
    assert.equal(asked.message, 'The answer?');
    assert.equal(r.structuredContent.action, 'accept');
    assert.deepEqual(r.structuredContent.content, { answer: 'forty-two' });
  });

  test('an unknown tool is a JSON-RPC error', async () => {
    const { client } = get();
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /-32602|Unknown tool/);
  });
}
