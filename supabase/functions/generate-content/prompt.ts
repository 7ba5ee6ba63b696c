// The prompt of a generation, built from the request and the workspace's insights: its top
// videos with their titles and numbers, and the publishing patterns that performed. Only what the
// caller's row level security showed goes in (the insights are loaded as the caller), so a
// prompt never carries another workspace's videos. It also quotes how the engine's own earlier
// suggestions did once published (the workspace's outcomes), so the model learns from them too. Bump PROMPT_VERSION whenever the wording
// changes (the response schema too: v3 added title variants; v4 says, for each earlier suggestion, which
// offered title people published or that they wrote their own): it is stored with every generation, so results can be compared across versions.
import type { Insights } from '../_shared/domain/insights-document.ts';
import { KINDS, type ContentKind } from '../_shared/domain/content-kinds.ts';

export const PROMPT_VERSION = 'gen-2026-12-v4';

export const TARGET_FORMATS = ['short', 'long_form'] as const;
export type TargetFormat = (typeof TARGET_FORMATS)[number];

export interface GenerationBrief {
  kind: ContentKind;
  topic?: string;
  brief?: string;
  tone: string;
  language: string;
  target_format: TargetFormat;
  count: number;
}

export interface SourceVideo {
  video_id: string;
  youtube_video_id: string;
  title: string | null;
  score: number;
  views: number | null;
  is_short: boolean | null;
  duration_seconds: number | null;
  published_at: string | null;
}

/** An earlier engine-assisted upload of the workspace and how it did at its latest recorded age. */
export interface OwnOutcome {
  title: string;
  kind: string | null;
  tone: string | null;
  age_days: number;
  score: number;
  velocity_percentile: number;
  /** Which of the offered titles was published ("variant", at 0-based title_variant) or a title of the person's own ("edited"); null without title options. */
  title_choice?: 'variant' | 'edited' | null;
  title_variant?: number | null;
}

/** What the prompt quoted besides the top videos, recorded with the content (generation_inputs). */
export interface PromptInputs {
  patterns: Insights['patterns'];
  totals: Insights['totals'] | null;
  own_outcomes: OwnOutcome[];
}

export interface BuiltPrompt {
  system: string;
  user: string;
  sourceVideos: SourceVideo[];
  inputs: PromptInputs;
}

const FORMAT_TEXT: Record<TargetFormat, string> = {
  short: 'a YouTube Short: vertical, under 60 seconds, one idea, a hook in the first two seconds',
  long_form: 'a long-form YouTube video (8 to 15 minutes) with chapters and a clear payoff',
};

const SYSTEM = [
  'You are a YouTube content strategist who writes for one specific channel.',
  'Base every suggestion on what already performed on this channel: the top videos and patterns you are given.',
  'Never copy an existing title word for word; never invent statistics about the channel.',
  'Answer only with JSON that matches the response schema.',
].join(' ');

const PATTERN_LABEL: Record<string, string> = {
  publish_weekday: 'Publish weekday',
  publish_hour: 'Publish hour',
  duration: 'Duration',
  title_length: 'Title length (characters)',
  format: 'Format',
};

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtDuration(seconds: number | null): string {
  if (seconds === null) return 'unknown length';
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return s === 0 ? `${m} min` : `${m} min ${s} s`;
}

function pct(v: number): string {
  return `${Math.round(v * 1000) / 10}%`;
}

/** One line per top video: title, score and the numbers behind it. */
function topVideoLines(insights: Insights): string[] {
  return insights.top_videos.map((v, i) => {
    const c = v.components;
    const parts = [
      `score ${v.score.toFixed(1)}/100`,
      v.view_count === null ? null : `${fmtInt(v.view_count)} views`,
      v.is_short === null ? null : v.is_short ? 'Short' : 'long-form',
      fmtDuration(v.duration_seconds),
      v.published_at ? `published ${v.published_at.slice(0, 10)}` : null,
      c.velocity.ratio_to_median === null ? null : `views ${c.velocity.ratio_to_median.toFixed(1)}x the channel median`,
      `retention ${Math.round(c.retention.value)}% watched`,
      `engagement ${pct(c.engagement.value)}`,
    ].filter((p): p is string => p !== null);
    return `${i + 1}. "${v.title ?? '(untitled)'}" — ${parts.join(', ')}`;
  });
}

function patternLines(insights: Insights): string[] {
  const lines: string[] = [];
  for (const [name, pattern] of Object.entries(insights.patterns)) {
    if (!pattern || pattern.buckets.length === 0) continue;
    const buckets = pattern.buckets
      .map((b) => `${b.bucket}: median score ${b.median_score} over ${b.videos} video${b.videos === 1 ? '' : 's'}`)
      .join('; ');
    const best = pattern.best ? ` — best: ${pattern.best}` : ' — not enough videos per bucket to name a best one';
    lines.push(`- ${PATTERN_LABEL[name] ?? name}: ${buckets}${best}`);
  }
  return lines;
}

