// Insights of one workspace of N videos with a year of daily metrics: public.workspace_insights()
// as its owner (the insights function and content generation both run it under RLS). Fixture:
// one channel per 10,000 videos, 365 days of video_metrics per video (with the per-video totals
// the sync's triggers keep), a score per video and a weekly score history (the product scores
// after each sync; weekly keeps the fixture at a seventh of daily).
import type postgres from 'postgres';
import { stats } from '../lib.ts';
import { makeUser, asUser, baseline, load, requireFreeDisk, sample, timed, ROUNDS, type Point, type Sql } from './common.ts';

const DAYS = Number(process.env.SCALING_INSIGHTS_DAYS ?? 365);
const CHUNK_VIDEOS = 2_000;

/**
 * Videos [first, last] of the fixture with their year of metrics, scores and score history. Scores,
 * metrics and score history (418 rows per video) are written with triggers and foreign-key checks
 * off (session_replication_role = replica, this transaction only): per row they cost more than the
 * insert, and the 10,000-video fixture took 325 s with them. What insights reads of the skipped
 * triggers' work is written set-based after: the per-video totals (as
 * private.video_metrics_apply_to_totals adds them) and one bump of the workspace's cache version.
 * The rows are valid by construction (every video_id is a video of this workspace).
 */
async function loadChunk(sql: Sql, workspaceId: string, channels: number, first: number, last: number) {
  const inChunk = (tx: postgres.TransactionSql) => tx`workspace_id = ${workspaceId} and youtube_video_id like 'sc%'
    and substr(youtube_video_id, 11)::int between ${first}::int and ${last}::int`;
  await sql.begin(async (tx) => {
    await tx`
      with ch as (select id, row_number() over (order by id) - 1 as n from public.channels where workspace_id = ${workspaceId})
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short, view_count)
      select ${workspaceId}, ch.id, 'sc' || substr(md5(${workspaceId}::text), 1, 8) || i, 'Video number ' || i || repeat(' x', i % 40),
        now() - interval '400 days' + (i % 390) * interval '1 day' + (i % 24) * interval '1 hour', 20 + (i * 37) % 1800, i % 5 = 0, i * 11
      from generate_series(${first}::int, ${last}::int) i join ch on ch.n = i % ${channels}`;
    await tx`set local session_replication_role = replica`;
    // Also without the scores' trigger, which records the channel's video outcomes (not read by
    // insights) over the whole channel at every chunk: 60 of a chunk's 95 s at 60,000 videos.
    await tx`
      insert into public.performance_scores (video_id, workspace_id, channel_id, score, components)
      select id, workspace_id, channel_id, (hashtext(id::text) & 65535) / 655.36, '{}'
      from public.videos where ${inChunk(tx)}`;
    await tx`
      insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched, average_view_duration,
        average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
      select v.workspace_id, v.id, current_date - d, (d * 37 + h) % 5000, ((d * 13) % 900) / 7.0, 31.5, 42.25,
        d % 50, d % 7, d % 3, d % 5, d % 2
      from (select id, workspace_id, hashtext(id::text) & 1023 as h from public.videos where ${inChunk(tx)}) v
      cross join generate_series(1, ${DAYS}) d`;
    await tx`
      insert into public.performance_score_history (workspace_id, video_id, channel_id, scored_on, score)
      select workspace_id, id, channel_id, current_date - w * 7, ((hashtext(id::text) + w) & 65535) / 655.36
      from public.videos cross join generate_series(0, 51) w
      where ${inChunk(tx)}`;
    await tx`set local session_replication_role = origin`;
    await tx`
      insert into private.video_metric_totals (video_id, views, views_first_28_days, weighted_view_percentage, interactions, subscribers_net, last_day)
      select m.video_id, sum(m.views),
        coalesce(sum(m.views) filter (where m.day between private.publish_day(v.published_at) and private.publish_day(v.published_at) + 27), 0),
        sum(m.average_view_percentage * m.views), sum(m.likes + m.comments + m.shares),
        sum(m.subscribers_gained - m.subscribers_lost), max(m.day)
      from public.videos v join public.video_metrics m on m.video_id = v.id
      where v.workspace_id = ${workspaceId} and v.youtube_video_id like 'sc%'
        and substr(v.youtube_video_id, 11)::int between ${first}::int and ${last}::int
      group by m.video_id order by m.video_id`;
    await tx`
      insert into ops.cache_versions as c (scope, version, bumped_at) values (${workspaceId}::text, 1, now())
      on conflict (scope) do update set version = c.version + 1, bumped_at = now()`;
  });
}

