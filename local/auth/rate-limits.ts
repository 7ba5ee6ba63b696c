// GoTrue's rate limits. Per client address: a token bucket of 30 that refills at N per 5 minutes
// (tollbooth with SetBurst(30), one bucket set per endpoint); emails: N per hour for the whole
// project, in fixed windows (GoTrue's IntervalLimiter).
import type { IncomingMessage } from 'node:http';
import { AuthHttpError } from './errors.ts';
import type { RateLimits } from './config.ts';

const BURST = 30;
const FIVE_MINUTES_S = 300;
const HOUR_MS = 3_600_000;

export class TokenBucketLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perFiveMinutes: number,
    private readonly now: () => number = Date.now,
  ) {}

  allow(key: string): boolean {
    const now = this.now();
    const rate = this.perFiveMinutes / FIVE_MINUTES_S / 1000;
    const bucket = this.buckets.get(key) ?? { tokens: BURST, at: now };
    bucket.tokens = Math.min(BURST, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    // Idle buckets are full again after (BURST / rate); forget them so the map stays small.
    if (this.buckets.size > 10_000) this.forgetFull(now, rate);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private forgetFull(now: number, rate: number) {
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) * rate >= BURST) this.buckets.delete(key);
  }
}

export class IntervalLimiter {
  private windowStart: number;
  private count = 0;

  constructor(
    private readonly events: number,
    private readonly intervalMs = HOUR_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  allow(): boolean {
    const now = this.now();
    const passed = Math.floor((now - this.windowStart) / this.intervalMs);
    if (passed > 0) {
      this.windowStart += passed * this.intervalMs;
      this.count = 0;
    }
    if (this.count < this.events) {
      this.count++;
      return true;
    }
    return false;
  }
}

export type LimitedEndpoint = 'signup' | 'recover' | 'resend' | 'magiclink' | 'otp' | 'user' | 'token' | 'verify';

export interface Limiters {
  request(endpoint: LimitedEndpoint, req: IncomingMessage): void;
  email(): void;
}

export function createLimiters(limits: RateLimits, now: () => number = Date.now): Limiters {
  const perEndpoint = new Map<LimitedEndpoint, TokenBucketLimiter>();
  for (const e of ['signup', 'recover', 'resend', 'magiclink', 'otp', 'user'] as const) {
    perEndpoint.set(e, new TokenBucketLimiter(limits.signInSignUps, now));
  }
  perEndpoint.set('token', new TokenBucketLimiter(limits.tokenRefresh, now));
  perEndpoint.set('verify', new TokenBucketLimiter(limits.tokenVerifications, now));
  const email = new IntervalLimiter(limits.emailSent, HOUR_MS, now);
  return {
    request(endpoint, req) {
      if (!perEndpoint.get(endpoint)!.allow(clientAddress(req))) {
        throw new AuthHttpError(429, 'over_request_rate_limit', 'Request rate limit reached');
      }
    },
    email() {
      if (limits.emailSent === 0 || !email.allow()) {
        throw new AuthHttpError(429, 'over_email_send_rate_limit', 'email rate limit exceeded');
      }
    },
  };
}

/**
 * The caller's address: the last X-Forwarded-For entry, which the gateway appends (entries a
 * client sends itself come before it and are never trusted), else the connection's own address.
 */
export function clientAddress(req: IncomingMessage): string {
  const header = req.headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header.join(',') : header;
  const last = value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .at(-1);
  return last ?? req.socket.remoteAddress ?? 'unknown';
}

/** GoTrue's max_frequency check: one email of a kind per user per interval. */
export function assertSentLongEnoughAgo(sentAt: Date | null, maxFrequencyMs: number, now = Date.now()) {
  if (!sentAt) return;
  const readyAt = sentAt.getTime() + maxFrequencyMs;
  if (readyAt > now) {
    const left = Math.floor((readyAt - now) / 1000);
    throw new AuthHttpError(429, 'over_email_send_rate_limit', `For security purposes, you can only request this after ${left} seconds.`);
  }
}
