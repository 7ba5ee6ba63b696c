// The sync worker's reads and writes. Rows are upserted on their natural keys (videos by
// youtube_video_id, metrics by (video_id, day)), so repeating a step never duplicates anything;
// each step's rows commit together with the run's cursor, and only while this worker holds the
// run's lease.
import type { ChannelInfo, VideoDayRow, VideoInfo } from '../_shared/clients/youtube.ts';
import { asService, type Tx } from '../_shared/db.ts';
import type { Cursor, Stats } from './cursor.ts';
import type { StaleVideo } from './plan.ts';

export const LEASE_SECONDS = 180;

/** A JSON parameter (postgres.js serialises it once, as jsonb). */
function jsonb(tx: Tx, value: unknown) {
  return tx.json(value as Parameters<Tx['json']>[0]);
}

export interface SyncRun {
  id: string;
  workspace_id: string;
  channel_id: string;
  trigger: string;
  status: string;
  cursor: unknown;
  stats: unknown;
  attempts: number;
}

export interface ChannelRow {
  id: string;
  workspace_id: string;
  youtube_channel_id: string;
  status: string;
  uploads_playlist_id: string | null;
}

/** Another worker took the run over (our lease ran out), or it was cancelled: stop quietly. */
export class LeaseLostError extends Error {
  constructor(runId: string) {
    super(`sync run ${runId} is no longer leased to this worker`);
    this.name = 'LeaseLostError';
  }
}

export async function claimRun(workerId: string, onlyRun: string | null): Promise<SyncRun | null> {
  const [run] = await asService((tx) =>
    tx<SyncRun[]>`select * from public.claim_youtube_sync_run(${workerId}, ${LEASE_SECONDS}, ${onlyRun}::uuid)`
  );
  return run ?? null;
}

export async function loadChannel(channelId: string): Promise<ChannelRow | null> {
  const [row] = await asService((tx) =>
    tx<ChannelRow[]>`select id, workspace_id, youtube_channel_id, status, uploads_playlist_id from public.channels where id = ${channelId}`
  );
  return row ?? null;
}

export async function pacificToday(): Promise<string> {
  const [row] = await asService((tx) => tx<{ d: string }[]>`select ((now() at time zone 'America/Los_Angeles')::date)::text as d`);
  return row.d;
}

/** Runs `write` and saves the cursor in one transaction, if the run is still ours. */
export async function commitStep(run: SyncRun, workerId: string, cursor: Cursor, stats: Stats, write?: (tx: Tx) => Promise<void>) {
  await asService(async (tx) => {
    if (write) await write(tx);
    const saved = await tx`
      update public.sync_runs set cursor = ${jsonb(tx, cursor)}, stats = ${jsonb(tx, stats)},
        lease_expires_at = now() + make_interval(secs => ${LEASE_SECONDS}),
        next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS})
      where id = ${run.id} and lease_owner = ${workerId} and status = 'running'
      returning id`;
    if (saved.length === 0) throw new LeaseLostError(run.id);
  });
}

export type Release =
  | { status: 'queued'; delaySeconds: number; lastError: string | null }
  | { status: 'waiting_quota'; until: Date | null; lastError: string }
  | { status: 'succeeded' }
  | { status: 'failed'; lastError: string };

