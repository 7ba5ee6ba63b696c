// The custom thumbnail of a schedule, fetched from its URL for thumbnails.set: at most 2 MB (the
// limit YouTube sets), JPEG or PNG as its first bytes show (whatever the server calls it). The URL
// is a member's, so it is fetched only from public addresses, redirects included
// (_shared/platform/outbound/public-fetch.ts), and what members see of a fetch that was refused or never
// reached a server is one sentence, the same for every such case.
import { env } from '../_shared/platform/env.ts';
import { readCapped } from '../_shared/platform/http.ts';
import { DestinationRefusedError, fetchPublic, type PublicFetchOptions } from '../_shared/platform/outbound/public-fetch.ts';
import { logEvent } from '../_shared/integrations/youtube/event-log.ts';

export const MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024;
export const THUMBNAIL_UNREACHABLE = 'the thumbnail URL could not be fetched: it must be a public http(s) address of a JPEG or PNG image';

/** The URL gives no usable image (gone, too large, not JPEG/PNG): retrying will not help. */
export class ThumbnailUnusableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThumbnailUnusableError';
  }
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
    if (err instanceof DestinationRefusedError) {
      logEvent('warn', 'thumbnail_fetch_refused', { reason: err.reason });
      throw new ThumbnailUnusableError(THUMBNAIL_UNREACHABLE);
    }
    // Worth another try later (a timeout, a dropped connection), but what the network said stays here.
    logEvent('warn', 'thumbnail_fetch_failed', { error: err instanceof Error ? err.name : 'unknown' });
    throw new Error(THUMBNAIL_UNREACHABLE, { cause: err });
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
