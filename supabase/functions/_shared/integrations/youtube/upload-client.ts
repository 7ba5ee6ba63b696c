// YouTube Data API v3 uploads: videos.insert with uploadType=resumable, as Google documents it,
// and thumbnails.set.
//   start   POST {upload base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status
//           JSON { snippet, status }, X-Upload-Content-Length/-Type → 200, Location = session URI
//   bytes   PUT <session URI>, Content-Range: bytes first-last/total (multiples of 256 KiB except
//           the last) → 308 with Range: bytes=0-N (N+1 bytes kept), or 200/201 with the video
//   status  PUT <session URI>, empty, Content-Range: bytes */total → 308 (+Range) or 200/201
// The chunks go out through put-bytes.ts (with their exact Content-Length, see there); everything
// else through fetchWithRetry. Only the session start spends quota (videos.insert); the chunks and status queries are free.
// Every request goes out with redirect: 'manual', because 308 here means "resume incomplete",
// not a redirect to follow.
import { z } from 'zod';
import { env } from '../../platform/env.ts';
import type { AccessTokenSource, QuotaHook } from './api-caller.ts';
import { isQuotaReason, parseGoogleError, QuotaExhaustedError, redactSecrets, YouTubeApiError } from './errors.ts';
import { type PutAnswer, putBytes } from './upload-put-bytes.ts';
import { DEFAULT_RETRY, fetchWithRetry, isRetryableStatus, parseRetryAfter, type RetryPolicy } from './http-retry.ts';

/** Google's upload unit: every chunk but the last is a multiple of it. */
export const UPLOAD_UNIT = 256 * 1024;

export interface VideoResourceInput {
  snippet: { title: string; description: string; tags: string[]; categoryId: string };
  status: { privacyStatus: 'public' | 'unlisted' | 'private'; publishAt?: string; selfDeclaredMadeForKids: boolean };
}

export interface UploadedVideo {
  id: string;
  privacyStatus: string | null;
  publishAt: string | null;
  uploadStatus: string | null;
}

export type SessionState = { kind: 'incomplete'; confirmed: number } | { kind: 'complete'; video: UploadedVideo };

/** The channel reached YouTube's per-channel upload limit (a few a day for new channels). */
export class UploadLimitError extends Error {
  constructor(readonly info: { message: string }) {
    super(`YouTube refused the upload: ${info.message} (uploadLimitExceeded)`);
    this.name = 'UploadLimitError';
  }
}

/** The session URI is unknown or expired at YouTube (404/410): its bytes are gone. */
export class UploadSessionGoneError extends Error {
  constructor(status: number) {
    super(`the upload session no longer exists at YouTube (HTTP ${status})`);
    this.name = 'UploadSessionGoneError';
  }
}

/** A chunk did not arrive whole (dropped connection, timeout, 5xx, 429): ask the session where it stands. */
export class ChunkInterruptedError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(redactSecrets(message));
    this.name = 'ChunkInterruptedError';
  }
}

const VideoResource = z.object({
  id: z.string().min(1),
  status: z
    .object({ privacyStatus: z.string().optional(), publishAt: z.string().optional(), uploadStatus: z.string().optional() })
    .optional(),
});

function parseVideo(endpoint: string, status: number, text: string): UploadedVideo {
  let parsed;
  try {
    parsed = VideoResource.parse(JSON.parse(text));
  } catch {
    throw new YouTubeApiError(endpoint, status, { message: 'the upload finished but YouTube answered without a video resource' });
  }
  return {
    id: parsed.id,
    privacyStatus: parsed.status?.privacyStatus ?? null,
    publishAt: parsed.status?.publishAt ?? null,
    uploadStatus: parsed.status?.uploadStatus ?? null,
  };
}

/** `Range: bytes=0-N` of a 308 → N + 1 bytes are kept; no Range → none. */
export function confirmedBytes(range: string | null): number {
  if (!range) return 0;
  const m = /^bytes=0-(\d+)$/.exec(range.trim());
  if (!m) throw new ChunkInterruptedError(`YouTube answered 308 with an unreadable Range header "${range}"`);
  return Number(m[1]) + 1;
}

export interface UploaderOptions {
  tokens: AccessTokenSource;
  /** Reserves the units of a call before it is made (videos.insert, thumbnails.set). */
  quota?: QuotaHook;
  retry?: RetryPolicy;
  /** One chunk's whole exchange (8 MiB on a slow link takes a while). */
  chunkTimeoutMs?: number;
  fetch?: typeof fetch;
  putBytes?: typeof putBytes;
}

/** A request to the upload API; the Authorization header is added per attempt. */
interface AuthorizedCall {
  url: URL | string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body?: BodyInit;
}

export class YouTubeUploader {
  constructor(private readonly opts: UploaderOptions) {}

  private get base(): string {
    return `${env().YOUTUBE_UPLOAD_BASE}/upload/youtube/v3`;
  }

  private get doFetch(): typeof fetch {
    return this.opts.fetch ?? fetch;
  }

