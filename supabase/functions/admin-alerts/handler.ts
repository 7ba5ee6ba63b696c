// Alerts for administrators (anyone else 403): list them, acknowledge one (taken on), resolve one
// (closed by hand; if its condition still holds, the next evaluation opens a new alert), and see
// whether their notifications reached the webhook. Rules, evaluation and delivery live in the
// database (ops.alert_rules, ops.evaluate_alerts and ops.deliver_alerts by pg_cron).
import { z } from 'zod';
import { requireAdmin } from '../_shared/platform/auth.ts';
import { sql, type Sql } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router, type RouteContext } from '../_shared/platform/http.ts';
import { rethrowPg } from '../_shared/platform/pg-errors.ts';
import { parseBody, parseParams, parseQuery } from '../_shared/platform/request.ts';
import { queryInt } from '../_shared/platform/integers.ts';

const ListQuery = z.strictObject({
  status: z.enum(['open', 'acknowledged', 'resolved', 'all']).default('open'),
  limit: queryInt(z.number().int().min(1).max(500)).default(100),
});
const IdParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be an alert id') });
const DeliveriesQuery = z.strictObject({
  status: z.enum(['undelivered', 'failed', 'delivered', 'all']).default('undelivered'),
  limit: queryInt(z.number().int().min(1).max(200)).default(50),
});
const ResolveBody = z.strictObject({ note: z.string().trim().max(500).optional() });

interface AlertRow {
  id: string;
  rule_key: string;
  kind: string;
  severity: string;
  description: string;
  opened_at: Date;
  details: unknown;
  last_evaluated_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution: string | null;
  notified_at: Date | null;
  resolution_notified_at: Date | null;
}

// One query shape for the list and for single alerts; `filter` and `tail` are SQL fragments.
function selectAlerts(filter: ReturnType<Sql>, tail: ReturnType<Sql>) {
  return sql()<AlertRow[]>`
    select a.id, a.rule_key, r.kind, r.severity, r.description, a.opened_at, a.details, a.last_evaluated_at,
      a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.resolution, a.notified_at,
      a.resolution_notified_at
    from ops.alerts a join ops.alert_rules r on r.key = a.rule_key
    where ${filter}
    ${tail}`;
}

async function oneAlert(id: string): Promise<AlertRow> {
  const [alert] = await selectAlerts(sql()`a.id = ${id}`, sql()``);
  if (!alert) throw new HttpError(404, 'not_found', 'alert not found');
  return alert;
}

/** The alert functions' own verdicts: no such alert (P0002) → 404, already resolved (CEA01) → 409. */
async function changing(id: string, change: () => Promise<unknown>): Promise<Response> {
  try {
    await change();
  } catch (err) {
    rethrowPg(err, { area: 'alerts' });
  }
  return json({ alert: await oneAlert(id) });
}

// The outbox of notifications (alerts opening or resolving, new kinds of unhandled error): how many
// are in each state, and the latest of the chosen ones with the webhook's last answer. A failed
// delivery is an alert nobody was told about, so the admin page shows these first.
async function deliveries(ctx: RouteContext) {
  await requireAdmin(ctx.req);
  const q = parseQuery(ctx, DeliveriesQuery);
  const [counts] = await sql()`
    select count(*) filter (where status = 'pending')::int as pending,
      count(*) filter (where status = 'sending')::int as sending,
      count(*) filter (where status = 'delivered')::int as delivered,
      count(*) filter (where status = 'failed')::int as failed
    from ops.alert_deliveries`;
  const rows = await sql()`
    select d.id::text, d.event, d.status, d.attempts, d.max_attempts, d.last_status_code, d.last_error,
      d.next_attempt_at, d.sent_at, d.created_at, d.finished_at, d.alert_id::text, a.rule_key,
      coalesce(r.description, format('%s in %s', f.name, f.operation)) as subject, d.error_fingerprint
    from ops.alert_deliveries d
    left join ops.alerts a on a.id = d.alert_id
    left join ops.alert_rules r on r.key = a.rule_key
    left join ops.error_fingerprints f on f.fingerprint = d.error_fingerprint
    where case ${q.status}
      when 'undelivered' then d.status <> 'delivered'
      when 'failed' then d.status = 'failed'
      when 'delivered' then d.status = 'delivered'
      else true end
    order by d.created_at desc, d.id desc
    limit ${q.limit}`;
  return json({ counts, deliveries: rows });
}

export const router = new Router('admin-alerts')
  .on('GET', '/', async (ctx) => {
    await requireAdmin(ctx.req);
    const q = parseQuery(ctx, ListQuery);
    const alerts = await selectAlerts(
      sql()`case ${q.status}
        when 'open' then a.resolved_at is null
        when 'acknowledged' then a.resolved_at is null and a.acknowledged_at is not null
        when 'resolved' then a.resolved_at is not null
        else true end`,
      sql()`order by a.opened_at desc, a.id desc limit ${q.limit}`,
    );
    return json({ alerts });
  })
  .on('GET', '/deliveries', deliveries)
  .on('GET', '/rules', async ({ req }) => {
    await requireAdmin(req);
    const rules = await sql()`
      select key, kind, description, threshold, window_size::text as window_size, min_samples, function_name, severity, enabled
      from ops.alert_rules order by key`;
    return json({ rules });
  })
  .on('POST', '/:id/acknowledge', async (ctx) => {
    const admin = await requireAdmin(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    return await changing(id, () => sql()`select ops.acknowledge_alert(${id}, ${admin.sub})`);
  })
  .on('POST', '/:id/resolve', async (ctx) => {
    const admin = await requireAdmin(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    const body = await parseBody(ctx, ResolveBody);
    return await changing(id, () => sql()`select ops.resolve_alert(${id}, ${admin.sub}, ${body.note ?? null})`);
  });

export default createHandler(router);
