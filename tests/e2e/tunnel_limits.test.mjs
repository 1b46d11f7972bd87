// The agent tunnel under load it did not ask for: joins with made-up
// tokens are audited once per kind, address and period, not once each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditEvents, startBroker, stopChecked } from './lib/zt.mjs';
import { agentMaterial, rawJoin } from './lib/tunnel.mjs';

const TUNNEL = ['--tunnel-listen', '127.0.0.1:0'];

test('fifty joins with unknown tokens from one address: one event, then one summary', async () => {
  const broker = await startBroker({ args: TUNNEL });
  const m = agentMaterial('web1');
  const unknown = () => auditEvents(broker, 'agent.join')
    .filter((e) => e.source === '127.0.0.2' && e.details.reason === 'token_unknown');
  try {
    for (let i = 0; i < 50; i++) {
      const reply = await rawJoin(broker, `ztj_never_issued_${i}`, 'web1', m, '127.0.0.2');
      assert.equal(reply?.code, 'token_unknown', JSON.stringify(reply));
    }
    // The period (60 s) still runs: the first refusal is on record, the
    // other 49 are only counted.
    const during = unknown();
    assert.equal(during.length, 1);
    assert.equal(during[0].outcome, 'failure');
    assert.equal(during[0].actor, 'agent:web1');
    assert.match(during[0].details.token, /^[0-9a-f]{12}$/);
  } finally {
    await stopChecked(broker);
  }
  // A clean stop writes the summary of the period.
  const all = unknown();
  assert.equal(all.length, 2);
  assert.equal(all[1].details.aggregated, true);
  assert.equal(all[1].details.repeats, 49);
});
