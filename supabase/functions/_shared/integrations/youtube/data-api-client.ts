// YouTube Data API v3 reads the sync needs: the authorized user's channel, the uploads playlist
// page by page, and videos in batches of 50. Answers are checked with zod; fields YouTube may
// omit (tags, statistics of hidden counts, publish time of private videos) are optional.
import { z } from 'zod';
import type { YouTubeCaller } from './api-caller.ts';
import { googleEndpoints } from './google-config.ts';

export const MAX_PAGE_SIZE = 50;
export const MAX_VIDEO_IDS = 50;

const Thumbnails = z.record(z.string(), z.object({ url: z.string() })).optional();

const ChannelList = z.object({
  items: z
    .array(
      z.object({
        id: z.string(),
        snippet: z.object({ title: z.string(), description: z.string().optional(), thumbnails: Thumbnails }).optional(),
        contentDetails: z.object({ relatedPlaylists: z.object({ uploads: z.string().optional() }).optional() }).optional(),
      }),
    )
    .optional(),
});

const PlaylistItemList = z.object({
  nextPageToken: z.string().optional(),
  pageInfo: z.object({ totalResults: z.number().optional() }).optional(),
  items: z.array(z.object({ contentDetails: z.object({ videoId: z.string() }) })).default([]),
});

const Count = z
  .union([z.string(), z.number()])
  .transform((v) => Number(v))
  .optional();

const VideoList = z.object({
  items: z
    .array(
      z.object({
        id: z.string(),
        snippet: z
          .object({
            publishedAt: z.string().optional(),
            title: z.string().optional(),
            description: z.string().optional(),
            tags: z.array(z.string()).optional(),
            categoryId: z.string().optional(),
            thumbnails: Thumbnails,
          })
          .optional(),
        contentDetails: z.object({ duration: z.string().optional() }).optional(),
        statistics: z.object({ viewCount: Count, likeCount: Count, commentCount: Count }).optional(),
        status: z.object({ privacyStatus: z.string().optional() }).optional(),
      }),
    )
    .default([]),
});

export interface ChannelInfo {
  youtubeChannelId: string;
  title: string;
  description: string;
  thumbnailUrl: string | null;
  uploadsPlaylistId: string | null;
}

export interface UploadsPage {
  videoIds: string[];
  nextPageToken: string | null;
  totalResults: number | null;
}

export interface VideoInfo {
  youtubeVideoId: string;
  title: string | null;
  description: string | null;
  publishedAt: string | null;
  durationSeconds: number | null;
  isShort: boolean | null;
  tags: string[];
  categoryId: string | null;
  privacyStatus: string | null;
  thumbnailUrl: string | null;
  viewCount: number | null;
  likeCount: number | null;
  commentCount: number | null;
}

/** ISO 8601 durations as YouTube writes them (PT1H2M3S, P1DT2H, P0D) → seconds. */
export function parseIsoDuration(iso: string | undefined): number | null {
  if (!iso) return null;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m) return null;
  const [, d, h, min, s] = m.map((x) => Number(x ?? 0));
  return d * 86_400 + h * 3600 + min * 60 + s;
}

// YouTube does not say whether a video is a Short. Shorts are vertical and at most 3 minutes
// long (60 s before October 2024); without the aspect ratio, duration and the #shorts tag that
// creators add are the signals the Data API offers.
export function looksLikeShort(durationSeconds: number | null, title: string | null, tags: string[]): boolean | null {
  if (durationSeconds === null) return null;
  const tagged = /#shorts\b/i.test(title ?? '') || tags.some((t) => t.toLowerCase() === 'shorts');
  return durationSeconds <= 60 || (tagged && durationSeconds <= 180);
}

function bestThumbnail(t: z.infer<typeof Thumbnails>): string | null {
  if (!t) return null;
  for (const k of ['maxres', 'standard', 'high', 'medium', 'default']) if (t[k]) return t[k].url;
  return null;
}

export class YouTubeDataApi {
  constructor(private readonly caller: YouTubeCaller) {}

  private url(resource: string, params: Record<string, string>): URL {
    const url = new URL(`${googleEndpoints().dataApiBase}/${resource}`);
    url.search = new URLSearchParams(params).toString();
    return url;
  }

  /** channels.list?mine=true: the channel the token belongs to, or null when it has none. */
  async myChannel(): Promise<ChannelInfo | null> {
    const body = ChannelList.parse(
      await this.caller.getJson('channels.list', this.url('channels', { part: 'snippet,contentDetails', mine: 'true' })),
    );
    const c = body.items?.[0];
    if (!c) return null;
    return {
      youtubeChannelId: c.id,
      title: c.snippet?.title ?? c.id,
      description: c.snippet?.description ?? '',
      thumbnailUrl: bestThumbnail(c.snippet?.thumbnails),
      uploadsPlaylistId: c.contentDetails?.relatedPlaylists?.uploads ?? null,
    };
  }

  /** One page of playlistItems.list (contentDetails only: the video ids are all we need). */
  async uploadsPage(playlistId: string, pageToken?: string | null): Promise<UploadsPage> {
    const params: Record<string, string> = { part: 'contentDetails', playlistId, maxResults: String(MAX_PAGE_SIZE) };
    if (pageToken) params.pageToken = pageToken;
    const body = PlaylistItemList.parse(await this.caller.getJson('playlistItems.list', this.url('playlistItems', params)));
    return {
      videoIds: body.items.map((i) => i.contentDetails.videoId),
      nextPageToken: body.nextPageToken ?? null,
      totalResults: body.pageInfo?.totalResults ?? null,
    };
  }

  /** videos.list for up to 50 ids; ids YouTube no longer knows are simply absent. */
  async videos(ids: string[]): Promise<VideoInfo[]> {
    // No maxResults: YouTube rejects it together with `id`.
    if (ids.length === 0) return [];
    if (ids.length > MAX_VIDEO_IDS) throw new Error(`videos.list takes at most ${MAX_VIDEO_IDS} ids, got ${ids.length}`);
    const body = VideoList.parse(
      await this.caller.getJson('videos.list', this.url('videos', { part: 'snippet,contentDetails,statistics,status', id: ids.join(',') })),
    );
    return body.items.map((v) => {
      const durationSeconds = parseIsoDuration(v.contentDetails?.duration);
      const title = v.snippet?.title ?? null;
      const tags = v.snippet?.tags ?? [];
      return {
        youtubeVideoId: v.id,
        title,
        description: v.snippet?.description ?? null,
        publishedAt: v.snippet?.publishedAt ?? null,
        durationSeconds,
        isShort: looksLikeShort(durationSeconds, title, tags),
        tags,
        categoryId: v.snippet?.categoryId ?? null,
        privacyStatus: v.status?.privacyStatus ?? null,
        thumbnailUrl: bestThumbnail(v.snippet?.thumbnails),
        viewCount: finite(v.statistics?.viewCount),
        likeCount: finite(v.statistics?.likeCount),
        commentCount: finite(v.statistics?.commentCount),
      };
    });
  }
}

function finite(n: number | undefined): number | null {
  return n !== undefined && Number.isFinite(n) ? n : null;
}
