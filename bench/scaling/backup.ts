// The nightly snapshot (ops.take_snapshot: every tenant table, one consistent read) and a
// one-workspace restore (ops.restore_workspace, verified by checksums) with N tenant rows in the
// database: one workspace of 1,000 videos holding N video_metrics rows (N / 1,000 days each).
// Half of its days are deleted before the restore, so the restore has real work to redo.
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
  await sql`delete from public.video_metrics where workspace_id = ${workspaceId} and day > date '2000-01-01' + ${Math.floor(days / 2)}::int`;
  const [restoreMs] = await timed(() => sql`select ops.restore_workspace(${id}, ${workspaceId})`);
  const [{ n }] = await sql`select count(*)::bigint as n from public.video_metrics where workspace_id = ${workspaceId}`;
  if (Number(n) !== VIDEOS * days) throw new Error(`restore left ${n} rows, expected ${VIDEOS * days}`);
  await sql`delete from ops.backups where id = ${id}`;
  return {
    size: rows,
    value: Math.round(snapshotMs + restoreMs),
    baseline_p95_ms: base,
    load_average: load(),
    details: {
      tenant_rows_in_database: Number(tenantRows),
      snapshot_ms: Math.round(snapshotMs),
      restore_workspace_ms: Math.round(restoreMs),
      rows_restored: Number(n),
      fixture_load_ms: Math.round(loadMs),
    },
  };
}

export async function dropBackup(sql: Sql) {
  await sql`delete from ops.backups where kind = 'snapshot' and details ->> 'triggered_by' = 'bench'`;
  await sql`delete from public.workspaces where created_by in (select id from auth.users where email = ${EMAIL})`;
  await sql`delete from auth.users where email = ${EMAIL}`;
}
