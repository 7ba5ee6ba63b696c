// youtube-sync against the fake YouTube: "sync now" with its rate limit and roles, paging through
// a multi-page channel, incremental analytics, token refresh on 401, invalid_grant, quota
// deferral (our budget and Google's quotaExceeded), 30 % injected 5xx/429 ending identical to a
// clean sync, a run resumed after its time budget and after its worker was killed, a live
// invocation renewing its lease, the
// per-video analytics fallback, and a 4xx failing the run with the API's message.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
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
  type FakeChannel,
  fakeRequests,
  forgetSyncedData,
  queueRun,
  runById,
  snapshot,
  storedTokens,
  syncToEnd,
  syncWorkerProcess,
} from './helpers/youtube.ts';
import { addMember, callFunction, createWorkspace, personalWorkspace, signUp, stack, type TestUser, withDb } from './helpers/users.ts';

/** A user with a connected fake channel whose connect sync has finished. */
async function connectedChannel(videos: number, label: string): Promise<{ user: TestUser; channelId: string; fake: FakeChannel }> {
  const user = await signUp(label);
  const fake = await createFakeChannel(videos, label);
  const channelId = connectedId(await connectChannel(user, await personalWorkspace(user), fake.channelId));
  const run = await syncToEnd(channelId);
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  return { user, channelId, fake };
}

async function metricCount(channelId: string): Promise<number> {
  const [r] = await withDb(
    (sql) => sql<{ n: number }[]>`
    select count(*)::int as n from public.video_metrics m join public.videos v on v.id = m.video_id where v.channel_id = ${channelId}`,
  );
  return r.n;
}

Deno.test(
  'sync now: editors queue a run (202), a second within 5 minutes is 429 with Retry-After; viewers 403, outsiders 404',
  async () => {
    const owner = await signUp('sync-owner');
    const editor = await signUp('sync-editor');
    const viewer = await signUp('sync-viewer');
    const outsider = await signUp('sync-outsider');
    const ws = await createWorkspace(owner, 'Sync Team');
    await addMember(owner, ws, editor, 'editor');
    await addMember(owner, ws, viewer, 'viewer');
    const fake = await createFakeChannel(3, 'sync-now');
    const channelId = connectedId(await connectChannel(owner, ws, fake.channelId));
    await syncToEnd(channelId);
    const body = { channel_id: channelId };

    assertEquals((await viewer.call('youtube-sync', { method: 'POST', body })).status, 403);
    assertEquals((await outsider.call('youtube-sync', { method: 'POST', body })).status, 404);
    assertEquals((await callFunction(null, 'youtube-sync', { method: 'POST', body })).status, 401);
    assertEquals((await editor.call('youtube-sync', { method: 'POST', body: { channel_id: 'x' } })).status, 400);

    const first = await editor.call('youtube-sync', { method: 'POST', body });
    assertEquals(first.status, 202, JSON.stringify(first.body));
    assertEquals(first.body.run.trigger, 'manual');
    assertOk(['queued', 'running', 'succeeded'].includes(first.body.run.status), first.body.run.status);
    assertEquals(first.body.run.progress.phase !== undefined, true);

    const second = await owner.call('youtube-sync', { method: 'POST', body });
    assertEquals(second.status, 429, JSON.stringify(second.body));
    assertEquals(second.body.error.code, 'rate_limited');
    const retryAfter = Number(second.headers.get('retry-after'));
    assertOk(retryAfter > 0 && retryAfter <= 300, `Retry-After ${retryAfter}`);

    const run = await driveRun(first.body.run.id);
    assertEquals(run.status, 'succeeded');

    // Members read the runs with their progress; outsiders do not see the channel.
    const list = await viewer.call(`youtube-sync/runs?channel_id=${channelId}`);
    assertEquals(list.status, 200);
    assertEquals(
      list.body.runs.map((r: { trigger: string }) => r.trigger),
      ['manual', 'connect'],
    );
    assertEquals(list.body.runs[0].status, 'succeeded');
    assertEquals(list.body.runs[0].progress.phase, 'done');
    assertEquals(list.body.runs[0].progress.videos_listed, 3);
    assertEquals('cursor' in list.body.runs[0] || 'lease_owner' in list.body.runs[0], false);
    assertEquals((await outsider.call(`youtube-sync/runs?channel_id=${channelId}`)).status, 404);

    // The worker entry is for the service role only.
    assertEquals((await owner.call('youtube-sync/worker', { method: 'POST', body: {} })).status, 401);
    const worker = await callFunction(stack.serviceKey, 'youtube-sync/worker', {
      method: 'POST',
      body: { time_budget_ms: 0, run_id: crypto.randomUUID() },
    });
    assertEquals(worker.status, 200);
    assertEquals(worker.body.runs, []);
  },
);

