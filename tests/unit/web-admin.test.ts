import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';
import {
  acknowledgeAlert,
  alertDetails,
  alertState,
  deliveryEventLabel,
  deliveryOutcome,
  getHealth,
  getMetrics,
  healthRows,
  listAlerts,
  listDeliveries,
  listErrorKinds,
  metricsChartData,
  resolveAlert,
  type HealthReport,
} from '../../web/src/lib/admin.ts';

const plain = (s: string) => s.replace(/\s+/g, ' ');

type Call = { name: string; method?: string; body?: unknown };

function client(answer: { data: unknown; error: unknown }): { c: FunctionsInvoker; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    c: {
      functions: {
        invoke: async (name, options) => {
          calls.push({ name, method: options.method, body: options.body });
          return answer;
        },
      },
    },
  };
}

const report: HealthReport = {
  status: 'degraded',
  timestamp: '2026-11-26T06:21:18Z',
  version: '0.1.0',
  services: {
    database: { status: 'healthy', response_time: 5, last_checked: '2026-11-26T06:21:18Z' },
    external_apis: {
      youtube: {
        status: 'unhealthy',
        response_time: 8,
        last_checked: '2026-11-26T06:20:53Z',
        error: 'unreachable: fetch failed',
        backend: 'fake',
      },
      gemini: { status: 'healthy', response_time: 3, last_checked: '2026-11-26T06:20:53Z', backend: 'real' },
    },
  },
};

test('the chart series fills quiet buckets, so gaps show as zero requests and no rate', () => {
  const data = metricsChartData(
    {
      window: { name: '1h', since: '2026-11-26T05:21:00Z', until: '2026-11-26T05:24:30Z', bucket: 'minute' },
      series: [
        { t: '2026-11-26T05:21:00+00:00', requests: 4, server_errors: 1, avg_response_time: 20, p95_response_time: 91 },
        { t: '2026-11-26T05:23:00+00:00', requests: 3, server_errors: 0, avg_response_time: 10, p95_response_time: 40 },
      ],
    },
    { locale: 'en', timeZone: 'UTC' },
  );
  assert.deepEqual(data.labels.map(plain), ['5:21 AM', '5:22 AM', '5:23 AM', '5:24 AM']);
  assert.deepEqual(data.requests, [4, 0, 3, 0]);
  assert.deepEqual(data.errorRate, [25, null, 0, null]);
  assert.deepEqual(data.p95, [91, null, 40, null]);
});

test('chart labels are in the user’s time zone, with the date when the window spans days', () => {
  const window = { name: '7d', since: '2026-11-19T06:00:00Z', until: '2026-11-19T07:10:00Z', bucket: 'hour' as const };
  const berlin = metricsChartData({ window, series: [] }, { locale: 'de', timeZone: 'Europe/Berlin' });
  // UTC+1 in November, 24-hour clock in German (ICU versions differ on a leading zero).
  assert.equal(berlin.labels.length, 2);
  assert.match(berlin.labels[0], /^0?7:00$/);
  assert.match(berlin.labels[1], /^0?8:00$/);
  const week = metricsChartData(
    { window: { ...window, since: '2026-11-12T06:00:00Z' }, series: [] },
    { locale: 'en', timeZone: 'America/New_York' },
  );
  assert.equal(plain(week.labels[0]), 'Nov 12, 1:00 AM');
  assert.equal(week.labels.length, 7 * 24 + 2);
  assert.deepEqual(metricsChartData({ window: { ...window, since: 'garbage' }, series: [] }, { locale: 'en', timeZone: 'UTC' }).labels, []);
});

test('health rows: the database first, then each external service, with its error and whether it is the real service or a fake', () => {
  assert.deepEqual(healthRows(report), [
    {
      service: 'database',
      label: 'Database',
      status: 'healthy',
      responseMs: 5,
      lastChecked: '2026-11-26T06:21:18Z',
      error: null,
      backend: null,
    },
    {
      service: 'youtube',
      label: 'YouTube',
      status: 'unhealthy',
      responseMs: 8,
      lastChecked: '2026-11-26T06:20:53Z',
      error: 'unreachable: fetch failed',
      backend: 'fake',
    },
    {
      service: 'gemini',
      label: 'Gemini',
      status: 'healthy',
      responseMs: 3,
      lastChecked: '2026-11-26T06:20:53Z',
      error: null,
      backend: 'real',
    },
  ]);
});

test('an unhealthy platform answers 503 with the report: it is shown, not treated as an error', async () => {
  const unhealthy = { ...report, status: 'unhealthy' };
  const httpError = Object.assign(new Error('Edge Function returned a non-2xx status code'), {
    name: 'FunctionsHttpError',
    context: new Response(JSON.stringify(unhealthy), { status: 503, headers: { 'content-type': 'application/json' } }),
  });
  assert.equal((await getHealth(client({ data: null, error: httpError }).c)).status, 'unhealthy');

  const gatewayDown = Object.assign(new Error('x'), {
    name: 'FunctionsHttpError',
    context: new Response(
      JSON.stringify({ error: { code: 'function_unavailable', message: 'health failed to load', request_id: 'req-1' } }),
      { status: 503 },
    ),
  });
  await assert.rejects(getHealth(client({ data: null, error: gatewayDown }).c), (e: unknown) => {
    return e instanceof ApiError && e.status === 503 && e.code === 'function_unavailable' && e.requestId === 'req-1';
  });
  assert.equal((await getHealth(client({ data: report, error: null }).c)).version, '0.1.0');
});

