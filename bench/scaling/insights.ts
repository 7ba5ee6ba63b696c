// Insights of one workspace of N videos with a year of daily metrics: public.workspace_insights()
// as its owner (the insights function and content generation both run it under RLS). Fixture:
// one channel per 10,000 videos, 365 days of video_metrics per video (written through the
// totals triggers, as the sync writes them), a score per video and a weekly score history (the
// product scores after each sync; weekly keeps the fixture at a seventh of daily).
import { makeUser, asUser, baseline, load, requireFreeDisk, sample, timed, ROUNDS, type Point, type Sql } from './common.ts';

const DAYS = Number(process.env.SCALING_INSIGHTS_DAYS ?? 365);
const CHUNK_VIDEOS = 2_000;

async function fixture(sql: Sql, videos: number) {
  const email = `scaling-insights-${videos}@example.com`;
  const [existing] = await sql`
    select w.id, (select count(*)::int from public.videos v where v.workspace_id = w.id) as videos
    from auth.users u join public.workspaces w on w.created_by = u.id where u.email = ${email}`;
  if (existing && existing.videos === videos) {
    const [{ id: userId }] = await sql`select id from auth.users where email = ${email}`;
    return { userId: userId as string, workspaceId: existing.id as string, loadMs: 0 };
  }
  await requireFreeDisk(videos * DAYS * 200, `insights fixture of ${videos} videos`);
  const { userId, workspaceId } = await makeUser(sql, email);
  const channels = Math.max(1, Math.ceil(videos / 10_000));
  await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    select ${workspaceId}, 'UCsc' || substr(md5(${workspaceId}::text || c), 1, 18), 'Scaling ' || c
    from generate_series(1, ${channels}) c`;
  const [loadMs] = await timed(async () => {
    for (let from = 0; from < videos; from += CHUNK_VIDEOS) {
      const to = Math.min(videos, from + CHUNK_VIDEOS);
      await sql`
        with ch as (select id, row_number() over (order by id) - 1 as n from public.channels where workspace_id = ${workspaceId})
        insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short, view_count)
        select ${workspaceId}, ch.id, 'sc' || substr(md5(${workspaceId}::text), 1, 8) || i, 'Video number ' || i || repeat(' x', i % 40),
          now() - interval '400 days' + (i % 390) * interval '1 day' + (i % 24) * interval '1 hour', 20 + (i * 37) % 1800, i % 5 = 0, i * 11
        from generate_series(${from + 1}::int, ${to}::int) i join ch on ch.n = i % ${channels}`;
      await sql`
        insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched, average_view_duration,
          average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
        select v.workspace_id, v.id, current_date - d, (d * 37 + h) % 5000, ((d * 13) % 900) / 7.0, 31.5, 42.25,
          d % 50, d % 7, d % 3, d % 5, d % 2
        from (select id, workspace_id, hashtext(id::text) & 1023 as h from public.videos
              where workspace_id = ${workspaceId} and youtube_video_id like 'sc%'
                and substr(youtube_video_id, 11)::int between ${from + 1}::int and ${to}::int) v
        cross join generate_series(1, ${DAYS}) d`;
      await sql`
        insert into public.performance_scores (video_id, workspace_id, channel_id, score, components)
        select id, workspace_id, channel_id, (hashtext(id::text) & 65535) / 655.36, '{}'
        from public.videos where workspace_id = ${workspaceId} and substr(youtube_video_id, 11)::int between ${from + 1}::int and ${to}::int`;
      await sql`
        insert into public.performance_score_history (workspace_id, video_id, channel_id, scored_on, score)
        select workspace_id, id, channel_id, current_date - w * 7, ((hashtext(id::text) + w) & 65535) / 655.36
        from public.videos cross join generate_series(0, 51) w
        where workspace_id = ${workspaceId} and substr(youtube_video_id, 11)::int between ${from + 1}::int and ${to}::int`;
    }
  });
  await sql`vacuum analyze public.videos, public.video_metrics, public.performance_scores, public.performance_score_history`;
  return { userId, workspaceId, loadMs: Math.round(loadMs) };
}

export async function measureInsights(sql: Sql, videos: number): Promise<Point> {
  const { userId, workspaceId, loadMs } = await fixture(sql, videos);
  const as = asUser(sql, userId);
  const base = await baseline(sql);
  // Since 20261207000510 the read serves a stored document; the computation behind it (what every
  // read cost before, and what the first read after a write costs) is measured in the same run.
  const [{ stored }] = await sql`select to_regprocedure('public.workspace_insights_cached(uuid, uuid)') is not null as stored`;
  const fn = stored ? 'public.workspace_insights_cached' : 'public.workspace_insights';
  const insights = await sample(ROUNDS, () => as((tx) => tx`select ${tx.unsafe(fn)}(${workspaceId}, null) as doc`));
  const [row] = await as((tx) => tx`select jsonb_array_length(${tx.unsafe(fn)}(${workspaceId}, null) -> 'top_videos') as top`);
  const uncached = stored ? await sample(ROUNDS, () => as((tx) => tx`select public.workspace_insights(${workspaceId}, null) as doc`)) : null;
  return {
    size: videos,
    value: insights.p95,
    baseline_p95_ms: base,
    load_average: load(),
    details: { read: fn, insights_ms: insights, computation_ms_uncached: uncached, metric_rows: videos * DAYS, top_videos: row.top, fixture_load_ms: loadMs },
  };
}

/** Removes the fixtures of the given sizes (their workspaces cascade to every row). */
export async function dropInsights(sql: Sql, all: number[]) {
  for (const videos of all) {
    const email = `scaling-insights-${videos}@example.com`;
    await sql`delete from public.workspaces where created_by in (select id from auth.users where email = ${email})`;
    await sql`delete from auth.users where email = ${email}`;
  }
}
