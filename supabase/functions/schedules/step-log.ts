// One log line per worker invocation that took schedules up, instead of a line per schedule
// event. Hosted keeps 100 log lines per 10 s of a function (and messages of up to 10,000
// characters): in a burst of due uploads, about ten schedules per invocation and 140 invocations in
// its minute, the worker wrote a line when each upload started and another when it finished, 2,000
// in the minute, and hosted would have dropped 1,397 of them, warnings and errors alike. Each
// schedule's events are in upload_events (what the app shows); the line says what the invocation
// did and names the schedules that need a look, and so do its problems (a lease it could not
// renew, a schedule whose run threw), which used to be a line each.
import { logEvent } from '../_shared/integrations/youtube/event-log.ts';
import { redactSecrets } from '../_shared/integrations/youtube/errors.ts';
import type { Result, ScheduleOutcome } from './context.ts';

/** Results an operator may need to look at; the rest are counted only. */
const ATTENTION: ReadonlySet<Result> = new Set(['failed', 'retry', 'waiting', 'lease_lost']);
/** Schedules named one by one. */
export const NAMED_AT_MOST = 20;
const MESSAGE_CHARS = 200;
/** The whole line, well under hosted's 10,000 characters. */
export const LINE_CHARS = 8_000;

/** What went wrong in an invocation besides its schedules' own results. */
export interface StepProblems {
  /** Lease renewals that failed, and the first one's message. */
  leaseRenewalsFailed: number;
  leaseError?: string;
}

export interface StepSummary {
  worker: string;
  schedules: number;
  results: Partial<Record<Result, number>>;
  bytes_sent: number;
  chained: number;
  ms: number;
  attention: { schedule_id: string; result: Result; message?: string }[];
  /** Schedules to look at beyond those named. */
  attention_more?: number;
  lease_renewals_failed?: number;
  lease_error?: string;
}

/** Secrets out first, then cut: a cut could leave a secret too short for its pattern. */
function shortMessage(message: string): string {
  const clean = redactSecrets(message);
  return clean.length > MESSAGE_CHARS ? `${clean.slice(0, MESSAGE_CHARS - 1)}…` : clean;
}

export function stepSummary(
  worker: string,
  outcomes: ScheduleOutcome[],
  totals: { bytesSent: number; chained: number; ms: number },
  problems: StepProblems = { leaseRenewalsFailed: 0 },
): StepSummary {
  const results: Partial<Record<Result, number>> = {};
  for (const o of outcomes) results[o.result] = (results[o.result] ?? 0) + 1;
  const notable = outcomes.filter((o) => ATTENTION.has(o.result));
  const summary: StepSummary = {
    worker,
    schedules: outcomes.length,
    results,
    bytes_sent: totals.bytesSent,
    chained: totals.chained,
    ms: totals.ms,
    attention: notable.slice(0, NAMED_AT_MOST).map((o) => ({
      schedule_id: o.schedule_id,
      result: o.result,
      ...(o.message ? { message: shortMessage(o.message) } : {}),
    })),
  };
  if (problems.leaseRenewalsFailed > 0) {
    summary.lease_renewals_failed = problems.leaseRenewalsFailed;
    if (problems.leaseError) summary.lease_error = shortMessage(problems.leaseError);
  }
  // Escaping can make a message several times longer in JSON: name fewer schedules until it fits.
  while (summary.attention.length > 0 && JSON.stringify(summary).length > LINE_CHARS) summary.attention.pop();
  const more = notable.length - summary.attention.length;
  if (more > 0) summary.attention_more = more;
  return summary;
}

/** Logs the invocation's summary: a warning when an upload failed, will be retried or lost its lease. */
export function logStep(summary: StepSummary): void {
  const level = summary.results.failed || summary.results.retry || summary.lease_renewals_failed ? 'warn' : 'info';
  logEvent(level, 'upload_worker_step', { ...summary });
}
