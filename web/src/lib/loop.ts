// The learning loop as the web app reads it from the insights function: what the engine's
// published suggestions achieved against organic videos (GET insights/loop), one video's lineage
// and outcomes (GET insights/lineage) and what a suggestion was built from (GET insights/evidence).
// Shapes follow supabase/functions/insights/loop.ts, checked at the boundary.
import * as z from 'zod/mini';
import { callFunction, type FunctionsInvoker } from './api.ts';

const num = z.number();
const Interval = z.object({ low: num, high: num, level: num, method: z.string() });
const Group = z.object({
  videos: num,
  status: z.enum(['ok', 'not_enough_data']),
  median_score: z.nullable(num),
  ci: z.nullable(Interval),
  median_velocity_percentile: z.nullable(num),
});
export type LoopGroup = z.infer<typeof Group>;
const Bucket = z.object({ bucket: z.string(), videos: num, status: z.enum(['ok', 'not_enough_data']), median_score: z.nullable(num) });
export type LoopBucket = z.infer<typeof Bucket>;
const OutcomeBrief = z.object({ score: num, velocity_percentile: num, views: num, peers: num });
// Which offered title was published (0-based position) or the person's own ("edited"), with how
// those uploads did at the page's age.
const TitlePick = z.object({
  choice: z.enum(['variant', 'edited']),
  position: z.nullable(num),
  uploads: num,
  pick_rate: num,
  outcome: Group,
});
export type TitlePick = z.infer<typeof TitlePick>;
const TitleChoices = z.object({ uploads: num, picks: z.array(TitlePick), variant: Group, edited: Group });
export type TitleChoices = z.infer<typeof TitleChoices>;

export const LoopInsights = z.object({
  workspace_id: z.string(),
  channel_id: z.nullable(z.string()),
  age_days: num,
  min_videos: num,
  time_zone: z.string(),
  generated_at: z.string(),
  comparison: z.object({
    engine: Group,
    organic: Group,
    verdict: z.enum(['better', 'worse', 'no_clear_difference', 'not_enough_data']),
    difference: z.nullable(num),
  }),
  breakdowns: z.record(z.string(), z.array(Bucket)),
  rejections: z.object({
    rejected: num,
    approved: num,
    by_kind: z.array(z.object({ kind: z.string(), rejected: num, approved: num })),
    recent: z.array(
      z.object({
        content_id: z.string(),
        kind: z.string(),
        version: num,
        title: z.nullable(z.string()),
        reason: z.string(),
        at: z.string(),
      }),
    ),
  }),
  variants: z.object({
    uploads: num,
    with_variants: num,
    chosen: z.array(z.object({ variant: z.nullable(num), uploads: num })),
    titles: TitleChoices,
  }),
  recent_uploads: z.array(
    z.object({
      schedule_id: z.string(),
      youtube_video_id: z.string(),
      video_id: z.nullable(z.string()),
      title: z.nullable(z.string()),
      kind: z.nullable(z.string()),
      tone: z.nullable(z.string()),
      published_at: z.string(),
      outcomes: z.record(z.string(), OutcomeBrief),
    }),
  ),
});
export type LoopInsights = z.infer<typeof LoopInsights>;

const LoopAnswer = z.object({ loop: LoopInsights, summary: z.string() });

export const AGES = [1, 7, 28] as const;
export type Age = (typeof AGES)[number];
export const AGE_LABELS: Record<number, string> = { 1: '24 hours', 7: '7 days', 28: '28 days' };

export function getLoop(client: FunctionsInvoker, workspaceId: string, age: Age, channelId: string | null = null) {
  return callFunction(client, 'insights/loop', {
    query: { workspace_id: workspaceId, age_days: String(age), channel_id: channelId ?? undefined },
    schema: LoopAnswer,
  });
}

const Outcome = z.looseObject({
  age_days: num,
  window_from: z.string(),
  window_to: z.string(),
  views: num,
  velocity: num,
  velocity_percentile: num,
  score: num,
  peers: num,
  channel_median_velocity: num,
  recorded_at: z.string(),
});
export type Outcome = z.infer<typeof Outcome>;

