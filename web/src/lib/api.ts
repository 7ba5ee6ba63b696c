// Calls an edge function through supabase-js `functions.invoke` and returns its parsed answer, or
// throws an ApiError. Each call sends its own X-Request-Id so that even failures that never reach
// a function (gateway, network) can be quoted with an id.
import type { z } from 'zod/mini';
import { ApiError, apiErrorFromResponse, networkError, toApiError } from './api-error.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** The part of a SupabaseClient this module needs (kept structural so tests can pass a fake). */
export interface FunctionsInvoker {
  functions: {
    invoke(
      name: string,
      options: { method?: HttpMethod; body?: Record<string, unknown>; headers?: Record<string, string> },
    ): Promise<{ data: unknown; error: unknown; response?: Response }>;
  };
}

export interface CallOptions<S extends z.ZodMiniType> {
  method?: HttpMethod;
  body?: Record<string, unknown>;
  query?: Record<string, string | undefined>;
  /** Validates the answer; a mismatch is reported as an error instead of breaking a page later. */
  schema?: S;
  requestId?: string;
  /** Extra request headers (for example Idempotency-Key). */
  headers?: Record<string, string>;
}

export function newRequestId(): string {
  return crypto.randomUUID();
}

/** `members` + { workspace_id: 'x' } → `members?workspace_id=x`; path segments are encoded by the caller. */
export function functionPath(path: string, query?: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, value);
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Encodes one path segment (an id from the API) so it cannot change the route. */
export const segment = (value: string) => encodeURIComponent(value);

function contextResponse(error: unknown): Response | null {
  const ctx = (error as { context?: unknown } | null)?.context;
  return typeof Response !== 'undefined' && ctx instanceof Response ? ctx : null;
}

export async function callFunction<S extends z.ZodMiniType = z.ZodMiniUnknown>(
  client: FunctionsInvoker,
  path: string,
  options: CallOptions<S> = {},
): Promise<z.infer<S>> {
  const requestId = options.requestId ?? newRequestId();
  const { data, error } = await client.functions.invoke(functionPath(path, options.query), {
    method: options.method ?? 'GET',
    body: options.body,
    headers: { ...options.headers, 'x-request-id': requestId },
  });
  if (error) {
    const res = contextResponse(error);
    if (res) throw await apiErrorFromResponse(res, requestId);
    const name = (error as { name?: unknown }).name;
    if (name === 'FunctionsFetchError') throw networkError(requestId);
    const converted = toApiError(error);
    throw new ApiError({ status: converted.status, code: converted.code, message: converted.message, requestId });
  }
  if (!options.schema) return data as z.infer<S>;
  const parsed = options.schema.safeParse(data);
  if (!parsed.success) {
    throw new ApiError({
      status: null,
      code: 'unexpected_response',
      message: `The server answered ${path.split('?')[0]} in an unexpected format.`,
      requestId,
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}
