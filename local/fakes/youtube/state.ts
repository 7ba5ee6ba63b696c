// Everything the fake YouTube remembers: channels and their videos, OAuth grants, quota usage.
import { generateChannel, type ChannelSpec, type FakeChannel, type FakeVideo } from './catalog.ts';
import { lifetimeMetrics, type DayMetrics } from './metrics.ts';
import { OAuthStore } from './oauth-store.ts';
import { DEFAULT_GRANTED_SCOPES } from './scopes.ts';
import { QuotaLedger } from './quota.ts';
import { UploadSessions } from './upload-sessions.ts';
import { dayNumber } from './time.ts';

export const DEMO_CHANNEL_SEED = 'demo';
export const DEMO_CHANNEL_TITLE = 'Catalyst Demo Kitchen';
export const DEMO_VIDEO_COUNT = 120;
// The demo channel's refresh token is fixed so that supabase/seed.sql can store it for the demo
// workspace: `npm start` then syncs the demo channel from this fake without an OAuth round trip.
// It works for any OAuth client and only against this fake; it is not a secret.
export const DEMO_REFRESH_TOKEN = '1//0local-fake-demo-channel-refresh-token';

export interface ChannelStatistics {
  viewCount: number;
  subscriberCount: number;
  videoCount: number;
}

export class YouTubeState {
  readonly channels = new Map<string, FakeChannel>();
  readonly videos = new Map<string, FakeVideo>();
  readonly playlists = new Map<string, FakeChannel>(); // uploads playlist id → channel
  readonly oauth: OAuthStore;
  readonly quota: QuotaLedger;
  readonly uploads = new UploadSessions();
  demoChannelId = '';
  /** Registered OAuth clients (id → secret and redirect URIs); null: any client is accepted. */
  oauthClients: Map<string, { secret: string; redirectUris: string[] }> | null = null;
  private scheduled = new Set<string>(); // ids of videos with a pending publishAt
  private lifetimeCache = new Map<string, DayMetrics>(); // `${videoId}|${day}`
  private channelStatsCache = new Map<string, ChannelStatistics>(); // `${channelId}|${day}`

  constructor(readonly now: () => number = Date.now) {
    this.oauth = new OAuthStore(now);
    this.quota = new QuotaLedger(now);
    this.addDemoChannel();
  }

  /** The day whose end is the last one YouTube Analytics has data for (a two-day lag). */
  lastAnalyticsDay(): number {
    return this.today() - 2;
  }

  today(): number {
    return dayNumber(this.now());
  }

  addChannel(spec: ChannelSpec): FakeChannel {
    const channel = generateChannel(spec);
    this.channels.set(channel.id, channel);
    this.playlists.set(channel.uploadsPlaylistId, channel);
    for (const v of channel.videos) this.videos.set(v.id, v);
    return channel;
  }

  /** Lifetime metrics of a video as of today (what videos.list statistics show). */
  videoLifetime(video: FakeVideo): DayMetrics {
    const key = `${video.id}|${this.today()}`;
    let m = this.lifetimeCache.get(key);
    if (!m) this.lifetimeCache.set(key, (m = lifetimeMetrics(video, this.today())));
    return m;
  }

  channelStatistics(channel: FakeChannel): ChannelStatistics {
    const key = `${channel.id}|${this.today()}`;
    let s = this.channelStatsCache.get(key);
    if (!s) {
      let views = 0;
      let netSubscribers = 0;
      for (const v of channel.videos) {
        const m = this.videoLifetime(v);
        views += m.views;
        netSubscribers += m.subscribersGained - m.subscribersLost;
      }
      s = {
        viewCount: views,
        subscriberCount: channel.subscriberBase + netSubscribers,
        videoCount: channel.videos.filter((v) => v.privacyStatus === 'public').length,
      };
      this.channelStatsCache.set(key, s);
    }
    return s;
  }

  /** Adds a video uploaded through videos.insert to its channel (newest first, like the uploads playlist). */
  addUploadedVideo(video: FakeVideo) {
    const channel = this.channels.get(video.channelId);
    if (!channel) throw new Error(`no channel ${video.channelId}`);
    channel.videos.unshift(video);
    this.videos.set(video.id, video);
    if (video.publishAt !== undefined) this.scheduled.add(video.id);
    this.videoChanged(video);
  }

  /** Call after changing a video's privacy or publish time: cached channel numbers depend on them. */
  videoChanged(video: FakeVideo) {
    if (video.publishAt !== undefined) this.scheduled.add(video.id);
    else this.scheduled.delete(video.id);
    for (const key of [...this.channelStatsCache.keys()]) if (key.startsWith(`${video.channelId}|`)) this.channelStatsCache.delete(key);
    for (const key of [...this.lifetimeCache.keys()]) if (key.startsWith(`${video.id}|`)) this.lifetimeCache.delete(key);
  }

  /**
   * YouTube publishes a private video with `status.publishAt` at that time by itself. The fake does
   * it lazily: every Data API call first publishes what is due.
   */
  publishDueVideos() {
    const now = this.now();
    for (const id of [...this.scheduled]) {
      const video = this.videos.get(id);
      if (!video || video.publishAt === undefined) {
        this.scheduled.delete(id);
        continue;
      }
      if (video.publishAt > now) continue;
      if (video.privacyStatus === 'private') {
        video.privacyStatus = 'public';
        video.publishedAt = video.publishAt;
      }
      delete video.publishAt;
      this.videoChanged(video);
      const channel = this.channels.get(video.channelId);
      channel?.videos.sort((a, b) => b.publishedAt - a.publishedAt || a.id.localeCompare(b.id));
    }
  }

  reset() {
    this.oauthClients = null;
    this.uploads.reset();
    this.scheduled.clear();
    this.channels.clear();
    this.videos.clear();
    this.playlists.clear();
    this.lifetimeCache.clear();
    this.channelStatsCache.clear();
    this.oauth.clear();
    this.quota.clear();
    this.addDemoChannel();
  }

  private addDemoChannel() {
    const demo = this.addChannel({
      seed: DEMO_CHANNEL_SEED,
      videoCount: DEMO_VIDEO_COUNT,
      anchorDay: this.today(),
      spanDays: 365,
      title: DEMO_CHANNEL_TITLE,
      niche: 'cooking',
    });
    this.demoChannelId = demo.id;
    this.oauth.registerRefresh({ token: DEMO_REFRESH_TOKEN, clientId: null, channelId: demo.id, scopes: DEFAULT_GRANTED_SCOPES });
  }
}
