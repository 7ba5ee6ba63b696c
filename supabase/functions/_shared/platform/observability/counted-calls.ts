// Anonymous calls of a function that counts them (health: monitors poll it without a token as
// often as they like) are summed in the instance per minute, route, method, status and duration,
// and added to ops.api_calls_counted at most COUNTED_FLUSH_MS after the first call of a batch, in
// one statement: a monitor polling every second costs one write per 10 s, a flood a few rows a
// minute, and admin metrics and alerts still count every call (ops.api_call_tally).
//
// What can be lost: the calls of the last COUNTED_FLUSH_MS an instance counted but had not written
// when it was killed. The write is handed to EdgeRuntime.waitUntil (through inBackground), so a
// hosted instance that is retired lives on until it is written, and the runtime's `beforeunload`
// (sent before an instance is shut down) writes at once; an instance killed outright (a crossed
// CPU or memory limit, a process signal) loses its unwritten counts.
import { sql } from '../db.ts';
import { asJson } from '../db-json.ts';
import { sumCalls, type RefusedCall } from './refused-calls.ts';
import { WriteBatch } from './write-batch.ts';

export const COUNTED_FLUSH_MS = 10_000;
const COUNTED_BATCH_ROWS = 5_000;

export interface CountedCall extends RefusedCall {
  /** the minute the call was answered in (ISO), by the instance's clock */
  minute: string;
}

/** The ISO start of the minute `at` (ms) falls in. */
export function minuteOf(at: number): string {
  return new Date(Math.floor(at / 60_000) * 60_000).toISOString();
}

export function countedCallBatch(onFailure: (calls: CountedCall[], err: unknown) => void): WriteBatch<CountedCall> {
  const batch = new WriteBatch<CountedCall>({
    maxRows: COUNTED_BATCH_ROWS,
    maxWaitMs: COUNTED_FLUSH_MS,
    write: async (calls) => {
      await sql()`select private.record_counted_calls(${asJson(sumCalls(calls))}::jsonb)`;
    },
    onFailure,
  });
  // Hosted sends this before it shuts an instance down (retired, or out of wall clock).
  globalThis.addEventListener('beforeunload', () => batch.flushNow());
  return batch;
}
