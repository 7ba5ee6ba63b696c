// Admin metrics over N tracked calls (ops.api_calls spread over 30 days, rolled up as pg_cron
// keeps them) and the nightly retention that removes one day of them. Reads: ops.admin_metrics
// for the 24h and 30d windows. Worker: ops.apply_retention() after moving one day's worth of
// the oldest calls past the 30-day policy (the nightly job's usual work: one day).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type postgres from 'postgres';
import { ROOT } from '../../local/profile.ts';
import { baseline, load, requireFreeDisk, sample, timed, ROUNDS, type Point, type Sql } from './common.ts';

// One transaction per chunk: its rows, then the roll-up of just those minutes. The pg_cron job
// rolls up a few minutes at a time in production; one 31-day rebuild after the load instead
// materialises every call at once (sorts spilled to disk, most of the 10 M load's 477 s).
const CHUNK = Number(process.env.SCALING_ADMIN_CHUNK ?? 1_000_000);

/**
 * The request-id index (support's look-up, as the migration creates it) is built once after a bulk
 * load instead of growing row by row. "if exists"/"if not exists": a load stopped half-way leaves
 * the table without it, and the next load must still start and put it back.
 */
const REQUEST_ID_INDEX = 'create index if not exists api_calls_request_id_idx on ops.api_calls (request_id)';
async function insertChunk(sql: Sql, from: number, to: number, rows: number) {
  let insertMs = 0;
  let rollupMs = 0;
  await sql.begin(async (tx) => {
    // The attribution trigger (ops.verify_call_attribution) keeps a call's workspace only when its
    // user is a member; these users are no one's members, so it would null every workspace_id, one
    // plpgsql call per row. The rows are written as it would leave them, without the per-row call.
    await tx`set local session_replication_role = replica`;
    [insertMs] = await timed(
      () => tx`
      insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, user_id, workspace_id, request_id)
      select now() - interval '30 days' * (1 - i::float8 / ${rows}::float8),
        (array['workspaces','workspaces','insights','insights','generate-content','render-video','youtube-sync','youtube-sync',
               'members','invitations','admin-metrics','health'])[1 + (i::bigint * 7919) % 12],
        (array['/','/:id','/','/videos','/','/','/','/runs/:id','/:workspace_id/:user_id','/accept','/','/'])[1 + (i::bigint * 7919) % 12],
        (array['GET','PATCH','GET','GET','POST','POST','POST','GET','PATCH','POST','GET','GET'])[1 + (i::bigint * 7919) % 12],
        case when i % 50 = 0 then 500 when i % 20 = 0 then 404 when i % 200 = 1 then 429 else 200 end,
        case when i % 997 = 0 then 2000 + (i % 3000) else floor(exp(1.4 + random() * 5.2))::int end,
        md5((i % 5000)::text)::uuid, null, 'scaling-' || i
      from generate_series(${from + 1}::bigint, ${to}::bigint) i`,
    );
    await tx`set local session_replication_role = origin`;
    // now() is the insert's, so this is the chunk's first call: its minutes (and the boundary
    // minute shared with the chunk before) are rolled up from the raw rows, as the job would.
    [rollupMs] = await timed(
      () => tx`
      select ops.rollup_api_calls(now() - interval '30 days' * (1 - ${from + 1}::float8 / ${rows}::float8))`,
    );
  });
  return { insertMs, rollupMs };
}

