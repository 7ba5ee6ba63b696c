// Issue 14, defect 3: a NUL character in any string answered 500 (Postgres stores NUL in neither
// text nor jsonb), and each 500 counted toward the error-rate alert, so any signed-in user could
// raise a critical alert. Now every body, query and path is checked at the shared boundary: a 400
// in the error envelope, recorded as a client error and never as an unhandled one.
import { assertEquals, assertOk } from '../functions/assert.ts';
import { requestId, trackedCalls } from '../functions/helpers/ops.ts';
import { createWorkspace, signUp, withDb, type CallInit, type TestUser } from '../functions/helpers/users.ts';
import { nulPaths, rejectNul } from '../../supabase/functions/_shared/platform/http.ts';

const NUL = '\u0000';

Deno.test('nulPaths names every string and key that holds a NUL, however deep', () => {
  assertEquals(nulPaths({ a: 'ok', b: `x${NUL}`, c: [1, 'fine', { d: `${NUL}` }], [`k${NUL}`]: 1 }), ['b', 'c.2.d', '']);
  assertEquals(nulPaths({ a: 'ok', b: [true, null, 3], c: { d: 'no nul here' } }), []);
  assertEquals(nulPaths(`${NUL}`), ['']);
  let thrown: unknown;
  try {
    rejectNul({ name: `a${NUL}` }, 'body');
  } catch (err) {
    thrown = err;
  }
  const e = thrown as { status: number; code: string; details: { path: string }[] };
  assertEquals([e.status, e.code, e.details.map((d) => d.path)], [400, 'validation_failed', ['name']]);
});

interface Probe {
  label: string;
  path: string;
  init: CallInit;
  /** The field the answer must name. */
  field: string;
}

async function refused(user: TestUser, p: Probe): Promise<string> {
  const id = requestId(`nul-${p.label}`);
  const res = await user.call(p.path, { ...p.init, headers: { ...p.init.headers, 'X-Request-Id': id } });
  assertEquals(res.status, 400, `${p.label}: ${res.status} ${JSON.stringify(res.body)}`);
  assertEquals(res.body.error.code, 'validation_failed', p.label);
  assertEquals(typeof res.body.error.message, 'string', p.label);
  assertOk(
    res.body.error.details.some((d: { path: string }) => d.path === p.field),
    `${p.label}: ${JSON.stringify(res.body)}`,
  );
  return id;
}

Deno.test('a NUL in a body, query or path is a 400 naming the field, recorded as a client error, never a 500', async () => {
  const user = await signUp('nul');
  const team = await createWorkspace(user, 'NUL team');
  const probes: Probe[] = [
    { label: 'create', path: 'workspaces', init: { method: 'POST', body: { name: `a${NUL}b` } }, field: 'name' },
    { label: 'rename', path: `workspaces/${team}`, init: { method: 'PATCH', body: { name: `team${NUL}` } }, field: 'name' },
    { label: 'profile', path: 'account', init: { method: 'PATCH', body: { display_name: `${NUL}` } }, field: 'display_name' },
    { label: 'accept', path: 'invitations/accept', init: { method: 'POST', body: { token: `t${NUL}` } }, field: 'token' },
    {
      label: 'nested',
      path: `workspaces/${team}`,
      init: { method: 'PATCH', body: { name: 'ok', extra: { [`k${NUL}`]: [`v${NUL}`] } } },
      field: 'extra.k\\u0000.0',
    },
    { label: 'query', path: `members?workspace_id=${team}&note=%00`, init: { method: 'GET' }, field: 'note' },
    { label: 'path', path: `workspaces/${team}%00`, init: { method: 'GET' }, field: 'id' },
  ];
  const ids: string[] = [];
  for (const p of probes) ids.push(await refused(user, p));

  const calls = await trackedCalls(ids);
  assertEquals(
    calls.map((c) => c.status),
    ids.map(() => 400),
  );
  await withDb(async (sql) => {
    // The error-rate alert counts 5xx rows of ops.api_calls (ops.check_alert_rule), so none may be one.
    const [counted] = await sql`select count(*)::int as n from ops.api_calls where request_id = any(${ids}) and status >= 500`;
    assertEquals(counted.n, 0);
    const unhandled = await sql`select request_id from ops.errors where request_id = any(${ids})`;
    assertEquals(unhandled.length, 0);
    const [ws] = await sql`select name from public.workspaces where id = ${team}`;
    assertEquals(ws.name, 'NUL team');
  });
});
