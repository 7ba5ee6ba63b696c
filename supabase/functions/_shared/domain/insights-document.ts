// The insights document of a workspace (or one of its channels), as public.workspace_insights()
// computes it for a member, served stored by public.workspace_insights_cached while the
// workspace's data is unchanged (the computation grows with the workspace, the stored read does
// not). Shared by the insights function and by content generation, which feeds it to Gemini. Parsed with zod so a change in the SQL that
// breaks the shape fails loudly here instead of reaching a client or a prompt half-filled.
import { z } from 'zod';
import type { Tx } from '../platform/db.ts';

const Num = z.coerce.number();
const Change = z.object({ current: Num, previous: Num, change_pct: Num.nullable() });
const Component = z.looseObject({ value: Num, percentile: Num, weight: Num });

export const ScoreComponents = z.looseObject({
  version: z.number(),
  comparison: z.enum(['mature', 'first_n_days']),
  horizon_days: z.number().nullable(),
  peers: z.number(),
  days_of_data: z.number(),
  as_of: z.string(),
  views: Num,
  velocity: Component.extend({ channel_median: Num, ratio_to_median: Num.nullable() }),
  retention: Component,
  engagement: Component,
  subscriber_conversion: Component,
  blend: Num,
});

const Bucket = z.object({ bucket: z.string(), videos: z.number(), median_score: Num, average_score: Num });
const Pattern = z.object({ buckets: z.array(Bucket), best: z.string().nullable() });

export const Insights = z.object({
  workspace_id: z.string(),
  channel_id: z.string().nullable(),
  generated_at: z.string(),
  time_zone: z.string(),
  as_of: z.string().nullable(),
  periods: z
    .object({
      current: z.object({ from: z.string(), to: z.string() }),
      previous: z.object({ from: z.string(), to: z.string() }),
    })
    .nullable(),
  channels: z.array(
    z.object({
      id: z.string(),
      youtube_channel_id: z.string(),
      title: z.string().nullable(),
      status: z.string(),
      last_synced_at: z.string().nullable(),
    }),
  ),
  totals: z.object({
    views: Change,
    watch_minutes: Change,
    subscribers_net: Change,
    likes: Change,
    comments: Change,
  }),
  top_videos: z.array(
    z.object({
      video_id: z.string(),
      youtube_video_id: z.string(),
      channel_id: z.string(),
      title: z.string().nullable(),
      published_at: z.string().nullable(),
      duration_seconds: z.number().nullable(),
      is_short: z.boolean().nullable(),
      view_count: z.number().nullable(),
      score: Num,
      components: ScoreComponents,
    }),
  ),
  score_over_time: z.array(z.object({ week: z.string(), average_score: Num, videos: z.number() })),
  patterns: z.object({
    publish_weekday: Pattern.optional(),
    publish_hour: Pattern.optional(),
    duration: Pattern.optional(),
    title_length: Pattern.optional(),
    format: Pattern.optional(),
  }),
});
export type Insights = z.infer<typeof Insights>;

export type InsightsLookup = { found: true; insights: Insights } | { found: false; missing: 'workspace' | 'channel' };

/** Runs in the caller's transaction (asUser), so only what RLS shows them goes in. */
export async function loadInsights(tx: Tx, workspaceId: string, channelId: string | null): Promise<InsightsLookup> {
  const [row] = await tx<{ doc: unknown; workspace_visible: boolean }[]>`
    select public.workspace_insights_cached(${workspaceId}, ${channelId}) as doc,
      exists (select 1 from public.workspaces w where w.id = ${workspaceId}) as workspace_visible`;
  if (row.doc === null) return { found: false, missing: row.workspace_visible ? 'channel' : 'workspace' };
  return { found: true, insights: Insights.parse(row.doc) };
}
