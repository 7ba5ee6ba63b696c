// The schedules worker against the hosted limits (2 s CPU and 256 MB per request; targets: no
// invocation over 1.5 s CPU or 200 MB RSS, no 546, every job exactly once):
//   upload-500MB / upload-2GB  one schedule, one call of schedules/worker; every later step is
//       called by the one before (pg_net). Baseline in the same run: today's single-request path,
//       the engine with an unlimited budget in a Deno process of its own (bench/deno/upload-worker.ts),
//       once as it was (no heap limit) and once under the isolates' V8 heap limit (256 MB), which
//       separates what stepping costs from what the heap limit costs (target: vs the first).
//       Checked: the video arrived whole (size and sha256) from one session, recorded once.
//   dispatch-1000  1,000 schedules due in the same minute, woken by pg_cron only; lag from
//       publish_at to the upload's start (target p99 <= 60 s), each published exactly once.
// Per invocation CPU ms and peak RSS come from the edge runtime's /_runtime/invocations
// (bench/lib.ts edgeCosts), each invocation alone in its isolate with the hosted limits on.
// Fakes may be served over http or https: every URL comes from the stack's environment.
// BENCH_SIZES_MB (default "500,2048") and BENCH_SCHEDULES (default 1000) size the runs.
// BENCH_ROUNDS (default 3): each size is measured that many times, the three runs of a round back
// to back in an order that rotates, and the ratios are the median of the rounds'. This machine is
// shared: one run of the same code has taken 3.0 s and 6.6 s for 500 MB as one request within an
// hour, so a single pair of runs can say 1.02x or 2.16x for the same code.
// Diagnostics: BENCH_TRACE=1 prints each chained invocation (CPU, wall, wait for an isolate, cold
// or warm) and the baselines' collections when LOCAL_EDGE_V8_FLAGS (which reach the baseline
// processes too) has --trace-gc; BENCH_CPU_PROF=<dir> writes a V8 tick profile of the baseline processes to <dir>/v8.log (the last one's)
// (read it with `node --prof-process`).
import { spawn } from 'node:child_process';
import postgres from 'postgres';
import { z } from 'zod';
import { ROOT } from '../local/profile.ts';
import { HOSTED_LIMITS, hostedHeapFlags } from '../local/edge-runtime/limits.ts';
import { denoBin } from '../local/stack/services.ts';
import { v8FlagsArg } from '../local/deno.ts';
import { edgeCosts, type EdgeInvocation as Invocation } from './lib.ts';
import { benchStack, fakesControl, settingsFromEnv, stats, writeResult } from './lib.ts';
import { roomyQuota, type UploadSetup, uploadFixtures } from './upload-fixtures.ts';

const MiB = 1024 * 1024;
// Refused before a stack starts (settingsFromEnv).
const settings = settingsFromEnv(
  'upload-limits',
  z.object({
    BENCH_SIZES_MB: z
      .string()
      .default('500,2048')
      .transform((v) => v.split(',').map((n) => Number(n.trim())))
      .pipe(z.array(z.number().int().nonnegative())),
    BENCH_SCHEDULES: z.coerce.number().int().nonnegative().default(1000),
    BENCH_ROUNDS: z.coerce.number().int().positive().default(3),
  }),
);
/** 0 in the list skips the uploads (dispatch only). */
const SIZES_MB = settings.BENCH_SIZES_MB.filter((n) => n > 0);
const SCHEDULES = settings.BENCH_SCHEDULES;
const ROUNDS = settings.BENCH_ROUNDS;
if (SIZES_MB.length === 0 && SCHEDULES === 0) {
  throw new Error('upload-limits: nothing to measure (BENCH_SIZES_MB has no size and BENCH_SCHEDULES is 0)');
}
const LIMITS = { cpu_ms: 1500, rss_mb: 200 };

const started = await benchStack();
const env = started.env;
const fakes = env.LOCAL_FAKES_URL!;
const functionsUrl = env.LOCAL_FUNCTIONS_URL ?? `http://127.0.0.1:${env.LOCAL_FUNCTIONS_PORT}`;
const sql = postgres(env.SUPABASE_DB_URL!, { max: 2, onnotice: () => {} });
const control = fakesControl(fakes);

const { setup, render, schedule } = uploadFixtures(sql, control, fakes);

