// Refused anonymous calls (a 4xx to a caller without a verified user or service token) are
// counted, not recorded one by one: the public routes can be called by anyone as fast as they
// like, and a row per refusal let a flood fill the database. Calls collected over up to
// REFUSED_BATCH_WAIT_MS are summed per function, route, method, status and duration and added to
// ops.api_calls_refused (one row per minute, route, status and latency bucket) in one statement,
// so a flood of N refusals writes rows in proportion to the minutes it lasts, and the counts stay
// exact. Memory is bounded too: a batch is written at REFUSED_BATCH_ROWS calls at the latest.
import { sql } from '../db.ts';
import { asJson } from '../db-json.ts';
import { WriteBatch } from './write-batch.ts';

export const REFUSED_BATCH_WAIT_MS = 1_000;
const REFUSED_BATCH_ROWS = 5_000;

export interface RefusedCall {
  function_name: string;
  endpoint: string;
  method: string;
  status: number;
  duration_ms: number;
}

/** Whether a call is one that is counted instead of recorded. */
export function isRefusedAnonymous(identityKind: string, status: number): boolean {
  return identityKind === 'anonymous' && status >= 400 && status <= 499;
}

// The method is the caller's to choose (any token is a valid HTTP method): unknown ones share one
// counter, so inventing methods cannot multiply the rows.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Sums calls that differ in nothing the counters keep (every field of a call is kept). */
export function sumCalls<T extends RefusedCall>(calls: T[]): (T & { calls: number })[] {
  const sums = new Map<string, T & { calls: number }>();
  for (const c of calls) {
    const method = METHODS.has(c.method) ? c.method : 'OTHER';
    const key = JSON.stringify(Object.entries({ ...c, method }).sort(([a], [b]) => (a < b ? -1 : 1)));
    const known = sums.get(key);
    if (known) known.calls += 1;
    else sums.set(key, { ...c, method, calls: 1 });
  }
  return [...sums.values()];
}

export function refusedCallBatch(onFailure: (calls: RefusedCall[], err: unknown) => void): WriteBatch<RefusedCall> {
  return new WriteBatch<RefusedCall>({
    maxRows: REFUSED_BATCH_ROWS,
    maxWaitMs: REFUSED_BATCH_WAIT_MS,
    write: async (calls) => {
      await sql()`select ops.record_refused_calls(${asJson(sumCalls(calls))}::jsonb)`;
    },
    onFailure,
  });
}
