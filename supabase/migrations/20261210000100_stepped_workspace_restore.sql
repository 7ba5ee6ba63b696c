-- A workspace restore in bounded steps that no function request has to outlive.
--
-- Before, POST /backups/restore ran ops.restore_workspace (20261201001400_backup_snapshots) in one
-- transaction inside one function request: 74 s at 1 M tenant rows, 489 s at 10 M, and hosted
-- Edge Functions end a request after 150 s of wall clock, so a restore of a big workspace failed
-- every time it was asked for. Now a restore is a job (private.restore_jobs) that the request
-- only creates (ops.start_restore, 202 with the job id); the work is done by steps
-- (ops.restore_step), each one transaction of about step_budget_ms of database work that saves
-- its cursor in the job row and, in the same transaction, calls the next step through pg_net (as
-- upload steps do), so the next step starts at once and only after this one committed. The
-- every-minute wake-up (ops.recover_restores) calls the step again for a job whose chain broke
-- (a step killed by the runtime, a lost call): a killed step's transaction rolled back, its
-- cursor did not move, so the step is redone from there and nothing is done twice.
--
-- Phases, in order (the mechanics are those of ops.restore_workspace, cut at table and chunk
-- boundaries):
--   delete  the workspace's content rows, children first, in batches of delete_batch rows;
--   insert  the snapshot's rows, parents first, a few chunks per statement (cursor: table, chunk);
--   users   references to deleted accounts refuse the restore (as before);
--   verify  each content table against the snapshot's count and checksum; a big table is read in
--           slices of heap pages (the checksum lanes are sums, so slices add up), cursor: table,
--           page, partial sums;
--   finish  the foreign keys' delete rules for rows a restore does not rewrite, each channel's
--           present connection state, the cache version, the log line, the workspace released.
-- Triggers are off while a step writes (session_replication_role = replica, as before).
--
-- A half-restored workspace is never taken for a finished one: from ops.start_restore until the
-- finish step commits, the job holds the workspace (holds_workspace) and every write to its
-- content tables is refused (SQLSTATE CEB04, HTTP 409 restore_in_progress) by statement triggers
-- on each content table (ops.install_restore_guards). Reads are allowed: they see the workspace as the
-- steps leave it, and GET /backups/restores/:id says it is being restored. A failed job (users
-- deleted, verification failed, a rule that refuses) records why, logs restore_failed, and keeps
-- holding the workspace: writes stay refused until a restore of it succeeds (a new POST
-- /backups/restore takes the hold over and rolls the workspace forward). A second restore of a
-- workspace while one runs is refused (CEB04).

-- Section: tables

create table private.restore_jobs (
  id bigint generated always as identity primary key,
  snapshot_id bigint not null references ops.backups (id) on delete cascade,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  requested_by uuid references auth.users (id) on delete set null,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  phase text not null default 'delete' check (phase in ('delete', 'insert', 'users', 'verify', 'finish', 'done')),
  -- true from the start until the job succeeds or a newer job of the workspace takes over
  holds_workspace boolean not null default true,
  -- content tables parents first (ops.backup_tables at the start: the order must not change mid-way)
  tables text[] not null,
  -- each table's scope predicate (ops.backup_scope_predicate), in the order of `tables`: a step
  -- reads them here, not from the catalog (ops.backup_tables costs milliseconds per call)
  predicates text[] not null check (cardinality(predicates) = cardinality(tables)),
  -- cursor: the table's position in `tables` (1-based), the last chunk inserted, the next page verified
  table_index integer not null default 1,
  chunk integer not null default -1,
  page bigint not null default 0,
  verify_rows bigint not null default 0,
  verify_sum_0 numeric not null default 0,
  verify_sum_1 numeric not null default 0,
  -- each channel's connection state when the restore started (tokens are never rewound)
  present_channels jsonb not null,
  tables_done integer not null default 0,
  rows_total bigint not null,
  rows_deleted bigint not null default 0,
  rows_done bigint not null default 0,
  verified jsonb not null default '{}'::jsonb,
  result jsonb,
  steps integer not null default 0,
  step_budget_ms integer not null default 10000 check (step_budget_ms between 100 and 60000),
  delete_batch integer not null default 50000 check (delete_batch > 0),
  chunks_per_insert integer not null default 8 check (chunks_per_insert > 0),
  verify_pages integer not null default 16384 check (verify_pages > 0),
  -- the slowest step so far (database time), for progress and benchmarks
  max_step_ms integer not null default 0,
  phase_ms jsonb not null default '{}'::jsonb,
  -- the pg_net call that runs the next step: its answer tells a killed step from a live one
  step_call_id bigint,
  error_code text,
  error_message text,
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);

