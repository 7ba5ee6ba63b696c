// One log line per worker invocation that took schedules up, instead of a line per schedule
// event. Hosted keeps 100 log lines per 10 s of a function (and messages of up to 10,000
// characters): a burst of due uploads, about ten schedules per invocation and 140 invocations in
// its minute, wrote a line when each upload started and another when it finished, 2,000 in the
// minute, so hosted would have kept a third of them, the warnings and errors among the rest
// included. Each schedule's events are in upload_events (what the app shows); the log line says
// what the invocation did and names the schedules that need a look.
import { logEvent } from '../_shared/integrations/youtube/event-log.ts';
import type { Result, ScheduleOutcome } from './context.ts';

/** Results an operator may need to look at; the rest are counted only. */
const ATTENTION: ReadonlySet<Result> = new Set(['failed', 'retry', 'waiting', 'lease_lost']);
/** Schedules named one by one, and the characters of each message, so the line stays far below 10,000. */
export const NAMED_AT_MOST = 20;
const MESSAGE_CHARS = 200;

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
}

export function stepSummary(worker: string, outcomes: ScheduleOutcome[], bytesSent: number, chained: number, ms: number): StepSummary {
  const results: Partial<Record<Result, number>> = {};
  for (const o of outcomes) results[o.result] = (results[o.result] ?? 0) + 1;
  const notable = outcomes.filter((o) => ATTENTION.has(o.result));
  const summary: StepSummary = {
    worker,
    schedules: outcomes.length,
    results,
    bytes_sent: bytesSent,
    chained,
    ms,
    attention: notable.slice(0, NAMED_AT_MOST).map((o) => ({
      schedule_id: o.schedule_id,
      result: o.result,
      ...(o.message ? { message: o.message.length > MESSAGE_CHARS ? `${o.message.slice(0, MESSAGE_CHARS - 1)}…` : o.message } : {}),
    })),
  };
  if (notable.length > NAMED_AT_MOST) summary.attention_more = notable.length - NAMED_AT_MOST;
  return summary;
}

/** Logs the invocation's summary: a warning when an upload failed or will be retried. */
export function logStep(summary: StepSummary): void {
  const level = summary.results.failed || summary.results.retry ? 'warn' : 'info';
  logEvent(level, 'upload_worker_step', { ...summary });
}
