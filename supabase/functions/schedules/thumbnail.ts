// The custom thumbnail of a schedule, fetched from its URL for thumbnails.set: at most 2 MB (the
// limit YouTube sets), JPEG or PNG as its first bytes show (whatever the server calls it).
export const MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024;

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

export async function fetchThumbnail(url: string, fetchImpl: typeof fetch = fetch): Promise<{ bytes: Uint8Array; contentType: string }> {
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(20_000), redirect: 'follow' });
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
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_THUMBNAIL_BYTES) {
      await reader.cancel();
      throw new ThumbnailUnusableError(`the thumbnail is larger than the ${MAX_THUMBNAIL_BYTES} bytes YouTube takes`);
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  const contentType = imageType(bytes);
  if (!contentType) throw new ThumbnailUnusableError('the thumbnail is not a JPEG or PNG image');
  return { bytes, contentType };
}
