// Per-user request limits that hold across every function instance: each user's requests of the
// current minute are counted in Postgres with one statement (an upsert into ops.rate_limits whose
// conflict arbiter is the primary key, no scan; the table is unlogged, so the commit does not
// wait for a WAL flush). Over MAX_API_REQUESTS_PER_MINUTE → 429 with Retry-After. Every limited
// answer, refused or not, says where the caller stands in X-RateLimit-* headers (Reset is the
// epoch second the window ends, as GitHub's API has it). ENABLE_RATE_LIMITING=false switches it
// off; the service role is not counted, anonymous callers are counted per address
// (anonymous-limit.ts).
import { countAnonymousRequest } from './anonymous-limit.ts';
import { sql } from './db.ts';
import { env } from './env.ts';
import { HttpError } from './http.ts';
import { identityOf } from './observability/context.ts';
import { scrub } from './observability/scrub.ts';

export interface RateLimitVerdict {
  limit: number;
  remaining: number;
  /** epoch seconds at which the current window ends */
  resetAt: number;
  retryAfterSeconds: number;
  exceeded: boolean;
}

/**
 * Counts this request against its user's minute, or an anonymous one against its address's
 * (anonymous-limit.ts); null when it is not limited (or cannot be). `users: false` exempts a
 * function's users (health: monitors must get through); anonymous callers are counted anyway.
 */
export async function countRequest(
  req: Request,
  requestId: string,
  opts: { users: boolean } = { users: true },
): Promise<RateLimitVerdict | null> {
  const identity = await identityOf(req);
  if (identity.kind === 'anonymous') return await countAnonymousRequest(req, requestId);
  if (identity.kind !== 'user' || !opts.users) return null;
  let limit: number;
  try {
    const e = env();
    if (!e.ENABLE_RATE_LIMITING) return null;
    limit = e.MAX_API_REQUESTS_PER_MINUTE;
  } catch {
    return null;
  }
  try {
    // The one statement per request (a function around it would cost a plan per call).
    const [row] = await sql()<{ request_count: number; resets_at: Date; retry_after_seconds: number }[]>`
      insert into ops.rate_limits as r (user_id, window_start, count)
      values (${identity.userId}, date_trunc('minute', now()), 1)
      on conflict (user_id, window_start) do update set count = r.count + 1
      returning r.count as request_count, r.window_start + interval '1 minute' as resets_at,
        greatest(1, ceil(extract(epoch from r.window_start + interval '1 minute' - now())))::integer as retry_after_seconds`;
    return {
      limit,
      remaining: Math.max(0, limit - row.request_count),
      resetAt: Math.ceil(row.resets_at.getTime() / 1000),
      retryAfterSeconds: row.retry_after_seconds,
      exceeded: row.request_count > limit,
    };
  } catch (err) {
    // Availability over strictness: when the counter cannot be reached the request goes on, and
    // the operator sees why on stderr.
    const message = err instanceof Error ? err.message : String(err);
    console.error(
      JSON.stringify({ level: 'error', msg: 'rate limit not applied: counter unavailable', request_id: requestId, error: scrub(message) }),
    );
    return null;
  }
}

export function rateLimitHeaders(v: RateLimitVerdict): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(v.limit),
    'X-RateLimit-Remaining': String(v.remaining),
    'X-RateLimit-Reset': String(v.resetAt),
  };
}

export function tooManyRequests(v: RateLimitVerdict): HttpError {
  return new HttpError(
    429,
    'rate_limited',
    `more than ${v.limit} requests in a minute; retry in ${v.retryAfterSeconds} s`,
    { limit: v.limit, reset_at: new Date(v.resetAt * 1000).toISOString() },
    { ...rateLimitHeaders(v), 'Retry-After': String(v.retryAfterSeconds) },
  );
}
