// Each transition of the sync state machine on its own: a stand-in for the YouTube APIs, a real
// channel and run row, and the step's write run in a transaction of its own. Also the outcome
// table (classifyFailure) and the invocation budget.
import { assert_, assertEquals, assertMatch, assertOk } from './assert.ts';
import { asService, closeDb } from '../../supabase/functions/_shared/platform/db.ts';
import {
  QuotaExhaustedError,
  ReauthRequiredError,
  YouTubeApiError,
  YouTubeTransientError,
} from '../../supabase/functions/_shared/integrations/youtube/errors.ts';
import type { ReportPage } from '../../supabase/functions/_shared/integrations/youtube/analytics-client.ts';
import type { VideoInfo } from '../../supabase/functions/_shared/integrations/youtube/data-api-client.ts';
import { COST_MS, CPU_BUDGET_MS, costOf, InvocationBudget, worstCaseOf } from '../../supabase/functions/youtube-sync/budget.ts';
import { type Cursor, parseCursor, parseStats } from '../../supabase/functions/youtube-sync/cursor.ts';
import { classifyFailure, MAX_CONSECUTIVE_ERRORS } from '../../supabase/functions/youtube-sync/engine.ts';
import { LeaseLostError, type SyncRun } from '../../supabase/functions/youtube-sync/store.ts';
import {
  fetchReport,
  fetchVideos,
  listPage,
  planAnalytics,
  readChannel,
  type RunContext,
  scoreVideos,
  type Step,
  SyncFailure,
  type SyncApis,
  transitionFor,
} from '../../supabase/functions/youtube-sync/transitions.ts';
import { queueRun } from './helpers/youtube.ts';
import { personalWorkspace, signUp, withDb } from './helpers/users.ts';

const inProcess = { sanitizeOps: false, sanitizeResources: false };

function unexpected(name: string) {
  return () => Promise.reject(new Error(`${name} was not expected in this test`));
}

function apis(overrides: { data?: Partial<SyncApis['data']>; analytics?: Partial<SyncApis['analytics']> } = {}): SyncApis {
  return {
    data: { myChannel: unexpected('myChannel'), uploadsPage: unexpected('uploadsPage'), videos: unexpected('videos'), ...overrides.data },
    analytics: { dailyByVideo: unexpected('dailyByVideo'), dailyForVideo: unexpected('dailyForVideo'), ...overrides.analytics },
  };
}

/** A connected channel (no tokens: no call reaches YouTube here) and a claimed run of it. */
async function fixture(label: string) {
  const user = await signUp(label);
  const ws = await personalWorkspace(user);
  const ytId = `UC${crypto.randomUUID().replaceAll('-', '').slice(0, 22)}`;
  const [channel] = await withDb(
    (sql) => sql<{ id: string; workspace_id: string; youtube_channel_id: string; status: string; uploads_playlist_id: string }[]>`
    insert into public.channels (workspace_id, youtube_channel_id, title, uploads_playlist_id, status, connected_by, connected_at)
    values (${ws}, ${ytId}, 'Transitions', ${'UU' + ytId.slice(2)}, 'active', ${user.id}, now())
    returning id, workspace_id, youtube_channel_id, status, uploads_playlist_id`,
  );
  // Held by a worker of this test for an hour, so no real worker (woken by others) takes it.
  const runId = await queueRun(channel.id);
  const [run] = await withDb(
    (sql) => sql<SyncRun[]>`
    select id, workspace_id, channel_id, trigger, status, cursor, stats, attempts
    from private.claim_youtube_sync_run('transitions-test', 3600, ${runId})`,
  );
  return { channel, run };
}

function contextOf(fx: Awaited<ReturnType<typeof fixture>>, a: SyncApis): RunContext {
  return { run: fx.run, channel: fx.channel, apis: a };
}

async function commit(step: Step) {
  if (step.write) await asService((tx) => step.write!(tx));
}

/** Ten days ago: few enough days that 50 videos fit one report. */
const RECENT = new Date(Date.now() - 10 * 86_400_000).toISOString();

