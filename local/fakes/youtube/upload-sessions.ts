// Resumable upload sessions of the fake YouTube. A session keeps no video bytes: it hashes them
// (sha256) as they arrive and remembers how many it has committed. Like Google's upload servers
// it commits in 256 KiB units, so after an interrupted request only whole units count, and the
// rest (at most 256 KiB, the one buffer a session holds) is discarded; the status query then
// tells the client where to resume.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import type { VideoMetadata } from './video-metadata.ts';

export const UPLOAD_UNIT = 256 * 1024;

export interface UploadBehaviour {
  dropEveryBytes: number | null; // kill the connection after about this many more bytes of PUT bodies
  quotaExceeded: number; // the next n session starts answer quotaExceeded
  uploadLimitExceeded: number; // the next n session starts answer uploadLimitExceeded
  lockPrivate: boolean; // an unaudited API project: every upload ends up private
}

export const DEFAULT_BEHAVIOUR: UploadBehaviour = { dropEveryBytes: null, quotaExceeded: 0, uploadLimitExceeded: 0, lockPrivate: false };

export class UploadSession {
  readonly createdAt: number;
  committed = 0; // bytes hashed and kept
  total: number | null; // the file size, once the client has said it
  puts = 0;
  statusQueries = 0;
  drops = 0; // connections the fake cut (dropEveryBytes)
  bytesReceived = 0; // every body byte that arrived, resends included
  videoId: string | null = null;
  sha256: string | null = null;
  completedAt: number | null = null;
  expired = false;
  /** Ends the request that is writing to this session now, if any (a newer one supersedes it). */
  abortActive: (() => void) | null = null;
  private hash: Hash = createHash('sha256');
  private pending: Buffer | null = null;
  private pendingLength = 0;

  constructor(
    readonly id: string,
    readonly channelId: string,
    readonly project: string,
    readonly declaredBytes: number | null,
    readonly contentType: string | null,
    readonly metadata: VideoMetadata,
    readonly received: unknown, // the JSON body as the client sent it
    readonly parts: string[],
    readonly notifySubscribers: boolean,
    now: number,
  ) {
    this.createdAt = now;
    this.total = declaredBytes;
  }

  get complete(): boolean {
    return this.videoId !== null;
  }

  /** Appends bytes that continue the committed prefix; whole 256 KiB units are hashed at once. */
  append(bytes: Buffer) {
    let data = bytes;
    while (data.length > 0) {
      if (this.pendingLength === 0 && data.length >= UPLOAD_UNIT) {
        const units = Math.floor(data.length / UPLOAD_UNIT) * UPLOAD_UNIT;
        this.hash.update(data.subarray(0, units));
        this.committed += units;
        data = data.subarray(units);
        continue;
      }
      this.pending ??= Buffer.allocUnsafe(UPLOAD_UNIT);
      const take = Math.min(UPLOAD_UNIT - this.pendingLength, data.length);
      data.copy(this.pending, this.pendingLength, 0, take);
      this.pendingLength += take;
      data = data.subarray(take);
      if (this.pendingLength === UPLOAD_UNIT) {
        this.hash.update(this.pending);
        this.committed += UPLOAD_UNIT;
        this.pendingLength = 0;
      }
    }
  }

  /** Bytes appended but not yet committed (less than one unit). */
  get uncommitted(): number {
    return this.pendingLength;
  }

  /** The request ended short of its last unit: what did not fill a unit is lost. */
  discardUncommitted() {
    this.pendingLength = 0;
  }

  /** The last request carried the final byte: commit the tail and seal the digest. */
  finish(): string {
    if (this.pendingLength > 0) this.hash.update(this.pending!.subarray(0, this.pendingLength));
    this.committed += this.pendingLength;
    this.pendingLength = 0;
    this.pending = null;
    this.sha256 = this.hash.digest('hex');
    return this.sha256;
  }
}

export class UploadSessions {
  readonly sessions = new Map<string, UploadSession>();
  behaviour: UploadBehaviour = { ...DEFAULT_BEHAVIOUR };
  private bytesSinceDrop = 0;

  newId(): string {
    // Shaped like Google's upload ids: long, opaque, URL-safe.
    return 'AD' + randomBytes(48).toString('base64url');
  }

  add(session: UploadSession) {
    this.sessions.set(session.id, session);
  }

  byVideoId(videoId: string): UploadSession | undefined {
    for (const s of this.sessions.values()) if (s.videoId === videoId) return s;
    return undefined;
  }

  /** Takes one forced answer for a session start, if any is due. */
  takeStartFault(): 'quotaExceeded' | 'uploadLimitExceeded' | null {
    if (this.behaviour.quotaExceeded > 0) {
      this.behaviour.quotaExceeded--;
      return 'quotaExceeded';
    }
    if (this.behaviour.uploadLimitExceeded > 0) {
      this.behaviour.uploadLimitExceeded--;
      return 'uploadLimitExceeded';
    }
    return null;
  }

  /**
   * How many bytes of this body chunk to take before the connection is cut, or null when it is
   * not cut. The count runs across requests, so "every ~n bytes" holds for any chunk size.
   */
  dropPoint(chunkLength: number): number | null {
    const every = this.behaviour.dropEveryBytes;
    if (every === null) return null;
    if (this.bytesSinceDrop + chunkLength < every) {
      this.bytesSinceDrop += chunkLength;
      return null;
    }
    const take = every - this.bytesSinceDrop;
    this.bytesSinceDrop = 0;
    return take;
  }

  setBehaviour(b: Partial<UploadBehaviour>) {
    if (b.dropEveryBytes !== undefined) this.bytesSinceDrop = 0;
    this.behaviour = { ...this.behaviour, ...b };
  }

  expireAll(): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (s.complete || s.expired) continue;
      s.expired = true;
      s.abortActive?.();
      n++;
    }
    return n;
  }

  reset() {
    for (const s of this.sessions.values()) s.abortActive?.();
    this.sessions.clear();
    this.behaviour = { ...DEFAULT_BEHAVIOUR };
    this.bytesSinceDrop = 0;
  }
}
