// A flood of refused anonymous calls cannot fill the database: 2,000 calls to the public routes
// (revid-webhook with a wrong secret -> 401, youtube-oauth/callback without its parameters -> 400)
// leave no ops.api_calls row and add a handful of counter rows to ops.api_calls_refused, whose
// counts are exact and show up in the admin metrics like any other calls.
import { assertEquals, assertOk } from './assert.ts';
import { eventually } from './helpers/ops.ts';
import { stack, withDb } from './helpers/users.ts';

const PER_ROUTE = 1_000;
const CONCURRENCY = 8;
const BUCKETS = 43;
const ROUTES = [
  { fn: 'revid-webhook', path: 'revid-webhook?job=00000000-0000-4000-8000-000000000000&secret=wrong', method: 'POST', status: 401 },
  { fn: 'youtube-oauth', path: 'youtube-oauth/callback', method: 'GET', status: 400 },
];

interface Counters {
  api_calls: number;
  refused_rows: number;
  refused: Record<string, number>;
  client_errors: Record<string, number>;
}

async function counters(since: Date): Promise<Counters> {
  return await withDb(async (sql) => {
    const [{ api_calls, refused_rows }] = await sql<{ api_calls: number; refused_rows: number }[]>`
      select (select count(*)::int from ops.api_calls) as api_calls,
        (select count(*)::int from ops.api_calls_refused where function_name = any (${ROUTES.map((r) => r.fn)})) as refused_rows`;
    const refused: Record<string, number> = {};
    const clientErrors: Record<string, number> = {};
    for (const r of ROUTES) {
      const [{ n }] = await sql<{ n: number }[]>`
        select coalesce(sum(calls), 0)::int as n from ops.api_calls_refused where function_name = ${r.fn} and status = ${r.status}`;
      refused[r.fn] = n;
      const [{ m }] = await sql<{ m: { client_errors: number } }[]>`select ops.api_metrics(${since}, 'minute', ${r.fn}) as m`;
      clientErrors[r.fn] = Number(m.client_errors);
    }
    return { api_calls, refused_rows, refused, client_errors: clientErrors };
  });
}

async function flood(requestIdPrefix: string): Promise<Map<number, number>> {
  const jobs = ROUTES.flatMap((r) => Array.from({ length: PER_ROUTE }, (_, i) => ({ ...r, i })));
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        const res = await fetch(`${stack.url}/functions/v1/${job.path}`, {
          method: job.method,
          headers: { apikey: stack.anonKey, 'x-request-id': `${requestIdPrefix}-${job.fn}-${job.i}` },
          body: job.method === 'POST' ? '{}' : undefined,
        });
        await res.body?.cancel();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

Deno.test('a flood of refused anonymous calls is counted in a few rows, not one row per call', async () => {
  // The metrics window starts at a minute boundary, as admin-metrics asks for it.
  const since = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const before = await counters(since);
  const prefix = `flood-${crypto.randomUUID().slice(0, 8)}`;
  const statuses = await flood(prefix);
  assertEquals(Object.fromEntries(statuses), { 401: PER_ROUTE, 400: PER_ROUTE }, 'every call was refused');

  // Counts are flushed within a second of the calls; wait until all of them are in.
  const after = await eventually(
    async () => {
      const c = await counters(since);
      return ROUTES.every((r) => c.refused[r.fn] - before.refused[r.fn] >= PER_ROUTE) ? c : undefined;
    },
    'the refused calls to be counted',
    20_000,
  );
  for (const r of ROUTES) {
    assertEquals(after.refused[r.fn] - before.refused[r.fn], PER_ROUTE, `${r.fn}: every refusal counted once`);
    assertEquals(after.client_errors[r.fn] - before.client_errors[r.fn], PER_ROUTE, `${r.fn}: the admin metrics count them`);
  }
  const [{ rows }] = await withDb(
    (sql) => sql<{ rows: number }[]>`
    select count(*)::int as rows from ops.api_calls where request_id like ${prefix + '-%'}`,
  );
  assertEquals(rows, 0, 'no call of the flood has a row of its own');
  // At most one row per minute, route, status and latency bucket (43 buckets): bounded by the
  // minutes the flood lasted, not by the number of calls.
  const minutes = Math.floor(Date.now() / 60_000) - Math.floor(since.getTime() / 60_000) + 1;
  const grown = after.refused_rows - before.refused_rows;
  assertOk(grown <= ROUTES.length * minutes * BUCKETS, `${grown} counter rows for ${2 * PER_ROUTE} calls over ${minutes} minute(s)`);
  assertOk(grown * 10 < ROUTES.length * PER_ROUTE, `${grown} counter rows: far fewer than calls`);
  assertOk(after.api_calls - before.api_calls < 100, `${after.api_calls - before.api_calls} api_calls rows meanwhile (other traffic only)`);
});
