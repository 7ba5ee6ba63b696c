-- Stepped workspace restore (20261210000100_stepped_workspace_restore): each unit alone (start,
-- delete batch, insert chunks, users check, verify slice, finish, failure), the write guard while
-- a restore holds a workspace, a step that is rolled back (the runtime killed it) and redone
-- without losing or duplicating rows, the every-minute recovery of a broken chain, and a whole
-- restore whose data equals the snapshot's.
-- Repeatable read: ops.take_snapshot refuses read committed.
begin isolation level repeatable read;
select plan(32);

select tests.create_user('sr_alice');
select tests.create_user('sr_bob');

create temp table ws on commit drop as
select (select w.id from public.workspaces w where w.created_by = tests.get_user_id('sr_alice') and w.personal) as alice,
       (select w.id from public.workspaces w where w.created_by = tests.get_user_id('sr_bob') and w.personal) as bob;
select tests.create_fixture_rows((select alice from ws), tests.get_user_id('sr_alice'));
select tests.create_fixture_rows((select bob from ws), tests.get_user_id('sr_bob'));
-- more videos than one delete batch or one insert statement of the tests below takes
insert into public.videos (workspace_id, channel_id, youtube_video_id, title)
select (select alice from ws), c.id, 'srv' || i, 'Video ' || i
from public.channels c cross join generate_series(1, 30) i where c.workspace_id = (select alice from ws);


create function pg_temp.job(id bigint) returns private.restore_jobs language sql as
  $$ select * from private.restore_jobs where id = $1 $$;

-- Saves what a unit returns, as ops.restore_step does after its units.
create function pg_temp.save(j private.restore_jobs) returns private.restore_jobs language plpgsql as $$
begin
  update private.restore_jobs r set (status, phase, table_index, chunk, page, verify_rows, verify_sum_0, verify_sum_1, tables_done,
      rows_deleted, rows_done, verified, result, holds_workspace, error_code, error_message)
    = (j.status, j.phase, j.table_index, j.chunk, j.page, j.verify_rows, j.verify_sum_0, j.verify_sum_1, j.tables_done,
      j.rows_deleted, j.rows_done, j.verified, j.result, j.holds_workspace, j.error_code, j.error_message)
  where r.id = j.id;
  return j;
end $$;

create temp table snap on commit drop as select ops.take_snapshot('test') as id;
select tests.fingerprint_workspace('alice_before', (select alice from ws));
select tests.fingerprint_workspace('bob_before', (select bob from ws));

-- the disaster
delete from public.videos where workspace_id = (select alice from ws) and title like 'Video 1%';
update public.workspaces set name = 'wrecked' where id = (select alice from ws);

-- Section: start
select throws_ok(format('select ops.start_restore(%s, %L, null)', 999999999, (select alice from ws)), 'P0002', null,
  'a snapshot that does not exist is refused before a job is made');
create temp table job on commit drop as
select ops.start_restore((select id from snap), (select alice from ws), tests.get_user_id('sr_alice')) as id;
select is((select (status, phase, holds_workspace)::text from private.restore_jobs where id = (select id from job)),
  '(running,delete,t)', 'start_restore makes a running job that holds the workspace');
select is((select rows_total from private.restore_jobs where id = (select id from job)),
  (select sum(n)::bigint from tests.workspace_fingerprints where label = 'alice_before'), 'the job knows how many rows it will restore');
select is((select array_agg(b.depth order by u.n) from private.restore_jobs j cross join unnest(j.tables) with ordinality u (t, n)
    join ops.backup_tables() b on b.tbl = u.t::regclass where j.id = (select id from job)),
  (select array_agg(b.depth order by b.depth) from ops.backup_tables() b), 'the job lists every content table, parents first');
select throws_ok(format('select ops.start_restore(%s, %L, null)', (select id from snap), (select alice from ws)), 'CEB04', null,
  'a second restore of the same workspace is refused while one runs');
