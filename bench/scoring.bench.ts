// Performance scoring at scale: 20 channels x 500 videos with 365 days of metrics each (3.65 M
// rows of video_metrics), plus 5 videos per channel younger than a week so the "first N days"
// comparison runs too. Targets: full rescoring (private.rescore_all) under 5 s; one 500-video
// channel (private.score_channel_videos) under 100 ms. Baseline, measured in the same run on the
// same rows: `select count(*), avg(views) from video_metrics`, a plain full scan.
//
// It starts nothing: point BENCH_DB_URL at a superuser connection of a migrated database, e.g.
//   npm run db:up                      # dev profile, Postgres on 54322
//   BENCH_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres node --import tsx bench/scoring.bench.ts
// The data lives in a workspace of its own, deleted at the end (and at the start, should an
// earlier run have been killed). Result: bench/results/scoring.json.
import { loadavg } from 'node:os';
import postgres from 'postgres';
import { stats, writeResult } from './lib.ts';

const CHANNELS = 20;
const VIDEOS_PER_CHANNEL = 500;
const DAYS = 365;
const YOUNG_PER_CHANNEL = 5;
const FULL_ROUNDS = Number(process.env.BENCH_FULL_ROUNDS ?? 5);
const CHANNEL_ROUNDS = Number(process.env.BENCH_CHANNEL_ROUNDS ?? 40);
const BASELINE_ROUNDS = Number(process.env.BENCH_BASELINE_ROUNDS ?? 5);
const UPSERT_ROUNDS = Number(process.env.BENCH_UPSERT_ROUNDS ?? 3);
const TARGET_FULL_MS = 5000;
const TARGET_CHANNEL_MS = 100;
const WORKSPACE_NAME = 'scoring-bench';
const READER_EMAIL = 'scoring-bench-reader@example.com';
const INSIGHTS_ROUNDS = Number(process.env.BENCH_INSIGHTS_ROUNDS ?? 10);
// The last day with data; fixed so runs are comparable.
const LAST_DAY = '2026-10-31';

const dbUrl = process.env.BENCH_DB_URL;
if (!dbUrl) {
  console.error(
    'BENCH_DB_URL is not set: run `npm run db:up`, then\n' +
      '  BENCH_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres node --import tsx bench/scoring.bench.ts',
  );
  process.exit(2);
}

const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, idle_timeout: 0, connect_timeout: 10 });

async function timed(query: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await query();
  return performance.now() - t;
}

class Rollback extends Error {
  constructor(readonly ms: number) {
    super('rollback');
  }
}

async function timedRolledBack(fn: (tx: postgres.TransactionSql) => Promise<number>): Promise<number> {
  try {
    await sql.begin(async (tx) => {
      throw new Rollback(await fn(tx));
    });
  } catch (err) {
    if (err instanceof Rollback) return err.ms;
    throw err;
  }
  throw new Error('unreachable');
}

async function dropBenchData() {
  await sql`delete from auth.users where email = ${READER_EMAIL}`;
  // Metrics first, by their own index: a cascade would check 3.65 M rows one by one.
  await sql`delete from public.video_metrics where workspace_id in (select id from public.workspaces where name = ${WORKSPACE_NAME})`;
  await sql`delete from public.workspaces where name = ${WORKSPACE_NAME}`;
}

