// Postgres errors that a caller can act on, turned into the HTTP error envelope: the one SQLSTATE
// registry of the functions. The database is where the rules live (RLS, the last-owner trigger,
// invitation checks, role checks), so its SQLSTATEs are the verdicts; the tables below give each
// its status, and a function names its area when a code means something particular there. A database that cannot be reached (restarting,
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

/** What one SQLSTATE means to an HTTP caller. */
interface Verdict {
  status: number;
  code: string;
  /** When absent the database's own message is used: it was written by our migrations. */
  message?: string;
  /**
   * What `details` carries: the SQLSTATE with the constraint, column and hint (default), the hint
   * alone, nothing, or the JSON object our SQL put in DETAIL.
   */
  details?: 'pg' | 'hint' | 'none' | 'json';
  /** A rule about one field of the request body: a 400 naming it, like zod's errors. */
  field?: { path: string; strip?: RegExp; withHint?: boolean };
  /** Only for errors this accepts (one SQLSTATE can carry several rules, e.g. 23514's constraints). */
  when?: (err: PgErrorLike) => boolean;
  headers?: Record<string, string>;
}

type Verdicts = Readonly<Record<string, Verdict | readonly Verdict[]>>;

const RETRY = { 'Retry-After': '1' };

// private.require_workspace_role's 42501 names the rule and the caller's role (DETAIL holds both
// as JSON); Postgres' own 42501 (a grant, a policy) names internals and gets a fixed sentence.
const ROLE_CHECK: Verdict = {
  status: 403,
  code: 'forbidden',
  details: 'json',
  when: (err) => (err.detail ?? '').startsWith('{"required_role"'),
};

// The registry: every SQLSTATE an edge function answers with something other than a 500. Codes
// raised by our own SQL carry messages meant for callers; the generic ones do not (their text
// names internals), so they get a fixed message and the constraint/column as details.
const VERDICTS: Verdicts = {
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
  CEB04: { status: 409, code: 'restore_in_progress', details: 'hint' },
  CEX01: { status: 404, code: 'not_found', message: 'workspace not found' },
  '28000': { status: 401, code: 'unauthorized' },
  '22023': { status: 400, code: 'validation_failed' },
  // Postgres' own.
  '42501': [ROLE_CHECK, { status: 403, code: 'forbidden', message: 'you do not have permission to do this' }],
  '23505': { status: 409, code: 'conflict', message: 'a record with the same unique value already exists' },
  '23503': { status: 409, code: 'conflict', message: 'the record refers to, or is referred to by, another record' },
  '23514': { status: 400, code: 'validation_failed', message: 'a value is outside its allowed range or format' },
  '23502': { status: 400, code: 'validation_failed', message: 'a required value is missing' },
  '22001': { status: 400, code: 'validation_failed', message: 'a value is too long' },
  '22P02': { status: 400, code: 'validation_failed', message: 'a value has the wrong format' },
  '22007': { status: 400, code: 'validation_failed', message: 'a date or time has the wrong format' },
  '22008': { status: 400, code: 'validation_failed', message: 'a date or time is out of range' },
  '40001': { status: 503, code: 'retry', message: 'the request conflicted with another one; retry it', headers: RETRY },
  '40P01': { status: 503, code: 'retry', message: 'the request conflicted with another one; retry it', headers: RETRY },
  '55P03': { status: 503, code: 'retry', message: 'the record is busy; retry shortly', headers: RETRY },
  '57014': { status: 503, code: 'timeout', message: 'the database took too long to answer', headers: RETRY },
};

// What a SQLSTATE means in one area, before the table above: codes of that area's SQL, and
// generic codes its functions raise with a meaning of their own (P0002 "no such row").
const AREAS = {
  schedules: {
    CES01: { status: 404, code: 'not_found', message: 'schedule not found', details: 'none' },
    CES02: { status: 409, code: 'invalid_status', details: 'hint' },
    CES03: { status: 409, code: 'too_late', details: 'hint' },
    CES04: { status: 409, code: 'version_conflict', details: 'none' },
    CES10: { status: 400, code: 'validation_failed', field: { path: 'channel_id', strip: /^channel_id:?\s*/ } },
    CES11: { status: 400, code: 'validation_failed', field: { path: 'channel_id', strip: /^channel_id:?\s*/ } },
    CES12: { status: 400, code: 'validation_failed', field: { path: 'video_job_id', strip: /^video_job_id\s*/ } },
    CES13: { status: 400, code: 'validation_failed', field: { path: 'publish_at', strip: /^publish_at\s*/ } },
    CES14: { status: 400, code: 'validation_failed', field: { path: 'time_zone' } },
    '23514': {
      status: 400,
      code: 'validation_failed',
      message: 'youtube_scheduled publishes public videos; use upload_at_time for unlisted or private',
      field: { path: 'strategy' },
      when: (err) => err.constraint_name === 'upload_schedules_strategy_needs_public',
    },
  },
  content: {
    CEC01: { status: 404, code: 'not_found', message: 'content not found', details: 'none' },
    CEC02: { status: 409, code: 'invalid_transition', details: 'hint' },
  },
  alerts: {
    P0002: { status: 404, code: 'not_found', message: 'alert not found', details: 'none' },
    CEA01: { status: 409, code: 'already_resolved', message: 'this alert is already resolved', details: 'none' },
  },
  restore: {
    P0002: { status: 404, code: 'not_found', message: 'no snapshot of this workspace with that id', details: 'none' },
    '23503': {
      status: 409,
      code: 'users_missing',
      message: 'the snapshot references accounts that were deleted; re-invite them or pick a later snapshot',
      details: 'none',
    },
    XX001: {
      status: 409,
      code: 'verification_failed',
      message: 'the restored data did not match the snapshot; nothing was changed',
      details: 'none',
    },
  },
  profile: {
    '22023': { status: 400, code: 'validation_failed', field: { path: 'timezone', withHint: true } },
  },
} as const satisfies Record<string, Verdicts>;

