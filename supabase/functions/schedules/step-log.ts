// One log line per worker invocation that took schedules up, instead of a line per schedule
// event. Hosted keeps 100 log lines per 10 s of a function (and messages of up to 10,000
// characters): in a burst of due uploads, about ten schedules per invocation and 140 invocations in
// its minute, the worker wrote a line when each upload started and another when it finished, 2,000
// in the minute, and hosted would have dropped 1,397 of them, warnings and errors alike. Each
// schedule's events are in upload_events (what the app shows); the line says what the invocation
// did and names the schedules that need a look, and so do its problems (a lease it could not
// renew, a schedule whose run threw, a thumbnail it could not fetch, a channel that needs
// reconnecting) and its token refreshes, which used to be a line each.
import {
  type InvocationEventFields,
  type InvocationEvents,
  invocationEventFields,
  logEvent,
} from '../_shared/integrations/youtube/event-log.ts';
import { fitNamed, logSafe, NAMED_AT_MOST } from '../_shared/platform/observability/log-line.ts';
import type { Result, ScheduleOutcome } from './context.ts';

/** Results an operator may need to look at; the rest are counted only. */
const ATTENTION: ReadonlySet<Result> = new Set(['failed', 'retry', 'waiting', 'lease_lost']);

export interface StepSummary extends InvocationEventFields {
  worker: string;
  schedules: number;
  results: Partial<Record<Result, number>>;
  bytes_sent: number;
  chained: number;
  ms: number;
  attention: { schedule_id: string; result: Result; message?: string; note?: string }[];
  /** Schedules to look at beyond those named. */
  attention_more?: number;
}

const NOTHING_MET: InvocationEvents = { leaseRenewalsFailed: 0, tokensRefreshed: 0, reauthChannels: new Set() };

export function stepSummary(
  worker: string,
  outcomes: ScheduleOutcome[],
  totals: { bytesSent: number; chained: number; ms: number },
  events: InvocationEvents = NOTHING_MET,
): StepSummary {
  const results: Partial<Record<Result, number>> = {};
  for (const o of outcomes) results[o.result] = (results[o.result] ?? 0) + 1;
  const notable = outcomes.filter((o) => ATTENTION.has(o.result) || o.note);
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
      ...(o.message ? { message: logSafe(o.message) } : {}),
      ...(o.note ? { note: logSafe(o.note) } : {}),
    })),
  };
  Object.assign(summary, invocationEventFields(events));
  const more = fitNamed(summary, summary.attention, notable.length);
  if (more > 0) summary.attention_more = more;
  return summary;
}

/**
 * Logs the invocation's summary: a warning when an upload failed or will be retried, a lease
 * renewal failed, a thumbnail was given up or a channel needs reconnecting.
 */
export function logStep(summary: StepSummary): void {
  const warn =
    summary.results.failed ||
    summary.results.retry ||
    summary.lease_renewals_failed ||
    summary.channels_reauth_required ||
    summary.attention.some((a) => a.note);
  const level = warn ? 'warn' : 'info';
  logEvent(level, 'upload_worker_step', { ...summary });
}