test('alerts: list by state, acknowledge, resolve with or without a note', async () => {
  const alert = {
    id: '2',
    rule_key: 'backup_missing',
    kind: 'backup_missing',
    severity: 'critical',
    description: 'No successful backup in the last 26 hours',
    opened_at: '2026-11-26T06:21:01Z',
    details: { last_successful_backup: null },
    last_evaluated_at: '2026-11-26T06:21:01Z',
    acknowledged_at: null,
    resolved_at: null,
    resolution: null,
  };
  const list = client({ data: { alerts: [alert] }, error: null });
  assert.deepEqual(await listAlerts(list.c, 'all'), [alert]);
  assert.equal(list.calls[0].name, 'admin-alerts?status=all');

  const one = client({ data: { alert }, error: null });
  await acknowledgeAlert(one.c, '2');
  await resolveAlert(one.c, '2', '  fixed the deploy ');
  await resolveAlert(one.c, '2', '   ');
  assert.deepEqual(one.calls, [
    { name: 'admin-alerts/2/acknowledge', method: 'POST', body: undefined },
    { name: 'admin-alerts/2/resolve', method: 'POST', body: { note: 'fixed the deploy' } },
    { name: 'admin-alerts/2/resolve', method: 'POST', body: {} },
  ]);

  assert.equal(alertState(alert), 'open');
  assert.equal(alertState({ acknowledged_at: 'x', resolved_at: null }), 'acknowledged');
  assert.equal(alertState({ acknowledged_at: 'x', resolved_at: 'y' }), 'resolved');
});

test('notifications: listed by state with counts; each says where its delivery stands', async () => {
  const base = {
    id: '7',
    event: 'opened' as const,
    status: 'failed' as const,
    attempts: 6,
    max_attempts: 6,
    last_status_code: 500,
    last_error: 'HTTP 500: upstream down',
    next_attempt_at: null,
    created_at: '2026-12-06T22:00:00Z',
    finished_at: '2026-12-06T22:31:00Z',
    subject: 'No successful backup in the last 26 hours',
  };
  const counts = { pending: 1, sending: 0, delivered: 4, failed: 1 };
  const list = client({ data: { counts, deliveries: [base] }, error: null });
  assert.deepEqual(await listDeliveries(list.c, 'failed'), { counts, deliveries: [base] });
  assert.equal(list.calls[0].name, 'admin-alerts/deliveries?status=failed');
  await assert.rejects(listDeliveries(client({ data: { counts, deliveries: [{ ...base, status: 'lost' }] }, error: null }).c, 'all'));

  const at = (iso: string) => `at ${iso}`;
  assert.equal(deliveryOutcome(base, at), 'failed after 6 attempts: HTTP 500: upstream down');
  assert.equal(deliveryOutcome({ ...base, status: 'delivered', attempts: 3, last_error: null }, at), 'delivered on attempt 3');
  assert.equal(deliveryOutcome({ ...base, status: 'delivered', attempts: 1, last_error: null }, at), 'delivered');
  assert.equal(
    deliveryOutcome(
      { ...base, status: 'pending', attempts: 2, last_error: null, last_status_code: 503, next_attempt_at: '2026-12-06T22:05:00Z' },
      at,
    ),
    'attempt 2 of 6 failed (HTTP 503); next at 2026-12-06T22:05:00Z',
  );
  assert.equal(deliveryOutcome({ ...base, status: 'sending', attempts: 1 }, at), 'attempt 1 of 6 sent, waiting for the answer');
  assert.equal(deliveryEventLabel({ event: 'new_error' }), 'new error kind');
});

test('kinds of unhandled error are listed from admin-metrics/error-kinds', async () => {
  const kind = {
    fingerprint: '0a1588971784d9387943b3f1c72470c9',
    name: 'TypeError',
    operation: 'GET content/:id',
    message: 'video <n> not found',
    occurrences: 12,
    first_seen_at: '2026-12-06T21:00:00Z',
    last_seen_at: '2026-12-06T22:00:00Z',
    last_request_id: 'req-9',
    notification_status: 'delivered',
  };
  const list = client({ data: { kinds: [kind] }, error: null });
  assert.deepEqual(await listErrorKinds(list.c, 5), [kind]);
  assert.equal(list.calls[0].name, 'admin-metrics/error-kinds?limit=5');
  await assert.rejects(listErrorKinds(client({ data: { kinds: [{ ...kind, occurrences: '12' }] }, error: null }).c));
});

test('alert details read as label and value', () => {
  assert.deepEqual(alertDetails({ unhealthy_services: ['gemini', 'revid'], last_successful_backup: null, calls: 40, window: { a: 1 } }), [
    { label: 'Unhealthy services', value: 'gemini, revid' },
    { label: 'Last successful backup', value: 'none' },
    { label: 'Calls', value: '40' },
    { label: 'Window', value: '{"a":1}' },
  ]);
  assert.deepEqual(alertDetails(null), []);
  assert.deepEqual(alertDetails(['x']), []);
});

test('metrics are fetched for a window and checked', async () => {
  const bad = client({ data: { timestamp: 'x' }, error: null });
  await assert.rejects(getMetrics(bad.c, '7d'), (e: unknown) => e instanceof ApiError && e.code === 'unexpected_response');
  assert.equal(bad.calls[0].name, 'admin-metrics?window=7d');
});
