// YouTube Analytics API v2 (`GET /v2/reports`): daily metrics per video.
//
// Two report shapes, both with ids=channel==MINE:
//   * batch:     dimensions=day,video & filters=video==ID1,ID2,...  One call for many videos.
//     Google's data model documents multi-value video filters ("include the filter in the
//     dimensions list so the metrics are grouped per video"); the channel-reports table itself
//     only lists dimensions=day with a video filter, so this shape is tried first and the caller
//     falls back to the per-video one when the API refuses it (400).
//   * per video: dimensions=day & filters=video==ID, the shape the channel-reports table lists.
// Analytics calls spend no Data API units (the API has its own per-minute limits).
import { z } from 'zod';
import type { YouTubeCaller } from './api-caller.ts';
import { googleEndpoints } from './google-config.ts';

export const DAILY_METRICS = [
  'views',
  'estimatedMinutesWatched',
  'averageViewDuration',
  'averageViewPercentage',
  'likes',
  'comments',
  'shares',
  'subscribersGained',
  'subscribersLost',
] as const;

export type MetricName = (typeof DAILY_METRICS)[number];

export interface VideoDayRow {
  videoId: string;
  day: string; // YYYY-MM-DD
  metrics: Record<MetricName, number>;
}

const Report = z.object({
  columnHeaders: z.array(z.object({ name: z.string() })),
  // YouTube leaves `rows` out entirely when the query has no data.
  rows: z.array(z.array(z.union([z.string(), z.number()]))).optional(),
});

/** Largest page asked for; a page that comes back full is followed by the next one. */
export const REPORT_PAGE_ROWS = 10_000;

export interface ReportPage {
  rows: VideoDayRow[];
  /** Set when the page was full: ask again from this 1-based row index. */
  nextStartIndex: number | null;
}

export class YouTubeAnalyticsApi {
  constructor(private readonly caller: YouTubeCaller) {}

  private async query(params: Record<string, string>, fixedVideoId: string | null, startIndex: number): Promise<ReportPage> {
    const url = new URL(`${googleEndpoints().analyticsBase}/reports`);
    url.search = new URLSearchParams({
      ids: 'channel==MINE',
      metrics: DAILY_METRICS.join(','),
      ...params,
      maxResults: String(REPORT_PAGE_ROWS),
      startIndex: String(startIndex),
    }).toString();
    const report = Report.parse(await this.caller.getJson('reports.query', url));
    const col = new Map(report.columnHeaders.map((h, i) => [h.name, i]));
    const dayIdx = col.get('day');
    const videoIdx = col.get('video');
    if (dayIdx === undefined || (fixedVideoId === null && videoIdx === undefined)) {
      throw new Error('YouTube Analytics answered without the day/video columns that were asked for');
    }
    const rows = (report.rows ?? []).map((r) => {
      const metrics = {} as Record<MetricName, number>;
      for (const m of DAILY_METRICS) {
        const i = col.get(m);
        const v = i === undefined ? 0 : Number(r[i]);
        metrics[m] = Number.isFinite(v) ? v : 0;
      }
      return { videoId: fixedVideoId ?? String(r[videoIdx!]), day: String(r[dayIdx]), metrics };
    });
    return { rows, nextStartIndex: rows.length === REPORT_PAGE_ROWS ? startIndex + rows.length : null };
  }

  /** Daily rows of several videos in one report (see the header for the shape). */
  dailyByVideo(videoIds: string[], startDate: string, endDate: string, startIndex = 1): Promise<ReportPage> {
    return this.query(
      { startDate, endDate, dimensions: 'day,video', filters: `video==${videoIds.join(',')}`, sort: 'day' },
      null,
      startIndex,
    );
  }

  /** Daily rows of one video. */
  dailyForVideo(videoId: string, startDate: string, endDate: string, startIndex = 1): Promise<ReportPage> {
    return this.query({ startDate, endDate, dimensions: 'day', filters: `video==${videoId}`, sort: 'day' }, videoId, startIndex);
  }
}
