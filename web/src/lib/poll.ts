// Repeats an async check at a fixed interval until it says stop, never overlapping two checks
// (a slow answer delays the next one instead of piling requests up). Timers are injectable so
// tests drive the clock.

export interface Poller {
  /** Starts polling (first check after one interval) unless already running. */
  start(): void;
  /** Runs a check now, then keeps the rhythm. */
  now(): void;
  stop(): void;
  readonly running: boolean;
}

export interface PollerOptions {
  intervalMs: number;
  /** One check; resolve `true` to continue polling, `false` to stop. A throw also continues. */
  check: () => Promise<boolean>;
  onError?: (err: unknown) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export function createPoller(options: PollerOptions): Poller {
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let timer: unknown = null;
  let active = false;
  let inFlight = false;

  const schedule = () => {
    if (!active) return;
    timer = setTimer(() => void run(), options.intervalMs);
  };

  async function run() {
    timer = null;
    if (!active || inFlight) return;
    inFlight = true;
    let again = true;
    try {
      again = await options.check();
    } catch (err) {
      options.onError?.(err);
    } finally {
      inFlight = false;
    }
    if (!again) active = false;
    schedule();
  }

  return {
    start() {
      if (active) return;
      active = true;
      schedule();
    },
    now() {
      active = true;
      if (timer !== null) clearTimer(timer);
      timer = null;
      void run();
    },
    stop() {
      active = false;
      if (timer !== null) clearTimer(timer);
      timer = null;
    },
    get running() {
      return active;
    },
  };
}
