// The rendered video, read as a stream from its URL (RevID's CDN) one chunk at a time, so that a
// video of any size passes through a worker in a single reusable buffer. Bytes are read with a
// BYOB reader into a 1 MiB bounce buffer that is copied into that buffer (a default reader hands
// out a new array per read, which the garbage collector frees late: measured +50 MB over a 300 MB
// file against +21 MB; and a BYOB read straight into the 8 MiB chunk buffer re-creates that whole
// buffer's ArrayBuffer twice per read, some 1,000 times a chunk: with the heap sized as hosted
// sizes it (256 MB) V8 then ran full collections back to back until the step was killed (546),
// and with only the old space capped it collected far more often (bench/upload-limits, 2 GB in
// 64 MiB steps: CPU per step mean 448 -> 370 ms, max 587 -> 448 ms, total 26.2 -> 22.9 s). A
// connection that drops mid-file is reopened with `Range: bytes=<position>-` and reading
// continues where it stopped; a server that ignores Range is read from the start and the bytes
// before the position skipped. With a `window`, each connection asks for at most that many bytes
// (`Range: bytes=<position>-<position + window - 1>`): a worker step that sends a bounded part
// of the file reads only that part, and the next step asks for the next part.
import { backoffDelay, type RetryPolicy } from '../_shared/integrations/youtube/http-retry.ts';

/** The file cannot be read (gone, forbidden): retrying will not help. */
export class SourceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceUnavailableError';
  }
}

/** The file changed under us (another size): an upload resumed from it would be corrupt. */
export class SourceChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceChangedError';
  }
}

/** Reading failed again and again: worth trying later. */
export class SourceTransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceTransientError';
  }
}

export const SOURCE_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 30_000,
  timeoutMs: 30_000,
};

const BOUNCE_BYTES = 1024 * 1024;

export interface OpenedSource {
  totalBytes: number;
  contentType: string;
}

type Reader =
  | { kind: 'byob'; reader: ReadableStreamBYOBReader }
  | { kind: 'default'; reader: ReadableStreamDefaultReader<Uint8Array>; leftover: Uint8Array | null };