const Lineage = z.looseObject({
  schedule_id: z.string(),
  youtube_video_id: z.string(),
  published_at: z.string(),
  schedule: z.looseObject({ title: z.optional(z.nullable(z.string())) }),
  render: z.record(z.string(), z.unknown()),
  content_id: z.nullable(z.string()),
  content_version: z.nullable(num),
  kind: z.nullable(z.string()),
  approval_source: z.string(),
  approved_output: z.nullable(z.looseObject({ items: z.optional(z.array(z.record(z.string(), z.unknown()))) })),
  approved_by: z.nullable(z.string()),
  approved_at: z.nullable(z.string()),
  chosen_variant: z.nullable(num),
  variants: z.nullable(num),
  generation: z.record(z.string(), z.unknown()),
  prompt_inputs: z.looseObject({
    brief: z.optional(z.record(z.string(), z.unknown())),
    source_videos: z.optional(z.array(z.looseObject({ title: z.nullable(z.string()), score: num }))),
    patterns: z.optional(z.record(z.string(), z.unknown())),
  }),
  tone: z.nullable(z.string()),
  target_format: z.nullable(z.string()),
});
export type Lineage = z.infer<typeof Lineage>;

const LineageAnswer = z.object({
  origin: z.enum(['engine', 'organic']),
  video: z.nullable(
    z.looseObject({ id: z.string(), youtube_video_id: z.string(), title: z.nullable(z.string()), published_at: z.nullable(z.string()) }),
  ),
  lineage: z.nullable(Lineage),
  outcomes: z.array(Outcome),
});
export type LineageAnswer = z.infer<typeof LineageAnswer>;

export function getLineage(client: FunctionsInvoker, workspaceId: string, target: { videoId?: string; scheduleId?: string }) {
  return callFunction(client, 'insights/lineage', {
    query: { workspace_id: workspaceId, video_id: target.videoId, schedule_id: target.scheduleId },
    schema: LineageAnswer,
  });
}

const Evidence = z.object({
  content_id: z.string(),
  kind: z.string(),
  brief: z.record(z.string(), z.unknown()),
  model: z.string(),
  prompt_version: z.string(),
  source_videos: z.array(z.looseObject({ title: z.nullable(z.string()), score: num, views: z.optional(z.nullable(num)) })),
  patterns: z.record(z.string(), z.looseObject({ best: z.nullable(z.string()) })),
  totals: z.unknown(),
  own_outcomes: z.array(
    z.object({
      title: z.string(),
      kind: z.nullable(z.string()),
      tone: z.nullable(z.string()),
      age_days: num,
      score: num,
      velocity_percentile: num,
    }),
  ),
  recorded: z.boolean(),
});
export type Evidence = z.infer<typeof Evidence>;

export function getEvidence(client: FunctionsInvoker, workspaceId: string, contentId: string) {
  return callFunction(client, 'insights/evidence', {
    query: { workspace_id: workspaceId, content_id: contentId },
    schema: z.object({ evidence: Evidence }),
  });
}

export const VERDICT_TEXT: Record<LoopInsights['comparison']['verdict'], string> = {
  better: 'The engine’s suggestions did better than your organic videos',
  worse: 'The engine’s suggestions did worse than your organic videos',
  no_clear_difference: 'No clear difference between the engine’s suggestions and your organic videos yet',
  not_enough_data: 'Not enough data to compare yet',
};

export const BREAKDOWN_TITLES: Record<string, string> = {
  kind: 'Kind',
  tone: 'Tone',
  length: 'Length',
  publish_weekday: 'Publish weekday',
  publish_hour: 'Publish hour',
};

/** A group as one line: "median 82 (95% interval 70–90), 12 videos" or "not enough data (3 videos)". */
export function groupText(g: LoopGroup, minVideos: number): string {
  if (g.status !== 'ok' || g.median_score === null) {
    return `not enough data (${g.videos} ${g.videos === 1 ? 'video' : 'videos'}, at least ${minVideos} needed)`;
  }
  const ci = g.ci ? ` (95% interval ${g.ci.low}–${g.ci.high})` : '';
  return `median percentile ${g.median_score}${ci}, ${g.videos} ${g.videos === 1 ? 'video' : 'videos'}`;
}

/** "Offered title 2" or "Their own title": the name of a title choice on the page. */
export function titlePickLabel(p: Pick<TitlePick, 'choice' | 'position'>): string {
  return p.choice === 'edited' || p.position === null ? 'Their own title' : `Offered title ${p.position + 1}`;
}

/**
 * The title choices as lines the page shows next to its chart: "Offered title 1: picked for 3 of
 * 5 uploads (60%); median percentile 72 (…), 3 videos", with "not enough data" when the API says so.
 */
export function titlePickLines(t: TitleChoices, minVideos: number): { label: string; text: string }[] {
  return t.picks.map((p) => ({
    label: titlePickLabel(p),
    text: `picked for ${p.uploads} of ${t.uploads} ${t.uploads === 1 ? 'upload' : 'uploads'} (${Math.round(p.pick_rate * 100)}%); ${groupText(p.outcome, minVideos)}`,
  }));
}