comment on table private.restore_jobs is
  'One-workspace restores done in steps (ops.restore_step); the cursor is saved after every step.';

-- at most one job holds a workspace; also what the write guard looks up
create unique index restore_jobs_holding_idx on private.restore_jobs (workspace_id) where holds_workspace;

create index restore_jobs_running_idx on private.restore_jobs (updated_at) where status = 'running';

create index restore_jobs_workspace_idx on private.restore_jobs (workspace_id, id);

create index restore_jobs_snapshot_idx on private.restore_jobs (snapshot_id);

create index restore_jobs_requested_by_idx on private.restore_jobs (requested_by);

revoke all on table private.restore_jobs from public, anon, authenticated;

insert into ops.backup_table_classes (table_name, class, why) values
  ('private.restore_jobs', 'external_state', 'restores under way and done; a restore must not rewind its own job');

-- Section: the write guard

-- Refuses a write to content rows of a workspace a restore holds: after each statement (the rows
-- it wrote are in its transition tables), so a bulk write costs one check, not one per row, like
-- the other triggers of these tables; raising undoes the statement. The common case (no restore
-- anywhere) costs one probe of an empty partial index. Restore steps write with triggers off.
create function private.refuse_write_while_restoring() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  key_column text := tg_argv[0];
  workspace uuid;
begin
  if not exists (select 1 from private.restore_jobs j where j.holds_workspace) then
    return null;
  end if;
  -- transition tables are visible to dynamic SQL run by the trigger function
  execute format(
    'select j.workspace_id from private.restore_jobs j where j.holds_workspace and j.workspace_id in (select r.%1$I from %2$s r)',
    key_column, case tg_op when 'INSERT' then 'new_rows' when 'DELETE' then 'old_rows'
      else '(select * from old_rows union all select * from new_rows)' end)
    into workspace;
  if workspace is not null then
    raise exception 'workspace % is being restored; its data cannot change until the restore has finished', workspace
      using errcode = 'CEB04', hint = 'GET /backups/restores/:id shows the restore''s progress.';
  end if;
  return null;
end
$$;

revoke all on function private.refuse_write_while_restoring() from public, anon, authenticated, service_role;

-- Puts the guard on every content table that names its workspace (public.workspaces by id, the
-- others by workspace_id); tables that hang off a parent row are written with it. One trigger
-- per event: a trigger with transition tables has one event. Idempotent: a migration that adds
-- a content table calls it again (tests/db checks that none is missing).
create function ops.install_restore_guards() returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  t record;
  e record;
  added integer := 0;
begin
  for t in select b.tbl, b.key_column from ops.backup_tables() b where b.scope in ('root', 'workspace') loop
    for e in select * from (values ('insert', 'new table as new_rows'), ('update', 'old table as old_rows new table as new_rows'),
        ('delete', 'old table as old_rows')) x (event, transition) loop
      if not exists (select 1 from pg_catalog.pg_trigger g where g.tgrelid = t.tbl and g.tgname = 'restore_guard_' || e.event) then
        execute format('create trigger %I after %s on %s referencing %s for each statement execute function private.refuse_write_while_restoring(%L)',
          'restore_guard_' || e.event, e.event, t.tbl, e.transition, t.key_column);
        added := added + 1;
      end if;
    end loop;
  end loop;
  return added;
end
$$;

revoke all on function ops.install_restore_guards() from public, anon, authenticated;

select ops.install_restore_guards();

-- Section: start

-- Checks the snapshot (as before: 404 P0002, 409 CEB01), refuses while another restore of the
-- workspace runs (CEB04), takes the workspace over from a failed job, records the job and calls
-- its first step. Returns the job id.
create function ops.start_restore(snapshot_id bigint, workspace_id uuid, requested_by uuid)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  holder private.restore_jobs;
  job_id bigint;