  /**
   * Creates a resumable session for a video of `totalBytes` bytes with its metadata; returns the
   * session URI. Quota is reserved before every attempt (Google bills failed calls too).
   */
  async startSession(p: {
    metadata: VideoResourceInput;
    totalBytes: number;
    contentType: string;
    notifySubscribers: boolean;
  }): Promise<string> {
    const endpoint = 'videos.insert';
    const url = new URL(`${this.base}/videos`);
    url.search = new URLSearchParams({
      uploadType: 'resumable',
      part: 'snippet,status',
      notifySubscribers: String(p.notifySubscribers),
    }).toString();
    const body = JSON.stringify(p.metadata);
    const headers = {
      'Content-Type': 'application/json; charset=UTF-8',
      'X-Upload-Content-Length': String(p.totalBytes),
      'X-Upload-Content-Type': p.contentType,
    };
    const res = await this.authorized(endpoint, { url, method: 'POST', headers, body }, true);
    if (res.status === 200 || res.status === 201) {
      const location = res.headers.get('location');
      if (!location) throw new YouTubeApiError(endpoint, res.status, { message: 'YouTube started no upload session (no Location header)' });
      return location;
    }
    const info = parseGoogleError(res.status, res.text);
    if (info.reason === 'uploadLimitExceeded') throw new UploadLimitError(info);
    if (res.status === 403 && isQuotaReason(info.reason)) throw new QuotaExhaustedError(endpoint, 'google');
    throw new YouTubeApiError(endpoint, res.status, info);
  }

  /**
   * Sends bytes first..first+bytes.length-1 of `total` in one request. 308 → how many bytes YouTube
   * keeps now (whole 256 KiB units: possibly fewer than were sent); 200/201 → the video.
   */
  async putChunk(sessionUri: string, bytes: Uint8Array, first: number, total: number): Promise<SessionState> {
    const last = first + bytes.length - 1;
    let refreshed = false;
    for (;;) {
      const token = refreshed ? await this.opts.tokens.refresh() : await this.opts.tokens.get();
      let res: PutAnswer;
      try {
        res = await (this.opts.putBytes ?? putBytes)(
          sessionUri,
          { Authorization: `Bearer ${token}`, 'Content-Range': `bytes ${first}-${last}/${total}` },
          bytes,
          this.opts.chunkTimeoutMs ?? 300_000,
        );
      } catch (err) {
        const e = err as Error;
        throw new ChunkInterruptedError(e.name === 'TimeoutError' ? 'the chunk was not answered in time' : `${e.name}: ${e.message}`);
      }
      const text = res.text;
      if (res.status === 308) return { kind: 'incomplete', confirmed: confirmedBytes(res.headers.get('range')) };
      if (res.status === 200 || res.status === 201) return { kind: 'complete', video: parseVideo('videos.insert', res.status, text) };
      if (res.status === 404 || res.status === 410) throw new UploadSessionGoneError(res.status);
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        continue;
      }
      if (isRetryableStatus(res.status, text)) {
        throw new ChunkInterruptedError(
          `HTTP ${res.status} ${parseGoogleError(res.status, text).message}`,
          parseRetryAfter(res.headers.get('retry-after')),
        );
      }
      // A 400 about the range (our offset and YouTube's disagree) is settled by asking the session.
      throw new ChunkInterruptedError(`HTTP ${res.status} ${parseGoogleError(res.status, text).message}`);
    }
  }

  /** Where the session stands (retried like any idempotent call). */
  async queryStatus(sessionUri: string, total: number): Promise<SessionState> {
    const headers = { 'Content-Range': `bytes */${total}`, 'Content-Length': '0' };
    const res = await this.authorized('videos.insert(status)', { url: sessionUri, method: 'PUT', headers }, false);
    if (res.status === 308) return { kind: 'incomplete', confirmed: confirmedBytes(res.headers.get('range')) };
    if (res.status === 200 || res.status === 201) return { kind: 'complete', video: parseVideo('videos.insert', res.status, res.text) };
    if (res.status === 404 || res.status === 410) throw new UploadSessionGoneError(res.status);
    throw new YouTubeApiError('videos.insert(status)', res.status, parseGoogleError(res.status, res.text));
  }

  /** thumbnails.set: a JPEG/PNG of at most 2 MB for the uploaded video. */
  async setThumbnail(videoId: string, image: Uint8Array, contentType: string): Promise<void> {
    const endpoint = 'thumbnails.set';
    const url = new URL(`${this.base}/thumbnails/set`);
    url.searchParams.set('videoId', videoId);
    const res = await this.authorized(endpoint, { url, method: 'POST', headers: { 'Content-Type': contentType }, body: image }, true);
    if (res.status === 200) return;
    const info = parseGoogleError(res.status, res.text);
    if (res.status === 403 && isQuotaReason(info.reason)) throw new QuotaExhaustedError(endpoint, 'google');
    throw new YouTubeApiError(endpoint, res.status, info);
  }

  /** One call with retries (fetchWithRetry) and one token refresh on 401; quota before each attempt if `billed`. */
  /**
   * One call with the channel's token (refreshed once on a 401), retried as fetchWithRetry
   * retries; redirects are never followed (a 3xx is YouTube's answer, e.g. 308 for a session).
   */
  private async authorized(endpoint: string, call: AuthorizedCall, billed: boolean) {
    let refreshed = false;
    const makeRequest = (token: string) =>
      new Request(call.url, {
        method: call.method,
        redirect: 'manual',
        headers: { Authorization: `Bearer ${token}`, ...call.headers },
        body: call.body,
      });
    for (;;) {
      const token = refreshed ? await this.opts.tokens.refresh() : await this.opts.tokens.get();
      const res = await fetchWithRetry(endpoint, () => makeRequest(token), this.opts.retry ?? DEFAULT_RETRY, {
        fetch: this.opts.fetch,
        beforeAttempt: billed && this.opts.quota ? () => this.opts.quota!(endpoint) : undefined,
      });
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        continue;
      }
      return res;
    }
  }
}
