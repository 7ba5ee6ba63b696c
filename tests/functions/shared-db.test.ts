// asUser / asService send the role together with the caller's first query (pipelined); the
// first query must still run under that role and those claims, however the caller starts it.
import { assert_, assertEquals, assertOk } from './assert.ts';
import { asService, asUser, asUserThenService, sql, sqlLiteral, type Tx } from '../../supabase/functions/_shared/platform/db.ts';
import {
  isPostgresJsClosedSocketUse,
  isUnawaitedPostgresJsConnectionError,
} from '../../supabase/functions/_shared/platform/pg-client-faults.ts';
import { isDatabaseUnavailable } from '../../supabase/functions/_shared/platform/pg-errors.ts';
import { withDb } from './helpers/users.ts';
import { inProcessTest } from './helpers/in-process.ts';

const claims = { sub: '7d1c2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f', role: 'authenticated', aud: 'authenticated' };

inProcessTest("asUser: a first query awaited at once already runs as authenticated with the caller's claims", async () => {
  const [row] = await asUser(claims, async (tx) => await tx`select current_user as role, auth.uid() as uid`);
  assertEquals(row, { role: 'authenticated', uid: claims.sub });
});

inProcessTest('asUser: a query returned without await, and one started after other awaits, run as the user too', async () => {
  const returned = await asUser(claims, (tx) => tx`select auth.uid() as uid`);
  assertEquals(returned[0].uid, claims.sub);
  const later = await asUser(claims, async (tx) => {
    await new Promise((r) => setTimeout(r, 5));
    return (await tx`select current_user as role`)[0].role;
  });
  assertEquals(later, 'authenticated');
});

inProcessTest('asService: the first query runs as service_role', async () => {
  const [row] = await asService(async (tx) => await tx`select current_user as role, auth.role() as claim_role`);
  assertEquals(row, { role: 'service_role', claim_role: 'service_role' });
});

inProcessTest('asUser: a callback that throws before any query rejects with its error and rolls back', async () => {
  await assert_.rejects(
    asUser(claims, () => {
      throw new Error('thrown before any query');
    }),
    /thrown before any query/,
  );
  // The pool is still usable: the transaction was rolled back and the connection returned.
  const [row] = await asUser(claims, (tx) => tx`select current_user as role`);
  assertEquals(row.role, 'authenticated');
});

inProcessTest('asUser: claims with quotes, backslashes and non-ASCII reach the database unchanged', async () => {
  const tricky = { ...claims, user_metadata: { name: "O'Brien \\' \\\\ '' \\x41 $$ ünï 🎬", note: "'); select 1; --" } };
  const [row] = await asUser(tricky, (tx) => tx`select auth.jwt() as jwt`);
  assertEquals(row.jwt, tricky);
});

Deno.test('sqlLiteral refuses a NUL character', () => {
  assert_.throws(() => sqlLiteral('a\0b'), /NUL/);
});

inProcessTest(
  'asUser / asService: auth.uid(), auth.role() and auth.email() answer from the per-claim settings as from the claims',
  async () => {
    const withEmail = { ...claims, email: 'someone@example.com' };
    const [user] = await asUser(
      withEmail,
      (tx) => tx`
    select auth.uid() as uid, auth.role() as role, auth.email() as email,
      current_setting('request.jwt.claim.sub') as claim_sub`,
    );
    assertEquals(user, { uid: withEmail.sub, role: 'authenticated', email: 'someone@example.com', claim_sub: withEmail.sub });
    const [service] = await asService((tx) => tx`select auth.uid() as uid, auth.role() as role, auth.email() as email`);
    assertEquals(service, { uid: null, role: 'service_role', email: null });
  },
);

inProcessTest('asService: the isolation level asked for is the one BEGIN opens with (read committed otherwise)', async () => {
  const level = (options?: { isolation?: 'repeatable read' | 'serializable' }) =>
    asService(async (tx) => (await tx`select current_setting('transaction_isolation') as level, current_user as role`)[0], options);
  assertEquals(await level(), { level: 'read committed', role: 'service_role' });
  assertEquals(await level({ isolation: 'repeatable read' }), { level: 'repeatable read', role: 'service_role' });
});

