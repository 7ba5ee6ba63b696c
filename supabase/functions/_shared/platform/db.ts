// Postgres access for functions. A user's request runs in a transaction with `role
// authenticated` and `request.jwt.claims` set, exactly as PostgREST does, so row-level security
// decides what the user may see and change; product code never filters by tenant itself.
import postgres from 'postgres';
import { env, type Env } from './env.ts';
import type { Claims } from './auth.ts';
import { isConnectionLost } from './pg-errors.ts';
import { watchClientFaults } from './pg-client-faults.ts';

export type Sql = postgres.Sql;
/** A connection inside a transaction that asUser / asService opened. */
export type Tx = postgres.ReservedSql;

let client: Sql | undefined;

const CONNECT_TIMEOUT_S = 5;

export const FUNCTIONS_APPLICATION_NAME = 'edge-functions';

export function sql(): Sql {
  if (client) return client;
  watchClientFaults(replacePool);
  // prepare: false because production goes through Supavisor's transaction pooler.
  client = postgres(databaseUrl(env()), {
    prepare: false,
    max: env().DB_POOL_MAX,
    idle_timeout: 20,
    connect_timeout: CONNECT_TIMEOUT_S,
    // Seconds before a closed connection is opened again. postgres.js's default grows with every
    // failed attempt of the pool to 10-20 s, and statements wait that long for their connection:
    // after a restart or failover requests would hang long after the database is back, and during
    // it they would wait instead of being told to retry. Attempts come from requests anyway.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    onnotice: () => {},
    // Names the functions' connections in pg_stat_activity, so an operator can tell them from
    // the dashboard's, cron's or a migration's (and end only them).
    connection: { application_name: FUNCTIONS_APPLICATION_NAME },
  });
  return client;
}

const retiring = new Set<Promise<void>>();

/**
 * Ends the pool at once and lets the next statement open a new one. postgres.js keeps state
 * across a lost connection that can leave it stuck (a stale write timer, a reservation it gave up
 * on that takes the next connection), so after such a fault a fresh pool is the only sure way
 * back; statements still waiting on the old one fail with CONNECTION_DESTROYED, a 503.
 */
function replacePool(what: string, err: unknown) {
  console.error(
    JSON.stringify({ level: 'error', msg: `${what}; the pool was replaced`, error: err instanceof Error ? err.message : String(err) }),
  );
  const lost = client;
  client = undefined;
  if (!lost) return;
  const ended = lost.end({ timeout: 0 }).catch(() => {});
  retiring.add(ended);
  ended.finally(() => retiring.delete(ended));
}

/** How long a transaction waits for a connection of its own: twice the connect timeout. */
const RESERVE_TIMEOUT_MS = 2 * CONNECT_TIMEOUT_S * 1000;

/**
 * A connection of its own for one transaction. postgres.js can lose a request for one when
 * connections close while it waits (a closing connection takes the request with it to reconnect,
 * and after connecting drops it), so a wait is bounded and then answered 503; a reservation
 * granted after all is handed back. And when a connection cannot be opened, it rejects the
 * request but leaves it queued, where it takes the next connection that opens for good: a few
 * failures during an outage would strand the whole pool, so such a failure replaces it.
 */
async function reserve(): Promise<Tx> {
  const pool = sql();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reservation = pool.reserve();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('no database connection within the time allowed'), { code: 'CONNECT_TIMEOUT' })),
      RESERVE_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([reservation, timeout]);
  } catch (err) {
    reservation.then(
      (late) => late.release(),
      (failed) => {
        if (isConnectionLost(failed) && client === pool) replacePool('could not open a database connection', failed);
      },
    );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The transaction pooler when one is configured, else the platform's database URL. */
export function databaseUrl(e: Pick<Env, 'SUPABASE_DB_URL' | 'DATABASE_POOLER_URL'>): string {
  return e.DATABASE_POOLER_URL ?? e.SUPABASE_DB_URL;
}

export function asUser<T>(claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransactionAs(identityStatement('authenticated', claims), fn);
}

/**
 * One transaction: `fn` as the user (exactly as asUser), then `after` as the service role in a
 * savepoint, committed together. For a trusted record that belongs to what the user just wrote:
 * it costs one more statement instead of a second transaction (its connection, BEGIN and a commit
 * that waits for the WAL flush). `after` starts only once `fn` has settled, so none of `fn`'s
 * statements can run as the service role. A failure of `after` undoes only its own work (and its
 * role): `fn`'s is still committed, and the error comes back beside the result.
 */
export function asUserThenService<T>(
  claims: Claims,
  fn: (tx: Tx) => Promise<T>,
  after: (tx: Tx) => Promise<unknown>,
): Promise<{ result: T; afterError: unknown }> {
  return asUser(claims, async (tx) => {
    const result = await fn(tx);
    // Queued now, so they leave with after's first statement (see openTransaction).
    const opening = Promise.all([tx.unsafe('savepoint as_service').execute(), tx.unsafe(SERVICE_IDENTITY).execute()]);
    try {
      await Promise.all([opening, (async () => await after(tx))()]);
      return { result, afterError: undefined };
    } catch (err) {
      if (isConnectionLost(err)) throw err;
      await tx.unsafe('rollback to savepoint as_service');
      return { result, afterError: err };
    }
  });
}

export interface TransactionOptions {
  /** Chosen at BEGIN; read committed (Postgres's default) when not given. */
  isolation?: 'repeatable read' | 'serializable';
}

/** Trusted work (workers, webhooks): the service role, which bypasses RLS. */
export function asService<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  return inTransactionAs(SERVICE_IDENTITY, fn, options);
}

