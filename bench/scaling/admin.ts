// Admin metrics over N tracked calls (ops.api_calls spread over 30 days, rolled up as pg_cron
// keeps them) and the nightly retention that removes one day of them. Reads: ops.admin_metrics
// for the 24h and 30d windows. Worker: ops.apply_retention() after moving one day's worth of
// the oldest calls past the 30-day policy (the nightly job's usual work: one day).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../../local/profile.ts';
import { baseline, load, requireFreeDisk, sample, timed, ROUNDS, type Point, type Sql } from './common.ts';

const CHUNK = 2_000_000;

async function load_calls(sql: Sql, rows: number) {
  const [{ ours, others }] = await sql`
    select count(*) filter (where request_id like 'scaling-%')::bigint as ours,
      count(*) filter (where request_id not like 'scaling-%')::bigint as others from ops.api_calls`;
  if (Number(ours) === rows) return 0;
  await requireFreeDisk(rows * 260, `${rows} tracked calls`);
  await dropAdmin(sql, Number(others) > 0);
  const [ms] = await timed(async () => {
    for (let from = 0; from < rows; from += CHUNK) {
      const to = Math.min(rows, from + CHUNK);
      // As bench/admin-metrics.bench.ts: twelve endpoints, a few percent errors, a slow tail.
      await sql`
        insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, user_id, workspace_id, request_id)
        select now() - interval '30 days' * (1 - i::float8 / ${rows}::float8),
          (array['workspaces','workspaces','insights','insights','generate-content','render-video','youtube-sync','youtube-sync',
                 'members','invitations','admin-metrics','health'])[1 + (i::bigint * 7919) % 12],
          (array['/','/:id','/','/videos','/','/','/','/runs/:id','/:workspace_id/:user_id','/accept','/','/'])[1 + (i::bigint * 7919) % 12],
          (array['GET','PATCH','GET','GET','POST','POST','POST','GET','PATCH','POST','GET','GET'])[1 + (i::bigint * 7919) % 12],
          case when i % 50 = 0 then 500 when i % 20 = 0 then 404 when i % 200 = 1 then 429 else 200 end,
          case when i % 997 = 0 then 2000 + (i % 3000) else floor(exp(1.4 + random() * 5.2))::int end,
          md5((i % 5000)::text)::uuid, md5('w' || (i % 2000)::text)::uuid, 'scaling-' || i
        from generate_series(${from + 1}::bigint, ${to}::bigint) i`;
      console.log(`  api_calls: ${to.toLocaleString()} of ${rows.toLocaleString()}`);
    }
    await sql`vacuum analyze ops.api_calls`;
    await sql`select ops.rollup_api_calls(now() - interval '31 days')`;
    // Steady state: the nightly retention keeps 7 days of minute rows, so the night measured below
    // removes one day of calls, not the 23 days of minute rows a fresh rebuild leaves behind.
    await sql`delete from ops.api_calls_minute where minute < now() - (select keep from ops.retention_policies
      where table_name = 'ops.api_calls_minute')`;
    await sql`analyze ops.api_calls_minute, ops.api_calls_hour, ops.api_calls_hour_total, ops.api_calls_day, ops.user_last_seen`;
  });
  return Math.round(ms);
}

// The request figures as they were read before the bounded roll-ups (every hour row's histogram),
// kept verbatim in a file of their own and installed in a schema of the bench database, so each
// size measures the old and the new read over the same fixture at the same moment.
const BEFORE_MIGRATION = 'bench/scaling/api-metrics-before.sql';

async function installBefore(sql: Sql) {
  const text = readFileSync(resolve(ROOT, BEFORE_MIGRATION), 'utf8');
  const start = text.indexOf('create or replace function ops.api_metrics(');
  const end = text.indexOf('\n$$;', start);
  if (start < 0 || end < 0) throw new Error(`${BEFORE_MIGRATION}: ops.api_metrics not found`);
  const body = text.slice(start, end + 4).replace('function ops.api_metrics(', 'function bench_before.api_metrics(');
  await sql`create schema if not exists bench_before`;
  await sql.unsafe(body);
}