inProcessTest('asUserThenService: fn as the user, then after as service_role, committed as one transaction', async () => {
  const seen: Record<string, unknown>[] = [];
  const who = async (tx: Tx) => seen.push((await tx`select current_user as role, auth.uid() as uid, pg_current_xact_id()::text as xid`)[0]);
  const { result, afterError } = await asUserThenService(
    claims,
    async (tx) => {
      await who(tx);
      // A statement fn starts after an await of its own still runs as the user.
      await new Promise((r) => setTimeout(r, 5));
      await who(tx);
      return 'fn result';
    },
    who,
  );
  assertEquals(result, 'fn result');
  assertEquals(afterError, undefined);
  assertEquals(
    seen.map((s) => [s.role, s.uid]),
    [
      ['authenticated', claims.sub],
      ['authenticated', claims.sub],
      ['service_role', null],
    ],
  );
  assertEquals(new Set(seen.map((s) => s.xid)).size, 1, 'one transaction');
  const [status] = await withDb((db) => db`select pg_xact_status(${seen[0].xid as string}::xid8) as status`);
  assertEquals(status.status, 'committed');
});

inProcessTest("asUserThenService: after's failure is returned beside fn's result, and fn's work is still committed", async () => {
  let xid = '';
  const { result, afterError } = await asUserThenService(
    claims,
    async (tx) => {
      xid = (await tx`select pg_current_xact_id()::text as xid`)[0].xid;
      return 7;
    },
    (tx) => tx`select 1 / 0`,
  );
  assertEquals(result, 7);
  assertOk(String(afterError).includes('division by zero'), String(afterError));
  const [status] = await withDb((db) => db`select pg_xact_status(${xid}::xid8) as status`);
  assertEquals(status.status, 'committed');
});

inProcessTest('asUserThenService: when fn fails, after never runs and nothing is committed', async () => {
  let ran = false;
  await assert_.rejects(
    asUserThenService(
      claims,
      async (tx) => await tx`select 1 / 0`,
      async () => {
        ran = true;
      },
    ),
    /division by zero/,
  );
  assertEquals(ran, false);
});

// Ending a backend from outside, as a restart, a failover or an operator's pg_terminate_backend
// does. The client must fail the transaction with an error the caller can retry, must not end the
// process (postgres.js would write to the closed socket from a timer), and must open a new
// connection for the next transaction by itself.
async function terminateBackend(pid: number) {
  await withDb((db) => db`select pg_terminate_backend(${pid})`);
}

async function failureOf(run: Promise<unknown>): Promise<unknown> {
  return await run.then(
    () => new Error('the transaction succeeded'),
    (err) => err,
  );
}

const aMoment = (ms: number) => new Promise((r) => setTimeout(r, ms));

inProcessTest(
  'asUser: a connection ended while its statement runs fails as unavailable, and the next transaction gets a new one',
  async () => {
    for (let round = 0; round < 3; round++) {
      const err = await failureOf(
        asUser(claims, async (tx) => {
          const [{ pid }] = await tx`select pg_backend_pid() as pid`;
          const running = tx`select pg_sleep(3)`.execute();
          await aMoment(100);
          await terminateBackend(pid);
          await running;
        }),
      );
      assertEquals(isDatabaseUnavailable(err), true, String(err));
      // Long enough for a write scheduled on the dead connection to have run.
      await aMoment(50);
      const [row] = await asUser(claims, (tx) => tx`select current_user as role`);
      assertEquals(row.role, 'authenticated');
    }
  },
);

inProcessTest(
  'asUser: a connection ended while the transaction waits fails its next statement as unavailable, without ending the process',
  async () => {
    for (let round = 0; round < 3; round++) {
      const err = await failureOf(
        asUser(claims, async (tx) => {
          const [{ pid }] = await tx`select pg_backend_pid() as pid`;
          await terminateBackend(pid);
          await aMoment(200);
          await tx`select 1`;
        }),
      );
      assertEquals(isDatabaseUnavailable(err), true, String(err));
      await aMoment(50);
      const [row] = await asService((tx) => tx`select current_user as role`);
      assertEquals(row.role, 'service_role');
    }
  },
);

