// How much work one worker invocation takes on. Hosted Edge Functions end a request at 2 s of
// CPU, and hosted Deno cannot measure its own CPU time, so the worker counts estimated CPU
// milliseconds per unit of work instead: the figures below were measured per step kind with
// bench/youtube-sync-limits.bench.ts (CPU of the functions process per invocation) and rounded up.
// An invocation starts a step only while its estimate, with the step's worst case, stays within
// CPU_BUDGET_MS, which leaves room under the 1.5 s target for the estimates being low on
// a slower machine. A wall-clock budget bounds invocations that mostly wait (slow APIs, retries).
import { REPORT_PAGE_ROWS } from '../_shared/clients/youtube.ts';
import type { Cursor, Stats } from './cursor.ts';

/**
 * Estimated CPU ms per unit of work. Measured (warm functions process, one step per invocation,
 * 1,000-video channel): a page step 7 ms per invocation all told, a videos.list step of 50 videos
 * 11.5 ms, a report 8.7 ms + 0.0046 ms per row (a full report of 10,000 rows: 55 ms), planning
 * 1,000 videos 10 ms, the score step 120 ms (its answer and the run's end). The figures here are
 * those with about half again on top, and the invocation's share covers a cold start's extra.
 */
export const COST_MS = {
  /** Request handling, claim, channel row, token source: once per invocation. */
  invocation: 40,
  /** One API call with its quota reservation and the step's commit. */
  call: 8,
  /** Per video of a videos.list answer: parse, upsert payload. */
  video: 0.15,
  /** Per stale video when planning analytics reports. */
  plannedVideo: 0.01,
  /** Per row of an analytics report: parse, upsert payload. */
  reportRow: 0.007,
  /** Scoring the channel and ending the run. */
  score: 150,
} as const;

/**
 * Estimated CPU ms one invocation may take on: with the estimates' margin, about 600 ms of
 * measured CPU, so a cold start and a slower CPU still stay under the 1.5 s target.
 */
export const CPU_BUDGET_MS = 900;
export const WALL_BUDGET_MS = 25_000;

export const costOf = {
  channel: () => COST_MS.call,
  page: () => COST_MS.call,
  videos: (n: number) => COST_MS.call + n * COST_MS.video,
  plan: (videos: number) => COST_MS.call + videos * COST_MS.plannedVideo,
  report: (rows: number) => COST_MS.call + rows * COST_MS.reportRow,
  score: () => COST_MS.call + COST_MS.score,
};

/** The most the next step from `c` can cost (its sizes are known only afterwards). */
export function worstCaseOf(c: Cursor, stats: Stats): number {
  switch (c.phase) {
    case 'channel':
      return costOf.channel();
    case 'listing':
      return c.pending_video_ids.length > 0 ? costOf.videos(c.pending_video_ids.length) : costOf.page();
    case 'plan':
      return costOf.plan(Math.max(stats.videos_total ?? 0, stats.videos_listed));
    case 'analytics':
      return costOf.report(REPORT_PAGE_ROWS);
    case 'score':
      return costOf.score();
    case 'done':
      return 0;
  }
}

/** What one invocation may still spend. */
export class InvocationBudget {
  private spentMs = COST_MS.invocation;
  private readonly deadline: number;

  constructor(
    private readonly cpuMs: number = CPU_BUDGET_MS,
    wallMs: number = WALL_BUDGET_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.deadline = now() + wallMs;
  }

  /** Room for a step estimated at `worstCaseMs`, and wall clock left? */
  allows(worstCaseMs: number): boolean {
    return this.now() < this.deadline && this.spentMs + worstCaseMs <= this.cpuMs;
  }

  spend(ms: number) {
    this.spentMs += ms;
  }

  /** Room for another run's claim and first step. */
  allowsAnotherRun(): boolean {
    return this.allows(COST_MS.invocation);
  }

  get spent(): number {
    return this.spentMs;
  }
}
