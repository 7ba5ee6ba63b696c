// The custom thumbnail of a schedule, fetched from its URL for thumbnails.set: at most 2 MB (the
// limit YouTube sets), JPEG or PNG as its first bytes show (whatever the server calls it). The URL
// is a member's, so it is fetched only from public addresses, redirects included
// (_shared/platform/outbound/public-fetch.ts), and what members see of a fetch that was refused or never
// reached a server is one sentence, the same for every such case. What operators need beyond it
// (the refusal's reason, the network error's name) travels with the error (thumbnailProblem) into
// the worker's one log line for its invocation, not a line of its own: hosted keeps 100 lines per
// 10 s of a function, and a thumbnail host that is down would fail every schedule of a burst.
import { env } from '../_shared/platform/env.ts';
import { readCapped } from '../_shared/platform/http.ts';
import { DestinationRefusedError, fetchPublic, type PublicFetchOptions } from '../_shared/platform/outbound/public-fetch.ts';

export const MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024;
export const THUMBNAIL_UNREACHABLE = 'the thumbnail URL could not be fetched: it must be a public http(s) address of a JPEG or PNG image';

/** The URL gives no usable image (gone, too large, not JPEG/PNG): retrying will not help. */
export class ThumbnailUnusableError extends Error {
  /** `detail`: for operators only, never shown to members. */
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ThumbnailUnusableError';
  }
}

/** Worth another try later (a timeout, a dropped connection); `detail` as above. */
export class ThumbnailUnreachableError extends Error {
  constructor(readonly detail: string) {
    super(THUMBNAIL_UNREACHABLE);
    this.name = 'ThumbnailUnreachableError';
  }
}

/** What an operator reads of a thumbnail that could not be set: the message and its detail. */
export function thumbnailProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const detail = err instanceof ThumbnailUnusableError || err instanceof ThumbnailUnreachableError ? err.detail : undefined;
  return detail ? `${message} (${detail})` : message;
}

export function imageType(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  return null;
}

/** The thumbnail's response; refusals and network failures reduced to THUMBNAIL_UNREACHABLE. */
async function openThumbnail(url: string, opts: PublicFetchOptions): Promise<Response> {
  try {
    return await fetchPublic(url, { trustedOrigins: env().OUTBOUND_TRUSTED_ORIGINS, signal: AbortSignal.timeout(20_000), ...opts });
  } catch (err) {
    if (err instanceof DestinationRefusedError) throw new ThumbnailUnusableError(THUMBNAIL_UNREACHABLE, `refused: ${err.reason}`);
    // Only the error's name: what the network said (addresses, say) stays here.
    throw new ThumbnailUnreachableError(`fetch failed: ${err instanceof Error ? err.name : 'unknown'}`);
  }
}

export async function fetchThumbnail(url: string, opts: PublicFetchOptions = {}): Promise<{ bytes: Uint8Array; contentType: string }> {
  const res = await openThumbnail(url, opts);
  if (res.status >= 400 && res.status < 500) {
    await res.body?.cancel();
    throw new ThumbnailUnusableError(`the thumbnail URL answered HTTP ${res.status}`);
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new Error(`the thumbnail URL answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_THUMBNAIL_BYTES) {
    await res.body.cancel();
    throw new ThumbnailUnusableError(`the thumbnail is ${declared} bytes; YouTube takes at most ${MAX_THUMBNAIL_BYTES}`);
  }
  const bytes = await readCapped(
    res.body,
    MAX_THUMBNAIL_BYTES,
    () => new ThumbnailUnusableError(`the thumbnail is larger than the ${MAX_THUMBNAIL_BYTES} bytes YouTube takes`),
  );
  const contentType = imageType(bytes);
  if (!contentType) throw new ThumbnailUnusableError('the thumbnail is not a JPEG or PNG image');
  return { bytes, contentType };
}
