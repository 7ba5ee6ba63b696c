// A separate process for the counted-calls tests (env is read once per process, and the counts
// must be this process's own): serves anonymous calls of a function that counts them
// (createHandler's countAnonymous, as health does) in-process, under its own function name, and
// reads the database at each step. Prints one JSON object.
//
//   counted-calls.ts flush <name>   20 addresses × 5 calls, then one address × 30 calls; what the
//                                   database holds before the flush and after it
//   counted-calls.ts retire <name>  40 calls, flushed; 25 more, then the `beforeunload` the
//                                   platform sends before shutting an instance down; 15 more, then
//                                   the process exits at once (as a killed instance does)
import { closeDb, sql } from '../../../supabase/functions/_shared/platform/db.ts';
import { createHandler } from '../../../supabase/functions/_shared/platform/handler.ts';
import { json, Router } from '../../../supabase/functions/_shared/platform/http.ts';
import { backgroundSettled } from '../../../supabase/functions/_shared/platform/observability/background.ts';

const [mode, name] = Deno.args;
const handler = createHandler(
  new Router(name).on('GET', '/', () => Promise.resolve(json({ ok: true }))),
  { rateLimit: false, countAnonymous: true },
);
// All calls in one minute window: start again at the next minute when this one is nearly over.
const intoMinute = Date.now() % 60_000;
if (intoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));

const requestIds: string[] = [];
async function call(address: string): Promise<number> {
  const id = `${name}-${crypto.randomUUID()}`.slice(0, 64);
  requestIds.push(id);
  const res = await handler(new Request(`http://local/${name}`, { headers: { 'x-forwarded-for': address, 'x-request-id': id } }));
  await res.body?.cancel();
  return res.status;
}

interface State {
  rows: number;
  counted: number;
  tally: number;
  limiter: { client: string; count: number }[];
}

async function state(): Promise<State> {
  const [s] = await sql()<{ rows: number; counted: number; tally: number }[]>`select
    (select count(*)::int from ops.api_calls where request_id = any (${requestIds}) or function_name = ${name}) as rows,
    (select coalesce(sum(calls), 0)::int from ops.api_calls_counted where function_name = ${name}) as counted,
    (select coalesce(sum(calls), 0)::int from ops.api_call_tally where function_name = ${name}) as tally`;
  const limiter = await sql()`select host(client) as client, count from ops.anonymous_rate_limits
    where client <<= '198.51.100.0/24'::cidr and window_start = date_trunc('minute', now()) order by 1`;
  return { ...s, limiter: limiter.map((r) => ({ client: r.client, count: r.count })) };
}

const statuses: number[] = [];
if (mode === 'flush') {
  for (let round = 0; round < 5; round++) for (let a = 1; a <= 20; a++) statuses.push(await call(`198.51.100.${a}`));
  const spread = await state();
  for (let i = 0; i < 30; i++) statuses.push(await call('198.51.100.200'));
  const beforeFlush = await state();
  await backgroundSettled();
  console.log(JSON.stringify({ statuses, spread, beforeFlush, afterFlush: await state() }));
} else {
  for (let i = 0; i < 40; i++) statuses.push(await call('198.51.100.201'));
  await backgroundSettled();
  const flushed = await state();
  for (let i = 0; i < 25; i++) statuses.push(await call('198.51.100.201'));
  globalThis.dispatchEvent(new Event('beforeunload'));
  // Written at once, not at the end of the flush period: wait only for the write itself.
  const deadline = Date.now() + 5_000;
  let afterUnload = await state();
  while (afterUnload.counted < 65 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    afterUnload = await state();
  }
  for (let i = 0; i < 15; i++) statuses.push(await call('198.51.100.201'));
  console.log(JSON.stringify({ statuses, flushed, afterUnload }));
  await closeDb().catch(() => {});
  Deno.exit(0);
}
await closeDb();