/** Hands the run back to the queue, or finishes it, if it is still ours. */
export async function releaseRun(run: SyncRun, workerId: string, cursor: Cursor, stats: Stats, release: Release): Promise<void> {
  await asService(async (tx) => {
    const c = jsonb(tx, cursor);
    const s = jsonb(tx, stats);
    let rows;
    switch (release.status) {
      case 'queued':
        rows = await tx`
          update public.sync_runs set status = 'queued', cursor = ${c}, stats = ${s}, last_error = ${release.lastError},
            next_attempt_at = now() + make_interval(secs => ${release.delaySeconds}), lease_owner = null, lease_expires_at = null
          where id = ${run.id} and lease_owner = ${workerId} and status = 'running' returning id`;
        break;
      case 'waiting_quota':
        rows = await tx`
          update public.sync_runs set status = 'waiting_quota', cursor = ${c}, stats = ${s}, last_error = ${release.lastError},
            next_attempt_at = coalesce(${release.until}::timestamptz, public.next_youtube_quota_reset()),
            lease_owner = null, lease_expires_at = null
          where id = ${run.id} and lease_owner = ${workerId} and status = 'running' returning id`;
        break;
      case 'succeeded':
        rows = await tx`
          update public.sync_runs set status = 'succeeded', cursor = ${c}, stats = ${s}, last_error = null,
            finished_at = now(), next_attempt_at = null, lease_owner = null, lease_expires_at = null
          where id = ${run.id} and lease_owner = ${workerId} and status = 'running' returning id`;
        break;
      case 'failed':
        rows = await tx`
          update public.sync_runs set status = 'failed', cursor = ${c}, stats = ${s}, last_error = ${release.lastError},
            finished_at = now(), next_attempt_at = null, lease_owner = null, lease_expires_at = null
          where id = ${run.id} and lease_owner = ${workerId} and status = 'running' returning id`;
        break;
    }
    if (rows.length === 0) throw new LeaseLostError(run.id);
  });
}

export async function updateChannel(tx: Tx, channelId: string, info: ChannelInfo): Promise<void> {
  await tx`
    update public.channels set title = ${info.title}, description = ${info.description},
      thumbnail_url = coalesce(${info.thumbnailUrl}, thumbnail_url), uploads_playlist_id = ${info.uploadsPlaylistId}
    where id = ${channelId}`;
}

/**
 * Upserts videos of the channel; a video becomes metrics_stale when it is new or its counts
 * changed. Returns how many are stale now among those given.
 */
export async function upsertVideos(tx: Tx, channel: ChannelRow, videos: VideoInfo[]): Promise<number> {
  if (videos.length === 0) return 0;
  const rows = videos.map((v) => ({
    youtube_video_id: v.youtubeVideoId,
    title: v.title,
    description: v.description,
    published_at: v.publishedAt,
    duration_seconds: v.durationSeconds,
    is_short: v.isShort,
    tags: v.tags,
    category_id: v.categoryId,
    privacy_status: v.privacyStatus,
    thumbnail_url: v.thumbnailUrl,
    view_count: v.viewCount,
    like_count: v.likeCount,
    comment_count: v.commentCount,
  }));
  const [r] = await tx<{ stale: number }[]>`
    with upserted as (
      insert into public.videos as v (workspace_id, channel_id, youtube_video_id, title, description, published_at,
        duration_seconds, is_short, tags, category_id, privacy_status, thumbnail_url, view_count, like_count, comment_count,
        metrics_stale)
      select ${channel.workspace_id}, ${channel.id}, i.youtube_video_id, i.title, i.description, i.published_at,
        i.duration_seconds, i.is_short, coalesce(i.tags, '{}'), i.category_id, i.privacy_status, i.thumbnail_url,
        i.view_count, i.like_count, i.comment_count, true
      from jsonb_to_recordset(${jsonb(tx, rows)}) as i(
        youtube_video_id text, title text, description text, published_at timestamptz, duration_seconds integer,
        is_short boolean, tags text[], category_id text, privacy_status text, thumbnail_url text,
        view_count bigint, like_count bigint, comment_count bigint)
      on conflict (youtube_video_id) do update set
        title = excluded.title, description = excluded.description, published_at = excluded.published_at,
        duration_seconds = excluded.duration_seconds, is_short = excluded.is_short, tags = excluded.tags,
        category_id = excluded.category_id, privacy_status = excluded.privacy_status,
        thumbnail_url = excluded.thumbnail_url, view_count = excluded.view_count, like_count = excluded.like_count,
        comment_count = excluded.comment_count,
        metrics_stale = v.metrics_stale
          or v.view_count is distinct from excluded.view_count
          or v.like_count is distinct from excluded.like_count
          or v.comment_count is distinct from excluded.comment_count
      -- a video id of another channel is never taken over
      where v.channel_id = excluded.channel_id
      returning v.metrics_stale
    )
    select count(*) filter (where metrics_stale)::int as stale from upserted`;
  return r.stale;
}

