// Does a full channel sync fit the hosted Edge Functions limits at production scale? Syncs a
// 5,000-video and a 50,000-video channel from the fake YouTube the way production runs it: the
// run is queued, the worker is woken once through pg_net, and every later invocation is started by
// the one before it (pg_net, sent after that invocation's last commit). Reports per size the
// number of worker invocations, max / p95 CPU ms and peak RSS per invocation, where the wall time
// went (in invocations, waiting for an isolate, cold isolates), and the total wall time.
// Baseline in the same run: the same sync done the way it ran before it was cut into steps, the
// engine with no CPU budget in one long invocation, in a Deno process of its own
// (bench/deno/sync-worker.ts; `BENCH_BASELINE_SIZES`, default the 5,000-video channel only; the
// 50,000 one adds minutes). The figure measured before the edge runtime existed (29 s, on plain
// HTTP fakes and a newer Deno) is kept for reference as `wall_vs_before`.
// Targets: no invocation over 1,500 ms CPU or 200 MB RSS; no 546; the stepped total at most 25 %
// slower than the single request.
// Calibration (a 1,000-video channel, `BENCH_CALIBRATION_VIDEOS`): the same sync one step per
// invocation, so each invocation's CPU belongs to one step; reports CPU per step kind and per
// unit (video, report row) next to the estimates the worker budgets with
// (supabase/functions/youtube-sync/budget.ts), which were set from these figures.
// The daily sync (`BENCH_DAILY_CHANNELS` small channels of `BENCH_DAILY_VIDEOS` videos; see
// youtube-sync-daily.ts).
// Per-invocation figures come from the stack's edge runtime (`/_runtime/invocations`): each
// invocation ran alone in its isolate, with the hosted limits on.
import { spawn } from 'node:child_process';
import postgres from 'postgres';
import { DENO_ENV, denoBin } from '../local/deno.ts';
import { ROOT } from '../local/profile.ts';
import { benchStack, edgeCosts, type EdgeInvocation as Invocation, fakesControl, percentile, writeResult } from './lib.ts';
import { measureDaily } from './youtube-sync-daily.ts';

const SIZES = (process.env.BENCH_SIZES ?? '5000,50000').split(',').filter(Boolean).map(Number);
const BASELINE_SIZES = new Set((process.env.BENCH_BASELINE_SIZES ?? '5000').split(',').filter(Boolean).map(Number));
const BEFORE = {
  videos: 5000,
  wall_ms: 29_000,
  cpu_ms: 4_700,
  how: 'one youtube-sync/worker request on the single-process functions server, plain HTTP fakes, before the edge runtime',
};
const CPU_LIMIT_MS = 1500;
const RSS_LIMIT_MB = 200;
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_MS ?? 60 * 60_000);
const CALIBRATION_VIDEOS = Number(process.env.BENCH_CALIBRATION_VIDEOS ?? 1000);
// Stepped and single-request syncs alternate this many times where both run: the machine is
// shared, and the fastest of each is compared.
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const DAILY_CHANNELS = Number(process.env.BENCH_DAILY_CHANNELS ?? 200);
const DAILY_VIDEOS = Number(process.env.BENCH_DAILY_VIDEOS ?? 10);

const started = await benchStack();
const env = started.env;
const sql = postgres(env.SUPABASE_DB_URL!, { max: 2, onnotice: () => {} });
const control = fakesControl(env.LOCAL_FAKES_URL!);
const costs = edgeCosts(env.LOCAL_FUNCTIONS_URL!);
/** youtube-sync's invocations since the last take. */
const meter = {
  projectUrl: env.SUPABASE_URL!,
  mark: await costs.mark(),
  async take(): Promise<Invocation[]> {
    const all = await costs.since(this.mark);
    if (all.length) this.mark = all[all.length - 1].seq;
    return all.filter((i) => i.fn === 'youtube-sync');
  },
};
const [{ value: projectUrl }] = await sql<
  { value: string }[]
>`select decrypted_secret as value from vault.decrypted_secrets where name = 'project_url'`;

async function setProjectUrl(url: string) {
  await sql`select vault.update_secret(id, ${url}) from vault.secrets where name = 'project_url'`;
}

interface RunRow {
  status: string;
  attempts: number;
  last_error: string | null;
  stats: Record<string, number>;
  cursor: Record<string, unknown>;
}

