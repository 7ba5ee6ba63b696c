// Reachability of YouTube, Gemini and RevID without spending quota or credits: an
// unauthenticated GET to the API each product call goes to. With no key there is no project to
// charge, and the API front end answers at once: Google with 403 ("The request is missing a valid
// API key" / "Method doesn't allow unregistered callers"), RevID with its auth error. Any answer
// below 500 proves DNS, TLS and the service's front end work; 429 means it is throttling us; 5xx,
// a timeout (2 s) or no connection means it is down. No credential is ever sent.
import type { Env } from '../_shared/platform/env.ts';
import { scrub } from '../_shared/platform/observability/scrub.ts';

export type Status = 'healthy' | 'degraded' | 'unhealthy';

export interface ServiceHealth {
  status: Status;
  response_time: number;
  last_checked: string;
  error?: string;
}

export const EXTERNAL_SERVICES = ['youtube', 'gemini', 'revid'] as const;
export type ExternalService = (typeof EXTERNAL_SERVICES)[number];

export const PROBE_TIMEOUT_MS = 2_000;
/** Slower than this and a reachable service counts as degraded. */
export const SLOW_PROBE_MS = 1_000;

export function probeUrl(service: ExternalService, e: Env): string {
  switch (service) {
    case 'youtube':
      return `${e.YOUTUBE_API_BASE}/youtube/v3/videos?part=id&id=health-probe`;
    case 'gemini':
      return `${e.GEMINI_API_BASE}/v1beta/models`;
    case 'revid':
      return `${e.REVID_API_BASE}/api/public/v2/status`;
  }
}

export async function probe(url: string): Promise<ServiceHealth> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const checked = () => new Date().toISOString();
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    const responseTime = elapsed();
    if (res.status >= 500)
      return { status: 'unhealthy', response_time: responseTime, last_checked: checked(), error: `HTTP ${res.status}` };
    if (res.status === 429)
      return { status: 'degraded', response_time: responseTime, last_checked: checked(), error: 'throttled (HTTP 429)' };
    if (responseTime > SLOW_PROBE_MS)
      return { status: 'degraded', response_time: responseTime, last_checked: checked(), error: `slow: ${responseTime} ms` };
    return { status: 'healthy', response_time: responseTime, last_checked: checked() };
  } catch (err) {
    const timedOut = err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const error = timedOut ? `no answer within ${PROBE_TIMEOUT_MS} ms` : `unreachable: ${scrub((err as Error).message ?? String(err))}`;
    return { status: 'unhealthy', response_time: elapsed(), last_checked: checked(), error };
  }
}
