-- Backups: snapshot counts and checksums, a disaster drill for one workspace (snapshot, destroy,
-- restore, compare) that leaves another workspace untouched, a tampered snapshot that is refused
-- without changing anything, a snapshot taken before a column change that is refused (CEB01)
-- without changing anything, retention, failure logging, and grants.
-- Repeatable read: ops.take_snapshot refuses read committed (every table must be read at one moment).
begin isolation level repeatable read;
select plan(34);

select tests.create_user('bk_alice');
select tests.create_user('bk_bob');

create temp table ws on commit drop as
select (select w.id from public.workspaces w where w.created_by = tests.get_user_id('bk_alice') and w.personal) as alice,
       (select w.id from public.workspaces w where w.created_by = tests.get_user_id('bk_bob') and w.personal) as bob;
select tests.create_fixture_rows((select alice from ws), tests.get_user_id('bk_alice'));
select tests.create_fixture_rows((select bob from ws), tests.get_user_id('bk_bob'));
-- a recognisable password hash, to show that the user list never copies it
update auth.users set encrypted_password = '$2a$10$bkNeverInASnapshot' where id = tests.get_user_id('bk_alice');

-- Section: snapshot
create temp table snap on commit drop as select ops.take_snapshot('test') as id;

select is((select status from ops.backups where id = (select id from snap)), 'succeeded', 'the snapshot succeeded');
select ok((select count(*) from ops.system_logs l where l.event_type = 'backup_created'
  and (l.context ->> 'backup_id')::bigint = (select id from snap)) = 1, 'backup_created is logged once with the backup id');
select is(
  (select s.row_count from ops.snapshot_tables s where s.backup_id = (select id from snap)
     and s.workspace_id = (select alice from ws) and s.table_name = 'public.videos'),
  (select count(*) from public.videos v where v.workspace_id = (select alice from ws)),
  'the snapshot counts a workspace''s videos');
-- the snapshot writes row texts with these settings, whatever the session's
set local timezone = 'UTC';
set local datestyle = 'ISO, YMD';
select is(
  (select s.checksum from ops.snapshot_tables s where s.backup_id = (select id from snap)
     and s.workspace_id = (select alice from ws) and s.table_name = 'public.workspace_members'),
  (select string_agg(lpad(to_hex((x.s - case when x.s >= 9223372036854775808 then 18446744073709551616 else 0 end)::bigint), 16, '0'), '' order by x.seed)
   from (select v.seed, mod(mod(sum(hashtextextended(m::text, v.seed)), 18446744073709551616) + 18446744073709551616, 18446744073709551616) as s
         from public.workspace_members m cross join (values (0), (1)) v (seed)
         where m.workspace_id = (select alice from ws) group by v.seed) x),
  'the checksum is the row texts'' hashes (seeds 0 and 1) summed modulo 2^64, as hex');
select ok(not exists (
  select 1 from ops.backup_tables() b
  where not exists (select 1 from ops.snapshot_tables s where s.backup_id = (select id from snap)
    and s.workspace_id = (select alice from ws) and s.table_name = b.tbl::text)
    and b.tbl::text in ('public.workspaces', 'public.workspace_members', 'public.channels', 'public.videos',
      'public.video_metrics', 'public.generated_content')),
  'the snapshot holds the workspace''s fixture tables');
select ok((select count(*) from ops.backup_tables() b where b.tbl = 'private.video_metric_totals'::regclass) = 1
    and not exists (select 1 from ops.snapshot_tables s where s.backup_id = (select id from snap) and s.table_name = 'private.channel_credentials'),
  'private content tables (video_metric_totals) are part of the snapshot; channel tokens are not');
select is((select signature from ops.snapshot_row_types where backup_id = (select id from snap) and table_name = 'public.videos'),
  ops.row_type_signature('public.videos'), 'the snapshot records each table''s columns');
select ok(ops.row_type_signature('public.videos') like 'id uuid, workspace_id uuid, %', 'a column signature lists names and types in order');
select ok(exists (select 1 from ops.snapshot_chunks s, unnest(s.rows) u
  where s.backup_id = (select id from snap) and s.table_name = 'auth.users' and (u::ops.snapshot_user).id = tests.get_user_id('bk_alice')),
  'the user list is in the snapshot');
select ok(not exists (select 1 from ops.snapshot_chunks s, unnest(s.rows) u
  where s.backup_id = (select id from snap) and s.table_name = 'auth.users' and strpos(u, '$2a$10$bkNeverInASnapshot') > 0),
  'the user list holds no password hashes');

-- Section: disaster drill
select tests.fingerprint_workspace('alice_before', (select alice from ws));
select tests.fingerprint_workspace('bob_before', (select bob from ws));

delete from public.workspaces where id = (select alice from ws);
update public.workspaces set name = 'bob changed after the snapshot' where id = (select bob from ws);
select tests.fingerprint_workspace('bob_changed', (select bob from ws));
select is((select sum(n) from tests.workspace_fingerprints where label = 'alice_before' and tbl <> 'public.workspaces') > 0, true,
  'the fixture gave alice rows in several tables');
select is((select count(*) from public.videos where workspace_id = (select alice from ws)), 0::bigint,
  'the disaster removed alice''s workspace and its rows');

select lives_ok(format('select ops.restore_workspace(%s, %L)', (select id from snap), (select alice from ws)),
  'restore_workspace brings alice''s workspace back');
select tests.fingerprint_workspace('alice_after', (select alice from ws));
select set_eq(
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_after'$$,
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_before'$$,
  'every table of the restored workspace equals its state at the snapshot');
select tests.fingerprint_workspace('bob_after', (select bob from ws));
select set_eq(
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'bob_after'$$,
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'bob_changed'$$,
  'another workspace keeps its post-snapshot changes (untouched by the restore)');
