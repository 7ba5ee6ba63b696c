// The fake YouTube: Data API v3 (/youtube), Google OAuth (/oauth) and Analytics v2
// (/youtube-analytics) share one state, because tokens from /oauth unlock the other two.
// Uploads (resumable videos.insert), videos.update and thumbnails.set live beside the reads.
import type { FakeService } from '../core/service.ts';
import { registerAnalytics } from './analytics.ts';
import { registerYouTubeControl } from './control.ts';
import { registerDataApi } from './data-api.ts';
import { registerOAuth } from './oauth.ts';
import { registerUploadControl } from './upload-control.ts';
import { registerUploads } from './upload.ts';
import { registerVideoWrites } from './video-writes.ts';
import { YouTubeState } from './state.ts';

export function youtubeService(opts: { now?: () => number } = {}): FakeService & { state: YouTubeState } {
  const state = new YouTubeState(opts.now);
  return {
    name: 'youtube',
    state,
    mounts: [
      { prefix: '/youtube', style: 'google', label: 'YouTube Data API' },
      { prefix: '/oauth', style: 'google-oauth', label: 'Google OAuth' },
      { prefix: '/youtube-analytics', style: 'google', label: 'YouTube Analytics API' },
    ],
    register(router) {
      registerOAuth(router, state);
      registerDataApi(router, state);
      registerUploads(router, state);
      registerVideoWrites(router, state);
      registerAnalytics(router, state);
    },
    registerControl(router) {
      registerYouTubeControl(router, state);
      registerUploadControl(router, state);
    },
    reset() {
      state.reset();
    },
  };
}
