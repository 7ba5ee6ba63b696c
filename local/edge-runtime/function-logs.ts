// What hosted keeps of a function's own log lines (its console output once it serves). Supabase's
// "Edge Functions: Limits" allow a log message of at most 10,000 characters and 100 log events per
// 10 seconds per function, and do not say what becomes of the rest. So that a function whose logs
// may be lost there misses them here too, lines past the threshold are kept out of the stack log
// and longer ones cut, each time with a runtime line that says so (the window slides: the stricter
// reading of "per 10 seconds"; a line is an event, where hosted most likely counts a console call).
// What is kept out or cut goes whole to `overflow` (the stack's logs/functions-dropped.log), so
// nothing a function wrote is lost to a developer or to the tests that check no secret is ever
// logged. With the limits off everything stays in, and the runtime still says what hosted would
// have dropped. Tests and benchmarks read the counts at GET /_runtime/logs.

export interface LogLimits {
  /** Log events a function may write within `windowMs`. */
  events: number;
  windowMs: number;
  /** Characters of one log message. */
  chars: number;
}

export const HOSTED_LOG_LIMITS: LogLimits = { events: 100, windowMs: 10_000, chars: 10_000 };

export interface FunctionLogCounts {
  /** Lines the function wrote. */
  events: number;
  /** Lines hosted would not have kept (dropped here when the limits are on). */
  dropped: number;
  /** Lines longer than hosted keeps (cut here when the limits are on). */
  cut: number;
}

/** Where the lines go, and the clock (tests give their own). */
export interface LogSinks {
  write: (line: string) => void;
  /** Lines hosted would not keep, whole. */
  overflow?: (line: string) => void;
  /** Milliseconds on a clock that does not jump. */
  now?: () => number;
  /** Runs `fn` after `ms`, without keeping the process alive. */
  later?: (ms: number, fn: () => void) => void;
}

export class FunctionLogs {
  /** Per function, when each line hosted would keep within the current window arrived. */
  private kept = new Map<string, number[]>();
  /** Per function, lines dropped since the last one kept. */
  private dropping = new Map<string, number>();
  private counts = new Map<string, FunctionLogCounts>();
  /** Functions whose count of dropped lines is due to be written when their window has room. */
  private settling = new Set<string>();
  private readonly write: (line: string) => void;
  private readonly overflow: (line: string) => void;
  private readonly now: () => number;
  private readonly later: (ms: number, fn: () => void) => void;

  constructor(
    private readonly limits: LogLimits,
    private readonly enforced: boolean,
    sinks: LogSinks,
  ) {
    this.write = sinks.write;
    this.overflow = sinks.overflow ?? (() => {});
    this.now = sinks.now ?? (() => performance.now());
    this.later = sinks.later ?? ((ms, fn) => setTimeout(fn, ms).unref());
  }

  /** One line the function `fn` wrote; `source` names the isolate in the log. */
  line(fn: string, source: string, text: string): void {
    const counts = this.countsOf(fn);
    counts.events++;
    const at = this.now();
    const kept = this.windowOf(fn, at);
    if (kept.length >= this.limits.events) {
      counts.dropped++;
      const run = (this.dropping.get(fn) ?? 0) + 1;
      this.dropping.set(fn, run);
      if (run === 1) {
        // The count is written once the window has room again, even if nothing more comes.
        if (!this.settling.has(fn)) {
          this.settling.add(fn);
          this.later(kept[0] + this.limits.windowMs - at, () => this.settle(fn));
        }
        this.write(
          `${fn}: past hosted's log event threshold (${this.limits.events} per ${this.limits.windowMs / 1000} s per function): ${
            this.enforced ? 'its lines are dropped until there is room' : 'hosted would drop its lines from here (limits off: kept)'
          }`,
        );
      }
      if (this.enforced) this.overflow(`${source} ${text}`);
      else this.write(`${source} ${text}`);
      return;
    }
    kept.push(at);
    this.settle(fn);
    if (text.length > this.limits.chars) {
      counts.cut++;
      this.write(
        `${fn}: a log line of ${text.length} characters ${this.enforced ? 'cut' : 'hosted would cut'} to ${this.limits.chars} (hosted's longest log message)`,
      );
      if (this.enforced) {
        this.overflow(`${source} ${text}`);
        text = text.slice(0, this.limits.chars);
      }
    }
    this.write(`${source} ${text}`);
  }

  /** Writes how many of the function's lines were dropped since the last one kept, if any. */
  private settle(fn: string): void {
    this.settling.delete(fn);
    const dropped = this.dropping.get(fn) ?? 0;
    if (dropped === 0) return;
    this.dropping.set(fn, 0);
    this.write(`${fn}: ${dropped} log line(s) ${this.enforced ? 'were dropped' : 'hosted would have dropped'} (log event threshold)`);
  }

  /** The function's kept lines still in the window at `at`: the clock only goes forward, so the expired ones are first. */
  private windowOf(fn: string, at: number): number[] {
    let kept = this.kept.get(fn);
    if (!kept) this.kept.set(fn, (kept = []));
    let expired = 0;
    while (expired < kept.length && kept[expired] <= at - this.limits.windowMs) expired++;
    if (expired > 0) kept.splice(0, expired);
    return kept;
  }

  all(): Record<string, FunctionLogCounts> {
    return Object.fromEntries([...this.counts].map(([fn, c]) => [fn, { ...c }]));
  }

  private countsOf(fn: string): FunctionLogCounts {
    let c = this.counts.get(fn);
    if (!c) this.counts.set(fn, (c = { events: 0, dropped: 0, cut: 0 }));
    return c;
  }
}