async function waitForEnd(runId: string): Promise<RunRow> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    const [run] = await sql<RunRow[]>`select status, attempts, last_error, stats, cursor from public.sync_runs where id = ${runId}`;
    if (['succeeded', 'failed', 'waiting_quota'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${RUN_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function queue(channelId: string): Promise<string> {
  const [{ sync_run_id: id }] = await sql`
    select e.sync_run_id from public.channels c, private.enqueue_sync_run(c.id, c.workspace_id, 'manual', null) e where c.id = ${channelId}`;
  return id;
}

/** Production's way: one wake-up, then the worker chains its own invocations. */
async function steppedSync(channelId: string) {
  const runId = await queue(channelId);
  const t0 = performance.now();
  await sql`select private.wake_youtube_sync_worker()`;
  const run = await waitForEnd(runId);
  return { run, wallMs: Math.round(performance.now() - t0) };
}

/**
 * Before the sync was cut into steps: the same engine with no CPU budget, one long invocation, in a
 * Deno process of its own (bench/deno/sync-worker.ts), outside the edge runtime whose limits would
 * end it. Same machine, same fakes over TLS, same Deno: only the stepping differs.
 */
async function singleRequestSync(channelId: string) {
  const runId = await queue(channelId);
  const t0 = performance.now();
  const child = spawn(denoBin(), ['run', '-A', '--config', 'supabase/functions/deno.json', 'bench/deno/sync-worker.ts', runId], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...DENO_ENV } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  if (code !== 0) throw new Error(`the baseline process exited with ${code}`);
  const report = JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{"baseline"'))
      .at(-1)!,
  ).baseline;
  const run = await waitForEnd(runId);
  return { run, wallMs: Math.round(performance.now() - t0), cpuMs: report.cpu_ms as number };
}

/** Where the wall time went: waiting for an isolate, and first requests on a new isolate (cold code). */
function timeline(worker: Invocation[]) {
  const cold = worker.filter((i) => i.isolate_request === 1);
  const warm = worker.filter((i) => i.isolate_request > 1);
  const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);
  return {
    acquire_ms_total: worker.reduce((a, i) => a + (i.acquire_ms ?? 0), 0),
    cold_invocations: cold.length,
    cpu_ms_mean: { cold: mean(cold.map((i) => i.cpu_ms)), warm: mean(warm.map((i) => i.cpu_ms)) },
  };
}

function figures(invocations: Invocation[], wallMs: number, run: RunRow) {
  const worker = invocations.filter((i) => i.fn === 'youtube-sync' && i.path.startsWith('/youtube-sync/worker'));
  const cpu = worker.map((i) => i.cpu_ms).sort((a, b) => a - b);
  const rss = worker.map((i) => i.peak_rss_mb).sort((a, b) => a - b);
  const over = worker.filter((i) => i.cpu_ms > CPU_LIMIT_MS || i.peak_rss_mb > RSS_LIMIT_MB || i.status === 546 || i.limit !== null);
  return {
    status: run.status,
    wall_ms: wallMs,
    invocations: worker.length,
    claims: run.attempts,
    // The rest of wall_ms is between invocations: commit, pg_net, gateway, claim.
    invocation_wall_ms_total: worker.reduce((a, i) => a + i.wall_ms, 0),
    ...timeline(worker),
    cpu_ms: {
      max: cpu.at(-1) ?? 0,
      p95: percentile(cpu, 0.95),
      p50: percentile(cpu, 0.5),
      total: Math.round(cpu.reduce((a, b) => a + b, 0)),
    },
    peak_rss_mb: { max: rss.at(-1) ?? 0, p95: percentile(rss, 0.95) },
    over_target: over.length,
    status_546: worker.filter((i) => i.status === 546).length,
    steps: run.stats.steps,
    metric_rows_written: run.stats.metric_rows,
    quota_units: run.stats.quota_units,
  };
}

async function fresh(channelId: string) {
  await sql`delete from public.videos where channel_id = ${channelId}`;
  await sql`vacuum analyze public.video_metrics`;
}

async function measureStepped(channelId: string) {
  await fresh(channelId);
  await meter.take();
  const { run, wallMs } = await steppedSync(channelId);
  await new Promise((r) => setTimeout(r, 500)); // the chain's last answer reaches the meter
  const result = figures(await meter.take(), wallMs, run);
  if (run.status !== 'succeeded') throw new Error(`stepped sync ended ${run.status}: ${run.last_error}`);
  const [{ videos, metrics }] = await sql`
    select (select count(*)::int from public.videos where channel_id = ${channelId}) as videos,
      (select count(*)::int from public.video_metrics m join public.videos v on v.id = m.video_id where v.channel_id = ${channelId}) as metrics`;
  return { ...result, videos_stored: videos, metric_rows_stored: metrics };
}

async function measureSingle(channelId: string) {
  await fresh(channelId);
  const { run, wallMs, cpuMs } = await singleRequestSync(channelId);
  if (run.status !== 'succeeded') throw new Error(`single-request sync ended ${run.status}: ${run.last_error}`);
  return { status: run.status, wall_ms: wallMs, cpu_ms_total: cpuMs, steps: run.stats.steps };
}

type StepKind = 'channel' | 'page' | 'videos' | 'plan' | 'report' | 'score';

function kindOf(cursor: { phase: string; pending_video_ids?: string[] }): StepKind {
  if (cursor.phase === 'listing') return cursor.pending_video_ids?.length ? 'videos' : 'page';
  return ({ channel: 'channel', plan: 'plan', analytics: 'report', score: 'score' } as Record<string, StepKind>)[cursor.phase];
}

/** Least squares y = a + b x. */
function fit(points: [number, number][]) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const b = sxx === 0 ? 0 : points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
  return { intercept_ms: Math.round((my - b * mx) * 100) / 100, per_unit_ms: Math.round(b * 100_000) / 100_000 };
}

/** One step per invocation (time budget 0), each invocation's CPU put down to its step. */
async function calibrate(channelId: string) {
  await sql`delete from public.videos where channel_id = ${channelId}`;
  const runId = await queue(channelId);
  const samples: { kind: StepKind; cpu: number; units: number }[] = [];
  await meter.take();
  for (;;) {
    const [before] = await sql`select status, cursor, stats from public.sync_runs where id = ${runId}`;
    if (!['queued', 'running'].includes(before.status)) break;
    const res = await fetch(`${meter.projectUrl}/functions/v1/youtube-sync/worker`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: runId, time_budget_ms: 0 }),
    });
    await res.arrayBuffer();
    const [after] = await sql`select stats from public.sync_runs where id = ${runId}`;
    const mine = (await meter.take()).filter((i) => i.path.startsWith('/youtube-sync/worker'));
    if (mine.length !== 1 || after.stats.steps !== (before.stats.steps ?? 0) + 1) continue;
    const kind = kindOf(before.cursor);
    const units =
      kind === 'videos'
        ? before.cursor.pending_video_ids.length
        : kind === 'report'
          ? after.stats.metric_rows - (before.stats.metric_rows ?? 0)
          : kind === 'plan'
            ? after.stats.videos_planned
            : 0;
    samples.push({ kind, cpu: mine[0].cpu_ms, units });
  }
  const byKind: Record<string, unknown> = {};
  for (const kind of ['channel', 'page', 'videos', 'plan', 'report', 'score'] as StepKind[]) {
    const of = samples.filter((s) => s.kind === kind);
    if (!of.length) continue;
    const cpu = of.map((s) => s.cpu).sort((a, b) => a - b);
    byKind[kind] = {
      n: of.length,
      cpu_ms_mean: Math.round((cpu.reduce((a, b) => a + b, 0) / of.length) * 10) / 10,
      cpu_ms_p95: percentile(cpu, 0.95),
      cpu_ms_max: cpu.at(-1),
      mean_units: Math.round(of.reduce((a, s) => a + s.units, 0) / of.length),
      ...(kind === 'report' ? { fit_by_rows: fit(of.map((s) => [s.units, s.cpu])) } : {}),
    };
  }
  return { videos: CALIBRATION_VIDEOS, invocation_includes: 'request handling, claim, channel row and the step', by_step: byKind };
}

