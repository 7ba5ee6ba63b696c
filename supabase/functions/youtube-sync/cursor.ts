// What a sync run remembers between steps (sync_runs.cursor) and what it has done so far
// (sync_runs.stats). The cursor is saved in the same transaction as each step's rows, so a run
// that dies resumes exactly after the last step that committed. It stays small at any channel
// size: the analytics plan (up to one report per 50 videos) is written once to sync_runs.plan,
// and the cursor holds only the index of the next report.
import { z } from 'zod';

/** One analytics report of the plan: these videos, from `start` to the run's end date. */
export const AnalyticsBatch = z.object({
  ids: z.array(z.string()).min(1),
  start: z.string(), // YYYY-MM-DD
});
export type AnalyticsBatch = z.infer<typeof AnalyticsBatch>;

export const Phase = z.enum(['channel', 'listing', 'plan', 'analytics', 'score', 'done']);
export type Phase = z.infer<typeof Phase>;

export const Cursor = z.object({
  phase: Phase.default('channel'),
  uploads_playlist_id: z.string().nullable().default(null),
  /** The playlistItems page to fetch next; null before the first page and after the last. */
  page_token: z.string().nullable().default(null),
  listing_done: z.boolean().default(false),
  listing_restarted: z.boolean().default(false),
  /** Ids of the last playlist page, waiting for their videos.list call. */
  pending_video_ids: z.array(z.string()).default([]),
  end_date: z.string().nullable().default(null),
  /** Index in sync_runs.plan of the next report to fetch. */
  batch_index: z.number().int().min(0).default(0),
  /** 1-based row index of the next page of that report, when it did not fit in one. */
  batch_start_index: z.number().int().min(1).default(1),
  batches_total: z.number().int().default(0),
  analytics_mode: z.enum(['batch', 'per_video']).default('batch'),
  /** Consecutive failed attempts of the current step. */
  errors: z.number().int().default(0),
});
export type Cursor = z.infer<typeof Cursor>;

export const Stats = z.object({
  steps: z.number().int().default(0),
  pages: z.number().int().default(0),
  videos_total: z.number().int().nullable().default(null),
  videos_listed: z.number().int().default(0),
  videos_changed: z.number().int().default(0),
  /** Videos planned for analytics, and how many of them have their analytics stored. */
  videos_planned: z.number().int().default(0),
  videos_done: z.number().int().default(0),
  /** Worker invocations that advanced the run. */
  invocations: z.number().int().default(0),
  analytics_calls: z.number().int().default(0),
  metric_rows: z.number().int().default(0),
  api_calls: z.number().int().default(0),
  retries: z.number().int().default(0),
  token_refreshes: z.number().int().default(0),
  quota_units: z.number().int().default(0),
  videos_scored: z.number().int().nullable().default(null),
});
export type Stats = z.infer<typeof Stats>;

export function parseCursor(raw: unknown): Cursor {
  return Cursor.parse(raw ?? {});
}

export function parseStats(raw: unknown): Stats {
  return Stats.parse(raw ?? {});
}

/** What GET /runs shows while a run is under way. */
export function progressOf(cursor: Cursor, stats: Stats) {
  return {
    phase: cursor.phase,
    pages_listed: stats.pages,
    videos_total: stats.videos_total,
    videos_listed: stats.videos_listed,
    videos_planned: stats.videos_planned,
    videos_done: stats.videos_done,
    analytics_batches_done: Math.min(cursor.batch_index, cursor.batches_total),
    analytics_batches_total: cursor.batches_total,
  };
}
