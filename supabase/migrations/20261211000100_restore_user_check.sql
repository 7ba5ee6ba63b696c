-- One check of a restore's references to deleted users, for both restores.
--
-- ops.restore_workspace (20261201001400_backup_snapshots, the one-transaction restore) and
-- ops.restore_check_users (20261210000100_stepped_workspace_restore, the users phase of a stepped
-- restore) each held the same query and error. Both now call ops.check_restored_users; their
-- bodies are otherwise unchanged (re-created here because committed migrations are never edited).
-- The error is the same as before: SQLSTATE 23503, the same message and hint, no detail; a
-- stepped restore's job still records it as users_missing (ops.restore_failure).

-- Section: the check

-- Refuses (23503) a restore whose rows reference accounts deleted since the snapshot: foreign
-- keys to auth.users are not checked while a restore writes with triggers off. One statement per
-- such key. Stable: it only reads, and sees the rows its caller's earlier statements wrote.
create function ops.check_restored_users(snapshot_id bigint, workspace_id uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
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
      ops.backup_scope_predicate(b.scope, b.key_column, b.parent, b.parent_key), check_restored_users.workspace_id) ref
  ) x;
  if missing_users is not null then
    raise exception 'snapshot % of workspace % references deleted users: %', snapshot_id, workspace_id, missing_users
      using errcode = '23503', hint = 'A workspace restore never recreates deleted accounts; re-invite them or pick a later snapshot.';
  end if;
end
$$;

revoke all on function ops.check_restored_users(bigint, uuid) from public, anon, authenticated;

-- Section: its callers (each body as its latest migration left it, but for the check)

create or replace function ops.restore_workspace(snapshot_id bigint, workspace_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = ''
set datestyle = 'ISO, YMD' set intervalstyle = 'postgres' set timezone = 'UTC' set extra_float_digits = 1 set bytea_output = 'hex'
as $$
declare
  t record;
  cols text;
  tables jsonb;
  removed jsonb;
  present_channels jsonb;
  previous_role text := current_setting('session_replication_role');
begin
  perform ops.check_restorable(snapshot_id, workspace_id);
  -- one restore per workspace at a time
  perform pg_advisory_xact_lock(hashtext('ops.restore_workspace'), hashtext(workspace_id::text));
  -- a channel's connection state is the present one: its tokens are not rewound
  select coalesce(jsonb_object_agg(c.id, c.status), '{}'::jsonb) into present_channels
  from public.channels c where c.workspace_id = restore_workspace.workspace_id;

  perform set_config('session_replication_role', 'replica', true);
  for t in select * from ops.backup_tables() b order by b.depth desc, b.tbl::text loop
    execute format('delete from %s t where %s', t.tbl, ops.backup_scope_predicate(t.scope, t.key_column, t.parent, t.parent_key))
      using workspace_id;
  end loop;
  for t in select * from ops.backup_tables() b order by b.depth, b.tbl::text loop
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
    from pg_catalog.pg_attribute a
    where a.attrelid = t.tbl and a.attnum > 0 and not a.attisdropped and a.attgenerated = '';
    execute format('insert into %1$s (%2$s) overriding system value
        select r.%3$s from ops.snapshot_chunks c cross join lateral unnest(c.rows::%1$s[]) r
        where c.backup_id = $1 and c.workspace_id = $2 and c.table_name = $3',
      t.tbl, cols, replace(cols, ', ', ', r.')) using snapshot_id, workspace_id, t.tbl::text;
  end loop;

  -- foreign keys to auth.users were not checked while triggers were off
  perform ops.check_restored_users(snapshot_id, workspace_id);

  tables := ops.verify_restored_workspace(snapshot_id, workspace_id);
  removed := ops.restore_apply_delete_rules(workspace_id);
  update public.channels c set status = coalesce(present_channels ->> c.id::text, 'disconnected')
  where c.workspace_id = restore_workspace.workspace_id and c.status is distinct from coalesce(present_channels ->> c.id::text, 'disconnected');
  perform set_config('session_replication_role', previous_role, true);

  perform ops.bump_cache_scope(workspace_id::text);
  insert into ops.system_logs (event_type, severity, source, message, context)
  values ('workspace_restored', 'warning', 'backup_system',
    format('Workspace %s restored from snapshot %s', workspace_id, snapshot_id),
    jsonb_build_object('backup_id', snapshot_id, 'workspace_id', workspace_id, 'rows', tables, 'removed_with_content', removed));
  return jsonb_build_object('snapshot_id', snapshot_id, 'workspace_id', workspace_id, 'tables', tables, 'removed_with_content', removed);
end
$$;

create or replace function ops.restore_check_users(job private.restore_jobs) returns private.restore_jobs
language plpgsql volatile security definer set search_path = '' as $$
begin
  perform ops.check_restored_users(job.snapshot_id, job.workspace_id);
  job.phase := 'verify';
  job.table_index := 1;
  job.page := 0;
  return job;
end
$$;