function totalFromContentRange(header: string | null): number | null {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  return m ? Number(m[3]) : null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A read that waits longer than `ms` for data counts as a dropped connection: the watchdog cancels
 * the connection, which ends the waiting read as if the connection had closed (WHATWG streams
 * settle a pending read on cancel), and the read then fails. A fetch body arrives one TLS record
 * (16 KiB) per read, some 500 reads per 8 MiB fill, so a fill has one timer, re-armed only when it
 * fires, rather than a timer and a race per read: those cost a quarter of the reads' CPU
 * (bench/upload-bytes, 512 MiB over TLS by Deno 2.1.4 in 64 MiB windows, medians of 3: 1,372 ms
 * of CPU with them, 1,023 ms without).
 */
class ReadWatchdog {
  /** When the waiting read began (performance.now(): a clock that never jumps); null while none waits. */
  private waitingSince: number | null = null;
  private cancel: (() => void) | null = null;
  private stalled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ms: number) {}

  async read<T>(read: Promise<T>, cancel: () => void): Promise<T> {
    this.waitingSince = performance.now();
    this.cancel = cancel;
    this.stalled = false;
    if (this.timer === undefined) this.arm(this.ms);
    try {
      const result = await read;
      if (this.stalled) throw new Error(`no data for ${this.ms} ms`);
      return result;
    } finally {
      this.waitingSince = null;
      this.cancel = null;
    }
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // No read waits: the next one arms the watchdog again.
      if (this.waitingSince === null) return;
      const waited = performance.now() - this.waitingSince;
      if (waited < this.ms) return this.arm(this.ms - waited);
      this.stalled = true;
      this.cancel?.();
    }, delay);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export class VideoSource {
  private current: Reader | null = null;
  private position = 0;
  /** Where the current connection's bytes end (exclusive). */
  private connectionEnd = Infinity;
  private total: number | null = null;
  private type = 'application/octet-stream';
  private bounce: Uint8Array | null = null;

  constructor(
    private readonly url: string,
    private readonly opts: { retry?: RetryPolicy; fetch?: typeof fetch; expectedTotal?: number | null; window?: number } = {},
  ) {
    this.total = opts.expectedTotal ?? null;
  }

  private get policy(): RetryPolicy {
    return this.opts.retry ?? SOURCE_RETRY;
  }

  /** Opens the file at `position` (with retries); its size and type. */
  async open(position = 0): Promise<OpenedSource> {
    let problem = '';
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      try {
        await this.openOnce(position);
        return { totalBytes: this.total!, contentType: this.type };
      } catch (err) {
        if (err instanceof SourceUnavailableError || err instanceof SourceChangedError) throw err;
        problem = (err as Error).message;
      }
      if (attempt < this.policy.maxAttempts) await sleep(backoffDelay(attempt, this.policy));
    }
    throw new SourceTransientError(`the rendered video could not be read: ${problem} (after ${this.policy.maxAttempts} attempts)`);
  }

  private async openOnce(position: number): Promise<void> {
    await this.close();
    const window = this.opts.window;
    const headers: Record<string, string> =
      window !== undefined ? { Range: `bytes=${position}-${position + window - 1}` } : position > 0 ? { Range: `bytes=${position}-` } : {};
    // The timeout covers the answer's headers only: the body is read for as long as the upload takes.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('no answer in time')), this.policy.timeoutMs);
    const res = await (this.opts.fetch ?? fetch)(this.url, { headers, signal: controller.signal })
      .catch((err: Error) => {
        throw new Error(`${err.name}: ${err.message}`);
      })
      .finally(() => clearTimeout(timer));
    const refuse = async (err: Error): Promise<never> => {
      await res.body?.cancel().catch(() => {});
      throw err;
    };
    if ([401, 403, 404, 410].includes(res.status)) {
      return await refuse(new SourceUnavailableError(`the rendered video is no longer available (HTTP ${res.status} from its URL)`));
    }
    if (res.status === 416)
      return await refuse(new SourceChangedError(`the rendered video is shorter than the ${position} bytes already uploaded`));
    if (res.status !== 200 && res.status !== 206) return await refuse(new Error(`HTTP ${res.status} from the video URL`));
    let total: number | null;
    let skip = 0;
    let end = Infinity;
    if (res.status === 206) {
      total = totalFromContentRange(res.headers.get('content-range'));
      const range = /^bytes (\d+)-(\d+)\//.exec(res.headers.get('content-range') ?? '');
      const start = Number(range?.[1] ?? NaN);
      if (start !== position) return await refuse(new Error(`asked for bytes from ${position}, got a range starting at ${start}`));
      end = Number(range![2]) + 1;
    } else {
      total = res.headers.has('content-length') ? Number(res.headers.get('content-length')) : null;
      skip = position;
    }
    if (total === null || !Number.isSafeInteger(total) || total <= 0) {
      return await refuse(new SourceUnavailableError('the video URL does not say how large the file is (no Content-Length)'));
    }
    if (this.total !== null && total !== this.total) {
      return await refuse(new SourceChangedError(`the rendered video is now ${total} bytes, not the ${this.total} being uploaded`));
    }
    if (!res.body) throw new Error('the video URL answered without a body');
    this.total = total;
    const type = res.headers.get('content-type') ?? '';
    this.type = /^video\/[\w.+-]+/i.test(type) ? type.split(';')[0].trim() : 'application/octet-stream';
    if (skip === 0) {
      try {
        this.current = { kind: 'byob', reader: res.body.getReader({ mode: 'byob' }) };
      } catch {
        this.current = { kind: 'default', reader: res.body.getReader(), leftover: null };
      }
    } else {
      this.current = { kind: 'default', reader: res.body.getReader(), leftover: null };
      await this.discard(this.current, skip);
    }
    this.position = position;
    this.connectionEnd = Math.min(end, total);
  }

  private async discard(r: Extract<Reader, { kind: 'default' }>, n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const { done, value } = await r.reader.read();
      if (done) throw new Error('the file ended before the resume position');
      if (value.byteLength > left) r.leftover = value.subarray(left);
      left -= Math.min(left, value.byteLength);
    }
  }

  /** Where the next byte read comes from. */
  get offset(): number {
    return this.position;
  }

  get totalBytes(): number | null {
    return this.total;
  }

  /**
   * Fills buf[0..length) with the file's bytes from the current position, reopening the
   * connection as often as it drops (with backoff; a run of failures without progress gives
   * up). Bytes already copied stay valid across a reopened connection.
   */
  async fill(buf: Uint8Array, length: number): Promise<void> {
    if (this.total !== null && this.position + length > this.total) throw new Error('read past the end of the video');
    let filled = 0;
    let failures = 0;
    // One per fill, stopped when it returns: no timer outlives the reads it guards.
    const watchdog = new ReadWatchdog(this.policy.timeoutMs);
    try {
      while (filled < length) {
        try {
          // A connection whose range is used up is replaced by one for the next range.
          if (!this.current || this.position >= this.connectionEnd) await this.open(this.position);
          const r = this.current!;
          const want = Math.min(length - filled, this.connectionEnd - this.position);
          const n = await this.readInto(r, buf, filled, want, watchdog);
          filled += n;
          this.position += n;
          failures = 0;
        } catch (err) {
          if (err instanceof SourceUnavailableError || err instanceof SourceChangedError || err instanceof SourceTransientError) throw err;
          failures++;
          if (failures >= this.policy.maxAttempts) {
            throw new SourceTransientError(`reading the rendered video kept failing at byte ${this.position}: ${(err as Error).message}`);
          }
          await this.close();
          await sleep(backoffDelay(failures, this.policy));
        }
      }
    } finally {
      watchdog.stop();
    }
  }

  /** One read of the connection into buf at `at`, at most `want` bytes; how many it copied. */
  private async readInto(r: Reader, buf: Uint8Array, at: number, want: number, watchdog: ReadWatchdog): Promise<number> {
    const cancel = () => {
      r.reader.cancel().catch(() => {});
    };
    if (r.kind === 'byob') {
      // The read detaches the bounce buffer and hands its memory back in `value`; a failed read
      // may keep it, so it is taken now and a new one made after a failure.
      const bounce = this.bounce ?? new Uint8Array(BOUNCE_BYTES);
      this.bounce = null;
      const { done, value } = await watchdog.read(r.reader.read(bounce.subarray(0, Math.min(want, bounce.byteLength))), cancel);
      if (done || !value) throw new Error(`the connection ended at byte ${this.position} of ${this.total}`);
      buf.set(value, at);
      this.bounce = new Uint8Array(value.buffer as ArrayBuffer);
      return value.byteLength;
    }
    let piece = r.leftover;
    r.leftover = null;
    if (!piece) {
      const { done, value } = await watchdog.read(r.reader.read(), cancel);
      if (done) throw new Error(`the connection ended at byte ${this.position} of ${this.total}`);
      piece = value;
    }
    const take = Math.min(piece.byteLength, want);
    buf.set(piece.subarray(0, take), at);
    if (take < piece.byteLength) r.leftover = piece.subarray(take);
    return take;
  }

  /** Continues reading from `position` instead (a resend that starts before what was read). */
  async seek(position: number): Promise<void> {
    if (position === this.position && this.current) return;
    await this.open(position);
  }

  async close(): Promise<void> {
    const r = this.current;
    this.current = null;
    this.connectionEnd = Infinity;
    await r?.reader.cancel().catch(() => {});
  }
}