select ok(exists (select 1 from ops.system_logs l where l.event_type = 'workspace_restored'
  and l.context ->> 'workspace_id' = (select alice from ws)::text), 'the restore is logged');
select ok(exists (select 1 from public.workspace_members m where m.workspace_id = (select alice from ws)
  and m.user_id = tests.get_user_id('bk_alice') and m.role = 'owner'), 'alice is owner again (membership restored)');
select is((select status from public.channels where workspace_id = (select alice from ws)), 'disconnected',
  'a channel that comes back without its tokens (deleted with the workspace) is disconnected');

-- Section: tampered snapshot
delete from public.videos where workspace_id = (select alice from ws);
delete from tests.workspace_fingerprints where label = 'alice_damaged';
select tests.fingerprint_workspace('alice_damaged', (select alice from ws));
update ops.snapshot_chunks s
set rows[1] = jsonb_populate_record(s.rows[1]::public.videos, '{"title": "tampered"}')::text
where s.backup_id = (select id from snap) and s.workspace_id = (select alice from ws) and s.table_name = 'public.videos';
select throws_like(format('select ops.restore_workspace(%s, %L)', (select id from snap), (select alice from ws)),
  '%failed verification on public.videos%', 'a tampered snapshot fails verification');
delete from tests.workspace_fingerprints where label = 'alice_now';
select tests.fingerprint_workspace('alice_now', (select alice from ws));
select set_eq(
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_now'$$,
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_damaged'$$,
  'a refused restore changes nothing');
select throws_like(format('select ops.restore_workspace(%s, %L)', (select id from snap), gen_random_uuid()),
  '%does not cover workspace%', 'a workspace the snapshot does not cover is refused');

-- Section: schema changed since the snapshot (a later migration adds a column)
alter table public.videos add column bk_added text;
delete from tests.workspace_fingerprints where label in ('alice_altered', 'alice_refused');
select tests.fingerprint_workspace('alice_altered', (select alice from ws));
select throws_ok(format('select ops.restore_workspace(%s, %L)', (select id from snap), (select alice from ws)), 'CEB01',
  format('snapshot %s cannot be restored: the columns of public.videos changed since it was taken', (select id from snap)),
  'a snapshot taken before a column change is refused with CEB01, naming the table');
select tests.fingerprint_workspace('alice_refused', (select alice from ws));
select set_eq(
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_refused'$$,
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_altered'$$,
  'a restore refused for changed columns changes nothing');
alter table public.videos drop column bk_added;

-- Section: failure and retention
create table public.bk_later (id int primary key, workspace_id uuid not null references public.workspaces (id));
insert into public.bk_later values (1, (select alice from ws));
create temp table unclassified_snap on commit drop as select ops.take_snapshot('test') as id;
select ok((select status = 'failed' and details ->> 'error' like '%public.bk_later has no class%' from ops.backups where id = (select id from unclassified_snap)),
  'a tenant table added later without a class makes the snapshot fail, naming it');
insert into ops.backup_table_classes values ('public.bk_later', 'content', 'test');
create temp table later_snap on commit drop as select ops.take_snapshot('test') as id;
select ok(exists (select 1 from ops.snapshot_tables where backup_id = (select id from later_snap)
  and table_name = 'public.bk_later' and workspace_id = (select alice from ws) and row_count = 1),
  'once classified as content it is snapshotted without code changes');
drop table public.bk_later;
delete from ops.backup_table_classes where table_name = 'public.bk_later';

-- a snapshot that cannot be stored is recorded as failed and logged, not raised
alter table ops.snapshot_tables add constraint bk_refuse_videos check (table_name <> 'public.videos') not valid;
create temp table failed_snap on commit drop as select ops.take_snapshot('test') as id;
alter table ops.snapshot_tables drop constraint bk_refuse_videos;
select is((select status from ops.backups where id = (select id from failed_snap)), 'failed', 'a failing snapshot is recorded as failed');
select ok(exists (select 1 from ops.system_logs l where l.event_type = 'backup_failed' and l.severity = 'error'
  and (l.context ->> 'backup_id')::bigint = (select id from failed_snap) and l.message like '%bk_refuse_videos%'),
  'backup_failed is logged with the error');
select is((select count(*) from ops.snapshot_tables where backup_id = (select id from failed_snap)), 0::bigint,
  'a failed snapshot keeps no partial rows');

update ops.backup_settings set keep_daily = 2, keep_weekly = 0;
insert into ops.backups (kind, status, started_at, finished_at)
select 'snapshot', 'succeeded', now() - make_interval(days => d), now() - make_interval(days => d)
from generate_series(1, 5) d;
select ops.apply_backup_retention();
select is((select count(*) from ops.backups where kind = 'snapshot' and status = 'succeeded'), 2::bigint,
  'retention keeps the newest snapshot of the last keep_daily days');

-- Section: grants
select ok(not has_function_privilege(r, 'ops.restore_workspace(bigint, uuid)', 'EXECUTE'), format('%s cannot restore', r))
from unnest(array['anon', 'authenticated']) r;
select ok(not has_function_privilege('authenticated', 'ops.take_snapshot(text)', 'EXECUTE'), 'authenticated cannot snapshot');
select ok(has_function_privilege('service_role', 'ops.restore_workspace(bigint, uuid)', 'EXECUTE'), 'service_role can restore');

select is((select command from cron.job where jobname = 'daily-backup' and schedule = '0 2 * * *'),
  'set transaction isolation level repeatable read; select ops.take_snapshot(''cron'')',
  'pg_cron takes the snapshot daily at 02:00 UTC, in a repeatable read transaction');

select * from finish();
rollback;