export type SqlstateArea = keyof typeof AREAS;

export interface PgMapping {
  /** The area whose verdicts come first. */
  area?: SqlstateArea;
  /** A field error names this path instead (the same rule reached through another field). */
  renameField?: Record<string, string>;
}

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
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
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

/** Postgres ended the transaction to settle a conflict with another one (a deadlock, a serialization failure). */
export function isTransactionConflict(err: unknown): boolean {
  return isPgError(err) && (err.code === '40P01' || err.code === '40001');
}

/**
 * Runs `transaction` again when Postgres ended it to settle a conflict, up to `attempts` times in
 * all, after a short random pause: the standard remedy, since the other transaction goes on once
 * this one is gone. `transaction` must be database work only (it is rolled back whole), so that
 * running it again repeats nothing outside the database. Other errors, and the last conflict,
 * are thrown as they are.
 */
export async function retryingConflicts<T>(transaction: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      if (attempt >= attempts || !isTransactionConflict(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40 * attempt));
    }
  }
}

function verdictIn(table: Verdicts, err: PgErrorLike): Verdict | undefined {
  const entry = table[err.code];
  const candidates: readonly Verdict[] = entry === undefined ? [] : Array.isArray(entry) ? entry : [entry as Verdict];
  return candidates.find((v) => !v.when || v.when(err));
}

/** The HttpError for a Postgres error with a known SQLSTATE (in `mapping.area` first), or null (then it is a 500). */
export function httpErrorFromPg(err: unknown, mapping: PgMapping = {}): HttpError | null {
  if (isDatabaseUnavailable(err)) return unavailable(err as Error);
  if (!isPgError(err)) return null;
  const verdict = (mapping.area ? verdictIn(AREAS[mapping.area], err) : undefined) ?? verdictIn(VERDICTS, err);
  if (!verdict) return null;
  const field = verdict.field;
  if (field) return fieldError(err, verdict, field, mapping.renameField?.[field.path] ?? field.path);
  return new HttpError(verdict.status, verdict.code, verdict.message ?? err.message, detailsOf(err, verdict), verdict.headers ?? {});
}

function fieldError(err: PgErrorLike, verdict: Verdict, field: NonNullable<Verdict['field']>, path: string): HttpError {
  const { strip, withHint } = field;
  const message = verdict.message ?? (strip ? err.message.replace(strip, '') : err.message);
  const detail = withHint && err.hint ? `${message}; ${err.hint}` : message;
  return new HttpError(verdict.status, verdict.code, `invalid body: ${path}: ${message}`, [{ path, message: detail }]);
}

function detailsOf(err: PgErrorLike, verdict: Verdict): unknown {
  switch (verdict.details ?? 'pg') {
    case 'none':
      return undefined;
    case 'hint':
      return err.hint ? { hint: err.hint } : undefined;
    case 'json':
      return JSON.parse(err.detail!);
    case 'pg':
      return Object.fromEntries(
        Object.entries({
          sqlstate: err.code,
          constraint: err.constraint_name,
          column: err.column_name,
          hint: verdict.message ? undefined : err.hint,
        }).filter(([, v]) => v !== undefined && v !== ''),
      );
  }
}

function unavailable(err: Error): HttpError {
  // Only the SQLSTATE: the client's messages name the database host and port.
  const details = isPgError(err) ? { sqlstate: err.code } : undefined;
  return new HttpError(UNAVAILABLE.status, UNAVAILABLE.code, UNAVAILABLE.message!, details, UNAVAILABLE.headers);
}

/** Rethrows a mapped HttpError (the area's verdicts first), or the original error. */
export function rethrowPg(err: unknown, mapping: PgMapping = {}): never {
  throw httpErrorFromPg(err, mapping) ?? err;
}
