// One error type for everything the UI shows when a call fails, whoever produced the failure:
// our edge functions ({ error: { code, message, request_id } }), the gateway or the Supabase relay
// ({ code, message }), Supabase Auth ({ code, error_code, msg } or the older
// { error, error_description }), or no answer at all. The UI shows message, code and request id.

export class ApiError extends Error {
  readonly status: number | null;
  readonly code: string;
  readonly requestId: string | null;
  readonly details: unknown;

  constructor(init: { status: number | null; code: string; message: string; requestId?: string | null; details?: unknown }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId ?? null;
    this.details = init.details;
  }
}

interface HeaderSource {
  get(name: string): string | null;
}

const MAX_MESSAGE_LENGTH = 500;

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clip(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

/** A short fallback wording per status, for answers that carry no message of their own. */
export function statusMessage(status: number): string {
  if (status === 400) return 'The request was not accepted.';
  if (status === 401) return 'Your session has ended. Please sign in again.';
  if (status === 403) return 'You do not have permission to do that.';
  if (status === 404) return 'Not found.';
  if (status === 409) return 'That conflicts with the current state. Reload and try again.';
  if (status === 413) return 'The request is too large.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status >= 500) return 'The server could not complete the request. Please try again.';
  return `The request failed (HTTP ${status}).`;
}

/**
 * Turns an error answer (status, parsed JSON or raw text, headers) into an ApiError.
 * `fallbackRequestId` is the id this client sent, used when the answer names none.
 */
export function parseErrorBody(status: number, body: unknown, headers?: HeaderSource | null, fallbackRequestId?: string | null): ApiError {
  const headerId = text(headers?.get('x-request-id')) ?? text(headers?.get('sb-request-id'));
  let code: string | null = null;
  let message: string | null = null;
  let requestId: string | null = null;
  let details: unknown;

  if (isRecord(body) && isRecord(body.error)) {
    // Our functions' envelope.
    code = text(body.error.code);
    message = text(body.error.message);
    requestId = text(body.error.request_id);
    details = body.error.details;
  } else if (isRecord(body)) {
    // Gateway / relay ({ code: 404, message }) and Supabase Auth ({ code, error_code, msg }).
    code = text(body.error_code) ?? text(body.code) ?? text(body.error);
    message = text(body.message) ?? text(body.msg) ?? text(body.error_description);
    requestId = text(body.request_id);
  } else if (typeof body === 'string' && !/^\s*</.test(body)) {
    // Plain text is shown as is; an HTML error page from a proxy is not worth showing.
    message = text(body);
  }

  return new ApiError({
    status,
    code: code ?? `http_${status}`,
    message: clip(message ?? statusMessage(status)),
    requestId: requestId ?? headerId ?? text(fallbackRequestId),
    details,
  });
}

/** Reads an error Response (body once) into an ApiError. */
export async function apiErrorFromResponse(res: Response, fallbackRequestId?: string | null): Promise<ApiError> {
  let raw = '';
  try {
    raw = await res.text();
  } catch {
    // The body was already read or the connection dropped; the status still says enough.
  }
  let body: unknown = raw;
  if (raw.trim() !== '') {
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
  }
  return parseErrorBody(res.status, body, res.headers, fallbackRequestId);
}

export function networkError(requestId?: string | null): ApiError {
  return new ApiError({
    status: null,
    code: 'network_error',
    message: 'Could not reach the server. Check your connection and try again.',
    requestId: requestId ?? null,
  });
}

/**
 * Any thrown value → ApiError: ApiErrors pass through, Supabase Auth errors keep their status and
 * code, anything else keeps its message.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isRecord(err) || err instanceof Error) {
    const e = err as Record<string, unknown>;
    const status = typeof e.status === 'number' && e.status > 0 ? e.status : null;
    const name = text(e.name);
    // supabase-js reports a failed fetch as AuthRetryableFetchError (status 0) or a TypeError.
    if (name === 'AuthRetryableFetchError' || name === 'FunctionsFetchError' || (err instanceof TypeError && /fetch/i.test(err.message))) {
      return networkError();
    }
    const message = text(e.message);
    return new ApiError({
      status,
      code: text(e.code) ?? (status ? `http_${status}` : 'unexpected_error'),
      message: clip(message ?? (status ? statusMessage(status) : 'Something went wrong.')),
    });
  }
  return new ApiError({ status: null, code: 'unexpected_error', message: clip(text(err) ?? 'Something went wrong.') });
}
