// The platform admin's view: metrics (admin-metrics), alerts (admin-alerts) and the health of each
// service (health), with the shaping the charts and tables need. The functions refuse anyone whose
// JWT lacks app_metadata.role = 'admin'; the UI only hides what would be refused.
import * as z from 'zod/mini';
import { callFunction, segment, type FunctionsInvoker } from './api.ts';
import { apiErrorFromResponse } from './api-error.ts';
import { safeLocale, type DisplayPrefs } from './format.ts';

export const WINDOWS = ['1h', '24h', '7d', '30d'] as const;
export type MetricsWindow = (typeof WINDOWS)[number];
export const WINDOW_LABELS: Record<MetricsWindow, string> = {
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

const n = z.number();
const nn = z.nullable(z.number());

const SeriesPoint = z.object({ t: z.string(), requests: n, server_errors: n, avg_response_time: nn, p95_response_time: nn });
export type SeriesPoint = z.infer<typeof SeriesPoint>;

const Endpoint = z.looseObject({
  function: z.string(),
  endpoint: z.string(),
  method: z.string(),
  calls: n,
  error_rate: nn,
  avg_response_time: nn,
  p95_response_time: nn,
  max_response_time: nn,
});
export type Endpoint = z.infer<typeof Endpoint>;

export const Metrics = z.looseObject({
  timestamp: z.string(),
  window: z.looseObject({ name: z.string(), since: z.string(), until: z.string(), bucket: z.enum(['minute', 'hour']) }),
  application: z.looseObject({
    total_requests: n,
    error_rate: n,
    avg_response_time: nn,
    p95_response_time: nn,
    max_response_time: nn,
    uptime_percentage: nn,
    slowest_endpoints: z.array(Endpoint),
  }),
  errors: z.looseObject({
    server_errors: n,
    client_errors: n,
    rate_limited: n,
    unhandled: z.array(z.object({ name: z.string(), count: n })),
    failed_renders: z.optional(nn),
    failed_uploads: z.optional(nn),
  }),
  user_activity: z.looseObject({ active_users: n }),
  series: z.array(SeriesPoint),
  open_alerts: n,
});
export type Metrics = z.infer<typeof Metrics>;

export const Alert = z.looseObject({
  id: z.string(),
  rule_key: z.string(),
  kind: z.string(),
  severity: z.string(),
  description: z.string(),
  opened_at: z.string(),
  details: z.unknown(),
  last_evaluated_at: z.string(),
  acknowledged_at: z.nullable(z.string()),
  resolved_at: z.nullable(z.string()),
  resolution: z.nullable(z.string()),
});
export type Alert = z.infer<typeof Alert>;

export const ALERT_FILTERS = ['open', 'acknowledged', 'resolved', 'all'] as const;
export type AlertFilter = (typeof ALERT_FILTERS)[number];

export const Delivery = z.looseObject({
  id: z.string(),
  event: z.enum(['opened', 'resolved', 'new_error']),
  status: z.enum(['pending', 'sending', 'delivered', 'failed']),
  attempts: n,
  max_attempts: n,
  last_status_code: nn,
  last_error: z.nullable(z.string()),
  next_attempt_at: z.nullable(z.string()),
  created_at: z.string(),
  finished_at: z.nullable(z.string()),
  subject: z.nullable(z.string()),
});
export type Delivery = z.infer<typeof Delivery>;
const DeliveryCounts = z.object({ pending: n, sending: n, delivered: n, failed: n });
export type DeliveryCounts = z.infer<typeof DeliveryCounts>;

export const DELIVERY_FILTERS = ['undelivered', 'failed', 'delivered', 'all'] as const;
export type DeliveryFilter = (typeof DELIVERY_FILTERS)[number];

// backend: whether the deployment talks to the real service or a local fake (external services only).
const ServiceHealth = z.looseObject({
  status: z.string(),
  response_time: n,
  last_checked: z.string(),
  error: z.optional(z.string()),
  backend: z.optional(z.enum(['real', 'fake'])),
});
export const HealthReport = z.looseObject({
  status: z.string(),
  timestamp: z.string(),
  version: z.string(),
  services: z.object({ database: ServiceHealth, external_apis: z.record(z.string(), ServiceHealth) }),
});
export type HealthReport = z.infer<typeof HealthReport>;

export async function getMetrics(client: FunctionsInvoker, window: MetricsWindow): Promise<Metrics> {
  return callFunction(client, 'admin-metrics', { query: { window }, schema: Metrics });
}

export const RecentError = z.object({
  id: z.string(),
  at: z.string(),
  name: z.string(),
  message: z.string(),
  operation: z.string(),
  request_id: z.nullable(z.string()),
});
export type RecentError = z.infer<typeof RecentError>;

/** The latest unhandled errors, newest first, each with the request id a user would quote. */
export async function listRecentErrors(client: FunctionsInvoker, limit = 20): Promise<RecentError[]> {
  return (
    await callFunction(client, 'admin-metrics/errors', {
      query: { limit: String(limit) },
      schema: z.object({ errors: z.array(RecentError) }),
    })
  ).errors;
}

export const ErrorKind = z.object({
  fingerprint: z.string(),
  name: z.string(),
  operation: z.string(),
  message: z.string(),
  occurrences: n,
  first_seen_at: z.string(),
  last_seen_at: z.string(),
  last_request_id: z.nullable(z.string()),
  notification_status: z.nullable(z.string()),
});
export type ErrorKind = z.infer<typeof ErrorKind>;

/** Unhandled errors grouped by kind (fingerprint), most recently seen first. */
export async function listErrorKinds(client: FunctionsInvoker, limit = 10): Promise<ErrorKind[]> {
  return (
    await callFunction(client, 'admin-metrics/error-kinds', {
      query: { limit: String(limit) },
      schema: z.object({ kinds: z.array(ErrorKind) }),
    })
  ).kinds;
}

export async function listAlerts(client: FunctionsInvoker, status: AlertFilter): Promise<Alert[]> {
  return (await callFunction(client, 'admin-alerts', { query: { status }, schema: z.object({ alerts: z.array(Alert) }) })).alerts;
}

export async function acknowledgeAlert(client: FunctionsInvoker, id: string): Promise<Alert> {
  return (await callFunction(client, `admin-alerts/${segment(id)}/acknowledge`, { method: 'POST', schema: z.object({ alert: Alert }) }))
    .alert;
}

export async function resolveAlert(client: FunctionsInvoker, id: string, note: string): Promise<Alert> {
  const body = note.trim() ? { note: note.trim() } : {};
  return (await callFunction(client, `admin-alerts/${segment(id)}/resolve`, { method: 'POST', body, schema: z.object({ alert: Alert }) }))
    .alert;
}

/** Notifications (alerts, new kinds of error) and whether the webhook took them. */
export async function listDeliveries(
  client: FunctionsInvoker,
  status: DeliveryFilter,
): Promise<{ counts: DeliveryCounts; deliveries: Delivery[] }> {
  return callFunction(client, 'admin-alerts/deliveries', {
    query: { status },
    schema: z.object({ counts: DeliveryCounts, deliveries: z.array(Delivery) }),
  });
}

const EVENT_LABELS: Record<Delivery['event'], string> = { opened: 'opened', resolved: 'resolved', new_error: 'new error kind' };

/** One line on where a delivery stands: "failed after 6 attempts: HTTP 500 …", "retry at …". */
export function deliveryOutcome(d: Delivery, formatTime: (iso: string) => string): string {
  const answer = d.last_error ?? (d.last_status_code === null ? null : `HTTP ${d.last_status_code}`);
  switch (d.status) {
    case 'delivered':
      return `delivered${d.attempts > 1 ? ` on attempt ${d.attempts}` : ''}`;
    case 'failed':
      return `failed after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${answer ? `: ${answer}` : ''}`;
    case 'sending':
      return `attempt ${d.attempts} of ${d.max_attempts} sent, waiting for the answer`;
    default:
      return d.attempts === 0
        ? 'queued'
        : `attempt ${d.attempts} of ${d.max_attempts} failed${answer ? ` (${answer})` : ''}; next ${d.next_attempt_at ? formatTime(d.next_attempt_at) : 'soon'}`;
  }
}

export function deliveryEventLabel(d: Pick<Delivery, 'event'>): string {
  return EVENT_LABELS[d.event];
}

/**
 * The health report. An unhealthy platform answers 503 with the same report (so load balancers
 * act on the status alone); that answer is still the report to show, not an error.
 */
export async function getHealth(client: FunctionsInvoker, requestId = crypto.randomUUID()): Promise<HealthReport> {
  const { data, error } = await client.functions.invoke('health', { method: 'GET', headers: { 'x-request-id': requestId } });
  if (!error) return HealthReport.parse(data);
  const res = (error as { context?: unknown }).context;
  if (typeof Response !== 'undefined' && res instanceof Response) {
    if (res.status === 503) {
      const parsed = HealthReport.safeParse(
        await res
          .clone()
          .json()
          .catch(() => null),
      );
      if (parsed.success) return parsed.data;
    }
    throw await apiErrorFromResponse(res, requestId);
  }
  throw error;
}

export function alertState(alert: Pick<Alert, 'acknowledged_at' | 'resolved_at'>): 'open' | 'acknowledged' | 'resolved' {
  if (alert.resolved_at) return 'resolved';
  return alert.acknowledged_at ? 'acknowledged' : 'open';
}

/** An alert's details as label/value pairs ({"unhealthy_services":["gemini"]} → "Unhealthy services: gemini"). */
export function alertDetails(details: unknown): { label: string; value: string }[] {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return [];
  return Object.entries(details as Record<string, unknown>).map(([key, value]) => ({
    label: key.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase()),
    value:
      value === null
        ? 'none'
        : Array.isArray(value)
          ? value.map(String).join(', ') || 'none'
          : typeof value === 'object'
            ? JSON.stringify(value)
            : String(value),
  }));
}