async function load_calls(sql: Sql, rows: number) {
  const [{ ours, others }] = await sql`
    select count(*) filter (where request_id like 'scaling-%')::bigint as ours,
      count(*) filter (where request_id not like 'scaling-%')::bigint as others from ops.api_calls`;
  if (Number(ours) === rows) return null;
  await requireFreeDisk(rows * 260, `${rows} tracked calls`);
  const shared = Number(others) > 0;
  await dropAdmin(sql, shared);
  const phases = { insert_ms: 0, rollup_ms: 0, index_ms: 0, vacuum_ms: 0, total_ms: 0 };
  const [total] = await timed(async () => {
    // Only on a table of our own: other writers (a test stack) keep their index meanwhile.
    if (!shared) await sql`drop index if exists ops.api_calls_request_id_idx`;
    for (let from = 0; from < rows; from += CHUNK) {
      const to = Math.min(rows, from + CHUNK);
      const { insertMs, rollupMs } = await insertChunk(sql, from, to, rows);
      phases.insert_ms += insertMs;
      phases.rollup_ms += rollupMs;
      console.log(
        `  api_calls: ${to.toLocaleString()} of ${rows.toLocaleString()} (insert ${Math.round(insertMs)} ms, roll-up ${Math.round(rollupMs)} ms)`,
      );
    }
    if (!shared) {
      [phases.index_ms] = await timed(() =>
        sql.begin(async (tx) => {
          await tx`set local maintenance_work_mem = '1GB'`;
          await tx.unsafe(REQUEST_ID_INDEX);
        }),
      );
    }
    [phases.vacuum_ms] = await timed(() => sql`vacuum analyze ops.api_calls`);
    // The calls of the last (still open) minute, as the next run of the job would.
    await sql`select ops.rollup_api_calls()`;
    // Steady state: the nightly retention keeps 7 days of minute rows, so the night measured below
    // removes one day of calls, not the 23 days of minute rows a fresh rebuild leaves behind.
    await sql`delete from ops.api_calls_minute where minute < now() - (select keep from ops.retention_policies
      where table_name = 'ops.api_calls_minute')`;
    await sql`analyze ops.api_calls_minute, ops.api_calls_hour, ops.api_calls_hour_total, ops.api_calls_day, ops.user_last_seen`;
  });
  phases.total_ms = total;
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)]));
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

/**
 * One night's ops.apply_retention(): its time (one transaction, so also how long its row locks and
 * its snapshot are held), the WAL it writes, the dead tuples it leaves, and the vacuum that then
 * has to clear them (which scans every index of the table whole, however few rows died).
 */
async function measureRetention(sql: Sql | postgres.ReservedSql) {
  const [{ lsn: before }] = await sql`select pg_current_wal_lsn() as lsn`;
  const [ms, [{ deleted }]] = await timed(() => sql`select ops.apply_retention() as deleted`);
  const [{ wal }] = await sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${before}::pg_lsn)::bigint as wal`;
  await sql`select pg_stat_force_next_flush()`;
  const [{ dead }] = await sql`select n_dead_tup::bigint as dead from pg_stat_user_tables where relid = 'ops.api_calls'::regclass`;
  const [{ size }] = await sql`select pg_total_relation_size('ops.api_calls')::bigint as size`;
  const [vacuumMs] = await timed(() => sql`vacuum ops.api_calls`);
  return {
    deleted: Number(deleted['ops.api_calls']),
    deleted_by_table: deleted,
    ms: Math.round(ms),
    wal_bytes: Number(wal),
    dead_tuples: Number(dead),
    vacuum_after_ms: Math.round(vacuumMs),
    table_bytes: Number(size),
  };
}

export async function measureAdmin(sql: Sql, rows: number): Promise<Point> {
  await sql`update cron.job set active = false where jobname like 'ops-%'`;
  try {
    const fixture = await load_calls(sql, rows);
    const base = await baseline(sql);
    const day = await sample(ROUNDS, () => sql`select ops.admin_metrics('24h')`);
    const month = await sample(ROUNDS, () => sql`select ops.admin_metrics('30d')`);
    const compared = await compareApiMetrics(sql);
    // One day of the oldest calls falls past the policy (30 days): what each night deletes. One
    // connection throughout, so its table statistics are flushed in order and the dead tuples
    // counted after the retention are the retention's own.
    const conn = await sql.reserve();
    let day_rows: number;
    let retention: Awaited<ReturnType<typeof measureRetention>>;
    try {
      [{ day_rows }] = await conn`
        with moved as (update ops.api_calls set at = at - interval '1 day'
          where request_id like 'scaling-%'
            and at < (select min(at) from ops.api_calls where request_id like 'scaling-%') + interval '1 day' returning 1)
        select count(*)::int as day_rows from moved`;
      await conn`select pg_stat_force_next_flush()`;
      await conn`vacuum analyze ops.api_calls`;
      retention = await measureRetention(conn);
    } finally {
      conn.release();
    }
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
        retention: { one_day_rows: day_rows, ...retention },
        histograms,
        fixture_load_ms: fixture?.total_ms ?? 0,
        fixture_load: fixture,
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