Deno.test(
  'paging: every page of a 120-video channel, 50 per call, the minimum number of Data API calls; metrics for every day',
  async () => {
    const user = await signUp('sync-paging');
    const fake = await createFakeChannel(120, 'paging');
    const since = new Date();
    const channelId = connectedId(await connectChannel(user, await personalWorkspace(user), fake.channelId));
    const run = await syncToEnd(channelId);
    assertEquals(run.status, 'succeeded', JSON.stringify(run));

    const requests = await fakeRequests(since);
    const pages = dataCalls(requests, 'playlistItems');
    assertEquals(pages.length, 3);
    assertEquals(
      pages.map((p) => p.query.maxResults),
      ['50', '50', '50'],
    );
    assertEquals(
      pages.map((p) => p.query.playlistId),
      [fake.uploadsPlaylistId, fake.uploadsPlaylistId, fake.uploadsPlaylistId],
    );
    assertEquals(pages[0].query.pageToken, undefined);
    assertOk(
      pages[1].query.pageToken && pages[2].query.pageToken && pages[1].query.pageToken !== pages[2].query.pageToken,
      'page tokens chain',
    );
    const videoCalls = dataCalls(requests, 'videos');
    assertEquals(
      videoCalls.map((c) => String(c.query.id).split(',').length),
      [50, 50, 20],
    );
    assertEquals(videoCalls[0].query.part, 'snippet,contentDetails,statistics,status');
    // channels.list once at connect, once in the sync.
    assertEquals(dataCalls(requests, 'channels').length, 2);

    const [{ n: videos }] = await withDb(
      (sql) => sql<{ n: number }[]>`select count(*)::int as n from public.videos where channel_id = ${channelId}`,
    );
    assertEquals(videos, 120);
    assertEquals(await metricCount(channelId), await expectedMetricRows(fake.channelId));
    assertEquals(run.stats.quota_units, 7);
    const [{ units }] = await withDb(
      (sql) => sql<{ units: number }[]>`
    select coalesce(sum(units), 0)::int as units from public.youtube_quota_usage where workspace_id = (select workspace_id from public.channels where id = ${channelId})`,
    );
    assertEquals(units, 8, 'connect (1) + sync (1 + 3 + 3)');
    const analytics = analyticsCalls(requests);
    assertOk(analytics.length >= 1 && analytics.length <= 3, `${analytics.length} analytics calls`);
    assertEquals(analytics[0].query.dimensions, 'day,video');
    assertEquals(analytics[0].query.ids, 'channel==MINE');
    const [{ n: scored }] = await withDb(
      (sql) => sql<{ n: number }[]>`select count(*)::int as n from public.performance_scores where channel_id = ${channelId}`,
    );
    assertOk(scored > 100, `${scored} videos scored`);
  },
);