export interface HealthRow {
  service: string;
  label: string;
  status: string;
  responseMs: number;
  lastChecked: string;
  error: string | null;
  /** Real service or local fake; null for the database (and servers that do not say). */
  backend: 'real' | 'fake' | null;
}

const SERVICE_LABELS: Record<string, string> = { database: 'Database', youtube: 'YouTube', gemini: 'Gemini', revid: 'RevID' };

export function healthRows(report: HealthReport): HealthRow[] {
  const entries: [string, z.infer<typeof ServiceHealth>][] = [
    ['database', report.services.database],
    ...Object.entries(report.services.external_apis),
  ];
  return entries.map(([service, h]) => ({
    service,
    label: SERVICE_LABELS[service] ?? service,
    status: h.status,
    responseMs: h.response_time,
    lastChecked: h.last_checked,
    error: h.error ?? null,
    backend: h.backend ?? null,
  }));
}

export interface MetricsChartData {
  labels: string[];
  requests: number[];
  /** Percent of requests that failed with 5xx; null in buckets without requests. */
  errorRate: (number | null)[];
  p95: (number | null)[];
}

const STEP_MS = { minute: 60_000, hour: 3_600_000 } as const;

/**
 * The series as evenly spaced buckets from the window's start to its end: the API lists only
 * buckets with calls, and a chart that skipped the quiet ones would draw a false trend.
 */
