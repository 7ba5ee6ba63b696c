// What the external uptime monitor remembers between runs, and when it speaks. The state lives
// outside the monitored project (a JSON file the workflow keeps on a branch of its own), so an
// outage of the project, its database or its pg_cron cannot silence it.
//
//   run result   state before              → notify     state after
//   ok           not alerting              → -          failures 0
//   ok           alerting                  → recovery   failures 0, not alerting (once taken)
//   failed       failures + 1 < threshold  → -          failures + 1
//   failed       failures + 1 ≥ threshold,
//                not alerting              → alert      alerting (once the webhook took it)
//   failed       alerting                  → -          failures + 1
// A notification the webhook did not take is not recorded as sent, so the next run sends it again.
import * as z from 'zod';

/** A day of five-minute runs. */
export const HISTORY_LENGTH = 288;

const Run = z.object({ at: z.string(), ok: z.boolean(), ms: z.number(), failed: z.array(z.string()) });
export type RunRecord = z.infer<typeof Run>;

export const UptimeState = z.object({
  target: z.string(),
  consecutive_failures: z.number().int().min(0),
  alerting: z.boolean(),
  /** When the current outage's first failed run happened (null while up). */
  down_since: z.string().nullable(),
  history: z.array(Run),
});
export type UptimeState = z.infer<typeof UptimeState>;

export function initialState(target: string): UptimeState {
  return { target, consecutive_failures: 0, alerting: false, down_since: null, history: [] };
}

/** The saved state, or a fresh one when there is none or it is for another target. */
export function loadState(json: string | null, target: string): UptimeState {
  if (json === null) return initialState(target);
  const parsed = UptimeState.safeParse(JSON.parse(json));
  if (!parsed.success || parsed.data.target !== target) return initialState(target);
  return parsed.data;
}

export type Notification = { kind: 'alert' | 'recovery'; text: string };

function minutesBetween(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 60_000));
}

/** The state after one run, and what to notify (before it counts as sent). */
export function afterRun(prev: UptimeState, run: RunRecord, threshold: number): { state: UptimeState; notify: Notification | null } {
  const history = [...prev.history, run].slice(-HISTORY_LENGTH);
  if (run.ok) {
    if (!prev.alerting) return { state: { ...prev, consecutive_failures: 0, down_since: null, history }, notify: null };
    // Still alerting until the recovery notice is taken (notified below).
    const state = { ...prev, consecutive_failures: 0, history };
    const downFor = prev.down_since ? ` after ${minutesBetween(prev.down_since, run.at)} min` : '';
    return { state, notify: { kind: 'recovery', text: `:white_check_mark: ${prev.target} is up again${downFor}.` } };
  }
  const failures = prev.consecutive_failures + 1;
  const state = { ...prev, consecutive_failures: failures, down_since: prev.down_since ?? run.at, history };
  if (prev.alerting || failures < threshold) return { state, notify: null };
  const what = run.failed.length ? `: ${run.failed.join('; ')}` : '';
  return { state, notify: { kind: 'alert', text: `:rotating_light: ${prev.target} is down (${failures} failed checks in a row)${what}` } };
}

/** Records that the notification reached the webhook. */
export function notified(state: UptimeState, n: Notification): UptimeState {
  return n.kind === 'alert' ? { ...state, alerting: true } : { ...state, alerting: false, down_since: null };
}
