// The SQLSTATE → HTTP table of the function platform, and that the handler applies it to errors
// thrown by route code (no stack, no internal message for generic database errors).
import { assertEquals, assertMatch } from './assert.ts';
import { createHandler } from '../../supabase/functions/_shared/handler.ts';
import { Router } from '../../supabase/functions/_shared/http.ts';
import { httpErrorFromPg, isConnectionLost, isDatabaseUnavailable } from '../../supabase/functions/_shared/pg-errors.ts';
import { inProcessTest } from './helpers/in-process.ts';

function pgError(code: string, message: string, extra: Record<string, string> = {}) {
  return Object.assign(new Error(message), { name: 'PostgresError', code, ...extra });
}

Deno.test('each SQLSTATE our migrations raise gets its status, code and the database message', () => {
  const cases: [string, number, string][] = [
    ['CEW01', 409, 'last_owner'],
    ['CEI01', 404, 'invitation_not_found'],
    ['CEI02', 410, 'invitation_expired'],
    ['CEI03', 409, 'invitation_used'],
    ['CEI04', 410, 'invitation_revoked'],
    ['CEI05', 403, 'invitation_email_mismatch'],
    ['CEI06', 409, 'invitation_revoked'],
    ['CEH01', 409, 'channel_connected'],
    ['CEH02', 409, 'uploads_pending'],
    ['CEB01', 409, 'snapshot_incompatible'],
    ['28000', 401, 'unauthorized'],
    ['22023', 400, 'validation_failed'],
  ];
  for (const [sqlstate, status, code] of cases) {
    const mapped = httpErrorFromPg(pgError(sqlstate, `message for ${sqlstate}`));
    assertEquals([mapped?.status, mapped?.code, mapped?.message], [status, code, `message for ${sqlstate}`], sqlstate);
  }
});

Deno.test('generic Postgres errors get a fixed message and name the constraint, never the raw text', () => {
  const unique = httpErrorFromPg(pgError('23505', 'duplicate key value violates unique constraint "workspaces_slug_key"', { constraint_name: 'workspaces_slug_key' }));
  assertEquals(unique?.status, 409);
  assertEquals(unique?.message.includes('duplicate key'), false);
  assertEquals(unique?.details, { sqlstate: '23505', constraint: 'workspaces_slug_key' });
  assertEquals(httpErrorFromPg(pgError('42501', 'new row violates row-level security policy for table "invitations"'))?.status, 403);
  assertEquals(httpErrorFromPg(pgError('22P02', 'invalid input syntax for type uuid: "x"'))?.status, 400);
  const retry = httpErrorFromPg(pgError('40001', 'could not serialize access'));
  assertEquals(retry?.status, 503);
  assertEquals(retry?.headers['Retry-After'], '1');
});

Deno.test('unknown SQLSTATEs and non-database errors are not mapped (they stay 500)', () => {
  assertEquals(httpErrorFromPg(pgError('XX000', 'internal')), null);
  assertEquals(httpErrorFromPg(new Error('plain')), null);
  assertEquals(httpErrorFromPg(Object.assign(new Error('x'), { code: 'CEW01' })), null);
});

inProcessTest('a database error thrown by a route reaches the caller as the mapped envelope', async () => {
  const handler = createHandler(
    new Router('demo')
      .on('POST', '/leave', () => {
        throw pgError('CEW01', 'the last owner of a workspace cannot leave or be demoted', { hint: 'make another member owner first' });
      })
      .on('GET', '/internal', () => {
        throw pgError('XX000', 'relation "secret_table" is corrupt');
      }),
  );
  const res = await handler(new Request('http://x/demo/leave', { method: 'POST' }));
  assertEquals(res.status, 409);
  const body = await res.json();
  assertEquals(body.error.code, 'last_owner');
  assertMatch(body.error.message, /last owner/);
  assertEquals(body.error.details.hint, 'make another member owner first');
  assertEquals(res.headers.get('x-content-type-options'), 'nosniff');

  const original = console.error;
  console.error = () => {};
  try {
    const internal = await handler(new Request('http://x/demo/internal'));
    assertEquals(internal.status, 500);
    assertEquals((await internal.text()).includes('secret_table'), false);
  } finally {
    console.error = original;
  }
});

function clientError(code: string, message: string) {
  return Object.assign(new Error(message), { code, errno: code, address: '127.0.0.1', port: 5432 });
}

Deno.test('a database that is restarting, failing over or unreachable is a 503 with Retry-After, never a 500', () => {
  const cases: Error[] = [
    pgError('57P01', 'terminating connection due to administrator command', { severity: 'FATAL' }),
    pgError('57P02', 'terminating connection because of crash of another server process', { severity: 'FATAL' }),
    pgError('57P03', 'the database system is starting up', { severity: 'FATAL' }),
    pgError('57P03', 'the database system is shutting down', { severity: 'FATAL' }),
    pgError('53300', 'sorry, too many clients already', { severity: 'FATAL' }),
    pgError('08006', 'connection failure'),
    clientError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
    clientError('ECONNRESET', 'read ECONNRESET'),
    clientError('EPIPE', 'write EPIPE'),
    clientError('CONNECTION_CLOSED', 'write CONNECTION_CLOSED 127.0.0.1:5432'),
    clientError('CONNECTION_DESTROYED', 'write CONNECTION_DESTROYED 127.0.0.1:5432'),
    clientError('CONNECTION_ENDED', 'write CONNECTION_ENDED 127.0.0.1:5432'),
    clientError('CONNECT_TIMEOUT', 'write CONNECT_TIMEOUT 127.0.0.1:5432'),
  ];
  for (const err of cases) {
    const mapped = httpErrorFromPg(err);
    assertEquals([mapped?.status, mapped?.code], [503, 'database_unavailable'], err.message);
    assertMatch(mapped?.headers['Retry-After'] ?? '', /^\d+$/);
    assertEquals(JSON.stringify([mapped?.message, mapped?.details]).includes('127.0.0.1'), false, 'no host or port');
    assertEquals(isConnectionLost(err), true, err.message);
  }
});

Deno.test('a FATAL error ends the connection, but only unavailability is a 503 (a wrong password stays a 500)', () => {
  const badPassword = pgError('28P01', 'password authentication failed for user "postgres"', { severity: 'FATAL' });
  assertEquals(isConnectionLost(badPassword), true);
  assertEquals(isDatabaseUnavailable(badPassword), false);
  assertEquals(httpErrorFromPg(badPassword), null);
  assertEquals(isConnectionLost(pgError('23505', 'duplicate key', { severity: 'ERROR' })), false);
  assertEquals(isConnectionLost(new Error('plain')), false);
  assertEquals(isConnectionLost(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
});

inProcessTest('a route whose database is unreachable answers 503, Retry-After and the error envelope', async () => {
  const handler = createHandler(
    new Router('demo').on('GET', '/down', () => {
      throw clientError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
    }),
    { rateLimit: false, track: false },
  );
  const original = console.error;
  console.error = () => {};
  try {
    const res = await handler(new Request('http://x/demo/down'));
    assertEquals(res.status, 503);
    assertMatch(res.headers.get('retry-after') ?? '', /^\d+$/);
    const body = await res.json();
    assertEquals(body.error.code, 'database_unavailable');
    assertEquals(typeof body.error.request_id, 'string');
  } finally {
    console.error = original;
  }
});
