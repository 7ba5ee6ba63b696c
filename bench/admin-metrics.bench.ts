// admin-metrics over 10 million recorded calls: ops.admin_metrics() for each window (1h, 24h, 7d,
// 30d) on a table of 10 M calls spread over 30 days, rolled up as pg_cron keeps it. Baselines in
// the same run: `select count(*)` over the same table, and the raw aggregate the original plan
// would run for 24 h (count, average and p95 straight from the calls). Target: < 200 ms.
//
//   CCE_PROFILE=opsbench CCE_PORT_BASE=63321 node --import tsx bench/admin-metrics.bench.ts
// (its own cluster, see bench/lib.ts; BENCH_ROWS, BENCH_RUNS; BENCH_KEEP=1 keeps the rows).
import postgres from 'postgres';
import { benchDatabase, stats, writeResult } from './lib.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const CHUNK = 1_000_000;

const p = await benchDatabase();
const sql = postgres(p.dbUrl, { max: 1, onnotice: () => {} });

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}

// pg_cron of this cluster would roll the load up concurrently; the bench does it itself.
await sql`update cron.job set active = false where jobname like 'ops-%'`;
try {
  const [{ existing }] = await sql`select count(*)::int as existing from ops.api_calls`;
  if (existing !== ROWS) {
    console.log(`loading ${ROWS.toLocaleString()} calls over 30 days…`);
    await sql`truncate ops.api_calls, ops.api_calls_minute, ops.api_calls_hour, ops.api_calls_hour_total, ops.api_calls_day, ops.user_last_seen, ops.rollup_state`;
    // Twelve endpoints of six functions; 2 % 5xx, 5 % 404, 0.5 % 429; durations from 4 ms to
    // ~0.7 s with a slow tail; 5,000 users. In time order, as tracking appends them.
    for (let from = 0; from < ROWS; from += CHUNK) {
      const to = Math.min(ROWS, from + CHUNK);
      const [ms] = await timed(
        () => sql`
        insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, user_id, workspace_id, request_id)
        select now() - interval '30 days' * (1 - i::float8 / ${ROWS}::float8),
          (array['workspaces','workspaces','insights','insights','generate-content','render-video','youtube-sync','youtube-sync',
                 'members','invitations','admin-metrics','health'])[1 + (i::bigint * 7919) % 12],
          (array['/','/:id','/','/videos','/','/','/','/runs/:id','/:workspace_id/:user_id','/accept','/','/'])[1 + (i::bigint * 7919) % 12],
          (array['GET','PATCH','GET','GET','POST','POST','POST','GET','PATCH','POST','GET','GET'])[1 + (i::bigint * 7919) % 12],
          case when i % 50 = 0 then 500 when i % 20 = 0 then 404 when i % 200 = 1 then 429 else 200 end,
          case when i % 997 = 0 then 2000 + (i % 3000) else floor(exp(1.4 + random() * 5.2))::int end,
          md5((i % 5000)::text)::uuid, md5('w' || (i % 2000)::text)::uuid, 'b' || i
        from generate_series(${from + 1}::int, ${to}::int) i`,
      );
      console.log(`  ${to.toLocaleString()} rows (${Math.round(ms)} ms)`);
    }
    await sql`vacuum analyze ops.api_calls`;
  }
  const [rebuildMs] = await timed(() => sql`select ops.rollup_api_calls(now() - interval '31 days')`);
  await sql`analyze ops.api_calls_minute`;
  await sql`analyze ops.api_calls_hour`;
  await sql`analyze ops.user_last_seen`;
  // What pg_cron does every minute from then on.
  const minuteRuns: number[] = [];
  for (let i = 0; i < 5; i++) minuteRuns.push((await timed(() => sql`select ops.rollup_api_calls()`))[0]);
  const [{ minute_rows, hour_rows }] = await sql`
    select (select count(*)::int from ops.api_calls_minute) as minute_rows, (select count(*)::int from ops.api_calls_hour) as hour_rows`;

  const windows: Record<string, ReturnType<typeof stats>> = {};
  let sample: Record<string, unknown> = {};
  for (const window of ['1h', '24h', '7d', '30d']) {
    await sql`select ops.admin_metrics(${window})`;
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const [ms, rows] = await timed(() => sql`select ops.admin_metrics(${window}) as m`);
      runs.push(ms);
      if (window === '24h') sample = { ...rows[0].m.application, slowest_endpoints: rows[0].m.application.slowest_endpoints.length };
    }
    windows[window] = stats(runs);
  }

  const countRuns: number[] = [];
  for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 3)); i++)
    countRuns.push((await timed(() => sql`select count(*) from ops.api_calls`))[0]);
  const rawRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    rawRuns.push(
      (
        await timed(
          () => sql`
      select count(*), avg(duration_ms), percentile_disc(0.95) within group (order by duration_ms)
      from ops.api_calls where at >= now() - interval '24 hours'`,
        )
      )[0],
    );
  }
  const count = stats(countRuns);
  const raw = stats(rawRuns);
  const round = (x: number) => Math.round(x * 100) / 100;
  writeResult('admin-metrics', {
    rows: ROWS,
    rollup: {
      minute_rows,
      hour_rows,
      full_rebuild_ms: Math.round(rebuildMs),
      every_minute_run_ms: stats(minuteRuns),
    },
    admin_metrics_ms: windows,
    baseline_count_star_ms: count,
    baseline_raw_24h_aggregate_ms: raw,
    ratio_24h_p50_to_count_star: round(windows['24h'].p50 / count.p50),
    ratio_30d_p50_to_count_star: round(windows['30d'].p50 / count.p50),
    sample_24h_application: sample,
    target: 'admin_metrics p95 < 200 ms for every window',
    pass: Object.values(windows).every((w) => w.p95 < 200),
  });
} finally {
  await sql`update cron.job set active = true where jobname like 'ops-%'`;
  if (process.env.BENCH_KEEP !== '1') {
    await sql`truncate ops.api_calls, ops.api_calls_minute, ops.api_calls_hour, ops.api_calls_hour_total, ops.api_calls_day, ops.user_last_seen, ops.rollup_state`;
  }
  await sql.end();
}
