// The nightly snapshot (ops.take_snapshot: every tenant table, one consistent read) and a
// one-workspace restore, verified by checksums, with N tenant rows in the database: one workspace
// of 1,000 videos holding N video_metrics rows (N / 1,000 days each). Half of its days are
// deleted before each restore, so the restore has real work to redo.
//
// The restore is measured both ways in the same run: the former single transaction
// (ops.restore_workspace) and the stepped job the backups function runs (ops.start_restore then
// ops.restore_step until done). With LOCAL_FUNCTIONS_URL set (SUPABASE_DB_URL then names that
// stack's database) the steps chain through pg_net and the edge runtime with the hosted limits,
// and each invocation's wall and CPU are read from it; without, the benchmark calls the steps
// itself, one transaction each, as the function does. SCALING_BACKUP_SINGLE=0 skips the single
// transaction (at 10 M rows it takes minutes).
import { edgeCosts } from '../lib.ts';
import { baseline, load, makeUser, requireFreeDisk, timed, type Point, type Sql } from './common.ts';

const VIDEOS = 1_000;
const EMAIL = 'scaling-backup@example.com';

async function fixture(sql: Sql, rows: number) {
  await dropBackup(sql);
  await requireFreeDisk(rows * 600, `backup fixture of ${rows} rows`);
  const { workspaceId } = await makeUser(sql, EMAIL);
  const [{ id: channel }] = await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    values (${workspaceId}, 'UCsb' || substr(md5(random()::text), 1, 18), 'Backup scaling') returning id`;
  await sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title)
    select ${workspaceId}, ${channel}, 'sb' || substr(md5(${workspaceId}::text), 1, 6) || i, 'Video ' || i from generate_series(1, ${VIDEOS}) i`;
  const days = Math.ceil(rows / VIDEOS);
  // Metrics with triggers and foreign-key checks off (this transaction only; the rows are valid by
  // construction): per row they cost more than the insert. The per-video totals the sync's
  // trigger would have kept, and the cache version it would have bumped, are written after.
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    for (let from = 0; from < days; from += 1000) {
      await tx`
        insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched, average_view_duration,
          average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
        select v.workspace_id, v.id, date '2000-01-01' + d, (d * 37) % 5000, ((d * 13) % 900) / 7.0, 31.5, 42.25, d % 50, d % 7, d % 3, d % 5, d % 2
        from public.videos v cross join generate_series(${from + 1}::int, ${Math.min(days, from + 1000)}::int) d where v.workspace_id = ${workspaceId}`;
    }
    await tx`set local session_replication_role = origin`;
    await tx`
      insert into private.video_metric_totals (video_id, views, views_first_28_days, weighted_view_percentage, interactions, subscribers_net, last_day)
      select m.video_id, sum(m.views),
        coalesce(sum(m.views) filter (where m.day between private.publish_day(v.published_at) and private.publish_day(v.published_at) + 27), 0),
        sum(m.average_view_percentage * m.views), sum(m.likes + m.comments + m.shares),
        sum(m.subscribers_gained - m.subscribers_lost), max(m.day)
      from public.videos v join public.video_metrics m on m.video_id = v.id
      where v.workspace_id = ${workspaceId}
      group by m.video_id order by m.video_id`;
    await tx`
      insert into ops.cache_versions as c (scope, version, bumped_at) values (${workspaceId}::text, 1, now())
      on conflict (scope) do update set version = c.version + 1, bumped_at = now()`;
  });
  await sql`vacuum analyze public.video_metrics`;
  return { workspaceId, days };
}