select ok(ops.holds_restore_of((select alice from ws), tests.get_user_id('sr_alice'))
  and not ops.holds_restore_of((select alice from ws), tests.get_user_id('sr_bob')), 'the requester holds the restore, others do not');

-- Section: the write guard
select throws_ok(format('update public.workspaces set name = %L where id = %L', 'during', (select alice from ws)), 'CEB04', null,
  'a write to the workspace being restored is refused');
select throws_ok(format('insert into public.videos (workspace_id, channel_id, youtube_video_id, title) select %L, id, %L, %L from public.channels where workspace_id = %L limit 1',
  (select alice from ws), 'srnew', 'new', (select alice from ws)), 'CEB04', null, 'an insert into its content is refused');
savepoint bob_write;
select lives_ok(format('update public.workspaces set name = %L where id = %L', 'bob during', (select bob from ws)),
  'another workspace is written as usual');
rollback to savepoint bob_write;
select is((select count(*)::integer from ops.backup_tables() b
  where b.scope in ('root', 'workspace') and (select count(*) from pg_trigger g where g.tgrelid = b.tbl and g.tgname like 'restore_guard_%') <> 3),
  0, 'every content table that names its workspace has the guard (insert, update, delete)');

-- Section: delete batches
update private.restore_jobs set delete_batch = 1 where id = (select id from job);
set local session_replication_role = replica;
select pg_temp.save(ops.restore_delete_batch(pg_temp.job((select id from job))));
select is((select (rows_deleted, table_index)::text from private.restore_jobs where id = (select id from job)),
  '(1,1)', 'one delete batch removes delete_batch rows of the last table and keeps the cursor there');
create function pg_temp.run_phase(id bigint, phase text) returns integer language plpgsql as $$
declare n integer := 0;
begin
  while (select j.phase from private.restore_jobs j where j.id = run_phase.id) = run_phase.phase loop
    perform pg_temp.save(ops.restore_unit(pg_temp.job(run_phase.id)));
    n := n + 1;
  end loop;
  return n;
end $$;
update private.restore_jobs set delete_batch = 5 where id = (select id from job);
select ok(pg_temp.run_phase((select id from job), 'delete') > 1, 'the delete phase takes several batches');
select is((select count(*) from public.videos where workspace_id = (select alice from ws))
    + (select count(*) from public.workspace_members where workspace_id = (select alice from ws))
    + (select count(*) from public.workspaces where id = (select alice from ws)),
  0::bigint, 'after the delete phase the workspace has no content rows');
select is((select (phase, table_index, chunk)::text from private.restore_jobs where id = (select id from job)),
  '(insert,1,-1)', 'then the insert phase starts at the first table');

-- Section: insert chunks (one chunk per statement here)
update private.restore_jobs set chunks_per_insert = 1 where id = (select id from job);
select pg_temp.save(ops.restore_insert_chunks(pg_temp.job((select id from job))));
select is((select (rows_done, chunk >= 0, table_index)::text from private.restore_jobs where id = (select id from job)),
  '(1,t,1)', 'one unit inserts the next chunk of the first table (the workspace row) and moves the cursor');

-- a step that is killed: its transaction rolls back, the cursor with it
savepoint killed_step;
select pg_temp.save(ops.restore_insert_chunks(pg_temp.job((select id from job))));
select pg_temp.run_phase((select id from job), 'insert');
rollback to savepoint killed_step;
select is((select (phase, rows_done, table_index)::text from private.restore_jobs where id = (select id from job)),
  '(insert,1,1)', 'a step rolled back leaves the cursor where the last committed step put it');
select ok(pg_temp.run_phase((select id from job), 'insert') > 1, 'the insert phase resumes from the cursor');
select is((select rows_done from private.restore_jobs where id = (select id from job)),
  (select sum(n)::bigint from tests.workspace_fingerprints where label = 'alice_before'), 'every snapshot row was inserted exactly once');

