// How much work one worker invocation takes on. Hosted Edge Functions end a request at 2 s of
// CPU, and hosted Deno cannot measure its own CPU time, so the worker counts estimated CPU
// milliseconds per unit of work instead: the figures below were measured per step kind with
// bench/youtube-sync-limits.bench.ts (CPU of the functions process per invocation) and rounded up.
// An invocation starts a step only while its estimate, with the step's worst case, stays within
// CPU_BUDGET_MS, which leaves room under the 1.5 s target for the estimates being low on
// a slower machine. A wall-clock budget bounds invocations that mostly wait (slow APIs, retries).
import { REPORT_PAGE_ROWS } from '../_shared/integrations/youtube/analytics-client.ts';
import type { Cursor, Stats } from './cursor.ts';

/**
 * Estimated CPU ms per unit of work, measured one step per invocation on a 1,000-video channel
 * through the edge runtime (the function alone in its isolate, the fakes over TLS, the machine
 * shared with a test run): a page step 20-32 ms per invocation all told, a videos.list step of 50
 * videos 26-41 ms, a report 45 ms + 0.010 ms per row (7,500 rows: 120-215 ms), planning 1,000
 * videos 80-92 ms, the score step 75-155 ms. The figures here are at or above the highest of
 * those; the invocation's share also covers a cold start's extra work.
 */
export const COST_MS = {
  /** Request handling, claim, channel row, token source: once per invocation. */
  invocation: 40,
  /** One API call with its quota reservation and the step's commit. */
  call: 10,
  /** Per video of a videos.list answer: parse, upsert payload. */
  video: 0.6,
  /** Per stale video when planning analytics reports. */
  plannedVideo: 0.1,
  /** Per row of an analytics report: parse, upsert payload. */
  reportRow: 0.014,
  /** Scoring the channel and ending the run. */
  score: 160,
} as const;

/**
 * Estimated CPU ms one invocation may take on: with the unit costs above, invocations measured
 * up to 1.36 s while an estimate of 900 ms with lower unit costs was allowed on a shared machine;
 * 700 ms leaves room under the 1.5 s target for a cold start and a slower or shared CPU.
 */
export const CPU_BUDGET_MS = 700;
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
