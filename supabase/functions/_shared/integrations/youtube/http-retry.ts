// HTTP with retries for Google APIs: 5xx, 429, 408, rate-limit 403s, timeouts and dropped
// connections are retried with exponential backoff and full jitter, honouring Retry-After up to
// a bound; anything else is returned to the caller as is. The body is read inside the loop, so a
// connection that drops mid-body is retried like one that never answered.
import { isRateReason, parseGoogleError, YouTubeTransientError } from './errors.ts';

export interface RetryPolicy {
  /** Tries in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A longer Retry-After is not slept through: the caller is told to come back later. */
  maxRetryAfterMs: number;
  /** Per attempt, headers and body together. */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
  timeoutMs: 20_000,
};

export interface FetchedResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface RetryHooks {
  /** Runs before every attempt (each attempt is a billable call): may throw to stop. */
  beforeAttempt?: () => Promise<void>;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  fetch?: typeof fetch;
}

/** Full jitter: a uniform delay in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/** Retry-After as delta-seconds or an HTTP date, in ms from now; undefined when absent/invalid. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function isRetryableStatus(status: number, bodyText = ''): boolean {
  if (status === 408 || status === 429 || status >= 500) return true;
  if (status === 403) return isRateReason(parseGoogleError(status, bodyText).reason);
  return false;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Sends the request made by `makeRequest` (called afresh per attempt) until it gets an answer
 * that is not retryable, and returns it with its body read. Throws YouTubeTransientError when the
 * attempts run out or the server asks to wait longer than `maxRetryAfterMs`.
 */
export async function fetchWithRetry(
  endpoint: string,
  makeRequest: () => Request,
  policy: RetryPolicy = DEFAULT_RETRY,
  hooks: RetryHooks = {},
): Promise<FetchedResponse> {
  const sleep = hooks.sleep ?? realSleep;
  const doFetch = hooks.fetch ?? fetch;
  let lastProblem = 'no attempt made';
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    await hooks.beforeAttempt?.();
    let retryAfterMs: number | undefined;
    try {
      const res = await doFetch(makeRequest(), { signal: AbortSignal.timeout(policy.timeoutMs) });
      const text = await res.text();
      if (!isRetryableStatus(res.status, text)) return { status: res.status, headers: res.headers, text };
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      lastProblem = `HTTP ${res.status} ${parseGoogleError(res.status, text).message}`;
    } catch (err) {
      // Timeouts (AbortSignal.timeout) and network errors (refused, reset, dropped mid-body).
      const e = err as Error;
      lastProblem = e.name === 'TimeoutError' ? `no answer within ${policy.timeoutMs} ms` : `${e.name}: ${e.message}`;
    }
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
      throw new YouTubeTransientError(endpoint, `${lastProblem}; asked to retry after ${Math.round(retryAfterMs / 1000)} s`, retryAfterMs);
    }
    if (attempt === policy.maxAttempts) break;
    const delayMs = Math.max(retryAfterMs ?? 0, backoffDelay(attempt, policy, hooks.random));
    hooks.onRetry?.({ attempt, delayMs, reason: lastProblem });
    await sleep(delayMs);
  }
  throw new YouTubeTransientError(endpoint, `${lastProblem} (after ${policy.maxAttempts} attempts)`);
}
