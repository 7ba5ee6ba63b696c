// One sync run, step by step. Each step makes at most one API call (the plan and score steps
// none), and commits its rows together with the new cursor:
//   channel    channels.list?mine=true              → channel title, uploads playlist
//   listing    playlistItems.list (one page of 50)   → the page's video ids in the cursor
//              videos.list (those ids)               → videos upserted, changed ones stale
//   plan       (database)                            → analytics reports to fetch
//   analytics  reports.query (one report)            → daily metrics upserted, videos fresh
//   score      public.score_channel_videos()         → done
// The run stops between steps when its time budget is used up (queued again at once, resuming
// from the cursor), and always makes at least one step per claim so it cannot starve.
import {
  createYouTubeClient,
  QuotaExhaustedError,
  ReauthRequiredError,
  type RetryPolicy,
  YouTubeApiError,
  type YouTubeClient,
  YouTubeTransientError,
} from '../_shared/clients/youtube.ts';
import type { Tx } from '../_shared/db.ts';
import { ChannelTokenSource } from '../_shared/youtube/credentials.ts';
import { errorFields, logEvent } from '../_shared/youtube/log.ts';
import { type QuotaTally, reserveQuota } from '../_shared/youtube/quota.ts';
import { type Cursor, parseCursor, parseStats, type Stats } from './cursor.ts';
import { planBatches } from './plan.ts';
import {
  type ChannelRow,
  commitStep,
  LeaseLostError,
  loadChannel,
  markMetricsFresh,
  pacificToday,
  type Release,
  releaseRun,
  scoreChannel,
  staleVideos,
  type SyncRun,
  updateChannel,
  upsertMetrics,
  upsertVideos,
} from './store.ts';

/** A problem with the channel itself that retrying will not fix. */
export class SyncFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncFailure';
  }
}

export const MAX_CONSECUTIVE_ERRORS = 5;
export const MAX_ATTEMPTS = 200;

export interface RunOptions {
  workerId: string;
  /** Epoch ms after which no new step starts. */
  deadline: number;
  retry?: RetryPolicy;
}

export interface RunOutcome {
  run_id: string;
  channel_id: string;
  /** yielded: stopped at the time budget, queued to continue at once from its cursor. */
  status: 'succeeded' | 'failed' | 'queued' | 'yielded' | 'waiting_quota' | 'lease_lost';
  steps: number;
  phase: string;
  message?: string;
}

interface StepResult {
  cursor: Cursor;
  write?: (tx: Tx) => Promise<void>;
}

/** Seconds before a step that failed transiently is tried again (30 s, 1 min, 2 min, ...). */
export function transientDelaySeconds(errors: number, retryAfterMs?: number): number {
  const backoff = Math.min(30 * 60, 30 * 2 ** Math.max(0, errors - 1));
  return Math.max(backoff, Math.ceil((retryAfterMs ?? 0) / 1000));
}

class RunSteps {
  constructor(
    private readonly channel: ChannelRow,
    private readonly client: YouTubeClient,
    private readonly stats: Stats,
  ) {}

  async next(c: Cursor): Promise<StepResult> {
    switch (c.phase) {
      case 'channel':
        return await this.channelStep(c);
      case 'listing':
        return c.pending_video_ids.length > 0 ? await this.videosStep(c) : await this.pageStep(c);
      case 'plan':
        return await this.planStep(c);
      case 'analytics':
        return await this.analyticsStep(c);
      case 'score':
        return this.scoreStep(c);
      case 'done':
        return { cursor: c };
    }
  }

  private async channelStep(c: Cursor): Promise<StepResult> {
    const info = await this.client.data.myChannel();
    if (!info) throw new SyncFailure('the connected Google account no longer has a YouTube channel');
    if (info.youtubeChannelId !== this.channel.youtube_channel_id) {
      throw new SyncFailure(`the stored tokens belong to YouTube channel ${info.youtubeChannelId}, not ${this.channel.youtube_channel_id}; reconnect the channel`);
    }
    if (!info.uploadsPlaylistId) throw new SyncFailure('YouTube reports no uploads playlist for this channel');
    return {
      cursor: { ...c, phase: 'listing', uploads_playlist_id: info.uploadsPlaylistId, page_token: null, listing_done: false, pending_video_ids: [] },
      write: (tx) => updateChannel(tx, this.channel.id, info),
    };
  }

