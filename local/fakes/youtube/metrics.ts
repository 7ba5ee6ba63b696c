// Per (video, day) analytics numbers. They are pure functions of the video's profile and the day,
// so a report asked twice is identical, and videos.list statistics (lifetime sums) agree with the
// analytics rows they are made of.
import { mix2 } from '../core/random.ts';
import type { FakeVideo } from './catalog.ts';
import { DAY_MS, dayNumber } from './time.ts';

export const METRICS = {
  views: 'INTEGER',
  estimatedMinutesWatched: 'INTEGER',
  averageViewDuration: 'INTEGER',
  averageViewPercentage: 'FLOAT',
  likes: 'INTEGER',
  comments: 'INTEGER',
  shares: 'INTEGER',
  subscribersGained: 'INTEGER',
  subscribersLost: 'INTEGER',
} as const;

export type MetricName = keyof typeof METRICS;
export type DayMetrics = Record<MetricName, number>;

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

/** Metrics of one video on one UTC day; undefined before the video was published. */
export function videoDayMetrics(video: FakeVideo, day: number): DayMetrics | undefined {
  const publishDay = dayNumber(video.publishedAt);
  const age = day - publishDay;
  if (age < 0) return undefined;
  // Uniform draws for this (video, day): one hash, stepped with xorshift for each next draw.
  let h = mix2(video.seed, day) || 1;
  const r = () => {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    return (h >>> 0) / 0x1_0000_0000;
  };
  // The first day only counts the hours after publishing.
  const shareOfDay = age === 0 ? (DAY_MS - (video.publishedAt - publishDay * DAY_MS)) / DAY_MS : 1;
  // Shorts spike and fade within days; long-form decays slowly with a long tail.
  const curve = video.isShort ? Math.exp(-age / 4) + 0.01 : 1 / Math.pow(1 + age * 0.6, 1.1) + 0.015;
  const weekday = (day + 4) % 7; // 1970-01-01, day 0, was a Thursday
  const weekend = weekday === 0 || weekday === 6 ? 1.2 : 1;
  const views = Math.round(video.peakViews * curve * shareOfDay * weekend * (0.75 + 0.5 * r()));

  const retention = Math.min(0.7, Math.max(0.2, video.retention * (0.92 + 0.16 * r())));
  const secondsPerView = video.durationSeconds * retention;
  const subscribersGained = Math.round(views * video.subscribeRate * (0.7 + 0.6 * r()));
  return {
    views,
    estimatedMinutesWatched: Math.round((views * secondsPerView) / 60),
    averageViewDuration: views > 0 ? Math.round(secondsPerView) : 0,
    averageViewPercentage: views > 0 ? Math.round(retention * 10_000) / 100 : 0,
    likes: Math.round(views * video.likeRate * (0.8 + 0.4 * r())),
    comments: Math.round(views * video.commentRate * (0.6 + 0.8 * r())),
    shares: Math.round(views * video.shareRate * (0.6 + 0.8 * r())),
    subscribersGained,
    subscribersLost: Math.round(subscribersGained * (0.05 + 0.25 * r())),
  };
}

/** Sums counts and view-weights the averages, the way YouTube aggregates rows. */
export class MetricTotals {
  private sums = { views: 0, estimatedMinutesWatched: 0, likes: 0, comments: 0, shares: 0, subscribersGained: 0, subscribersLost: 0 };
  private durationWeighted = 0;
  private percentWeighted = 0;

  add(m: DayMetrics) {
    const s = this.sums;
    s.views += m.views;
    s.estimatedMinutesWatched += m.estimatedMinutesWatched;
    s.likes += m.likes;
    s.comments += m.comments;
    s.shares += m.shares;
    s.subscribersGained += m.subscribersGained;
    s.subscribersLost += m.subscribersLost;
    this.durationWeighted += m.averageViewDuration * m.views;
    this.percentWeighted += m.averageViewPercentage * m.views;
  }

  result(): DayMetrics {
    const v = this.sums.views;
    return {
      ...this.sums,
      averageViewDuration: v > 0 ? Math.round(this.durationWeighted / v) : 0,
      averageViewPercentage: v > 0 ? Math.round((this.percentWeighted / v) * 100) / 100 : 0,
    };
  }
}

/** Lifetime totals of a video up to and including `lastDay`. */
export function lifetimeMetrics(video: FakeVideo, lastDay: number): DayMetrics {
  const totals = new MetricTotals();
  for (let day = dayNumber(video.publishedAt); day <= lastDay; day++) {
    const m = videoDayMetrics(video, day);
    if (m) totals.add(m);
  }
  return totals.result();
}
