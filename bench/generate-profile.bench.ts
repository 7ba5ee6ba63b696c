// Where a generation's time goes, to explain generate-overhead's figures: the same request and
// channel (bench/generate-fixture.ts), called in two blocks (insights reused within the minute,
// then `Cache-Control: no-cache`), each block measured by
//   - the edge runtime's own record of every invocation (CPU, wall clock, isolates booted:
//     an isolate that retires takes its insights cache with it),
//   - pg_stat_statements: the statements one generation sends and their execution time,
//   - EXPLAIN ANALYZE of prepare()'s read as the caller (role check, insights, own outcomes).
// Runs against the stack its env names (npm run bench with a loaded stack.env) or its own.
import postgres from 'postgres';
import { benchStack, edgeCosts, stats, writeResult } from './lib.ts';
import { createGenerationFixture, generateRequest } from './generate-fixture.ts';

const CALLS = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARMUP = 20;
const TOP_STATEMENTS = 12;

process.env.ENABLE_RATE_LIMITING = 'false';
const stack = await benchStack();
const env = stack.env as Record<string, string>;
const sql = postgres(env.SUPABASE_DB_URL, { max: 1, prepare: false, onnotice: () => {} });
const costs = edgeCosts(env.LOCAL_FUNCTIONS_URL);

type Statement = { query: string; calls: number; mean_ms: number; total_ms: number };

/** What the database ran since the last reset (pg_cron's jobs included), per generation. */
async function statementsPerCall(calls: number) {
  const rows = await sql<Statement[]>`
    select left(regexp_replace(s.query, '[[:space:]]+', ' ', 'g'), 160) as query, s.calls::int as calls,
      round(s.mean_exec_time::numeric, 3)::float8 as mean_ms, round(s.total_exec_time::numeric, 1)::float8 as total_ms
    from pg_stat_statements s join pg_roles r on r.oid = s.userid
    where r.rolname in ('authenticated', 'service_role', 'postgres', 'authenticator')
      and s.query !~* 'pg_stat_statements'
    order by s.total_exec_time desc`;
  const all = rows.reduce((a, r) => a + r.calls, 0);
  const commits = rows.filter((r) => /^commit$/i.test(r.query.trim())).reduce((a, r) => a + r.calls, 0);
  return {
    transactions_per_call: Math.round((commits / calls) * 100) / 100,
    statements_per_call: Math.round((all / calls) * 10) / 10,
    exec_ms_per_call: Math.round((rows.reduce((a, r) => a + r.total_ms, 0) / calls) * 100) / 100,
    top: rows.slice(0, TOP_STATEMENTS).map((r) => ({ ...r, per_call: Math.round((r.calls / calls) * 100) / 100 })),
  };
}

async function block(call: () => Promise<Response>) {
  for (let i = 0; i < WARMUP; i++) await (await call()).arrayBuffer();
  await sql`select pg_stat_statements_reset()`;
  const mark = await costs.mark();
  const wall: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    const res = await call();
    await res.arrayBuffer();
    wall.push(performance.now() - t0);
    if (res.status !== 201) throw new Error(`generate-content answered ${res.status}`);
  }
  await new Promise((r) => setTimeout(r, 300));
  const inv = await costs.since(mark, 'generate-content');
  return {
    client_ms: stats(wall),
    edge: {
      ...costs.summary(inv),
      wall_ms: stats(inv.map((i) => i.wall_ms)),
      cpu_ms_mean: Math.round((inv.reduce((a, i) => a + i.cpu_ms, 0) / inv.length) * 100) / 100,
      isolates_booted: inv.filter((i) => i.isolate_request === 1).length,
    },
    database: await statementsPerCall(CALLS),
  };
}

try {
  const fx = await createGenerationFixture(sql, env);
  const reused = await block(generateRequest(env, fx, {}));
  const uncached = await block(generateRequest(env, fx, { 'cache-control': 'no-cache' }));
  // prepare()'s statement as the caller, on the fixture's data; the text mirrors the handler's.
  const plan = await sql.begin(async (tx) => {
    await tx.unsafe(
      `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true),
      set_config('request.jwt.claim.sub', $2, true)`,
      [JSON.stringify({ sub: fx.userId, role: 'authenticated' }), fx.userId],
    );
    return await tx.unsafe(
      `explain (analyze, buffers, format text)
       with allowed as materialized (select public.require_workspace_role($1, 'editor', 'generate content') as caller)
       select public.workspace_insights_cached($1, null) as doc,
         (select coalesce(jsonb_agg(jsonb_build_object('title', l.schedule ->> 'title', 'score', o.score) order by l.published_at desc), '[]')
            from (select * from public.upload_lineage x where x.workspace_id = $1 order by x.published_at desc limit 8) l
            join lateral (select * from public.video_outcomes v where v.youtube_video_id = l.youtube_video_id
                          order by v.age_days desc limit 1) o on true) as own
       from allowed`,
      [fx.workspaceId],
    );
  });
  writeResult('generate-profile', {
    calls_per_block: CALLS,
    reused_insights: reused,
    uncached: uncached,
    prepare_plan: plan.map((r) => (r as Record<string, string>)['QUERY PLAN']),
  });
} finally {
  await sql.end({ timeout: 5 });
  await stack.stop();
}