inProcessTest('the pool recovers from its connection being ended between requests', async () => {
  const [{ pid }] = await sql()<{ pid: number }[]>`select pg_backend_pid() as pid`;
  await terminateBackend(pid);
  await aMoment(200);
  let n = 0;
  // The first statement may still meet the connection whose end has not reached the client.
  for (let attempt = 0; attempt < 3 && n !== 1; attempt++) {
    try {
      [{ n }] = await sql()<{ n: number }[]>`select 1 as n`;
    } catch (err) {
      assertEquals(isDatabaseUnavailable(err), true, String(err));
    }
  }
  assertEquals(n, 1);
});

Deno.test('only the TypeErrors postgres.js throws using a closed socket from a timer are recognised as that', () => {
  const at = (read: string, fn: string, file: string) =>
    Object.assign(new TypeError(`Cannot read properties of null (reading '${read}')`), {
      stack: `TypeError: Cannot read properties of null (reading '${read}')\n    at ${fn} (file:///cache/npm/registry.npmjs.org/${file}:255:22)\n    at ext:deno_web/02_timers.js:35:14`,
    });
  assertEquals(isPostgresJsClosedSocketUse(at('write', 'nextWrite', 'postgres/3.4.9/src/connection.js')), true);
  assertEquals(isPostgresJsClosedSocketUse(at('destroy', 'connectTimedOut', 'postgres/3.4.9/src/connection.js')), true);
  assertEquals(isPostgresJsClosedSocketUse(at('write', 'nextWrite', 'other/1.0.0/src/stream.js')), false);
  assertEquals(isPostgresJsClosedSocketUse(at('write', 'handler', 'postgres/3.4.9/src/index.js')), false);
  assertEquals(isPostgresJsClosedSocketUse(new TypeError("Cannot read properties of null (reading 'write')")), false);
  assertEquals(
    isPostgresJsClosedSocketUse(
      Object.assign(new TypeError('x is not a function'), {
        stack: 'TypeError: x\n    at f (file:///n/postgres/3.4.9/src/connection.js:1:1)',
      }),
    ),
    false,
  );
  assertEquals(isPostgresJsClosedSocketUse(new RangeError('x')), false);
});

Deno.test("only lost-connection errors from postgres.js's own promises count as its unawaited rejections", () => {
  const raised = (err: Error, code: string, fn: string, file: string) =>
    Object.assign(err, {
      code,
      stack: `${err.name}: ${err.message}\n    at ${fn} (file:///cache/npm/registry.npmjs.org/${file}:262:20)\n    at Timeout.done`,
    });
  const connection = 'postgres/3.4.9/src/connection.js';
  const serverError = (code: string, message: string, severity: string) =>
    raised(Object.assign(new Error(message), { name: 'PostgresError', severity }), code, 'ErrorResponse', connection);
  assertEquals(
    isUnawaitedPostgresJsConnectionError(raised(new Error('write CONNECT_TIMEOUT'), 'CONNECT_TIMEOUT', 'connectTimedOut', connection)),
    true,
  );
  assertEquals(
    isUnawaitedPostgresJsConnectionError(raised(new Error('write CONNECTION_CLOSED'), 'CONNECTION_CLOSED', 'closed', connection)),
    true,
  );
  assertEquals(
    isUnawaitedPostgresJsConnectionError(serverError('57P01', 'terminating connection due to administrator command', 'FATAL')),
    true,
  );
  const typeLookup = Object.assign(new Error('read ECONNRESET'), {
    code: 'ECONNRESET',
    query: 'select b.oid, b.typarray from pg_catalog.pg_type a',
  });
  assertEquals(isUnawaitedPostgresJsConnectionError(typeLookup), true);
  assertEquals(
    isUnawaitedPostgresJsConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', query: 'select 1' })),
    false,
  );
  assertEquals(
    isUnawaitedPostgresJsConnectionError(raised(new Error('write CONNECT_TIMEOUT'), 'CONNECT_TIMEOUT', 'ours', 'app/1.0.0/src/client.js')),
    false,
  );
  assertEquals(isUnawaitedPostgresJsConnectionError(serverError('23505', 'duplicate key value', 'ERROR')), false);
  assertEquals(isUnawaitedPostgresJsConnectionError(raised(new Error('no such file'), 'ENOENT', 'closed', connection)), false);
  assertEquals(isUnawaitedPostgresJsConnectionError('CONNECTION_CLOSED'), false);
});
