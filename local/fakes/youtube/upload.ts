// videos.insert with uploadType=resumable, as YouTube's upload servers speak it:
// POST {upload base}/upload/youtube/v3/videos?uploadType=resumable&part=... → 200 + Location (the
// session URI); PUT <session URI> with `Content-Range: bytes first-last/total` → 308 + `Range:
// bytes=0-N` until the last byte, then 200 with the video resource; `Content-Range: bytes */total`
// with an empty body asks where the session is. Bodies are streamed and hashed, never kept.
// Real: https://www.googleapis.com/upload/youtube/v3/videos; here: /youtube/upload/youtube/v3/videos.
import type { RequestContext } from '../core/context.ts';
import { hashString } from '../core/random.ts';
import type { Router } from '../core/router.ts';
import { authenticate } from './auth.ts';
import { videoIdForSeed, type FakeVideo } from './catalog.ts';
import { invalidParameter, notImplemented, quotaExceeded, requiredParameter, sendGoogleError, uploadLimitExceeded } from './errors.ts';
import { videoResource } from './resources.ts';
import { UPLOAD_SCOPES } from './scopes.ts';
import type { YouTubeState } from './state.ts';
import { UPLOAD_UNIT, UploadSession } from './upload-sessions.ts';
import { checkVideoMetadata } from './video-metadata.ts';

export const UPLOAD_PATH = '/youtube/upload/youtube/v3/videos';
const KNOWN_PARTS = [
  'id',
  'snippet',
  'status',
  'contentDetails',
  'recordingDetails',
  'localizations',
  'fileDetails',
  'processingDetails',
  'statistics',
  'player',
  'topicDetails',
  'suggestions',
  'liveStreamingDetails',
];
const WRITABLE_PARTS = ['id', 'snippet', 'status'];
// YouTube's largest accepted file.
const MAX_UPLOAD_BYTES = 256 * 1024 ** 3;
// Query parameters that carry credentials never go into a session URI we hand out.
const CREDENTIAL_PARAMS = ['access_token', 'key'];

export function registerUploads(router: Router, state: YouTubeState) {
  const toSession = (q: URLSearchParams) => q.has('upload_id');
  router.post(UPLOAD_PATH, (ctx) => (ctx.query.has('upload_id') ? sendBytes(ctx, state) : startSession(ctx, state)), {
    streamBody: toSession,
  });
  router.put(UPLOAD_PATH, (ctx) => (ctx.query.has('upload_id') ? sendBytes(ctx, state) : requiredParameter(ctx, 'upload_id')), {
    streamBody: toSession,
  });
}

function parseParts(ctx: RequestContext): Set<string> | undefined {
  const raw = ctx.query.get('part');
  if (!raw) return void requiredParameter(ctx, 'part');
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  for (const p of parts) {
    if (!KNOWN_PARTS.includes(p)) return void invalidParameter(ctx, 'part', `'${p}'`, 'unknownPart', 'youtube.part');
    if (!WRITABLE_PARTS.includes(p)) return void notImplemented(ctx, `videos.insert with part=${p}`);
  }
  return new Set(parts);
}

function startSession(ctx: RequestContext, state: YouTubeState) {
  const caller = authenticate(ctx, state, { keyAllowed: false, scopes: UPLOAD_SCOPES });
  if (!caller || caller.kind !== 'oauth') return;
  const uploadType = ctx.query.get('uploadType');
  if (!uploadType) return requiredParameter(ctx, 'uploadType');
  if (uploadType === 'media' || uploadType === 'multipart') return notImplemented(ctx, `uploadType=${uploadType} (use resumable)`);
  if (uploadType !== 'resumable')
    return invalidParameter(ctx, 'uploadType', `Invalid value '${uploadType}'. Values must be one of: media, multipart, resumable`);
  const parts = parseParts(ctx);
  if (!parts) return;

  const lengthHeader = ctx.header('x-upload-content-length');
  let declared: number | null = null;
  if (lengthHeader !== undefined) {
    if (!/^\d+$/.test(lengthHeader) || Number(lengthHeader) > MAX_UPLOAD_BYTES) {
      return sendGoogleError(ctx, 400, `Invalid X-Upload-Content-Length '${lengthHeader}'.`, { reason: 'badRequest' });
    }
    declared = Number(lengthHeader);
  }
  const mediaType = ctx.header('x-upload-content-type') ?? null;
  if (mediaType !== null && !/^(video\/[\w.+-]+|application\/octet-stream)(\s*;.*)?$/i.test(mediaType)) {
    return sendGoogleError(ctx, 400, `Media type '${mediaType}' is not supported. Valid media types: [video/*, application/octet-stream]`, {
      reason: 'badContent',
    });
  }

  const forced = state.uploads.takeStartFault();
  if (forced === 'quotaExceeded') return quotaExceeded(ctx);
  if (forced === 'uploadLimitExceeded') return uploadLimitExceeded(ctx);

  const received = ctx.json() ?? {};
  const checked = checkVideoMetadata(received, parts, state.now());
  if (!checked.ok) {
    // A rejected call still costs a unit, like every Data API call.
    if (!state.quota.charge(caller.project, 'videos.insert (rejected)')) return quotaExceeded(ctx);
    return sendGoogleError(ctx, 400, checked.error.message, checked.error.detail);
  }
  if (!state.quota.charge(caller.project, 'videos.insert')) return quotaExceeded(ctx);

  const metadata = checked.value;
  if (state.uploads.behaviour.lockPrivate) {
    // Uploads from unaudited API projects are locked private, and a locked video never publishes.
    metadata.privacyStatus = 'private';
    metadata.publishAt = undefined;
  }
  const session = new UploadSession(
    state.uploads.newId(),
    caller.channelId,
    caller.project,
    declared,
    mediaType,
    metadata,
    received,
    [...parts],
    ctx.query.get('notifySubscribers') !== 'false',
    state.now(),
  );
  state.uploads.add(session);

  const query = new URLSearchParams(ctx.query);
  for (const p of CREDENTIAL_PARAMS) query.delete(p);
  query.set('upload_id', session.id);
  ctx.send(
    200,
    { location: `${ctx.origin}${UPLOAD_PATH}?${query}`, 'x-guploader-uploadid': session.id, 'content-type': 'text/html; charset=UTF-8' },
    '',
  );
}