begin
  perform ops.check_restorable(snapshot_id, workspace_id);
  perform pg_advisory_xact_lock(hashtext('ops.restore_workspace'), hashtext(workspace_id::text));
  select * into holder from private.restore_jobs j where j.workspace_id = start_restore.workspace_id and j.holds_workspace;
  if holder.status = 'running' then
    raise exception 'workspace % is already being restored (restore %)', workspace_id, holder.id
      using errcode = 'CEB04', detail = jsonb_build_object('restore_id', holder.id)::text;
  end if;
  update private.restore_jobs j set holds_workspace = false where j.id = holder.id;
  insert into private.restore_jobs (snapshot_id, workspace_id, requested_by, tables, predicates, present_channels, rows_total)
  select start_restore.snapshot_id, start_restore.workspace_id, start_restore.requested_by, t.tables, t.predicates,
    (select coalesce(jsonb_object_agg(c.id, c.status), '{}'::jsonb) from public.channels c where c.workspace_id = start_restore.workspace_id),
    (select coalesce(sum(s.row_count), 0) from ops.snapshot_tables s join ops.backup_tables() b on b.tbl::text = s.table_name
      where s.backup_id = start_restore.snapshot_id and s.workspace_id = start_restore.workspace_id)
  from (select array_agg(b.tbl::text order by b.depth, b.tbl::text) as tables,
      array_agg(ops.backup_scope_predicate(b.scope, b.key_column, b.parent, b.parent_key) order by b.depth, b.tbl::text) as predicates
    from ops.backup_tables() b) t
  returning id into job_id;
  update private.restore_jobs j set step_call_id = private.call_worker('backups/restores/step', jsonb_build_object('restore_id', job_id), 150000)
  where j.id = job_id;
  return job_id;
end
$$;

revoke all on function ops.start_restore(bigint, uuid, uuid) from public, anon, authenticated;

grant execute on function ops.start_restore(bigint, uuid, uuid) to service_role;

-- Section: the units of work (each one statement or a few; ops.restore_step calls them in a loop)

-- The job's table number `i` and its scope predicate (alias t, workspace in $1).
create function ops.restore_table(job private.restore_jobs, i integer, out tbl regclass, out predicate text)
language sql stable security definer set search_path = '' as $$
  select job.tables[i]::regclass, job.predicates[i]
$$;

revoke all on function ops.restore_table(private.restore_jobs, integer) from public, anon, authenticated;

-- Deletes up to delete_batch of the workspace's rows of the current table (children first: the
-- cursor walks `tables` backwards). Moves on to the next table, then to the insert phase, when a
-- batch comes back short.
create function ops.restore_delete_batch(job private.restore_jobs) returns private.restore_jobs
language plpgsql volatile security definer set search_path = '' as $$
declare
  t record;
  affected bigint;
  i integer := cardinality(job.tables) + 1 - job.table_index;
begin
  select * into t from ops.restore_table(job, i);
  if t.tbl is not null then
    execute format('delete from %1$s t where t.ctid = any (array(select t.ctid from %1$s t where %2$s limit %3$s))',
      t.tbl, t.predicate, job.delete_batch) using job.workspace_id;
    get diagnostics affected = row_count;
  end if;
  job.rows_deleted := job.rows_deleted + coalesce(affected, 0);
  if coalesce(affected, 0) < job.delete_batch then
    job.table_index := job.table_index + 1;
    if job.table_index > cardinality(job.tables) then
      job.phase := 'insert';
      job.table_index := 1;
      job.chunk := -1;
    end if;
  end if;
  return job;
end
$$;

revoke all on function ops.restore_delete_batch(private.restore_jobs) from public, anon, authenticated;

-- Inserts the next chunks_per_insert chunks of the current table's snapshot rows (parents first).
-- A table is done when no chunk is left after the cursor; then the users check follows.
create function ops.restore_insert_chunks(job private.restore_jobs) returns private.restore_jobs
language plpgsql volatile security definer set search_path = ''
set datestyle = 'ISO, YMD' set intervalstyle = 'postgres' set timezone = 'UTC' set extra_float_digits = 1 set bytea_output = 'hex'
as $$
declare
  t record;
  cols text;
  upto integer;
  inserted bigint;
