// The transitions of a sync run: one function per step, each taking the run context, the cursor
// and a draft of the run's stats, and returning where the run goes next, the rows to commit with
// that cursor, and the step's cost (budget.ts). A transition makes at most one API call and never
// writes itself: the engine commits its `write` together with the new cursor, so a step is
// either wholly done or not at all.
//   phase      transition       API call                    → next phase
//   channel    readChannel      channels.list?mine=true     → listing
//   listing    listPage         playlistItems.list (50)     → listing (ids pending) | plan
//   listing    fetchVideos      videos.list (pending ids)   → listing | plan
//   plan       planAnalytics    (database)                  → analytics | score
//   analytics  fetchReport      reports.query (one page)    → analytics | score
//   score      scoreVideos      (database)                  → done
import type { ReportPage } from '../_shared/integrations/youtube/analytics-client.ts';
import type { ChannelInfo, UploadsPage, VideoInfo } from '../_shared/integrations/youtube/data-api-client.ts';
import { YouTubeApiError } from '../_shared/integrations/youtube/errors.ts';
import type { Tx } from '../_shared/platform/db.ts';
import { costOf } from './budget.ts';
import type { Cursor, Stats } from './cursor.ts';
import { planBatches } from './plan.ts';
import {
  type ChannelRow,
  loadBatch,
  markMetricsFresh,
  pacificToday,
  remainingPlanVideos,
  savePlan,
  scoreChannel,
  splitPlanPerVideo,
  staleVideos,
  type SyncRun,
  updateChannel,
  upsertMetrics,
  upsertVideos,
} from './store.ts';

/** The YouTube calls a sync makes (the client, or a stand-in in tests). */
export interface SyncApis {
  data: {
    myChannel(): Promise<ChannelInfo | null>;
    uploadsPage(playlistId: string, pageToken?: string | null): Promise<UploadsPage>;
    videos(ids: string[]): Promise<VideoInfo[]>;
  };
  analytics: {
    dailyByVideo(videoIds: string[], startDate: string, endDate: string, startIndex?: number): Promise<ReportPage>;
    dailyForVideo(videoId: string, startDate: string, endDate: string, startIndex?: number): Promise<ReportPage>;
  };
}

/** What every transition of one run works with. */
export interface RunContext {
  run: SyncRun;
  channel: ChannelRow;
  apis: SyncApis;
}

export interface Step {
  cursor: Cursor;
  /** Rows committed in the transaction that saves `cursor`. */
  write?: (tx: Tx) => Promise<void>;
  /** Estimated CPU ms the step cost (budget.ts). */
  costMs: number;
  /** For operators, in the worker's line for the invocation (step-log.ts), once the step is saved. */
  note?: string;
}

export type Transition = (ctx: RunContext, cursor: Cursor, stats: Stats) => Promise<Step>;

/** A problem with the channel itself that retrying will not fix. */
export class SyncFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncFailure';
  }
}

/** The transition for the run's position, or null when it is done. */
export function transitionFor(c: Cursor): Transition | null {
  switch (c.phase) {
    case 'channel':
      return readChannel;
    case 'listing':
      return c.pending_video_ids.length > 0 ? fetchVideos : listPage;
    case 'plan':
      return planAnalytics;
    case 'analytics':
      return fetchReport;
    case 'score':
      return scoreVideos;
    case 'done':
      return null;
  }
}

export async function readChannel(ctx: RunContext, c: Cursor): Promise<Step> {
  const info = await ctx.apis.data.myChannel();
  if (!info) throw new SyncFailure('the connected Google account no longer has a YouTube channel');
  if (info.youtubeChannelId !== ctx.channel.youtube_channel_id) {
    throw new SyncFailure(
      `the stored tokens belong to YouTube channel ${info.youtubeChannelId}, not ${ctx.channel.youtube_channel_id}; reconnect the channel`,
    );
  }
  if (!info.uploadsPlaylistId) throw new SyncFailure('YouTube reports no uploads playlist for this channel');
  return {
    cursor: {
      ...c,
      phase: 'listing',
      uploads_playlist_id: info.uploadsPlaylistId,
      page_token: null,
      listing_done: false,
      pending_video_ids: [],
    },
    write: (tx) => updateChannel(tx, ctx.channel.id, info),
    costMs: costOf.channel(),
  };
}

