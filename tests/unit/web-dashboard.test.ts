import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';
import {
  bucketLabel,
  explainScore,
  formatDay,
  formatDayRange,
  kpiCards,
  patternView,
  patternViews,
  percentileText,
  scoreOverTime,
  youtubeWatchUrl,
} from '../../web/src/lib/dashboard.ts';
import { getInsights, insightsState, type Insights, type ScoreComponents } from '../../web/src/lib/insights.ts';

const plain = (s: string) => s.replace(/\s+/g, ' ');

const totals: Insights['totals'] = {
  views: { current: 117200, previous: 105349, change_pct: 11.2 },
  watch_minutes: { current: 276320, previous: 286181, change_pct: -3.4 },
  subscribers_net: { current: 215, previous: 241, change_pct: -10.8 },
  likes: { current: 4798, previous: 4090, change_pct: 17.3 },
  comments: { current: 0, previous: 0, change_pct: null },
};

// The worked example of docs/scoring.md (video V1).
const v1: ScoreComponents = {
  version: 1,
  comparison: 'mature',
  horizon_days: null,
  peers: 4,
  days_of_data: 41,
  as_of: '2026-02-10',
  views: 4000,
  velocity: { value: 100, channel_median: 75, ratio_to_median: 1.3333, percentile: 66.67, weight: 0.4 },
  retention: { value: 46, percentile: 33.33, weight: 0.25 },
  engagement: { value: 0.035, percentile: 66.67, weight: 0.2 },
  subscriber_conversion: { value: 5, percentile: 33.33, weight: 0.15 },
  blend: 53.33,
};

function insightsDoc(overrides: Partial<Insights> = {}): Insights {
  return {
    workspace_id: 'w1',
    channel_id: null,
    generated_at: '2026-11-26T06:21:09Z',
    time_zone: 'Europe/Berlin',
    as_of: '2026-11-24',
    periods: { current: { from: '2026-10-28', to: '2026-11-24' }, previous: { from: '2026-09-30', to: '2026-10-27' } },
    channels: [{ id: 'c1', youtube_channel_id: 'UC1', title: 'Kitchen', status: 'active', last_synced_at: null }],
    totals,
    top_videos: [
      {
        video_id: 'v1',
        youtube_video_id: 'abc_DEF-123',
        channel_id: 'c1',
        title: 'Pasta',
        published_at: '2026-02-02T22:52:32+00:00',
        duration_seconds: 25,
        is_short: true,
        view_count: 91896,
        score: 66.67,
        components: v1,
      },
    ],
    score_over_time: [],
    patterns: {},
    ...overrides,
  };
}

test('KPI cards: the API value, its display, the change and whether it is good', () => {
  const cards = kpiCards(totals, 'en');
  assert.deepEqual(
    cards.map((c) => c.key),
    ['views', 'watch_minutes', 'subscribers_net', 'likes', 'comments'],
  );
  const [views, watch, subs, , comments] = cards;
  assert.equal(views.value, 117200);
  assert.equal(views.display, '117,200');
  assert.equal(views.previousDisplay, '105,349');
  assert.equal(views.change, '+11.2%');
  assert.deepEqual([views.direction, views.tone], ['up', 'good']);
  assert.equal(watch.display, '4,605h', 'watch time in hours');
  assert.equal(watch.change, '-3.4%');
  assert.deepEqual([subs.direction, subs.tone], ['down', 'bad']);
  assert.deepEqual([comments.change, comments.direction, comments.tone], ['—', 'none', 'neutral']);
  assert.equal(kpiCards(totals, 'de')[0].display, '117.200');
});

test('calendar days never shift with the time zone; ranges read naturally', () => {
  assert.equal(formatDay('2026-11-24', 'en'), 'Nov 24, 2026');
  assert.equal(formatDay('2026-11-23', 'en', false), 'Nov 23');
  assert.equal(formatDay('not a day', 'en'), 'not a day');
  assert.equal(plain(formatDayRange('2026-10-28', '2026-11-24', 'en')), 'Oct 28 – Nov 24, 2026');
  assert.equal(plain(formatDayRange('2025-12-20', '2026-01-16', 'en')), 'Dec 20, 2025 – Jan 16, 2026');
});

test('score over time is sorted by week, labelled, with the number of videos per point', () => {
  const s = scoreOverTime(
    [
      { week: '2026-11-23', average_score: 50.5, videos: 118 },
      { week: '2026-11-16', average_score: 48, videos: 1 },
    ],
    'en',
  );
  assert.deepEqual(s.labels, ['Nov 16', 'Nov 23']);
  assert.deepEqual(s.values, [48, 50.5]);
  assert.deepEqual(s.notes, ['1 video', '118 videos']);
  assert.deepEqual(scoreOverTime([], 'en'), { labels: [], values: [], notes: [] });
});