/** One session for the title, complete, the render's exact bytes, recorded once. */
async function arrivedOnce(title: string, pid: string, bytes: number, scheduleId: string): Promise<boolean> {
  const { uploads } = await control('GET', 'youtube/uploads');
  const mine = (uploads as { received: { snippet?: { title?: string } }; state: string; size: number; sha256: string }[]).filter(
    (u) => u.received?.snippet?.title === title,
  );
  const expected = await control('GET', `revid/media/${pid}/sha256`);
  const [{ n }] = await sql`select count(*)::int as n from public.upload_events where schedule_id = ${scheduleId} and event = 'uploaded'`;
  return mine.length === 1 && mine[0].state === 'complete' && mine[0].size === bytes && mine[0].sha256 === expected.sha256 && n === 1;
}

/**
 * Where stepping's extra time goes: the stepped invocations by their place in their isolate (1st
 * request, 2nd, 3rd or later), wall time without the wait for an isolate. An isolate retires at
 * the soft CPU limit after about three steps, and its first steps open connections and run cold
 * code; one request pays that once.
 */
function byIsolateRequest(invocations: Invocation[]) {
  const places = { first: (n: number) => n === 1, second: (n: number) => n === 2, later: (n: number) => n >= 3 };
  return Object.fromEntries(
    Object.entries(places).map(([place, holds]) => {
      const these = invocations.filter((i) => holds(i.isolate_request));
      return [
        place,
        {
          n: these.length,
          wall_ms_mean: Math.round(stats(these.map((i) => i.wall_ms - i.acquire_ms)).mean),
          cpu_ms_mean: Math.round(stats(these.map((i) => i.cpu_ms)).mean),
        },
      ];
    }),
  );
}

/** Per-invocation figures, from the edge runtime (one isolate per request, measured alone). */
function summarize(invocations: Invocation[]) {
  const cpu = stats(invocations.map((i) => i.cpu_ms));
  const rss = stats(invocations.map((i) => i.peak_rss_mb));
  const overMemory = (i: Invocation) => i.peak_rss_mb > LIMITS.rss_mb;
  return {
    invocations: invocations.length,
    cpu_ms: { max: cpu.max, p95: cpu.p95, mean: cpu.mean },
    peak_rss_mb: { max: rss.max, p95: rss.p95 },
    status_546: invocations.filter((i) => i.status === 546).length,
    over_limit: invocations.filter((i) => i.cpu_ms > LIMITS.cpu_ms || overMemory(i)).length,
  };
}

/**
 * Today's single-request path: the engine with an unlimited budget in a process of its own. With
 * `heapMb`, under the V8 heap limit the edge runtime gives every isolate (as hosted sizes its
 * workers' heaps), so the comparison with the steps is of stepping alone: that limit makes V8
 * collect more often, which costs the one long request CPU too.
 */