export async function listPage(ctx: RunContext, c: Cursor, stats: Stats): Promise<Step> {
  if (c.listing_done) return { cursor: { ...c, phase: 'plan' }, costMs: 0 };
  let page;
  try {
    page = await ctx.apis.data.uploadsPage(c.uploads_playlist_id!, c.page_token);
  } catch (err) {
    // A run resumed after a quota reset may hold a page token YouTube no longer takes: list
    // again from the first page (once per run; the upserts make the repeat harmless).
    if (err instanceof YouTubeApiError && err.info.reason === 'invalidPageToken' && c.page_token !== null && !c.listing_restarted) {
      return {
        cursor: { ...c, page_token: null, pending_video_ids: [], listing_restarted: true },
        costMs: costOf.page(),
        note: `listing restarted from the first page: ${describeError(err)}`,
      };
    }
    throw err;
  }
  stats.pages += 1;
  if (page.totalResults !== null) stats.videos_total = page.totalResults;
  const done = page.nextPageToken === null;
  return {
    cursor: {
      ...c,
      page_token: page.nextPageToken,
      listing_done: done,
      pending_video_ids: page.videoIds,
      phase: done && page.videoIds.length === 0 ? 'plan' : 'listing',
    },
    costMs: costOf.page(),
  };
}

export async function fetchVideos(ctx: RunContext, c: Cursor, stats: Stats): Promise<Step> {
  const videos = await ctx.apis.data.videos(c.pending_video_ids);
  stats.videos_listed += videos.length;
  return {
    cursor: { ...c, pending_video_ids: [], phase: c.listing_done ? 'plan' : 'listing' },
    write: async (tx) => {
      stats.videos_changed += await upsertVideos(tx, ctx.channel, videos);
    },
    costMs: costOf.videos(c.pending_video_ids.length),
  };
}

export async function planAnalytics(ctx: RunContext, c: Cursor, stats: Stats): Promise<Step> {
  const endDate = await pacificToday();
  const stale = await staleVideos(ctx.channel.id);
  const batches = planBatches(stale, endDate, c.analytics_mode);
  stats.videos_planned = stale.length;
  stats.videos_done = 0;
  return {
    cursor: {
      ...c,
      phase: batches.length > 0 ? 'analytics' : 'score',
      end_date: endDate,
      batch_index: 0,
      batch_start_index: 1,
      batches_total: batches.length,
    },
    write: (tx) => savePlan(tx, ctx.run.id, batches),
    costMs: costOf.plan(stale.length),
  };
}

export async function fetchReport(ctx: RunContext, c: Cursor, stats: Stats): Promise<Step> {
  const batch = c.batch_index < c.batches_total ? await loadBatch(ctx.run.id, c.batch_index) : null;
  // No plan behind the cursor (a run planned before plans were stored apart): plan again.
  if (!batch) return { cursor: { ...c, phase: c.batch_index < c.batches_total ? 'plan' : 'score' }, costMs: 0 };
  let page: ReportPage;
  if (batch.ids.length > 1 && c.analytics_mode === 'batch') {
    try {
      page = await ctx.apis.analytics.dailyByVideo(batch.ids, batch.start, c.end_date!, c.batch_start_index);
    } catch (err) {
      // The multi-video report shape is refused: continue one video per report.
      if (err instanceof YouTubeApiError && err.status === 400 && c.batch_start_index === 1) return await fallBackToPerVideo(ctx, c, err);
      throw err;
    }
  } else {
    page = await ctx.apis.analytics.dailyForVideo(batch.ids[0], batch.start, c.end_date!, c.batch_start_index);
  }
  stats.analytics_calls += 1;
  const finished = page.nextStartIndex === null;
  const next = finished ? c.batch_index + 1 : c.batch_index;
  return {
    cursor: {
      ...c,
      batch_index: next,
      batch_start_index: finished ? 1 : page.nextStartIndex!,
      phase: next >= c.batches_total ? 'score' : 'analytics',
    },
    write: async (tx) => {
      stats.metric_rows += await upsertMetrics(tx, ctx.channel, page.rows);
      if (finished) {
        await markMetricsFresh(tx, ctx.channel.id, batch.ids);
        stats.videos_done += batch.ids.length;
      }
    },
    costMs: costOf.report(page.rows.length),
  };
}

/** Replaces the reports not fetched yet with one report per video (the plan's prefix stays). */
async function fallBackToPerVideo(ctx: RunContext, c: Cursor, err: YouTubeApiError): Promise<Step> {
  const remaining = await remainingPlanVideos(ctx.run.id, c.batch_index);
  return {
    cursor: { ...c, analytics_mode: 'per_video', batches_total: c.batch_index + remaining, batch_start_index: 1 },
    write: (tx) => splitPlanPerVideo(tx, ctx.run.id, c.batch_index),
    costMs: costOf.report(0),
    note: `analytics batch refused, per video from here: ${describeError(err)}`,
  };
}

/** An error for a step's note: its name and message (secrets are taken out when the line is written). */
function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export function scoreVideos(ctx: RunContext, c: Cursor, stats: Stats): Promise<Step> {
  return Promise.resolve({
    cursor: { ...c, phase: 'done' },
    write: async (tx) => {
      stats.videos_scored = await scoreChannel(tx, ctx.channel.id);
    },
    costMs: costOf.score(),
  });
}
