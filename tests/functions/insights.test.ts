// The insights function against a running stack: figures for a workspace whose channel data was
// written straight into the database (as the sync worker would), the channel filter, and tenant
// isolation (another user gets 404 for the workspace, never its figures).
import { assertEquals, assertOk } from './assert.ts';
import { callFunction, signUp, withDb, type TestUser } from './helpers/users.ts';

// Fixed dates in the past, so the figures do not depend on the day the test runs.
// Channel X: 12 videos published 2026-04-02 .. 2026-04-13 at 15:00 UTC. Each has one launch row
// on its publish day (views 1000 * k, outside both periods, so it only shapes the scores), then
// a row every day of 2026-05-06 .. 2026-06-30 (56 days; D = 2026-06-30):
//   previous period 05-06 .. 06-02: views 10, minutes 20, likes 1, comments 1, subs +1 per day
//   current period  06-03 .. 06-30: views 15, minutes 10, likes 2, comments 1, subs -1 per day
// Hand-computed totals for X (12 videos x 28 days):
//   views 3360 -> 5040 (+50.0 %), watch minutes 6720 -> 3360 (-50.0 %), likes 336 -> 672 (+100.0 %),
//   comments 336 -> 336 (0.0 %), subscribers net 336 -> -336 (-200.0 %)
// Channel Y (same workspace): one video with 100 views a day in the current period only, so the
// whole workspace has views 3360 -> 5040 + 2800 = 7840 (+133.3 %).
const VIDEOS = 12;

interface Seeded {
  workspaceId: string;
  channelX: string;
  channelY: string;
}

