-- Backups: a daily logical snapshot of every tenant table (and the user list) kept inside the
-- database, with row counts and checksums per table per workspace, a retention policy, and
-- a verified restore of ONE workspace to a snapshot. Hosted Supabase (daily backups / PITR)
-- restores only whole databases; this restores a single tenant and leaves every other one as it is.
--
-- Consistency: a snapshot reads the tables one after another, and under READ COMMITTED each
-- statement would see a different moment (a video inserted between two reads could be in the
-- snapshot without its channel). So ops.take_snapshot refuses to run unless its transaction is
-- REPEATABLE READ (or SERIALIZABLE), where every statement sees the transaction's one snapshot of
-- the database: the pg_cron job sets that isolation level first (SET TRANSACTION, not BEGIN:
-- pg_cron's background-worker mode rejects transaction control statements, and both of its modes
-- accept this command), and so does the backups function. A function cannot guarantee it itself:
-- the isolation level is fixed before the first statement of the transaction, which is before the
-- function is called. Taking table locks instead would stop every writer for the whole snapshot.
--
-- Schema changes: a snapshot records each tenant table's columns (names and types in order,
-- ops.snapshot_row_types). A row's text parses back only into the row type it was written from,
-- so a restore first compares them with the current columns and refuses (SQLSTATE CEB01, HTTP 409
-- snapshot_incompatible, naming the tables) when a later migration added, dropped, renamed,
-- reordered or retyped a column of a table the snapshot holds rows of for that workspace. A table
-- created after the snapshot is restored to its state then (no rows of the workspace); the rows of
-- a table dropped (or renamed: the name ties rows to a table) since are skipped.
--
-- What a snapshot holds (ops.snapshot_tables, one row per snapshot x table x workspace):
--   * every tenant table in `public` and `private`, discovered from the catalog (ops.backup_tables):
--     public.workspaces (scope column id), every table with a workspace_id column, and tables
--     without one whose single-column foreign key points at such a table (e.g.
--     private.channel_credentials -> public.channels); tables added later are covered without
--     touching this file;
--   * per-user rows (public.profiles) and the user list from auth.users (ops.snapshot_user: id,
--     email, metadata, timestamps; never password hashes or tokens) with workspace_id null. A
--     workspace restore never recreates users: a deleted account is an erasure request. If the
--     snapshot references a user that no longer exists, the restore refuses with the user ids
--     (re-invite, then restore).
--   * Encrypted OAuth tokens are copied as ciphertext; `ops` is service_role only, like `private`.
--
-- Row format (ops.snapshot_chunks): each row's text form, `t::text` of the table's row type (the
-- same per-column text that COPY and pg_dump write), in text[] chunks; a restore casts a chunk
-- back with `rows::<table>[]`. Text forms of dates, timestamps, intervals, floats and bytea depend
-- on settings, so every function here that writes or reads them pins those settings
-- (`set datestyle ...` on the function), and a snapshot reads back the same under any session.
--
-- Checksum of a table's rows (per workspace): the rows' count plus two 64-bit lanes, each the sum
-- modulo 2^64 of hashtextextended(<row text>, seed) over the rows (seeds 0 and 1), as 32 hex
-- digits (ops.rows_checksum). A sum does not depend on row order, so it is computed in the same
-- pass that writes the rows (no sort, which was half the cost of the former sha256 over sorted
-- rows) and chunk sums add up to the table's. Strength: a lost, extra or altered row changes each
-- lane by a difference of 64-bit hash values; if the seeded hashes behave like independent random
-- functions (lookup3, as hash partitioning uses), a changed multiset with the same count keeps both
-- lanes with probability about 2^-128. It detects accidents (a restore that differs from the
-- snapshot, damaged chunks), not forgery: sums are linear and the hash is not cryptographic, but
-- whoever can write ops.snapshot_chunks can rewrite ops.snapshot_tables too, so a cryptographic
-- digest would add nothing there. hashtextextended is stable across versions (hash partitions
-- rely on it) but differs between little- and big-endian servers; a snapshot is verified in the
-- database that holds it. The same expressions verify a restore (ops.table_fingerprint).
--
-- A workspace restore brings back a tenant's content and never rewinds what records things that
-- already happened outside this database. Before, a snapshot held every tenant table and a
-- restore rewrote all of them: restoring reset a user's monthly render count and the workspace's
-- YouTube quota ledger while YouTube's real quota stayed spent (later uploads failed with
-- quotaExceeded), put back channel tokens Google had since replaced or revoked, re-armed OAuth
-- states and invitations that had been used, and would re-run uploads that were already
-- published.
--
-- Every table in `public` and `private` now has a class in ops.backup_table_classes:
--   content         the tenant's own data, snapshotted and restored (workspace, members,
--                   settings, generated content with versions and reviews, channels' metadata,
--                   synced videos, metrics and scores);
--   credentials     secrets and bearer tokens (channel tokens, OAuth states, invitation tokens):
--                   neither copied into snapshots nor restored;
--   ledger          usage and costs already spent (generation usage, Gemini calls, YouTube quota):
--                   neither copied nor restored;
--   external_state  what happened at YouTube or RevID or is under way there (sync runs, renders,
--                   uploads and their sessions and events): neither copied nor restored;
--   account         per-user rows (profiles): snapshotted with the user list, never restored by a
--                   workspace restore;
--   platform        project-wide settings (YouTube's cost table and daily budget): not a tenant's.
-- ops.backup_tables() (what snapshots take and restores rewrite) returns the content tables only,
-- and refuses to answer while a tenant table has no class, so a new table cannot be snapshotted or
-- restored until someone decides which it is (tests/db also fails on it). A content table must not
-- reference a table of another class: restored rows would point at rows the snapshot does not set.
--
-- Rows a restore does not rewrite may reference content it removes (a render of content made
-- after the snapshot, the tokens of a channel connected since). Triggers are off while a restore
-- writes, so the foreign keys' ON DELETE rules are applied by hand afterwards
-- (ops.restore_apply_delete_rules): such rows go, or lose the reference, exactly as if the content
-- had been deleted. A channel's connection state is the present one (its tokens are not rewound):
-- a channel that exists now keeps its status, one that comes back without tokens is disconnected.

-- A row of the user list in a snapshot: what a workspace restore checks references against,
-- never a password hash or a token.
create type ops.snapshot_user as (
  id uuid, email text, raw_app_meta_data jsonb, raw_user_meta_data jsonb, created_at timestamptz, deleted_at timestamptz
);

create table ops.backup_settings (
  id boolean primary key default true check (id),
  keep_daily integer not null default 7 check (keep_daily >= 1),
  keep_weekly integer not null default 4 check (keep_weekly >= 0),
  updated_at timestamptz not null default now()
);

create table ops.snapshot_tables (
  backup_id bigint not null references ops.backups (id) on delete cascade,
  table_name text not null,
  -- null: rows that belong to no workspace (users, profiles)
  workspace_id uuid,
  row_count bigint not null check (row_count >= 0),
  checksum text not null check (checksum ~ '^[0-9a-f]{32}$')
);

create unique index snapshot_tables_key_idx
  on ops.snapshot_tables (backup_id, table_name, coalesce(workspace_id, '00000000-0000-0000-0000-000000000000'::uuid));

create index snapshot_tables_workspace_idx on ops.snapshot_tables (workspace_id, backup_id);

-- The rows themselves: one chunk per workspace per run of 64 heap pages of the table (one value
-- is limited to 1 GB, a big workspace's video_metrics is not; chunking by page needs no sort).
create table ops.snapshot_chunks (
  backup_id bigint not null references ops.backups (id) on delete cascade,
  table_name text not null,
  workspace_id uuid,
  chunk integer not null check (chunk >= 0),
  row_count integer not null check (row_count > 0),
  -- the chunk's part of the checksum lanes (exact sums, see the header)
  hash_sum_0 numeric not null,
  hash_sum_1 numeric not null,
  -- lz4 compresses faster than the default pglz
  rows text[] compression lz4 not null check (cardinality(rows) = row_count)
);

create index snapshot_chunks_key_idx on ops.snapshot_chunks (backup_id, workspace_id, table_name, chunk);

-- The columns each tenant table had when the snapshot was taken (ops.row_type_signature): a
-- restore checks them before it casts a row text back to the table's current row type.
create table ops.snapshot_row_types (
  backup_id bigint not null references ops.backups (id) on delete cascade,
  table_name text not null,
  signature text not null,
  primary key (backup_id, table_name)
);

create table ops.backup_table_classes (
  table_name text primary key,
  class text not null check (class in ('content', 'credentials', 'ledger', 'external_state', 'account', 'platform')),
  why text not null check (length(why) > 0)
);

revoke all on table ops.backup_table_classes from public, anon, authenticated;

-- The scope predicate of a tenant table for the workspace in $1 (alias t).
create function ops.backup_scope_predicate(scope text, key_column name, parent regclass, parent_key name)
returns text
language sql immutable security definer set search_path = '' as $$
  select case scope
    when 'child' then format('t.%I in (select p.%I from %s p where p.workspace_id = $1)', key_column, parent_key, parent)
    else format('t.%I = $1', key_column) end
$$;

revoke all on function ops.backup_scope_predicate(text, name, regclass, name) from public;

-- A table's row type as text: its columns in order with their types, e.g. `id uuid, name text`.
-- The text form of a row lists values by position, so position, name and type all matter.
create function ops.row_type_signature(tbl regclass)
returns text
language sql stable security definer set search_path = '' as $$
  select string_agg(format('%I %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' order by a.attnum)
  from pg_catalog.pg_attribute a
  where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped
$$;

revoke all on function ops.row_type_signature(regclass) from public;

-- The checksum text of two lane sums (each taken modulo 2^64, 16 hex digits); no rows: zeros.
create function ops.rows_checksum(hash_sum_0 numeric, hash_sum_1 numeric)
returns text
language sql immutable parallel safe security definer set search_path = '' as $$
  select string_agg(pg_catalog.lpad(pg_catalog.to_hex(
      (case when m >= 9223372036854775808 then m - 18446744073709551616 else m end)::bigint), 16, '0'), '' order by lane)
  from (select lane, pg_catalog.mod(pg_catalog.mod(coalesce(s, 0), 18446744073709551616) + 18446744073709551616, 18446744073709551616) as m
        from unnest(array[hash_sum_0, hash_sum_1]) with ordinality as x (s, lane)) lanes
$$;

revoke all on function ops.rows_checksum(numeric, numeric) from public;

-- Row count and checksum of one table's rows of one workspace, computed the way a snapshot does
-- (same row text, same hashes; settings pinned as in take_snapshot).
create function ops.table_fingerprint(tbl regclass, predicate text, workspace_id uuid, out row_count bigint, out checksum text)
language plpgsql stable security definer set search_path = ''
set datestyle = 'ISO, YMD' set intervalstyle = 'postgres' set timezone = 'UTC' set extra_float_digits = 1 set bytea_output = 'hex'
as $$
begin
  execute format(
    -- The row's text is made once and hashed twice: written t::text twice, Postgres makes it
    -- twice (offset 0 keeps the planner from pulling the expression back up), and that was 1 s
    -- of a million-row restore.
    'select count(*), ops.rows_checksum(sum(pg_catalog.hashtextextended(x.txt, 0)), sum(pg_catalog.hashtextextended(x.txt, 1)))
     from %s t cross join lateral (select t::text as txt offset 0) x where %s', tbl, predicate)
    into row_count, checksum using workspace_id;
end
$$;

revoke all on function ops.table_fingerprint(regclass, text, uuid) from public;

-- Stores one relation's rows in one pass (one statement, so rows and checksums come from the same
-- read of the table): chunks of row texts with their counts and hash sums, then per-workspace
-- totals from the chunks' small columns. `source` is a query returning (w uuid, page integer, t <row>).
create function ops.snapshot_relation(backup_id bigint, table_name text, source text)
returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  execute format(
    'insert into ops.snapshot_chunks (backup_id, table_name, workspace_id, chunk, row_count, hash_sum_0, hash_sum_1, rows)
     select $1, $2, c.w, c.chunk, pg_catalog.cardinality(c.rows), h.hash_sum_0, h.hash_sum_1, c.rows
     from (select s.w, s.page / 64 as chunk, array_agg(s.t::text) as rows from (%s) s group by s.w, s.page / 64) c
     cross join lateral (
       select sum(pg_catalog.hashtextextended(r, 0)) as hash_sum_0, sum(pg_catalog.hashtextextended(r, 1)) as hash_sum_1
       from unnest(c.rows) r) h', source)
  using backup_id, table_name;
  insert into ops.snapshot_tables (backup_id, table_name, workspace_id, row_count, checksum)
  select c.backup_id, c.table_name, c.workspace_id, sum(c.row_count), ops.rows_checksum(sum(c.hash_sum_0), sum(c.hash_sum_1))
  from ops.snapshot_chunks c
  where c.backup_id = snapshot_relation.backup_id and c.table_name = snapshot_relation.table_name
  group by c.backup_id, c.table_name, c.workspace_id;
end
$$;

revoke all on function ops.snapshot_relation(bigint, text, text) from public;

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

revoke all on function ops.apply_backup_retention() from public;

-- Tables of `public` and `private` without a class, and content tables that reference a table of
-- another class; both make backups refuse to run (see ops.backup_tables).
create function ops.backup_classification_problems()
returns table (table_name text, problem text)
language sql stable security definer set search_path = '' as $$
  select format('%I.%I', n.nspname, c.relname), 'has no class in ops.backup_table_classes'
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') and not c.relispartition
    and not exists (select 1 from ops.backup_table_classes k where k.table_name = format('%I.%I', n.nspname, c.relname))
  union all
  select con.conrelid::regclass::text, format('is content but references %s (%s)', con.confrelid::regclass, k2.class)
  from pg_catalog.pg_constraint con
  join ops.backup_table_classes k1 on k1.table_name = con.conrelid::regclass::text and k1.class = 'content'
  join ops.backup_table_classes k2 on k2.table_name = con.confrelid::regclass::text and k2.class <> 'content'
  where con.contype = 'f'
$$;

revoke all on function ops.backup_classification_problems() from public;

-- The tenant tables a snapshot takes and a restore rewrites: the content ones. Refuses (CEB02)
-- while any table is unclassified or a content table references another class.
create function ops.backup_tables()
returns table (tbl regclass, scope text, key_column name, parent regclass, parent_key name, depth integer)
language plpgsql stable security definer set search_path = '' as $$
declare
  problems text;
begin
  select string_agg(p.table_name || ' ' || p.problem, '; ' order by p.table_name) into problems
  from ops.backup_classification_problems() p;
  if problems is not null then
    raise exception 'backups need every table classified: %', problems
      using errcode = 'CEB02', hint = 'Add the table to ops.backup_table_classes in a migration (content, credentials, ledger, external_state, account or platform).';
  end if;
  return query
  select t.tbl, t.scope, t.key_column, t.parent, t.parent_key, t.depth
  from ops.tenant_tables() t
  join ops.backup_table_classes k on k.table_name = t.tbl::text and k.class = 'content';
end
$$;

revoke all on function ops.backup_tables() from public;

-- Takes a snapshot of every tenant table (and the user list), records it in ops.backups, logs
-- backup_created (or backup_failed with the error; the failure is recorded, not raised, so the
-- cron job leaves a trace), then applies the retention policy. Returns the backups row id.
-- Refuses (SQLSTATE 25000, nothing recorded) outside a REPEATABLE READ or SERIALIZABLE
-- transaction: only there do all its reads see the same moment (see the header).
create function ops.take_snapshot(triggered_by text default 'cron')
returns bigint
language plpgsql volatile security definer set search_path = ''
set datestyle = 'ISO, YMD' set intervalstyle = 'postgres' set timezone = 'UTC' set extra_float_digits = 1 set bytea_output = 'hex'
as $$
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
  if current_setting('transaction_isolation') not in ('repeatable read', 'serializable') then
    raise exception 'ops.take_snapshot needs a repeatable read transaction so that every table is read at the same moment (this one is %)',
        current_setting('transaction_isolation')
      using errcode = '25000',
        hint = 'begin isolation level repeatable read; select ops.take_snapshot(); commit;  or, as one command (pg_cron): set transaction isolation level repeatable read; select ops.take_snapshot();';
  end if;
  insert into ops.backups (kind, details) values ('snapshot', jsonb_build_object('triggered_by', triggered_by))
  returning id into new_backup_id;
  begin
    insert into ops.snapshot_row_types (backup_id, table_name, signature)
    select new_backup_id, b.tbl::text, ops.row_type_signature(b.tbl) from ops.backup_tables() b;
    -- page: the row's heap page (from its ctid), which groups rows into chunks without a sort
    for t in select * from ops.backup_tables() b order by b.depth, b.tbl::text loop
      perform ops.snapshot_relation(new_backup_id, t.tbl::text, format('select %s as w, (t.ctid::text::point)[0]::integer as page, t from %s t %s',
        case t.scope when 'child' then 'p.workspace_id' else format('t.%I', t.key_column) end,
        t.tbl,
        case t.scope when 'child' then format('join %s p on p.%I = t.%I', t.parent, t.parent_key, t.key_column) else '' end));
      table_count := table_count + 1;
    end loop;
    -- per-user rows: profiles, and the user list without secrets
    perform ops.snapshot_relation(new_backup_id, 'public.profiles',
      'select null::uuid as w, (t.ctid::text::point)[0]::integer as page, t from public.profiles t');
    perform ops.snapshot_relation(new_backup_id, 'auth.users',
      'select null::uuid as w, (u.ctid::text::point)[0]::integer as page,
         row(u.id, u.email, u.raw_app_meta_data, u.raw_user_meta_data, u.created_at, u.deleted_at)::ops.snapshot_user as t
       from auth.users u');
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

revoke all on function ops.take_snapshot(text) from public;

grant execute on function ops.take_snapshot(text) to service_role;

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

revoke all on function ops.restored_user_refs(regclass, name, text, uuid) from public;

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

revoke all on function ops.workspace_snapshots(uuid) from public;

grant execute on function ops.workspace_snapshots(uuid) to service_role;

-- The next pieces of a cursor of text, joined, until they reach max_bytes (one piece may take it
-- over); null once the cursor is exhausted. One call per round trip of about max_bytes, instead
-- of one protocol message per row, which cost the function more CPU than the bytes themselves.
create function public.fetch_export_chunk(export refcursor, max_bytes integer) returns text
language plpgsql volatile set search_path = '' as $$
declare
  piece text;
  pieces text[] := '{}';
  n integer := 0;
  size bigint := 0;
begin
  loop
    fetch export into piece;
    exit when not found;
    n := n + 1;
    pieces[n] := piece;
    size := size + octet_length(piece);
    exit when size >= max_bytes;
  end loop;
  if n = 0 then
    return null;
  end if;
  return array_to_string(pieces, '');
end
$$;

revoke all on function public.fetch_export_chunk(refcursor, integer) from public, anon;

grant execute on function public.fetch_export_chunk(refcursor, integer) to authenticated;

-- Refuses, before anything changes, a snapshot that does not exist, does not cover the workspace,
-- or holds rows of a content table whose columns changed since (CEB01; see the 0900 migration).
create function ops.check_restorable(snapshot_id bigint, workspace_id uuid)
returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  changed text;
  changes text;
begin
  if not exists (select 1 from ops.backups b where b.id = snapshot_id and b.kind = 'snapshot' and b.status = 'succeeded') then
    raise exception 'snapshot % does not exist or did not succeed', snapshot_id using errcode = 'P0002';
  end if;
  if not exists (select 1 from ops.snapshot_tables s where s.backup_id = snapshot_id
      and s.workspace_id = check_restorable.workspace_id and s.table_name = 'public.workspaces') then
    raise exception 'snapshot % does not cover workspace %', snapshot_id, workspace_id using errcode = 'P0002';
  end if;
  select string_agg(s.table_name, ', ' order by s.table_name),
      string_agg(format('%s: was (%s), is (%s)', s.table_name, s.signature, ops.row_type_signature(b.tbl)), '; ' order by s.table_name)
    into changed, changes
  from ops.snapshot_row_types s
  join ops.backup_tables() b on b.tbl::text = s.table_name
  where s.backup_id = snapshot_id
    and exists (select 1 from ops.snapshot_tables st where st.backup_id = snapshot_id and st.table_name = s.table_name
      and st.workspace_id = check_restorable.workspace_id and st.row_count > 0)
    and s.signature is distinct from ops.row_type_signature(b.tbl);
  if changed is not null then
    raise exception 'snapshot % cannot be restored: the columns of % changed since it was taken', snapshot_id, changed
      using errcode = 'CEB01', detail = changes,
        hint = 'Restore a snapshot taken after the schema change, or restore an off-site backup into a new database and copy the rows from there (docs/disaster-recovery.md).';
  end if;
end
$$;

revoke all on function ops.check_restorable(bigint, uuid) from public;

-- Compares every restored content table of the workspace with the snapshot (count and checksum);
-- raises XX001 on any difference. Returns the row count per table.
create function ops.verify_restored_workspace(snapshot_id bigint, workspace_id uuid)
returns jsonb
language plpgsql stable security definer set search_path = ''
set datestyle = 'ISO, YMD' set intervalstyle = 'postgres' set timezone = 'UTC' set extra_float_digits = 1 set bytea_output = 'hex'
as $$
declare
  t record;
  got record;
  snap ops.snapshot_tables;
  result jsonb := '{}'::jsonb;
begin
  for t in select * from ops.backup_tables() b order by b.depth, b.tbl::text loop
    select * into got from ops.table_fingerprint(t.tbl, ops.backup_scope_predicate(t.scope, t.key_column, t.parent, t.parent_key), workspace_id);
    snap := null;
    select * into snap from ops.snapshot_tables s
    where s.backup_id = snapshot_id and s.workspace_id = verify_restored_workspace.workspace_id and s.table_name = t.tbl::text;
    if got.row_count <> coalesce(snap.row_count, 0)
      or (snap.checksum is not null and got.checksum <> snap.checksum)
      or (snap.checksum is null and got.row_count <> 0) then
      raise exception 'restore of workspace % from snapshot % failed verification on %: % rows (expected %), checksum % (expected %)',
        workspace_id, snapshot_id, t.tbl, got.row_count, coalesce(snap.row_count, 0), got.checksum, snap.checksum
        using errcode = 'XX001';
    end if;
    result := result || jsonb_build_object(t.tbl::text, got.row_count);
  end loop;
  return result;
end
$$;

revoke all on function ops.verify_restored_workspace(bigint, uuid) from public;

-- One statement per foreign key from a table a restore does not rewrite, applying the key's
-- ON DELETE rule to its rows whose referenced row is gone: 'delete' (cascade), 'update' (set null
-- or default) or 'refuse' (no action, restrict: an exists query). Rows with a workspace_id are
-- looked for in the restored workspace only ($1); others (tokens, upload sessions) in the whole
-- table, because their parent row, the only link to a workspace, is what went away.
create function ops.restore_delete_rules()
returns table (child regclass, action text, statement text)
language sql stable security definer set search_path = '' as $$
  with fks as (
    select con.conrelid, con.confrelid, con.confdeltype,
      (select string_agg(format('t.%I is not null', a.attname), ' and ' order by k.n)
         from unnest(con.conkey) with ordinality k (attnum, n)
         join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as not_null,
      (select string_agg(format('p.%I = t.%I', pa.attname, ca.attname), ' and ' order by u.n)
         from unnest(con.conkey, con.confkey) with ordinality u (ck, pk, n)
         join pg_catalog.pg_attribute ca on ca.attrelid = con.conrelid and ca.attnum = u.ck
         join pg_catalog.pg_attribute pa on pa.attrelid = con.confrelid and pa.attnum = u.pk) as matches,
      (select string_agg(format('%I = %s', a.attname, case con.confdeltype when 'd' then 'default' else 'null' end), ', ')
         from unnest(coalesce(con.confdelsetcols, con.conkey)) k (attnum)
         join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as assignments,
      exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = con.conrelid and a.attname = 'workspace_id' and not a.attisdropped) as scoped
    from pg_catalog.pg_constraint con
    join ops.backup_table_classes k on k.table_name = con.conrelid::regclass::text and k.class <> 'content'
    where con.contype = 'f' and con.confrelid in (select t.tbl from ops.tenant_tables() t)
  ),
  dangling as (
    select f.*, format('%s and not exists (select 1 from %s p where %s)%s', f.not_null, f.confrelid::regclass, f.matches,
      case when f.scoped then ' and t.workspace_id = $1' else '' end) as pred
    from fks f
  )
  select d.conrelid::regclass,
    case d.confdeltype when 'c' then 'delete' when 'n' then 'update' when 'd' then 'update' else 'refuse' end,
    case d.confdeltype
      when 'c' then format('delete from %s t where %s', d.conrelid::regclass, d.pred)
      when 'n' then format('update %s t set %s where %s', d.conrelid::regclass, d.assignments, d.pred)
      when 'd' then format('update %s t set %s where %s', d.conrelid::regclass, d.assignments, d.pred)
      else format('select exists (select 1 from %s t where %s)', d.conrelid::regclass, d.pred)
    end
  from dangling d
$$;

revoke all on function ops.restore_delete_rules() from public;

-- Applies ops.restore_delete_rules until nothing changes (a cascade may leave rows of a further
-- table without their parent). Returns the rows removed or changed per table. Raises (CEB03) when
-- a rule says no action or restrict, which rolls the restore back.
create function ops.restore_apply_delete_rules(workspace_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  r record;
  affected bigint;
  changed bigint;
  blocked boolean;
  summary jsonb := '{}'::jsonb;
begin
  for pass in 1..20 loop
    changed := 0;
    for r in select * from ops.restore_delete_rules() loop
      if r.action = 'refuse' then
        execute r.statement into blocked using workspace_id;
        if blocked then
          raise exception 'restore of workspace % would leave rows of % referencing content it removes', workspace_id, r.child
            using errcode = 'CEB03';
        end if;
        continue;
      end if;
      execute r.statement using workspace_id;
      get diagnostics affected = row_count;
      if affected > 0 then
        summary := summary || jsonb_build_object(r.child::text, coalesce((summary ->> r.child::text)::bigint, 0) + affected);
        changed := changed + affected;
      end if;
    end loop;
    if changed = 0 then
      return summary;
    end if;
  end loop;
  raise exception 'restore of workspace %: foreign key rules did not settle after 20 passes', workspace_id;
end
$$;

revoke all on function ops.restore_apply_delete_rules(uuid) from public;

-- Restores one workspace's content to a snapshot in the caller's transaction (see the 0900
-- migration for the mechanics; this replaces it): deletes the workspace's content rows
-- children-first, inserts the snapshot's rows parents-first, checks references to users, verifies
-- every content table against the snapshot, then applies the foreign keys' delete rules to the
-- rows it does not rewrite and keeps each channel's present connection state. Triggers are off
-- while it writes (session_replication_role = replica) so rows come back exactly as they were.
-- Ledgers, credentials and external state are never written except by those delete rules.
create function ops.restore_workspace(snapshot_id bigint, workspace_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = ''
set datestyle = 'ISO, YMD' set intervalstyle = 'postgres' set timezone = 'UTC' set extra_float_digits = 1 set bytea_output = 'hex'
as $$
declare
  t record;
  cols text;
  missing_users uuid[];
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

revoke all on function ops.restore_workspace(bigint, uuid) from public;

grant execute on function ops.restore_workspace(bigint, uuid) to service_role;

insert into ops.backup_settings default values;

-- one command that pg_cron runs as one transaction: the isolation level first (see the header)
select cron.schedule('daily-backup', '0 2 * * *',
  'set transaction isolation level repeatable read; select ops.take_snapshot(''cron'')');

insert into ops.backup_table_classes (table_name, class, why) values
  ('public.workspaces', 'content', 'the tenant itself'),
  ('public.workspace_members', 'content', 'who belongs to the workspace; a restored workspace needs its owners'),
  ('public.workspace_settings', 'content', 'the workspace''s own choices'),
  ('public.generated_content', 'content', 'ideas, titles, scripts and descriptions'),
  ('public.content_versions', 'content', 'edits of generated content'),
  ('public.content_transitions', 'content', 'the review history of generated content, restored with it'),
  ('public.channels', 'content', 'channel metadata; the connection state follows the present tokens'),
  ('public.videos', 'content', 'synced videos; the next sync brings them up to date'),
  ('public.video_metrics', 'content', 'synced analytics'),
  ('private.video_metric_totals', 'content', 'totals of synced analytics, restored with them'),
  ('public.performance_scores', 'content', 'scores computed from synced data'),
  ('public.performance_score_history', 'content', 'scores over time'),
  ('private.channel_credentials', 'credentials', 'OAuth tokens: Google may have replaced or revoked them since'),
  ('private.youtube_oauth_states', 'credentials', 'single-use consent states; a used one must stay used'),
  ('public.invitations', 'credentials', 'single-use invitation tokens; an accepted or revoked one must stay so'),
  ('public.generation_usage', 'ledger', 'generations and renders counted toward monthly limits'),
  ('public.generation_calls', 'ledger', 'Gemini calls made and tokens spent'),
  ('public.youtube_quota_usage', 'ledger', 'YouTube quota units spent; YouTube does not give them back'),
  ('public.sync_runs', 'external_state', 'syncs run against YouTube, and the queue of the next ones'),
  ('public.video_jobs', 'external_state', 'renders at RevID, credits spent and videos made'),
  ('public.upload_schedules', 'external_state', 'uploads to YouTube: what is published must not be uploaded again'),
  ('public.upload_events', 'external_state', 'the history of uploads'),
  ('private.upload_sessions', 'external_state', 'YouTube resumable upload sessions'),
  ('public.profiles', 'account', 'per-user rows, snapshotted with the user list; a workspace restore never changes users'),
  ('private.youtube_api_costs', 'platform', 'YouTube''s cost per endpoint'),
  ('private.youtube_daily_budget', 'platform', 'the project''s daily YouTube budget');