async function singleRequest(s: UploadSetup, bytes: number, heapMb?: number) {
  const { videoJobId, pid } = await render(s.ws, bytes);
  const title = `bench-single-${bytes}-${Date.now()}`;
  const id = await schedule(s, s.channels[0].id, videoJobId, title, new Date());
  const workerId = `bench-single:${crypto.randomUUID()}`;
  const [claimed] = await sql`select id from private.claim_upload_schedules(${workerId}, 1, 600, ${id})`;
  if (!claimed) throw new Error('could not claim the baseline schedule');
  const child = spawn(
    denoBin(),
    [
      'run',
      '-A',
      ...v8FlagsArg([
        ...(heapMb ? hostedHeapFlags(heapMb) : []),
        ...(process.env.BENCH_CPU_PROF ? ['--prof', '--no-logfile-per-isolate', `--logfile=${process.env.BENCH_CPU_PROF}/v8.log`] : []),
        ...(process.env.LOCAL_EDGE_V8_FLAGS?.split(',') ?? []),
      ]),
      '--config',
      'supabase/functions/deno.json',
      'bench/deno/upload-worker.ts',
      id,
      workerId,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  if (code !== 0) throw new Error(`the baseline process exited with ${code}`);
  if (process.env.BENCH_TRACE)
    console.log(
      `TRACE baseline${heapMb ? ` (heap ${heapMb} MB)` : ''}: ${out.split('Mark-Compact').length - 1} mark-compacts, ${out.split('Scavenge').length - 1} scavenges`,
    );
  const report = JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{"outcome"'))
      .at(-1)!,
  );
  return {
    seconds: Math.round(report.seconds * 10) / 10,
    cpu_ms: Math.round(report.after.cpu_ms.main - report.before.cpu_ms.main),
    peak_rss_mb: Math.round(report.after.peak_kb / 102.4) / 10,
    exactly_once: await arrivedOnce(title, pid, bytes, id),
  };
}

/** The bounded steps: one call, then each step calls the next. */
async function chainedUpload(s: UploadSetup, bytes: number) {
  const { videoJobId, pid } = await render(s.ws, bytes);
  const title = `bench-chained-${bytes}-${Date.now()}`;
  const costs = edgeCosts(functionsUrl);
  const mark = await costs.mark();
  const t0 = Date.now();
  const id = await schedule(s, s.channels[0].id, videoJobId, title, new Date());
  const res = await fetch(`${env.SUPABASE_URL}/functions/v1/schedules/worker`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ schedule_id: id }),
  });
  await res.body?.cancel();
  for (;;) {
    const [row] = await sql`select status from public.upload_schedules where id = ${id}`;
    if (['published', 'failed', 'canceled'].includes(row.status)) break;
    if (Date.now() - t0 > 15 * 60_000) throw new Error(`upload of ${bytes} bytes not done after 15 min: ${row.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (Date.now() - t0) / 1000;
  const invocations = (await costs.since(mark, 'schedules')).filter((i) => i.path.endsWith('/worker'));
  if (process.env.BENCH_TRACE) {
    // gap: from the end of the invocation before (or the first call) to this one's start.
    let before = t0;
    for (const i of invocations) {
      const end = Date.parse(i.at);
      console.log(
        `TRACE cpu=${i.cpu_ms} wall=${i.wall_ms} acquire=${i.acquire_ms} nth=${i.isolate_request} gap=${end - i.wall_ms - before}`,
      );
      before = end;
    }
  }
  const [{ steps }] =
    await sql`select count(*)::int + 1 as steps from public.upload_events where schedule_id = ${id} and event = 'upload_paused'`;
  return {
    seconds: Math.round(seconds * 10) / 10,
    steps,
    invocations,
    exactly_once: await arrivedOnce(title, pid, bytes, id),
  };
}

const median = (xs: number[]) => stats(xs).p50;
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/**
 * ROUNDS rounds of the three runs of one size: per round the stepped total against each baseline,
 * the median of those for the size; per-invocation figures over every stepped run.
 */
async function measureSize(s: UploadSetup, bytes: number) {
  const runs = {
    single: () => singleRequest(s, bytes),
    sameHeap: () => singleRequest(s, bytes, HOSTED_LIMITS.memoryMb),
    chained: () => chainedUpload(s, bytes),
  };
  type Round = { [K in keyof typeof runs]: Awaited<ReturnType<(typeof runs)[K]>> };
  const order = Object.keys(runs) as (keyof typeof runs)[];
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round: Partial<Round> = {};
    for (const run of [...order.slice(r % 3), ...order.slice(0, r % 3)]) Object.assign(round, { [run]: await runs[run]() });
    rounds.push(round as Round);
  }
  const chainedRuns = rounds.map((r) => r.chained);
  const invocations = chainedRuns.flatMap((c) => c.invocations);
  return {
    bytes,
    rounds: rounds.map((r) => ({
      chained_s: r.chained.seconds,
      steps: r.chained.steps,
      single_request_s: r.single.seconds,
      same_heap_limit_s: r.sameHeap.seconds,
      vs_baseline: ratio(r.chained.seconds, r.single.seconds),
      vs_same_heap_limit: ratio(r.chained.seconds, r.sameHeap.seconds),
    })),
    chained: {
      seconds: median(chainedRuns.map((c) => c.seconds)),
      steps: median(chainedRuns.map((c) => c.steps)),
      ...summarize(invocations),
      by_isolate_request: byIsolateRequest(invocations),
      exactly_once: chainedRuns.every((c) => c.exactly_once),
    },
    single_request_baseline: {
      seconds: median(rounds.map((r) => r.single.seconds)),
      cpu_ms: median(rounds.map((r) => r.single.cpu_ms)),
      peak_rss_mb: Math.max(...rounds.map((r) => r.single.peak_rss_mb)),
      exactly_once: rounds.every((r) => r.single.exactly_once),
    },
    single_request_same_heap_limit: {
      seconds: median(rounds.map((r) => r.sameHeap.seconds)),
      cpu_ms: median(rounds.map((r) => r.sameHeap.cpu_ms)),
      peak_rss_mb: Math.max(...rounds.map((r) => r.sameHeap.peak_rss_mb)),
      exactly_once: rounds.every((r) => r.sameHeap.exactly_once),
    },
    total_time_vs_baseline: median(rounds.map((r) => ratio(r.chained.seconds, r.single.seconds))),
    total_time_vs_same_heap_limit: median(rounds.map((r) => ratio(r.chained.seconds, r.sameHeap.seconds))),
  };
}

async function dispatch(s: UploadSetup, count: number) {
  const { videoJobId } = await render(s.ws, 256 * 1024);
  const costs = edgeCosts(functionsUrl);
  const mark = await costs.mark();
  const logsBefore = (await costs.logLines()).schedules ?? { events: 0, dropped: 0, cut: 0 };
  const publishAt = new Date(Math.ceil((Date.now() + 60_000) / 60_000) * 60_000 + 20_000);
  const run = `bench-burst-${Date.now()}`;
  await sql`
    insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, privacy, status,
      next_attempt_at, idempotency_key, request_fingerprint, created_by)
    select ${s.ws}, (${s.channels.map((c) => c.id)}::uuid[])[1 + (i % ${s.channels.length})], ${videoJobId}, ${run} || ' #' || i,
      ${publishAt}, 'upload_at_time', 'public', 'scheduled', ${publishAt}, ${run} || '-' || i, repeat('b', 64), ${s.userId}
    from generate_series(1, ${count}) as i`;
  console.log(`${count} schedules due at ${publishAt.toISOString()}`);
  for (;;) {
    const [{ open }] = await sql`
      select count(*)::int as open from public.upload_schedules where title like ${run + ' #%'} and status not in ('published', 'failed', 'canceled')`;
    if (open === 0) break;
    if (Date.now() > publishAt.getTime() + 8 * 60_000) throw new Error(`${open} schedules still open 8 min after publish_at`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const rows = await sql<{ status: string; lag: number; done: number }[]>`
    select status, extract(epoch from upload_started_at - publish_at)::float8 as lag, extract(epoch from published_at - publish_at)::float8 as done
    from public.upload_schedules where title like ${run + ' #%'}`;
  const [{ started: startedEvents }] = await sql`
    select count(*)::int as started from public.upload_events e join public.upload_schedules s on s.id = e.schedule_id
    where s.title like ${run + ' #%'} and e.event = 'upload_started'`;
  const { uploads } = await control('GET', 'youtube/uploads');
  const sessions = (uploads as { received: { snippet?: { title?: string } }; state: string }[]).filter((u) =>
    u.received?.snippet?.title?.startsWith(`${run} #`),
  );
  const invocations = (await costs.since(mark, 'schedules')).filter((i) => i.path.endsWith('/worker'));
  const logsAfter = (await costs.logLines()).schedules ?? logsBefore;
  const published = rows.filter((r) => r.status === 'published').length;
  return {
    schedules: count,
    published,
    exactly_once:
      published === count && sessions.length === count && sessions.every((u) => u.state === 'complete') && startedEvents === count,
    lag_to_upload_start_s: stats(rows.map((r) => r.lag)),
    total_seconds: Math.round(Math.max(...rows.map((r) => r.done)) * 10) / 10,
    ...summarize(invocations),
    // Hosted keeps 100 log lines per 10 s of a function (README "Edge runtime"): what the burst
    // wrote, and what it would have lost there.
    log_lines: { written: logsAfter.events - logsBefore.events, past_hosted_threshold: logsAfter.dropped - logsBefore.dropped },
  };
}

