// The local stand-in for pg_net's background worker. net.http_post & co. (local/platform/30-pg-net.sql)
// only queue a row and NOTIFY pg_net_request; both become visible when the caller commits. This
// worker wakes on the notification (hosted pg_net sets its worker's latch at the caller's commit),
// or on its polling tick for anything it missed, claims rows by deleting them (so a request is
// sent at most once, as pg_net does, and two workers never send the same one) and sends them in
// batches as pg_net 0.20 does (src/worker.c): up to `concurrency` rows (pg_net.batch_size, 200)
// taken at once and sent together; the batch's responses written in one transaction once every
// request of the batch has its answer (so an answer is visible only when the slowest request of
// its batch is done, and a request queued meanwhile waits for that too); then a pause of up to
// 1 s before the next batch, cut short by a new request.
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { failedResponse, queuedRequestSchema, sendRequest, type ResponseRecord } from './request.ts';

export interface PgNetWorkerOptions {
  dbUrl: string;
  /** Requests taken and sent as one batch (pg_net.batch_size); default 200, as pg_net's. */
  concurrency?: number;
  /** How often the queue is polled when no notification arrives; default 1000 ms. */
  pollIntervalMs?: number;
  log?: (line: string) => void;
}

export interface PgNetWorker {
  /** Stops claiming, waits for requests in flight (bounded by their timeouts), closes connections. */
  stop(): Promise<void>;
  /** Resolves once nothing is queued and nothing is in flight. */
  idle(): Promise<void>;
}

export const PG_NET_CHANNEL = 'pg_net_request';
// pg_net.ttl's default; like pg_net, the worker honours the setting when it is set (ALTER SYSTEM
// or ALTER DATABASE … SET pg_net.ttl), since callers that read responses late depend on it.
const DEFAULT_RESPONSE_TTL = '6 hours';
const SWEEP_INTERVAL_MS = 60_000;
// Local stacks restart their database often; a short cap gets the worker back quickly.
const MAX_BACKOFF_MS = 5_000;
// pg_net's batch size (pg_net.batch_size) and its pause after each batch ("slow down queue
// processing to avoid using too much CPU": WaitLatch of 1 s, ended early by a request's commit).
const DEFAULT_BATCH_SIZE = 200;
const BATCH_PAUSE_MS = 1_000;

export async function startPgNetWorker(opts: PgNetWorkerOptions): Promise<PgNetWorker> {
  const worker = new QueueWorker(opts);
  await worker.start();
  return { stop: () => worker.stop(), idle: () => worker.idle() };
}

class QueueWorker {
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly log: (line: string) => void;
  private readonly sql: postgres.Sql;
  private readonly listenSql: postgres.Sql;
  private listening = false;
  private readonly inFlight = new Set<Promise<void>>();
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  /** Ends the pause after a batch early: a request was queued (NOTIFY) since the batch began. */
  private wakePause: (() => void) | null = null;
  private wokenSinceBatch = false;
  private ticking: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastSweepAt = 0;
  private dbFailures = 0;
  private lastDbError = '';
  private readonly stopSignal = new AbortController();
  private stopped: Promise<void> | null = null;

  constructor(opts: PgNetWorkerOptions) {
    this.concurrency = opts.concurrency ?? DEFAULT_BATCH_SIZE;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new Error('concurrency must be a positive integer');
    if (!(this.pollIntervalMs > 0)) throw new Error('pollIntervalMs must be positive');
    this.log = opts.log ?? ((line) => console.log(line));

    // No array-type lookup (fetch_types): postgres.js sends it on every new connection without
    // awaiting it, so a connection reset while it runs (a Postgres restart) rejected with nobody
    // to catch it and ended the process; the worker reads and writes no arrays.
    const common = {
      onnotice: () => {},
      connect_timeout: 10,
      fetch_types: false,
      connection: { application_name: 'pg_net worker (local)' },
    };
    this.sql = postgres(opts.dbUrl, { ...common, max: 4 });
    // One connection that only LISTENs. postgres.js's own sql.listen() stays stuck for good after a
    // failed first LISTEN (database not up yet) and reconnects without pause against a server that
    // drops connections, so the worker keeps the connection itself: onclose says it is gone, the
    // next tick LISTENs again. onnotify is the (untyped) option sql.listen() is built on.
    const listenOptions = {
      ...common,
      max: 1,
      idle_timeout: 0, // never: an idle LISTEN connection is the point
      max_lifetime: null,
      onclose: () => this.lostListenConnection(),
      onnotify: () => this.kick(),
    };
    this.listenSql = postgres(opts.dbUrl, listenOptions);
  }