Deno.test('incremental: a second run fetches analytics only for videos whose statistics changed, from their last day minus 3', async () => {
  const { channelId } = await connectedChannel(60, 'incremental');
  const before = await metricCount(channelId);

  let since = new Date();
  assertEquals((await driveRun(await queueRun(channelId))).status, 'succeeded');
  let requests = await fakeRequests(since);
  assertEquals(analyticsCalls(requests).length, 0, 'nothing changed: no analytics');
  assertEquals(dataCalls(requests, 'playlistItems').length, 2);
  assertEquals(await metricCount(channelId), before);

  // One video's counts moved since the last sync.
  const [changed] = await withDb(
    (sql) => sql<{ youtube_video_id: string; last_day: string }[]>`
    update public.videos v set view_count = v.view_count - 1
    from (select id from public.videos where channel_id = ${channelId} and published_at < now() - interval '30 days' and view_count > 0
      order by youtube_video_id limit 1) pick
    where v.id = pick.id
    returning v.youtube_video_id, (select max(day)::text from public.video_metrics m where m.video_id = v.id) as last_day`,
  );
  since = new Date();
  assertEquals((await driveRun(await queueRun(channelId))).status, 'succeeded');
  requests = analyticsCalls(await fakeRequests(since));
  assertEquals(requests.length, 1);
  assertEquals(requests[0].query.filters, `video==${changed.youtube_video_id}`);
  const expectedStart = new Date(Date.parse(`${changed.last_day}T00:00:00Z`) - 3 * 86_400_000).toISOString().slice(0, 10);
  assertEquals(requests[0].query.startDate, expectedStart);
  assertEquals(await metricCount(channelId), before);
});

Deno.test('refresh on 401: an expired access token is refreshed and the call repeated', async () => {
  const { channelId } = await connectedChannel(3, 'refresh401');
  const before = (await storedTokens(channelId))!;
  await control('POST', 'youtube/tokens/expire-access', {});
  const since = new Date();
  const run = await driveRun(await queueRun(channelId));
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  assertOk(run.stats.token_refreshes >= 1, JSON.stringify(run.stats));

  const requests = await fakeRequests(since);
  const first = dataCalls(requests, 'channels')[0];
  assertEquals(first.status, 401);
  const refresh = requests.find((r) => r.path === '/oauth/token');
  assertOk(refresh && refresh.body.includes('grant_type=refresh_token'), 'a refresh grant was sent');
  assertEquals(dataCalls(requests, 'channels')[1].status, 200);
  const after = (await storedTokens(channelId))!;
  assertOk(after.access_token !== before.access_token, 'a new access token is stored');
  assertEquals(after.refresh_token, before.refresh_token, 'the refresh token is kept');
});

Deno.test('refresh ahead of expiry: a token with less than a minute left is refreshed before any call', async () => {
  const { channelId } = await connectedChannel(3, 'refreshahead');
  const before = (await storedTokens(channelId))!;
  await withDb(
    (sql) =>
      sql`update private.channel_credentials set access_token_expires_at = now() + interval '30 seconds' where channel_id = ${channelId}`,
  );
  const since = new Date();
  const run = await driveRun(await queueRun(channelId));
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  const requests = await fakeRequests(since);
  const refreshAt = requests.findIndex((r) => r.path === '/oauth/token');
  const firstCall = requests.findIndex((r) => r.path.startsWith('/youtube/'));
  assertOk(refreshAt >= 0 && refreshAt < firstCall, 'the refresh comes before the first API call');
  assertEquals(requests.filter((r) => r.status === 401).length, 0, 'no call was made with the old token');
  const after = (await storedTokens(channelId))!;
  assertOk(after.access_token !== before.access_token);
  assertOk(after.access_token_expires_at!.getTime() > Date.now() + 3000_000, 'the new expiry is stored');
});

Deno.test('invalid_grant: a revoked grant marks the channel reauth_required and fails the run', async () => {
  const { user, channelId } = await connectedChannel(3, 'invalidgrant');
  const tokens = (await storedTokens(channelId))!;
  await control('POST', 'youtube/tokens/revoke', { refresh_token: tokens.refresh_token });
  const run = await driveRun(await queueRun(channelId));
  assertEquals(run.status, 'failed');
  assertMatch(run.last_error ?? '', /invalid_grant.*reconnected/);
  const [channel] = await withDb((sql) => sql`select status from public.channels where id = ${channelId}`);
  assertEquals(channel.status, 'reauth_required');
  const again = await user.call('youtube-sync', { method: 'POST', body: { channel_id: channelId } });
  assertEquals(again.status, 409);
  assertEquals(again.body.error.code, 'channel_inactive');
});

