-- Backups: a daily logical snapshot of every tenant table (and the user list) kept inside the
-- database, with row counts and sha256 checksums per table per workspace, a retention policy, and
-- a verified restore of ONE workspace to a snapshot. Hosted Supabase (daily backups / PITR)
-- restores only whole databases; this restores a single tenant and leaves every other one as it is.
--
-- What a snapshot holds (ops.snapshot_tables, one row per snapshot x table x workspace):
--   * every tenant table in `public` and `private` (rows as json arrays in ops.snapshot_chunks), discovered from the catalog (ops.backup_tables):
--     public.workspaces (scope column id), every table with a workspace_id column, and tables
--     without one whose single-column foreign key points at such a table (e.g.
--     private.channel_credentials -> public.channels); tables added later are covered without
--     touching this file;
--   * per-user rows (public.profiles) and the user list from auth.users (id, email, metadata,
--     timestamps; never password hashes or tokens) with workspace_id null. A workspace restore
--     never recreates users: a deleted account is an erasure request. If the snapshot references a
--     user that no longer exists, the restore refuses with the user ids (re-invite, then restore).
--   * Encrypted OAuth tokens are copied as ciphertext; `ops` is service_role only, like `private`.
-- Checksum of a table's rows = sha256 of the rows' text forms sorted bytewise (collate "C") and
-- joined by newlines; the same expression verifies a restore (ops.table_fingerprint).

-- Section: settings and storage

create table ops.backup_settings (
  id boolean primary key default true check (id),
  keep_daily integer not null default 7 check (keep_daily >= 1),
  keep_weekly integer not null default 4 check (keep_weekly >= 0),
  updated_at timestamptz not null default now()
);
insert into ops.backup_settings default values;

create table ops.snapshot_tables (
  backup_id bigint not null references ops.backups (id) on delete cascade,
  table_name text not null,
  -- null: rows that belong to no workspace (users, profiles)
  workspace_id uuid,
  row_count bigint not null check (row_count >= 0),
  checksum text not null check (checksum ~ '^[0-9a-f]{64}$')
);
create unique index snapshot_tables_key_idx
  on ops.snapshot_tables (backup_id, table_name, coalesce(workspace_id, '00000000-0000-0000-0000-000000000000'::uuid));
create index snapshot_tables_workspace_idx on ops.snapshot_tables (workspace_id, backup_id);