export async function staleVideos(channelId: string): Promise<StaleVideo[]> {
  return await asService((tx) =>
    tx<StaleVideo[]>`
      select v.youtube_video_id as "youtubeVideoId",
        ((v.published_at at time zone 'America/Los_Angeles')::date)::text as "publishedOn",
        (select max(m.day)::text from public.video_metrics m where m.video_id = v.id) as "lastMetricDay"
      from public.videos v
      where v.channel_id = ${channelId} and v.metrics_stale`
  );
}

/** Upserts daily rows (skipping rows that did not change) and returns how many were written. */
export async function upsertMetrics(tx: Tx, channel: ChannelRow, rows: VideoDayRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const payload = rows.map((r) => [
    r.videoId,
    r.day,
    r.metrics.views,
    r.metrics.estimatedMinutesWatched,
    r.metrics.averageViewDuration,
    r.metrics.averageViewPercentage,
    r.metrics.likes,
    r.metrics.comments,
    r.metrics.shares,
    r.metrics.subscribersGained,
    r.metrics.subscribersLost,
  ]);
  const result = await tx`
    insert into public.video_metrics as m (workspace_id, video_id, day, views, estimated_minutes_watched,
      average_view_duration, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
    select v.workspace_id, v.id, (r ->> 1)::date,
      greatest(0, (r ->> 2)::numeric)::bigint, greatest(0, (r ->> 3)::numeric), greatest(0, (r ->> 4)::numeric),
      greatest(0, (r ->> 5)::numeric), greatest(0, (r ->> 6)::numeric)::bigint, greatest(0, (r ->> 7)::numeric)::bigint,
      greatest(0, (r ->> 8)::numeric)::bigint, greatest(0, (r ->> 9)::numeric)::bigint, greatest(0, (r ->> 10)::numeric)::bigint
    from jsonb_array_elements(${jsonb(tx, payload)}) as r
    join public.videos v on v.youtube_video_id = (r ->> 0) and v.channel_id = ${channel.id}
    on conflict (video_id, day) do update set
      views = excluded.views, estimated_minutes_watched = excluded.estimated_minutes_watched,
      average_view_duration = excluded.average_view_duration, average_view_percentage = excluded.average_view_percentage,
      likes = excluded.likes, comments = excluded.comments, shares = excluded.shares,
      subscribers_gained = excluded.subscribers_gained, subscribers_lost = excluded.subscribers_lost
    where (m.views, m.estimated_minutes_watched, m.average_view_duration, m.average_view_percentage, m.likes, m.comments,
           m.shares, m.subscribers_gained, m.subscribers_lost)
      is distinct from
          (excluded.views, excluded.estimated_minutes_watched, excluded.average_view_duration,
           excluded.average_view_percentage, excluded.likes, excluded.comments, excluded.shares,
           excluded.subscribers_gained, excluded.subscribers_lost)`;
  return result.count;
}

export async function markMetricsFresh(tx: Tx, channelId: string, youtubeVideoIds: string[]): Promise<void> {
  await tx`update public.videos set metrics_stale = false where channel_id = ${channelId} and youtube_video_id = any(${youtubeVideoIds}::text[])`;
}

export async function scoreChannel(tx: Tx, channelId: string): Promise<number> {
  const [r] = await tx<{ scored: number }[]>`select public.score_channel_videos(${channelId}) as scored`;
  await tx`update public.channels set last_synced_at = now() where id = ${channelId}`;
  return r.scored;
}
