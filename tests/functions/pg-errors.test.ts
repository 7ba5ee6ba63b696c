// The SQLSTATE → HTTP table of the function platform, and that the handler applies it to errors
// thrown by route code (no stack, no internal message for generic database errors).
import { assertEquals, assertMatch } from './assert.ts';
import { createHandler } from '../../supabase/functions/_shared/handler.ts';
import { Router } from '../../supabase/functions/_shared/http.ts';
import { httpErrorFromPg } from '../../supabase/functions/_shared/pg-errors.ts';
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
