// A sync cut into worker invocations that start each other: queued and woken once as production
// does it, the run needs several budgeted invocations, each started by the one before (pg_net),
// finishes exactly once with the rows of the channel, and shows its progress meanwhile. A step
// killed in the middle of an analytics report resumes at the saved cursor without duplicates.
import { assertEquals, assertOk } from './assert.ts';
import { COST_MS, CPU_BUDGET_MS } from '../../supabase/functions/youtube-sync/budget.ts';
import {
  addFault,
  analyticsCalls,
  clearFaults,
  connectChannel,
  connectedId,
  control,
  createFakeChannel,
  dataCalls,
  driveRun,
  expectedMetricRows,
  fakeRequests,
  forgetSyncedData,
  queueRun,
  type RecordedRequest,
  runById,
  snapshot,
  syncToEnd,
  syncWorkerProcess,
} from './helpers/youtube.ts';
import { personalWorkspace, signUp, withDb } from './helpers/users.ts';

async function connected(videos: number, label: string): Promise<string> {
  const user = await signUp(label);
  const fake = await createFakeChannel(videos, label);
  const channelId = connectedId(await connectChannel(user, await personalWorkspace(user), fake.channelId));
  const run = await syncToEnd(channelId, { timeoutMs: 120_000 });
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  return channelId;
}

