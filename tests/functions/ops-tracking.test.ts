// Tracking: every function's calls land in ops.api_calls without code of its own (the one
// wrapper, createHandler), except anonymous health calls, which are counted per minute
// (ops-counted-calls.test.ts); an unhandled error gives the caller the envelope with a request id and
// never the stack, and lands in ops.errors with it; a call slower than 2 s also writes a warning;
// ENABLE_ANALYTICS / ENABLE_ERROR_TRACKING switch recording off.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { callFunction, personalWorkspace, signUp, withDb } from './helpers/users.ts';
import { eventually, requestId, trackedCalls } from './helpers/ops.ts';
import { closeDb } from '../../supabase/functions/_shared/platform/db.ts';
import { createHandler } from '../../supabase/functions/_shared/platform/handler.ts';
import { json, Router } from '../../supabase/functions/_shared/platform/http.ts';
import { backgroundSettled } from '../../supabase/functions/_shared/platform/observability/background.ts';
import { noteWorkspace } from '../../supabase/functions/_shared/platform/observability/context.ts';
import { helperCommand } from './helpers/process.ts';

const functionsDir = new URL('../../supabase/functions/', import.meta.url);

/** Every function the runtime serves: a folder (not _shared) with a handler.ts. */
async function functionNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(functionsDir)) {
    if (!entry.isDirectory || entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
    try {
      await Deno.stat(new URL(`${entry.name}/handler.ts`, functionsDir));
      names.push(entry.name);
    } catch {
      // a folder still being written: the runtime does not serve it either
    }
  }
  return names.sort();
}