export function metricsChartData(metrics: Pick<Metrics, 'series' | 'window'>, prefs: DisplayPrefs): MetricsChartData {
  const step = STEP_MS[metrics.window.bucket];
  const start = Math.floor(Date.parse(metrics.window.since) / step) * step;
  const end = Date.parse(metrics.window.until);
  const byTime = new Map(metrics.series.map((p) => [Math.floor(Date.parse(p.t) / step) * step, p]));
  const spansDays = end - start > 36 * 3_600_000;
  const fmt = new Intl.DateTimeFormat(safeLocale(prefs.locale), {
    ...(spansDays ? { month: 'short', day: 'numeric' } : {}),
    hour: 'numeric',
    minute: '2-digit',
    timeZone: prefs.timeZone,
  });
  const out: MetricsChartData = { labels: [], requests: [], errorRate: [], p95: [] };
  if (!Number.isFinite(start) || !Number.isFinite(end)) return out;
  for (let t = start; t <= end; t += step) {
    const p = byTime.get(t);
    out.labels.push(fmt.format(t));
    out.requests.push(p?.requests ?? 0);
    out.errorRate.push(p && p.requests > 0 ? Math.round((p.server_errors * 10000) / p.requests) / 100 : null);
    out.p95.push(p?.p95_response_time ?? null);
  }
  return out;
}