test('a score is explained by its components, which add up to the blend', () => {
  const why = explainScore(66.67, v1, 'en');
  assert.equal(why.comparison, 'Ranked against 4 videos of the same channel with at least 7 days of data.');
  assert.deepEqual(
    why.rows.map((r) => [r.key, r.weight, r.percentile, r.contribution]),
    [
      ['velocity', 0.4, 66.67, 26.7],
      ['retention', 0.25, 33.33, 8.3],
      ['engagement', 0.2, 66.67, 13.3],
      ['subscriber_conversion', 0.15, 33.33, 5],
    ],
  );
  const sum = why.rows.reduce((a, r) => a + r.contribution, 0);
  assert.ok(Math.abs(sum - v1.blend) < 0.2, `contributions ${sum} ≈ blend ${v1.blend}`);
  assert.equal(why.rows[0].measured, '100 views a day over its first 28 days (1.3× the channel median of 75)');
  assert.equal(why.rows[1].measured, 'viewers watched 46% of it on average');
  assert.equal(why.rows[2].measured, '3.5% of views led to a like, comment or share');
  assert.equal(why.rows[3].measured, '5 net subscribers per 1,000 views');
  assert.match(why.summary, /^Blend 53\.3 of 100 .* Score 66\.7: the blend's rank among the 4 videos\.$/);
  assert.equal(percentileText(66.67, 'en'), 'ahead of 67% of the group');
});

test('a young video is explained against the first N days of its peers', () => {
  const young: ScoreComponents = {
    ...v1,
    comparison: 'first_n_days',
    horizon_days: 3,
    days_of_data: 3,
    velocity: { ...v1.velocity, ratio_to_median: null },
  };
  const why = explainScore(40, young, 'en');
  assert.equal(why.comparison, 'Only 3 days of data so far: ranked against how 4 videos of the channel did in their first 3 days.');
  assert.equal(why.rows[0].measured, '100 views a day over its first 3 days');
  const one = explainScore(40, { ...young, horizon_days: 1, days_of_data: 1 }, 'en');
  assert.match(one.comparison, /^Only 1 day of data so far: .* their first 1 day\.$/);
});

test('pattern buckets: weekdays and hours in the locale, ranges spelled out, unknown kept', () => {
  assert.equal(bucketLabel('publish_weekday', 'Saturday', 'en'), 'Saturday');
  assert.equal(bucketLabel('publish_weekday', 'Saturday', 'de'), 'Samstag');
  assert.equal(bucketLabel('publish_weekday', 'Someday', 'en'), 'Someday');
  assert.equal(plain(bucketLabel('publish_hour', '10', 'en')), '10:00 AM');
  assert.equal(bucketLabel('publish_hour', '22', 'de'), '22:00');
  assert.equal(bucketLabel('publish_hour', '99', 'en'), '99');
  assert.equal(bucketLabel('duration', '<60s'), 'Under 1 min');
  assert.equal(bucketLabel('duration', '>15min'), 'Over 15 min');
  assert.equal(bucketLabel('title_length', '<=30'), 'Up to 30 chars');
  assert.equal(bucketLabel('format', 'long_form'), 'Long-form');
  assert.equal(bucketLabel('format', 'live'), 'live');
});

test('a pattern becomes chart data with its best bucket named (hours with their time zone)', () => {
  const hours = patternView(
    'publish_hour',
    {
      buckets: [
        { bucket: '08', videos: 7, median_score: 37.61, average_score: 40 },
        { bucket: '10', videos: 9, median_score: 71.79, average_score: 56 },
      ],
      best: '10',
    },
    'en',
    'America/New_York',
  );
  assert.deepEqual(hours.labels.map(plain), ['8:00 AM', '10:00 AM']);
  assert.deepEqual(hours.medians, [37.61, 71.79]);
  assert.deepEqual(hours.videos, [7, 9]);
  assert.equal(hours.bestIndex, 1);
  assert.equal(plain(hours.bestText), 'Best: 10:00 AM (America/New York), median score 72 over 9 videos');

  const none = patternView('format', { buckets: [{ bucket: 'short', videos: 2, median_score: 80, average_score: 80 }], best: null }, 'en');
  assert.equal(none.bestIndex, null);
  assert.equal(none.bestText, 'No bucket has 3 or more videos yet');

  const views = patternViews(
    {
      duration: { buckets: [{ bucket: '<60s', videos: 3, median_score: 70, average_score: 70 }], best: '<60s' },
      format: { buckets: [], best: null },
    },
    'en',
  );
  assert.deepEqual(
    views.map((v) => v.key),
    ['duration'],
    'empty patterns are left out',
  );
});

test('insights state: no channels, waiting for the first sync, ready', () => {
  assert.equal(insightsState({ channels: [], as_of: null }), 'no-channels');
  assert.equal(insightsState(insightsDoc({ as_of: null })), 'awaiting-data');
  assert.equal(insightsState(insightsDoc()), 'ready');
});

test('getInsights asks for the workspace (and channel) and checks the answer', async () => {
  const calls: string[] = [];
  const doc = insightsDoc();
  const client: FunctionsInvoker = {
    functions: {
      invoke: async (name) => {
        calls.push(name);
        return { data: { insights: doc }, error: null };
      },
    },
  };
  assert.deepEqual(await getInsights(client, 'w1'), doc);
  await getInsights(client, 'w1', 'c1');
  assert.deepEqual(calls, ['insights?workspace_id=w1', 'insights?workspace_id=w1&channel_id=c1']);

  const broken: FunctionsInvoker = { functions: { invoke: async () => ({ data: { insights: { ...doc, totals: {} } }, error: null }) } };
  await assert.rejects(getInsights(broken, 'w1'), (err: unknown) => err instanceof ApiError && err.code === 'unexpected_response');
});

test('watch links are YouTube URLs with the id encoded', () => {
  assert.equal(youtubeWatchUrl('abc_DEF-123'), 'https://www.youtube.com/watch?v=abc_DEF-123');
  assert.equal(youtubeWatchUrl('a&b'), 'https://www.youtube.com/watch?v=a%26b');
});