async function seed(owner: TestUser): Promise<Seeded> {
  const tag = crypto.randomUUID().replaceAll('-', '').slice(0, 16);
  return await withDb(async (sql) => {
    const [{ workspace_id }] = await sql<{ workspace_id: string }[]>`
      select m.workspace_id from public.workspace_members m
      join public.workspaces w on w.id = m.workspace_id and w.personal
      where m.user_id = ${owner.id}`;
    const [x] = await sql<{ id: string }[]>`
      insert into public.channels (workspace_id, youtube_channel_id, title)
      values (${workspace_id}, ${'UCx' + tag}, 'Channel X') returning id`;
    const [y] = await sql<{ id: string }[]>`
      insert into public.channels (workspace_id, youtube_channel_id, title)
      values (${workspace_id}, ${'UCy' + tag}, 'Channel Y') returning id`;
    // k 1-4: 30 s Shorts; 5-8: 4 min; 9-10: 10 min; 11-12: 20 min (all long-form).
    await sql`
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
      select ${workspace_id}, ${x.id}, ${'vx' + tag} || k, 'Video ' || k,
        timestamptz '2026-04-01 15:00:00Z' + k * interval '1 day',
        case when k <= 4 then 30 when k <= 8 then 240 when k <= 10 then 600 else 1200 end,
        k <= 4
      from generate_series(1, ${VIDEOS}) as k`;
    await sql`
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
      values (${workspace_id}, ${y.id}, ${'vy' + tag}, 'Lone video on Y', '2026-05-01 15:00:00Z', 300, false)`;
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
        average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
      select v.workspace_id, v.id, (v.published_at at time zone 'UTC')::date,
        1000 * split_part(v.title, ' ', 2)::int, 500, 40, 10, 2, 1, 3, 0
      from public.videos v where v.channel_id = ${x.id}`;
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
        average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
      select v.workspace_id, v.id, d::date,
        case when d < '2026-06-03' then 10 else 15 end,
        case when d < '2026-06-03' then 20 else 10 end,
        45,
        case when d < '2026-06-03' then 1 else 2 end,
        1, 0,
        case when d < '2026-06-03' then 1 else 0 end,
        case when d < '2026-06-03' then 0 else 1 end
      from public.videos v cross join generate_series(date '2026-05-06', date '2026-06-30', interval '1 day') as d
      where v.channel_id = ${x.id}`;
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
        average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
      select v.workspace_id, v.id, d::date, 100, 0, 50, 0, 0, 0, 0, 0
      from public.videos v cross join generate_series(date '2026-06-03', date '2026-06-30', interval '1 day') as d
      where v.channel_id = ${y.id}`;
    await sql`select private.score_channel_videos(${x.id}), private.score_channel_videos(${y.id})`;
    // An older week of history for "score over time": every X video at 40 two weeks ago.
    await sql`
      insert into public.performance_score_history (workspace_id, video_id, channel_id, scored_on, score)
      select v.workspace_id, v.id, v.channel_id, (now() at time zone 'UTC')::date - 14, 40
      from public.videos v where v.channel_id = ${x.id}`;
    return { workspaceId: workspace_id, channelX: x.id, channelY: y.id };
  });
}

async function cleanUp(seeded: Seeded) {
  await withDb((sql) => sql`delete from public.channels where id in (${seeded.channelX}, ${seeded.channelY})`);
}

// Figures are rounded to 2 decimals in SQL (numeric); the reference here is a float.
function assertNear(actual: number, expected: number) {
  assertOk(Math.abs(actual - expected) <= 0.005 + 1e-9, `${actual} is not ${expected} rounded to 2 decimals`);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

Deno.test('insights: totals, top videos, score over time and patterns of a channel; other users get 404', async () => {
  const alice = await signUp('insights-a');
  const bob = await signUp('insights-b');
  const seeded = await seed(alice);
  try {
    const res = await alice.call(`insights?workspace_id=${seeded.workspaceId}&channel_id=${seeded.channelX}`);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    const ins = res.body.insights;

    assertEquals(ins.as_of, '2026-06-30');
    assertEquals(ins.periods, {
      current: { from: '2026-06-03', to: '2026-06-30' },
      previous: { from: '2026-05-06', to: '2026-06-02' },
    });
    assertEquals(ins.totals.views, { current: 5040, previous: 3360, change_pct: 50 });
    assertEquals(ins.totals.watch_minutes, { current: 3360, previous: 6720, change_pct: -50 });
    assertEquals(ins.totals.likes, { current: 672, previous: 336, change_pct: 100 });
    assertEquals(ins.totals.comments, { current: 336, previous: 336, change_pct: 0 });
    assertEquals(ins.totals.subscribers_net, { current: -336, previous: 336, change_pct: -200 });
    assertEquals(
      ins.channels.map((c: { id: string }) => c.id),
      [seeded.channelX],
    );

    // Top videos: the ten best scores of X, best first, each with the components that explain it.
    const scores = await withDb(
      (sql) => sql<{ youtube_video_id: string; score: string; is_short: boolean; duration_seconds: number }[]>`
      select v.youtube_video_id, s.score, v.is_short, v.duration_seconds
      from public.performance_scores s join public.videos v on v.id = s.video_id
      where s.channel_id = ${seeded.channelX}`,
    );
    assertEquals(scores.length, VIDEOS);
    const expectedTop = scores
      .map((s) => Number(s.score))
      .sort((a, b) => b - a)
      .slice(0, 10);
    assertEquals(
      ins.top_videos.map((v: { score: number }) => v.score),
      expectedTop,
    );
    for (const v of ins.top_videos) {
      assertEquals(v.channel_id, seeded.channelX);
      assertEquals(v.components.comparison, 'mature');
      assertEquals(v.components.peers, VIDEOS);
      for (const part of ['velocity', 'retention', 'engagement', 'subscriber_conversion']) {
        assertOk(typeof v.components[part].percentile === 'number', `${part} percentile present`);
      }
    }
    // launch-day views 1000 * k (plus 10 a day for the days of 05-06.. that fall in a video's
    // first 28 days, more for larger k): velocity ranks by k, percentile (k - 1) / 11
    for (const v of ins.top_videos) {
      const k = Number(v.title.split(' ')[1]);
      assertEquals(v.components.velocity.percentile, Math.round(((k - 1) / 11) * 10000) / 100, v.title);
    }

    // Score over time: the week of the older history rows averages 40; this week holds all 12.
    assertEquals(ins.score_over_time.length, 2);
    assertEquals(ins.score_over_time[0].average_score, 40);
    assertEquals(ins.score_over_time[0].videos, VIDEOS);
    assertEquals(ins.score_over_time[1].videos, VIDEOS);
    const mean = scores.reduce((sum, s) => sum + Number(s.score), 0) / VIDEOS;
    assertNear(ins.score_over_time[1].average_score, mean);

    // Patterns: buckets with their counts, and medians that match the stored scores.
    const fmt = ins.patterns.format;
    assertEquals(
      fmt.buckets.map((b: { bucket: string; videos: number }) => [b.bucket, b.videos]),
      [
        ['short', 4],
        ['long_form', 8],
      ],
    );
    const shortMedian = median(scores.filter((s) => s.is_short).map((s) => Number(s.score)));
    const longMedian = median(scores.filter((s) => !s.is_short).map((s) => Number(s.score)));
    assertNear(fmt.buckets[0].median_score, shortMedian);
    assertNear(fmt.buckets[1].median_score, longMedian);
    assertEquals(fmt.best, shortMedian > longMedian ? 'short' : 'long_form');
    assertEquals(
      ins.patterns.duration.buckets.map((b: { bucket: string; videos: number }) => [b.bucket, b.videos]),
      [
        ['<60s', 4],
        ['1-5min', 4],
        ['5-15min', 2],
        ['>15min', 2],
      ],
    );
    // only the two buckets with at least 3 videos can be "best"
    assertOk(['<60s', '1-5min'].includes(ins.patterns.duration.best), ins.patterns.duration.best);
    assertEquals(ins.time_zone, 'UTC');
    assertEquals(
      ins.patterns.publish_hour.buckets.map((b: { bucket: string; videos: number }) => [b.bucket, b.videos]),
      [['15', VIDEOS]],
    );
    assertEquals(ins.patterns.publish_hour.best, '15');
    assertEquals(
      ins.patterns.publish_weekday.buckets.reduce((n: number, b: { videos: number }) => n + b.videos, 0),
      VIDEOS,
    );
    assertEquals(
      ins.patterns.title_length.buckets.map((b: { bucket: string; videos: number }) => [b.bucket, b.videos]),
      [['<=30', VIDEOS]],
    );

    // The whole workspace adds channel Y.
    const all = await alice.call(`insights?workspace_id=${seeded.workspaceId}`);
    assertEquals(all.status, 200);
    assertEquals(all.body.insights.totals.views, { current: 7840, previous: 3360, change_pct: 133.3 });
    assertEquals(all.body.insights.channels.length, 2);
    assertEquals(all.body.insights.top_videos.length, 10);

    // Another user: the workspace does not exist for them, with or without the channel.
    const bobs = await bob.call(`insights?workspace_id=${seeded.workspaceId}`);
    assertEquals(bobs.status, 404);
    assertEquals(bobs.body.error.code, 'not_found');
    assertEquals(JSON.stringify(bobs.body).includes('5040'), false);
    assertEquals((await bob.call(`insights?workspace_id=${seeded.workspaceId}&channel_id=${seeded.channelX}`)).status, 404);
    // ... and a channel of Alice's workspace asked for under Bob's own workspace is not found either.
    const bobWorkspace = await withDb(
      async (sql) =>
        (await sql<{ workspace_id: string }[]>`select workspace_id from public.workspace_members where user_id = ${bob.id}`)[0]
          .workspace_id,
    );
    const crossed = await bob.call(`insights?workspace_id=${bobWorkspace}&channel_id=${seeded.channelX}`);
    assertEquals(crossed.status, 404);
    assertEquals(crossed.body.error.message, 'channel not found in this workspace');

    // Bob's own, empty workspace answers with empty figures rather than an error.
    const empty = await bob.call(`insights?workspace_id=${bobWorkspace}`);
    assertEquals(empty.status, 200);
    assertEquals(empty.body.insights.as_of, null);
    assertEquals(empty.body.insights.top_videos, []);
    assertEquals(empty.body.insights.totals.views, { current: 0, previous: 0, change_pct: null });
  } finally {
    await cleanUp(seeded);
  }
});

Deno.test('insights: bad input is a 400 naming the field; no token is a 401', async () => {
  const alice = await signUp('insights-input');
  const bad = await alice.call('insights?workspace_id=not-a-uuid');
  assertEquals(bad.status, 400);
  assertEquals(
    bad.body.error.details.map((d: { path: string }) => d.path),
    ['workspace_id'],
  );
  const missing = await alice.call('insights');
  assertEquals(missing.status, 400);
  const unknown = await alice.call(`insights?workspace_id=${crypto.randomUUID()}&limit=5`);
  assertEquals(unknown.status, 400);
  assertEquals((await callFunction(null, `insights?workspace_id=${crypto.randomUUID()}`)).status, 401);
});
