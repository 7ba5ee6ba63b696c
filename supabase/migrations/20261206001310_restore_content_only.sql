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

create table ops.backup_table_classes (
  table_name text primary key,
  class text not null check (class in ('content', 'credentials', 'ledger', 'external_state', 'account', 'platform')),
  why text not null check (length(why) > 0)
);

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

-- Section: catalog

-- Every table in `public` and `private` that belongs to a workspace, with its scope and depth in
-- the foreign-key graph (the discovery ops.backup_tables did before; its body unchanged).
create function ops.tenant_tables()
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

-- The tenant tables a snapshot takes and a restore rewrites: the content ones. Refuses (CEB02)
-- while any table is unclassified or a content table references another class.
create or replace function ops.backup_tables()
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

-- Section: restore

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

-- Restores one workspace's content to a snapshot in the caller's transaction (see the 0900
-- migration for the mechanics; this replaces it): deletes the workspace's content rows
-- children-first, inserts the snapshot's rows parents-first, checks references to users, verifies
-- every content table against the snapshot, then applies the foreign keys' delete rules to the
-- rows it does not rewrite and keeps each channel's present connection state. Triggers are off
-- while it writes (session_replication_role = replica) so rows come back exactly as they were.
-- Ledgers, credentials and external state are never written except by those delete rules.
create or replace function ops.restore_workspace(snapshot_id bigint, workspace_id uuid)
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

-- Section: grants

revoke all on table ops.backup_table_classes from public, anon, authenticated;
revoke all on function ops.tenant_tables() from public;
revoke all on function ops.backup_classification_problems() from public;
revoke all on function ops.check_restorable(bigint, uuid) from public;
revoke all on function ops.verify_restored_workspace(bigint, uuid) from public;
revoke all on function ops.restore_delete_rules() from public;
revoke all on function ops.restore_apply_delete_rules(uuid) from public;
