// Per-client limits for calls without a verified token (the public routes: health, the OAuth
// callback, the RevID webhook), which the per-user limit cannot count. Each client address's
// calls of the current minute are counted in ops.anonymous_rate_limits with one upsert, as the
// user counter does; past MAX_ANONYMOUS_REQUESTS_PER_MINUTE the call is refused with 429 and
// Retry-After (0 switches the limit off).
//
// The address is the last X-Forwarded-For entry: the platform's gateway appends the address that
// connected to it, so entries before it are whatever the caller sent and are ignored
// (TRUSTED_PROXY_HOPS skips that many more entries when further proxies append after the
// gateway). Without a usable address nothing is counted: there is nobody to attribute the call to.
import { sql } from './db.ts';
import { env } from './env.ts';
import { scrub } from './observability/scrub.ts';
import type { RateLimitVerdict } from './rate-limit.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Postgres' inet cast checks an IPv6 address exactly; this only keeps anything else out.
const IPV6 = /^[0-9a-f:.]{2,45}$/;

/** The client address the gateway attributed the call to, or null. */
export function clientAddress(req: Request, trustedHops = 0): string | null {
  const header = req.headers.get('x-forwarded-for');
  if (!header) return null;
  const entries = header.split(',').map((e) => e.trim());
  const entry = entries[entries.length - 1 - trustedHops];
  if (!entry) return null;
  // Some proxies write "[v6]:port" or "v4:port".
  const address = (entry.match(/^\[([^\]]+)\](?::\d+)?$/)?.[1] ?? entry.replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1')).toLowerCase();
  if (IPV4.test(address)) return address;
  return address.includes(':') && IPV6.test(address) ? address : null;
}

/** Counts an anonymous call against its address's minute; null when it is not limited. */
export async function countAnonymousRequest(req: Request, requestId: string): Promise<RateLimitVerdict | null> {
  let limit: number;
  let hops: number;
  try {
    const e = env();
    if (!e.ENABLE_RATE_LIMITING || e.MAX_ANONYMOUS_REQUESTS_PER_MINUTE === 0) return null;
    limit = e.MAX_ANONYMOUS_REQUESTS_PER_MINUTE;
    hops = e.TRUSTED_PROXY_HOPS;
  } catch {
    return null;
  }
  const address = clientAddress(req, hops);
  if (!address) return null;
  try {
    // An IPv6 client counts per /64: one subscriber's block, so cycling its addresses gains nothing.
    const [row] = await sql()<{ request_count: number; resets_at: Date; retry_after_seconds: number }[]>`
      insert into ops.anonymous_rate_limits as r (client, window_start, count)
      values (network(set_masklen(${address}::inet, case family(${address}::inet) when 6 then 64 else 32 end)),
        date_trunc('minute', now()), 1)
      on conflict (client, window_start) do update set count = r.count + 1
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
    // As for users: availability over strictness when the counter cannot be reached.
    const message = err instanceof Error ? err.message : String(err);
    console.error(JSON.stringify({ level: 'error', msg: 'anonymous rate limit not applied', request_id: requestId, error: scrub(message) }));
    return null;
  }
}