function video(id: string, views: number, publishedAt = RECENT): VideoInfo {
  return {
    youtubeVideoId: id,
    title: `Video ${id}`,
    description: null,
    publishedAt,
    durationSeconds: 300,
    isShort: false,
    tags: [],
    categoryId: '28',
    privacyStatus: 'public',
    thumbnailUrl: null,
    viewCount: views,
    likeCount: 1,
    commentCount: 0,
  };
}

/** `n` video ids of 11 characters, new on every run (video ids are unique across channels). */
function ids(n: number): string[] {
  const run = crypto.randomUUID().replaceAll('-', '').slice(0, 6);
  return Array.from({ length: n }, (_, i) => `${run}${String(i).padStart(5, '0')}`);
}

const googleError = (status: number, reason: string) => new YouTubeApiError('test.call', status, { message: reason, reason });

Deno.test('transitionFor: one transition per phase, fetchVideos while ids are pending, none when done', () => {
  const at = (c: Partial<Cursor>) => transitionFor(parseCursor(c));
  assertEquals(at({ phase: 'channel' }), readChannel);
  assertEquals(at({ phase: 'listing' }), listPage);
  assertEquals(at({ phase: 'listing', pending_video_ids: ['a'] }), fetchVideos);
  assertEquals(at({ phase: 'plan' }), planAnalytics);
  assertEquals(at({ phase: 'analytics' }), fetchReport);
  assertEquals(at({ phase: 'score' }), scoreVideos);
  assertEquals(at({ phase: 'done' }), null);
});

Deno.test({
  name: 'readChannel: the uploads playlist goes to the cursor and the title to the channel; another channel fails the run',
  ...inProcess,
  async fn() {
    const fx = await fixture('tr-channel');
    const info = {
      youtubeChannelId: fx.channel.youtube_channel_id,
      title: 'Renamed',
      description: 'd',
      thumbnailUrl: null,
      uploadsPlaylistId: 'UUplaylist',
    };
    const step = await readChannel(contextOf(fx, apis({ data: { myChannel: () => Promise.resolve(info) } })), parseCursor({}));
    assertEquals([step.cursor.phase, step.cursor.uploads_playlist_id, step.cursor.page_token], ['listing', 'UUplaylist', null]);
    assertEquals(step.costMs, costOf.channel());
    await commit(step);
    const [row] = await withDb((sql) => sql`select title, uploads_playlist_id from public.channels where id = ${fx.channel.id}`);
    assertEquals(row, { title: 'Renamed', uploads_playlist_id: 'UUplaylist' });

    const other = { ...info, youtubeChannelId: 'UCsomeoneelse' };
    await assert_.rejects(
      () => readChannel(contextOf(fx, apis({ data: { myChannel: () => Promise.resolve(other) } })), parseCursor({})),
      SyncFailure,
    );
  },
});

Deno.test({
  name: 'listPage: a page leaves its ids pending with the next token; the last empty page moves to plan; a stale token restarts once',
  ...inProcess,
  async fn() {
    const fx = await fixture('tr-page');
    const start = parseCursor({ phase: 'listing', uploads_playlist_id: 'UUx', page_token: 'T1' });
    const stats = parseStats({});
    const page = { videoIds: ['a', 'b'], nextPageToken: 'T2', totalResults: 120 };
    const step = await listPage(
      contextOf(fx, apis({ data: { uploadsPage: (_p, t) => Promise.resolve(t === 'T1' ? page : page) } })),
      start,
      stats,
    );
    assertEquals(
      [step.cursor.phase, step.cursor.page_token, step.cursor.pending_video_ids, step.cursor.listing_done],
      ['listing', 'T2', ['a', 'b'], false],
    );
    assertEquals([stats.pages, stats.videos_total], [1, 120]);
    assertEquals(step.write, undefined);

    const last = await listPage(
      contextOf(fx, apis({ data: { uploadsPage: () => Promise.resolve({ videoIds: [], nextPageToken: null, totalResults: 120 }) } })),
      start,
      stats,
    );
    assertEquals([last.cursor.phase, last.cursor.listing_done], ['plan', true]);

    const refused = apis({ data: { uploadsPage: () => Promise.reject(googleError(400, 'invalidPageToken')) } });
    const restarted = await listPage(contextOf(fx, refused), start, stats);
    assertEquals([restarted.cursor.page_token, restarted.cursor.listing_restarted], [null, true]);
    assertMatch(restarted.note ?? '', /^listing restarted from the first page: YouTubeApiError: /);
    await assert_.rejects(() => listPage(contextOf(fx, refused), { ...restarted.cursor, page_token: 'T9' }, stats), YouTubeApiError);
  },
});

