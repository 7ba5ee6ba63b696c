// The YouTube read client: Data API v3 and Analytics API v2 over one caller, which reserves quota
// before every call, retries (backoff with jitter, Retry-After) and refreshes the token on 401.
// OAuth, uploads, errors and retries each have their own module beside this one.

import { YouTubeAnalyticsApi } from './analytics-client.ts';
import { type CallerOptions, YouTubeCaller } from './api-caller.ts';
import { YouTubeDataApi } from './data-api-client.ts';

export interface YouTubeClient {
  data: YouTubeDataApi;
  analytics: YouTubeAnalyticsApi;
  caller: YouTubeCaller;
}

export function createYouTubeClient(opts: CallerOptions): YouTubeClient {
  const caller = new YouTubeCaller(opts);
  return { caller, data: new YouTubeDataApi(caller), analytics: new YouTubeAnalyticsApi(caller) };
}