begin
  select * into t from ops.restore_table(job, job.table_index);
  if t.tbl is not null then
    select max(c.chunk) into upto from (
      select c.chunk from ops.snapshot_chunks c
      where c.backup_id = job.snapshot_id and c.workspace_id = job.workspace_id and c.table_name = job.tables[job.table_index]
        and c.chunk > job.chunk
      order by c.chunk limit job.chunks_per_insert) c;
  end if;
  if upto is null then
    job.table_index := job.table_index + 1;
    job.tables_done := job.tables_done + 1;
    job.chunk := -1;
    if job.table_index > cardinality(job.tables) then
      job.phase := 'users';
    end if;
    return job;
  end if;
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
  from pg_catalog.pg_attribute a
  where a.attrelid = t.tbl and a.attnum > 0 and not a.attisdropped and a.attgenerated = '';
  execute format('insert into %1$s (%2$s) overriding system value
      select r.%3$s from ops.snapshot_chunks c cross join lateral unnest(c.rows::%1$s[]) r
      where c.backup_id = $1 and c.workspace_id = $2 and c.table_name = $3 and c.chunk > $4 and c.chunk <= $5',
    t.tbl, cols, replace(cols, ', ', ', r.')) using job.snapshot_id, job.workspace_id, t.tbl::text, job.chunk, upto;
  get diagnostics inserted = row_count;
  job.rows_done := job.rows_done + inserted;
  job.chunk := upto;
  return job;
end
$$;

revoke all on function ops.restore_insert_chunks(private.restore_jobs) from public, anon, authenticated;

-- Refuses (23503) a snapshot whose rows reference accounts deleted since: foreign keys to
-- auth.users were not checked while triggers were off. One statement per such key.
create function ops.restore_check_users(job private.restore_jobs) returns private.restore_jobs
language plpgsql volatile security definer set search_path = '' as $$
declare
  missing_users uuid[];
begin
  select array_agg(distinct missing) into missing_users from (
    select ref.user_id as missing
    from ops.backup_tables() b
    join pg_catalog.pg_constraint con on con.conrelid = b.tbl and con.contype = 'f'
      and con.confrelid = 'auth.users'::regclass and cardinality(con.conkey) = 1
    join pg_catalog.pg_attribute a on a.attrelid = b.tbl and a.attnum = con.conkey[1]
    cross join lateral ops.restored_user_refs(b.tbl, a.attname,
      ops.backup_scope_predicate(b.scope, b.key_column, b.parent, b.parent_key), job.workspace_id) ref
  ) x;
  if missing_users is not null then
    raise exception 'snapshot % of workspace % references deleted users: %', job.snapshot_id, job.workspace_id, missing_users
      using errcode = '23503', hint = 'A workspace restore never recreates deleted accounts; re-invite them or pick a later snapshot.';
  end if;
  job.phase := 'verify';
  job.table_index := 1;
  job.page := 0;
  return job;
end
$$;

revoke all on function ops.restore_check_users(private.restore_jobs) from public, anon, authenticated;

