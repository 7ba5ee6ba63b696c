// The worker entry: claims due runs one after another (FOR UPDATE SKIP LOCKED, with a lease) and
// processes each until the time budget is used up. Several workers can run at once: each claims
// different runs, and a run whose worker died is claimed again when its lease expires.
import type { RetryPolicy } from '../_shared/clients/youtube.ts';
import { asService } from '../_shared/db.ts';
import { processRun, type RunOutcome } from './engine.ts';
import { claimRun } from './store.ts';

/** Hosted edge functions get about 150 s of wall clock; a run stops well before. */
export const DEFAULT_TIME_BUDGET_MS = 50_000;

export interface WorkerOptions {
  timeBudgetMs?: number;
  /** Process only this run (if it is due). */
  runId?: string | null;
  workerId?: string;
  retry?: RetryPolicy;
}

export async function runWorker(opts: WorkerOptions = {}): Promise<{ worker: string; runs: RunOutcome[] }> {
  const workerId = opts.workerId ?? `youtube-sync:${crypto.randomUUID()}`;
  const deadline = Date.now() + (opts.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS);
  const runs: RunOutcome[] = [];
  do {
    const run = await claimRun(workerId, opts.runId ?? null);
    if (!run) break;
    runs.push(await processRun(run, { workerId, deadline, retry: opts.retry }));
    if (opts.runId) break;
  } while (Date.now() < deadline);
  // Work left over: the next worker starts now rather than at the next minute's tick. A call
  // for one given run (an operator's, a test's) leaves the rest to its caller.
  if (!opts.runId && runs.some((r) => r.status === 'yielded')) {
    await asService((tx) => tx`select public.wake_youtube_sync_worker()`);
  }
  return { worker: workerId, runs };
}