type ContentRange = { kind: 'query'; total: number | null } | { kind: 'bytes'; first: number; last: number; total: number | null };

function parseContentRange(
  header: string | undefined,
  contentLength: number | null,
  session: UploadSession,
): ContentRange | 'invalid' | 'length-required' {
  if (header === undefined) {
    // No Content-Range: the whole file in this one request.
    if (contentLength === null) return 'length-required';
    if (contentLength === 0) return { kind: 'query', total: session.total };
    return { kind: 'bytes', first: 0, last: contentLength - 1, total: contentLength };
  }
  const query = /^bytes \*\/(\d+|\*)$/.exec(header.trim());
  if (query) return { kind: 'query', total: query[1] === '*' ? null : Number(query[1]) };
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  if (!range) return 'invalid';
  const first = Number(range[1]);
  const last = Number(range[2]);
  const total = range[3] === '*' ? null : Number(range[3]);
  if (last < first || (total !== null && last >= total)) return 'invalid';
  // Google's protocol gives every chunk its Content-Length; a body sent chunked has none.
  if (contentLength === null) return 'length-required';
  return { kind: 'bytes', first, last, total };
}

function resumeIncomplete(ctx: RequestContext, session: UploadSession) {
  const headers: Record<string, string> = { 'x-guploader-uploadid': session.id };
  // With nothing stored yet Google sends no Range at all; clients must start from byte 0.
  if (session.committed > 0) headers.range = `bytes=0-${session.committed - 1}`;
  ctx.send(308, headers, '');
}

function badRequest(ctx: RequestContext, message: string) {
  ctx.discardBody();
  sendGoogleError(ctx, 400, message, { reason: 'badRequest' });
}

function sendBytes(ctx: RequestContext, state: YouTubeState) {
  const uploads = state.uploads;
  const session = uploads.sessions.get(ctx.query.get('upload_id')!);
  if (!session || session.expired) {
    ctx.discardBody();
    return sendGoogleError(ctx, 404, 'The upload session does not exist or has expired. Start a new upload.', { reason: 'notFound' });
  }
  session.puts++;
  if (session.complete) {
    ctx.discardBody();
    return sendVideo(ctx, state, session, false);
  }

  const lengthHeader = ctx.header('content-length');
  const contentLength = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  const range = parseContentRange(ctx.header('content-range'), contentLength, session);
  if (range === 'invalid') return badRequest(ctx, 'Failed to parse Content-Range header.');
  if (range === 'length-required') return badRequest(ctx, 'A request that sends bytes must give Content-Length (a chunked body has none).');
  if (range.total !== null && session.total !== null && range.total !== session.total) {
    return badRequest(ctx, `The total size in Content-Range (${range.total}) does not match the size of this upload (${session.total}).`);
  }

  if (range.kind === 'query') {
    if (contentLength !== null && contentLength > 0)
      return badRequest(ctx, 'A status request (Content-Range: bytes */total) must have an empty body.');
    session.statusQueries++;
    ctx.discardBody();
    return resumeIncomplete(ctx, session);
  }

  const { first, last } = range;
  const expected = last - first + 1;
  if (first > session.committed) {
    return badRequest(
      ctx,
      `Invalid request. According to the Content-Range header, the upload offset is ${first} byte(s), which exceeds already uploaded size of ${session.committed} byte(s).`,
    );
  }
  if (contentLength !== null && contentLength !== expected) {
    return badRequest(ctx, `Content-Length (${contentLength}) does not match the ${expected} byte(s) Content-Range announces.`);
  }
  const isFinal = range.total !== null && last === range.total - 1;
  if (!isFinal && expected < UPLOAD_UNIT) {
    return badRequest(
      ctx,
      `Invalid request. The number of bytes uploaded is required to be equal or greater than ${UPLOAD_UNIT}, except for the final request (it's recommended to be the exact multiple of ${UPLOAD_UNIT}). The received request contained ${expected} bytes, which does not meet this requirement.`,
    );
  }
  if (range.total !== null) session.total = range.total;

  // A newer request for the session supersedes one still running (the client gave up on it).
  session.abortActive?.();
  receive(ctx, state, session, first, expected, isFinal);
}

