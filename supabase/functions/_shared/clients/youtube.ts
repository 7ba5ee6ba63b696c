// The YouTube client: Google OAuth, Data API v3 reads, Analytics API v2 reports, with retries
// (backoff with jitter, Retry-After), quota reservation before every call, and token refresh on
// 401. Product code imports from here; the modules below keep each concern small.
export * from './youtube/config.ts';
export * from './youtube/errors.ts';
export * from './youtube/retry.ts';
export * from './youtube/oauth.ts';
export * from './youtube/caller.ts';
export * from './youtube/data-api.ts';
export * from './youtube/analytics.ts';

import { YouTubeAnalyticsApi } from './youtube/analytics.ts';
import { type CallerOptions, YouTubeCaller } from './youtube/caller.ts';
import { YouTubeDataApi } from './youtube/data-api.ts';

export interface YouTubeClient {
  data: YouTubeDataApi;
  analytics: YouTubeAnalyticsApi;
  caller: YouTubeCaller;
}

export function createYouTubeClient(opts: CallerOptions): YouTubeClient {
  const caller = new YouTubeCaller(opts);
  return { caller, data: new YouTubeDataApi(caller), analytics: new YouTubeAnalyticsApi(caller) };
}