  private async pageStep(c: Cursor): Promise<StepResult> {
    if (c.listing_done) return { cursor: { ...c, phase: 'plan' } };
    let page;
    try {
      page = await this.client.data.uploadsPage(c.uploads_playlist_id!, c.page_token);
    } catch (err) {
      // A run resumed after a quota reset may hold a page token YouTube no longer takes: list
      // again from the first page (once per run; the upserts make the repeat harmless).
      if (err instanceof YouTubeApiError && err.info.reason === 'invalidPageToken' && c.page_token !== null && !c.listing_restarted) {
        logEvent('warn', 'youtube_sync_listing_restarted', { channel_id: this.channel.id, ...errorFields(err) });
        return { cursor: { ...c, page_token: null, pending_video_ids: [], listing_restarted: true } };
      }
      throw err;
    }
    this.stats.pages += 1;
    if (page.totalResults !== null) this.stats.videos_total = page.totalResults;
    const done = page.nextPageToken === null;
    return {
      cursor: {
        ...c,
        page_token: page.nextPageToken,
        listing_done: done,
        pending_video_ids: page.videoIds,
        phase: done && page.videoIds.length === 0 ? 'plan' : 'listing',
      },
    };
  }

  private async videosStep(c: Cursor): Promise<StepResult> {
    const videos = await this.client.data.videos(c.pending_video_ids);
    this.stats.videos_listed += videos.length;
    return {
      cursor: { ...c, pending_video_ids: [], phase: c.listing_done ? 'plan' : 'listing' },
      write: async (tx) => {
        this.stats.videos_changed += await upsertVideos(tx, this.channel, videos);
      },
    };
  }

  private async planStep(c: Cursor): Promise<StepResult> {
    const endDate = await pacificToday();
    const batches = planBatches(await staleVideos(this.channel.id), endDate, c.analytics_mode);
    return { cursor: { ...c, phase: batches.length > 0 ? 'analytics' : 'score', end_date: endDate, batches, batches_total: batches.length } };
  }

  private async analyticsStep(c: Cursor): Promise<StepResult> {
    const [batch, ...rest] = c.batches;
    if (!batch) return { cursor: { ...c, phase: 'score' } };
    const endDate = c.end_date!;
    let page;
    if (batch.ids.length > 1 && c.analytics_mode === 'batch') {
      try {
        page = await this.client.analytics.dailyByVideo(batch.ids, batch.start, endDate, batch.start_index);
      } catch (err) {
        // The multi-video report shape is refused: continue one video per report.
        if (err instanceof YouTubeApiError && err.status === 400 && batch.start_index === 1) {
          logEvent('warn', 'youtube_analytics_batch_refused', { channel_id: this.channel.id, ...errorFields(err) });
          const singles = batch.ids.map((id) => ({ ids: [id], start: batch.start, start_index: 1 }));
          const batches = [...singles, ...rest.flatMap((b) => b.ids.map((id) => ({ ids: [id], start: b.start, start_index: 1 })))];
          return { cursor: { ...c, analytics_mode: 'per_video', batches, batches_total: c.batches_total - c.batches.length + batches.length } };
        }
        throw err;
      }
    } else {
      page = await this.client.analytics.dailyForVideo(batch.ids[0], batch.start, endDate, batch.start_index);
    }
    this.stats.analytics_calls += 1;
    const finished = page.nextStartIndex === null;
    const batches = finished ? rest : [{ ...batch, start_index: page.nextStartIndex! }, ...rest];
    return {
      cursor: { ...c, batches, phase: finished && rest.length === 0 ? 'score' : 'analytics' },
      write: async (tx) => {
        this.stats.metric_rows += await upsertMetrics(tx, this.channel, page.rows);
        if (finished) await markMetricsFresh(tx, this.channel.id, batch.ids);
      },
    };
  }

