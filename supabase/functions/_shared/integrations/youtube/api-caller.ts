// One authorized GET against a YouTube API: quota is reserved before every attempt (Google bills
// failed calls too), transient failures are retried, a 401 refreshes the access token once and
// tries again, quotaExceeded becomes QuotaExhaustedError, any other failure YouTubeApiError.
import { isQuotaReason, parseGoogleError, QuotaExhaustedError, YouTubeApiError } from './errors.ts';
import { DEFAULT_RETRY, fetchWithRetry, type RetryHooks, type RetryPolicy } from './http-retry.ts';

export interface AccessTokenSource {
  /** A token that is valid for at least a minute (refreshing first when it is not). */
  get(): Promise<string>;
  /** A new token even if the current one looks valid (after a 401). */
  refresh(): Promise<string>;
}

/** Reserves the units of one call to `endpoint`; throws QuotaExhaustedError to stop it. */
export type QuotaHook = (endpoint: string) => Promise<void>;

export interface CallStats {
  calls: number;
  retries: number;
  refreshes: number;
  byEndpoint: Record<string, number>;
}

export interface CallerOptions {
  tokens: AccessTokenSource;
  quota?: QuotaHook;
  retry?: RetryPolicy;
  hooks?: Omit<RetryHooks, 'beforeAttempt'>;
}

export class YouTubeCaller {
  readonly stats: CallStats = { calls: 0, retries: 0, refreshes: 0, byEndpoint: {} };

  constructor(private readonly opts: CallerOptions) {}

  async getJson(endpoint: string, url: URL): Promise<unknown> {
    let refreshed = false;
    for (;;) {
      const token = refreshed ? await this.refreshToken() : await this.opts.tokens.get();
      const res = await fetchWithRetry(
        endpoint,
        () => new Request(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }),
        this.opts.retry ?? DEFAULT_RETRY,
        {
          ...this.opts.hooks,
          beforeAttempt: async () => {
            await this.opts.quota?.(endpoint);
            this.stats.calls++;
            this.stats.byEndpoint[endpoint] = (this.stats.byEndpoint[endpoint] ?? 0) + 1;
          },
          onRetry: (info) => {
            this.stats.retries++;
            this.opts.hooks?.onRetry?.(info);
          },
        },
      );
      if (res.status === 200) {
        try {
          return JSON.parse(res.text);
        } catch {
          throw new YouTubeApiError(endpoint, res.status, { message: 'the answer was not JSON' });
        }
      }
      const info = parseGoogleError(res.status, res.text);
      // An expired or revoked access token: refresh once (a revoked grant fails the refresh).
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        continue;
      }
      if (res.status === 403 && isQuotaReason(info.reason)) throw new QuotaExhaustedError(endpoint, 'google');
      throw new YouTubeApiError(endpoint, res.status, info);
    }
  }

  private async refreshToken(): Promise<string> {
    this.stats.refreshes++;
    return await this.opts.tokens.refresh();
  }
}