async function waitForEnd(runId: string, timeoutMs: number, onRunning?: (run: Awaited<ReturnType<typeof runById>>) => Promise<void>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runById(runId);
    if (!['queued', 'running'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run still ${run.status} after ${timeoutMs} ms: ${JSON.stringify(run.cursor)}`);
    if (onRunning) await onRunning(run);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Enough videos that the sync's estimated cost (budget.ts) is twice an invocation's budget: the
// fake spreads a channel's videos over 365 days, so a video has about 182 days of analytics.
const PER_VIDEO_MS = COST_MS.video + (2 * COST_MS.call) / 50 + 182 * COST_MS.reportRow;
const VIDEOS = Math.ceil((2 * CPU_BUDGET_MS) / PER_VIDEO_MS / 50) * 50;

Deno.test('a sync woken once runs in several chained invocations, each started by the last, and completes exactly once', async () => {
  const user = await signUp('chain');
  const big = await createFakeChannel(VIDEOS, 'chain-big');
  const since = new Date();
  const bigId = connectedId(await connectChannel(user, await personalWorkspace(user), big.channelId));
  // The connect queued a run and woke the worker: nothing drives it but the chain.
  const [open] = await withDb(
    (sql) => sql<{ id: string }[]>`
    select id from public.sync_runs where channel_id = ${bigId} and status in ('queued', 'running')`,
  );
  assertOk(open, 'the connect queued a run');
  const seen = new Set<string>();
  const run = await waitForEnd(open.id, 240_000, async () => {
    const list = await user.call(`youtube-sync/runs?channel_id=${bigId}`);
    const p = list.body.runs?.[0]?.progress;
    if (p) seen.add(`${p.phase}:${p.videos_listed}/${p.videos_total}:${p.videos_done}`);
  });
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  assertOk(run.stats.invocations >= 2, `${run.stats.invocations} invocations`);
  assertEquals(run.attempts, run.stats.invocations, 'every claim advanced the run: no invocation raced another for it');
  assertOk(seen.size >= 2, `progress seen while running: ${[...seen].join(', ')}`);

  // Only this channel's calls: other tests' runs may be syncing meanwhile.
  const requests = await fakeRequests(since);
  const mine = new Set((await control('GET', `youtube/channels/${big.channelId}/videos`)).videos.map((v: { id: string }) => v.id));
  const ofChannel = (r: RecordedRequest) =>
    r.query.playlistId === big.uploadsPlaylistId ||
    mine.has(String(r.query.id ?? '').split(',')[0]) ||
    mine.has(
      String(r.query.filters ?? '')
        .replace('video==', '')
        .split(',')[0],
    );
  const pages = Math.ceil(VIDEOS / 50);
  assertEquals(dataCalls(requests, 'playlistItems').filter(ofChannel).length, pages, 'each page once');
  assertEquals(dataCalls(requests, 'videos').filter(ofChannel).length, pages, 'each videos.list once');
  assertEquals(analyticsCalls(requests).filter(ofChannel).length, run.stats.analytics_calls, 'each report once');
  const [{ videos, metrics }] = await withDb(
    (sql) => sql`
    select (select count(*)::int from public.videos where channel_id = ${bigId}) as videos,
      (select count(*)::int from public.video_metrics m join public.videos v on v.id = m.video_id where v.channel_id = ${bigId}) as metrics`,
  );
  assertEquals(videos, VIDEOS);
  assertEquals(metrics, await expectedMetricRows(big.channelId));
  assertEquals(run.stats.metric_rows, metrics, 'every row written once');
  const [{ plan }] = await withDb((sql) => sql`select plan from public.sync_runs where id = ${open.id}`);
  assertEquals(plan, null, 'the plan is dropped when the run ends');
});

Deno.test('a step killed while its analytics report is in flight: the run resumes at its cursor, no report stored twice', async () => {
  const channelId = await connected(300, 'killed-report');
  const clean = await snapshot(channelId);
  await forgetSyncedData(channelId);
  const doomed = `doomed-${crypto.randomUUID()}`;
  const runId = await queueRun(channelId);
  const started = new Date();
  const [claimed] = await withDb((sql) => sql`select id from private.claim_youtube_sync_run(${doomed}, 180, ${runId})`);
  assertEquals(claimed.id, runId);
  await addFault({ match: { pathPrefix: '/youtube-analytics/v2/reports' }, latencyMs: 600 });
  const child = syncWorkerProcess(runId, doomed);
  let killedAt;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const run = await runById(runId);
      if (run.cursor.phase === 'analytics' && run.cursor.batch_index >= 1) {
        killedAt = run.cursor;
        break;
      }
      if (Date.now() > deadline || run.status !== 'running')
        throw new Error(`the doomed worker did not reach analytics: ${JSON.stringify(run)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The next report has been asked for and is held up by the latency: kill now.
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await child.status;
  } finally {
    await clearFaults();
  }
  const dead = await runById(runId);
  assertEquals([dead.status, dead.lease_owner], ['running', doomed]);
  assertEquals(dead.cursor.batch_index, killedAt.batch_index, 'the report in flight did not commit');

  await withDb((sql) => sql`update public.sync_runs set lease_expires_at = now(), next_attempt_at = now() where id = ${runId}`);
  const since = new Date();
  const run = await driveRun(runId, { timeoutMs: 120_000 });
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  const key = (r: { query: Record<string, unknown> }) => `${r.query.filters}@${r.query.startIndex}`;
  const beforeKill = analyticsCalls(await fakeRequests(started))
    .filter((r) => Date.parse(r.at) < since.getTime())
    .map(key);
  const committed = new Set(beforeKill.slice(0, dead.cursor.batch_index));
  const resumed = analyticsCalls(await fakeRequests(since)).map(key);
  assertEquals(
    resumed.filter((k) => committed.has(k)),
    [],
    'no stored report was asked for again',
  );
  assertEquals(new Set(resumed).size, resumed.length, 'each report once after the resume');
  assertEquals(dataCalls(await fakeRequests(since), 'playlistItems').length, 0, 'the listing was not repeated');
  assertEquals(await snapshot(channelId), clean);
});

Deno.test('ten runs queued as the daily job queues them are worked through by at most four chains', async () => {
  const channels: string[] = [];
  for (let i = 0; i < 10; i++) channels.push(await connected(5, `daily-${i}`));
  const runs: string[] = [];
  for (const id of channels) runs.push(await queueRun(id, 'cron'));
  const [{ started }] = await withDb((sql) => sql`select private.start_youtube_sync_chains() as started`);
  assertOk(started >= 1 && started <= 4, `${started} chains started`);
  let mostHeld = 0;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [{ held, open }] = await withDb(
      (sql) => sql`
      select private.youtube_sync_chains_running() as held,
        (select count(*)::int from public.sync_runs where id = any(${runs}) and status in ('queued', 'running')) as open`,
    );
    mostHeld = Math.max(mostHeld, held);
    if (open === 0) break;
    if (Date.now() > deadline) throw new Error(`${open} of the ten runs still open after 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ended = await withDb((sql) => sql`select status from public.sync_runs where id = any(${runs})`);
  assertEquals(
    ended.map((r) => r.status),
    Array(10).fill('succeeded'),
  );
  // Four chains, and the one a race between two claims can add until its next claim.
  assertOk(mostHeld <= 5, `${mostHeld} runs held at once`);
});