async function userOf(sql: Sql, email: string, workspaceId: string) {
  const [{ id }] = await sql`select id from auth.users where email = ${email}`;
  return { userId: id as string, workspaceId };
}

async function fixture(sql: Sql, videos: number) {
  const email = `scaling-insights-${videos}@example.com`;
  const [existing] = await sql`
    select w.id, (select count(*)::int from public.videos v where v.workspace_id = w.id) as videos
    from auth.users u join public.workspaces w on w.created_by = u.id where u.email = ${email}`;
  if (existing && existing.videos === videos) {
    const [{ id: userId }] = await sql`select id from auth.users where email = ${email}`;
    return { userId: userId as string, workspaceId: existing.id as string, loadMs: 0, resumedFrom: videos };
  }
  await requireFreeDisk(videos * DAYS * 200, `insights fixture of ${videos} videos`);
  const channels = Math.max(1, Math.ceil(videos / 10_000));
  // Chunks commit one by one, so an interrupted load of a large fixture resumes where it stopped.
  const resumeFrom = existing && existing.videos < videos && existing.videos % CHUNK_VIDEOS === 0 ? (existing.videos as number) : 0;
  const { userId, workspaceId } = resumeFrom ? await userOf(sql, email, existing.id) : await makeUser(sql, email);
  if (!resumeFrom)
    await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    select ${workspaceId}, 'UCsc' || substr(md5(${workspaceId}::text || c), 1, 18), 'Scaling ' || c
    from generate_series(1, ${channels}) c`;
  const [loadMs] = await timed(async () => {
    for (let from = resumeFrom; from < videos; from += CHUNK_VIDEOS)
      await loadChunk(sql, workspaceId, channels, from + 1, Math.min(videos, from + CHUNK_VIDEOS));
  });
  await sql`vacuum analyze public.videos, public.video_metrics, public.performance_scores, public.performance_score_history`;
  return { userId, workspaceId, loadMs: Math.round(loadMs), resumedFrom: resumeFrom };
}

const WRITE_ROUNDS = Number(process.env.SCALING_INSIGHTS_WRITE_ROUNDS ?? 5);

/**
 * A member's read right after a write behind the document, as during a sync (which upserts
 * video_metrics at every step for as long as it runs): one day of one video's metrics, then the
 * read, timed alone. Without a bound this is the whole computation each time.
 */
async function readsAfterWrites(sql: Sql, as: ReturnType<typeof asUser>, workspaceId: string) {
  const [{ id: videoId }] = await sql`select id from public.videos where workspace_id = ${workspaceId} order by id limit 1`;
  const runs: number[] = [];
  for (let i = 0; i <= WRITE_ROUNDS; i++) {
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views) values (${workspaceId}, ${videoId}, current_date, ${i})
      on conflict (video_id, day) do update set views = excluded.views`;
    const [ms] = await timed(() => as((tx) => tx`select public.workspace_insights_cached(${workspaceId}, null) as doc`));
    if (i > 0) runs.push(ms); // the first stores the document the others are read against
  }
  return stats(runs);
}

export async function measureInsights(sql: Sql, videos: number): Promise<Point> {
  const { userId, workspaceId, loadMs, resumedFrom } = await fixture(sql, videos);
  const as = asUser(sql, userId);
  const base = await baseline(sql);
  // Since 20261207000510 the read serves a stored document; the computation behind it (what every
  // read cost before, and what the first read after a write costs) is measured in the same run.
  const [{ stored }] = await sql`select to_regprocedure('public.workspace_insights_cached(uuid, uuid)') is not null as stored`;
  const fn = stored ? 'public.workspace_insights_cached' : 'public.workspace_insights';
  const insights = await sample(ROUNDS, () => as((tx) => tx`select ${tx.unsafe(fn)}(${workspaceId}, null) as doc`));
  const [row] = await as((tx) => tx`select jsonb_array_length(${tx.unsafe(fn)}(${workspaceId}, null) -> 'top_videos') as top`);
  const uncached = stored
    ? await sample(ROUNDS, () => as((tx) => tx`select public.workspace_insights(${workspaceId}, null) as doc`))
    : null;
  const afterWrite = stored ? await readsAfterWrites(sql, as, workspaceId) : null;
  return {
    size: videos,
    value: insights.p95,
    baseline_p95_ms: base,
    load_average: load(),
    details: {
      read: fn,
      insights_ms: insights,
      computation_ms_uncached: uncached,
      read_after_write_ms: afterWrite,
      metric_rows: videos * DAYS,
      top_videos: row.top,
      fixture_load_ms: loadMs,
      fixture_loaded_from: resumedFrom,
    },
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