Deno.test('every function exports the createHandler wrapper as its handler', async () => {
  const names = await functionNames();
  assertOk(names.includes('health') && names.includes('admin-metrics'), `functions found: ${names.join(', ')}`);
  for (const name of names) {
    const source = await Deno.readTextFile(new URL(`${name}/handler.ts`, functionsDir));
    assertMatch(source, /export default createHandler\(/, `${name}/handler.ts must export default createHandler(router)`);
  }
});

Deno.test('a call of every function is recorded with its function, endpoint, status and user', async () => {
  const user = await signUp('ops-track');
  const names = await functionNames();
  const ids = new Map<string, string>();
  for (const name of names) {
    const id = requestId(`trk-${name}`);
    ids.set(name, id);
    // A path no function declares: the router answers it, no product code runs, it is still tracked.
    const res = await callFunction(user.token, `${name}/ops-tracking-probe/a/b/c`, { headers: { 'x-request-id': id } });
    assertEquals(res.headers.get('x-request-id'), id, `${name} echoes the request id`);
  }
  // An anonymous call of a public route is a row of its own too (health's are only counted).
  const callbackId = requestId('trk-callback');
  const callback = await anonymousCallback(callbackId);
  assertEquals(callback.status, 302);
  const healthId = requestId('trk-health-root');
  const health = await callFunction(null, 'health', { headers: { 'x-request-id': healthId } });
  assertEquals(health.status, 200);

  const rows = await trackedCalls([...ids.values(), callbackId]);
  for (const [name, id] of ids) {
    const row = rows.find((r) => r.request_id === id);
    assertOk(row, `a row for ${name}`);
    assertEquals(row.function_name, name);
    assertEquals(row.endpoint, '(no route)', 'undeclared paths never become endpoints of their own');
    assertEquals(row.method, 'GET');
    assertEquals(row.status, 404);
    assertEquals(row.user_id, user.id, `${name}: the caller is recorded`);
    assertOk(row.duration_ms >= 0);
  }
  const anonymous = rows.find((r) => r.request_id === callbackId)!;
  assertEquals(
    [anonymous.function_name, anonymous.endpoint, anonymous.status, anonymous.user_id],
    ['youtube-oauth', '/callback', 302, null],
  );
  const healthRows = await withDb((sql) => sql`select 1 from ops.api_calls where request_id = ${healthId}`);
  assertEquals(healthRows.length, 0, 'an anonymous health call is counted, not recorded');
});

/** Google's redirect to the OAuth callback: anonymous, answered 302 without following it. */
async function anonymousCallback(id: string, query = '') {
  const env = (name: string) => Deno.env.get(name) ?? '';
  const res = await fetch(
    `${env('SUPABASE_URL').replace(/\/+$/, '')}/functions/v1/youtube-oauth/callback?state=trk-state&code=trk-code${query}`,
    {
      headers: { apikey: env('SUPABASE_PUBLISHABLE_KEY') || env('SUPABASE_ANON_KEY'), 'x-request-id': id },
      redirect: 'manual',
    },
  );
  await res.body?.cancel();
  return res;
}

Deno.test('routes are recorded by their declared pattern and the workspace they name', async () => {
  const user = await signUp('ops-track-ws');
  const id = requestId('trk-ws');
  const workspace = await personalWorkspace(user);
  await callFunction(user.token, `members/${workspace}/${user.id}`, {
    method: 'PATCH',
    body: { role: 'viewer' },
    headers: { 'x-request-id': id },
  });
  const [row] = await trackedCalls([id]);
  assertEquals([row.function_name, row.endpoint, row.method, row.workspace_id], ['members', '/:workspace_id/:user_id', 'PATCH', workspace]);
});

Deno.test('a caller cannot put calls or errors on a workspace they do not belong to by naming it', async () => {
  const victim = await signUp('ops-track-victim');
  const caller = await signUp('ops-track-steer');
  const theirs = await personalWorkspace(victim);
  const mine = await personalWorkspace(caller);
  const ids = {
    path: requestId('trk-steer-path'),
    query: requestId('trk-steer-query'),
    anon: requestId('trk-steer-anon'),
    own: requestId('trk-steer-own'),
  };
  const headers = (id: string) => ({ 'x-request-id': id });
  assertEquals(
    (
      await callFunction(caller.token, `members/${theirs}/${caller.id}`, {
        method: 'PATCH',
        body: { role: 'viewer' },
        headers: headers(ids.path),
      })
    ).status,
    404,
  );
  assertEquals((await callFunction(caller.token, `workspaces?workspace_id=${theirs}`, { headers: headers(ids.query) })).status, 200);
  assertEquals((await anonymousCallback(ids.anon, `&workspace_id=${theirs}`)).status, 302);
  const healthId = requestId('trk-steer-health');
  assertEquals((await callFunction(null, `health?workspace_id=${theirs}`, { headers: headers(healthId) })).status, 200);
  assertEquals((await callFunction(caller.token, `content?workspace_id=${mine}`, { headers: headers(ids.own) })).status, 200);
  const rows = await trackedCalls(Object.values(ids));
  const workspaceOf = (id: string) => rows.find((r) => r.request_id === id)?.workspace_id;
  assertEquals(workspaceOf(ids.path), null, "a path naming another tenant's workspace");
  assertEquals(workspaceOf(ids.query), null, "a query naming another tenant's workspace");
  assertEquals(workspaceOf(ids.anon), null, 'an anonymous call naming a workspace');
  assertEquals(workspaceOf(ids.own), mine, "a workspace of the caller's own is still recorded");
  assertEquals(rows.find((r) => r.request_id === ids.path)?.user_id, caller.id, "the user is the verified token's");
  // Counted calls keep no workspace at all (ops.api_calls_counted has no such column).
  assertEquals((await withDb((sql) => sql`select 1 from ops.api_calls where request_id = ${healthId}`)).length, 0);
});

Deno.test({
  name: 'an error is put on a workspace a user named only when they belong to it',
  async fn() {
    const victim = await signUp('ops-err-victim');
    const caller = await signUp('ops-err-steer');
    const handler = createHandler(
      new Router('ops-test-steer').on('GET', '/explode', () => {
        throw new Error('boom');
      }),
    );
    const mine = await personalWorkspace(caller);
    const cases = [
      { id: requestId('trk-err-theirs'), named: await personalWorkspace(victim), kept: null },
      { id: requestId('trk-err-mine'), named: mine, kept: mine },
    ];
    const original = console.error;
    console.error = () => {};
    try {
      for (const c of cases) {
        const req = new Request(`http://local/ops-test-steer/explode?workspace_id=${c.named}`, {
          headers: { 'x-request-id': c.id, authorization: `Bearer ${caller.token}` },
        });
        assertEquals((await handler(req)).status, 500);
      }
      await backgroundSettled();
    } finally {
      console.error = original;
    }
    for (const c of cases) {
      const row = await eventually(
        () => withDb(async (sql) => (await sql`select context from ops.errors where request_id = ${c.id}`)[0]),
        'the ops.errors row',
      );
      assertEquals([row.context.user_id, row.context.workspace_id], [caller.id, c.kept]);
    }
    await closeDb();
  },
});

Deno.test({
  name: 'an unhandled error: the caller gets a request id and no stack; ops.errors gets everything',
  async fn() {
    const handler = createHandler(
      new Router('ops-test-errors').on('GET', '/explode/:id', () => {
        throw new TypeError('cannot read config from postgres://admin:hunter2@db.internal:5432/prod');
      }),
    );
    const id = requestId('trk-err');
    const workspace = '0d6c1f37-3b7e-4c65-8f6f-2f3b0a9e1d10';
    const original = console.error;
    console.error = () => {};
    let res: Response;
    try {
      res = await handler(
        new Request(`http://local/ops-test-errors/explode/42?workspace_id=${workspace}&token=abc`, { headers: { 'x-request-id': id } }),
      );
    } finally {
      console.error = original;
    }
    assertEquals(res.status, 500);
    const text = await res.text();
    assertEquals(JSON.parse(text), {
      error: { code: 'internal_error', message: 'internal error; quote the request id when reporting it', request_id: id },
    });
    assertEquals(
      text.includes('TypeError') || text.includes('hunter2') || text.includes('.ts:'),
      false,
      'nothing internal reaches the caller',
    );
    await backgroundSettled();

    const row = await eventually(
      () => withDb(async (sql) => (await sql`select name, message, stack, operation, context from ops.errors where request_id = ${id}`)[0]),
      'the ops.errors row',
    );
    assertEquals(row.name, 'TypeError');
    assertEquals(row.message, 'cannot read config from <db-url>', 'connection strings are scrubbed');
    assertMatch(row.stack, /ops-tracking\.test\.ts/);
    assertEquals(row.operation, 'GET ops-test-errors/explode/:id');
    assertEquals(row.context.workspace_id, null, 'a workspace an anonymous caller named is not kept');
    assertEquals(row.context.query_keys, ['workspace_id', 'token'], 'query values are not stored, only their names');
    assertEquals(row.context.caller, 'anonymous');
    const [call] = await trackedCalls([id]);
    assertEquals([call.status, call.endpoint], [500, '/explode/:id']);
    await closeDb();
  },
});

Deno.test({
  name: 'a call slower than 2 s is also a warning in ops.system_logs; noteWorkspace is recorded',
  async fn() {
    const workspace = '5b0f3c1d-2e4a-4b6c-8d9e-0f1a2b3c4d5e';
    const handler = createHandler(
      new Router('ops-test-slow')
        .on('GET', '/', async ({ req }) => {
          noteWorkspace(req, workspace);
          await new Promise((r) => setTimeout(r, 2_100));
          return json({ slow: true });
        })
        .on('GET', '/fast', () => Promise.resolve(json({ slow: false }))),
    );
    const id = requestId('trk-slow');
    const res = await handler(new Request('http://local/ops-test-slow', { headers: { 'x-request-id': id } }));
    assertEquals(res.status, 200);
    await res.body?.cancel();
    await backgroundSettled();
    const [call] = await trackedCalls([id]);
    assertOk(call.duration_ms >= 2_100, `duration ${call.duration_ms}`);
    assertEquals(call.workspace_id, workspace);
    const log = await withDb(
      async (sql) =>
        (
          await sql`
      select l.severity, l.event_type, l.source, l.message, l.context from ops.system_logs l
      where l.context ->> 'request_id' = ${id}`
        )[0],
    );
    assertOk(log, 'a system log row');
    assertEquals([log.severity, log.event_type, log.source], ['warning', 'slow_api_call', 'ops-test-slow']);
    assertMatch(log.message, /^GET ops-test-slow took \d{4} ms$/);
    assertOk(Number(log.context.api_call_id) > 0, 'it points at the call');

    const fastId = requestId('trk-fast');
    await (await handler(new Request('http://local/ops-test-slow/fast', { headers: { 'x-request-id': fastId } }))).body?.cancel();
    await backgroundSettled();
    await trackedCalls([fastId]);
    const none = await withDb(async (sql) => await sql`select 1 from ops.system_logs where context ->> 'request_id' = ${fastId}`);
    assertEquals(none.length, 0, 'a fast call writes no warning');
    await closeDb();
  },
});

async function runFlagged(flags: Record<string, string>, ids: [string, string]) {
  const { code } = await helperCommand('tracked-calls.ts', ids, { env: flags, stdout: 'inherit' }).output();
  assertEquals(code, 0, 'the flagged process ran');
}

Deno.test('ENABLE_ANALYTICS=false and ENABLE_ERROR_TRACKING=false record nothing; true records both', async () => {
  const off: [string, string] = [requestId('flag-off-ok'), requestId('flag-off-fail')];
  await runFlagged({ ENABLE_ANALYTICS: 'false', ENABLE_ERROR_TRACKING: 'false' }, off);
  const on: [string, string] = [requestId('flag-on-ok'), requestId('flag-on-fail')];
  await runFlagged({ ENABLE_ANALYTICS: 'true', ENABLE_ERROR_TRACKING: 'true' }, on);
  // The processes waited for their background writes before exiting: what is there is all there is.
  const counts = await withDb(async (sql) => {
    const [c] = await sql`select
      (select count(*)::int from ops.api_calls where request_id = any (${off})) as calls_off,
      (select count(*)::int from ops.errors where request_id = any (${off})) as errors_off,
      (select count(*)::int from ops.api_calls where request_id = any (${on})) as calls_on,
      (select count(*)::int from ops.errors where request_id = any (${on})) as errors_on`;
    return c;
  });
  assertEquals([counts.calls_off, counts.errors_off, counts.calls_on, counts.errors_on], [0, 0, 2, 1]);
});
