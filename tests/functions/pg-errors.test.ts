// The SQLSTATE → HTTP table of the function platform, and that the handler applies it to errors
// thrown by route code (no stack, no internal message for generic database errors).
import { assertEquals, assertMatch } from './assert.ts';
import { createHandler } from '../../supabase/functions/_shared/platform/handler.ts';
import { Router } from '../../supabase/functions/_shared/platform/http.ts';
import {
  httpErrorFromPg,
  isConnectionLost,
  isDatabaseUnavailable,
  retryingConflicts,
} from '../../supabase/functions/_shared/platform/pg-errors.ts';
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
  const unique = httpErrorFromPg(
    pgError('23505', 'duplicate key value violates unique constraint "workspaces_slug_key"', { constraint_name: 'workspaces_slug_key' }),
  );
  assertEquals(unique?.status, 409);
  assertEquals(unique?.message.includes('duplicate key'), false);
  assertEquals(unique?.details, { sqlstate: '23505', constraint: 'workspaces_slug_key' });
  assertEquals(httpErrorFromPg(pgError('42501', 'new row violates row-level security policy for table "invitations"'))?.status, 403);
  assertEquals(httpErrorFromPg(pgError('22P02', 'invalid input syntax for type uuid: "x"'))?.status, 400);
  const retry = httpErrorFromPg(pgError('40001', 'could not serialize access'));
  assertEquals(retry?.status, 503);
  assertEquals(retry?.headers['Retry-After'], '1');
});

Deno.test("the role check of the database answers with its sentence and both roles; Postgres' own 42501 does not", () => {
  const role = httpErrorFromPg(
    pgError('42501', 'only editors and owners can change schedules; your role here is viewer', {
      detail: '{"required_role": "editor", "your_role": "viewer"}',
    }),
  );
  assertEquals(
    [role?.status, role?.code, role?.message],
    [403, 'forbidden', 'only editors and owners can change schedules; your role here is viewer'],
  );
  assertEquals(role?.details, { required_role: 'editor', your_role: 'viewer' });
  const grant = httpErrorFromPg(pgError('42501', 'permission denied for function claim_upload_schedules'));
  assertEquals([grant?.status, grant?.message, grant?.details], [403, 'you do not have permission to do this', { sqlstate: '42501' }]);
});

Deno.test("an area's verdicts come first; its codes mean nothing elsewhere", () => {
  const late = httpErrorFromPg(pgError('CES03', 'too late to change it', { hint: 'cancel it instead' }), { area: 'schedules' });
  assertEquals(
    [late?.status, late?.code, late?.message, late?.details],
    [409, 'too_late', 'too late to change it', { hint: 'cancel it instead' }],
  );
  assertEquals(httpErrorFromPg(pgError('CES03', 'too late to change it')), null);
  const channel = httpErrorFromPg(pgError('CES10', 'channel_id: not connected'), { area: 'schedules' });
  assertEquals(
    [channel?.status, channel?.message, channel?.details],
    [400, 'invalid body: channel_id: not connected', [{ path: 'channel_id', message: 'not connected' }]],
  );
  const strategy = pgError('23514', 'new row violates check constraint', { constraint_name: 'upload_schedules_strategy_needs_public' });
  assertEquals(httpErrorFromPg(strategy, { area: 'schedules', renameField: { strategy: 'privacy' } })?.details, [
    { path: 'privacy', message: 'youtube_scheduled publishes public videos; use upload_at_time for unlisted or private' },
  ]);
  const otherCheck = httpErrorFromPg(pgError('23514', 'violates x', { constraint_name: 'x' }), { area: 'schedules' });
  assertEquals(
    [otherCheck?.message, otherCheck?.details],
    ['a value is outside its allowed range or format', { sqlstate: '23514', constraint: 'x' }],
  );
  assertEquals(httpErrorFromPg(pgError('P0002', 'no alert 7'), { area: 'alerts' })?.message, 'alert not found');
  assertEquals(httpErrorFromPg(pgError('P0002', 'no alert 7')), null);
  const tz = httpErrorFromPg(pgError('22023', 'unknown time zone "Mars/Base"', { hint: 'use an IANA name' }), { area: 'profile' });
  assertEquals(tz?.details, [{ path: 'timezone', message: 'unknown time zone "Mars/Base"; use an IANA name' }]);
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

Deno.test('retryingConflicts runs a transaction again after a deadlock or serialization failure, and nothing else', async () => {
  let calls = 0;
  const settlesOnThird = () => {
    calls++;
    if (calls === 1) return Promise.reject(pgError('40P01', 'deadlock detected'));
    if (calls === 2) return Promise.reject(pgError('40001', 'could not serialize access'));
    return Promise.resolve('committed');
  };
  assertEquals(await retryingConflicts(settlesOnThird), 'committed');
  assertEquals(calls, 3);

  const failingWith = (code: string, message: string) => {
    calls = 0;
    return () => {
      calls++;
      return Promise.reject(pgError(code, message));
    };
  };
  const thrown = (fn: () => Promise<unknown>) => retryingConflicts(fn).catch((e: { code: string }) => e.code);
  assertEquals(await thrown(failingWith('40P01', 'deadlock detected')), '40P01');
  assertEquals(calls, 3, 'gives up after three attempts and throws the last conflict');
  assertEquals(await thrown(failingWith('23505', 'duplicate key value')), '23505');
  assertEquals(calls, 1, 'any other error is thrown at once');
});
