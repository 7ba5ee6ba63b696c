// One log line per worker invocation (sync_worker_step), not a line per run and per token refresh.
// Hosted keeps 100 log lines per 10 s of a function: the daily sync of 200 small channels, each
// run refreshing its token (a day after the last sync every access token has expired) and logging
// its end, wrote 402 lines in 33-36 s, and hosted would have dropped 89-100 of them (bench
// youtube-sync-limits, `daily`; 90 lines and none dropped with this line). Each run's own record is its sync_runs row (status, stats,
// last_error), which the app shows; the line says what the invocation did, names the runs that
// need a look (failed, waiting for quota, retried, lost, or with a note from a step) and the
// channels to reconnect, and counts its token refreshes and failed lease renewals.
import {
  type InvocationEventFields,
  type InvocationEvents,
  invocationEventFields,
  logEvent,
} from '../_shared/integrations/youtube/event-log.ts';
import { fitNamed, logSafe, NAMED_AT_MOST } from '../_shared/platform/observability/log-line.ts';
import type { OutcomeStatus, RunOutcome } from './engine.ts';

/** Outcomes an operator may need to look at; the rest are counted only. */
const ATTENTION: ReadonlySet<OutcomeStatus> = new Set(['failed', 'waiting_quota', 'queued', 'lease_lost']);

export interface SyncStepLine extends InvocationEventFields {
  worker: string;
  runs: number;
  results: Partial<Record<OutcomeStatus, number>>;
  steps: number;
  ms: number;
  attention: { run_id: string; channel_id: string; status: OutcomeStatus; phase: string; message?: string; notes?: string[] }[];
  /** Runs to look at beyond those named. */
  attention_more?: number;
}

export function syncStepLine(worker: string, runs: RunOutcome[], ms: number, events: InvocationEvents): SyncStepLine {
  const results: Partial<Record<OutcomeStatus, number>> = {};
  for (const r of runs) results[r.status] = (results[r.status] ?? 0) + 1;
  const notable = runs.filter((r) => ATTENTION.has(r.status) || r.notes?.length);
  const line: SyncStepLine = {
    worker,
    runs: runs.length,
    results,
    steps: runs.reduce((n, r) => n + r.steps, 0),
    ms,
    attention: notable.slice(0, NAMED_AT_MOST).map((r) => ({
      run_id: r.run_id,
      channel_id: r.channel_id,
      status: r.status,
      phase: r.phase,
      ...(r.message ? { message: logSafe(r.message) } : {}),
      ...(r.notes?.length ? { notes: r.notes.slice(0, 3).map((n) => logSafe(n)) } : {}),
    })),
  };
  Object.assign(line, invocationEventFields(events));
  const more = fitNamed(line, line.attention, notable.length);
  if (more > 0) line.attention_more = more;
  return line;
}

/**
 * An error when a run failed after its errors in a row ran out (something is wrong beyond one
 * channel), a warning when any run needs a look or a lease renewal failed, info otherwise.
 */
export function logSyncStep(line: SyncStepLine, runs: RunOutcome[]): void {
  const level = runs.some((r) => r.level === 'error')
    ? 'error'
    : line.attention.length > 0 || line.attention_more || line.channels_reauth_required || line.lease_renewals_failed
      ? 'warn'
      : 'info';
  logEvent(level, 'sync_worker_step', { ...line });
}
