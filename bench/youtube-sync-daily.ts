// The daily sync of many small channels, as production runs it: every channel's run queued at
// once (the daily job queues every active channel), started as the daily job starts them, each
// token expired (a day after the last sync; tokens last an hour, so every run refreshes). Reports
// the runs by status, total time, invocations and the most at once, the most database connections,
// CPU and RSS per invocation, and the worker's log lines against hosted's threshold (100 per 10 s
// of a function). Part of youtube-sync-limits.bench.ts, which owns the stack and the workspace.
import type postgres from 'postgres';
import { type edgeCosts, type EdgeInvocation as Invocation, percentile } from './lib.ts';

export interface DailyContext {
  sql: postgres.Sql;
  costs: ReturnType<typeof edgeCosts>;
  /** youtube-sync's invocations since the last take. */
  meter: { take(): Promise<Invocation[]> };
  limits: { cpuMs: number; rssMb: number };
  timeoutMs: number;
}

export interface DailyShape {
  channels: number;
  videos: number;
  /** A connected channel of the fake YouTube with `videos` videos; its id. */
  channelOf(videos: number, seed: string): Promise<string>;
}

/** Most invocations running at the same time (each from its end, `at`, back by its wall time). */
export function mostAtOnce(invocations: Invocation[]): number {
  const edges = invocations.flatMap((i) => {
    const end = Date.parse(i.at);
    return [
      [end - i.wall_ms, 1],
      [end, -1],
    ];
  });
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

async function queuedChannels({ sql }: DailyContext, shape: DailyShape): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < shape.channels; i++) ids.push(await shape.channelOf(shape.videos, `bench-daily-${shape.videos}-${i}`));
  await sql`delete from public.videos where channel_id = any(${ids})`;
  await sql`
    select private.save_channel_credentials(c.id, null, 'expired', now() - interval '1 day', null)
    from public.channels c where c.id = any(${ids})`;
  return ids;
}

/** Starts the queued runs as the daily job does: its chains (20261212000100), or before that one invocation. */
async function startAsTheDailyJob(sql: postgres.Sql): Promise<void> {
  const [{ chains }] = await sql`select to_regprocedure('private.start_youtube_sync_chains()') is not null as chains`;
  if (chains) await sql`select private.start_youtube_sync_chains()`;
  else await sql`select private.wake_youtube_sync_worker()`;
}

/** Waits until none of `runIds` is open; their final statuses, and the most connections seen meanwhile. */
async function untilEnded(ctx: DailyContext, runIds: string[], connections: () => Promise<number>) {
  const deadline = Date.now() + ctx.timeoutMs;
  let mostConnections = 0;
  for (;;) {
    mostConnections = Math.max(mostConnections, await connections());
    const rows = await ctx.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from public.sync_runs where id = any(${runIds}) group by status`;
    const statuses: Record<string, number> = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    const open = (statuses.queued ?? 0) + (statuses.running ?? 0);
    if (open === 0) return { statuses, mostConnections };
    if (Date.now() > deadline) throw new Error(`daily sync: ${open} runs still open after ${ctx.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function measureDaily(ctx: DailyContext, shape: DailyShape) {
  const { sql, costs, meter, limits } = ctx;
  const ids = await queuedChannels(ctx, shape);
  const logsBefore = (await costs.logLines())['youtube-sync'] ?? { events: 0, dropped: 0 };
  await meter.take();
  // Every isolate has a pool of its own: on hosted, connections come out of the pooler's clients
  // (200 on the smallest computes) or the database's 60 direct ones.
  const connections = async () =>
    (await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where backend_type = 'client backend'`)[0].n;
  const connectionsBefore = await connections();
  const runs = await sql<{ id: string }[]>`
    select e.sync_run_id as id from public.channels c, private.enqueue_sync_run(c.id, c.workspace_id, 'cron', null) e
    where c.id = any(${ids})`;
  const t0 = performance.now();
  await startAsTheDailyJob(sql);
  const { statuses, mostConnections } = await untilEnded(
    ctx,
    runs.map((r) => r.id),
    connections,
  );
  const wallMs = Math.round(performance.now() - t0);
  await new Promise((r) => setTimeout(r, 1000)); // the last answers reach the meter and the log
  const worker = (await meter.take()).filter((i) => i.path.startsWith('/youtube-sync/worker'));
  const logsAfter = (await costs.logLines())['youtube-sync'] ?? logsBefore;
  const cpu = worker.map((i) => i.cpu_ms).sort((a, b) => a - b);
  const rss = worker.map((i) => i.peak_rss_mb).sort((a, b) => a - b);
  const overTarget = worker.filter((i) => i.cpu_ms > limits.cpuMs || i.peak_rss_mb > limits.rssMb || i.limit !== null).length;
  const status546 = worker.filter((i) => i.status === 546).length;
  // Hosted keeps 100 log lines per 10 s of a function (README "Edge runtime").
  const logLines = { written: logsAfter.events - logsBefore.events, past_hosted_threshold: logsAfter.dropped - logsBefore.dropped };
  return {
    channels: shape.channels,
    videos_per_channel: shape.videos,
    runs_by_status: statuses,
    wall_ms: wallMs,
    invocations: worker.length,
    most_at_once: mostAtOnce(worker),
    database_connections: { before: connectionsBefore, most: mostConnections },
    cpu_ms: { max: cpu.at(-1) ?? 0, p95: percentile(cpu, 0.95), p50: percentile(cpu, 0.5) },
    peak_rss_mb: { max: rss.at(-1) ?? 0, p95: percentile(rss, 0.95) },
    over_target: overTarget,
    status_546: status546,
    within_targets: overTarget === 0 && status546 === 0 && statuses.succeeded === shape.channels && logLines.past_hosted_threshold === 0,
    log_lines: logLines,
  };
}
