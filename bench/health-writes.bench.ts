// What anonymous `health` calls cost the database: writes and WAL per call over BENCH_CALLS
// (default 200) sequential anonymous calls through the gateway, measured with
// pg_current_wal_lsn / pg_stat_wal (WAL) and pg_stat_user_tables (rows inserted / updated per
// table), against an idle phase of the same length in the minute before (pg_cron's every-minute
// jobs write too; both phases start a few seconds after the minute so that those jobs fall
// outside them). The calls phase includes the wait for the deferred writes (the flush of per-minute
// counters), so what is written later is counted too.
//
// Results: bench/results/<BENCH_LABEL or health-writes>.json. Runs against its own stack (or a
// running one named by the env, whose MAX_ANONYMOUS_REQUESTS_PER_MINUTE must allow the calls).
import postgres from 'postgres';
import { benchStack, writeResult } from './lib.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 200);
// Long enough for deferred counters to be flushed and every backend's statistics to be reported
// (Postgres reports an idle backend's table counters within 10 s).
const SETTLE_MS = 22_000;

// All calls come from 127.0.0.1: the per-address limit must not refuse them.
process.env.MAX_ANONYMOUS_REQUESTS_PER_MINUTE ??= '1000000';

type Sql = ReturnType<typeof postgres>;

interface Snapshot {
  lsn: string;
  walRecords: number;
  tables: Map<string, { ins: number; upd: number; del: number }>;
  commits: number;
}

async function snapshot(sql: Sql): Promise<Snapshot> {
  const [w] = await sql`select pg_current_wal_lsn()::text as lsn, (select wal_records from pg_stat_wal)::bigint as records,
    (select xact_commit from pg_stat_database where datname = current_database())::bigint as commits`;
  const rows =
    await sql`select schemaname || '.' || relname as name, n_tup_ins::bigint as ins, n_tup_upd::bigint as upd, n_tup_del::bigint as del
    from pg_stat_user_tables`;
  return {
    lsn: w.lsn,
    walRecords: Number(w.records),
    commits: Number(w.commits),
    tables: new Map(rows.map((r) => [r.name as string, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del) }])),
  };
}

async function delta(sql: Sql, a: Snapshot, b: Snapshot) {
  const [bytes] = await sql`select pg_wal_lsn_diff(${b.lsn}::pg_lsn, ${a.lsn}::pg_lsn)::bigint as n`;
  const tables: Record<string, { inserted: number; updated: number; deleted: number }> = {};
  let writes = 0;
  for (const [name, after] of b.tables) {
    const before = a.tables.get(name) ?? { ins: 0, upd: 0, del: 0 };
    const d = { inserted: after.ins - before.ins, updated: after.upd - before.upd, deleted: after.del - before.del };
    if (d.inserted || d.updated || d.deleted) tables[name] = d;
    writes += d.inserted + d.updated + d.deleted;
  }
  return {
    wal_bytes: Number(bytes.n),
    wal_records: b.walRecords - a.walRecords,
    row_writes: writes,
    commits: b.commits - a.commits,
    tables,
  };
}

/** Waits until `second` seconds into the next minute, so pg_cron's jobs (at :00) have run. */
async function atSecondOfNextMinute(second: number) {
  const now = Date.now();
  const next = Math.ceil((now + 1) / 60_000) * 60_000 + second * 1000;
  await new Promise((r) => setTimeout(r, next - now));
}

async function measure(sql: Sql, work: () => Promise<void>) {
  await atSecondOfNextMinute(6);
  const before = await snapshot(sql);
  const started = performance.now();
  await work();
  const workMs = performance.now() - started;
  const [lsnAfterWork] = await sql`select pg_current_wal_lsn()::text as lsn`;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const after = await snapshot(sql);
  const [duringWork] = await sql`select pg_wal_lsn_diff(${lsnAfterWork.lsn}::pg_lsn, ${before.lsn}::pg_lsn)::bigint as n`;
  return { work_ms: Math.round(workMs), wal_bytes_until_last_answer: Number(duringWork.n), ...(await delta(sql, before, after)) };
}

const stack = await benchStack();
const sql = postgres(stack.env.SUPABASE_DB_URL!, { max: 1, onnotice: () => {} });
try {
  const url = `${stack.env.SUPABASE_URL}/functions/v1/health`;
  const call = async () => {
    const res = await fetch(url, { headers: { apikey: stack.env.SUPABASE_ANON_KEY! } });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`health answered ${res.status}`);
  };
  for (let i = 0; i < 5; i++) await call(); // warm isolate, lease and connections
  const since = new Date();
  const idle = await measure(sql, () => new Promise((r) => setTimeout(r, 3_000)));
  const calls = await measure(sql, async () => {
    for (let i = 0; i < CALLS; i++) await call();
  });
  const [tracked] = await sql`select
    (select count(*)::int from ops.api_calls where function_name = 'health' and at >= ${since}) as rows,
    (select coalesce(sum(calls), 0)::int from ops.api_calls_counted where function_name = 'health' and minute >= date_trunc('minute', ${since}::timestamptz))
      as counted`.catch(
    async () =>
      await sql`select
    (select count(*)::int from ops.api_calls where function_name = 'health' and at >= ${since}) as rows, 0 as counted`,
  );
  const per = (n: number) => Math.round((n / CALLS) * 100) / 100;
  const net = {
    wal_bytes: calls.wal_bytes - idle.wal_bytes,
    row_writes: calls.row_writes - idle.row_writes,
    commits: calls.commits - idle.commits,
  };
  writeResult(process.env.BENCH_LABEL ?? 'health-writes', {
    calls: CALLS,
    // While the calls ran (WAL only: table statistics are reported later).
    per_call_until_last_answer: { wal_bytes: per(calls.wal_bytes_until_last_answer) },
    // The whole calls phase, deferred writes included; also the probe leases' own writes (every
    // 30 s, whoever calls) and whatever else the stack wrote meanwhile.
    per_call_gross: { wal_bytes: per(calls.wal_bytes), row_writes: per(calls.row_writes), commits: per(calls.commits) },
    // Minus the idle phase: meaningful only when nothing else (a checkpoint, a roll-up) wrote in either.
    per_call: { wal_bytes: per(net.wal_bytes), row_writes: per(net.row_writes), commits: per(net.commits) },
    net_of_idle: net,
    calls_phase: calls,
    idle_phase: idle,
    tracked: {
      api_calls_rows: tracked.rows,
      counted_calls: tracked.counted,
      note: 'health calls since the warm-up, including the warm-up and any pg_cron health call',
    },
  });
} finally {
  await sql.end();
  await stack.stop();
}