Deno.test({
  name: 'fetchVideos: the pending videos are upserted stale in its write; the cursor continues the listing or plans',
  ...inProcess,
  async fn() {
    const fx = await fixture('tr-videos');
    const vids = ids(3).map((id, i) => video(id, 100 + i));
    const stats = parseStats({});
    const c = parseCursor({ phase: 'listing', pending_video_ids: vids.map((v) => v.youtubeVideoId), listing_done: true });
    const step = await fetchVideos(
      contextOf(fx, apis({ data: { videos: (i) => Promise.resolve(vids.filter((v) => i.includes(v.youtubeVideoId))) } })),
      c,
      stats,
    );
    assertEquals([step.cursor.phase, step.cursor.pending_video_ids], ['plan', []]);
    assertEquals(step.costMs, costOf.videos(3));
    assertEquals([stats.videos_listed, stats.videos_changed], [3, 0], 'nothing counted before the write');
    await commit(step);
    assertEquals(stats.videos_changed, 3);
    const [{ n }] = await withDb(
      (sql) => sql`select count(*)::int as n from public.videos where channel_id = ${fx.channel.id} and metrics_stale`,
    );
    assertEquals(n, 3);
    const more = await fetchVideos(
      contextOf(fx, apis({ data: { videos: () => Promise.resolve([]) } })),
      { ...c, listing_done: false },
      stats,
    );
    assertEquals(more.cursor.phase, 'listing');
  },
});

/** A channel with `n` stored stale videos published ten days ago. */
async function withStaleVideos(label: string, n: number) {
  const fx = await fixture(label);
  const vids = ids(n).map((id) => video(id, 10));
  const step = await fetchVideos(
    contextOf(fx, apis({ data: { videos: () => Promise.resolve(vids) } })),
    parseCursor({ phase: 'listing', pending_video_ids: vids.map((v) => v.youtubeVideoId), listing_done: true }),
    parseStats({}),
  );
  await commit(step);
  return { fx, vids };
}

Deno.test({
  name: 'planAnalytics: the reports are written to sync_runs.plan, the cursor keeps only their count and position',
  ...inProcess,
  async fn() {
    const { fx } = await withStaleVideos('tr-plan', 120);
    const stats = parseStats({});
    const step = await planAnalytics(contextOf(fx, apis()), parseCursor({ phase: 'plan' }), stats);
    assertEquals([step.cursor.phase, step.cursor.batch_index, step.cursor.batches_total], ['analytics', 0, 3]);
    assertOk(/^\d{4}-\d{2}-\d{2}$/.test(step.cursor.end_date ?? ''), String(step.cursor.end_date));
    assertEquals([stats.videos_planned, stats.videos_done], [120, 0]);
    assertEquals(JSON.stringify(step.cursor).length < 1000, true, 'the cursor stays small');
    await commit(step);
    const [{ plan }] = await withDb((sql) => sql`select plan from public.sync_runs where id = ${fx.run.id}`);
    assertEquals(
      plan.map((b: { ids: string[] }) => b.ids.length),
      [50, 50, 20],
    );
    assertEquals(plan[0].start < step.cursor.end_date!, true);

    const empty = await fixture('tr-plan-empty');
    const none = await planAnalytics(contextOf(empty, apis()), parseCursor({ phase: 'plan' }), parseStats({}));
    assertEquals([none.cursor.phase, none.cursor.batches_total], ['score', 0]);
  },
});