function totalsLine(insights: Insights): string | null {
  if (!insights.periods) return null;
  const t = insights.totals;
  const change = (c: { change_pct: number | null }) =>
    c.change_pct === null ? 'no earlier data' : `${c.change_pct > 0 ? '+' : ''}${c.change_pct}%`;
  return (
    `Last 28 days (to ${insights.periods.current.to}): ${fmtInt(t.views.current)} views (${change(t.views)}), ` +
    `${fmtInt(t.watch_minutes.current)} watch minutes (${change(t.watch_minutes)}), ` +
    `${fmtInt(t.subscribers_net.current)} net subscribers (${change(t.subscribers_net)}).`
  );
}

const AGE_LABEL: Record<number, string> = { 1: '24 hours', 7: '7 days', 28: '28 days' };

/** Which title people published, so the model sees the kind of title they choose next to how it did. */
function titleChoiceText(o: OwnOutcome): string {
  if (o.title_choice === 'edited') return '; they wrote their own title instead of the offered ones';
  if (o.title_choice === 'variant' && typeof o.title_variant === 'number') return `; they picked offered title ${o.title_variant + 1}`;
  return '';
}

/** One line per earlier engine suggestion that was published: where it ranked among the channel's videos of the same age. */
function ownOutcomeLines(own: OwnOutcome[]): string[] {
  return own.map((o) => {
    const what = [o.kind, o.tone ? `tone "${o.tone}"` : null].filter((p): p is string => !!p).join(', ');
    return (
      `- "${o.title}"${what ? ` (${what})` : ''}: score ${Math.round(o.score)}/100 and views faster than ` +
      `${Math.round(o.velocity_percentile)}% of the channel's videos at ${AGE_LABEL[o.age_days] ?? `${o.age_days} days`}${titleChoiceText(o)}`
    );
  });
}

export function buildPrompt(req: GenerationBrief, insights: Insights, own: OwnOutcome[] = []): BuiltPrompt {
  const spec = KINDS[req.kind];
  const about = req.topic ?? req.brief ?? '';
  // The task comes first and names the count before any other number appears.
  const lines = [
    `Task: write ${req.count} ${spec.noun} about ${about}.`,
    `Format: ${FORMAT_TEXT[req.target_format]}.`,
    `Tone: ${req.tone}. Language: write everything in ${req.language}.`,
  ];
  if (req.topic && req.brief) lines.push(`Brief from the creator: ${req.brief}`);

  const channels = insights.channels.map((c) => c.title).filter((t): t is string => !!t);
  lines.push(
    '',
    `What performed on ${channels.length ? `the channel${channels.length > 1 ? 's' : ''} ${channels.map((c) => `"${c}"`).join(', ')}` : 'this channel'}` +
      " (scores are 0-100, relative to the channel's own videos):",
  );
  const totals = totalsLine(insights);
  if (totals) lines.push(totals);
  const top = topVideoLines(insights);
  if (top.length) lines.push('Top videos by score:', ...top);
  else lines.push('No scored videos yet: rely on the topic and the brief.');
  const patterns = patternLines(insights);
  if (patterns.length) lines.push('Patterns that performed:', ...patterns);

  const earlier = ownOutcomeLines(own);
  if (earlier.length) {
    lines.push(
      '',
      "How your earlier suggestions did once published (percentiles among this channel's videos of the same age):",
      ...earlier,
      'Repeat what made the high-ranking ones work and avoid what the low-ranking ones had in common.',
    );
    if (own.some((o) => o.title_choice === 'variant' || o.title_choice === 'edited')) {
      lines.push('The titles quoted are the ones published: write title variants like those people chose for the videos that did well.');
    }
  }

  if (top.length) {
    lines.push(
      '',
      'Build on the hooks, topics and formats of the best videos and on the patterns above; explain the link where the schema asks why.',
    );
  }

  const sourceVideos: SourceVideo[] = insights.top_videos.map((v) => ({
    video_id: v.video_id,
    youtube_video_id: v.youtube_video_id,
    title: v.title,
    score: v.score,
    views: v.view_count,
    is_short: v.is_short,
    duration_seconds: v.duration_seconds,
    published_at: v.published_at,
  }));
  const inputs: PromptInputs = { patterns: insights.patterns, totals: insights.periods ? insights.totals : null, own_outcomes: own };
  return { system: SYSTEM, user: lines.join('\n'), sourceVideos, inputs };
}
