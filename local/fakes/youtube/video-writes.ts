// Writes on existing videos: videos.update (snippet and status, which is how a scheduled video is
// edited or published now) and thumbnails.set (a custom thumbnail, at most 2 MB).
// Real: PUT https://www.googleapis.com/youtube/v3/videos and
// POST https://www.googleapis.com/upload/youtube/v3/thumbnails/set; here under /youtube.
import { createHash } from 'node:crypto';
import type { RequestContext } from '../core/context.ts';
import type { Router } from '../core/router.ts';
import { authenticate, type Caller } from './auth.ts';
import type { FakeVideo } from './catalog.ts';
import { invalidParameter, notImplemented, quotaExceeded, requiredParameter, sendGoogleError } from './errors.ts';
import { etag, videoResource } from './resources.ts';
import { SCOPES, UPLOAD_SCOPES } from './scopes.ts';
import type { YouTubeState } from './state.ts';
import { checkVideoMetadata } from './video-metadata.ts';

// videos.update needs full YouTube access: youtube.upload alone does not allow editing.
const UPDATE_SCOPES = [SCOPES.youtube, SCOPES.youtubeForceSsl, SCOPES.youtubePartner];
const THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024;

export function registerVideoWrites(router: Router, state: YouTubeState) {
  router.put('/youtube/youtube/v3/videos', (ctx) => videosUpdate(ctx, state));
  router.post('/youtube/upload/youtube/v3/thumbnails/set', (ctx) => thumbnailsSet(ctx, state));
  router.post('/youtube/youtube/v3/thumbnails/set', (ctx) => thumbnailsSet(ctx, state));
}

function begin(ctx: RequestContext, state: YouTubeState, method: string, scopes: string[]): Caller | undefined {
  state.publishDueVideos();
  const caller = authenticate(ctx, state, { keyAllowed: false, scopes });
  if (!caller || caller.kind !== 'oauth') return undefined;
  if (!state.quota.charge(caller.project, method)) return void quotaExceeded(ctx);
  return caller;
}

function videoNotFound(ctx: RequestContext, location: string) {
  sendGoogleError(
    ctx,
    404,
    `The video that you are trying to update cannot be found. Check the value of the <code>${location}</code> in the request to ensure that it is correct.`,
    {
      reason: 'videoNotFound',
      domain: 'youtube.video',
      location,
      locationType: 'parameter',
    },
  );
}

function ownVideo(ctx: RequestContext, state: YouTubeState, caller: Caller, id: string, location: string): FakeVideo | undefined {
  const video = state.videos.get(id);
  // Another channel's private video does not exist as far as the caller can tell.
  if (!video || (video.channelId !== caller.channelId && video.privacyStatus === 'private')) return void videoNotFound(ctx, location);
  if (video.channelId !== caller.channelId) {
    return void sendGoogleError(ctx, 403, 'The video that you are trying to update belongs to another channel.', {
      reason: 'forbidden',
      domain: 'youtube.video',
    });
  }
  return video;
}

