// Turns the insights document into what the dashboard shows: KPI cards with their change, the
// score-over-time series, the explanation of a video's score, and the publishing patterns with
// readable bucket names. Pure functions of (data, locale), so they are tested without a browser.
import { formatNumber, safeLocale } from './format.ts';
import type { Insights, Pattern, PatternKey, ScoreComponents, TotalKey, Totals } from './insights.ts';
import {
  changeDirection,
  formatDecimal,
  formatPercent,
  formatRatioAsPercent,
  formatSignedPercent,
  formatWatchHours,
  type Direction,
} from './metric-format.ts';

export interface KpiCard {
  key: TotalKey;
  label: string;
  /** The raw current value (what the API returned), for tests and data attributes. */
  value: number;
  display: string;
  previousDisplay: string;
  change: string;
  direction: Direction;
  /** More of every KPI we show is better, so up is good; kept explicit for readers of the card. */
  tone: 'good' | 'bad' | 'neutral';
  hint: string;
}

const KPI_LABELS: Record<TotalKey, { label: string; hint: string }> = {
  views: { label: 'Views', hint: 'Views of all videos in the period.' },
  watch_minutes: { label: 'Watch time', hint: 'Hours watched (YouTube reports minutes).' },
  subscribers_net: { label: 'Net subscribers', hint: 'Subscribers gained minus subscribers lost.' },
  likes: { label: 'Likes', hint: 'Likes on all videos in the period.' },
  comments: { label: 'Comments', hint: 'Comments on all videos in the period.' },
};

const KPI_ORDER: TotalKey[] = ['views', 'watch_minutes', 'subscribers_net', 'likes', 'comments'];

function formatTotal(key: TotalKey, value: number, locale: string): string {
  return key === 'watch_minutes' ? formatWatchHours(value, locale) : formatNumber(value, locale);
}

export function kpiCards(totals: Totals, locale = 'en'): KpiCard[] {
  return KPI_ORDER.map((key) => {
    const t = totals[key];
    const direction = changeDirection(t.change_pct);
    return {
      key,
      label: KPI_LABELS[key].label,
      hint: KPI_LABELS[key].hint,
      value: t.current,
      display: formatTotal(key, t.current, locale),
      previousDisplay: formatTotal(key, t.previous, locale),
      change: formatSignedPercent(t.change_pct, locale),
      direction,
      tone: direction === 'up' ? 'good' : direction === 'down' ? 'bad' : 'neutral',
    };
  });
}

/** "2026-11-24" is a calendar day, not an instant: read and shown in UTC so it never shifts a day. */
function calendarDay(day: string): Date {
  return new Date(`${day.slice(0, 10)}T00:00:00Z`);
}

export function formatDay(day: string, locale = 'en', withYear = true): string {
  const d = calendarDay(day);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(safeLocale(locale), {
    month: 'short',
    day: 'numeric',
    ...(withYear ? { year: 'numeric' } : {}),
    timeZone: 'UTC',
  }).format(d);
}