async function generate(): Promise<{ workspaceId: string; channelIds: string[]; rows: number; seconds: number }> {
  const started = performance.now();
  const [{ id: workspaceId }] = await sql<{ id: string }[]>`
    insert into public.workspaces (name) values (${WORKSPACE_NAME}) returning id`;
  const channels = await sql<{ id: string }[]>`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    select ${workspaceId}, 'UCbench' || c || '-' || substr(md5(${workspaceId}::text), 1, 8), 'Bench channel ' || c
    from generate_series(1, ${CHANNELS}) c
    returning id`;
  const channelIds = channels.map((c) => c.id);
  // Mature videos: published between 730 and 365 days before the last day, so each has 365 days
  // of data from its publish day on. Young ones: 0-5 days before it, one row per day since.
  await sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
    select ${workspaceId}, c.id, 'bv' || substr(md5(c.id::text), 1, 10) || '-' || n,
      'Bench video ' || n,
      case when n <= ${VIDEOS_PER_CHANNEL}
        then (${LAST_DAY}::date - ${DAYS - 1}::int - (n * 7919 % 365))::timestamp + interval '17 hours'
        else (${LAST_DAY}::date - (n - ${VIDEOS_PER_CHANNEL}::int - 1))::timestamp + interval '17 hours' end,
      (n * 37 % 1800) + 15, n % 5 = 0
    from unnest(${channelIds}::uuid[]) as c(id), generate_series(1, ${VIDEOS_PER_CHANNEL + YOUNG_PER_CHANNEL}) n`;
  // Generated in day order, as a daily sync appends them, so a video's rows are spread over the
  // table rather than stored side by side. One statement, through the FK checks and the totals
  // trigger, as a sync's upsert would go.
  await sql`select setseed(0.42)`;
  await sql`
    insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
      average_view_duration, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
    select v.workspace_id, v.id, v.p + d, x.views, x.views * 3, 180, 20 + x.r * 60,
      (x.views * 0.04 * x.r)::bigint, (x.views * 0.005 * x.r)::bigint, (x.views * 0.002)::bigint,
      (x.views * 0.01 * x.r)::bigint, (x.views * 0.002)::bigint
    from generate_series(0, ${DAYS - 1}) d
    cross join (
      select v.id, v.workspace_id, (v.published_at at time zone 'America/Los_Angeles')::date as p,
        50 + abs(hashtext(v.id::text)) % 5000 as base
      from public.videos v where v.workspace_id = ${workspaceId}
    ) v
    cross join lateral (select random() as r, (v.base / (1 + d / 7.0) * (0.5 + random()))::bigint as views) x
    where v.p + d <= ${LAST_DAY}::date
    order by d`;
  // Steady state before timing: no dead rows for autovacuum to chase mid-run, statistics in
  // place, and the load's dirty pages written out rather than flushed during a measurement.
  await sql`vacuum (analyze) public.video_metrics, public.videos, public.channels, private.video_metric_totals`;
  await sql`checkpoint`;
  const [{ rows }] = await sql<{ rows: number }[]>`
    select count(*)::int as rows from public.video_metrics where workspace_id = ${workspaceId}`;
  return { workspaceId, channelIds, rows, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

try {
  await dropBenchData();
  console.log(`generating ${CHANNELS} x ${VIDEOS_PER_CHANNEL} videos x ${DAYS} days ...`);
  const data = await generate();
  console.log(`generated ${data.rows} metric rows in ${data.seconds} s`);
  const [{ rows: tableRows }] = await sql<{ rows: number }[]>`select count(*)::int as rows from public.video_metrics`;

  // Warm the cache, then alternate baseline and rescoring rounds so that whatever else the
  // (shared, two-core) machine is doing weighs on both sides of the ratio alike.
  await sql`select count(*), avg(views) from public.video_metrics`;
  const loadBefore = loadavg();
  const baseline: number[] = [];
  const full: number[] = [];
  let scored = 0;
  for (let i = 0; i < Math.max(BASELINE_ROUNDS, FULL_ROUNDS); i++) {
    if (i < BASELINE_ROUNDS) baseline.push(await timed(() => sql`select count(*), avg(views) from public.video_metrics`));
    if (i < FULL_ROUNDS) {
      full.push(
        await timed(async () => {
          const [{ n }] = await sql<{ n: number }[]>`select private.rescore_all() as n`;
          scored = n;
        }),
      );
    }
  }

  const channel: number[] = [];
  let channelScored = 0;
  for (let i = 0; i < CHANNEL_ROUNDS; i++) {
    const id = data.channelIds[i % data.channelIds.length];
    channel.push(
      await timed(async () => {
        const [{ n }] = await sql<{ n: number }[]>`select private.score_channel_videos(${id}) as n`;
        channelScored = n;
      }),
    );
  }

  // The price of keeping totals: one more day for every video, upserted as a daily sync does,
  // with and without the totals trigger (each in a transaction that is rolled back).
  const dailyUpsert = (withTotals: boolean) =>
    timedRolledBack(async (tx) => {
      if (!withTotals) await tx`alter table public.video_metrics disable trigger video_metrics_totals_insert`;
      return await timed(
        () => tx`
      insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage, likes, comments, shares)
      select v.workspace_id, v.id, ${LAST_DAY}::date + 1, 100, 45, 3, 1, 1
      from public.videos v where v.workspace_id = ${data.workspaceId}
      on conflict (video_id, day) do update set views = excluded.views`,
      );
    });
  const upsertWith: number[] = [];
  const upsertWithout: number[] = [];
  for (let i = 0; i < UPSERT_ROUNDS; i++) {
    upsertWithout.push(await dailyUpsert(false));
    upsertWith.push(await dailyUpsert(true));
  }

  // What the insights function runs for a member: public.workspace_insights under RLS.
  const [{ id: readerId }] = await sql<{ id: string }[]>`
    insert into auth.users (id, email, aud, role, raw_app_meta_data, raw_user_meta_data)
    values (gen_random_uuid(), ${READER_EMAIL}, 'authenticated', 'authenticated', '{}', '{}') returning id`;
  await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${data.workspaceId}, ${readerId}, 'viewer')`;
  const claims = JSON.stringify({ sub: readerId, role: 'authenticated', email: READER_EMAIL });
  const insightsAsMember = (channelId: string | null) =>
    timedRolledBack(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
      return await timed(() => tx`select public.workspace_insights(${data.workspaceId}, ${channelId}) is not null as found`);
    });
  const insightsWorkspace: number[] = [];
  const insightsChannel: number[] = [];
  for (let i = 0; i < INSIGHTS_ROUNDS; i++) {
    insightsWorkspace.push(await insightsAsMember(null));
    insightsChannel.push(await insightsAsMember(data.channelIds[i % data.channelIds.length]));
  }

  const loadAfter = loadavg();
  const fullStats = stats(full);
  const channelStats = stats(channel);
  const baselineStats = stats(baseline);
  const [pg] = await sql<{ version: string; shared_buffers: string; workers: string }[]>`
    select version(), current_setting('shared_buffers') as shared_buffers,
      current_setting('max_parallel_workers_per_gather') as workers`;
  writeResult('scoring', {
    data: {
      channels: CHANNELS,
      videos: CHANNELS * (VIDEOS_PER_CHANNEL + YOUNG_PER_CHANNEL),
      metric_rows: data.rows,
      metric_rows_in_table: tableRows,
      generation_seconds: data.seconds,
      videos_scored_by_rescore_all: scored,
      videos_scored_per_channel: channelScored,
    },
    baseline_full_scan_ms: baselineStats,
    rescore_all_ms: fullStats,
    score_channel_videos_ms: channelStats,
    daily_upsert_10k_rows_ms: {
      with_totals_trigger: stats(upsertWith),
      without_totals_trigger: stats(upsertWithout),
    },
    workspace_insights_as_member_ms: {
      whole_workspace: stats(insightsWorkspace),
      one_channel: stats(insightsChannel),
    },
    ratio_rescore_all_to_full_scan: Math.round((fullStats.p50 / baselineStats.p50) * 100) / 100,
    targets: {
      rescore_all_p50_under_ms: TARGET_FULL_MS,
      rescore_all_met: fullStats.p50 < TARGET_FULL_MS,
      score_channel_p50_under_ms: TARGET_CHANNEL_MS,
      score_channel_met: channelStats.p50 < TARGET_CHANNEL_MS,
    },
    machine_load_average_1m: { before: Math.round(loadBefore[0] * 100) / 100, after: Math.round(loadAfter[0] * 100) / 100 },
    postgres: {
      version: pg.version.split(' ').slice(0, 2).join(' '),
      shared_buffers: pg.shared_buffers,
      max_parallel_workers_per_gather: Number(pg.workers),
    },
  });
} finally {
  if (!process.env.BENCH_KEEP_DATA) await dropBenchData();
  await sql.end({ timeout: 5 });
}
