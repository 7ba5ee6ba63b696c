// The isolates of one function. A request gets an idle isolate, or a new one while the function
// has fewer than its maximum, or waits for the next free one: hosted starts a new isolate when
// all are busy, and the maximum only keeps a laptop from starting hundreds. An isolate that has
// used half of any limit finishes its request and is retired, as hosted does; one that has not
// serves the next request warm, as hosted's per-worker policy does.
import { BootError, Isolate, type IsolateSpec } from './isolate.ts';
import { RETIRE_AT, type Limits } from './limits.ts';

const IDLE_REAP_MS = 30_000;
/** How long a spare may wait for its first request before it is replaced by a fresh one. */
const SPARE_FRESH_MS = 3_000;

export class FunctionPool {
  private idle: Isolate[] = [];
  private live = new Set<Isolate>();
  private starting = 0;
  /** Isolates whose process runs but has not said it is ready. */
  private booting = new Set<Isolate>();
  private closed = false;
  private waiting: Array<{ resolve: (isolate: Isolate) => void; reject: (err: Error) => void }> = [];
  private reapers = new Map<Isolate, NodeJS.Timeout>();
  private nextSocket = 0;
  /** Isolates that died on their own since the runtime started (tests assert there are none). */
  crashes = 0;

  constructor(
    readonly fn: string,
    private readonly spec: (socketPath: string) => IsolateSpec,
    private readonly socketDir: string,
    private readonly maxIsolates: number,
    private readonly limits: Limits,
  ) {}

  async acquire(): Promise<Isolate> {
    for (let isolate = this.idle.pop(); isolate; isolate = this.idle.pop()) {
      clearTimeout(this.reapers.get(isolate));
      this.reapers.delete(isolate);
      // Its memory after the request it just served decides whether it retires (read after the
      // answer went out, so a chained request can arrive first).
      await isolate.memorySettled;
      if (isolate.alive && !this.spent(isolate) && !this.staleSpare(isolate)) {
        this.keepSpare();
        return isolate;
      }
      // Aged past half its wall clock while idle (retired, as hosted would), or a spare that
      // waited too long for its first request.
      this.drop(isolate);
      isolate.stop();
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.live.size + this.starting < this.maxIsolates) this.startOne();
    });
  }

  /**
   * A warm isolate goes on top of the idle stack, a newly booted one to the bottom: the next
   * request reuses the isolate that served the last one (its caches, its connections, what it
   * still has to write), and a spare that finished booting while the last request ran waits
   * until it is needed.
   */
  release(isolate: Isolate, fresh = false) {
    if (!isolate.alive || this.spent(isolate)) {
      this.drop(isolate);
      isolate.stop();
      // A replacement starts at once: hosted boots an isolate from its prebuilt bundle in tens of
      // milliseconds, a local Deno process takes most of a second, and chained worker steps
      // (each retiring its isolate) would otherwise pay that local-only cost every time.
      if (this.idle.length === 0 || this.waiting.length > this.starting) this.startOne();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve(isolate);
    if (fresh) this.idle.unshift(isolate);
    else this.idle.push(isolate);
    const reaper = setTimeout(() => {
      this.idle = this.idle.filter((i) => i !== isolate);
      this.drop(isolate);
      isolate.stop();
    }, IDLE_REAP_MS);
    reaper.unref();
    this.reapers.set(isolate, reaper);
  }

  isolates(): Isolate[] {
    return [...this.live];
  }

  /**
   * Stops every isolate, booting ones included: a spare still booting when the runtime stopped
   * used to finish booting with nobody left to stop it, and outlived the stack (a Deno process of
   * ~80 MB per stop, found after a benchmark).
   */
  stopAll() {
    this.closed = true;
    for (const isolate of [...this.live, ...this.booting]) isolate.stop(true);
    for (const waiter of this.waiting.splice(0)) waiter.reject(new BootError(`${this.fn} is shutting down`));
  }

  private spent(isolate: Isolate): boolean {
    if (!this.limits.enforced || isolate.requests === 0) return false;
    // Hosted's per-worker supervisor (supabase/edge-runtime, strategy_per_worker.rs) retires a
    // worker when its CPU reaches the soft limit, half its wall clock has passed, or the memory
    // it counts (V8 heap + external, `mem_reached_half`: the figure now, not a peak) is at half
    // the limit when a request ends; otherwise the next request reuses the warm worker. Retiring
    // on resident memory instead (~77 MB of Deno before any code, and never given back) retired
    // nearly every isolate after one request, which hosted does not.
    return (
      isolate.cpuUsedMs >= RETIRE_AT * this.limits.cpuMs ||
      isolate.ageMs() >= RETIRE_AT * this.limits.wallClockMs ||
      isolate.memoryMb >= RETIRE_AT * this.limits.memoryMb
    );
  }

  /**
   * A spare booted ahead of need that has waited more than SPARE_FRESH_MS for its first request.
   * Hosted creates a worker when a request needs one, so its first request starts at once; a local
   * spare that sat idle for seconds had V8's memory reducer shrink its heap limit meanwhile, and
   * its first upload step then ran full collections back to back until the CPU limit (the README's
   * garbage-collection finding; in bench/upload-limits almost every 546 was such a spare's first
   * request). Such a spare is replaced, so the local runtime is not stricter than hosted here.
   */
  private staleSpare(isolate: Isolate): boolean {
    return isolate.requests === 0 && isolate.ageMs() > SPARE_FRESH_MS;
  }

  private drop(isolate: Isolate) {
    this.live.delete(isolate);
    this.idle = this.idle.filter((i) => i !== isolate);
    clearTimeout(this.reapers.get(isolate));
    this.reapers.delete(isolate);
  }

  /**
   * The next request of a busy function finds a booted isolate: hosted boots one from its bundle in
   * tens of milliseconds, a local Deno process in a few hundred, which chained worker steps (each
   * called while the previous one is still answering) would otherwise wait for every time.
   */
  private keepSpare() {
    if (this.idle.length === 0 && this.starting === 0 && this.live.size < this.maxIsolates) this.startOne();
  }

  private startOne() {
    this.starting++;
    const socketPath = `${this.socketDir}/${this.fn}-${process.pid}-${this.nextSocket++}.sock`;
    const onExit = (isolate: Isolate) => {
      if (isolate.crashed) this.crashes++;
      this.drop(isolate);
    };
    const { booting, ready } = Isolate.start(this.spec(socketPath), onExit);
    this.booting.add(booting);
    ready.then(
      (isolate) => {
        this.starting--;
        this.booting.delete(isolate);
        if (this.closed) return isolate.stop(true);
        this.live.add(isolate);
        this.release(isolate, true);
      },
      (err: Error) => {
        this.starting--;
        this.booting.delete(booting);
        // A function that cannot start fails every request waiting for it, as hosted answers
        // BOOT_ERROR, instead of retrying in a loop.
        for (const waiter of this.waiting.splice(0)) waiter.reject(err);
      },
    );
  }
}
