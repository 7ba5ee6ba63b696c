// The sync worker's reads and writes. Rows are upserted on their natural keys (videos by
// youtube_video_id, metrics by (video_id, day)), so repeating a step never duplicates anything;
// each step's rows commit together with the run's cursor, and only while this worker holds the
// run's lease.
import type { VideoDayRow } from '../_shared/integrations/youtube/analytics-client.ts';
import type { ChannelInfo, VideoInfo } from '../_shared/integrations/youtube/data-api-client.ts';
import { asService, type Tx } from '../_shared/platform/db.ts';
import type { AnalyticsBatch, Cursor, Stats } from './cursor.ts';
import type { StaleVideo } from './plan.ts';

/** Renewed every quarter while an invocation works on the run (_shared/platform/lease-keeper.ts). */
export const LEASE_SECONDS = 40;

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

const RUN_COLUMNS = 'id, workspace_id, channel_id, trigger, status, cursor, stats, attempts';

export async function claimRun(workerId: string, onlyRun: string | null): Promise<SyncRun | null> {
  const [run] = await asService(
    (tx) =>
      tx<SyncRun[]>`select ${tx.unsafe(RUN_COLUMNS)} from private.claim_youtube_sync_run(${workerId}, ${LEASE_SECONDS}, ${onlyRun}::uuid)`,
  );
  return run ?? null;
}

/** Extends this worker's lease on a run it still works on: 'ok' or 'lease_lost'. */
export async function renewLease(runId: string, workerId: string): Promise<string> {
  const [r] = await asService(
    (tx) => tx<{ outcome: string }[]>`select private.renew_youtube_sync_lease(${runId}, ${workerId}, ${LEASE_SECONDS}) as outcome`,
  );
  return r.outcome;
}

export async function loadChannel(channelId: string): Promise<ChannelRow | null> {
  const [row] = await asService(
    (tx) =>
      tx<
        ChannelRow[]
      >`select id, workspace_id, youtube_channel_id, status, uploads_playlist_id from public.channels where id = ${channelId}`,
  );
  return row ?? null;
}

export async function pacificToday(): Promise<string> {
  const [row] = await asService((tx) => tx<{ d: string }[]>`select ((now() at time zone 'America/Los_Angeles')::date)::text as d`);
  return row.d;
}

export type Release =
  | { status: 'queued'; delaySeconds: number; lastError: string | null }
  | { status: 'waiting_quota'; until: Date | null; lastError: string }
  | { status: 'succeeded' }
  | { status: 'failed'; lastError: string };

export interface Save {
  /** The step's rows, committed with the cursor. */
  write?: (tx: Tx) => Promise<void>;
  /** Ends this worker's hold on the run; without it the lease is renewed. */
  release?: Release;
  /** Start the next worker invocation once this transaction commits (pg_net sends after commit). */
  wake?: boolean;
}

/**
 * Saves the run's cursor and stats together with a step's rows in one transaction, if the run
 * is still leased to this worker; with `release`, also hands the run back or finishes it, so
 * the last step of an invocation and the hand-over commit (or fail) together.
 */
export async function saveRun(run: SyncRun, workerId: string, cursor: Cursor, stats: Stats, save: Save = {}): Promise<void> {
  await asService(async (tx) => {
    if (save.write) await save.write(tx);
    const r = save.release;
    const status = r?.status ?? 'running';
    const lastError = r && 'lastError' in r ? r.lastError : null;
    const delay = r?.status === 'queued' ? r.delaySeconds : LEASE_SECONDS;
    const until = r?.status === 'waiting_quota' ? r.until : null;
    const saved = await tx`
      update public.sync_runs set status = ${status}, cursor = ${jsonb(tx, cursor)}, stats = ${jsonb(tx, stats)},
        last_error = case when ${status} = 'running' then last_error else ${lastError} end,
        next_attempt_at = case ${status}
          when 'running' then now() + make_interval(secs => ${LEASE_SECONDS})
          when 'queued' then now() + make_interval(secs => ${delay})
          when 'waiting_quota' then coalesce(${until}::timestamptz, private.next_youtube_quota_reset()) end,
        lease_owner = case when ${status} = 'running' then lease_owner end,
        lease_expires_at = case when ${status} = 'running' then now() + make_interval(secs => ${LEASE_SECONDS}) end,
        finished_at = case when ${status} in ('succeeded', 'failed') then now() end,
        plan = case when ${status} in ('succeeded', 'failed') then null else plan end
      where id = ${run.id} and lease_owner = ${workerId} and status = 'running'
      returning id`;
    if (saved.length === 0) throw new LeaseLostError(run.id);
    if (save.wake) await tx`select private.wake_youtube_sync_worker()`;
  });
}

/** Posts one worker invocation if a run is due (pg_net sends it once this commits). */
export async function wakeSuccessor(): Promise<void> {
  await asService((tx) => tx`select private.wake_youtube_sync_worker()`);
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
  return await asService(
    (tx) =>
      tx<StaleVideo[]>`
      select v.youtube_video_id as "youtubeVideoId",
        ((v.published_at at time zone 'America/Los_Angeles')::date)::text as "publishedOn",
        (select max(m.day)::text from public.video_metrics m where m.video_id = v.id) as "lastMetricDay"
      from public.videos v
      where v.channel_id = ${channelId} and v.metrics_stale`,
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

/** Stores the run's analytics plan (read back one report at a time by loadBatch). */
export async function savePlan(tx: Tx, runId: string, batches: AnalyticsBatch[]): Promise<void> {
  await tx`update public.sync_runs set plan = ${jsonb(tx, batches)} where id = ${runId}`;
}

/** Report `index` (0-based) of the run's plan, or null when there is none. */
export async function loadBatch(runId: string, index: number): Promise<AnalyticsBatch | null> {
  const [row] = await asService(
    (tx) => tx<{ batch: AnalyticsBatch | null }[]>`select plan -> ${index}::int as batch from public.sync_runs where id = ${runId}`,
  );
  return row?.batch ?? null;
}

/** Videos in the reports of the plan from `index` on. */
export async function remainingPlanVideos(runId: string, index: number): Promise<number> {
  const [row] = await asService(
    (tx) =>
      tx<{ n: number }[]>`
      select coalesce(sum(jsonb_array_length(b.value -> 'ids')), 0)::int as n
      from public.sync_runs r, jsonb_array_elements(r.plan) with ordinality b(value, ord)
      where r.id = ${runId} and b.ord > ${index}`,
  );
  return row.n;
}

/** Splits the reports from `index` on into one report per video, in the same order. */
export async function splitPlanPerVideo(tx: Tx, runId: string, index: number): Promise<void> {
  await tx`
    update public.sync_runs r set plan = (
      select coalesce(jsonb_agg(e.batch order by e.ord, e.sub), '[]'::jsonb) from (
        select b.ord, 0::bigint as sub, b.value as batch
        from jsonb_array_elements(r.plan) with ordinality b(value, ord) where b.ord <= ${index}
        union all
        select b.ord, v.sub, jsonb_build_object('ids', jsonb_build_array(v.id), 'start', b.value -> 'start')
        from jsonb_array_elements(r.plan) with ordinality b(value, ord),
          jsonb_array_elements_text(b.value -> 'ids') with ordinality v(id, sub)
        where b.ord > ${index}) e)
    where r.id = ${runId}`;
}

export async function scoreChannel(tx: Tx, channelId: string): Promise<number> {
  const [r] = await tx<{ scored: number }[]>`select private.score_channel_videos(${channelId}) as scored`;
  await tx`update public.channels set last_synced_at = now() where id = ${channelId}`;
  return r.scored;
}
