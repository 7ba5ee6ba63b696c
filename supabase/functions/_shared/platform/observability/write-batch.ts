// Collects rows written after responses and writes them together: the first row of a batch starts
// a short timer, a full batch is written at once. Every caller gets the promise of its batch's
// write, so EdgeRuntime.waitUntil (through inBackground) keeps a hosted instance alive until its
// rows are stored. A failed write is reported once for the whole batch by `onFailure`.
export interface WriteBatchOptions<T> {
  write: (rows: T[]) => Promise<unknown>;
  onFailure: (rows: T[], err: unknown) => void;
  maxRows: number;
  maxWaitMs: number;
}

export class WriteBatch<T> {
  private rows: T[] = [];
  private done: Promise<void> | null = null;
  private release: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: WriteBatchOptions<T>) {}

  /** Queues a row; resolves (never rejects) once the batch it joined has been written or reported. */
  add(row: T): Promise<void> {
    this.rows.push(row);
    const done = (this.done ??= new Promise<void>((resolve) => (this.release = resolve)));
    if (this.rows.length >= this.options.maxRows) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    return done;
  }

  /** Writes what is queued now instead of at the end of the wait (an instance about to stop). */
  flushNow() {
    if (this.rows.length > 0) this.flush();
  }

  private flush() {
    if (this.timer !== null) clearTimeout(this.timer);
    const rows = this.rows;
    const release = this.release!;
    this.rows = [];
    this.done = null;
    this.release = null;
    this.timer = null;
    this.options
      .write(rows)
      .catch((err) => this.options.onFailure(rows, err))
      .finally(release);
  }
}
