// The failures a YouTube call can end in, each with what the caller should do about it, and the
// scrubbing that keeps OAuth tokens out of every message that leaves this module.

/** Google OAuth tokens and codes have recognisable prefixes; anything after "Bearer" is one too. */
const SECRET_PATTERNS: RegExp[] = [
  /ya29\.[A-Za-z0-9._~+/=-]+/g, // access tokens
  /1\/\/[A-Za-z0-9._~+/=-]+/g, // refresh tokens
  /4\/[0-9A-Za-z._~+/=-]{10,}/g, // authorization codes
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  // Not past a backslash either: log lines are redacted as JSON, where a quote after a secret is
  // escaped (`\"`), and taking the backslash with the secret left the line invalid JSON.
  /((?:access_token|refresh_token|code|code_verifier|client_secret|token)=)[^&\s"'\\]+/gi,
];

/** Replaces anything that looks like an OAuth credential with `<redacted>`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const re of SECRET_PATTERNS) {
    out = out.replace(re, (_m, prefix?: string) => (typeof prefix === 'string' ? `${prefix}<redacted>` : '<redacted>'));
  }
  return out;
}

export interface GoogleErrorInfo {
  message: string;
  reason?: string;
  domain?: string;
}

/** Reads Google's `{ error: { code, message, errors: [{ reason, domain }] } }` (or OAuth's) body. */
export function parseGoogleError(status: number, bodyText: string): GoogleErrorInfo {
  try {
    const body = JSON.parse(bodyText) as {
      error?: string | { message?: string; errors?: { reason?: string; domain?: string }[]; status?: string };
      error_description?: string;
    };
    if (typeof body.error === 'string') {
      return { message: redactSecrets(body.error_description ?? body.error), reason: body.error };
    }
    if (body.error && typeof body.error === 'object') {
      const first = body.error.errors?.[0];
      return {
        message: redactSecrets(stripHtml(body.error.message ?? `HTTP ${status}`)),
        reason: first?.reason ?? body.error.status,
        domain: first?.domain,
      };
    }
  } catch {
    // not JSON: fall through
  }
  return { message: `HTTP ${status}${bodyText ? `: ${redactSecrets(stripHtml(bodyText)).slice(0, 200)}` : ''}` };
}

function stripHtml(s: string): string {
  return s.replace(/<[^>]*>/g, '');
}

/** A YouTube or Google OAuth answer that retrying will not fix (a 4xx other than 401/429). */
export class YouTubeApiError extends Error {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    readonly info: GoogleErrorInfo,
  ) {
    super(`YouTube ${endpoint} failed with ${status}${info.reason ? ` ${info.reason}` : ''}: ${info.message}`);
    this.name = 'YouTubeApiError';
  }
}

/** Retries ran out on 5xx, 429, timeouts or dropped connections. */
export class YouTubeTransientError extends Error {
  constructor(
    readonly endpoint: string,
    message: string,
    /** When the API asked to wait longer than we are willing to sleep in-process. */
    readonly retryAfterMs?: number,
  ) {
    super(`YouTube ${endpoint} is unavailable: ${redactSecrets(message)}`);
    this.name = 'YouTubeTransientError';
  }
}

/**
 * No quota left: our own budget refused the call before it was made (`budget`: the project's day
 * is spent; `share`: this workspace's share of it is, until the borrow hour), or Google answered
 * `quotaExceeded`. The caller waits until `retryAt` (the reset, midnight Pacific, for the others).
 */
export class QuotaExhaustedError extends Error {
  constructor(
    readonly endpoint: string,
    readonly source: 'budget' | 'share' | 'google',
    readonly detail: {
      resetsAt?: Date;
      retryAt?: Date;
      usedToday?: number;
      dailyBudget?: number;
      units?: number;
      shareUnits?: number;
      workspaceUsed?: number;
    } = {},
  ) {
    super(quotaMessage(endpoint, source, detail));
    this.name = 'QuotaExhaustedError';
  }

  /** When trying again makes sense, if our budget knows it (Google's refusal says nothing). */
  get retryAt(): Date | undefined {
    return this.source === 'google' ? undefined : (this.detail.retryAt ?? this.detail.resetsAt);
  }
}

function quotaMessage(endpoint: string, source: QuotaExhaustedError['source'], d: QuotaExhaustedError['detail']): string {
  const n = (v: number | undefined) => v ?? '?';
  if (source === 'budget') {
    return `daily YouTube quota budget reached (${n(d.usedToday)} of ${n(d.dailyBudget)} units used today, ${endpoint} needs ${n(d.units)}): ${endpoint} was not called`;
  }
  if (source === 'share') {
    return `this workspace's share of the daily YouTube quota is spent (${n(d.workspaceUsed)} of ${n(d.shareUnits)} units used today, ${endpoint} needs ${n(d.units)}): ${endpoint} was not called`;
  }
  return `YouTube answered quotaExceeded for ${endpoint}: the project's daily quota is used up`;
}

/** The refresh token was revoked or expired (`invalid_grant`): only the owner reconnecting helps. */
export class ReauthRequiredError extends Error {
  constructor(readonly description: string) {
    super(`YouTube access was revoked or has expired (invalid_grant: ${redactSecrets(description)}); the channel must be reconnected`);
    this.name = 'ReauthRequiredError';
  }
}

const QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded']);
// 403s that mean "slow down", not "forbidden".
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

export function isQuotaReason(reason?: string): boolean {
  return reason !== undefined && QUOTA_REASONS.has(reason);
}

export function isRateReason(reason?: string): boolean {
  return reason !== undefined && RATE_REASONS.has(reason);
}
