// YouTube Data API v3 resource shapes (channel, video, playlistItem) built from the catalogue.
import { createHash } from 'node:crypto';
import type { FakeChannel, FakeVideo } from './catalog.ts';
import type { ChannelStatistics } from './state.ts';
import type { DayMetrics } from './metrics.ts';
import { googleTimestamp } from './time.ts';

/** Google's etags are 27-character base64url SHA-1 digests of the entity. */
export function etag(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('base64url');
}

/** ISO 8601 durations as YouTube writes them: PT45S, PT4M13S, PT1H2M, PT1M. */
export function isoDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (seconds === 0) return 'P0D';
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
}

function videoThumbnails(id: string) {
  const url = (name: string) => `https://i.ytimg.com/vi/${id}/${name}.jpg`;
  return {
    default: { url: url('default'), width: 120, height: 90 },
    medium: { url: url('mqdefault'), width: 320, height: 180 },
    high: { url: url('hqdefault'), width: 480, height: 360 },
    standard: { url: url('sddefault'), width: 640, height: 480 },
    maxres: { url: url('maxresdefault'), width: 1280, height: 720 },
  };
}

function channelThumbnails(id: string) {
  const url = (size: number) => `https://yt3.ggpht.com/ytc/${id}=s${size}-c-k-c0x00ffffff-no-rj`;
  return {
    default: { url: url(88), width: 88, height: 88 },
    medium: { url: url(240), width: 240, height: 240 },
    high: { url: url(800), width: 800, height: 800 },
  };
}

/** Public subscriber counts are rounded down to three significant figures. */
function publicSubscriberCount(n: number): number {
  if (n < 1000) return n;
  const magnitude = Math.pow(10, Math.floor(Math.log10(n)) - 2);
  return Math.floor(n / magnitude) * magnitude;
}

function withEtag<T extends { kind: string; id: string }>(resource: T): { kind: string; etag: string } & T {
  const { kind, ...rest } = resource;
  return { kind, etag: etag(resource), ...(rest as Omit<T, 'kind'>) } as { kind: string; etag: string } & T;
}

export function channelResource(channel: FakeChannel, stats: ChannelStatistics, parts: Set<string>) {
  const r: Record<string, unknown> & { kind: string; id: string } = { kind: 'youtube#channel', id: channel.id };
  if (parts.has('snippet')) {
    r.snippet = {
      title: channel.title,
      description: channel.description,
      customUrl: channel.customUrl,
      publishedAt: googleTimestamp(channel.publishedAt),
      thumbnails: channelThumbnails(channel.id),
      localized: { title: channel.title, description: channel.description },
      country: channel.country,
    };
  }
  if (parts.has('contentDetails')) r.contentDetails = { relatedPlaylists: { likes: '', uploads: channel.uploadsPlaylistId } };
  if (parts.has('statistics')) {
    r.statistics = {
      viewCount: String(stats.viewCount),
      subscriberCount: String(publicSubscriberCount(stats.subscriberCount)),
      hiddenSubscriberCount: false,
      videoCount: String(stats.videoCount),
    };
  }
  if (parts.has('status')) r.status = { privacyStatus: 'public', isLinked: true, longUploadsStatus: 'allowed', madeForKids: false };
  return withEtag(r);
}

export function videoResource(video: FakeVideo, channel: FakeChannel, lifetime: DayMetrics, parts: Set<string>) {
  const r: Record<string, unknown> & { kind: string; id: string } = { kind: 'youtube#video', id: video.id };
  if (parts.has('snippet')) {
    const snippet: Record<string, unknown> = {
      publishedAt: googleTimestamp(video.publishedAt),
      channelId: channel.id,
      title: video.title,
      description: video.description,
      thumbnails: videoThumbnails(video.id),
      channelTitle: channel.title,
      categoryId: video.categoryId,
      liveBroadcastContent: 'none',
      localized: { title: video.title, description: video.description },
      defaultAudioLanguage: 'en',
    };
    // YouTube leaves `tags` out when a video has none.
    if (video.tags.length > 0) snippet.tags = video.tags;
    r.snippet = snippet;
  }
  if (parts.has('contentDetails')) {
    r.contentDetails = {
      duration: isoDuration(video.durationSeconds),
      dimension: '2d',
      definition: 'hd',
      caption: 'false',
      licensedContent: false,
      contentRating: {},
      projection: 'rectangular',
    };
  }
  if (parts.has('statistics')) {
    r.statistics = {
      viewCount: String(lifetime.views),
      likeCount: String(lifetime.likes),
      favoriteCount: '0',
      commentCount: String(lifetime.comments),
    };
  }
  if (parts.has('status')) {
    const status: Record<string, unknown> = {
      uploadStatus: video.uploadStatus ?? 'processed',
      privacyStatus: video.privacyStatus,
      license: 'youtube',
      embeddable: true,
      publicStatsViewable: true,
      madeForKids: video.selfDeclaredMadeForKids ?? false,
    };
    if (video.publishAt !== undefined) status.publishAt = googleTimestamp(video.publishAt);
    if (video.selfDeclaredMadeForKids !== undefined) status.selfDeclaredMadeForKids = video.selfDeclaredMadeForKids;
    r.status = status;
  }
  return withEtag(r);
}

export function playlistItemId(playlistId: string, videoId: string): string {
  return Buffer.from(`${playlistId}.${videoId}`).toString('base64').replace(/=+$/, '');
}

export function playlistItemResource(video: FakeVideo, channel: FakeChannel, position: number, parts: Set<string>) {
  const r: Record<string, unknown> & { kind: string; id: string } = {
    kind: 'youtube#playlistItem',
    id: playlistItemId(channel.uploadsPlaylistId, video.id),
  };
  if (parts.has('snippet')) {
    r.snippet = {
      publishedAt: googleTimestamp(video.publishedAt),
      channelId: channel.id,
      title: video.title,
      description: video.description,
      thumbnails: videoThumbnails(video.id),
      channelTitle: channel.title,
      playlistId: channel.uploadsPlaylistId,
      position,
      resourceId: { kind: 'youtube#video', videoId: video.id },
      videoOwnerChannelTitle: channel.title,
      videoOwnerChannelId: channel.id,
    };
  }
  if (parts.has('contentDetails')) {
    const cd: Record<string, string> = { videoId: video.id };
    // A private video has not been published, so YouTube gives no publish time for it.
    if (video.privacyStatus !== 'private') cd.videoPublishedAt = googleTimestamp(video.publishedAt);
    r.contentDetails = cd;
  }
  if (parts.has('status')) r.status = { privacyStatus: video.privacyStatus };
  return withEtag(r);
}

export function listResponse(
  kind: string,
  items: unknown[],
  pageInfo: { totalResults: number; resultsPerPage: number },
  tokens: { nextPageToken?: string; prevPageToken?: string } = {},
) {
  const body: Record<string, unknown> = { kind, etag: etag({ kind, items, tokens }) };
  if (tokens.nextPageToken) body.nextPageToken = tokens.nextPageToken;
  if (tokens.prevPageToken) body.prevPageToken = tokens.prevPageToken;
  body.items = items;
  body.pageInfo = pageInfo;
  return body;
}