export async function measureBackup(sql: Sql, rows: number): Promise<Point> {
  const [loadMs, { workspaceId, days }] = await timed(() => fixture(sql, rows));
  // The snapshot takes every tenant table of the database, not only this workspace's rows.
  const tables = (await sql<{ tbl: string }[]>`select tbl::text as tbl from ops.backup_tables()`).map((t) => t.tbl);
  const [{ rows: tenantRows }] = await sql.unsafe(
    `select (${tables.map((t) => `(select count(*) from ${t})`).join(' + ')})::bigint as rows`,
  );
  const base = await baseline(sql);
  const [snapshotMs, [{ id }]] = await timed(() =>
    sql.begin('isolation level repeatable read', (tx) => tx`select ops.take_snapshot('bench') as id`),
  );
  const [{ status }] = await sql`select status from ops.backups where id = ${id}`;
  if (status !== 'succeeded') throw new Error(`snapshot ${id} ${status}`);
  const wreck = () =>
    sql`delete from public.video_metrics where workspace_id = ${workspaceId} and day > date '2000-01-01' + ${Math.floor(days / 2)}::int`;
  const restoredRows = async () => {
    const [{ n }] = await sql`select count(*)::bigint as n from public.video_metrics where workspace_id = ${workspaceId}`;
    if (Number(n) !== VIDEOS * days) throw new Error(`restore left ${n} rows, expected ${VIDEOS * days}`);
    return Number(n);
  };
  let restoreMs: number | null = null;
  if (process.env.SCALING_BACKUP_SINGLE !== '0') {
    await wreck();
    [restoreMs] = await timed(() => sql`select ops.restore_workspace(${id}, ${workspaceId})`);
    await restoredRows();
  }
  await wreck();
  const [steppedMs, stepped] = await timed(() => steppedRestore(sql, id, workspaceId));
  const n = await restoredRows();
  await sql`delete from ops.backups where id = ${id}`;
  return {
    size: rows,
    value: Math.round(snapshotMs + steppedMs),
    baseline_p95_ms: base,
    load_average: load(),
    details: {
      tenant_rows_in_database: Number(tenantRows),
      snapshot_ms: Math.round(snapshotMs),
      single_transaction_restore_ms: restoreMs === null ? null : Math.round(restoreMs),
      stepped_restore_ms: Math.round(steppedMs),
      stepped_restore: stepped,
      rows_restored: n,
      fixture_load_ms: Math.round(loadMs),
    },
  };
}

/** The stepped restore from start to verified end: steps, slowest step, time per phase. */
async function steppedRestore(sql: Sql, snapshotId: string, workspaceId: string) {
  const edge = process.env.LOCAL_FUNCTIONS_URL ? edgeCosts(process.env.LOCAL_FUNCTIONS_URL) : null;
  const mark = edge ? await edge.mark() : 0;
  const [{ id }] = await sql`select ops.start_restore(${snapshotId}, ${workspaceId}, null) as id`;
  for (;;) {
    // without the functions, the benchmark is the chain: one transaction per step
    if (!edge) await sql`select ops.restore_step(${id})`;
    else await new Promise((r) => setTimeout(r, 500));
    const [job] = await sql`select status, error_code, error_message from private.restore_jobs where id = ${id}`;
    if (job.status === 'failed') throw new Error(`restore ${id} failed: ${job.error_code} ${job.error_message}`);
    if (job.status === 'succeeded') break;
  }
  const [job] = await sql`
    select steps, max_step_ms, phase_ms, step_budget_ms, extract(epoch from finished_at - started_at) * 1000 as total_ms
    from private.restore_jobs where id = ${id}`;
  const calls = edge ? (await edge.since(mark, 'backups')).filter((i) => i.path.endsWith('/restores/step')) : [];
  return {
    via: edge ? 'pg_net chain through the edge runtime (hosted limits on)' : 'steps called by the benchmark',
    steps: job.steps,
    step_budget_ms: job.step_budget_ms,
    max_step_db_ms: job.max_step_ms,
    phase_ms: job.phase_ms,
    job_total_ms: Math.round(Number(job.total_ms)),
    ...(edge
      ? {
          invocations: calls.length,
          max_invocation_wall_ms: Math.max(...calls.map((c) => c.wall_ms)),
          max_invocation_cpu_ms: Math.max(...calls.map((c) => c.cpu_ms)),
          worker_limit_546: calls.filter((c) => c.status === 546).length,
        }
      : {}),
  };
}

export async function dropBackup(sql: Sql) {
  await sql`delete from ops.backups where kind = 'snapshot' and details ->> 'triggered_by' = 'bench'`;
  await sql`delete from public.workspaces where created_by in (select id from auth.users where email = ${EMAIL})`;
  await sql`delete from auth.users where email = ${EMAIL}`;
}
