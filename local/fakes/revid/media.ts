// Rendered "videos": deterministic bytes made from the pid, produced as they are read and never
// held whole, so tests can move 500 MB files through the stack. The bytes are an AES-256-CTR
// keystream (fast, and any offset can be reached directly for Range requests) behind a real
// MP4 `ftyp` box, so sniffers take the file for an MP4.
import { createCipheriv, createHash } from 'node:crypto';

const CHUNK = 256 * 1024;
const ZEROS = Buffer.alloc(CHUNK);
// ftyp box: size 32, brand isom, minor 0x200, compatible isom iso2 avc1 mp41.
const FTYP = Buffer.concat([
  Buffer.from([0, 0, 0, 32]),
  Buffer.from('ftypisom'),
  Buffer.from([0, 0, 2, 0]),
  Buffer.from('isomiso2avc1mp41'),
]);

function keyFor(pid: string): Buffer {
  return createHash('sha256').update(`revid-media:${pid}`).digest();
}

/** The counter block that starts at byte `offset` (CTR mode counts 16-byte blocks). */
function ivAt(offset: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(Math.floor(offset / 16)), 8);
  return iv;
}

/** Bytes `start..endInclusive` of the media for `pid`, in chunks of at most 256 KiB. */
export function* mediaBytes(pid: string, start: number, endInclusive: number): Generator<Buffer> {
  if (endInclusive < start) return;
  const cipher = createCipheriv('aes-256-ctr', keyFor(pid), ivAt(start));
  let skip = start % 16; // the keystream starts at the block boundary before `start`
  let offset = start;
  while (offset <= endInclusive) {
    const want = Math.min(CHUNK, endInclusive - offset + 1);
    let bytes = cipher.update(ZEROS.subarray(0, want + skip));
    if (skip > 0) {
      bytes = bytes.subarray(skip);
      skip = 0;
    }
    if (offset < FTYP.length) {
      const head = FTYP.subarray(offset, Math.min(FTYP.length, offset + bytes.length));
      head.copy(bytes, 0);
    }
    yield bytes;
    offset += bytes.length;
  }
}

const digests = new Map<string, string>();

/** sha256 (hex) of the whole media file; hashed in slices so the server keeps answering meanwhile. */
export async function mediaSha256(pid: string, size: number): Promise<string> {
  const key = `${pid}:${size}`;
  const cached = digests.get(key);
  if (cached) return cached;
  const hash = createHash('sha256');
  let sinceYield = 0;
  for (const chunk of mediaBytes(pid, 0, size - 1)) {
    hash.update(chunk);
    sinceYield += chunk.length;
    if (sinceYield >= 16 * 1024 * 1024) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const digest = hash.digest('hex');
  digests.set(key, digest);
  return digest;
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * A single `Range: bytes=...` against a file of `size` bytes (RFC 9110). null: serve the whole
 * file (no header, a malformed one, or several ranges, which a server may ignore).
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
