// One worker invocation's share of a sync run, as a state machine. The run's position is its
// cursor (sync_runs.cursor); transitions.ts has one function per step. The engine runs steps
// while the invocation's budget allows (budget.ts), saving each step's rows with the new cursor
// in one transaction, and ends the invocation with one of the outcomes below. The outcome of the
// invocation's last step is committed in that step's transaction, and when work is left the same
// transaction starts the next invocation (pg_net sends it after the commit), so a crash or a kill
// at any point loses nothing and repeats nothing that committed.
//
//   outcome         when                                        the run becomes
//   succeeded       the score step committed                    succeeded
//   yielded         the budget is used up, work is left         queued, due now; next invocation posted
//   waiting_quota   our daily budget or Google's is used up     waiting_quota until midnight Pacific
//                   the workspace's share is used up            waiting_quota until the borrow hour
//   queued          a transient error (retries ran out)         queued after a backoff (30 s doubling)
//   failed          the channel is not usable, a 4xx, too many  failed, with the reason
//                   errors in a row or attempts in all
//   lease_lost      another worker holds the run                unchanged (that worker saves it)
//
// The commit that hands a run on with work left (yielded) starts the next invocation; so does
// the commit that ends a run when the invocation has no budget left for another, so a queue of
// runs is worked through by a chain of invocations, one at a time (youtube_sync_chains_max()
// chains at most, migration 20261212000100). Nothing here logs: the worker writes one line per invocation
// (step-log.ts) from the outcomes, which carry what a step noted for operators.
import { createYouTubeClient, type YouTubeClient } from '../_shared/integrations/youtube/client.ts';
import {
  QuotaExhaustedError,
  ReauthRequiredError,
  YouTubeApiError,
  YouTubeTransientError,
} from '../_shared/integrations/youtube/errors.ts';
import { type RetryPolicy } from '../_shared/integrations/youtube/http-retry.ts';
import { ChannelTokenSource, type TokenEvents } from '../_shared/integrations/youtube/token-store.ts';
import { type QuotaTally, reserveQuota } from '../_shared/integrations/youtube/quota-store.ts';
import { type InvocationBudget, worstCaseOf } from './budget.ts';
import { type Cursor, parseCursor, parseStats, type Stats } from './cursor.ts';
import { type ChannelRow, LeaseLostError, loadChannel, type Release, saveRun, type SyncRun } from './store.ts';
import { type RunContext, type Step, SyncFailure, transitionFor } from './transitions.ts';

export { SyncFailure } from './transitions.ts';

export const MAX_CONSECUTIVE_ERRORS = 5;
/**
 * Claims of a run that ended without committing a step (the worker was killed or failed first).
 * Claims that made progress do not count, so a big channel may take any number of invocations.
 */
export const MAX_FRUITLESS_CLAIMS = 25;

export type OutcomeStatus = 'succeeded' | 'yielded' | 'waiting_quota' | 'queued' | 'failed' | 'lease_lost';

export interface RunOutcome {
  run_id: string;
  channel_id: string;
  status: OutcomeStatus;
  steps: number;
  phase: string;
  message?: string;
  /** What this invocation's steps noted for operators (a listing restarted, a batch refused). */
  notes?: string[];
  /** 'error': failed after its errors in a row ran out. */
  level?: 'warn' | 'error';
  /** The commit that released the run also posted the next invocation: this one stops here. */
  successor?: boolean;
}

export interface RunOptions {
  workerId: string;
  budget: InvocationBudget;
  /** Post the next worker invocation when work is left (false: the caller drives the run). */
  chain: boolean;
  retry?: RetryPolicy;
  /** Where the channel's token refreshes and invalid_grant go (default: a log line each). */
  tokenEvents?: TokenEvents;
}

/** What one invocation knows about the run it holds. */
interface Invocation extends RunContext {
  client: YouTubeClient;
  opts: RunOptions;
  cursor: Cursor;
  stats: Stats;
  steps: number;
  folded: { calls: number; retries: number; refreshes: number; units: number };
  tally: QuotaTally;
  notes: string[];
}

