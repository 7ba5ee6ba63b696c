// The one wrapper every function's handler goes through: request id, CORS preflight, the error
// envelope for every failure, and no stack trace ever reaching a caller. Cross-cutting concerns
// hook in here so that functions added later get them without code: every call is recorded
// (ops.api_calls; unhandled errors in ops.errors), and users are rate limited per minute, as are
// anonymous callers per address.
import { errorResponse, HttpError, json, Router, STANDARD_HEADERS, withStandardHeaders } from './http.ts';
import { httpErrorFromPg } from './pg-errors.ts';
import { NO_ROUTE, openRequestContext, workspaceNamedBy, type RequestContext } from './observability/context.ts';
import { recordCall, recordUnhandledError } from './observability/tracking.ts';
import { countRequest, rateLimitHeaders, tooManyRequests } from './rate-limit.ts';

export type Handler = (req: Request) => Promise<Response>;

export interface HandlerOptions {
  /**
   * false: users of this function are never rate limited (health: monitors must get through);
   * anonymous callers are still limited per address.
   */
  rateLimit?: boolean;
  /** false: nothing is recorded (a benchmark's baseline); the flags in env apply otherwise. */
  track?: boolean;
  /**
   * true: calls without a verified token are counted per minute (ops.api_calls_counted) instead
   * of recorded one row each (health: monitors poll it as often as they like).
   */
  countAnonymous?: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

function requestIdOf(req: Request): string {
  const incoming = req.headers.get('x-request-id');
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

export function createHandler(router: Router, options: HandlerOptions = {}): Handler {
  const track = options.track !== false;
  const limit = options.rateLimit !== false;
  return async (req: Request) => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    if (req.method === 'OPTIONS') {
      // Preflights are the browser's, not calls of the API: neither counted nor recorded.
      const headers = withStandardHeaders();
      headers.set('X-Request-Id', requestId);
      return new Response(null, { status: 204, headers });
    }
    const url = new URL(req.url);
    const route = router.match(url);
    const ctx = openRequestContext(req, {
      requestId,
      functionName: router.functionName,
      endpoint: route?.path ?? NO_ROUTE,
      method: req.method,
      workspaceId: workspaceNamedBy(url, route?.params ?? {}),
      countAnonymous: options.countAnonymous === true,
    });

    let res: Response;
    let limitHeaders: Record<string, string> = {};
    try {
      const verdict = await countRequest(req, requestId, { users: limit });
      if (verdict) {
        limitHeaders = rateLimitHeaders(verdict);
        if (verdict.exceeded) throw tooManyRequests(verdict);
      }
      res = await router.dispatch(req, requestId);
    } catch (err) {
      res = toErrorResponse(err, requestId, track ? { req, ctx } : undefined);
    }
    const answer = withHeaders(res, requestId, limitHeaders);
    if (track) recordCall(req, ctx, res.status, performance.now() - started);
    return answer;
  };
}

// Headers are added in place: re-wrapping the body would turn a string body into a stream, which
// the server then sends chunked and more slowly. Only a response with immutable headers (one a
// route passed through from fetch) is copied first.
function withHeaders(res: Response, requestId: string, limitHeaders: Record<string, string>): Response {
  const extra: Record<string, string> = { ...STANDARD_HEADERS, ...limitHeaders, 'X-Request-Id': requestId };
  let answer = res;
  try {
    answer.headers.set('X-Request-Id', requestId);
  } catch {
    answer = new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
  }
  for (const [k, v] of Object.entries(extra)) if (k === 'X-Request-Id' || !answer.headers.has(k)) answer.headers.set(k, v);
  return answer;
}

export function toErrorResponse(err: unknown, requestId: string, tracked?: { req: Request; ctx: RequestContext }): Response {
  if (err instanceof HttpError) return errorResponse(err, requestId);
  // The database's verdicts (RLS, last owner, invitation state) have statuses of their own.
  const fromDb = httpErrorFromPg(err);
  if (fromDb) {
    // An outage is the operator's to see, though the caller only learns to retry.
    if (fromDb.code === 'database_unavailable') {
      console.error(
        JSON.stringify({
          level: 'warn',
          msg: 'database unavailable',
          request_id: requestId,
          error: err instanceof Error ? err.message : String(err),
        }),
      );
    }
    return errorResponse(fromDb, requestId);
  }
  // The caller learns that it failed and which request to quote, nothing about the internals.
  const e = err instanceof Error ? err : new Error(String(err));
  console.error(JSON.stringify({ level: 'error', request_id: requestId, name: e.name, message: e.message, stack: e.stack }));
  if (tracked) recordUnhandledError(tracked.req, tracked.ctx, e);
  return json(
    { error: { code: 'internal_error', message: 'internal error; quote the request id when reporting it', request_id: requestId } },
    500,
  );
}