-- Section: users check, then verification in slices of two pages
select pg_temp.save(ops.restore_check_users(pg_temp.job((select id from job))));
select is((select phase from private.restore_jobs where id = (select id from job)), 'verify', 'no deleted user is referenced: verify next');
update private.restore_jobs set verify_pages = 2 where id = (select id from job);
select ok(pg_temp.run_phase((select id from job), 'verify') >= cardinality((select tables from private.restore_jobs where id = (select id from job))),
  'every table is verified, a slice of pages at a time');
select is((select jsonb_object_agg(k::regclass::text, v) from private.restore_jobs j, jsonb_each(j.verified) e (k, v) where j.id = (select id from job)),
  (select jsonb_object_agg(tbl::regclass::text, n) from tests.workspace_fingerprints where label = 'alice_before'), 'verification counted each table''s rows');

-- Section: finish
select pg_temp.save(ops.restore_finish(pg_temp.job((select id from job))));
select is((select (status, phase, holds_workspace)::text from private.restore_jobs where id = (select id from job)),
  '(succeeded,done,f)', 'finish marks the job done and releases the workspace');
set local session_replication_role = origin;
select tests.fingerprint_workspace('alice_after', (select alice from ws));
select set_eq($$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_after'$$,
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'alice_before'$$, 'the restored workspace equals the snapshot');
select tests.fingerprint_workspace('bob_after', (select bob from ws));
select set_eq($$select tbl, n, digest from tests.workspace_fingerprints where label = 'bob_after'$$,
  $$select tbl, n, digest from tests.workspace_fingerprints where label = 'bob_before'$$, 'another workspace is untouched');
select lives_ok(format('update public.workspaces set name = %L where id = %L', 'after', (select alice from ws)),
  'writes are accepted again once the restore finished');

-- Section: the whole restore through restore_step, with a failure first
update ops.snapshot_chunks s
set rows[1] = jsonb_populate_record(s.rows[1]::public.videos, '{"title": "tampered"}')::text
where s.backup_id = (select id from snap) and s.workspace_id = (select alice from ws) and s.table_name = 'public.videos';
create temp table job2 on commit drop as
select ops.start_restore((select id from snap), (select alice from ws), tests.get_user_id('sr_alice')) as id;
create function pg_temp.run_steps(id bigint) returns integer language plpgsql as $$
declare n integer := 0;
begin
  while (select j.status from private.restore_jobs j where j.id = run_steps.id) = 'running' and n < 1000 loop
    perform ops.restore_step(run_steps.id);
    n := n + 1;
  end loop;
  return n;
end $$;
select ok(pg_temp.run_steps((select id from job2)) >= 1, 'restore_step runs the job to its end');
select is((select (status, error_code, holds_workspace)::text from private.restore_jobs where id = (select id from job2)),
  '(failed,verification_failed,t)', 'a snapshot that does not verify fails the job, which keeps the workspace held');
select ok(exists (select 1 from ops.system_logs l where l.event_type = 'restore_failed' and (l.context ->> 'restore_id')::bigint = (select id from job2)),
  'the failure is logged');
select throws_ok(format('update public.workspace_members set role = role where workspace_id = %L', (select alice from ws)), 'CEB04', null,
  'a workspace whose restore failed still refuses writes');

-- a retry after the failure takes the workspace over (and would roll it forward)
create temp table job3 on commit drop as
select ops.start_restore((select id from snap), (select alice from ws), null) as id;
select is((select holds_workspace from private.restore_jobs where id = (select id from job2)), false, 'a retry takes the hold from the failed job');

-- Section: recovery of a broken chain
update private.restore_jobs set updated_at = now() - interval '5 minutes', step_call_id = null where id = (select id from job3);
select is(ops.recover_restores(), 1, 'recover_restores calls the step again for a job idle for minutes');
select is(ops.recover_restores(), 0, 'and not twice');

select * from finish();
rollback;
