// Request/response plumbing shared by the routes: bounded JSON bodies, JSON replies with the
// CORS headers GoTrue sends, and the Authorization header.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { AuthHttpError, badRequest } from './errors.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

// What supabase-js sends (see @supabase/supabase-js/cors plus the auth API version header);
// the version header must also be exposed, or a browser hides it and supabase-js loses error codes.
export const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, apikey, content-type, x-client-info, x-supabase-api-version, x-retry-count, accept',
  'access-control-expose-headers': 'x-supabase-api-version, x-total-count, link',
  'access-control-max-age': '86400',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...CORS_HEADERS,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** GoTrue's http.Redirect with 303 See Other (the /verify links). */
export function sendRedirect(res: ServerResponse, location: string) {
  res.writeHead(303, { ...CORS_HEADERS, location, 'content-length': '0' });
  res.end();
}

export function sendNoContent(res: ServerResponse, headers: Record<string, string> = {}) {
  res.writeHead(204, { ...CORS_HEADERS, ...headers });
  res.end();
}

// Past the limit the rest of a body is still read (and dropped) up to this size, so that a
// proxy streaming it to us (the gateway) gets the 413 instead of a reset connection.
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;

export class BodyTooLarge extends AuthHttpError {
  constructor(readonly drained: boolean) {
    super(413, 'request_entity_too_large', `Request body too large (max ${MAX_BODY_BYTES} bytes)`);
  }
}

/** Reads the raw body, refusing more than MAX_BODY_BYTES (checked on the header and while reading). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) throw new BodyTooLarge(false);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAIN_BYTES) throw new BodyTooLarge(false);
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) throw new BodyTooLarge(true);
  return Buffer.concat(chunks);
}

function badJson(detail: string) {
  return new AuthHttpError(400, 'bad_json', `Could not parse request body as JSON: ${detail}`);
}

/** GoTrue's retrieveRequestParams: the body must be a JSON object whose fields have the right types. */
export function parseJsonParams<T extends z.ZodType>(raw: Buffer, schema: T): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badJson(raw.length === 0 ? 'unexpected end of JSON input' : 'invalid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badJson('expected a JSON object');
  }
  rejectNul(value);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badJson(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

const NUL = '\u0000';

export function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(NUL);
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes(NUL) || holdsNul(v));
  }
  return false;
}

/**
 * Postgres can store NUL in neither text nor jsonb, so a password (hashed in SQL here) or metadata
 * holding one would fail the statement with a 500. It is refused first, with GoTrue's code for
 * input it will not take.
 */
export function rejectNul(value: unknown, what = 'request body') {
  if (holdsNul(value)) throw badRequest('validation_failed', `The ${what} must not contain the NUL character (\\u0000)`);
}

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return null;
  return BEARER.exec(header)?.[1] ?? null;
}
