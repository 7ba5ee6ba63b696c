// YouTube Analytics API v2 reports (the subset the product uses: channel reports by day and/or
// video). Real: https://youtubeanalytics.googleapis.com/v2/reports; here: /youtube-analytics/v2/reports.
import type { RequestContext } from '../core/context.ts';
import type { Router } from '../core/router.ts';
import { authenticate } from './auth.ts';
import type { FakeVideo } from './catalog.ts';
import { invalidParameter, notImplemented, requiredParameter, sendGoogleError } from './errors.ts';
import { isMetricName, METRICS, MetricTotals, videoDayMetrics, type MetricName } from './metrics.ts';
import { ANALYTICS_SCOPES } from './scopes.ts';
import type { YouTubeState } from './state.ts';
import { dayKey, dayNumber, parseDayKey } from './time.ts';

type Dimension = 'day' | 'video';
const DIMENSIONS: readonly string[] = ['day', 'video'];
// Real dimensions and filters the fake does not compute: asking for them is a 501, not a 400.
const KNOWN_UNSUPPORTED = [
  'month',
  'country',
  'province',
  'city',
  'deviceType',
  'operatingSystem',
  'ageGroup',
  'gender',
  'insightTrafficSourceType',
  'insightPlaybackLocationType',
  'subscribedStatus',
  'youtubeProduct',
  'playlist',
  'liveOrOnDemand',
  'sharingService',
  'creatorContentType',
  'elapsedVideoTimeRatio',
];
// "Top videos" reports: the API insists on a descending sort and at most 200 rows.
const TOP_VIDEOS_MAX_RESULTS = 200;
const UNSUPPORTED_QUERY =
  'The query is not supported. Check the documentation at https://developers.google.com/youtube/analytics/v2/available_reports for a list of supported queries.';

export function registerAnalytics(router: Router, state: YouTubeState) {
  router.get('/youtube-analytics/v2/reports', (ctx) => report(ctx, state));
}

interface Query {
  from: number;
  to: number;
  metrics: MetricName[];
  dimensions: Dimension[];
  videoFilter: Set<string> | null;
  sort: Array<{ column: string; descending: boolean }>;
  maxResults: number | null;
  startIndex: number;
}

function unsupported(ctx: RequestContext) {
  sendGoogleError(ctx, 400, UNSUPPORTED_QUERY, { reason: 'badRequest' });
}

function unknownIdentifier(ctx: RequestContext, value: string, field: string) {
  sendGoogleError(ctx, 400, `Unknown identifier (${value}) given in field parameters.${field}.`, { reason: 'badRequest' });
}

// Each step below answers the error itself and returns undefined when its part is invalid, so
// the first invalid parameter in the API's own order is the one reported.

/** Validates the query string; answers the error itself and returns undefined when invalid. */
function parseQuery(ctx: RequestContext, ownChannelId: string): Query | undefined {
  for (const name of ['ids', 'startDate', 'endDate', 'metrics']) {
    if (!ctx.query.get(name)) {
      requiredParameter(ctx, name);
      return undefined;
    }
  }
  if (!checkChannel(ctx, ownChannelId)) return undefined;
  const dates = parseDates(ctx);
  if (!dates) return undefined;
  const metrics = parseMetrics(ctx);
  if (!metrics) return undefined;
  const dimensions = parseDimensions(ctx);
  if (!dimensions) return undefined;
  const filters = parseFilters(ctx);
  if (!filters) return undefined;
  const sort = parseSort(ctx, new Set<string>([...dimensions, ...metrics]));
  if (!sort) return undefined;
  const maxResults = parsePositive(ctx, 'maxResults', null);
  if (maxResults === undefined) return undefined;
  const startIndex = parsePositive(ctx, 'startIndex', 1);
  if (startIndex === undefined) return undefined;
  if (!checkTopVideos(ctx, dimensions, sort, maxResults)) return undefined;
  const [from, to] = dates;
  return { from, to, metrics, dimensions, videoFilter: filters.video, sort, maxResults, startIndex };
}

