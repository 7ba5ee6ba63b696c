// The per-client minute windows of anonymous calls, as one function instance sees them. Counting
// every anonymous call with an upsert in Postgres (the shared count) made every monitor's health
// poll a database write. Here an instance counts in memory and asks the shared count only every
// `share` calls of one client (a tenth of the limit): a client that stays below that in an
// instance's minute never costs a write, and one near or over its limit costs one upsert per
// `share` calls until it is over, then none (the refusal is decided in memory).
//
// What that gives up, bounded: calls an instance admitted since it last asked are unknown to the
// others. An instance admits a call only while the shared count it last saw plus its own calls
// since then stay within the limit, and asks again at `share` calls at the latest (the call that
// asks is refused when the answer is over the limit); so across k instances serving one client in
// one minute at most limit + k × (share − 1) calls are admitted.
// One instance alone never admits more than the limit. Windows are the instance clock's minutes.
export interface WindowVerdict {
  limit: number;
  /** calls of the window this instance knows of (the shared count it last saw + its own since) */
  seen: number;
  exceeded: boolean;
  windowStart: number;
}

interface ClientWindow {
  windowStart: number;
  /** the shared count when this instance last asked */
  known: number;
  /** calls admitted here since then, not yet in the shared count */
  pending: number;
  exceeded: boolean;
}

/** Adds `calls` to a client's shared count of a window; resolves with the new total. */
export type SharedCount = (client: string, windowStart: number, calls: number) => Promise<number>;

export const MAX_CLIENTS = 10_000;

export class AnonymousWindows {
  private readonly windows = new Map<string, ClientWindow>();
  readonly share: number;

  constructor(
    readonly limit: number,
    private readonly shared: SharedCount,
    private readonly onSharedFailure: (err: unknown) => void = () => {},
  ) {
    this.share = Math.max(1, Math.ceil(limit / 10));
  }

  /** Counts one call of `client` at `now` (ms); asks the shared count only when due. */
  async count(client: string, now = Date.now()): Promise<WindowVerdict> {
    const windowStart = Math.floor(now / 60_000) * 60_000;
    const w = this.window(client, windowStart);
    const verdict = () => ({ limit: this.limit, seen: w.known + w.pending, exceeded: w.exceeded, windowStart });
    if (w.exceeded) return verdict();
    if (w.known + w.pending + 1 > this.limit) {
      w.exceeded = true;
      return verdict();
    }
    w.pending += 1;
    if (w.pending >= this.share) await this.ask(client, w);
    return verdict();
  }

  /** Clients tracked now (for tests: memory stays bounded). */
  get size(): number {
    return this.windows.size;
  }

  private async ask(client: string, w: ClientWindow) {
    // Taken before the await: calls served meanwhile (a hosted instance serves several at once)
    // start the next batch instead of being counted twice.
    const calls = w.pending;
    w.pending = 0;
    try {
      const total = await this.shared(client, w.windowStart, calls);
      w.known = Math.max(w.known + calls, total);
      // Over the limit with this call: it is refused, and so is every later one of the window.
      if (total > this.limit) w.exceeded = true;
    } catch (err) {
      // Availability over strictness: the instance's own count still limits the client.
      w.pending += calls;
      this.onSharedFailure(err);
    }
  }

  private window(client: string, windowStart: number): ClientWindow {
    let w = this.windows.get(client);
    if (!w || w.windowStart !== windowStart) {
      if (!w && this.windows.size >= MAX_CLIENTS) this.prune(windowStart);
      w = { windowStart, known: 0, pending: 0, exceeded: false };
      this.windows.set(client, w);
    }
    return w;
  }

  // Past windows go first; if one minute brings more clients than that, those not refused are
  // forgotten too (each may then be admitted up to `share` − 1 more calls blind, and the shared
  // count misses those forgotten calls: the price of bounded memory under a flood of addresses).
  private prune(windowStart: number) {
    for (const [client, w] of this.windows) if (w.windowStart !== windowStart) this.windows.delete(client);
    if (this.windows.size < MAX_CLIENTS) return;
    for (const [client, w] of this.windows) if (!w.exceeded) this.windows.delete(client);
  }
}