Deno.test('quota: a call that would pass the daily budget is not made; the run waits for midnight Pacific', async () => {
  const { channelId } = await connectedChannel(60, 'quota');
  const [{ budget }] = await withDb((sql) => sql<{ budget: number }[]>`select units as budget from private.youtube_daily_budget`);
  try {
    const limit = await withDb(async (sql) => {
      const [{ used }] = await sql<{ used: number }[]>`
        select coalesce(sum(units), 0)::int as used from public.youtube_quota_usage where day = (now() at time zone 'America/Los_Angeles')::date`;
      // Room for channels.list and the first page only.
      await sql`update private.youtube_daily_budget set units = ${used + 2}`;
      return used + 2;
    });
    const since = new Date();
    const run = await driveRun(await queueRun(channelId));
    assertEquals(run.status, 'waiting_quota', JSON.stringify(run));
    const [{ reset }] = await withDb((sql) => sql<{ reset: Date }[]>`select private.next_youtube_quota_reset() as reset`);
    assertEquals(run.next_attempt_at?.toISOString(), reset.toISOString());
    assertMatch(run.last_error ?? '', /daily YouTube quota budget reached.*midnight Pacific/);
    assertEquals(run.lease_owner, null);
    const calls = (await fakeRequests(since, '/youtube/')).length;
    assertOk(calls <= 2, `${calls} Data API calls made`);
    const [{ used }] = await withDb(
      (sql) => sql<{ used: number }[]>`
      select coalesce(sum(units), 0)::int as used from public.youtube_quota_usage where day = (now() at time zone 'America/Los_Angeles')::date`,
    );
    assertOk(used <= limit, `spent ${used} of ${limit}`);
    // The worker leaves it alone until then.
    const worker = await callFunction(stack.serviceKey, 'youtube-sync/worker', { method: 'POST', body: { run_id: run.id } });
    assertEquals(worker.body.runs, []);
  } finally {
    await withDb((sql) => sql`update private.youtube_daily_budget set units = ${budget}`);
  }
});

Deno.test("quota: Google's quotaExceeded also makes the run wait for midnight Pacific", async () => {
  const { channelId } = await connectedChannel(3, 'gquota');
  const quota = await control('GET', 'youtube/quota');
  try {
    await control('POST', 'youtube/quota', { dailyLimit: 0 });
    const run = await driveRun(await queueRun(channelId));
    assertEquals(run.status, 'waiting_quota', JSON.stringify(run));
    assertMatch(run.last_error ?? '', /quotaExceeded.*midnight Pacific/);
    const [{ reset }] = await withDb((sql) => sql<{ reset: Date }[]>`select private.next_youtube_quota_reset() as reset`);
    assertEquals(run.next_attempt_at?.toISOString(), reset.toISOString());
  } finally {
    await control('POST', 'youtube/quota', { dailyLimit: quota.dailyLimit });
  }
});

Deno.test('30% injected 5xx/429 (and a dropped connection): the sync completes with exactly the rows of a clean sync', async () => {
  const { channelId } = await connectedChannel(120, 'faults');
  const clean = await snapshot(channelId);
  assertEquals(clean.videos.length, 120);
  await forgetSyncedData(channelId);
  assertEquals((await snapshot(channelId)).videos.length, 0);

  const api = { pathRegex: '^/youtube(-analytics)?/' };
  const ids = [
    await addFault({ match: api, failRate: 0.2, status: 503 }),
    // of the remaining 80 %, one in eight: 10 % of all requests
    await addFault({ match: api, failRate: 0.125, retryAfterSeconds: 1 }),
    await addFault({ match: { pathPrefix: '/youtube/youtube/v3/videos' }, drop: 'mid-body', times: 1 }),
  ];
  try {
    const run = await driveRun(await queueRun(channelId), { timeoutMs: 90_000 });
    assertEquals(run.status, 'succeeded', JSON.stringify(run));
    assertOk(run.stats.retries >= 3, `retries: ${run.stats.retries}`);
    const faults = (await control('GET', 'faults')).faults.filter((f: { id: string }) => ids.includes(f.id));
    const hits = faults.reduce((n: number, f: { hits: number }) => n + f.hits, 0);
    const matched = faults[0].matched;
    assertOk(hits >= 3, `${hits} faults fired`);
    assertOk(hits / matched >= 0.25, `${hits} of ${matched} requests failed`);
  } finally {
    await clearFaults();
  }
  const faulty = await snapshot(channelId);
  assertEquals(faulty.videos, clean.videos);
  assertEquals(faulty.metrics.length, clean.metrics.length);
  assertEquals(faulty.metrics, clean.metrics);
});

