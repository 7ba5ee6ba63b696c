// A GET of a URL a member gave us (a thumbnail), made from our servers only to public addresses:
// the hostname is resolved first and every address it has must be public (public-address.ts),
// only the default ports are used, and redirects are followed by hand, a bounded number of times,
// each new location checked the same way before anything is sent to it. A refusal says only that
// the URL cannot be used: which check refused, and what DNS answered, stay in our logs, so the
// outcome cannot be used to map networks only our servers can reach.
//
// Origins in OUTBOUND_TRUSTED_ORIGINS skip the address check: the local stack sets it to its
// fakes' origin (127.0.0.1), whose renders stand in for RevID's CDN; deployed environments never
// set it (tools/deploy/function-secrets.ts refuses it).
//
// What remains: fetch resolves the name again when it connects, so a DNS server that answers a
// public address to us and then a private one to fetch (rebinding within the TTL) is not caught
// here; the runtime gives no way to pin the address of an https connection.
import { isIpLiteral, isPublicAddress } from './public-address.ts';

export const MAX_REDIRECTS = 5;

/** The URL cannot be fetched from here; `reason` is for logs only, never for members. */
export class DestinationRefusedError extends Error {
  constructor(readonly reason: string) {
    super('the URL cannot be fetched: it must be a public http(s) address');
    this.name = 'DestinationRefusedError';
  }
}

export type Resolver = (hostname: string) => Promise<string[]>;

/** Every A and AAAA address of a name; none (both lookups failed) is an empty list. */
export const resolveWithDns: Resolver = async (hostname) => {
  const lookups = await Promise.allSettled([Deno.resolveDns(hostname, 'A'), Deno.resolveDns(hostname, 'AAAA')]);
  return lookups.flatMap((l) => (l.status === 'fulfilled' ? l.value : []));
};

export interface PublicFetchOptions {
  resolve?: Resolver;
  fetch?: typeof fetch;
  trustedOrigins?: readonly string[];
  maxRedirects?: number;
  signal?: AbortSignal;
  headers?: HeadersInit;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '', 'https:': '' };

function originOf(text: string): string | null {
  try {
    return new URL(text).origin;
  } catch {
    return null;
  }
}

/**
 * Why `url` may not be fetched, judged without DNS (scheme, credentials, port, an IP literal that
 * is not public), or null: 'trusted' when its origin skips the checks, 'resolve' when its name
 * must still be resolved and checked. The schedules API uses it to refuse such URLs at once.
 */
export function refusalWithoutDns(
  url: URL,
  trustedOrigins: readonly string[] = [],
): { refused: string } | 'trusted' | 'resolve' | 'public' {
  if (!(url.protocol in DEFAULT_PORTS)) return { refused: `scheme ${url.protocol}` };
  if (url.username || url.password) return { refused: 'credentials in the URL' };
  if (trustedOrigins.map(originOf).includes(url.origin)) return 'trusted';
  // The URL parser drops a default port, so any port left is not 80/443.
  if (url.port !== DEFAULT_PORTS[url.protocol]) return { refused: `port ${url.port}` };
  if (url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) return { refused: 'localhost' };
  if (!isIpLiteral(url.hostname)) return 'resolve';
  return isPublicAddress(url.hostname) ? 'public' : { refused: 'not a public address' };
}

/** Refuses (throws) unless `url` may be fetched from our servers; resolves the name to check it. */
export async function checkDestination(url: URL, resolve: Resolver, trustedOrigins: readonly string[] = []): Promise<void> {
  const verdict = refusalWithoutDns(url, trustedOrigins);
  if (typeof verdict === 'object') throw new DestinationRefusedError(verdict.refused);
  if (verdict !== 'resolve') return;
  const addresses = await resolve(url.hostname);
  if (addresses.length === 0) throw new DestinationRefusedError('the name did not resolve');
  // Every address must be public: fetch may connect to any of them.
  if (!addresses.every(isPublicAddress)) throw new DestinationRefusedError('the name resolves to an address that is not public');
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GETs `url`, following at most `maxRedirects` redirects, each checked before it is sent. */
export async function fetchPublic(url: string, opts: PublicFetchOptions = {}): Promise<Response> {
  const resolve = opts.resolve ?? resolveWithDns;
  const fetchImpl = opts.fetch ?? fetch;
  const maxRedirects = opts.maxRedirects ?? MAX_REDIRECTS;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new DestinationRefusedError('not a URL');
  }
  for (let hop = 0; ; hop++) {
    await checkDestination(target, resolve, opts.trustedOrigins);
    const res = await fetchImpl(target, { redirect: 'manual', signal: opts.signal, headers: opts.headers });
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || location === null) return res;
    await res.body?.cancel();
    if (hop >= maxRedirects) throw new DestinationRefusedError(`more than ${maxRedirects} redirects`);
    try {
      target = new URL(location, target);
    } catch {
      throw new DestinationRefusedError('a redirect to something that is not a URL');
    }
  }
}
