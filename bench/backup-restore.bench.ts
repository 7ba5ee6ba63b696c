// Backup and restore of 1 million tenant rows (video_metrics of one workspace, plus its 1,000
// videos): our in-database snapshot (ops.take_snapshot) and one-workspace restore
// (ops.restore_workspace, verified against checksums) against pg_dump / pg_restore of the same
// tables in the same run. The baseline restore is data-only into a schema-only copy of the
// database, made before the clock starts, with triggers disabled as ours are. Target: within 2x.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { pgToolConnection, withDatabase } from '../tools/backup/cli.ts';
import { restorableToc } from '../tools/backup/restore.ts';
import { benchDatabase, writeResult } from './lib.ts';

const VIDEOS = 1_000;
const DAYS = Number(process.env.BENCH_BACKUP_DAYS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS_BACKUP ?? 3);
const EMAIL = 'backup-bench@example.com';
const TARGET = 'bench_backup_target';

const p = await benchDatabase();
const sql = postgres(p.dbUrl, { max: 1, onnotice: () => {} });
const work = mkdtempSync(join(tmpdir(), 'cce-bench-backup-'));

function run(cmd: string, args: string[], url: string) {
  const conn = pgToolConnection(url);
  const r = spawnSync(cmd, [...args, `--dbname=${conn.dbname}`], { env: conn.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
}

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

try {
  // Fixture: a dedicated workspace with VIDEOS videos x DAYS days of metrics.
  await sql`delete from public.workspaces where created_by in (select id from auth.users where email = ${EMAIL})`;
  await sql`delete from auth.users where email = ${EMAIL}`;
  await sql`delete from ops.backups where kind = 'snapshot' and details ->> 'triggered_by' = 'bench'`;
  const [{ id: userId }] = await sql`
    insert into auth.users (id, email, aud, role, raw_app_meta_data, raw_user_meta_data)
    values (gen_random_uuid(), ${EMAIL}, 'authenticated', 'authenticated', '{}', '{}') returning id`;
  const [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${userId}`;
  const [{ id: channel }] = await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    values (${ws}, 'UCbackupbench' || substr(md5(random()::text), 1, 8), 'Backup bench') returning id`;
  await sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title)
    select ${ws}, ${channel}, 'bk' || substr(md5(${ws}::text), 1, 6) || i, 'Video ' || i from generate_series(1, ${VIDEOS}) i`;
  await sql`
    insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched, average_view_duration,
      average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
    select v.workspace_id, v.id, date '2023-01-01' + d, (d * 37) % 5000, ((d * 13) % 900) / 7.0, 31.5, 42.25,
      d % 50, d % 7, d % 3, d % 5, d % 2
    from public.videos v cross join generate_series(1, ${DAYS}) d where v.workspace_id = ${ws}`;
  await sql`vacuum analyze public.video_metrics`;
  const [{ rows: workspaceRows }] = await sql`select count(*)::int as rows from public.video_metrics where workspace_id = ${ws}`;
  const tables = (await sql<{ tbl: string }[]>`select tbl::text as tbl from ops.backup_tables()`).map((t) => t.tbl);
  const [{ rows: tableRows }] = await sql.unsafe(
    `select (${tables.map((t) => `(select count(*) from ${t})`).join(' + ')})::bigint as rows`,
  );
  console.log(
    `fixture: ${workspaceRows} video_metrics rows in the bench workspace; ${tableRows} rows in the ${tables.length} tenant tables`,
  );

  // Baseline target: a schema-only copy of the database (untimed).
  const schemaDump = join(work, 'schema.dump');
  run('pg_dump', ['--format=custom', '--schema-only', `--file=${schemaDump}`], p.dbUrl);
  const dataTables = [...tables, 'public.profiles', 'auth.users'];
  const results: Record<string, number[]> = { snapshot: [], restore_workspace: [], pg_dump: [], pg_restore: [] };
  let dumpBytes = 0;
  let snapshotBytes = 0;

  for (let round = 0; round < ROUNDS; round++) {
    await sql.unsafe(`drop database if exists ${TARGET} with (force)`);
    await sql.unsafe(`create database ${TARGET}`);
    const toc = join(work, 'schema.toc');
    restorableToc(schemaDump, toc);
    run('pg_restore', [`--use-list=${toc}`, '--exit-on-error', schemaDump], withDatabase(p.dbUrl, TARGET));

    let snapshotId = 0;
    results.snapshot.push(
      await timed(async () => {
        // ops.take_snapshot refuses read committed: every table is read at one moment
        [{ id: snapshotId }] = await sql.begin('isolation level repeatable read', (tx) => tx`select ops.take_snapshot('bench') as id`);
      }),
    );
    const [{ status }] = await sql`select status from ops.backups where id = ${snapshotId}`;
    if (status !== 'succeeded') throw new Error(`snapshot ${snapshotId} ${status}`);
    [{ bytes: snapshotBytes }] =
      await sql`select sum(pg_column_size(rows))::bigint as bytes from ops.snapshot_chunks where backup_id = ${snapshotId}`;
    await sql`delete from public.video_metrics where workspace_id = ${ws} and day > date '2023-01-01' + ${DAYS / 2}::int`;
    results.restore_workspace.push(await timed(() => sql`select ops.restore_workspace(${snapshotId}, ${ws})`));

    const dataDump = join(work, `data-${round}.dump`);
    results.pg_dump.push(
      await timed(() =>
        run('pg_dump', ['--format=custom', '--data-only', ...dataTables.map((t) => `--table=${t}`), `--file=${dataDump}`], p.dbUrl),
      ),
    );
    dumpBytes = statSync(dataDump).size;
    results.pg_restore.push(
      await timed(() =>
        run('pg_restore', ['--data-only', '--disable-triggers', '--exit-on-error', dataDump], withDatabase(p.dbUrl, TARGET)),
      ),
    );
    await sql`delete from ops.backups where id = ${snapshotId}`;
  }
  const best = (xs: number[]) => Math.round(Math.min(...xs));
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
  const ms = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { median: median(v), best: best(v), all: v.map(Math.round) }]));
  const backupRatio = median(results.snapshot) / median(results.pg_dump);
  const restoreRatio = median(results.restore_workspace) / median(results.pg_restore);
  writeResult('backup-restore', {
    workspace_video_metrics_rows: workspaceRows,
    tenant_table_rows: Number(tableRows),
    rounds: ROUNDS,
    ms,
    bytes: { pg_dump_custom: dumpBytes, snapshot_text_lz4: Number(snapshotBytes) },
    ratio: { snapshot_vs_pg_dump: Math.round(backupRatio * 100) / 100, restore_vs_pg_restore: Math.round(restoreRatio * 100) / 100 },
    target: 'both ratios <= 2',
    met: backupRatio <= 2 && restoreRatio <= 2,
    note: 'snapshot = every tenant table of the database (as pg_dump of the same tables); restore_workspace = the bench workspace, verified by checksums; pg_restore = data-only into a schema-only copy, triggers disabled',
  });
} finally {
  await sql.unsafe(`drop database if exists ${TARGET} with (force)`);
  await sql`delete from ops.backups where kind = 'snapshot' and details ->> 'triggered_by' = 'bench'`;
  await sql`delete from public.workspaces where created_by in (select id from auth.users where email = ${EMAIL})`;
  await sql`delete from auth.users where email = ${EMAIL}`;
  await sql.end();
  rmSync(work, { recursive: true, force: true });
}