async function channelOf(ws: string, userId: string, videos: number, seed = `bench-limits-${videos}`): Promise<string> {
  const fake = await control('POST', 'youtube/channels', { videos, seed, spanDays: 365 });
  await sql`delete from public.channels where youtube_channel_id = ${fake.channelId}`;
  const [{ id }] = await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title, uploads_playlist_id, status, connected_by, connected_at)
    values (${ws}, ${fake.channelId}, ${fake.title}, ${fake.uploadsPlaylistId}, 'active', ${userId}, now()) returning id`;
  await sql`select private.save_channel_credentials(${id}, ${fake.refreshToken}, ${fake.accessToken}, now() + interval '50 minutes',
    array['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/yt-analytics.readonly'])`;
  return id;
}

const [{ units: budgetBefore }] = await sql`select units from private.youtube_daily_budget`;
const fakeQuotaBefore = (await control('GET', 'youtube/quota')).dailyLimit;
const email = `bench-limits-${Date.now()}@example.com`;
const [user] = await sql`
  insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  values (gen_random_uuid(), 'authenticated', 'authenticated', ${email}, '{}', '{}', now(), now()) returning id`;
try {
  // Several full syncs of big channels in one quota day: room for all of them.
  await sql`update private.youtube_daily_budget set units = 1000000`;
  await control('POST', 'youtube/quota', { dailyLimit: 1_000_000 });
  const [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  const calibration = CALIBRATION_VIDEOS > 0 ? await calibrate(await channelOf(ws, user.id, CALIBRATION_VIDEOS)) : null;
  console.log(JSON.stringify({ calibration }));
  const sizes: Record<string, unknown> = {};
  for (const videos of SIZES) {
    const channelId = await channelOf(ws, user.id, videos);
    const runs: { stepped: Awaited<ReturnType<typeof measureStepped>>[]; single: Awaited<ReturnType<typeof measureSingle>>[] } = {
      stepped: [],
      single: [],
    };
    const withBaseline = BASELINE_SIZES.has(videos);
    for (let r = 0; r < (withBaseline ? REPEATS : 1); r++) {
      runs.stepped.push(await measureStepped(channelId));
      if (withBaseline) runs.single.push(await measureSingle(channelId));
    }
    const fastest = <T extends { wall_ms: number }>(xs: T[]) => xs.reduce((a, b) => (b.wall_ms < a.wall_ms ? b : a));
    const stepped = fastest(runs.stepped);
    const baseline = withBaseline ? fastest(runs.single) : null;
    sizes[String(videos)] = {
      stepped,
      single_request_baseline: baseline,
      wall_ms_all_runs: { stepped: runs.stepped.map((m) => m.wall_ms), single_request: runs.single.map((m) => m.wall_ms) },
      max_cpu_ms_all_stepped_runs: Math.max(...runs.stepped.map((m) => m.cpu_ms.max)),
      max_peak_rss_mb_all_stepped_runs: Math.max(...runs.stepped.map((m) => m.peak_rss_mb.max)),
      wall_vs_baseline: baseline ? Math.round((stepped.wall_ms / baseline.wall_ms) * 1000) / 1000 : null,
      wall_vs_before: videos === BEFORE.videos ? Math.round((stepped.wall_ms / BEFORE.wall_ms) * 1000) / 1000 : null,
      within_targets:
        runs.stepped.every((m) => m.over_target === 0 && m.status_546 === 0) && (!baseline || stepped.wall_ms <= baseline.wall_ms * 1.25),
    };
    console.log(JSON.stringify({ videos, ...(sizes[String(videos)] as object) }));
  }
  const daily =
    DAILY_CHANNELS > 0
      ? await measureDaily(
          { sql, costs, meter, limits: { cpuMs: CPU_LIMIT_MS, rssMb: RSS_LIMIT_MB }, timeoutMs: RUN_TIMEOUT_MS },
          { channels: DAILY_CHANNELS, videos: DAILY_VIDEOS, channelOf: (videos, seed) => channelOf(ws, user.id, videos, seed) },
        )
      : null;
  if (daily) console.log(JSON.stringify({ daily }));
  writeResult('youtube-sync-limits', {
    meter: 'edge runtime (/_runtime/invocations)',
    targets: {
      cpu_ms_per_invocation: CPU_LIMIT_MS,
      peak_rss_mb_per_invocation: RSS_LIMIT_MB,
      wall_vs_baseline_max: 1.25,
      daily_log_lines_past_hosted_threshold: 0,
    },
    before: BEFORE,
    calibration,
    sizes,
    daily,
  });
} finally {
  await setProjectUrl(projectUrl);
  await sql`update private.youtube_daily_budget set units = ${budgetBefore}`;
  await control('POST', 'youtube/quota', { dailyLimit: fakeQuotaBefore });
  await sql`delete from auth.users where id = ${user.id}`;
  await sql.end();
  await started.stop();
}
