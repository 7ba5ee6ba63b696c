// Streams a video into a resumable session from a given offset: one chunk (a multiple of 256 KiB)
// is read from the source into the single buffer and sent; YouTube's 308 says how much it kept,
// which is saved before the next chunk. Each chunk is granted by the invocation's step budget
// (budget.ts); once it is spent the run stops at a chunk boundary ('yielded') and the next
// invocation resumes from the offset YouTube confirmed. After a dropped or failed request the session is asked
// where it stands and sending continues from there, from the buffer when it still holds those
// bytes, otherwise from the source reopened at that offset. Nothing else of the file is held.
import {
  ChunkInterruptedError,
  type SessionState,
  UPLOAD_UNIT,
  type UploadedVideo,
  type YouTubeUploader,
} from '../_shared/integrations/youtube/upload-client.ts';
import type { VideoSource } from './video-source.ts';
import type { StepBudget } from './budget.ts';
import type { StepOutcome } from './store.ts';

export interface UploadHooks {
  /** After every answer about the session (a chunk's, or a status query's). Tests stop workers here. */
  afterAnswer?: (info: { sent: boolean; final: boolean; state: SessionState; total: number }) => void | Promise<void>;
}

export interface UploadProgress {
  saveOffset(offset: number): Promise<StepOutcome>;
  beginFinalChunk(): Promise<StepOutcome>;
}

export interface UploadRunOptions {
  uploader: YouTubeUploader;
  source: VideoSource;
  progress: UploadProgress;
  /** Grants each chunk; a spent budget (bytes or its deadline) makes the run yield. */
  budget: StepBudget;
  chunkBytes: number;
  /** Failed requests in a row, without YouTube keeping a byte more, before giving up for now. */
  maxStalls?: number;
  hooks?: UploadHooks;
  sleep?: (ms: number) => Promise<void>;
}

export type UploadRunResult =
  | { kind: 'complete'; video: UploadedVideo; learntFrom: 'final_chunk' | 'status_query'; bytesSent: number }
  | { kind: 'canceled' | 'lease_lost' | 'yielded'; offset: number; bytesSent: number };

/** The session kept refusing or losing our bytes; worth trying again later from its status. */
export class UploadStalledError extends Error {
  constructor(offset: number, total: number, lastProblem: string) {
    super(`the upload made no progress at byte ${offset} of ${total}: ${lastProblem}`);
    this.name = 'UploadStalledError';
  }
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runUpload(sessionUri: string, total: number, startOffset: number, o: UploadRunOptions): Promise<UploadRunResult> {
  const sleep = o.sleep ?? realSleep;
  const maxStalls = o.maxStalls ?? 8;
  const buffer = new Uint8Array(Math.min(o.chunkBytes, total));
  let confirmed = startOffset;
  let chunkStart = -1;
  let chunkLength = 0;
  let stalls = 0;
  let bytesSent = 0;

  for (;;) {
    // YouTube holding every byte without having made the video means the request with the last
    // byte broke after its body arrived: sending the last unit again finishes the upload (bytes
    // YouTube already has are skipped), where resuming "from the end" would send nothing.
    const from = confirmed >= total ? total - Math.min(UPLOAD_UNIT, total) : confirmed;
    const inBuffer = chunkStart >= 0 && from >= chunkStart && from < chunkStart + chunkLength;
    if (!inBuffer) {
      // A chunk boundary: the place to stop when the step's budget is spent (after some progress;
      // never with every byte confirmed but no video yet, which the last unit again settles).
      const length = o.budget.grant(from, total, buffer.length, confirmed > startOffset && confirmed < total);
      if (length === 0) return { kind: 'yielded', offset: confirmed, bytesSent };
      await o.source.seek(from);
      chunkStart = from;
      chunkLength = length;
      await o.source.fill(buffer, chunkLength);
    }
    const end = chunkStart + chunkLength;
    const final = end === total;
    if (final) {
      const step = await o.progress.beginFinalChunk();
      if (step !== 'ok') return { kind: step, offset: confirmed, bytesSent };
    }

    let state: SessionState;
    let sent = true;
    o.budget.spend(end - from);
    try {
      state = await o.uploader.putChunk(sessionUri, buffer.subarray(from - chunkStart, chunkLength), from, total);
      bytesSent += end - from;
    } catch (err) {
      if (!(err instanceof ChunkInterruptedError)) throw err;
      stalls++;
      if (stalls > maxStalls) throw new UploadStalledError(confirmed, total, err.message);
      await sleep(Math.min(30_000, Math.max(err.retryAfterMs ?? 0, 200 * 2 ** (stalls - 1))));
      state = await o.uploader.queryStatus(sessionUri, total);
      sent = false;
    }
    await o.hooks?.afterAnswer?.({ sent, final, state, total });
    if (state.kind === 'complete') {
      return { kind: 'complete', video: state.video, learntFrom: sent && final ? 'final_chunk' : 'status_query', bytesSent };
    }
    if (state.confirmed > total) throw new Error(`YouTube confirms ${state.confirmed} bytes of a ${total}-byte upload`);
    if (state.confirmed > confirmed) stalls = 0;
    else if (sent) {
      // Answered, but nothing more kept: count it like a failure so a session that never moves ends.
      stalls++;
      if (stalls > maxStalls) throw new UploadStalledError(confirmed, total, 'YouTube kept no more of the bytes sent');
    }
    if (state.confirmed !== confirmed) {
      confirmed = state.confirmed;
      const step = await o.progress.saveOffset(confirmed);
      if (step !== 'ok') return { kind: step, offset: confirmed, bytesSent };
    }
  }
}