Deno.test({
  name: 'fetchReport: a full page keeps the report with the next start index; the last page stores rows, marks videos fresh, moves on',
  ...inProcess,
  async fn() {
    const { fx, vids } = await withStaleVideos('tr-report', 60);
    const plan = await planAnalytics(contextOf(fx, apis()), parseCursor({ phase: 'plan' }), parseStats({}));
    await commit(plan);
    const first = vids[0].youtubeVideoId;
    const rows = (n: number) =>
      Array.from({ length: n }, (_, d) => ({
        videoId: first,
        day: `2026-02-${String(d + 1).padStart(2, '0')}`,
        metrics: {
          views: 5,
          estimatedMinutesWatched: 1,
          averageViewDuration: 10,
          averageViewPercentage: 50,
          likes: 1,
          comments: 0,
          shares: 0,
          subscribersGained: 0,
          subscribersLost: 0,
        },
      }));
    const calls: { ids: string[]; startIndex?: number }[] = [];
    const pages: ReportPage[] = [
      { rows: rows(2), nextStartIndex: 3 },
      { rows: rows(4), nextStartIndex: null },
    ];
    const a = apis({
      analytics: { dailyByVideo: (i, _s, _e, startIndex) => (calls.push({ ids: i, startIndex }), Promise.resolve(pages.shift()!)) },
    });
    const stats = parseStats({});
    const partial = await fetchReport(contextOf(fx, a), plan.cursor, stats);
    assertEquals([partial.cursor.batch_index, partial.cursor.batch_start_index, partial.cursor.phase], [0, 3, 'analytics']);
    await commit(partial);
    const done = await fetchReport(contextOf(fx, a), partial.cursor, stats);
    assertEquals([done.cursor.batch_index, done.cursor.batch_start_index, done.cursor.phase], [1, 1, 'analytics']);
    await commit(done);
    assertEquals(
      calls.map((c) => [c.ids.length, c.startIndex]),
      [
        [50, 1],
        [50, 3],
      ],
    );
    assertEquals([stats.analytics_calls, stats.metric_rows, stats.videos_done], [2, 4, 50], 'rows already stored are not counted again');
    assertEquals(done.costMs, costOf.report(4));
    const [{ fresh }] = await withDb(
      (sql) => sql`select count(*)::int as fresh from public.videos where channel_id = ${fx.channel.id} and not metrics_stale`,
    );
    assertEquals(fresh, 50);
  },
});

Deno.test({
  name: 'fetchReport: a refused multi-video report splits the remaining reports into one per video, in its write',
  ...inProcess,
  async fn() {
    const { fx } = await withStaleVideos('tr-split', 120);
    const plan = await planAnalytics(contextOf(fx, apis()), parseCursor({ phase: 'plan' }), parseStats({}));
    await commit(plan);
    const at1 = { ...plan.cursor, batch_index: 1 };
    const a = apis({ analytics: { dailyByVideo: () => Promise.reject(googleError(400, 'badRequest')) } });
    const step = await fetchReport(contextOf(fx, a), at1, parseStats({}));
    assertEquals([step.cursor.analytics_mode, step.cursor.batch_index, step.cursor.batches_total], ['per_video', 1, 1 + 70]);
    assertMatch(step.note ?? '', /^analytics batch refused, per video from here: YouTubeApiError: /);
    await commit(step);
    const [{ plan: stored }] = await withDb((sql) => sql`select plan from public.sync_runs where id = ${fx.run.id}`);
    assertEquals(stored.length, 71);
    assertEquals(stored[0].ids.length, 50, 'the report already fetched stays as it was');
    assertEquals(
      stored.slice(1).every((b: { ids: string[] }) => b.ids.length === 1),
      true,
    );

    // A later page of a report is never split: the refusal is the API's answer to that report
    // (report 0 still holds its 50 videos).
    await assert_.rejects(
      () => fetchReport(contextOf(fx, a), { ...at1, batch_index: 0, analytics_mode: 'batch', batch_start_index: 3 }, parseStats({})),
      YouTubeApiError,
    );
  },
});

Deno.test({
  name: 'fetchReport: a cursor whose plan is missing goes back to plan (nothing fetched)',
  ...inProcess,
  async fn() {
    const fx = await fixture('tr-noplan');
    const step = await fetchReport(
      contextOf(fx, apis()),
      parseCursor({ phase: 'analytics', batches_total: 4, end_date: '2026-03-01' }),
      parseStats({}),
    );
    assertEquals([step.cursor.phase, step.write], ['plan', undefined]);
  },
});

