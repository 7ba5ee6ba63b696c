// The Videos page's logic: job progress, final states, list merging, the idempotency key of a
// render click (reused on retry, new after a definite answer), and the calls with their headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';
import {
  anyOpenJob,
  cancelJob,
  createIdempotencyKeys,
  jobPercent,
  jobPermissions,
  mergeJob,
  renderLimitReset,
  startRender,
  type Job,
} from '../../web/src/lib/videos.ts';

function job(o: Partial<Job> = {}): Job {
  return {
    id: 'j1',
    workspace_id: 'w',
    content_id: 'c',
    content_version: 1,
    status: 'rendering',
    progress: 40,
    video_url: null,
    thumbnail_url: null,
    duration_seconds: null,
    attempts: 1,
    last_error: null,
    created_at: '2026-11-26T10:00:00Z',
    updated_at: '2026-11-26T10:00:00Z',
    finished_at: null,
    ...o,
  };
}

test('progress is a whole percentage; ready is 100; unknown progress of a running job is indeterminate', () => {
  assert.equal(jobPercent(job({ progress: 40 })), 40);
  assert.equal(jobPercent(job({ progress: 0.42 })), 42);
  assert.equal(jobPercent(job({ progress: 140 })), 100);
  assert.equal(jobPercent(job({ status: 'ready', progress: 80 })), 100);
  assert.equal(jobPercent(job({ status: 'queued', progress: null })), 0);
  assert.equal(jobPercent(job({ status: 'rendering', progress: null })), null);
});

test('polling continues while any job is open; viewers may neither render nor cancel', () => {
  assert.equal(anyOpenJob([job({ status: 'ready' }), job({ status: 'submitted' })]), true);
  assert.equal(anyOpenJob([job({ status: 'ready' }), job({ status: 'failed' }), job({ status: 'canceled' })]), false);
  assert.deepEqual(jobPermissions('viewer'), { render: false, cancel: false });
  assert.deepEqual(jobPermissions('editor'), { render: true, cancel: true });
});

test('a fresh answer replaces the old copy of a job; newest first', () => {
  const a = job({ id: 'a', created_at: '2026-11-26T09:00:00Z' });
  const b = job({ id: 'b', created_at: '2026-11-26T11:00:00Z' });
  const merged = mergeJob([a], b);
  assert.deepEqual(
    merged.map((j) => j.id),
    ['b', 'a'],
  );
  const again = mergeJob(merged, { ...a, status: 'ready' });
  assert.deepEqual(
    again.map((j) => `${j.id}:${j.status}`),
    ['b:rendering', 'a:ready'],
  );
});

test('one click keeps its idempotency key through retries, and a definite answer frees it', () => {
  let n = 0;
  const keys = createIdempotencyKeys(() => `k${++n}`);
  assert.equal(keys.keyFor('c'), 'k1');
  assert.equal(keys.retryable(new ApiError({ status: null, code: 'network_error', message: 'x' })), true);
  assert.equal(keys.retryable(new ApiError({ status: 503, code: 'x', message: 'x' })), true);
  assert.equal(keys.keyFor('c'), 'k1', 'a retry reuses the key');
  assert.equal(keys.retryable(new ApiError({ status: 409, code: 'not_approved', message: 'x' })), false);
  keys.settle('c');
  assert.equal(keys.keyFor('c'), 'k2');
  assert.equal(keys.keyFor('other'), 'k3');
});

test('the monthly limit’s reset time comes from a 429’s details', () => {
  const e = new ApiError({
    status: 429,
    code: 'render_limit_reached',
    message: 'x',
    details: { resets_at: '2026-12-01T00:00:00.000Z', retry_after_seconds: 5 },
  });
  assert.equal(renderLimitReset(e)?.toISOString(), '2026-12-01T00:00:00.000Z');
  assert.equal(
    renderLimitReset(new ApiError({ status: 400, code: 'x', message: 'x', details: { resets_at: '2026-12-01T00:00:00Z' } })),
    null,
  );
});

test('render sends the Idempotency-Key header; cancel is a DELETE', async () => {
  const calls: { name: string; method?: string; body?: unknown; headers?: Record<string, string> }[] = [];
  const c: FunctionsInvoker = {
    functions: {
      invoke: async (name, o) => {
        calls.push({ name, method: o.method, body: o.body, headers: o.headers });
        return { data: o.method === 'POST' ? { job: job(), replayed: false } : { job: job({ status: 'canceled' }) }, error: null };
      },
    },
  };
  const r = await startRender(c, 'c1', 'key-1');
  assert.equal(r.replayed, false);
  assert.equal(calls[0].name, 'render-video');
  assert.deepEqual(calls[0].body, { content_id: 'c1', item: 0 });
  assert.equal(calls[0].headers?.['Idempotency-Key'], 'key-1');
  assert.ok(calls[0].headers?.['x-request-id']);
  assert.equal((await cancelJob(c, 'j1')).status, 'canceled');
  assert.deepEqual([calls[1].name, calls[1].method], ['render-video/j1', 'DELETE']);
});