  async start() {
    await this.runTick();
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  async idle(): Promise<void> {
    while (!this.stopSignal.signal.aborted) {
      if (this.inFlight.size === 0 && !this.pumping) {
        const queued = await this.anythingQueued();
        // Re-check: a pump may have claimed rows while the query ran.
        if (!queued && this.inFlight.size === 0 && !this.pumping) return;
        this.kick();
      }
      await sleep(20);
    }
  }

  private async shutDown() {
    this.stopSignal.abort();
    this.wakePause?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    // A claim already under way still hands its rows over; they were deleted from the queue, so
    // they must be sent now or never.
    await this.pumping;
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([this.sql.end({ timeout: 5 }), this.listenSql.end({ timeout: 5 })]);
  }

  private get stopping() {
    return this.stopSignal.signal.aborted;
  }

  private scheduleTick(delayMs: number) {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runTick();
    }, delayMs);
  }

  private runTick(): Promise<void> {
    this.ticking = this.tick().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async tick() {
    try {
      // Without LISTEN the database is away: leave the pool alone until the next (backed-off) tick.
      if (!this.listening && !(await this.listen())) return;
      await this.pump();
      if (this.dbFailures === 0 && Date.now() - this.lastSweepAt >= SWEEP_INTERVAL_MS) await this.deleteExpiredResponses();
    } catch (err) {
      this.log(`pg_net worker: unexpected error: ${errorText(err)}`);
    } finally {
      const relisten = this.listening ? this.pollIntervalMs : Math.min(this.pollIntervalMs, 100);
      this.scheduleTick(this.dbFailures > 0 ? this.backoffMs() : relisten);
    }
  }

  private async listen(): Promise<boolean> {
    try {
      await this.listenSql.unsafe(`listen ${PG_NET_CHANNEL}`);
      this.listening = true;
      this.dbReachable();
    } catch (err) {
      this.dbUnreachable('listening', err);
    }
    return this.listening;
  }

  private lostListenConnection() {
    if (!this.listening) return;
    this.listening = false;
    if (this.stopping) return;
    this.log('pg_net worker: LISTEN connection lost; polling until it is back');
    // LISTEN again now rather than a whole poll interval later. A tick under way reschedules itself.
    if (!this.ticking) this.scheduleTick(0);
  }

  private kick() {
    this.wokenSinceBatch = true;
    this.wakePause?.();
    if (!this.stopping) void this.pump();
  }

  /** One claim loop at a time; a kick during a loop makes it look again instead of starting another. */
  private pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = this.claimWhileThereIsRoom()
      .catch((err: unknown) => this.log(`pg_net worker: unexpected error while claiming: ${errorText(err)}`))
      .finally(() => {
        this.pumping = null;
      });
    return this.pumping;
  }

  private async claimWhileThereIsRoom() {
    do {
      this.pumpAgain = false;
      while (!this.stopping) {
        this.wokenSinceBatch = false;
        let rows: postgres.Row[];
        try {
          rows = await this.claim(this.concurrency);
          this.dbReachable();
        } catch (err) {
          this.dbUnreachable('claiming requests', err);
          return;
        }
        if (rows.length === 0) break;
        await this.sendBatch(rows);
        if (!this.wokenSinceBatch) await this.pauseAfterBatch();
      }
    } while (this.pumpAgain && !this.stopping);
  }

  private pauseAfterBatch(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakePause = null;
        resolve();
      };
      const timer = setTimeout(done, BATCH_PAUSE_MS);
      this.wakePause = done;
      if (this.stopping) done();
    });
  }

  private async claim(limit: number): Promise<postgres.Row[]> {
    const rows = await this.sql`
      delete from net.http_request_queue
      where id in (
        select id from net.http_request_queue order by id for update skip locked limit ${limit}
      )
      returning id, method, url, headers, body, timeout_milliseconds`;
    return [...rows].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /** Sends every row at once and writes the answers together once the last one is in. */
  private async sendBatch(rows: postgres.Row[]) {
    const task: Promise<void> = Promise.all(rows.map((row) => this.responseTo(row))).then((responses) => this.store(responses));
    this.inFlight.add(task);
    try {
      await task;
    } finally {
      this.inFlight.delete(task);
    }
  }

  private async responseTo(row: postgres.Row): Promise<ResponseRecord> {
    const id = String(row.id);
    let response: ResponseRecord;
    const parsed = queuedRequestSchema.safeParse(row);
    if (!parsed.success) {
      response = failedResponse(id, `queued request could not be read: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    } else {
      response = await sendRequest(parsed.data).catch((err: unknown) => failedResponse(id, errorText(err)));
    }
    if (response.error_msg !== null) {
      this.log(`pg_net worker: request ${id} ${String(row.method)} ${safeUrl(row.url)} failed: ${response.error_msg}`);
    }
    return response;
  }

  /**
   * Writes a batch's answers in one transaction, as pg_net does, so they become visible together.
   * Retries while the database is away: the requests were already sent, only their results are
   * missing. An answer that cannot be stored (its savepoint rolls back) is stored as a failure so
   * its caller sees one.
   */
  private async store(responses: ResponseRecord[]) {
    if (responses.length === 0) return;
    for (;;) {
      try {
        await this.sql.begin(async (tx) => {
          for (const response of responses) await this.insertOrFailure(tx, response);
        });
        this.dbReachable();
        return;
      } catch (err) {
        if (!isConnectionError(err)) {
          this.log(`pg_net worker: responses of requests ${responses.map((r) => r.id).join(', ')} could not be stored: ${errorText(err)}`);
          return;
        }
        this.dbUnreachable('storing responses', err);
        if (this.stopping) {
          this.log(`pg_net worker: responses of ${responses.length} request(s) dropped: database unreachable while stopping`);
          return;
        }
        await sleep(this.backoffMs(), undefined, { signal: this.stopSignal.signal }).catch(() => {});
      }
    }
  }

  private async insertOrFailure(tx: postgres.TransactionSql, response: ResponseRecord) {
    try {
      await tx.savepoint((sp) => this.insertResponse(sp, response));
    } catch (err) {
      if (isConnectionError(err)) throw err;
      const failure = failedResponse(response.id, `response could not be stored: ${errorText(err)}`, response.timed_out);
      await this.insertResponse(tx, failure);
    }
  }

  private async insertResponse(sql: postgres.TransactionSql, r: ResponseRecord) {
    await sql`
      insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
      values (${r.id}, ${r.status_code}, ${r.content_type},
        ${r.headers === null ? null : sql.json(r.headers)}::jsonb, ${r.content}, ${r.timed_out}, ${r.error_msg})`;
  }

  private async deleteExpiredResponses() {
    try {
      await this.sql`
        delete from net._http_response
        where created < now() - coalesce(nullif(current_setting('pg_net.ttl', true), ''), ${DEFAULT_RESPONSE_TTL})::interval`;
      this.lastSweepAt = Date.now();
    } catch (err) {
      this.dbUnreachable('deleting expired responses', err);
    }
  }

  private async anythingQueued(): Promise<boolean> {
    try {
      const [row] = await this.sql`select exists (select 1 from net.http_request_queue) as queued`;
      return Boolean(row?.queued);
    } catch {
      return true;
    }
  }

  private backoffMs() {
    return Math.min(this.pollIntervalMs * 2 ** Math.max(0, this.dbFailures - 1), MAX_BACKOFF_MS);
  }

  private dbReachable() {
    if (this.dbFailures === 0) return;
    this.dbFailures = 0;
    this.lastDbError = '';
    this.log('pg_net worker: database reachable again');
  }

  private dbUnreachable(doing: string, err: unknown) {
    this.dbFailures += 1;
    const message = errorText(err);
    // Once per outage (or per new kind of error), not once per retry.
    if (message === this.lastDbError) return;
    this.lastDbError = message;
    this.log(`pg_net worker: ${doing} failed: ${message}; retrying with backoff`);
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object' || !('code' in err) || typeof err.code !== 'string') return false;
  // SQLSTATE 08xxx connection exceptions, 57P0x shutdown/startup, 53300 too many connections.
  return CONNECTION_ERROR_CODES.has(err.code) || /^(08|57P)/.test(err.code) || err.code === '53300';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** Query strings and user info often carry keys; logs get the origin and path only. */
function safeUrl(url: unknown): string {
  try {
    const u = new URL(String(url));
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<unparsable url>';
  }
}