Deno.test('a run whose time budget runs out continues from its cursor, one step per claim, with the same rows', async () => {
  const { channelId } = await connectedChannel(120, 'budget');
  const clean = await snapshot(channelId);
  await forgetSyncedData(channelId);
  const since = new Date();
  const run = await driveRun(await queueRun(channelId), { timeBudgetMs: 0, timeoutMs: 90_000 });
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  assertOk(run.attempts >= run.stats.steps - 1, `${run.attempts} claims for ${run.stats.steps} steps`);
  const requests = await fakeRequests(since);
  assertEquals(dataCalls(requests, 'playlistItems').length, 3, 'no page fetched twice');
  assertEquals(dataCalls(requests, 'videos').length, 3);
  assertEquals(dataCalls(requests, 'channels').length, 1);
  assertEquals(await snapshot(channelId), clean);
});

Deno.test('a worker killed mid-run: the run is claimed again after its lease and resumes from its cursor, no duplicates', async () => {
  const { channelId } = await connectedChannel(120, 'killed');
  const clean = await snapshot(channelId);
  await forgetSyncedData(channelId);

  // The doomed worker claims the run (nobody else can take it while the lease lasts).
  const doomed = `doomed-${crypto.randomUUID()}`;
  const runId = await queueRun(channelId);
  const [claimed] = await withDb((sql) => sql`select id from private.claim_youtube_sync_run(${doomed}, 180, ${runId})`);
  assertEquals(claimed.id, runId);
  // Slow Data API answers so the kill lands between two pages.
  await addFault({ match: { pathPrefix: '/youtube/youtube/v3/' }, latencyMs: 300 });
  const child = syncWorkerProcess(runId, doomed);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = await runById(runId);
      if ((run.stats.pages ?? 0) >= 2) break;
      if (Date.now() > deadline || run.status !== 'running') throw new Error(`the doomed worker did not get going: ${JSON.stringify(run)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    await child.status;
  } finally {
    await clearFaults();
  }
  const dead = await runById(runId);
  assertEquals(dead.status, 'running');
  assertEquals(dead.lease_owner, doomed);
  assertOk(dead.cursor.page_token, 'the cursor holds the next page');
  const partial = await snapshot(channelId);
  assertOk(partial.videos.length < 120, `${partial.videos.length} videos before the crash`);

  // Its lease runs out (shortened here instead of waiting 3 minutes); any worker picks it up.
  await withDb((sql) => sql`update public.sync_runs set lease_expires_at = now(), next_attempt_at = now() where id = ${runId}`);
  const since = new Date();
  const run = await driveRun(runId);
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  assertEquals(run.attempts, 2);
  const requests = await fakeRequests(since);
  assertEquals(dataCalls(requests, 'channels').length, 0, 'not restarted from scratch');
  for (const page of dataCalls(requests, 'playlistItems')) assertOk(page.query.pageToken, 'only later pages are fetched');
  assertEquals(await snapshot(channelId), clean);
});

Deno.test("a live sync invocation renews its run's lease while a call takes longer than a quarter of the lease", async () => {
  const { channelId } = await connectedChannel(3, 'synclease');
  const runId = await queueRun(channelId);
  await addFault({ match: { pathPrefix: '/youtube/youtube/v3/' }, latencyMs: 12_000 });
  try {
    const step = callFunction(stack.serviceKey, 'youtube-sync/worker', { method: 'POST', body: { run_id: runId } });
    let claimed = await runById(runId);
    for (let i = 0; claimed.status !== 'running'; i++) {
      assertOk(i < 200, `the run was not claimed: ${JSON.stringify(claimed)}`);
      await new Promise((r) => setTimeout(r, 50));
      claimed = await runById(runId);
    }
    await new Promise((r) => setTimeout(r, 11_000));
    const later = await runById(runId);
    // Renewed after 10 s (a quarter of the 40 s lease) although no page was saved in between.
    assertOk(
      later.lease_expires_at!.getTime() - claimed.lease_expires_at!.getTime() >= 5_000,
      `lease ${claimed.lease_expires_at?.toISOString()} → ${later.lease_expires_at?.toISOString()}`,
    );
    assertEquals((await step).status, 200);
  } finally {
    await clearFaults();
  }
  assertEquals((await driveRun(runId)).status, 'succeeded');
});

Deno.test('a page token YouTube no longer accepts (resuming after a quota reset): the listing starts over once, same rows', async () => {
  const { channelId, fake } = await connectedChannel(120, 'pagetoken');
  const clean = await snapshot(channelId);
  await forgetSyncedData(channelId);
  // Only this channel's later pages (those sent with a page token).
  const laterPages = { pathPrefix: '/youtube/youtube/v3/playlistItems', query: { playlistId: fake.uploadsPlaylistId, pageToken: true } };
  const since = new Date();
  try {
    // Google's quota runs out at the second page: the run waits for the reset with that page's
    // token saved. It stops there whichever worker advances it (this test's calls, pg_cron's
    // wake-up, an invocation another run chained), so the test does not race them for the run.
    await addFault({ match: laterPages, status: 403, body: googleError(403, 'quotaExceeded', 'youtube.quota'), times: 1 });
    const runId = await queueRun(channelId);
    const paused = await driveRun(runId);
    assertEquals(paused.status, 'waiting_quota', JSON.stringify(paused));
    assertOk(paused.cursor.page_token, 'stopped with a saved page token');
    assertEquals(paused.cursor.pending_video_ids, [], 'the first page and its videos are stored');

    // The reset (brought forward here), and YouTube no longer accepts the saved token.
    await addFault({ match: laterPages, status: 400, body: googleError(400, 'invalidPageToken', 'youtube.parameter'), times: 1 });
    await withDb((sql) => sql`update public.sync_runs set next_attempt_at = now() where id = ${runId}`);
    await claimAfterQuotaReset(runId);
    const run = await driveRun(runId);
    assertEquals(run.status, 'succeeded', JSON.stringify(run));
    assertEquals(run.cursor.listing_restarted, true);
  } finally {
    await clearFaults();
  }
  const pages = dataCalls(await fakeRequests(since), 'playlistItems').filter((p) => p.query.playlistId === fake.uploadsPlaylistId);
  assertEquals(
    pages.map((p) => [p.status, p.query.pageToken === undefined]),
    [
      [200, true],
      [403, false],
      [400, false],
      [200, true],
      [200, false],
      [200, false],
    ],
  );
  assertEquals(await snapshot(channelId), clean);
});

/** A Google API error body (the shape the Data API answers with). */
function googleError(code: number, reason: string, domain: string) {
  const messages: Record<string, string> = {
    quotaExceeded: 'The request cannot be completed because you have exceeded your quota.',
    invalidPageToken: 'The request specifies an invalid page token.',
  };
  return { error: { code, message: messages[reason] ?? reason, errors: [{ reason, domain }] } };
}

/**
 * Calls the worker for a waiting_quota run that is due until some worker has claimed it (driveRun
 * stops at waiting_quota); pg_cron's wake-up may be the one that does.
 */
async function claimAfterQuotaReset(runId: string): Promise<void> {
  for (let i = 0; (await runById(runId)).status === 'waiting_quota'; i++) {
    assertOk(i < 20, 'the run was not claimed again after its quota reset');
    await callFunction(stack.serviceKey, 'youtube-sync/worker', { method: 'POST', body: { run_id: runId } });
  }
}

Deno.test('analytics: when the multi-video report is refused (400), the run continues one video per report', async () => {
  const { channelId, fake } = await connectedChannel(20, 'fallback');
  await forgetSyncedData(channelId);
  await addFault({
    match: { pathPrefix: '/youtube-analytics/v2/reports' },
    status: 400,
    body: {
      error: {
        code: 400,
        message: 'The query is not supported.',
        errors: [{ message: 'The query is not supported.', domain: 'global', reason: 'badRequest' }],
      },
    },
    times: 1,
  });
  const since = new Date();
  try {
    const run = await driveRun(await queueRun(channelId));
    assertEquals(run.status, 'succeeded', JSON.stringify(run));
    assertEquals(run.cursor.analytics_mode, 'per_video');
  } finally {
    await clearFaults();
  }
  const calls = analyticsCalls(await fakeRequests(since));
  assertEquals(calls.length, 21, 'one refused batch, then one report per video');
  assertEquals(
    calls.slice(1).every((c) => c.query.dimensions === 'day'),
    true,
  );
  assertEquals(await metricCount(channelId), await expectedMetricRows(fake.channelId));
});

Deno.test("a 4xx other than 401/429 fails the run at once with the API's message", async () => {
  const { channelId } = await connectedChannel(3, 'fourxx');
  await addFault({
    match: { pathPrefix: '/youtube/youtube/v3/playlistItems' },
    status: 404,
    body: {
      error: {
        code: 404,
        message: "The playlist identified with the request's playlistId parameter cannot be found.",
        errors: [{ reason: 'playlistNotFound', domain: 'youtube.playlistItem' }],
      },
    },
    times: 1,
  });
  const since = new Date();
  try {
    const run = await driveRun(await queueRun(channelId));
    assertEquals(run.status, 'failed');
    assertMatch(run.last_error ?? '', /playlistItems\.list failed with 404 playlistNotFound: The playlist identified/);
  } finally {
    await clearFaults();
  }
  assertEquals(dataCalls(await fakeRequests(since), 'playlistItems').length, 1, 'not retried');
});

Deno.test(
  'pg_cron: the daily job queues a run for every active channel and starts up to four chains; the wake job calls the worker only when runs are due',
  async () => {
    const jobs = await withDb(
      (sql) => sql<{ jobname: string; schedule: string; command: string }[]>`
    select jobname, schedule, command from cron.job where jobname like 'youtube-sync-%' order by jobname`,
    );
    assertEquals(
      jobs.map((j) => [j.jobname, j.schedule]),
      [
        ['youtube-sync-daily', '15 8 * * *'],
        ['youtube-sync-wake', '* * * * *'],
      ],
    );

    await withDb(async (sql) => {
      await sql
        .begin(async (tx) => {
          // Nothing due: no request is queued. (Leases of other tests' runs out too, so their
          // chains leave room for the ones the daily job starts.)
          await tx`update public.sync_runs set next_attempt_at = now() + interval '1 hour', lease_expires_at = now() - interval '1 second'
            where status in ('queued', 'running', 'waiting_quota')`;
          const [{ id: none }] = await tx`select private.wake_youtube_sync_worker() as id`;
          assertEquals(none, null);
          const [{ n: active }] = await tx`select count(*)::int as n from public.channels c where c.status = 'active'
        and not exists (select 1 from public.sync_runs r where r.channel_id = c.id and r.status in ('queued', 'running', 'waiting_quota'))`;
          const [{ queued }] = await tx`select private.queue_daily_youtube_syncs() as queued`;
          assertEquals(queued, active);
          // As many worker chains as runs are due, at most four (this transaction's calls only).
          const [{ calls }] = await tx`
            select count(*)::int as calls from net.http_request_queue
            where url like '%/youtube-sync/worker' and xmin::text::bigint = txid_current() % 4294967296`;
          assertEquals(calls, Math.min(4, active));
          const [request] = await tx`select url, headers from net.http_request_queue order by id desc limit 1`;
          assertEquals(request.url, `${Deno.env.get('SUPABASE_URL')}/functions/v1/youtube-sync/worker`);
          // The secret key in apikey alone when the project has one; the legacy key as a bearer otherwise.
          if (stack.serviceKey.startsWith('sb_')) {
            assertEquals([request.headers.apikey, request.headers.Authorization], [stack.serviceKey, undefined]);
          } else assertEquals(request.headers.Authorization, `Bearer ${stack.serviceKey}`);
          // Nothing of this is kept: the test's transaction rolls back.
          throw new RollbackForTest();
        })
        .catch((err) => {
          if (!(err instanceof RollbackForTest)) throw err;
        });
    });
  },
);

class RollbackForTest extends Error {}