const undoQuota = await roomyQuota(sql, control);
let userId: string | undefined;
try {
  const s = await setup(10);
  userId = s.userId;
  const result: Record<string, unknown> = { limits: LIMITS, fakes_scheme: new URL(fakes).protocol.replace(':', ''), rounds: ROUNDS };
  let ok = true;
  for (const mb of SIZES_MB) {
    const m = await measureSize(s, mb * MiB);
    result[`upload_${mb}MB`] = m;
    ok &&=
      m.chained.exactly_once &&
      m.single_request_baseline.exactly_once &&
      m.single_request_same_heap_limit.exactly_once &&
      m.chained.over_limit === 0 &&
      m.chained.status_546 === 0 &&
      m.total_time_vs_baseline <= 1.25;
  }
  if (SCHEDULES > 0) {
    const burst = await dispatch(s, SCHEDULES);
    result[`dispatch_${SCHEDULES}`] = burst;
    ok &&=
      burst.exactly_once &&
      burst.over_limit === 0 &&
      burst.status_546 === 0 &&
      burst.lag_to_upload_start_s.p99 <= 60 &&
      burst.log_lines.past_hosted_threshold === 0;
  }
  result.meets_targets = ok;
  writeResult('upload-limits', result);
  if (!ok) process.exitCode = 1;
} finally {
  await undoQuota(userId);
  await sql.end();
  await started.stop();
}
