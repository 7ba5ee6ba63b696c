// The learning loop as the insights function serves it: what the engine's published suggestions
// achieved against the channel's organic videos (public.loop_insights, through its stored
// document: public.loop_insights_cached), and one video's lineage
// with its outcomes. Both run as the caller, so RLS decides what they see.
import { z } from 'zod';
import type { Tx } from '../_shared/platform/db.ts';
import { queryInt } from '../_shared/platform/integers.ts';
import { Uuid } from '../_shared/platform/tenancy.ts';

export const LoopQuery = z.strictObject({
  workspace_id: Uuid,
  channel_id: Uuid.optional(),
  age_days: z.enum(['1', '7', '28']).default('7').transform(Number),
  min_videos: queryInt(z.number().int().min(6, 'must be at least 6 (no 95% interval exists below)').max(1000)).optional(),
});

export const LineageQuery = z
  .strictObject({ workspace_id: Uuid, video_id: Uuid.optional(), schedule_id: Uuid.optional() })
  .refine((q) => (q.video_id === undefined) !== (q.schedule_id === undefined), {
    message: 'give exactly one of video_id and schedule_id',
    path: ['video_id'],
  });

const Num = z.coerce.number();
const Interval = z.object({ low: Num, high: Num, level: Num, method: z.string() });
const Group = z.object({
  videos: z.number(),
  status: z.enum(['ok', 'not_enough_data']),
  median_score: Num.nullable(),
  ci: Interval.nullable(),
  median_velocity_percentile: Num.nullable(),
});
const Bucket = z.object({
  bucket: z.string(),
  videos: z.number(),
  status: z.enum(['ok', 'not_enough_data']),
  median_score: Num.nullable(),
});

/** The document public.loop_insights builds; parsed so a change in its SQL fails here, loudly. */
export const LoopInsights = z.object({
  workspace_id: z.string(),
  channel_id: z.string().nullable(),
  age_days: z.number(),
  min_videos: z.number(),
  time_zone: z.string(),
  generated_at: z.string(),
  comparison: z.object({
    engine: Group,
    organic: Group,
    verdict: z.enum(['better', 'worse', 'no_clear_difference', 'not_enough_data']),
    difference: Num.nullable(),
  }),
  breakdowns: z.record(z.string(), z.array(Bucket)),
  rejections: z.object({
    rejected: z.number(),
    approved: z.number(),
    by_kind: z.array(z.object({ kind: z.string(), rejected: z.number(), approved: z.number() })),
    recent: z.array(
      z.object({
        content_id: z.string(),
        kind: z.string(),
        version: z.number(),
        title: z.string().nullable(),
        reason: z.string(),
        at: z.string(),
      }),
    ),
  }),
  variants: z.object({
    uploads: z.number(),
    with_variants: z.number(),
    chosen: z.array(z.object({ variant: z.number().nullable(), uploads: z.number() })),
    // Title variants: which offered title was published (position, 0-based) or the person's own
    // ("edited"), how often, and how those uploads did at this age.
    titles: z.object({
      uploads: z.number(),
      picks: z.array(
        z.object({
          choice: z.enum(['variant', 'edited']),
          position: z.number().nullable(),
          uploads: z.number(),
          pick_rate: Num,
          outcome: Group,
        }),
      ),
      variant: Group,
      edited: Group,
    }),
  }),
  recent_uploads: z.array(
    z.object({
      schedule_id: z.string(),
      youtube_video_id: z.string(),
      video_id: z.string().nullable(),
      title: z.string().nullable(),
      kind: z.string().nullable(),
      tone: z.string().nullable(),
      published_at: z.string(),
      outcomes: z.record(z.string(), z.object({ score: Num, velocity_percentile: Num, views: Num, peers: z.number() })),
    }),
  ),
});
export type LoopInsights = z.infer<typeof LoopInsights>;

const AGE_TEXT: Record<number, string> = { 1: '24 hours', 7: '7 days', 28: '28 days' };