-- The rows themselves, as json arrays of at most 5,000 rows (one value is limited to 1 GB,
-- a big workspace's video_metrics is not).
create table ops.snapshot_chunks (
  backup_id bigint not null references ops.backups (id) on delete cascade,
  table_name text not null,
  workspace_id uuid,
  chunk integer not null check (chunk >= 0),
  -- json, not jsonb: json_agg is 3x faster than jsonb_agg here and the rows are only ever read
  -- back whole (json_populate_recordset); lz4 compresses faster than the default pglz
  rows json compression lz4 not null
);
create index snapshot_chunks_key_idx on ops.snapshot_chunks (backup_id, workspace_id, table_name, chunk);

-- Section: catalog

-- Tenant tables and how each is scoped to a workspace, with its depth in the foreign-key graph
-- (parents first), so deletes run children-first and inserts parents-first.
create function ops.backup_tables()
returns table (tbl regclass, scope text, key_column name, parent regclass, parent_key name, depth integer)
language sql stable security definer set search_path = '' as $$
  with recursive candidates as (
    select c.oid from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') and not c.relispartition
  ),
  direct as (
    select c.oid, case when c.oid = 'public.workspaces'::regclass then 'root' else 'workspace' end as scope,
      case when c.oid = 'public.workspaces'::regclass then 'id'::name else 'workspace_id'::name end as key_column
    from candidates c
    where c.oid = 'public.workspaces'::regclass or exists (
      select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attname = 'workspace_id' and not a.attisdropped)
  ),
  child as (
    select distinct on (c.oid) c.oid, 'child'::text as scope, a.attname as key_column,
      con.confrelid as parent, pa.attname as parent_key
    from candidates c
    join pg_catalog.pg_constraint con on con.conrelid = c.oid and con.contype = 'f' and cardinality(con.conkey) = 1
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum = con.conkey[1]
    join pg_catalog.pg_attribute pa on pa.attrelid = con.confrelid and pa.attnum = con.confkey[1]
    where c.oid not in (select oid from direct)
      and con.confrelid in (select oid from direct where scope = 'workspace')
    order by c.oid, a.attnum
  ),
  scoped as (
    select oid, scope, key_column, null::oid as parent, null::name as parent_key from direct
    union all select oid, scope, key_column, parent, parent_key from child
  ),
  edges as (
    select distinct con.conrelid as child, con.confrelid as parent
    from pg_catalog.pg_constraint con
    where con.contype = 'f' and con.conrelid <> con.confrelid
      and con.conrelid in (select oid from scoped) and con.confrelid in (select oid from scoped)
  ),
  depths (oid, depth) as (
    select oid, 0 from scoped
    union all
    select e.child, d.depth + 1 from depths d join edges e on e.parent = d.oid where d.depth < 50
  )
  select s.oid::regclass, s.scope, s.key_column, s.parent::regclass, s.parent_key,
    (select max(d.depth) from depths d where d.oid = s.oid)
  from scoped s
$$;

-- The scope predicate of a tenant table for the workspace in $1 (alias t).
create function ops.backup_scope_predicate(scope text, key_column name, parent regclass, parent_key name)
returns text
language sql immutable security definer set search_path = '' as $$
  select case scope
    when 'child' then format('t.%I in (select p.%I from %s p where p.workspace_id = $1)', key_column, parent_key, parent)
    else format('t.%I = $1', key_column) end
$$;

-- Row count and checksum of one table's rows of one workspace, computed the way a snapshot does.
create function ops.table_fingerprint(tbl regclass, predicate text, workspace_id uuid, out row_count bigint, out checksum text)
language plpgsql stable security definer set search_path = '' as $$
begin
  execute format(
    'select count(*), encode(pg_catalog.sha256(convert_to(coalesce(string_agg(t::text, E''\n'' order by t::text collate "C"), ''''), ''UTF8'')), ''hex'')
     from %s t where %s', tbl, predicate)
    into row_count, checksum using workspace_id;
end
$$;

-- Stores one relation's rows: counts and checksums per workspace, and the rows in chunks.
-- `source` is a query returning (w uuid, t <row>).
create function ops.snapshot_relation(backup_id bigint, table_name text, source text)
returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  execute format(
    'insert into ops.snapshot_tables (backup_id, table_name, workspace_id, row_count, checksum)
     select $1, $2, w, count(*),
       encode(pg_catalog.sha256(convert_to(string_agg(t::text, E''\n'' order by t::text collate "C"), ''UTF8'')), ''hex'')
     from (%s) x group by w', source)
  using backup_id, table_name;
  execute format(
    'insert into ops.snapshot_chunks (backup_id, table_name, workspace_id, chunk, rows)
     select $1, $2, w, chunk, json_agg(t)
     from (select w, t, ((row_number() over (partition by w)) - 1) / 5000 as chunk from (%s) s) x
     group by w, chunk', source)
  using backup_id, table_name;
end
$$;

-- Section: snapshot

-- Takes a snapshot of every tenant table (and the user list), records it in ops.backups, logs
-- backup_created (or backup_failed with the error; the failure is recorded, not raised, so the
-- cron job leaves a trace), then applies the retention policy. Returns the backups row id.
create function ops.take_snapshot(triggered_by text default 'cron')
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  new_backup_id bigint;
  t record;
  started timestamptz := clock_timestamp();
  table_count integer := 0;
  total_rows bigint;
  pruned integer;
  err_message text;
  err_state text;
begin
  insert into ops.backups (kind, details) values ('snapshot', jsonb_build_object('triggered_by', triggered_by))
  returning id into new_backup_id;
  begin
    for t in select * from ops.backup_tables() b order by b.depth, b.tbl::text loop
      perform ops.snapshot_relation(new_backup_id, t.tbl::text, format('select %s as w, t from %s t %s',
        case t.scope when 'child' then 'p.workspace_id' else format('t.%I', t.key_column) end,
        t.tbl,
        case t.scope when 'child' then format('join %s p on p.%I = t.%I', t.parent, t.parent_key, t.key_column) else '' end));
      table_count := table_count + 1;
    end loop;
    -- per-user rows: profiles, and the user list without secrets
    perform ops.snapshot_relation(new_backup_id, 'public.profiles', 'select null::uuid as w, t from public.profiles t');
    perform ops.snapshot_relation(new_backup_id, 'auth.users',
      'select null::uuid as w, t from (select id, email, raw_app_meta_data, raw_user_meta_data, created_at, deleted_at from auth.users) t');
  exception when others then
    get stacked diagnostics err_message = message_text, err_state = returned_sqlstate;
    update ops.backups b set status = 'failed', finished_at = clock_timestamp(),
      details = b.details || jsonb_build_object('error', err_message, 'sqlstate', err_state)
    where b.id = new_backup_id;
    insert into ops.system_logs (event_type, severity, source, message, context)
    values ('backup_failed', 'error', 'backup_system', 'Snapshot failed: ' || err_message,
      jsonb_build_object('backup_id', new_backup_id, 'sqlstate', err_state, 'triggered_by', triggered_by));
    return new_backup_id;
  end;
  select coalesce(sum(s.row_count), 0) into total_rows
  from ops.snapshot_tables s where s.backup_id = new_backup_id and s.workspace_id is not null;
  update ops.backups b set status = 'succeeded', finished_at = clock_timestamp(),
    details = b.details || jsonb_build_object('tables', table_count, 'tenant_rows', total_rows,
      'workspaces', (select count(distinct s.workspace_id) from ops.snapshot_tables s where s.backup_id = new_backup_id),
      'duration_ms', round(extract(epoch from clock_timestamp() - started) * 1000))
  where b.id = new_backup_id;
  pruned := ops.apply_backup_retention();
  insert into ops.system_logs (event_type, severity, source, message, context)
  values ('backup_created', 'info', 'backup_system',
    format('Snapshot %s created: %s tables, %s tenant rows', new_backup_id, table_count, total_rows),
    jsonb_build_object('backup_id', new_backup_id, 'tables', table_count, 'tenant_rows', total_rows,
      'pruned', pruned, 'triggered_by', triggered_by));
  return new_backup_id;
end
$$;

-- Keeps the newest successful snapshot of each of the last keep_daily days that have one and of
-- each of the last keep_weekly ISO weeks; deletes other finished snapshots (and failed ones older
-- than the oldest kept). Returns how many backups rows it removed.
create function ops.apply_backup_retention()
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  settings ops.backup_settings;
  removed integer;
begin
  select * into settings from ops.backup_settings;
  with ok as (
    select b.id, b.finished_at,
      row_number() over (partition by date_trunc('day', b.finished_at at time zone 'UTC') order by b.finished_at desc) as day_rank,
      row_number() over (partition by date_trunc('week', b.finished_at at time zone 'UTC') order by b.finished_at desc) as week_rank
    from ops.backups b where b.kind = 'snapshot' and b.status = 'succeeded'
  ),
  daily as (select id from ok where day_rank = 1 order by finished_at desc limit settings.keep_daily),
  weekly as (select id from ok where week_rank = 1 order by finished_at desc limit settings.keep_weekly),
  kept as (select id from daily union select id from weekly),
  gone as (
    delete from ops.backups b
    where b.kind = 'snapshot' and b.status <> 'running' and b.id not in (select id from kept)
      and (b.status = 'succeeded' or b.started_at < coalesce(
        (select min(o.finished_at) from ok o where o.id in (select id from kept)), now() - interval '7 days'))
    returning 1
  )
  select count(*) into removed from gone;
  return removed;
end
$$;

-- Section: restore

-- Restores one workspace to a snapshot in the caller's transaction: deletes the workspace's rows
-- children-first, inserts the snapshot's rows parents-first, then checks every table's count and
-- checksum against the snapshot; any difference raises, which rolls everything back. Triggers are
-- off while it writes (session_replication_role = replica) because the rows must come back exactly
-- as they were (no updated_at touch, no owner membership added twice, no derived rows); for the
-- same reason the foreign keys to auth.users are checked explicitly. Rows of other workspaces are
-- never selected by any statement here. Returns per-table counts.
create function ops.restore_workspace(snapshot_id bigint, workspace_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  t record;
  pred text;
  cols text;
  snap ops.snapshot_tables;
  got record;
  missing_users uuid[];
  result jsonb := '{}'::jsonb;
  previous_role text := current_setting('session_replication_role');
begin
  if not exists (select 1 from ops.backups b where b.id = snapshot_id and b.kind = 'snapshot' and b.status = 'succeeded') then
    raise exception 'snapshot % does not exist or did not succeed', snapshot_id using errcode = 'P0002';
  end if;
  if not exists (select 1 from ops.snapshot_tables s where s.backup_id = snapshot_id
      and s.workspace_id = restore_workspace.workspace_id and s.table_name = 'public.workspaces') then
    raise exception 'snapshot % does not cover workspace %', snapshot_id, workspace_id using errcode = 'P0002';
  end if;
  -- one restore per workspace at a time; the row lock also waits for writers of the workspace row
  perform pg_advisory_xact_lock(hashtext('ops.restore_workspace'), hashtext(workspace_id::text));

  perform set_config('session_replication_role', 'replica', true);
  for t in select * from ops.backup_tables() b order by b.depth desc, b.tbl::text loop
    pred := ops.backup_scope_predicate(t.scope, t.key_column, t.parent, t.parent_key);
    execute format('delete from %s t where %s', t.tbl, pred) using workspace_id;
  end loop;

  for t in select * from ops.backup_tables() b order by b.depth, b.tbl::text loop
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
    from pg_catalog.pg_attribute a
    where a.attrelid = t.tbl and a.attnum > 0 and not a.attisdropped and a.attgenerated = '';
    execute format('insert into %1$s (%2$s) overriding system value
        select r.%3$s from ops.snapshot_chunks c cross join lateral json_populate_recordset(null::%1$s, c.rows) r
        where c.backup_id = $1 and c.workspace_id = $2 and c.table_name = $3',
      t.tbl, cols, replace(cols, ', ', ', r.')) using snapshot_id, workspace_id, t.tbl::text;
  end loop;

  -- foreign keys to auth.users were not checked while triggers were off
  select array_agg(distinct missing) into missing_users from (
    select ref.user_id as missing
    from ops.backup_tables() b
    join pg_catalog.pg_constraint con on con.conrelid = b.tbl and con.contype = 'f'
      and con.confrelid = 'auth.users'::regclass and cardinality(con.conkey) = 1
    join pg_catalog.pg_attribute a on a.attrelid = b.tbl and a.attnum = con.conkey[1]
    cross join lateral ops.restored_user_refs(b.tbl, a.attname,
      ops.backup_scope_predicate(b.scope, b.key_column, b.parent, b.parent_key), restore_workspace.workspace_id) ref
  ) x;
  if missing_users is not null then
    raise exception 'snapshot % of workspace % references deleted users: %', snapshot_id, workspace_id, missing_users
      using errcode = '23503', hint = 'A workspace restore never recreates deleted accounts; re-invite them or pick a later snapshot.';
  end if;

  for t in select * from ops.backup_tables() b order by b.depth, b.tbl::text loop
    pred := ops.backup_scope_predicate(t.scope, t.key_column, t.parent, t.parent_key);
    select * into got from ops.table_fingerprint(t.tbl, pred, workspace_id);
    select * into snap from ops.snapshot_tables s
    where s.backup_id = snapshot_id and s.workspace_id = restore_workspace.workspace_id and s.table_name = t.tbl::text;
    if got.row_count <> coalesce(snap.row_count, 0)
      or (snap.checksum is not null and got.checksum <> snap.checksum)
      or (snap.checksum is null and got.row_count <> 0) then
      raise exception 'restore of workspace % from snapshot % failed verification on %: % rows (expected %), checksum % (expected %)',
        workspace_id, snapshot_id, t.tbl, got.row_count, coalesce(snap.row_count, 0), got.checksum, snap.checksum
        using errcode = 'XX001';
    end if;
    result := result || jsonb_build_object(t.tbl::text, got.row_count);
    snap := null;
  end loop;
  perform set_config('session_replication_role', previous_role, true);

  perform ops.bump_cache_scope(workspace_id::text);
  insert into ops.system_logs (event_type, severity, source, message, context)
  values ('workspace_restored', 'warning', 'backup_system',
    format('Workspace %s restored from snapshot %s', workspace_id, snapshot_id),
    jsonb_build_object('backup_id', snapshot_id, 'workspace_id', workspace_id, 'rows', result));
  return jsonb_build_object('snapshot_id', snapshot_id, 'workspace_id', workspace_id, 'tables', result);
end
$$;

-- User ids a table's rows of one workspace reference in `col` that are not in auth.users.
create function ops.restored_user_refs(tbl regclass, col name, predicate text, workspace_id uuid)
returns table (user_id uuid)
language plpgsql stable security definer set search_path = '' as $$
begin
  return query execute format(
    'select distinct t.%1$I::uuid from %2$s t where %3$s and t.%1$I is not null
       and not exists (select 1 from auth.users u where u.id = t.%1$I)', col, tbl, predicate)
  using workspace_id;
end
$$;

-- Snapshots that cover a workspace, newest first (for the backups function).
create function ops.workspace_snapshots(workspace_id uuid)
returns table (snapshot_id bigint, taken_at timestamptz, tables integer, row_count bigint)
language sql stable security definer set search_path = '' as $$
  select b.id, b.started_at, count(*)::integer, sum(s.row_count)::bigint
  from ops.backups b join ops.snapshot_tables s on s.backup_id = b.id
  where b.kind = 'snapshot' and b.status = 'succeeded' and s.workspace_id = workspace_snapshots.workspace_id
  group by b.id, b.started_at
  order by b.started_at desc, b.id desc
$$;

-- Section: grants and schedule

revoke all on function ops.backup_tables() from public;
revoke all on function ops.backup_scope_predicate(text, name, regclass, name) from public;
revoke all on function ops.table_fingerprint(regclass, text, uuid) from public;
revoke all on function ops.snapshot_relation(bigint, text, text) from public;
revoke all on function ops.take_snapshot(text) from public;
revoke all on function ops.apply_backup_retention() from public;
revoke all on function ops.restore_workspace(bigint, uuid) from public;
revoke all on function ops.restored_user_refs(regclass, name, text, uuid) from public;
revoke all on function ops.workspace_snapshots(uuid) from public;
grant execute on function ops.take_snapshot(text), ops.restore_workspace(bigint, uuid),
  ops.workspace_snapshots(uuid) to service_role;

select cron.schedule('daily-backup', '0 2 * * *', 'select ops.take_snapshot(''cron'')');
