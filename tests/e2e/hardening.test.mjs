// The broker's process and its log, end to end: a request URL cannot forge
// log lines or put terminal escapes into the broker's stderr.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, startBroker, stopChecked } from './lib/zt.mjs';

let broker;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  await stopChecked(broker);
});

test('a URL with %0a and %1b forges no log line and no terminal escape', async () => {
  const r = await request(broker, 'GET', '/v1/x%0aforged%1b[31m');
  assert.equal(r.status, 404);
  let log = '';
  // The request line is logged after the answer is made; wait for it.
  for (let i = 0; i < 50 && !/GET \/v1\/x/.test(log); i++) {
    await new Promise((res) => setTimeout(res, 100));
    log = broker.log.join('');
  }
  const line = log.split('\n').find((l) => l.includes('GET /v1/x'));
  assert.ok(line, `the request is logged:\n${log}`);
  assert.match(line, /GET \/v1\/x\\nforged\\x1b\[31m 404 from 127\.0\.0\.1$/);
  assert.ok(!log.split('\n').some((l) => l.startsWith('forged')), log);
  assert.ok(!log.includes('\x1b'), 'no ESC byte in the log');
});