async function compareApiMetrics(sql: Sql) {
  await installBefore(sql);
  const since = (span: string) => sql`select date_trunc('hour', now() - ${span}::interval) as t`.then(([r]) => r.t as Date);
  const [day, month] = [await since('24 hours'), await since('30 days')];
  return {
    api_metrics_24h_before_ms: await sample(ROUNDS, () => sql`select bench_before.api_metrics(${day}, 'hour')`),
    api_metrics_24h_after_ms: await sample(ROUNDS, () => sql`select ops.api_metrics(${day}, 'hour')`),
    api_metrics_30d_before_ms: await sample(ROUNDS, () => sql`select bench_before.api_metrics(${month}, 'hour')`),
    api_metrics_30d_after_ms: await sample(ROUNDS, () => sql`select ops.api_metrics(${month}, 'hour')`),
  };
}

export async function measureAdmin(sql: Sql, rows: number): Promise<Point> {
  await sql`update cron.job set active = false where jobname like 'ops-%'`;
  try {
    const loadMs = await load_calls(sql, rows);
    const base = await baseline(sql);
    const day = await sample(ROUNDS, () => sql`select ops.admin_metrics('24h')`);
    const month = await sample(ROUNDS, () => sql`select ops.admin_metrics('30d')`);
    const compared = await compareApiMetrics(sql);
    // One day of the oldest calls falls past the policy (30 days): what each night deletes.
    const [{ day_rows }] = await sql`
      with moved as (update ops.api_calls set at = at - interval '1 day'
        where request_id like 'scaling-%'
          and at < (select min(at) from ops.api_calls where request_id like 'scaling-%') + interval '1 day' returning 1)
      select count(*)::int as day_rows from moved`;
    await sql`vacuum analyze ops.api_calls`;
    const [retentionMs, [{ deleted }]] = await timed(() => sql`select ops.apply_retention() as deleted`);
    const [histograms] = await sql`
      select (select count(*) from ops.api_calls_hour)::int as hour_rows,
        (select round(avg(cardinality(latency_buckets)), 1) from ops.api_calls_hour)::float8 as cells_per_hour_row,
        (select count(*) from ops.api_calls_hour_total)::int as hour_total_rows,
        (select round(avg(cardinality(latency_buckets)), 1) from ops.api_calls_hour_total)::float8 as cells_per_hour_total_row`;
    return {
      size: rows,
      value: Math.max(day.p95, month.p95),
      baseline_p95_ms: base,
      load_average: load(),
      details: {
        admin_metrics_24h_ms: day,
        admin_metrics_30d_ms: month,
        ...compared,
        retention: {
          one_day_rows: day_rows,
          deleted: Number(deleted['ops.api_calls']),
          deleted_by_table: deleted,
          ms: Math.round(retentionMs),
        },
        histograms,
        fixture_load_ms: loadMs,
      },
    };
  } finally {
    await sql`drop schema if exists bench_before cascade`;
    await sql`update cron.job set active = true where jobname like 'ops-%'`;
  }
}

/**
 * Removes the calls made here: the whole tables when nothing else is in them (a bench database),
 * else only ours (a smoke run on a test stack, whose other calls its tests may still read).
 */
export async function dropAdmin(sql: Sql, shared?: boolean) {
  if (shared ?? Number((await sql`select count(*) as n from ops.api_calls where request_id not like 'scaling-%'`)[0].n) > 0) {
    await sql`delete from ops.api_calls where request_id like 'scaling-%'`;
    await sql`select ops.rollup_api_calls(now() - interval '31 days')`;
    return;
  }
  await sql`truncate ops.api_calls, ops.api_calls_minute, ops.api_calls_hour, ops.api_calls_hour_total, ops.api_calls_day,
    ops.user_last_seen, ops.rollup_state`;
}