function receive(ctx: RequestContext, state: YouTubeState, session: UploadSession, first: number, expected: number, isFinal: boolean) {
  const uploads = state.uploads;
  let position = first; // absolute offset of the next body byte
  let taken = 0;
  let overflow = false;
  let finished = false;
  const stop = () => {
    finished = true;
    session.discardUncommitted();
    if (session.abortActive === abort) session.abortActive = null;
  };
  const abort = () => {
    if (!finished) stop();
    ctx.req.socket.destroy();
  };
  session.abortActive = abort;

  ctx.consumeBody({
    data(chunk) {
      if (finished) return;
      session.bytesReceived += chunk.length;
      let piece = chunk;
      if (taken + piece.length > expected) {
        overflow = true;
        piece = piece.subarray(0, expected - taken);
      }
      const cut = uploads.dropPoint(piece.length);
      if (cut !== null) piece = piece.subarray(0, cut);
      // Bytes the session already holds (a resent overlap) are skipped, like Google does.
      const frontier = session.committed + session.uncommitted;
      const end = position + piece.length;
      if (end > frontier) session.append(piece.subarray(Math.max(0, frontier - position)));
      position = end;
      taken += piece.length;
      if (cut !== null) {
        session.drops++;
        abort();
      }
    },
    end() {
      if (finished) return;
      if (overflow) {
        stop();
        sendGoogleError(ctx, 400, `The request body is longer than the ${expected} byte(s) its Content-Range announces.`, {
          reason: 'badRequest',
        });
        return;
      }
      if (isFinal && taken === expected) {
        finished = true;
        session.abortActive = null;
        session.finish();
        completeUpload(state, session);
        sendVideo(ctx, state, session, true);
        return;
      }
      // A non-final chunk (or a short body): only whole 256 KiB units count.
      stop();
      resumeIncomplete(ctx, session);
    },
    aborted() {
      if (!finished) stop();
    },
  });
}

function uniqueVideoId(state: YouTubeState, seed: string): string {
  let id = videoIdForSeed(seed);
  for (let salt = 1; state.videos.has(id); salt++) id = videoIdForSeed(`${seed}:${salt}`);
  return id;
}

function completeUpload(state: YouTubeState, session: UploadSession) {
  const m = session.metadata;
  const id = uniqueVideoId(state, session.id);
  const video: FakeVideo = {
    id,
    channelId: session.channelId,
    title: m.title,
    description: m.description,
    tags: m.tags,
    categoryId: m.categoryId,
    durationSeconds: 0, // the fake does not read the file, so it never learns a duration
    isShort: false,
    publishedAt: state.now(),
    privacyStatus: m.privacyStatus,
    seed: hashString(id),
    // A new upload has no audience in the fake: its analytics stay at zero.
    peakViews: 0,
    retention: 0.5,
    likeRate: 0,
    commentRate: 0,
    shareRate: 0,
    subscribeRate: 0,
  };
  if (m.publishAt !== undefined) video.publishAt = m.publishAt;
  if (m.selfDeclaredMadeForKids !== undefined) video.selfDeclaredMadeForKids = m.selfDeclaredMadeForKids;
  state.addUploadedVideo(video);
  session.videoId = id;
  session.completedAt = state.now();
}

function sendVideo(ctx: RequestContext, state: YouTubeState, session: UploadSession, justUploaded: boolean) {
  const video = state.videos.get(session.videoId!);
  const channel = video && state.channels.get(video.channelId);
  if (!video || !channel) {
    // The channel was reset away between the upload and this request.
    return sendGoogleError(ctx, 404, 'The video of this upload session no longer exists.', {
      reason: 'videoNotFound',
      domain: 'youtube.video',
    });
  }
  // Right after the last byte YouTube reports the video as uploaded; processing follows.
  const shown = justUploaded ? { ...video, uploadStatus: 'uploaded' as const } : video;
  ctx.sendJson(200, videoResource(shown, channel, state.videoLifetime(video), new Set(session.parts)));
}