/** One sentence that says what the numbers say, for the page and for screen readers. */
export function summarize(doc: LoopInsights): string {
  const { engine, organic, verdict, difference } = doc.comparison;
  const age = AGE_TEXT[doc.age_days] ?? `${doc.age_days} days`;
  const group = (name: string, g: z.infer<typeof Group>) =>
    g.status === 'ok'
      ? `${name}: median percentile ${g.median_score} (95% interval ${g.ci ? `${g.ci.low}–${g.ci.high}` : 'n/a'}, ${g.videos} videos)`
      : `${name}: not enough data (${g.videos} video${g.videos === 1 ? '' : 's'}, at least ${doc.min_videos} needed)`;
  const head = `At ${age}, ${group('engine-assisted uploads', engine)}; ${group('organic videos', organic)}.`;
  switch (verdict) {
    case 'better':
      return `${head} The engine's suggestions beat the channel's organic videos by ${difference} percentile points.`;
    case 'worse':
      return `${head} The engine's suggestions did worse than the organic videos, by ${Math.abs(difference ?? 0)} percentile points.`;
    case 'no_clear_difference':
      return `${head} No clear difference yet: the intervals overlap.`;
    default:
      return `${head} Not enough data to compare yet.`;
  }
}

export type LoopLookup = { found: true; insights: LoopInsights } | { found: false; missing: 'workspace' | 'channel' };

export async function loadLoopInsights(tx: Tx, q: z.infer<typeof LoopQuery>): Promise<LoopLookup> {
  const [row] = await tx<{ doc: unknown; workspace_visible: boolean }[]>`
    select public.loop_insights_cached(${q.workspace_id}, ${q.channel_id ?? null}, ${q.age_days}, ${q.min_videos ?? 6}) as doc,
      exists (select 1 from public.workspaces w where w.id = ${q.workspace_id}) as workspace_visible`;
  if (row.doc === null) return { found: false, missing: row.workspace_visible ? 'channel' : 'workspace' };
  return { found: true, insights: LoopInsights.parse(row.doc) };
}

/**
 * One video (or one schedule's upload) with its lineage and outcomes. A video without lineage is
 * organic. null when the workspace holds neither (or the caller cannot see it).
 */
export async function loadLineage(tx: Tx, q: z.infer<typeof LineageQuery>) {
  const [row] = await tx<{ doc: Record<string, unknown> | null }[]>`
    with target as (
      select v.id as video_id, v.youtube_video_id from public.videos v
      where ${q.video_id ?? null}::uuid is not null and v.id = ${q.video_id ?? null} and v.workspace_id = ${q.workspace_id}
      union all
      select (select v.id from public.videos v where v.youtube_video_id = l.youtube_video_id and v.workspace_id = l.workspace_id),
        l.youtube_video_id
      from public.upload_lineage l
      where ${q.schedule_id ?? null}::uuid is not null and l.schedule_id = ${q.schedule_id ?? null} and l.workspace_id = ${q.workspace_id}
    )
    select (select jsonb_build_object(
      'origin', case when l.schedule_id is null then 'organic' else 'engine' end,
      'video', (select jsonb_build_object('id', v.id, 'youtube_video_id', v.youtube_video_id, 'title', v.title,
                  'published_at', v.published_at, 'duration_seconds', v.duration_seconds, 'view_count', v.view_count)
                from public.videos v where v.id = t.video_id),
      'lineage', to_jsonb(l),
      'outcomes', (select coalesce(jsonb_agg(to_jsonb(o) - 'workspace_id' order by o.age_days), '[]'::jsonb)
                   from public.video_outcomes o where o.youtube_video_id = t.youtube_video_id and o.workspace_id = ${q.workspace_id}))
      from target t
      left join public.upload_lineage l on l.youtube_video_id = t.youtube_video_id and l.workspace_id = ${q.workspace_id}
      limit 1) as doc`;
  return row.doc;
}

export const EvidenceQuery = z.strictObject({ workspace_id: Uuid, content_id: Uuid });

/**
 * What a suggestion was built from, for the Studio: the top videos and the brief (kept with the
 * content), the patterns and the workspace's own outcomes the prompt quoted (generation_inputs).
 */
export async function loadEvidence(tx: Tx, q: z.infer<typeof EvidenceQuery>) {
  const [row] = await tx<{ doc: Record<string, unknown> | null }[]>`
    select (select jsonb_build_object('content_id', c.id, 'kind', c.kind, 'brief', c.brief, 'model', c.model,
        'prompt_version', c.prompt_version, 'source_videos', c.source_videos,
        'patterns', coalesce(i.patterns, '{}'::jsonb), 'totals', i.totals, 'own_outcomes', coalesce(i.own_outcomes, '[]'::jsonb),
        'recorded', i.content_id is not null)
      from public.generated_content c left join public.generation_inputs i on i.content_id = c.id
      where c.id = ${q.content_id} and c.workspace_id = ${q.workspace_id}) as doc`;
  return row.doc;
}