function videosUpdate(ctx: RequestContext, state: YouTubeState) {
  const caller = begin(ctx, state, 'videos.update', UPDATE_SCOPES);
  if (!caller) return;
  const raw = ctx.query.get('part');
  if (!raw) return requiredParameter(ctx, 'part');
  const parts = new Set(
    raw
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
  );
  for (const p of parts) {
    if (p === 'snippet' || p === 'status' || p === 'id') continue;
    if (
      [
        'contentDetails',
        'recordingDetails',
        'localizations',
        'statistics',
        'player',
        'topicDetails',
        'fileDetails',
        'processingDetails',
        'suggestions',
        'liveStreamingDetails',
      ].includes(p)
    ) {
      return notImplemented(ctx, `videos.update with part=${p}`);
    }
    return invalidParameter(ctx, 'part', `'${p}'`, 'unknownPart', 'youtube.part');
  }
  const body = ctx.json();
  const id = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined;
  if (typeof id !== 'string' || id.length === 0) return videoNotFound(ctx, 'id');
  const video = ownVideo(ctx, state, caller, id, 'id');
  if (!video) return;

  const checked = checkVideoMetadata(body, parts, state.now(), {
    privacyStatus: video.privacyStatus,
    // A video that has been public or unlisted cannot be scheduled again.
    publishedEver: video.privacyStatus !== 'private' || video.everPublic === true,
    metadata: {
      title: video.title,
      description: video.description,
      tags: video.tags,
      categoryId: video.categoryId,
      privacyStatus: video.privacyStatus,
      publishAt: video.publishAt,
      selfDeclaredMadeForKids: video.selfDeclaredMadeForKids,
    },
  });
  if (!checked.ok) return sendGoogleError(ctx, 400, checked.error.message, checked.error.detail);
  const m = checked.value;
  if (video.privacyStatus !== 'private') video.everPublic = true;
  Object.assign(video, {
    title: m.title,
    description: m.description,
    tags: m.tags,
    categoryId: m.categoryId,
    privacyStatus: m.privacyStatus,
  });
  if (parts.has('status')) {
    // The status part is replaced whole: leaving publishAt out unschedules the video.
    if (m.publishAt !== undefined) video.publishAt = m.publishAt;
    else delete video.publishAt;
    if (m.selfDeclaredMadeForKids !== undefined) video.selfDeclaredMadeForKids = m.selfDeclaredMadeForKids;
  }
  state.videoChanged(video);
  const channel = state.channels.get(video.channelId)!;
  ctx.sendJson(200, videoResource(video, channel, state.videoLifetime(video), new Set([...parts, 'id'])));
}

function imageType(bytes: Buffer): string | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(bytes.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) return 'image/bmp';
  return undefined;
}

function thumbnailsSet(ctx: RequestContext, state: YouTubeState) {
  const caller = begin(ctx, state, 'thumbnails.set', [...UPLOAD_SCOPES, SCOPES.youtubePartner]);
  if (!caller) return;
  const uploadType = ctx.query.get('uploadType');
  if (uploadType === 'resumable' || uploadType === 'multipart')
    return notImplemented(ctx, `thumbnails.set with uploadType=${uploadType} (send the image as the body)`);
  const videoId = ctx.query.get('videoId');
  if (!videoId) return requiredParameter(ctx, 'videoId');
  const video = ownVideo(ctx, state, caller, videoId, 'videoId');
  if (!video) return;
  if (ctx.body.length === 0)
    return sendGoogleError(ctx, 400, 'The request does not include the image content.', {
      reason: 'mediaBodyRequired',
      domain: 'youtube.thumbnail',
    });
  // Assumption: YouTube's documented 2 MB limit; the exact reason string is ours.
  if (ctx.body.length > THUMBNAIL_MAX_BYTES)
    return sendGoogleError(ctx, 400, 'The thumbnail image file is too large. The maximum size is 2 MB.', {
      reason: 'imageTooLarge',
      domain: 'youtube.thumbnail',
    });
  const mimeType = imageType(ctx.body);
  if (!mimeType)
    return sendGoogleError(ctx, 400, 'The provided image content is invalid.', { reason: 'invalidImage', domain: 'youtube.thumbnail' });

  video.customThumbnail = { bytes: ctx.body.length, sha256: createHash('sha256').update(ctx.body).digest('hex'), mimeType };
  const url = (name: string) => `https://i.ytimg.com/vi/${video.id}/${name}.jpg`;
  const item = {
    default: { url: url('default'), width: 120, height: 90 },
    medium: { url: url('mqdefault'), width: 320, height: 180 },
    high: { url: url('hqdefault'), width: 480, height: 360 },
    standard: { url: url('sddefault'), width: 640, height: 480 },
    maxres: { url: url('maxresdefault'), width: 1280, height: 720 },
  };
  ctx.sendJson(200, {
    kind: 'youtube#thumbnailSetResponse',
    etag: etag({ video: video.id, thumb: video.customThumbnail.sha256 }),
    items: [item],
  });
}
