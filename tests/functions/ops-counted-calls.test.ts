// Anonymous health calls are counted, not recorded one by one: a call writes nothing to the
// database (no ops.api_calls row, no limiter upsert while its address is far from the limit);
// the instance adds its counts to ops.api_calls_counted at most 10 s later, and admin metrics
// count every call. What an instance loses when it is shut down: nothing after the platform's
// `beforeunload`, only its unwritten counts when it is killed outright.
import { assertEquals, assertOk } from './assert.ts';
import { callFunction, withDb } from './helpers/users.ts';
import { eventually, requestId } from './helpers/ops.ts';
import { helperResult } from './helpers/process.ts';

interface State {
  rows: number;
  counted: number;
  tally: number;
  limiter: { client: string; count: number }[];
}

interface Counted {
  statuses: number[];
  spread: State;
  beforeFlush: State;
  afterFlush: State;
  flushed: State;
  afterUnload: State;
}

async function countedProcess(mode: 'flush' | 'retire', name: string): Promise<Counted> {
  return await helperResult(
    'counted-calls.ts',
    [mode, name],
    { MAX_ANONYMOUS_REQUESTS_PER_MINUTE: '100', ENABLE_RATE_LIMITING: 'true', ENABLE_ANALYTICS: 'true', TRUSTED_PROXY_HOPS: '0' },
    'the counting process ran',
  );
}

Deno.test('130 anonymous calls write no row and no limiter upsert far from the limit; the flush counts them all', async () => {
  const name = `ops-test-counted-${crypto.randomUUID().slice(0, 8)}`;
  const r = await countedProcess('flush', name);
  assertEquals(r.statuses.length, 130);
  assertOk(
    r.statuses.every((s) => s === 200),
    'every call was served',
  );
  // 20 addresses × 5 calls: each far from its limit (100 a minute), so no shared count was asked.
  assertEquals([r.spread.rows, r.spread.counted, r.spread.limiter], [0, 0, []], 'nothing written for 100 spread calls');
  // One address × 30: the shared count is asked every tenth of the limit (3 upserts), exactly.
  assertEquals(r.beforeFlush.limiter, [{ client: '198.51.100.200', count: 30 }]);
  assertEquals([r.beforeFlush.rows, r.beforeFlush.counted], [0, 0], 'no call row and no counter before the flush');
  assertEquals([r.afterFlush.rows, r.afterFlush.counted, r.afterFlush.tally], [0, 130, 130], 'the flush counted every call');
});

Deno.test('a shut-down instance writes its counts at beforeunload; a killed one loses only what it had not written', async () => {
  const name = `ops-test-retired-${crypto.randomUUID().slice(0, 8)}`;
  const r = await countedProcess('retire', name);
  assertEquals(r.statuses.length, 80);
  assertEquals(r.flushed.counted, 40, 'the first 40, flushed on time');
  assertEquals(r.afterUnload.counted, 65, 'the next 25, written at beforeunload (before the flush period ended)');
  const [after] = await withDb(
    (sql) => sql`select coalesce(sum(calls), 0)::int as n from ops.api_calls_counted where function_name = ${name}`,
  );
  assertEquals(after.n, 65, 'the 15 calls after it, never written, are what a killed instance loses');
});

Deno.test('an anonymous health call through the gateway is counted, not recorded, and admin metrics count it', async () => {
  const since = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const id = requestId('counted-health');
  const res = await callFunction(null, 'health', { headers: { 'x-request-id': id } });
  assertEquals(res.status, 200);
  // A call with a token is still a row: the one after is written within the tracking batch (20 ms).
  const later = requestId('counted-health-user');
  await callFunction(Deno.env.get('SUPABASE_SERVICE_ROLE_KEY') ?? null, 'health', { headers: { 'x-request-id': later } });
  await eventually(
    () => withDb(async (sql) => (await sql`select 1 from ops.api_calls where request_id = ${later}`)[0]),
    "the service call's row",
  );
  const rows = await withDb((sql) => sql`select 1 from ops.api_calls where request_id = ${id}`);
  assertEquals(rows.length, 0, 'no ops.api_calls row for the anonymous call');
  const counted = await eventually(
    () =>
      withDb(async (sql) => {
        const [c] = await sql`select coalesce(sum(calls), 0)::int as n from ops.api_calls_counted
        where function_name = 'health' and endpoint = '/' and method = 'GET' and status = 200 and minute >= ${since}`;
        return c.n >= 1 ? c.n : undefined;
      }),
    'health counted in ops.api_calls_counted',
    20_000,
  );
  assertOk(counted >= 1);
  const [metrics] = await withDb((sql) => sql`select ops.api_metrics(${since}, 'minute', 'health') as m`);
  assertOk(
    Number(metrics.m.total_requests) >= counted + 1,
    `admin metrics count counted calls too: ${JSON.stringify(metrics.m.total_requests)}`,
  );
});