function checkChannel(ctx: RequestContext, ownChannelId: string): boolean {
  const ids = ctx.query.get('ids')!;
  const idMatch = /^channel==(.+)$/.exec(ids);
  if (!idMatch) {
    if (ids.startsWith('contentOwner==')) notImplemented(ctx, 'Content owner reports');
    else
      invalidParameter(
        ctx,
        'ids',
        `Invalid value '${ids}'. Values must match the following regular expression: '(channel|contentOwner)==[^,]+'`,
      );
    return false;
  }
  if (idMatch[1] !== 'MINE' && idMatch[1] !== ownChannelId) {
    sendGoogleError(ctx, 403, 'Forbidden', { reason: 'forbidden' });
    return false;
  }
  return true;
}

function parseDates(ctx: RequestContext): [number, number] | undefined {
  const dates: number[] = [];
  for (const name of ['startDate', 'endDate']) {
    const raw = ctx.query.get(name)!;
    const day = parseDayKey(raw);
    if (day === undefined) {
      invalidParameter(
        ctx,
        name,
        `Invalid value '${raw}'. Values must match the following regular expression: '[0-9]{4}-[0-9]{2}-[0-9]{2}'`,
      );
      return undefined;
    }
    dates.push(day);
  }
  const [from, to] = dates as [number, number];
  if (from > to) {
    sendGoogleError(ctx, 400, 'The start date must be before or equal to the end date.', { reason: 'badRequest' });
    return undefined;
  }
  return [from, to];
}

function parseMetrics(ctx: RequestContext): MetricName[] | undefined {
  const metrics: MetricName[] = [];
  for (const m of splitList(ctx.query.get('metrics')!)) {
    if (!isMetricName(m)) return void unknownIdentifier(ctx, m, 'metrics');
    if (!metrics.includes(m)) metrics.push(m);
  }
  return metrics;
}

function parseDimensions(ctx: RequestContext): Dimension[] | undefined {
  const dimensions: Dimension[] = [];
  for (const d of splitList(ctx.query.get('dimensions') ?? '')) {
    if (KNOWN_UNSUPPORTED.includes(d)) return void notImplemented(ctx, `dimension ${d}`);
    if (!DIMENSIONS.includes(d)) return void unknownIdentifier(ctx, d, 'dimensions');
    if (dimensions.includes(d as Dimension)) return void unsupported(ctx);
    dimensions.push(d as Dimension);
  }
  return dimensions;
}

/** The only filter the fake computes is by video; `video: null` means every video. */
function parseFilters(ctx: RequestContext): { video: Set<string> | null } | undefined {
  let video: Set<string> | null = null;
  for (const f of (ctx.query.get('filters') ?? '').split(';').filter((s) => s.length > 0)) {
    const m = /^([A-Za-z]+)==(.+)$/.exec(f);
    if (!m) return void invalidParameter(ctx, 'filters', `Invalid filter expression '${f}'.`);
    if (KNOWN_UNSUPPORTED.includes(m[1]!)) return void notImplemented(ctx, `filter ${m[1]}`);
    if (m[1] !== 'video') return void unknownIdentifier(ctx, m[1]!, 'filters');
    video = new Set(splitList(m[2]!));
  }
  return { video };
}

function parseSort(ctx: RequestContext, columns: Set<string>): Query['sort'] | undefined {
  const sort: Query['sort'] = [];
  for (const s of splitList(ctx.query.get('sort') ?? '')) {
    const column = s.replace(/^-/, '');
    if (!columns.has(column)) return void unsupported(ctx);
    sort.push({ column, descending: s.startsWith('-') });
  }
  return sort;
}

function parsePositive<T extends number | null>(ctx: RequestContext, name: string, fallback: T): number | T | undefined {
  const raw = ctx.query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    return void invalidParameter(ctx, name, `Invalid value '${raw}'. Values must be positive integers.`);
  return Number(raw);
}

