// Per-client limits for calls without a verified token (the public routes: health, the OAuth
// callback, the RevID webhook), which the per-user limit cannot count. Each client address's calls
// of the current minute are counted in the instance's memory (anonymous-windows.ts) and in
// ops.anonymous_rate_limits, the count shared by all instances, which an instance adds its calls
// to only every tenth of the limit per client: a monitor polling health costs no write, a client
// near or over its limit one upsert per tenth until it is refused. Past
// MAX_ANONYMOUS_REQUESTS_PER_MINUTE the call is refused with 429 and Retry-After (0 switches the
// limit off); k instances serving one client admit at most limit + k × (limit / 10 − 1) calls in
// its minute.
//
// The address is the last X-Forwarded-For entry: the platform's gateway appends the address that
// connected to it, so entries before it are whatever the caller sent and are ignored
// (TRUSTED_PROXY_HOPS skips that many more entries when further proxies append after the
// gateway). Without a usable address nothing is counted: there is nobody to attribute the call to.
// An IPv6 client counts per /64: one subscriber's block, so cycling its addresses gains nothing.
import { AnonymousWindows } from './anonymous-windows.ts';
import { sql } from './db.ts';
import { env } from './env.ts';
import { scrub } from './observability/scrub.ts';
import type { RateLimitVerdict } from './rate-limit.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

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
  return address.includes(':') && ipv6Words(address) ? address : null;
}

/** The eight 16-bit words of an IPv6 address (compressed, or with an IPv4 tail), or null. */
export function ipv6Words(address: string): number[] | null {
  let text = address;
  const v4 = text.match(/^(.*:)(\d+\.[\d.]*)$/);
  if (v4) {
    if (!IPV4.test(v4[2])) return null;
    const [a, b, c, d] = v4[2].split('.').map(Number);
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (![...head, ...tail].every((g) => HEXTET.test(g))) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...Array(missing).fill('0'), ...tail].map((g) => parseInt(g, 16));
}

/**
 * The network a client is counted as: an IPv4 address itself, an IPv6 address's /64 (an
 * IPv4-mapped IPv6 address is its IPv4 address).
 */
export function clientNetwork(address: string): string | null {
  if (IPV4.test(address)) return `${address}/32`;
  const w = ipv6Words(address);
  if (!w) return null;
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return `${w[6] >> 8}.${w[6] & 255}.${w[7] >> 8}.${w[7] & 255}/32`;
  return `${w
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

async function addToSharedCount(client: string, windowStart: number, calls: number): Promise<number> {
  const [row] = await sql()<{ count: number }[]>`
    insert into ops.anonymous_rate_limits as r (client, window_start, count)
    values (${client}::cidr, ${new Date(windowStart)}, ${calls})
    on conflict (client, window_start) do update set count = r.count + excluded.count
    returning r.count`;
  return row.count;
}

let windows: AnonymousWindows | null = null;

function windowsFor(limit: number): AnonymousWindows {
  if (windows?.limit !== limit) {
    windows = new AnonymousWindows(limit, addToSharedCount, (err) => {
      // As for users: availability over strictness when the shared count cannot be reached.
      const message = err instanceof Error ? err.message : String(err);
      console.error(
        JSON.stringify({
          level: 'error',
          msg: 'anonymous rate limit: shared count not reached, counted in this instance only',
          error: scrub(message),
        }),
      );
    });
  }
  return windows;
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
  const client = address ? clientNetwork(address) : null;
  if (!client) return null;
  try {
    const now = Date.now();
    const v = await windowsFor(limit).count(client, now);
    const resetsAt = v.windowStart + 60_000;
    return {
      limit,
      remaining: Math.max(0, limit - v.seen),
      resetAt: Math.ceil(resetsAt / 1000),
      retryAfterSeconds: Math.max(1, Math.ceil((resetsAt - now) / 1000)),
      exceeded: v.exceeded,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(
      JSON.stringify({ level: 'error', msg: 'anonymous rate limit not applied', request_id: requestId, error: scrub(message) }),
    );
    return null;
  }
}
