// The worker entry: one invocation claims a due run (FOR UPDATE SKIP LOCKED, with a lease) and
// advances it while the invocation's budget lasts (budget.ts), then claims the next due run if
// budget is left. A run with work left is handed back due at once, and the same transaction
// posts the next invocation, so a sync continues without waiting for pg_cron's minute tick; so
// does the release of the run an invocation ends on while more are due. Several invocations run at
// once (up to youtube_sync_chains_max(); a claim beyond it gets nothing and the chain ends): each
// claims different runs, and a run whose invocation died is claimed again when its lease (40 s,
// renewed while the invocation lives) expires. The invocation writes one log line (step-log.ts).
import type { InvocationEvents } from '../_shared/integrations/youtube/event-log.ts';
import type { RetryPolicy } from '../_shared/integrations/youtube/http-retry.ts';
import { TokenTally } from '../_shared/integrations/youtube/token-store.ts';
import { keepLease } from '../_shared/platform/lease-keeper.ts';
import { CPU_BUDGET_MS, InvocationBudget, WALL_BUDGET_MS } from './budget.ts';
import { processRun, type RunOutcome } from './engine.ts';
import { logSyncStep, syncStepLine } from './step-log.ts';
import { claimRun, LEASE_SECONDS, renewLease, wakeSuccessor } from './store.ts';

export interface WorkerOptions {
  /** Wall clock after which no step starts (default WALL_BUDGET_MS). */
  timeBudgetMs?: number;
  /** No CPU budget, only the wall clock: how the worker ran before syncs were cut into steps. */
  unbounded?: boolean;
  /** Process only this run (if it is due); the caller drives it, no next invocation is posted. */
  runId?: string | null;
  workerId?: string;
  retry?: RetryPolicy;
}

export async function runWorker(opts: WorkerOptions = {}): Promise<{ worker: string; runs: RunOutcome[] }> {
  const workerId = opts.workerId ?? `youtube-sync:${crypto.randomUUID()}`;
  const budget = new InvocationBudget(opts.unbounded ? Infinity : CPU_BUDGET_MS, opts.timeBudgetMs ?? WALL_BUDGET_MS);
  const chain = !opts.runId;
  const started = Date.now();
  const runs: RunOutcome[] = [];
  const tokens = new TokenTally();
  const lease: Pick<InvocationEvents, 'leaseRenewalsFailed' | 'leaseError'> = { leaseRenewalsFailed: 0 };
  try {
    for (;;) {
      const run = await claimRun(workerId, opts.runId ?? null);
      if (!run) break;
      const keeper = keepLease(
        LEASE_SECONDS,
        () => renewLease(run.id, workerId),
        (err) => {
          lease.leaseRenewalsFailed++;
          lease.leaseError ??= `run ${run.id}: ${err instanceof Error ? err.message : String(err)}`;
        },
      );
      const outcome = await processRun(run, { workerId, budget, chain, retry: opts.retry, tokenEvents: tokens }).finally(() =>
        keeper.stop(),
      );
      runs.push(outcome);
      // The commit that released the run posted the next invocation (its work left, or more due
      // than this one's budget has room for): that one continues.
      if (opts.runId || outcome.status === 'yielded' || outcome.successor) break;
      if (!budget.allowsAnotherRun()) {
        // Ended without a successor (a lease lost, or the commit was made with room left):
        // one now, if runs are due, rather than at the minute's wake-up.
        if (chain) await wakeSuccessor();
        break;
      }
    }
  } finally {
    // Also when a claim or a save threw: what this invocation did is said once.
    if (runs.length > 0 || lease.leaseRenewalsFailed > 0) {
      const { tokensRefreshed, reauthChannels } = tokens;
      const events = { ...lease, tokensRefreshed, reauthChannels };
      logSyncStep(syncStepLine(workerId, runs, Date.now() - started, events), runs);
    }
  }
  return { worker: workerId, runs };
}