/** "Oct 28 – Nov 24, 2026" for the 28-day window the KPIs cover. */
export function formatDayRange(from: string, to: string, locale = 'en'): string {
  const a = calendarDay(from);
  const b = calendarDay(to);
  if (Number.isNaN(a.getTime()) || Number.isNaN(b.getTime())) return `${from} – ${to}`;
  return new Intl.DateTimeFormat(safeLocale(locale), { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' }).formatRange(
    a,
    b,
  );
}

export interface Series {
  labels: string[];
  values: (number | null)[];
  /** Extra numbers per point for tooltips and the data table (e.g. videos scored that week). */
  notes: string[];
}

/** Weekly average score, labelled "Week of Nov 23". */
export function scoreOverTime(points: Insights['score_over_time'], locale = 'en'): Series {
  const sorted = [...points].sort((a, b) => a.week.localeCompare(b.week));
  return {
    labels: sorted.map((p) => formatDay(p.week, locale, false)),
    values: sorted.map((p) => p.average_score),
    notes: sorted.map((p) => `${formatNumber(p.videos, locale)} ${p.videos === 1 ? 'video' : 'videos'}`),
  };
}

export interface ComponentRow {
  key: 'velocity' | 'retention' | 'engagement' | 'subscriber_conversion';
  label: string;
  /** The measured value in words, e.g. "1,960 views a day (14.5× the channel median)". */
  measured: string;
  percentile: number;
  weight: number;
  /** Points this component adds to the blend (weight × percentile). */
  contribution: number;
}

export interface ScoreExplanation {
  comparison: string;
  rows: ComponentRow[];
  blend: number;
  summary: string;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Why a video has its score: each component, how it ranks, and how much it weighs (docs/scoring.md). */
export function explainScore(score: number, c: ScoreComponents, locale = 'en'): ScoreExplanation {
  const peers = formatNumber(c.peers, locale);
  const window = c.comparison === 'first_n_days' ? (c.horizon_days ?? c.days_of_data) : Math.min(c.days_of_data, 28);
  const comparison =
    c.comparison === 'first_n_days'
      ? `Only ${formatNumber(window, locale)} ${window === 1 ? 'day' : 'days'} of data so far: ranked against how ${peers} videos of the channel did in their first ${formatNumber(window, locale)} ${window === 1 ? 'day' : 'days'}.`
      : `Ranked against ${peers} videos of the same channel with at least 7 days of data.`;
  const ratio = c.velocity.ratio_to_median;
  const row = (key: ComponentRow['key'], label: string, measured: string, part: { percentile: number; weight: number }): ComponentRow => ({
    key,
    label,
    measured,
    percentile: part.percentile,
    weight: part.weight,
    contribution: round1(part.weight * part.percentile),
  });
  const rows = [
    row(
      'velocity',
      'Views velocity',
      `${formatDecimal(c.velocity.value, locale, 0)} views a day over its first ${formatNumber(window, locale)} ${window === 1 ? 'day' : 'days'}${
        ratio === null
          ? ''
          : ` (${formatDecimal(ratio, locale, 1)}× the channel median of ${formatDecimal(c.velocity.channel_median, locale, 0)})`
      }`,
      c.velocity,
    ),
    row('retention', 'Retention', `viewers watched ${formatPercent(c.retention.value, locale)} of it on average`, c.retention),
    row(
      'engagement',
      'Engagement',
      `${formatRatioAsPercent(c.engagement.value, locale, 2)} of views led to a like, comment or share`,
      c.engagement,
    ),
    row(
      'subscriber_conversion',
      'Subscriber conversion',
      `${formatDecimal(c.subscriber_conversion.value, locale, 1)} net subscribers per 1,000 views`,
      c.subscriber_conversion,
    ),
  ];
  const summary = `Blend ${formatDecimal(c.blend, locale, 1)} of 100 (the weighted percentiles). Score ${formatDecimal(score, locale, 1)}: the blend's rank among the ${peers} videos.`;
  return { comparison, rows, blend: c.blend, summary };
}

/** 98.29 → "ahead of 98% of the group" (percent_rank: the share of the other videos ranked below). */
export function percentileText(percentile: number, locale = 'en'): string {
  return `ahead of ${formatPercent(percentile, locale, 0)} of the group`;
}

export const PATTERN_TITLES: Record<PatternKey, string> = {
  publish_weekday: 'Publish weekday',
  publish_hour: 'Publish hour',
  duration: 'Duration',
  title_length: 'Title length',
  format: 'Shorts vs long-form',
};

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const FIXED_BUCKETS: Partial<Record<PatternKey, Record<string, string>>> = {
  duration: { '<60s': 'Under 1 min', '1-5min': '1–5 min', '5-15min': '5–15 min', '>15min': 'Over 15 min' },
  title_length: { '<=30': 'Up to 30 chars', '31-50': '31–50 chars', '51-70': '51–70 chars', '>70': 'Over 70 chars' },
  format: { short: 'Shorts', long_form: 'Long-form' },
};

/** A bucket as the user reads it: weekdays and hours in their locale, ranges spelled out. */
export function bucketLabel(key: PatternKey, bucket: string, locale = 'en'): string {
  const loc = safeLocale(locale);
  if (key === 'publish_weekday') {
    const i = WEEKDAYS.indexOf(bucket);
    // 2024-01-01 was a Monday.
    return i < 0 ? bucket : new Intl.DateTimeFormat(loc, { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + i)));
  }
  if (key === 'publish_hour') {
    const h = Number(bucket);
    if (!/^\d{1,2}$/.test(bucket) || h > 23) return bucket;
    return new Intl.DateTimeFormat(loc, { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1, h)));
  }
  return FIXED_BUCKETS[key]?.[bucket] ?? bucket;
}

export interface PatternView {
  key: PatternKey;
  title: string;
  labels: string[];
  medians: number[];
  videos: number[];
  bestIndex: number | null;
  bestText: string;
}

/** One pattern as a bar chart: median score per bucket, the best bucket (≥ 3 videos) named. */
export function patternView(key: PatternKey, pattern: Pattern, locale = 'en', timeZone = 'UTC'): PatternView {
  const labels = pattern.buckets.map((b) => bucketLabel(key, b.bucket, locale));
  const bestIndex = pattern.best === null ? -1 : pattern.buckets.findIndex((b) => b.bucket === pattern.best);
  const best = bestIndex >= 0 ? pattern.buckets[bestIndex] : null;
  const where = key === 'publish_hour' ? ` (${timeZone.replaceAll('_', ' ')})` : '';
  const bestText = best
    ? `Best: ${labels[bestIndex]}${where}, median score ${formatDecimal(best.median_score, locale, 0)} over ${formatNumber(best.videos, locale)} videos`
    : 'No bucket has 3 or more videos yet';
  return {
    key,
    title: PATTERN_TITLES[key],
    labels,
    medians: pattern.buckets.map((b) => b.median_score),
    videos: pattern.buckets.map((b) => b.videos),
    bestIndex: bestIndex >= 0 ? bestIndex : null,
    bestText,
  };
}

export function patternViews(patterns: Insights['patterns'], locale = 'en', timeZone = 'UTC'): PatternView[] {
  const keys: PatternKey[] = ['publish_weekday', 'publish_hour', 'duration', 'title_length', 'format'];
  return keys.flatMap((key) => {
    const p = patterns[key];
    return p && p.buckets.length > 0 ? [patternView(key, p, locale, timeZone)] : [];
  });
}

export function youtubeWatchUrl(youtubeVideoId: string): string {
  return `https://www.youtube.com/watch?v=${encodeURIComponent(youtubeVideoId)}`;
}