/** Seconds before a step that failed transiently is tried again (30 s, 1 min, 2 min, ...). */
export function transientDelaySeconds(errors: number, retryAfterMs?: number): number {
  const backoff = Math.min(30 * 60, 30 * 2 ** Math.max(0, errors - 1));
  return Math.max(backoff, Math.ceil((retryAfterMs ?? 0) / 1000));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function outcome(
  inv: { run: SyncRun; cursor: Cursor; steps: number; notes?: string[] },
  status: OutcomeStatus,
  message?: string,
): RunOutcome {
  return {
    run_id: inv.run.id,
    channel_id: inv.run.channel_id,
    status,
    steps: inv.steps,
    phase: inv.cursor.phase,
    ...(message ? { message } : {}),
    ...(inv.notes?.length ? { notes: inv.notes } : {}),
  };
}

/** Why a claimed run cannot start at all, or null. */
export function refusalOf(run: SyncRun, channel: ChannelRow | null): string | null {
  if (!channel || channel.status !== 'active') return `the channel is ${channel?.status ?? 'gone'}; reconnect it to sync again`;
  const fruitless = run.attempts - 1 - parseStats(run.stats).invocations;
  if (fruitless > MAX_FRUITLESS_CLAIMS) return `gave up: ${fruitless} attempts ended without progress`;
  return null;
}

function openInvocation(run: SyncRun, channel: ChannelRow, opts: RunOptions): Invocation {
  const tally: QuotaTally = { units: 0, calls: 0 };
  const client = createYouTubeClient({
    tokens: new ChannelTokenSource({ id: channel.id, workspaceId: channel.workspace_id }, { retry: opts.retry }, opts.tokenEvents),
    quota: reserveQuota(channel.workspace_id, channel.id, tally),
    retry: opts.retry,
  });
  return {
    run,
    channel,
    client,
    apis: client,
    opts,
    tally,
    stats: parseStats(run.stats),
    cursor: parseCursor(run.cursor),
    steps: 0,
    folded: { calls: 0, retries: 0, refreshes: 0, units: 0 },
    notes: [],
  };
}

/** Adds what the client did since the last fold to `stats`. */
function foldClientStats(inv: Invocation, stats: Stats) {
  const s = inv.client.caller.stats;
  stats.api_calls += s.calls - inv.folded.calls;
  stats.retries += s.retries - inv.folded.retries;
  stats.token_refreshes += s.refreshes - inv.folded.refreshes;
  stats.quota_units += inv.tally.units - inv.folded.units;
  inv.folded = { calls: s.calls, retries: s.retries, refreshes: s.refreshes, units: inv.tally.units };
}

/**
 * A run's release that ends the invocation (no budget for another run) starts the next one, in
 * the same commit, if the invocation chains; one that does not leaves the next due run to this
 * invocation. The outcome says which (`successor`), and the worker's loop follows that, not a
 * second look at the budget (its wall clock moves on during the commit).
 */
function endsTheInvocation(opts: RunOptions): boolean {
  return opts.chain && !opts.budget.allowsAnotherRun();
}

/** Runs one transition on a draft of the stats; commits it, with the release when it is the last. */
async function advance(inv: Invocation): Promise<RunOutcome | null> {
  const transition = transitionFor(inv.cursor)!;
  const draft = structuredClone(inv.stats);
  const step: Step = await transition(inv, inv.cursor, draft);
  draft.steps += 1;
  if (inv.steps === 0) draft.invocations += 1;
  foldClientStats(inv, draft);
  inv.opts.budget.spend(step.costMs);
  const cursor = { ...step.cursor, errors: 0 };
  const done = cursor.phase === 'done';
  const more = !done && inv.opts.budget.allows(worstCaseOf(cursor, draft));
  const release: Release | undefined = done
    ? { status: 'succeeded' }
    : more
      ? undefined
      : { status: 'queued', delaySeconds: 0, lastError: null };
  const wake = release !== undefined && inv.opts.chain && (!done || endsTheInvocation(inv.opts));
  await saveRun(inv.run, inv.opts.workerId, cursor, draft, { write: step.write, release, wake });
  inv.cursor = cursor;
  inv.stats = draft;
  inv.steps += 1;
  if (step.note) inv.notes.push(step.note);
  if (done) return { ...outcome(inv, 'succeeded'), successor: wake };
  return more ? null : { ...outcome(inv, 'yielded', 'invocation budget used up; continues from its cursor'), successor: wake };
}

/** Processes a claimed run while the invocation's budget lasts (always at least one step). */
export async function processRun(run: SyncRun, opts: RunOptions): Promise<RunOutcome> {
  const pending = { run, cursor: parseCursor(run.cursor), steps: 0 };
  let inv: Invocation | null = null;
  try {
    const channel = await loadChannel(run.channel_id);
    const refusal = refusalOf(run, channel);
    if (refusal) {
      const wake = endsTheInvocation(opts);
      await saveRun(run, opts.workerId, pending.cursor, parseStats(run.stats), { release: { status: 'failed', lastError: refusal }, wake });
      return { ...outcome(pending, 'failed', refusal), successor: wake };
    }
    inv = openInvocation(run, channel!, opts);
    for (;;) {
      const ended = await advance(inv);
      if (ended) return ended;
    }
  } catch (err) {
    if (inv) foldClientStats(inv, inv.stats);
    return await settleFailure(inv ?? { ...pending, stats: parseStats(run.stats), opts }, err);
  }
}

export interface FailureOutcome {
  release: Exclude<Release, { status: 'succeeded' }>;
  /** Counts towards MAX_CONSECUTIVE_ERRORS (the cursor remembers it). */
  transient: boolean;
  level: 'warn' | 'error';
}

/** How a failed step ends the invocation: the table at the top of this module, as code. */
export function classifyFailure(err: unknown, errorsInARow: number): FailureOutcome | 'lease_lost' {
  if (err instanceof LeaseLostError) return 'lease_lost';
  if (err instanceof QuotaExhaustedError) {
    const until = err.retryAt ?? null;
    const lastError =
      err.source === 'share' && until
        ? `${err.message}; waiting until ${until.toISOString()}, when this workspace may borrow unused quota of the project (or the daily reset)`
        : `${err.message}; waiting for the daily quota to reset at midnight Pacific time`;
    return { release: { status: 'waiting_quota', until, lastError }, transient: false, level: 'warn' };
  }
  if (err instanceof ReauthRequiredError || err instanceof YouTubeApiError || err instanceof SyncFailure) {
    return { release: { status: 'failed', lastError: describe(err) }, transient: false, level: 'warn' };
  }
  // Transient (retries ran out) or unexpected: try the step again later, a bounded number of times.
  if (errorsInARow >= MAX_CONSECUTIVE_ERRORS) {
    return {
      release: { status: 'failed', lastError: `${describe(err)} (failed ${errorsInARow} times in a row)` },
      transient: true,
      level: 'error',
    };
  }
  const delaySeconds = transientDelaySeconds(errorsInARow, err instanceof YouTubeTransientError ? err.retryAfterMs : undefined);
  return { release: { status: 'queued', delaySeconds, lastError: describe(err) }, transient: true, level: 'warn' };
}

type Held = { run: SyncRun; cursor: Cursor; stats: Stats; steps: number; opts: RunOptions; notes?: string[] };

async function settleFailure(inv: Held, err: unknown): Promise<RunOutcome> {
  const errors = inv.cursor.errors + 1;
  const failure = classifyFailure(err, errors);
  if (failure === 'lease_lost') return outcome(inv, 'lease_lost', describe(err));
  const { release } = failure;
  const wake = endsTheInvocation(inv.opts);
  if (failure.transient) inv.cursor = { ...inv.cursor, errors };
  try {
    await saveRun(inv.run, inv.opts.workerId, inv.cursor, inv.stats, { release, wake });
  } catch (saveErr) {
    if (saveErr instanceof LeaseLostError) return outcome(inv, 'lease_lost', saveErr.message);
    throw saveErr;
  }
  const name = err instanceof Error ? err.name : 'Error';
  const again = release.status === 'queued' ? ` (again in ${release.delaySeconds} s)` : '';
  return { ...outcome(inv, release.status, `${name}: ${release.lastError}${again}`), level: failure.level, successor: wake };
}
