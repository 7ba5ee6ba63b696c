// Postgres errors that a caller can act on, turned into the HTTP error envelope. The database is
// where the rules live (RLS, the last-owner trigger, invitation checks), so its SQLSTATEs are the
// verdicts; this table gives each its status. A database that cannot be reached (restarting,
// failing over, its connections ended) is a 503 with Retry-After: the request can be retried as
// it was. Anything else stays a 500.
import { HttpError } from './http.ts';

/** The fields of a postgres.js PostgresError this module reads (duck-typed: no module identity). */
export interface PgErrorLike {
  name: string;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  table_name?: string;
  column_name?: string;
  constraint_name?: string;
}

export function isPgError(err: unknown): err is PgErrorLike {
  return err instanceof Error && err.name === 'PostgresError' && typeof (err as { code?: unknown }).code === 'string';
}

interface Verdict {
  status: number;
  code: string;
  /** When absent the database's own message is used: it was written by our migrations. */
  message?: string;
  headers?: Record<string, string>;
}

// Codes raised by our own SQL carry messages meant for callers; the generic ones do not (their
// text names internals), so they get a fixed message and the constraint/column as details.
const VERDICTS: Record<string, Verdict> = {
  // Raised by our migrations.
  CEW01: { status: 409, code: 'last_owner' },
  CEI01: { status: 404, code: 'invitation_not_found' },
  CEI02: { status: 410, code: 'invitation_expired' },
  CEI03: { status: 409, code: 'invitation_used' },
  CEI04: { status: 410, code: 'invitation_revoked' },
  CEI05: { status: 403, code: 'invitation_email_mismatch' },
  CEI06: { status: 409, code: 'invitation_revoked' },
  CEH01: { status: 409, code: 'channel_connected' },
  CEH02: { status: 409, code: 'uploads_pending' },
  CEB01: { status: 409, code: 'snapshot_incompatible' },
  CEB03: { status: 409, code: 'restore_blocked' },
  CEX01: { status: 404, code: 'not_found', message: 'workspace not found' },
  '28000': { status: 401, code: 'unauthorized' },
  '22023': { status: 400, code: 'validation_failed' },
  // Postgres' own.
  '42501': { status: 403, code: 'forbidden', message: 'you do not have permission to do this' },
  '23505': { status: 409, code: 'conflict', message: 'a record with the same unique value already exists' },
  '23503': { status: 409, code: 'conflict', message: 'the record refers to, or is referred to by, another record' },
  '23514': { status: 400, code: 'validation_failed', message: 'a value is outside its allowed range or format' },
  '23502': { status: 400, code: 'validation_failed', message: 'a required value is missing' },
  '22001': { status: 400, code: 'validation_failed', message: 'a value is too long' },
  '22P02': { status: 400, code: 'validation_failed', message: 'a value has the wrong format' },
  '22007': { status: 400, code: 'validation_failed', message: 'a date or time has the wrong format' },
  '22008': { status: 400, code: 'validation_failed', message: 'a date or time is out of range' },
  '40001': { status: 503, code: 'retry', message: 'the request conflicted with another one; retry it', headers: { 'Retry-After': '1' } },
  '40P01': { status: 503, code: 'retry', message: 'the request conflicted with another one; retry it', headers: { 'Retry-After': '1' } },
  '55P03': { status: 503, code: 'retry', message: 'the record is busy; retry shortly', headers: { 'Retry-After': '1' } },
  '57014': { status: 503, code: 'timeout', message: 'the database took too long to answer', headers: { 'Retry-After': '1' } },
};

const UNAVAILABLE: Verdict = {
  status: 503,
  code: 'database_unavailable',
  message: 'the database is unavailable for a moment; retry the request',
  headers: { 'Retry-After': '2' },
};

// SQLSTATEs of a server that ended or refused the connection: a restart or failover
// (admin_shutdown, crash_shutdown, cannot_connect_now: shutting down or starting up), an idle
// session ended, too many connections, and the connection exception class (08).
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300', '08000', '08001', '08003', '08004', '08006']);

// The client's own errors for a connection that is gone (postgres.js names them in `code`), and
// the socket's when the server cannot be reached or drops the connection. Only the database
// client opens sockets in the functions (HTTP goes through fetch), so these name the database.
const UNAVAILABLE_CLIENT_CODES = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
]);

function errorCode(err: unknown): string | null {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : null;
}

/** The database cannot be reached or ended the connection: the request may simply be retried. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = errorCode(err);
  if (code === null) return false;
  return isPgError(err) ? UNAVAILABLE_SQLSTATES.has(code) : UNAVAILABLE_CLIENT_CODES.has(code);
}

/**
 * The connection this error came from is gone: besides the unavailable cases, any FATAL error,
 * after which the server always closes the session. Such a connection must not be used again.
 */
export function isConnectionLost(err: unknown): boolean {
  return isDatabaseUnavailable(err) || (isPgError(err) && ['FATAL', 'PANIC'].includes(String((err as { severity?: unknown }).severity)));
}

/** The HttpError for a Postgres error with a known SQLSTATE, or null (then it is a 500). */
export function httpErrorFromPg(err: unknown): HttpError | null {
  if (isDatabaseUnavailable(err)) return unavailable(err as Error);
  if (!isPgError(err)) return null;
  const verdict = VERDICTS[err.code];
  if (!verdict) return null;
  const details = Object.fromEntries(
    Object.entries({
      sqlstate: err.code,
      constraint: err.constraint_name,
      column: err.column_name,
      hint: verdict.message ? undefined : err.hint,
    }).filter(([, v]) => v !== undefined && v !== ''),
  );
  return new HttpError(verdict.status, verdict.code, verdict.message ?? err.message, details, verdict.headers ?? {});
}

function unavailable(err: Error): HttpError {
  // Only the SQLSTATE: the client's messages name the database host and port.
  const details = isPgError(err) ? { sqlstate: err.code } : undefined;
  return new HttpError(UNAVAILABLE.status, UNAVAILABLE.code, UNAVAILABLE.message!, details, UNAVAILABLE.headers);
}

/** For handlers that want to add context: rethrows a mapped HttpError, or the original error. */
export function rethrowPg(err: unknown): never {
  throw httpErrorFromPg(err) ?? err;
}
