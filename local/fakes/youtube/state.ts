// Everything the fake YouTube remembers: channels and their videos, OAuth grants, quota usage.
import { generateChannel, type ChannelSpec, type FakeChannel, type FakeVideo } from './catalog.ts';
import { lifetimeMetrics, type DayMetrics } from './metrics.ts';
import { OAuthStore } from './oauth-store.ts';
import { QuotaLedger } from './quota.ts';
import { dayNumber } from './time.ts';

export const DEMO_CHANNEL_SEED = 'demo';
export const DEMO_CHANNEL_TITLE = 'Catalyst Demo Kitchen';
export const DEMO_VIDEO_COUNT = 120;

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
  demoChannelId = '';
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

  reset() {
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
  }
}