  private scoreStep(c: Cursor): StepResult {
    return {
      cursor: { ...c, phase: 'done' },
      write: async (tx) => {
        this.stats.videos_scored = await scoreChannel(tx, this.channel.id);
      },
    };
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Processes a claimed run until it is done, its time budget is used up, or it must wait. */
export async function processRun(run: SyncRun, opts: RunOptions): Promise<RunOutcome> {
  let cursor = parseCursor(run.cursor);
  const stats = parseStats(run.stats);
  let steps = 0;
  const outcome = (status: RunOutcome['status'], message?: string): RunOutcome => ({
    run_id: run.id,
    channel_id: run.channel_id,
    status,
    steps,
    phase: cursor.phase,
    ...(message ? { message } : {}),
  });
  const release = (r: Release) => releaseRun(run, opts.workerId, cursor, stats, r);

  try {
    const channel = await loadChannel(run.channel_id);
    if (!channel || channel.status !== 'active') {
      const message = `the channel is ${channel?.status ?? 'gone'}; reconnect it to sync again`;
      await release({ status: 'failed', lastError: message });
      return outcome('failed', message);
    }
    if (run.attempts > MAX_ATTEMPTS) {
      const message = `gave up after ${run.attempts - 1} attempts`;
      await release({ status: 'failed', lastError: message });
      return outcome('failed', message);
    }

    const tally: QuotaTally = { units: 0, calls: 0 };
    const client = createYouTubeClient({
      tokens: new ChannelTokenSource({ id: channel.id, workspaceId: channel.workspace_id }, { retry: opts.retry }),
      quota: reserveQuota(channel.workspace_id, channel.id, tally),
      retry: opts.retry,
    });
    const runSteps = new RunSteps(channel, client, stats);
    const counted = { calls: 0, retries: 0, refreshes: 0, units: 0 };
    // Folds what the client did since the last fold into the run's stats.
    const foldClientStats = () => {
      const s = client.caller.stats;
      stats.api_calls += s.calls - counted.calls;
      stats.retries += s.retries - counted.retries;
      stats.token_refreshes += s.refreshes - counted.refreshes;
      stats.quota_units += tally.units - counted.units;
      Object.assign(counted, { calls: s.calls, retries: s.retries, refreshes: s.refreshes, units: tally.units });
    };

    try {
      while (cursor.phase !== 'done') {
        if (steps > 0 && Date.now() >= opts.deadline) {
          foldClientStats();
          await release({ status: 'queued', delaySeconds: 0, lastError: null });
          return outcome('yielded', 'time budget used up; continues from its cursor');
        }
        const step = await runSteps.next(cursor);
        const nextCursor = { ...step.cursor, errors: 0 };
        stats.steps += 1;
        foldClientStats();
        await commitStep(run, opts.workerId, nextCursor, stats, step.write);
        cursor = nextCursor;
        steps++;
      }
      await release({ status: 'succeeded' });
      logEvent('info', 'youtube_sync_succeeded', { run_id: run.id, channel_id: run.channel_id, trigger: run.trigger, stats });
      return outcome('succeeded');
    } catch (err) {
      foldClientStats();
      throw err;
    }
  } catch (err) {
    return await handleFailure(err);
  }

  async function handleFailure(err: unknown): Promise<RunOutcome> {
    if (err instanceof LeaseLostError) {
      logEvent('warn', 'youtube_sync_lease_lost', { run_id: run.id, channel_id: run.channel_id });
      return outcome('lease_lost', err.message);
    }
    try {
      if (err instanceof QuotaExhaustedError) {
        const until = err.source === 'budget' ? err.detail.resetsAt ?? null : null;
        const message = `${err.message}; waiting for the daily quota to reset at midnight Pacific time`;
        await release({ status: 'waiting_quota', until, lastError: message });
        logEvent('warn', 'youtube_sync_waiting_quota', { run_id: run.id, channel_id: run.channel_id, source: err.source });
        return outcome('waiting_quota', message);
      }
      if (err instanceof ReauthRequiredError || err instanceof YouTubeApiError || err instanceof SyncFailure) {
        await release({ status: 'failed', lastError: describe(err) });
        logEvent('warn', 'youtube_sync_failed', { run_id: run.id, channel_id: run.channel_id, ...errorFields(err) });
        return outcome('failed', describe(err));
      }
      // Transient (retries ran out) or unexpected: try the step again later, a bounded number of times.
      const errors = cursor.errors + 1;
      cursor = { ...cursor, errors };
      if (errors >= MAX_CONSECUTIVE_ERRORS) {
        const message = `${describe(err)} (failed ${errors} times in a row)`;
        await release({ status: 'failed', lastError: message });
        logEvent('error', 'youtube_sync_failed', { run_id: run.id, channel_id: run.channel_id, ...errorFields(err) });
        return outcome('failed', message);
      }
      const delaySeconds = transientDelaySeconds(errors, err instanceof YouTubeTransientError ? err.retryAfterMs : undefined);
      await release({ status: 'queued', delaySeconds, lastError: describe(err) });
      logEvent('warn', 'youtube_sync_retry_later', { run_id: run.id, channel_id: run.channel_id, delay_seconds: delaySeconds, ...errorFields(err) });
      return outcome('queued', describe(err));
    } catch (releaseErr) {
      if (releaseErr instanceof LeaseLostError) return outcome('lease_lost', releaseErr.message);
      throw releaseErr;
    }
  }
}
