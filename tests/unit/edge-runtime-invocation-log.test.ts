// The edge runtime's per-request log line and costs record never carry query values: an
// unsubscribe token or a webhook secret travels in the query string and must not reach the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvocationLog, redactQueryValues } from '../../local/edge-runtime/invocations.ts';

const entry = (path: string) => ({
  fn: 'notifications',
  method: 'POST',
  path,
  status: 200,
  cpu_ms: 1,
  peak_rss_mb: 90,
  isolate_memory_mb: 0,
  wall_ms: 5,
  limit: null,
  acquire_ms: 0,
  isolate_request: 0,
});

test('a logged request keeps the names of its query parameters, never their values', () => {
  const lines: string[] = [];
  const log = new InvocationLog((line) => lines.push(line));
  const record = log.add(entry('/notifications/unsubscribe?token=user.category.s3cr3tSignature&x=1'));
  assert.equal(record.path, '/notifications/unsubscribe?token=<redacted>&x=<redacted>');
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /s3cr3tSignature/);
  assert.match(lines[0]!, /POST \/notifications\/unsubscribe\?token=<redacted>&x=<redacted> 200/);
});

test('a path without a query is logged as it is', () => {
  assert.equal(redactQueryValues('/schedules/worker'), '/schedules/worker');
  assert.equal(redactQueryValues('/revid-webhook/?job=1&secret=abc'), '/revid-webhook/?job=<redacted>&secret=<redacted>');
});
