// Which analytics reports a run asks for. Only videos whose analytics may be behind (new, or
// statistics changed: videos.metrics_stale) are fetched, each from the day after its last stored
// day minus a restatement window (YouTube revises recent days), or from its publish day when
// none is stored. Videos are grouped into reports of at most MAX_IDS ids and about MAX_ROWS rows.
import type { AnalyticsBatch } from './cursor.ts';

export const RESTATEMENT_DAYS = 3;
export const MAX_IDS_PER_REPORT = 50;
export const MAX_ROWS_PER_REPORT = 10_000;
/** For a video without a publish time (never published): the recent past is all it can have. */
export const UNPUBLISHED_LOOKBACK_DAYS = 30;

export interface StaleVideo {
  youtubeVideoId: string;
  /** Pacific date of publishing, YYYY-MM-DD, or null. */
  publishedOn: string | null;
  /** Last day with stored metrics, or null. */
  lastMetricDay: string | null;
}

const DAY_MS = 86_400_000;

function dayNumber(iso: string): number {
  return Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
}

function isoDay(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

export function startDayFor(v: StaleVideo, endDate: string): string {
  const end = dayNumber(endDate);
  let start: number;
  if (v.lastMetricDay) start = dayNumber(v.lastMetricDay) - RESTATEMENT_DAYS;
  else if (v.publishedOn) start = dayNumber(v.publishedOn);
  else start = end - UNPUBLISHED_LOOKBACK_DAYS;
  if (v.publishedOn) start = Math.max(start, dayNumber(v.publishedOn));
  return isoDay(Math.min(start, end));
}

/**
 * Groups videos into reports. A report covers [its earliest start, endDate] for all its videos,
 * so videos are taken in order of start day; the rows of a video are bounded by the days from
 * max(report start, its publish day).
 */
export function planBatches(
  videos: StaleVideo[],
  endDate: string,
  mode: 'batch' | 'per_video',
  limits = { maxIds: MAX_IDS_PER_REPORT, maxRows: MAX_ROWS_PER_REPORT },
): AnalyticsBatch[] {
  const end = dayNumber(endDate);
  const items = videos
    .map((v) => ({
      id: v.youtubeVideoId,
      start: dayNumber(startDayFor(v, endDate)),
      published: v.publishedOn ? dayNumber(v.publishedOn) : null,
    }))
    .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (mode === 'per_video') return items.map((i) => ({ ids: [i.id], start: isoDay(i.start) }));

  const batches: AnalyticsBatch[] = [];
  let current: { ids: string[]; start: number; rows: number } | null = null;
  for (const item of items) {
    const rowsFrom = (start: number) => end - Math.max(start, item.published ?? start) + 1;
    if (current && current.ids.length < limits.maxIds && current.rows + rowsFrom(current.start) <= limits.maxRows) {
      current.ids.push(item.id);
      current.rows += rowsFrom(current.start);
      continue;
    }
    if (current) batches.push({ ids: current.ids, start: isoDay(current.start) });
    current = { ids: [item.id], start: item.start, rows: rowsFrom(item.start) };
  }
  if (current) batches.push({ ids: current.ids, start: isoDay(current.start) });
  return batches;
}
