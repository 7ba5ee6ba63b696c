// Sends one row of net.http_request_queue and turns the outcome into the row pg_net writes to
// net._http_response. Every failure becomes a response row (status null + error_msg), never an
// exception: a bad row must not take the worker down.
import { z } from 'zod';

export const queuedRequestSchema = z.object({
  // int8 arrives as a string from postgres.js; keep it a string so ids past 2^53 survive.
  id: z.union([z.string(), z.number(), z.bigint()]).transform(String),
  method: z.string(),
  url: z.string(),
  headers: z.unknown(),
  body: z.instanceof(Uint8Array).nullable(),
  timeout_milliseconds: z.number().int(),
});
export type QueuedRequest = z.infer<typeof queuedRequestSchema>;

export interface ResponseRecord {
  id: string;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean;
  error_msg: string | null;
}

// pg_net sends its own User-Agent (pg_net/<version>); a target can tell worker calls apart by it.
const USER_AGENT = 'pg_net/local';

class RejectedRequest extends Error {}

export async function sendRequest(request: QueuedRequest): Promise<ResponseRecord> {
  let prepared: { url: URL; init: RequestInit };
  try {
    prepared = prepare(request);
  } catch (err) {
    return failedResponse(request.id, errorText(err));
  }

  const controller = new AbortController();
  const startedAt = performance.now();
  const timer = setTimeout(() => controller.abort(), request.timeout_milliseconds);
  try {
    // The timeout covers the whole exchange including the body, as curl's CURLOPT_TIMEOUT_MS does.
    const res = await fetch(prepared.url, { ...prepared.init, signal: controller.signal });
    // Postgres text cannot hold NUL; pg_net stores the body as a C string, which also ends at the first NUL.
    const content = (await res.text()).split('\u0000', 1)[0]!;
    const headers = Object.fromEntries(res.headers.entries());
    return {
      id: request.id,
      status_code: res.status,
      content_type: res.headers.get('content-type'),
      headers,
      content: content === '' ? null : content,
      timed_out: false,
      error_msg: null,
    };
  } catch (err) {
    if (controller.signal.aborted) {
      const total = (performance.now() - startedAt).toFixed(3);
      return failedResponse(request.id, `Timeout of ${request.timeout_milliseconds} ms reached. Total time: ${total} ms`, true);
    }
    return failedResponse(request.id, transportErrorText(err));
  } finally {
    clearTimeout(timer);
  }
}

function prepare(request: QueuedRequest): { url: URL; init: RequestInit } {
  const method = request.method.toUpperCase();
  if (!['GET', 'POST', 'DELETE'].includes(method)) throw new RejectedRequest(`Unsupported request method ${request.method}`);
  // libcurl reads 0 as "no timeout", which would let one request hold a slot forever.
  if (request.timeout_milliseconds < 1) {
    throw new RejectedRequest(`timeout_milliseconds must be at least 1, got ${request.timeout_milliseconds}`);
  }

  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new RejectedRequest('URL using bad/illegal format or missing URL');
  }
  // fetch also speaks data: and blob:, pg_net (curl restricted to http/https) does not.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RejectedRequest('Unsupported protocol');

  const headers = new Headers();
  for (const [name, value] of headerEntries(request.headers)) headers.append(name, value);
  if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT);

  const init: RequestInit = { method, headers, redirect: 'follow' };
  if (method === 'POST') {
    init.body = request.body ?? new Uint8Array(0);
    // curl labels a POST body without Content-Type as a form, so a caller that drops the default
    // JSON header sees the same Content-Type here as on hosted Supabase.
    if (request.body && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
  }
  return { url, init };
}

/** The header lines pg_net builds with jsonb_each_text: JSON null values are dropped. */
function headerEntries(headers: unknown): [string, string][] {
  if (headers === null || headers === undefined) return [];
  if (typeof headers !== 'object' || Array.isArray(headers)) throw new RejectedRequest('headers must be a JSON object');
  const entries: [string, string][] = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === null) continue;
    const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
    // Only the header name goes into the message: values often carry credentials.
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new RejectedRequest(`header "${name.split(/[\r\n]/, 1)[0]}" contains a carriage return or line feed`);
    }
    entries.push([name, value]);
  }
  return entries;
}

/** fetch hides the socket error in `cause`; lead with curl's wording so messages read like pg_net's. */
function transportErrorText(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  const code = errorCode(cause);
  const detail = errorText(cause);
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `Couldn't connect to server: ${detail}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `Couldn't resolve host name: ${detail}`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `Failure when receiving data from the peer: ${detail}`;
    default:
      return detail;
  }
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    if ('code' in err && typeof err.code === 'string') return err.code;
    // A host with several addresses (localhost → ::1 and 127.0.0.1) fails with an AggregateError.
    if (err instanceof AggregateError) return errorCode(err.errors[0]);
  }
  return undefined;
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((e) => errorText(e)).join('; ');
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export function failedResponse(id: string, message: string, timedOut = false): ResponseRecord {
  return { id, status_code: null, content_type: null, headers: null, content: null, timed_out: timedOut, error_msg: message };
}