// What PostgREST sets for a request: the role and the claims. The per-claim settings are the ones
// PostgREST < 9 wrote, which auth.uid(), auth.role() and auth.email() read first: every RLS check
// calls auth.uid(), and without them each call parses the whole claims document again (this took
// the workspaces list from 11,800 to 15,200 transactions/s, pgbench). All are transaction-local.
function identityStatement(role: string, claims: Partial<Claims>): string {
  const settings: [string, string][] = [
    ['role', role],
    ['request.jwt.claims', JSON.stringify(claims)],
    ['request.jwt.claim.sub', claims.sub ?? ''],
    ['request.jwt.claim.role', claims.role ?? ''],
    ['request.jwt.claim.email', claims.email ?? ''],
  ];
  return `select ${settings.map(([name, value]) => `set_config('${name}', ${sqlLiteral(value)}, true)`).join(', ')}`;
}

const SERVICE_IDENTITY = identityStatement('service_role', { role: 'service_role' });

// A request's transaction costs two round trips to the database: begin, the identity and fn's
// first statement leave in one write, and the commit follows. That is why it is not
// postgres.js's begin(), which waits for its BEGIN before anything else is sent, and why the
// identity is a statement without parameters (its values written as literals): with
// `prepare: false` postgres.js sends a statement with parameters in two steps (describe, then
// execute). Postgres runs the pipelined statements in order; when one fails, the transaction is
// aborted and every later statement fails with it, so nothing ever runs under the wrong role and
// nothing is committed.
async function inTransactionAs<T>(setIdentity: string, fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const tx = await reserve();
  const reserved = new Reservation(tx);
  let result: T;
  try {
    result = await openTransaction(tx, setIdentity, fn, options);
  } catch (err) {
    await reserved.end('rollback', err).catch(() => {});
    throw err;
  }
  await reserved.end('commit');
  return result;
}

/**
 * A reserved connection's end: commit or roll back, then hand it back to the pool, unless the
 * connection was lost. postgres.js (3.4.9) does not refuse a statement on a reserved connection
 * whose socket has closed: it writes it from a timer to no socket, and that TypeError escapes
 * every caller (porsager/postgres#1208); and a released dead connection would be handed to the
 * next request. A lost connection is left alone: the pool takes it back when its socket closes
 * and opens a new one on demand. Whatever happens, the reservation ends once.
 */
class Reservation {
  private ended = false;

  constructor(private readonly tx: Tx) {}

  async end(how: 'commit' | 'rollback', cause?: unknown): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (isConnectionLost(cause)) return;
    try {
      await this.tx.unsafe(how);
    } catch (err) {
      if (isConnectionLost(err)) throw err;
      this.tx.release();
      throw err;
    }
    this.tx.release();
  }
}

function openTransaction<T>(tx: Tx, setIdentity: string, fn: (tx: Tx) => Promise<T>, options: TransactionOptions): Promise<T> {
  const begin = options.isolation ? `begin isolation level ${options.isolation}` : 'begin';
  // execute() queues them now: postgres.js statements are lazy, and fn's first statement
  // (started by an await) would otherwise reach the connection first.
  const opening = Promise.all([tx.unsafe(begin).execute(), tx.unsafe(setIdentity).execute()]);
  return Promise.all([opening, (async () => await fn(tx))()]).then(([, result]) => result);
}

/**
 * A response body read in the caller's transaction (asUser's identity and row level security),
 * one chunk each time the client is ready for more, so memory holds a chunk, not the body.
 * `open` runs before the first byte, so its errors still become an error response; `next`
 * returns the next bytes or null at the end. The transaction lives as long as the body: it is
 * committed after the last chunk and rolled back when a chunk fails or the client goes away.
 */
export async function streamAsUser<S>(
  claims: Claims,
  open: (tx: Tx) => Promise<S>,
  next: (tx: Tx, state: S) => Promise<Uint8Array | null>,
): Promise<ReadableStream<Uint8Array>> {
  const tx = await reserve();
  const reserved = new Reservation(tx);
  let state: S;
  try {
    state = await openTransaction(tx, identityStatement('authenticated', claims), open, {});
  } catch (err) {
    await reserved.end('rollback', err).catch(() => {});
    throw err;
  }
  const end = (how: 'commit' | 'rollback', cause?: unknown) => reserved.end(how, cause);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await next(tx, state);
        if (chunk !== null) return controller.enqueue(chunk);
        await end('commit');
        controller.close();
      } catch (err) {
        await end('rollback', err).catch(() => {});
        console.error(
          JSON.stringify({ level: 'error', msg: 'streamed body failed', error: err instanceof Error ? err.message : String(err) }),
        );
        controller.error(err);
      }
    },
    cancel: () => end('rollback').catch(() => {}),
  });
}

/**
 * A text value as an SQL string literal. The E'' form reads the same whatever
 * standard_conforming_strings is: backslashes are doubled first, then quotes.
 */
export function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a NUL character cannot be part of an SQL literal');
  return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

export async function closeDb() {
  const c = client;
  client = undefined;
  await Promise.all([c?.end({ timeout: 5 }), ...retiring]);
}