-- Adds one slice of verify_pages heap pages of the current table to the running count and lane
-- sums (the rows' text and hashes as ops.table_fingerprint makes them); at the table's end
-- compares them with the snapshot and raises XX001 on a difference. Writes to the workspace are
-- refused while it runs, so its rows do not move between slices.
create function ops.restore_verify_slice(job private.restore_jobs) returns private.restore_jobs
language plpgsql volatile security definer set search_path = ''
set datestyle = 'ISO, YMD' set intervalstyle = 'postgres' set timezone = 'UTC' set extra_float_digits = 1 set bytea_output = 'hex'
as $$
declare
  t record;
  pages bigint;
  got record;
  snap ops.snapshot_tables;
  checksum text;
begin
  select * into t from ops.restore_table(job, job.table_index);
  pages := pg_catalog.pg_relation_size(t.tbl) / current_setting('block_size')::bigint;
  if job.page < pages then
    execute format(
      'select count(*) as n, sum(pg_catalog.hashtextextended(x.txt, 0)) as s0, sum(pg_catalog.hashtextextended(x.txt, 1)) as s1
       from %s t cross join lateral (select t::text as txt offset 0) x
       where %s and t.ctid >= $2 and t.ctid < $3', t.tbl, t.predicate)
      into got using job.workspace_id, format('(%s,0)', job.page)::tid, format('(%s,0)', job.page + job.verify_pages)::tid;
    job.verify_rows := job.verify_rows + got.n;
    job.verify_sum_0 := job.verify_sum_0 + coalesce(got.s0, 0);
    job.verify_sum_1 := job.verify_sum_1 + coalesce(got.s1, 0);
    job.page := job.page + job.verify_pages;
    if job.page < pages then
      return job;
    end if;
  end if;
  select * into snap from ops.snapshot_tables s
  where s.backup_id = job.snapshot_id and s.workspace_id = job.workspace_id and s.table_name = t.tbl::text;
  checksum := ops.rows_checksum(job.verify_sum_0, job.verify_sum_1);
  if job.verify_rows <> coalesce(snap.row_count, 0) or (snap.checksum is not null and checksum <> snap.checksum) then
    raise exception 'restore of workspace % from snapshot % failed verification on %: % rows (expected %), checksum % (expected %)',
      job.workspace_id, job.snapshot_id, t.tbl, job.verify_rows, coalesce(snap.row_count, 0), checksum, snap.checksum
      using errcode = 'XX001';
  end if;
  job.verified := job.verified || jsonb_build_object(t.tbl::text, job.verify_rows);
  job.table_index := job.table_index + 1;
  job.page := 0;
  job.verify_rows := 0;
  job.verify_sum_0 := 0;
  job.verify_sum_1 := 0;
  if job.table_index > cardinality(job.tables) then
    job.phase := 'finish';
  end if;
  return job;
end
$$;

revoke all on function ops.restore_verify_slice(private.restore_jobs) from public, anon, authenticated;

-- The last step: the delete rules for rows a restore does not rewrite (CEB03 refuses), each
-- channel's present connection state, the cache version, the log line; the workspace released.
create function ops.restore_finish(job private.restore_jobs) returns private.restore_jobs
language plpgsql volatile security definer set search_path = '' as $$
declare
  removed jsonb;
begin
  removed := ops.restore_apply_delete_rules(job.workspace_id);
  update public.channels c set status = coalesce(job.present_channels ->> c.id::text, 'disconnected')
  where c.workspace_id = job.workspace_id and c.status is distinct from coalesce(job.present_channels ->> c.id::text, 'disconnected');
  perform ops.bump_cache_scope(job.workspace_id::text);
  job.result := jsonb_build_object('snapshot_id', job.snapshot_id, 'workspace_id', job.workspace_id,
    'tables', job.verified, 'removed_with_content', removed);
  insert into ops.system_logs (event_type, severity, source, message, context)
  values ('workspace_restored', 'warning', 'backup_system',
    format('Workspace %s restored from snapshot %s', job.workspace_id, job.snapshot_id),
    jsonb_build_object('backup_id', job.snapshot_id, 'workspace_id', job.workspace_id, 'restore_id', job.id,
      'rows', job.verified, 'removed_with_content', removed, 'steps', job.steps + 1));
  job.phase := 'done';
  job.status := 'succeeded';
  job.holds_workspace := false;
  job.finished_at := clock_timestamp();
  return job;
end
$$;

revoke all on function ops.restore_finish(private.restore_jobs) from public, anon, authenticated;

-- Section: the step

-- The error code and message a failed job shows its owner: our own SQLSTATEs carry messages
-- written for callers; anything else gets a fixed sentence (the database's text goes to the log).
create function ops.restore_failure(sqlstate text, message text, out code text, out shown text)
language sql immutable security definer set search_path = '' as $$
  select x.code, coalesce(x.shown, restore_failure.message)
  from (values
    (case restore_failure.sqlstate
      when '23503' then 'users_missing' when 'XX001' then 'verification_failed' when 'CEB03' then 'restore_blocked'
      when 'CEB01' then 'snapshot_incompatible' else 'restore_failed' end,
     case when restore_failure.sqlstate in ('23503', 'XX001', 'CEB03', 'CEB01') then null
      else 'the restore failed; the workspace stays locked until a restore of it succeeds' end)) x (code, shown)
$$;

revoke all on function ops.restore_failure(text, text) from public, anon, authenticated;

-- Records a failure: the job says why, keeps the workspace held, and restore_failed is logged.
create function ops.fail_restore(job private.restore_jobs, sqlstate text, message text) returns private.restore_jobs
language plpgsql volatile security definer set search_path = '' as $$
declare
  f record;
begin
  select * into f from ops.restore_failure(sqlstate, message);
  job.status := 'failed';
  job.error_code := f.code;
  job.error_message := f.shown;
  job.finished_at := clock_timestamp();
  insert into ops.system_logs (event_type, severity, source, message, context)
  values ('restore_failed', 'error', 'backup_system',
    format('Restore %s of workspace %s from snapshot %s failed in phase %s', job.id, job.workspace_id, job.snapshot_id, job.phase),
    jsonb_build_object('restore_id', job.id, 'workspace_id', job.workspace_id, 'backup_id', job.snapshot_id,
      'phase', job.phase, 'sqlstate', sqlstate, 'error', left(message, 1000)));
  return job;
end
$$;

revoke all on function ops.fail_restore(private.restore_jobs, text, text) from public, anon, authenticated;

-- One unit of the job's current phase.
create function ops.restore_unit(job private.restore_jobs) returns private.restore_jobs
language plpgsql volatile security definer set search_path = '' as $$
begin
  return case job.phase
    when 'delete' then ops.restore_delete_batch(job)
    when 'insert' then ops.restore_insert_chunks(job)
    when 'users' then ops.restore_check_users(job)
    when 'verify' then ops.restore_verify_slice(job)
    when 'finish' then ops.restore_finish(job)
    else job end;
end
$$;

revoke all on function ops.restore_unit(private.restore_jobs) from public, anon, authenticated;

-- Runs units of a running job for about step_budget_ms, saves the cursor and, when work is left,
-- calls the next step: all in the caller's one transaction. A job another step holds is left to
-- it ('busy'). Returns the job's progress (ops.restore_progress).
create function ops.restore_step(restore_id bigint) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  job private.restore_jobs;
  started timestamptz := clock_timestamp();
  phase_started timestamptz;
  previous_role text := current_setting('session_replication_role');
  step_ms integer;
begin
  select * into job from private.restore_jobs j where j.id = restore_id for update skip locked;
  if job.id is null then
    return jsonb_build_object('restore_id', restore_id, 'status', 'busy');
  end if;
  if job.status <> 'running' then
    return ops.restore_progress(job);
  end if;
  perform set_config('session_replication_role', 'replica', true);
  begin
    loop
      phase_started := clock_timestamp();
      declare
        phase text := job.phase;
      begin
        job := ops.restore_unit(job);
        job.phase_ms := job.phase_ms || jsonb_build_object(phase, round(coalesce((job.phase_ms ->> phase)::numeric, 0)
          + extract(epoch from clock_timestamp() - phase_started) * 1000));
      end;
      exit when job.status <> 'running' or clock_timestamp() - started >= make_interval(secs => job.step_budget_ms / 1000.0);
    end loop;
  exception when others then
    job := ops.fail_restore(job, sqlstate, sqlerrm);
  end;
  perform set_config('session_replication_role', previous_role, true);
  step_ms := round(extract(epoch from clock_timestamp() - started) * 1000);
  job.steps := job.steps + 1;
  job.max_step_ms := greatest(job.max_step_ms, step_ms);
  job.updated_at := now();
  job.step_call_id := case when job.status = 'running'
    then private.call_worker('backups/restores/step', jsonb_build_object('restore_id', job.id), 150000) end;
  update private.restore_jobs j set (status, phase, holds_workspace, table_index, chunk, page, verify_rows, verify_sum_0, verify_sum_1,
      tables_done, rows_deleted, rows_done, verified, result, steps, max_step_ms, phase_ms, step_call_id, error_code, error_message,
      updated_at, finished_at)
    = (job.status, job.phase, job.holds_workspace, job.table_index, job.chunk, job.page, job.verify_rows, job.verify_sum_0, job.verify_sum_1,
      job.tables_done, job.rows_deleted, job.rows_done, job.verified, job.result, job.steps, job.max_step_ms, job.phase_ms, job.step_call_id,
      job.error_code, job.error_message, job.updated_at, job.finished_at)
  where j.id = job.id;
  return ops.restore_progress(job) || jsonb_build_object('step_ms', step_ms);
end
$$;

revoke all on function ops.restore_step(bigint) from public, anon, authenticated;

grant execute on function ops.restore_step(bigint) to service_role;

-- What GET /backups/restores/:id shows: status, phase, progress, times, the error's code and
-- message (never the database's own text for an unexpected error), the result once succeeded.
create function ops.restore_progress(job private.restore_jobs) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'restore_id', job.id, 'snapshot_id', job.snapshot_id, 'workspace_id', job.workspace_id,
    'status', job.status, 'phase', job.phase,
    'progress', jsonb_build_object('tables_done', job.tables_done, 'tables_total', cardinality(job.tables),
      'rows_done', job.rows_done, 'rows_total', job.rows_total, 'rows_deleted', job.rows_deleted,
      'tables_verified', jsonb_array_length(coalesce((select jsonb_agg(k) from jsonb_object_keys(job.verified) k), '[]'::jsonb)),
      'steps', job.steps, 'max_step_ms', job.max_step_ms, 'phase_ms', job.phase_ms),
    'started_at', job.started_at, 'updated_at', job.updated_at, 'finished_at', job.finished_at,
    'error', case when job.error_code is not null then jsonb_build_object('code', job.error_code, 'message', job.error_message) end,
    'restored', job.result)
$$;

revoke all on function ops.restore_progress(private.restore_jobs) from public, anon, authenticated;

-- The progress of one job for GET /backups/restores/:id, with who may see it: null when there is
-- no such job.
create function ops.restore_status(restore_id bigint)
returns table (workspace_id uuid, requested_by uuid, progress jsonb)
language sql stable security definer set search_path = '' as $$
  select j.workspace_id, j.requested_by, ops.restore_progress(j) from private.restore_jobs j where j.id = restore_id
$$;

revoke all on function ops.restore_status(bigint) from public, anon, authenticated;

grant execute on function ops.restore_status(bigint) to service_role;

-- True when the user asked for the restore that holds the workspace now: while it is restored
-- (or after a failure) the memberships that make them its owner may be gone, and they must still
-- be able to follow and retry it.
create function ops.holds_restore_of(workspace_id uuid, user_id uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from private.restore_jobs j
    where j.workspace_id = holds_restore_of.workspace_id and j.holds_workspace and j.requested_by = holds_restore_of.user_id)
$$;

revoke all on function ops.holds_restore_of(uuid, uuid) from public, anon, authenticated;

grant execute on function ops.holds_restore_of(uuid, uuid) to service_role;

-- Section: recovery

-- Calls the step again for each running job whose chain broke: its last step call failed (5xx,
-- 546 included, a timeout, a transport error), or nothing happened for two minutes (a lost call).
-- A job a step holds is skipped. Returns the number of calls made.
create function ops.recover_restores() returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  job record;
  calls integer := 0;
begin
  for job in
    select j.id from private.restore_jobs j
    left join net._http_response a on a.id = j.step_call_id
    where j.status = 'running'
      and (j.updated_at < now() - interval '2 minutes' or a.status_code >= 500 or a.timed_out is true or a.error_msg is not null)
    for update of j skip locked
  loop
    update private.restore_jobs j set updated_at = now(),
      step_call_id = private.call_worker('backups/restores/step', jsonb_build_object('restore_id', job.id), 150000)
    where j.id = job.id;
    calls := calls + 1;
  end loop;
  return calls;
end
$$;

revoke all on function ops.recover_restores() from public, anon, authenticated;

grant execute on function ops.recover_restores() to service_role;

select cron.schedule('restore-recovery', '* * * * *', 'select ops.recover_restores()');