Deno.test({
  name: 'scoreVideos: scores in its write and ends the run at done',
  ...inProcess,
  async fn() {
    const { fx } = await withStaleVideos('tr-score', 5);
    const stats = parseStats({});
    const step = await scoreVideos(contextOf(fx, apis()), parseCursor({ phase: 'score' }), stats);
    assertEquals(step.cursor.phase, 'done');
    await commit(step);
    assertEquals(stats.videos_scored, 0, 'no video has metrics yet');
    const [{ synced }] = await withDb(
      (sql) => sql`select last_synced_at is not null as synced from public.channels where id = ${fx.channel.id}`,
    );
    assertEquals(synced, true);
    await closeDb();
  },
});

Deno.test('classifyFailure: the outcome table', () => {
  const quota = new QuotaExhaustedError('videos.list', 'budget', {
    resetsAt: new Date('2030-01-01T08:00:00Z'),
    usedToday: 10_000,
    dailyBudget: 10_000,
    units: 1,
  });
  const q = classifyFailure(quota, 1);
  assertOk(
    q !== 'lease_lost' && q.release.status === 'waiting_quota' && q.release.until?.toISOString() === '2030-01-01T08:00:00.000Z',
    JSON.stringify(q),
  );
  assertEquals(classifyFailure(new LeaseLostError('r'), 1), 'lease_lost');
  for (const permanent of [googleError(404, 'playlistNotFound'), new SyncFailure('gone'), new ReauthRequiredError('invalid_grant')]) {
    const f = classifyFailure(permanent, 1);
    assertOk(f !== 'lease_lost' && f.release.status === 'failed' && !f.transient, `${permanent.name}: ${JSON.stringify(f)}`);
  }
  const transient = classifyFailure(new YouTubeTransientError('reports.query', '503', 90_000), 2);
  assertOk(
    transient !== 'lease_lost' && transient.release.status === 'queued' && transient.release.delaySeconds === 90 && transient.transient,
    JSON.stringify(transient),
  );
  const tooMany = classifyFailure(new Error('boom'), MAX_CONSECUTIVE_ERRORS);
  assertOk(tooMany !== 'lease_lost' && tooMany.release.status === 'failed' && tooMany.level === 'error', JSON.stringify(tooMany));
});

Deno.test('InvocationBudget: a step starts only while its worst case fits; the wall clock stops it too', () => {
  let now = 0;
  const budget = new InvocationBudget(200, 1000, () => now);
  assertEquals(budget.spent, COST_MS.invocation);
  assertEquals(budget.allows(200 - COST_MS.invocation), true);
  budget.spend(100);
  assertEquals(budget.allows(200 - COST_MS.invocation - 99), false);
  now = 1000;
  assertEquals(budget.allows(0), false);
  const analytics = worstCaseOf(parseCursor({ phase: 'analytics' }), parseStats({}));
  assertOk(analytics < CPU_BUDGET_MS - COST_MS.invocation, 'one full report always fits an invocation');
  assertEquals(worstCaseOf(parseCursor({ phase: 'listing', pending_video_ids: ['a', 'b'] }), parseStats({})), costOf.videos(2));
  assertEquals(worstCaseOf(parseCursor({ phase: 'plan' }), parseStats({ videos_total: 50_000 })), costOf.plan(50_000));
});

// Last in this file: the fixtures' runs are held for an hour so that no real worker takes them.
// Handed back here, finished, or they would fill the sync worker's chains
// (youtube_sync_chains_max()) for the rest of the suite, and no worker woken after this file (the
// browser tests' syncs) would get a run.
Deno.test({
  name: "the fixtures' runs are released",
  ...inProcess,
  async fn() {
    await withDb(
      (sql) => sql`
      update public.sync_runs set status = 'failed', last_error = 'a transitions test fixture', lease_owner = null,
        lease_expires_at = null, finished_at = now(), next_attempt_at = now()
      where lease_owner = 'transitions-test' and status = 'running'`,
    );
    const [{ held }] = await withDb(
      (sql) => sql`select count(*)::int as held from public.sync_runs where lease_owner = 'transitions-test' and status = 'running'`,
    );
    assertEquals(held, 0);
  },
});
