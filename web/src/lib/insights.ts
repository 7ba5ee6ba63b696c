// The insights function as the dashboard and the channels page call it: what performed in a
// workspace (or one channel of it), checked at the boundary. The shape follows
// supabase/functions/_shared/domain/insights-document.ts (the server parses the same document with zod before it
// answers); fields the UI does not need may be added there without breaking this side.
import * as z from 'zod/mini';
import { callFunction, type FunctionsInvoker } from './api.ts';

const num = z.number();
const Change = z.object({ current: num, previous: num, change_pct: z.nullable(num) });
const Component = z.looseObject({ value: num, percentile: num, weight: num });

export const ScoreComponents = z.looseObject({
  version: num,
  comparison: z.enum(['mature', 'first_n_days']),
  horizon_days: z.nullable(num),
  peers: num,
  days_of_data: num,
  as_of: z.string(),
  views: num,
  velocity: z.looseObject({ value: num, percentile: num, weight: num, channel_median: num, ratio_to_median: z.nullable(num) }),
  retention: Component,
  engagement: Component,
  subscriber_conversion: Component,
  blend: num,
});
export type ScoreComponents = z.infer<typeof ScoreComponents>;

const Bucket = z.object({ bucket: z.string(), videos: num, median_score: num, average_score: num });
export const Pattern = z.object({ buckets: z.array(Bucket), best: z.nullable(z.string()) });
export type Pattern = z.infer<typeof Pattern>;

export const ChannelSummary = z.object({
  id: z.string(),
  youtube_channel_id: z.string(),
  title: z.nullable(z.string()),
  // 'active' | 'reauth_required' | 'disconnected' today; kept open so a new status shows as text
  // instead of breaking the page.
  status: z.string(),
  last_synced_at: z.nullable(z.string()),
});
export type ChannelSummary = z.infer<typeof ChannelSummary>;

export const TopVideo = z.object({
  video_id: z.string(),
  youtube_video_id: z.string(),
  channel_id: z.string(),
  title: z.nullable(z.string()),
  published_at: z.nullable(z.string()),
  duration_seconds: z.nullable(num),
  is_short: z.nullable(z.boolean()),
  view_count: z.nullable(num),
  score: num,
  components: ScoreComponents,
});
export type TopVideo = z.infer<typeof TopVideo>;

export const TOTAL_KEYS = ['views', 'watch_minutes', 'subscribers_net', 'likes', 'comments'] as const;
export type TotalKey = (typeof TOTAL_KEYS)[number];

export const PATTERN_KEYS = ['publish_weekday', 'publish_hour', 'duration', 'title_length', 'format'] as const;
export type PatternKey = (typeof PATTERN_KEYS)[number];

const Period = z.object({ from: z.string(), to: z.string() });

export const Insights = z.object({
  workspace_id: z.string(),
  channel_id: z.nullable(z.string()),
  generated_at: z.string(),
  time_zone: z.string(),
  as_of: z.nullable(z.string()),
  periods: z.nullable(z.object({ current: Period, previous: Period })),
  channels: z.array(ChannelSummary),
  totals: z.object({ views: Change, watch_minutes: Change, subscribers_net: Change, likes: Change, comments: Change }),
  top_videos: z.array(TopVideo),
  score_over_time: z.array(z.object({ week: z.string(), average_score: num, videos: num })),
  patterns: z.object({
    publish_weekday: z.optional(Pattern),
    publish_hour: z.optional(Pattern),
    duration: z.optional(Pattern),
    title_length: z.optional(Pattern),
    format: z.optional(Pattern),
  }),
});
export type Insights = z.infer<typeof Insights>;
export type Totals = Insights['totals'];

export async function getInsights(client: FunctionsInvoker, workspaceId: string, channelId?: string | null): Promise<Insights> {
  const answer = await callFunction(client, 'insights', {
    query: { workspace_id: workspaceId, channel_id: channelId ?? undefined },
    schema: z.object({ insights: Insights }),
  });
  return answer.insights;
}

/** What the dashboard can show: nothing connected, connected but not synced yet, or data. */
export type InsightsState = 'no-channels' | 'awaiting-data' | 'ready';

export function insightsState(insights: Pick<Insights, 'channels' | 'as_of'>): InsightsState {
  if (insights.channels.length === 0) return 'no-channels';
  return insights.as_of === null ? 'awaiting-data' : 'ready';
}