function checkTopVideos(ctx: RequestContext, dimensions: Dimension[], sort: Query['sort'], maxResults: number | null): boolean {
  const topVideos = dimensions.length === 1 && dimensions[0] === 'video';
  if (!topVideos) return true;
  const first = sort[0];
  const sortedByMetricDesc = first !== undefined && first.descending && isMetricName(first.column);
  if (!sortedByMetricDesc || maxResults === null || maxResults > TOP_VIDEOS_MAX_RESULTS) {
    unsupported(ctx);
    return false;
  }
  return true;
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function report(ctx: RequestContext, state: YouTubeState) {
  const caller = authenticate(ctx, state, { keyAllowed: false, scopes: ANALYTICS_SCOPES });
  if (!caller || caller.kind !== 'oauth') return;
  const q = parseQuery(ctx, caller.channelId);
  if (!q) return;
  const channel = state.channels.get(caller.channelId);
  const videos = (channel?.videos ?? []).filter((v) => q.videoFilter === null || q.videoFilter.has(v.id));
  const lastDay = Math.min(q.to, state.lastAnalyticsDay());
  if (q.dimensions.length === 2 && videoDays(videos, q.from, lastDay) > MAX_VIDEO_DAY_ROWS) {
    sendGoogleError(
      ctx,
      400,
      `The local YouTube fake limits day,video reports to ${MAX_VIDEO_DAY_ROWS} rows: narrow the date range or filter by video.`,
      { reason: 'badRequest' },
    );
    return;
  }
  const rows = buildRows(q, videos, lastDay);

  const body: Record<string, unknown> = {
    kind: 'youtubeAnalytics#resultTable',
    columnHeaders: [
      ...q.dimensions.map((name) => ({ name, columnType: 'DIMENSION', dataType: 'STRING' })),
      ...q.metrics.map((name) => ({ name, columnType: 'METRIC', dataType: METRICS[name] })),
    ],
  };
  // The API leaves `rows` out entirely when there is no data for the query.
  if (rows.length > 0) body.rows = rows;
  ctx.sendJson(200, body);
}

// A limit of the fake, not of YouTube: a year of a 5,000-video channel by day and video is about
// a million rows, which would take the fake seconds to compute for a query no product makes.
const MAX_VIDEO_DAY_ROWS = 200_000;

function videoDays(videos: FakeVideo[], from: number, lastDay: number): number {
  let n = 0;
  for (const v of videos) n += Math.max(0, lastDay - Math.max(from, dayNumber(v.publishedAt)) + 1);
  return n;
}

type Row = Array<string | number>;

function buildRows(q: Query, videos: FakeVideo[], lastDay: number): Row[] {
  const groups = new Map<string, { dims: string[]; totals: MetricTotals }>();
  for (const video of videos) {
    const first = Math.max(q.from, dayNumber(video.publishedAt));
    for (let day = first; day <= lastDay; day++) {
      const m = videoDayMetrics(video, day);
      if (!m) continue;
      const dims = q.dimensions.map((d) => (d === 'day' ? dayKey(day) : video.id));
      const key = dims.join('|');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { dims, totals: new MetricTotals() }));
      g.totals.add(m);
    }
  }
  const rows: Row[] = [...groups.values()].map(({ dims, totals }) => {
    const result = totals.result();
    return [...dims, ...q.metrics.map((m) => result[m])];
  });

  const columns = [...q.dimensions, ...q.metrics] as string[];
  // Without a sort the rows come in dimension order (days ascending).
  const order = q.sort.length > 0 ? q.sort : q.dimensions.map((column) => ({ column, descending: false }));
  rows.sort((a, b) => {
    for (const { column, descending } of order) {
      const i = columns.indexOf(column);
      const x = a[i]!;
      const y = b[i]!;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : compareText(String(x), String(y));
      if (c !== 0) return descending ? -c : c;
    }
    // Ties keep a stable, deterministic order.
    return compareText(String(a.slice(0, q.dimensions.length)), String(b.slice(0, q.dimensions.length)));
  });
  const start = q.startIndex - 1;
  return rows.slice(start, q.maxResults === null ? undefined : start + q.maxResults);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
