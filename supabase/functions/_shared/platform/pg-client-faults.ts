// Faults of the database client (postgres.js 3.4.9 under Deno 2.1) when the server ends its
// connections (a restart, a failover, pg_terminate_backend). They surface where no caller can
// catch them, so without this an isolate would end and fail the request it serves. Each is
// recognised narrowly, reported, and answered by replacing the pool; any other uncaught error
// still ends the isolate, as it should.
import { isConnectionLost } from './pg-errors.ts';

const POSTGRES_JS_FRAME = /postgres.*[\\/]src[\\/]connection\.js/;

function firstFrame(err: Error): string {
  return (err.stack ?? '').split('\n').find((line) => /^\s+at /.test(line)) ?? '';
}

/**
 * When a socket closes, postgres.js clears the timers of that connection (the immediate that
 * sends a small write, the connect timeout) and drops the socket. Under Deno 2.1 a cleared timer
 * that is already due can still run (seen both for the write, when the server ends a connection
 * while a reply is handled, and for the connect timeout, when the server resets a connection as
 * the timeout falls due); its callback then reads the dropped socket and throws this TypeError
 * from the timer (the write case is porsager/postgres#1208). The connection is left with stale
 * state (a write timer that never clears, so it never sends its start-up message again).
 */
export function isPostgresJsClosedSocketUse(err: unknown): boolean {
  if (!(err instanceof TypeError) || !/^Cannot read properties of null \(reading '\w+'\)$|^null is not an object/.test(err.message))
    return false;
  return POSTGRES_JS_FRAME.test(firstFrame(err));
}

/**
 * A lost-connection error that no promise handled, raised by postgres.js itself (its own error,
 * or the server's, created in its connection module) or by the query it sends on each new
 * connection to learn the array types: postgres.js rejects that query, and some reservations it
 * already gave up on, with nobody awaiting them.
 */
export function isUnawaitedPostgresJsConnectionError(reason: unknown): boolean {
  if (!(reason instanceof Error) || !isConnectionLost(reason)) return false;
  const query = (reason as { query?: unknown }).query;
  return POSTGRES_JS_FRAME.test(firstFrame(reason)) || (typeof query === 'string' && /\bb\.typarray\b/.test(query));
}

let watching = false;

/** Calls `onFault` instead of ending the process for the client faults above (once per process). */
export function watchClientFaults(onFault: (what: string, err: Error) => void) {
  if (watching || typeof globalThis.addEventListener !== 'function') return;
  watching = true;
  globalThis.addEventListener('error', (event: ErrorEvent) => {
    if (!isPostgresJsClosedSocketUse(event.error)) return;
    event.preventDefault();
    onFault('database client used a connection after it closed', event.error);
  });
  globalThis.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
    if (!isUnawaitedPostgresJsConnectionError(event.reason)) return;
    event.preventDefault();
    onFault('database client left a connection error unhandled', event.reason);
  });
}
