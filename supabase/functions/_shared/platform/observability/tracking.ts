// Recording what happened: one ops.api_calls row per call (plus a warning in ops.system_logs when
// it was slower than 2 s; both by ops.record_api_calls) and one ops.errors row per unhandled
// error. Refused anonymous calls are only counted (refused-calls.ts), so floods of them cannot
// fill the database, and so are all anonymous calls of a function that counts them (health,
// counted-calls.ts), so that monitors polling it cost no write per call. Writes run after the response and never delay it. Calls are written in batches (at most
// CALL_BATCH_WAIT_MS after the call, one statement per batch), so under load tracking costs the
// database a fraction of a statement per request. A write that fails is reported on stderr, not
// dropped silently. ENABLE_ANALYTICS and ENABLE_ERROR_TRACKING switch them off.
import { sql } from '../db.ts';
import { asJson } from '../db-json.ts';
import { env } from '../env.ts';
import { inBackground } from './background.ts';
import { identityOf, type RequestContext } from './context.ts';
import { countedCallBatch, minuteOf } from './counted-calls.ts';
import { isRefusedAnonymous, refusedCallBatch } from './refused-calls.ts';
import type { Identity } from './identity.ts';
import { scrub } from './scrub.ts';
import { WriteBatch } from './write-batch.ts';

export const SLOW_CALL_MS = 2_000;
const MAX_STACK_CHARS = 8_000;

function reportFailure(what: string, ctx: Pick<RequestContext, 'requestId'>, err: unknown) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(JSON.stringify({ level: 'error', msg: `could not record ${what}`, request_id: ctx.requestId, error: scrub(message) }));
}

function enabled(flag: 'ENABLE_ANALYTICS' | 'ENABLE_ERROR_TRACKING', ctx: RequestContext, what: string): boolean {
  try {
    return env()[flag];
  } catch (err) {
    reportFailure(what, ctx, err);
    return false;
  }
}

export const CALL_BATCH_WAIT_MS = 20;
const CALL_BATCH_ROWS = 500;

interface CallRow {
  finished: number;
  function_name: string;
  endpoint: string;
  method: string;
  status: number;
  duration_ms: number;
  user_id: string | null;
  workspace_id: string | null;
  request_id: string;
}

const calls = new WriteBatch<CallRow>({
  maxRows: CALL_BATCH_ROWS,
  maxWaitMs: CALL_BATCH_WAIT_MS,
  write: async (rows) => {
    const now = performance.now();
    const batch = rows.map(({ finished, ...row }) => ({ ...row, age_ms: Math.max(0, Math.round(now - finished)) }));
    await sql()`select ops.record_api_calls(${asJson(batch)}::jsonb, ${SLOW_CALL_MS})`;
  },
  onFailure: (rows, err) => {
    const ids = rows.map((r) => r.request_id);
    reportFailure(`${rows.length} api call(s)`, { requestId: ids.slice(0, 5).join(',') + (ids.length > 5 ? ',…' : '') }, err);
  },
});

const refused = refusedCallBatch((rows, err) => {
  reportFailure(`${rows.length} refused anonymous call(s)`, { requestId: '-' }, err);
});
const counted = countedCallBatch((rows, err) => {
  reportFailure(`${rows.length} counted anonymous call(s)`, { requestId: '-' }, err);
});

/**
 * The workspace a call is put on. One the URL names is the caller's choice: an anonymous
 * caller's is never kept, and the database keeps a user's only where they are a member
 * (ops.verify_call_attribution). One a route noted after finding what it acted on, and the
 * service role's, are the server's own word.
 */
function attributedWorkspace(identity: Identity, ctx: RequestContext): string | null {
  return identity.kind === 'anonymous' && !ctx.workspaceNoted ? null : ctx.workspaceId;
}

/** Records a finished call (after the response is built; the write runs in the background). */
export function recordCall(req: Request, ctx: RequestContext, status: number, durationMs: number): void {
  if (!enabled('ENABLE_ANALYTICS', ctx, 'api call')) return;
  const finished = performance.now();
  inBackground(
    queueCall(req, ctx, status, Math.max(0, Math.round(durationMs)), finished).catch((err) => reportFailure('api call', ctx, err)),
  );
}

async function queueCall(req: Request, ctx: RequestContext, status: number, durationMs: number, finished: number) {
  const identity = await identityOf(req);
  const call = { function_name: ctx.functionName, endpoint: ctx.endpoint, method: ctx.method, status, duration_ms: durationMs };
  if (isRefusedAnonymous(identity.kind, status)) {
    await refused.add(call);
    return;
  }
  if (identity.kind === 'anonymous' && ctx.countAnonymous) {
    await counted.add({ ...call, minute: minuteOf(Date.now()) });
    return;
  }
  await calls.add({
    finished,
    function_name: ctx.functionName,
    endpoint: ctx.endpoint,
    method: ctx.method,
    status,
    duration_ms: durationMs,
    user_id: identity.kind === 'user' ? identity.userId : null,
    workspace_id: attributedWorkspace(identity, ctx),
    request_id: ctx.requestId,
  });
}

/** Records an unhandled error with its stack; the caller only ever sees the request id. */
export function recordUnhandledError(req: Request, ctx: RequestContext, err: Error): void {
  if (!enabled('ENABLE_ERROR_TRACKING', ctx, 'error')) return;
  inBackground(writeError(req, ctx, err).catch((failure) => reportFailure('error', ctx, failure)));
}

async function writeError(req: Request, ctx: RequestContext, err: Error) {
  const identity = await identityOf(req);
  const url = new URL(req.url);
  const context = asJson({
    function: ctx.functionName,
    endpoint: ctx.endpoint,
    method: ctx.method,
    path: url.pathname,
    query_keys: [...new Set(url.searchParams.keys())],
    user_id: identity.kind === 'user' ? identity.userId : null,
    caller: identity.kind,
    workspace_id: attributedWorkspace(identity, ctx),
  });
  await sql()`
    insert into ops.errors (name, message, stack, operation, context, request_id)
    values (${err.name || 'Error'}, ${scrub(err.message || String(err))},
      ${err.stack ? scrub(err.stack).slice(0, MAX_STACK_CHARS) : null},
      ${`${ctx.method} ${ctx.functionName}${ctx.endpoint === '/' ? '' : ctx.endpoint}`}, ${context}::jsonb, ${ctx.requestId})`;
}
