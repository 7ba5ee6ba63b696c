// Platform metrics for administrators (anyone else 403; methods other than GET 405): requests,
// error rate, average and p95 response time, slowest endpoints, measured uptime, database,
// YouTube quota, generation / render / upload counts, failures by kind, active users, and a time
// series for charts, over a window (?window=1h|24h|7d|30d, default 24h; ?function=<name> narrows
// the request figures to one function). Everything is computed in the database by
// ops.admin_metrics() from the minute/hour roll-ups plus the raw rows not rolled up yet, in one
// round trip. Answers are cached for 60 s per admin and URL, and invalidated by every roll-up.
import { z } from 'zod';
import { requireAdmin } from '../_shared/platform/auth.ts';
import { cached } from '../_shared/platform/response-cache.ts';
import { sql } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { json, Router, type RouteContext } from '../_shared/platform/http.ts';
import { parseQuery } from '../_shared/platform/request.ts';
import { queryInt } from '../_shared/platform/integers.ts';

const Query = z.strictObject({
  window: z.enum(['1h', '24h', '7d', '30d']).default('24h'),
  function: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a function name')
    .optional(),
});

async function metrics(ctx: RouteContext) {
  await requireAdmin(ctx.req);
  const query = parseQuery(ctx, Query);
  const [row] = await sql()<{ metrics: unknown }[]>`
    select ops.admin_metrics(${query.window}, ${query.function ?? null}) as metrics`;
  return json(row.metrics);
}

const ErrorsQuery = z.strictObject({
  limit: queryInt(z.number().int().min(1).max(200)).default(50),
  before: queryInt(z.number().int().positive()).optional(),
});

// The latest unhandled errors, one row each with the request id a user would quote. Stacks are
// already scrubbed of secrets when recorded; only admins get here.
async function recentErrors(ctx: RouteContext) {
  await requireAdmin(ctx.req);
  const query = parseQuery(ctx, ErrorsQuery);
  // Sorted by e.id, the number: a bare `id` names the text output column ('9' before '10').
  const errors = await sql()`
    select e.id::text as id, e.at, e.name, e.message, e.operation, e.request_id, e.context, e.stack
    from ops.errors e
    where ${query.before === undefined ? sql()`true` : sql()`e.id < ${query.before}`}
    order by e.id desc
    limit ${query.limit}`;
  return json({ errors });
}

const KindsQuery = z.strictObject({ limit: queryInt(z.number().int().min(1).max(200)).default(20) });

// Unhandled errors grouped by fingerprint (name, operation and message without ids and numbers),
// most recently seen first: how often each kind happened and when it started. The first error of
// a kind is what the alert webhook is told about, once.
async function errorKinds(ctx: RouteContext) {
  await requireAdmin(ctx.req);
  const query = parseQuery(ctx, KindsQuery);
  const kinds = await sql()`
    select f.fingerprint, f.name, f.operation, f.message, f.occurrences::int, f.first_seen_at, f.last_seen_at,
      f.last_request_id, d.status as notification_status
    from ops.error_fingerprints f
    left join ops.alert_deliveries d on d.error_fingerprint = f.fingerprint
    order by f.last_seen_at desc, f.fingerprint
    limit ${query.limit}`;
  return json({ kinds });
}

export const router = new Router('admin-metrics')
  .on(
    'GET',
    '/',
    // requireAdmin runs inside, so a cached answer exists only for an admin and is keyed by them.
    cached(metrics, { ttlSeconds: 60, scope: () => 'ops:metrics' }),
  )
  .on('GET', '/errors', recentErrors)
  .on('GET', '/error-kinds', errorKinds);

export default createHandler(router);
