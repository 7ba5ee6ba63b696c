// HTTP conventions shared by every function: JSON responses, the one error envelope, CORS and
// security headers, body limits, and a small method-aware router.
import { z } from 'zod';

export const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'authorization, x-client-info, apikey, content-type, idempotency-key, x-request-id',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'Access-Control-Expose-Headers': 'x-request-id, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, x-cache',
};

// As the original deployment plan sets on /api: API answers are never cached by intermediaries
// and never rendered as documents.
export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

export const MAX_BODY_BYTES = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly details?: unknown,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const STANDARD_HEADERS: Record<string, string> = { ...CORS_HEADERS, ...SECURITY_HEADERS };

export function withStandardHeaders(headers: HeadersInit = {}): Headers {
  const h = new Headers(headers);
  for (const [k, v] of Object.entries(STANDARD_HEADERS)) {
    if (!h.has(k)) h.set(k, v);
  }
  return h;
}

export function json(data: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = withStandardHeaders(headers);
  h.set('Content-Type', 'application/json; charset=utf-8');
  return new Response(status === 204 ? null : JSON.stringify(data), { status, headers: h });
}

export function errorBody(code: string, message: string, details?: unknown, requestId?: string) {
  return {
    error: {
      code,
      message,
      ...(details === undefined ? {} : { details }),
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
}

export function errorResponse(err: HttpError, requestId?: string): Response {
  return json(errorBody(err.code, err.message, err.details, requestId), err.status, err.headers);
}

/**
 * Reads a body whole, failing with `tooLarge()` as soon as it passes `maxBytes` (the rest is
 * cancelled, never buffered): a declared Content-Length can be absent or wrong.
 */
export async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

/** Reads a JSON body within the size limit; 413 when larger, 400 when not JSON. */
export async function readJson(req: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new HttpError(413, 'payload_too_large', `request body exceeds ${maxBytes} bytes`);
  if (!req.body) return undefined;
  const bytes = await readCapped(
    req.body,
    maxBytes,
    () => new HttpError(413, 'payload_too_large', `request body exceeds ${maxBytes} bytes`),
  );
  if (bytes.byteLength === 0) return undefined;
  const text = new TextDecoder().decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
  }
  // JSON carries NUL only as this escape (a raw control character is not valid JSON), so bodies
  // without it skip the walk.
  if (text.includes('\\u0000')) rejectNul(value, 'body');
  return value;
}

const NUL = '\u0000';
const MAX_NUL_PATHS = 20;

/**
 * Where a NUL character sits in a JSON value: the path of each string that holds one, and of
 * each object with a key that holds one. Postgres can store NUL in neither text nor jsonb and
 * fails the whole statement, so it is refused here, for every input of every route, instead of
 * surfacing as a 500.
 */
export function nulPaths(value: unknown, path: string[] = [], out: string[] = []): string[] {
  if (out.length >= MAX_NUL_PATHS) return out;
  if (typeof value === 'string') {
    if (value.includes(NUL)) out.push(path.join('.'));
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulPaths(v, [...path, String(i)], out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes(NUL)) out.push(path.join('.'));
      nulPaths(v, [...path, k.replaceAll(NUL, '\\u0000')], out);
    }
  }
  return out;
}

/** 400 naming each field of `what` (body, query, path) that holds a NUL character. */
export function rejectNul(value: unknown, what: string): void {
  const paths = nulPaths(value);
  if (paths.length === 0) return;
  const message = 'must not contain the NUL character (\\u0000)';
  const details = [...new Set(paths)].map((p) => ({ path: p || what, message }));
  throw new HttpError(400, 'validation_failed', `invalid ${what}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

function concat(chunks: Uint8Array[], size: number) {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Validates data with a zod schema; a failure is a 400 naming the path of each bad field. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(data ?? (what === 'body' ? {} : data));
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: i.path.join('.') || what, message: i.message }));
  throw new HttpError(400, 'validation_failed', `invalid ${what}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

export function queryObject(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
}

function decodeSegment(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'validation_failed', `invalid path: ${name}: bad percent-encoding`, [
      { path: name, message: 'bad percent-encoding' },
    ]);
  }
}

export interface RouteContext {
  req: Request;
  url: URL;
  params: Record<string, string>;
  requestId: string;
}

export type RouteHandler = (ctx: RouteContext) => Promise<Response> | Response;

interface Route {
  method: string;
  path: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/**
 * Routes on the path after the function's own name (`/<fn>/a/:id` → `/a/:id`), because hosted
 * Supabase hands a function the path with its name first. Unknown path → 404; known path with
 * another method → 405 with `Allow`.
 */
export class Router {
  private routes: Route[] = [];

  constructor(readonly functionName: string) {}

  on(method: string, path: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp('^' + path.replace(/\/+$/, '').replace(/:([a-zA-Z_]+)/g, (_, k) => (keys.push(k), '([^/]+)')) + '/?$');
    this.routes.push({ method: method.toUpperCase(), path, pattern, keys, handler });
    return this;
  }

  /** The declared routes, e.g. for a test that must cover every one of them. */
  list(): { method: string; path: string }[] {
    return this.routes.map(({ method, path }) => ({ method, path }));
  }

  /** The declared path a URL matches (`/:id`, whatever the method) and its raw parameters. */
  match(url: URL): { path: string; params: Record<string, string> } | null {
    const path = this.subPath(url);
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (m) return { path: r.path, params: Object.fromEntries(r.keys.map((k, i) => [k, m[i + 1]])) };
    }
    return null;
  }

  subPath(url: URL): string {
    const prefix = `/${this.functionName}`;
    const p = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
    return p === '' ? '/' : p;
  }

  async dispatch(req: Request, requestId: string): Promise<Response> {
    const url = new URL(req.url);
    const path = this.subPath(url);
    // Every query parameter, whether a handler reads it through a schema or by hand; a repeated
    // one with all its values.
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = (query[k] ?? '') + v;
    rejectNul(query, 'query');
    const allowed: string[] = [];
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      if (r.method !== req.method) {
        allowed.push(r.method);
        continue;
      }
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeSegment(k, m[i + 1])]));
      rejectNul(params, 'path');
      return await r.handler({ req, url, params, requestId });
    }
    if (allowed.length > 0) {
      throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here`, undefined, {
        Allow: [...new Set([...allowed, 'OPTIONS'])].join(', '),
      });
    }
    throw new HttpError(404, 'not_found', `no route for ${req.method} ${path}`);
  }
}
