// The one wrapper every function's handler goes through: request id, CORS preflight, the error
// envelope for every failure, and no stack trace ever reaching a caller. Cross-cutting concerns
// (tracking, rate limits) hook in here so that functions added later get them without code.
import { errorResponse, HttpError, json, Router, withStandardHeaders } from './http.ts';

export type Handler = (req: Request) => Promise<Response>;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

function requestIdOf(req: Request): string {
  const incoming = req.headers.get('x-request-id');
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

export function createHandler(router: Router): Handler {
  return async (req: Request) => {
    const requestId = requestIdOf(req);
    let res: Response;
    if (req.method === 'OPTIONS') {
      res = new Response(null, { status: 204, headers: withStandardHeaders() });
    } else {
      try {
        res = await router.dispatch(req, requestId);
      } catch (err) {
        res = toErrorResponse(err, requestId);
      }
    }
    const headers = withStandardHeaders(res.headers);
    headers.set('X-Request-Id', requestId);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}

export function toErrorResponse(err: unknown, requestId: string): Response {
  if (err instanceof HttpError) return errorResponse(err, requestId);
  // The caller learns that it failed and which request to quote, nothing about the internals.
  const e = err instanceof Error ? err : new Error(String(err));
  console.error(JSON.stringify({ level: 'error', request_id: requestId, name: e.name, message: e.message, stack: e.stack }));
  return json(
    { error: { code: 'internal_error', message: 'internal error; quote the request id when reporting it', request_id: requestId } },
    500,
  );
}
