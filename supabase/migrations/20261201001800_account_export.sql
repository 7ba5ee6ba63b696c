-- The account export (GET /account/export) as a stream, and with the data of the workspaces the
-- caller owns.
--
-- public.export_my_account() builds the whole document as one jsonb value, which the function
-- then held as one string. That holds the rows that reference the caller, but not the data of a
-- workspace they own: a workspace of 10,000 videos with a year of daily metrics is 3.65 M rows,
-- about 1 GB of JSON, far over an edge function's 256 MB. Here the database writes the document
-- as a sequence of text pieces through one cursor (public.open_account_export), and the function
-- fetches them in chunks of about a megabyte (public.fetch_export_chunk) and passes the bytes on,
-- so neither side's memory grows with the account. The document is the one export_my_account()
-- made, plus "workspace_data": { "<workspace id>": { "<table>": {"columns": [...], "rows":
-- [[...]]} } } for every workspace the caller is an owner of (a team's data belongs to its
-- owners; members export their own rows).
--
-- The account export in parts: the account document no longer inlines the data of the workspaces
-- the caller owns; it lists them (workspace_exports), and each workspace's data is downloaded as a
-- series of bounded, self-contained parts (GET /account/export/workspaces/:id?cursor=...).
--
-- Why: the function spends CPU on every byte it passes on (about 5 ms per MB through postgres.js
-- and the response). A workspace of 10,000 videos x 365 days is about 400 MB of JSON, 2 s of CPU,
-- which is over an edge function's per-request limit whatever the streaming. A part stops near a
-- byte budget the caller gives (64 MB in production, a few hundred bytes in the tests), so every
-- request stays far under the limit, and the next part starts where the last one stopped: a
-- stateless keyset cursor (table, last primary key) that the client sends back. The cursor never
-- names a workspace; the workspace is the one in the URL, checked to be owned by the caller, and
-- every query filters by it, so a forged cursor can only move within the caller's own data.

-- Keeps only the listed keys of a JSON object. Used for auth.* rows so that credentials
-- (password hash, confirmation/recovery tokens, refresh-token keys) never reach an export, and
-- so that the list works on hosted GoTrue's wider tables and on the local emulator's alike.
create function private.only_keys(doc jsonb, keep text[]) returns jsonb
language sql immutable set search_path = '' as $$
  select coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
  from jsonb_each(doc) e
  where e.key = any (keep)
$$;

revoke all on function private.only_keys(jsonb, text[]) from public, anon, authenticated, service_role;

-- Columns that hold credentials (or hashes of them) are left out of an export wherever a table
-- of a later migration puts them.
create function private.without_credentials(doc jsonb) returns jsonb
language sql immutable set search_path = '' as $$
  select coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
  from jsonb_each(doc) e
  where e.key !~* '(token|secret|password|_hash$)'
$$;

revoke all on function private.without_credentials(jsonb) from public, anon, authenticated, service_role;

-- The top of the document: every key of export_my_account() but other_tables. Taken out of it
-- so both build it the same way.
create function private.account_export_head(caller uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'exported_at', now(),
    'user', (
      select private.only_keys(to_jsonb(u), array[
        'id', 'aud', 'role', 'email', 'email_confirmed_at', 'phone', 'phone_confirmed_at',
        'confirmed_at', 'invited_at', 'last_sign_in_at', 'raw_app_meta_data', 'raw_user_meta_data',
        'created_at', 'updated_at', 'banned_until', 'deleted_at', 'is_anonymous'])
      from auth.users u where u.id = caller),
    'sessions', (
      select coalesce(jsonb_agg(private.only_keys(to_jsonb(s), array[
        'id', 'created_at', 'updated_at', 'not_after', 'refreshed_at', 'user_agent', 'ip', 'aal'])
        order by s.created_at), '[]'::jsonb)
      from auth.sessions s where s.user_id = caller),
    'profile', (select to_jsonb(p) from public.profiles p where p.id = caller),
    'memberships', (
      select coalesce(jsonb_agg(to_jsonb(m) order by m.created_at), '[]'::jsonb)
      from public.workspace_members m where m.user_id = caller),
    'workspaces', (
      select coalesce(jsonb_agg(to_jsonb(w) || jsonb_build_object('role', m.role) order by w.created_at), '[]'::jsonb)
      from public.workspaces w join public.workspace_members m on m.workspace_id = w.id
      where m.user_id = caller),
    'invitations_sent', (
      select coalesce(jsonb_agg(to_jsonb(i) - 'token_hash' order by i.created_at), '[]'::jsonb)
      from public.invitations i where i.invited_by = caller),
    'invitations_accepted', (
      select coalesce(jsonb_agg(to_jsonb(i) - 'token_hash' order by i.created_at), '[]'::jsonb)
      from public.invitations i where i.accepted_by = caller)
  )
$$;

revoke all on function private.account_export_head(uuid) from public, anon, authenticated, service_role;

-- Tables whose rows reference the caller through a single-column foreign key to auth.users,
-- other than the four the head covers (as export_my_account() found them), with the filter that
-- picks the caller's rows.
create function private.account_export_user_tables(caller uuid)
returns table (tbl regclass, relname text, filter text)
language sql stable security definer set search_path = '' as $$
  select c.oid::regclass, c.relname::text,
    string_agg(format('r.%I = %L::uuid', a.attname, caller), ' or ' order by a.attnum)
  from pg_catalog.pg_constraint k
  join pg_catalog.pg_class c on c.oid = k.conrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
  where k.contype = 'f'
    and k.confrelid = 'auth.users'::regclass
    and cardinality(k.conkey) = 1
    and n.nspname = 'public'
    and c.relname not in ('profiles', 'workspace_members', 'workspaces', 'invitations')
  group by c.oid, c.relname
  order by c.relname
$$;

revoke all on function private.account_export_user_tables(uuid) from public, anon, authenticated, service_role;

-- The expression (over alias r) that writes a row as JSON text: row_to_json, which is cheaper
-- than jsonb and keeps the column order, unless a column looks like a credential; then the
-- row goes through private.without_credentials, as export_my_account() does for every row.
create function private.account_export_row_json(tbl regclass) returns text
language sql stable set search_path = '' as $$
  select case when exists (
      select 1 from pg_catalog.pg_attribute a
      where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped
        and a.attname ~* '(token|secret|password|_hash$)')
    then 'private.without_credentials(to_jsonb(r))::text'
    else 'row_to_json(r)::text' end
$$;

revoke all on function private.account_export_row_json(regclass) from public, anon, authenticated, service_role;

-- A table whose primary key starts with video_id holds a series per video (daily metrics, score
-- history): millions of rows for a big workspace. Its rows are written grouped per video, one
-- piece per video through the primary key, because every piece costs the cursor a fetch of its
-- own (3.65 M metric rows took 70 s to fetch one by one on a loaded 2-core machine).
create function private.account_export_per_video(tbl regclass) returns boolean
language sql stable set search_path = '' as $$
  select exists (
    select 1 from pg_catalog.pg_index i
    join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
    where i.indrelid = tbl and i.indisprimary and a.attname = 'video_id')
$$;

revoke all on function private.account_export_per_video(regclass) from public, anon, authenticated, service_role;

-- The three queries of one `"key": [rows]` member of other_tables: its opening (with the comma
-- before it unless it is the first member of its object), its rows as objects (a comma before
-- each but the first) and ']'.
create function private.account_export_array(key text, tbl regclass, filter text, first_member boolean)
returns text[]
language sql stable set search_path = '' as $$
  select array[
    format('select %L::text', case when first_member then '' else ',' end || to_json(key)::text || ':['),
    format($f$select case when row_number() over () = 1 then '' else ',' end || %s from %s r where %s$f$,
      private.account_export_row_json(tbl), tbl, filter),
    $q$select ']'::text$q$]
$$;

revoke all on function private.account_export_array(text, regclass, text, boolean) from public, anon, authenticated, service_role;

-- workspace_data is written as tables, not as objects per row: `"<table>": {"columns": [...],
-- "rows": [[...], ...]}`, without the workspace_id column (the key above it) and without
-- credential columns. Row objects repeat every column name in every row; for daily metrics that
-- tripled the bytes (1.2 GB for 3.65 M rows), and bytes are what the function spends its CPU on.
create function private.account_export_columns(tbl regclass) returns text[]
language sql stable set search_path = '' as $$
  select coalesce(array_agg(a.attname::text order by a.attnum), '{}')
  from pg_catalog.pg_attribute a
  where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped
    and a.attname <> 'workspace_id'
    and a.attname !~* '(secret|password|_hash$|(^|_)token$)'
$$;

revoke all on function private.account_export_columns(regclass) from public, anon, authenticated, service_role;

-- Tables that hold a workspace's data: every public table with a workspace_id column.
create function private.account_export_workspace_tables() returns table (tbl regclass, relname text)
language sql stable set search_path = '' as $$
  select c.oid::regclass, c.relname::text
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'workspace_id' and not a.attisdropped
  where n.nspname = 'public' and c.relkind in ('r', 'p')
  order by c.relname
$$;

revoke all on function private.account_export_workspace_tables() from public, anon, authenticated, service_role;

-- export_my_account() keeps its document (without workspace_data: it is one value in memory),
-- now sharing the head and the table discovery with the stream.
create function public.export_my_account()
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  other jsonb := '{}'::jsonb;
  t record;
  rows jsonb;
begin
  if caller is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;
  for t in select * from private.account_export_user_tables(caller) loop
    execute format('select coalesce(jsonb_agg(private.without_credentials(to_jsonb(r))), ''[]''::jsonb) from %s r where %s', t.tbl, t.filter)
      into rows;
    other := other || jsonb_build_object(t.relname, rows);
  end loop;
  return private.account_export_head(caller) || jsonb_build_object('other_tables', other);
end
$$;

revoke all on function public.export_my_account() from public, anon;

grant execute on function public.export_my_account() to authenticated;

-- The primary key columns of a table, in key order, with their types (for casting a cursor's key
-- back from JSON). Every table with a workspace_id has one; a table without one would be refused
-- by the part functions rather than exported without a way to resume.
create function private.account_export_key(tbl regclass) returns table (name text, type text)
language sql stable set search_path = '' as $$
  select a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod)
  from pg_catalog.pg_index i
  cross join lateral unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
  join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
  where i.indrelid = tbl and i.indisprimary
  order by k.ord
$$;

revoke all on function private.account_export_key(regclass) from public, anon, authenticated, service_role;

-- The query for one batch of a table's rows of a workspace after a key, in key order: $1 the
-- workspace, $2 the last key sent (a JSON array, or null from the start), $3 the row limit. It
-- returns the rows as JSON arrays joined by commas, their bytes, their count and the key of the
-- last one. Per-video series (primary key starting with video_id) go through the workspace's
-- videos and the primary key of each, as the streamed export did: ordering the whole table by
-- its key with a workspace filter would walk every tenant's rows.
create function private.account_export_batch_query(tbl regclass) returns text
language plpgsql stable set search_path = '' as $$
declare
  cols text[] := private.account_export_columns(tbl);
  row_json text := format('json_build_array(%s)::text', (select string_agg(format('r.%I', c), ', ') from unnest(cols) c));
  key_cols text;
  key_casts text;
  rows_query text;
begin
  select string_agg(format('r.%I', k.name), ', ' order by k.ord),
         string_agg(format('($2->>%s)::%s', k.ord - 1, k.type), ', ' order by k.ord)
    into key_cols, key_casts
    from private.account_export_key(tbl) with ordinality k(name, type, ord);
  if key_cols is null then
    raise exception 'table % has no primary key to export it by', tbl using errcode = '55000';
  end if;
  if private.account_export_per_video(tbl) then
    rows_query := format($f$select r.* from (select v.id from public.videos v
        where v.workspace_id = $1 and ($2 is null or v.id >= ($2->>0)::uuid)) v
      cross join lateral (select * from %1$s r where r.video_id = v.id and ($2 is null or (%2$s) > (%3$s))) r
      order by %2$s limit $3$f$, tbl, key_cols, key_casts);
  else
    rows_query := format($f$select r.* from %1$s r where r.workspace_id = $1 and ($2 is null or (%2$s) > (%3$s))
      order by %2$s limit $3$f$, tbl, key_cols, key_casts);
  end if;
  return format($f$select string_agg(x.j, ',' order by x.ord), coalesce(sum(octet_length(x.j)), 0)::bigint,
      count(*)::int, (array_agg(x.k order by x.ord desc))[1]
    from (select row_number() over () as ord, %s as j, jsonb_build_array(%s) as k from (%s) r) x$f$,
    row_json, key_cols, rows_query);
end
$$;

revoke all on function private.account_export_batch_query(regclass) from public, anon, authenticated, service_role;

-- The caller owns the workspace, or CEX01 (404: the same answer whether it exists or not).
create function private.account_export_require_owner(workspace uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if (select auth.uid()) is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;
  if not exists (select 1 from public.workspace_members m
                 where m.workspace_id = workspace and m.user_id = (select auth.uid()) and m.role = 'owner') then
    raise exception 'no workspace % that you own', workspace using errcode = 'CEX01';
  end if;
end
$$;

revoke all on function private.account_export_require_owner(uuid) from public, anon, authenticated, service_role;

-- A cursor names a workspace table and, when it resumes inside it, a key of that table's primary
-- key (as many values as key columns, each castable to its column's type). Anything else is 22023.
create function private.account_export_check_cursor(from_table text, from_key jsonb) returns void
language plpgsql stable set search_path = '' as $$
declare
  tbl regclass := (select t.tbl from private.account_export_workspace_tables() t where t.relname = from_table);
begin
  if tbl is null then
    raise exception 'invalid cursor: % is not a table of a workspace''s data', from_table using errcode = '22023';
  end if;
  if from_key is null then
    return;
  end if;
  if jsonb_typeof(from_key) <> 'array'
     or jsonb_array_length(from_key) <> (select count(*) from private.account_export_key(tbl)) then
    raise exception 'invalid cursor: the key does not fit table %', from_table using errcode = '22023';
  end if;
  begin
    execute format('select (%s)', (select string_agg(format('($1->>%s)::%s', k.ord - 1, k.type), ', ' order by k.ord)
      from private.account_export_key(tbl) with ordinality k(name, type, ord))) using from_key;
  exception when data_exception then
    raise exception 'invalid cursor: the key does not fit table %', from_table using errcode = '22023';
  end;
end
$$;

revoke all on function private.account_export_check_cursor(text, jsonb) from public, anon, authenticated, service_role;

-- One table's share of a part: the pieces of `"<table>": {"columns": [...], "rows": [...]}` from
-- from_key on, in batches, until the table ends or the part's bytes reach max_bytes. A batch is
-- at most 5,000 rows and, near the budget, about as many rows as the bytes left allow (at 128
-- bytes a row), so a part overshoots its budget by one small batch at most. Returns the pieces,
-- their bytes, and the key to resume from (null when the table is done).
create function private.account_export_table_part(
  relname text, tbl regclass, workspace uuid, from_key jsonb, budget bigint, first_member boolean,
  out pieces text[], out bytes bigint, out resume_key jsonb)
language plpgsql stable set search_path = '' as $$
declare
  q text := private.account_export_batch_query(tbl);
  key jsonb := from_key;
  lim int;
  piece text;
  n_bytes bigint;
  n int;
  last_key jsonb;
  first_row boolean := true;
begin
  pieces := array[case when first_member then '' else ',' end || to_json(relname)::text
    || ':{"columns":' || to_json(private.account_export_columns(tbl))::text || ',"rows":['];
  bytes := octet_length(pieces[1]);
  loop
    lim := greatest(1, least(5000, (budget - bytes) / 128));
    execute q into piece, n_bytes, n, last_key using workspace, key, lim;
    if n > 0 then
      pieces := pieces || (case when first_row then '' else ',' end || piece);
      bytes := bytes + n_bytes + n;
      first_row := false;
      key := last_key;
    end if;
    if n < lim then
      resume_key := null;
      exit;
    end if;
    if bytes >= budget then
      resume_key := key;
      exit;
    end if;
  end loop;
  pieces := pieces || ']}'::text;
  bytes := bytes + 2;
end
$$;

revoke all on function private.account_export_table_part(text, regclass, uuid, jsonb, bigint, boolean) from public, anon, authenticated, service_role;

-- The pieces of one part, in document order: `{"workspace_id": ..., "part": n, "tables": {...},
-- "next_cursor": "<cursor>" | null}`. The tables follow each other in name order from the
-- cursor's; a table that a part starts is written even when it has no rows, so every table's
-- columns appear in some part. The cursor is base64url (unpadded) of {"p": next part, "t": table,
-- "k": key to resume after, or null}: opaque to clients, read back by the function.
create function private.account_export_part_pieces(
  workspace uuid, from_table text, from_key jsonb, part integer, max_bytes integer)
returns setof text
language plpgsql stable security definer set search_path = '' as $$
declare
  t record;
  started boolean := from_table is null;
  first_member boolean := true;
  size bigint := 0;
  share record;
  next_cursor jsonb;
begin
  return next format('{"workspace_id":%s,"part":%s,"tables":{', to_json(workspace::text), part);
  for t in select * from private.account_export_workspace_tables() loop
    if not started and t.relname <> from_table then
      continue;
    end if;
    if size >= max_bytes then
      next_cursor := jsonb_build_object('p', part + 1, 't', t.relname, 'k', null);
      exit;
    end if;
    select * into share from private.account_export_table_part(
      t.relname, t.tbl, workspace, case when started then null else from_key end, max_bytes - size, first_member);
    started := true;
    first_member := false;
    size := size + share.bytes;
    return query select unnest(share.pieces);
    if share.resume_key is not null then
      next_cursor := jsonb_build_object('p', part + 1, 't', t.relname, 'k', share.resume_key);
      exit;
    end if;
  end loop;
  return next '},"next_cursor":' || coalesce(
    to_json(translate(encode(convert_to(next_cursor::text, 'UTF8'), 'base64'), E'+/=\n', '-_'))::text, 'null') || '}';
end
$$;

revoke all on function private.account_export_part_pieces(uuid, text, jsonb, integer, integer) from public, anon, authenticated, service_role;

-- Opens the cursor `workspace_export_part` over one part of a workspace's data, as text pieces
-- that concatenate to one JSON document, read with public.fetch_export_chunk like the account
-- export. The checks run here, before the function starts its response: a workspace the caller
-- does not own is CEX01, a cursor that does not fit the workspace's tables is 22023. Security
-- definer, as open_account_export: the pieces read every table of the workspace, which the owner
-- can see anyway, and nothing else.
-- Errors: 28000 not authenticated, CEX01 not an owner, 22023 invalid cursor or budget.
create function public.open_workspace_export_part(
  workspace uuid, from_table text, from_key jsonb, part integer, max_bytes integer)
returns refcursor
language plpgsql volatile security definer set search_path = '' as $$
declare
  export refcursor := 'workspace_export_part';
begin
  perform private.account_export_require_owner(workspace);
  -- A cursor at the start of a table carries a JSON null key: the same as none.
  if jsonb_typeof(from_key) = 'null' then
    from_key := null;
  end if;
  if part is null or part < 1 or max_bytes is null or max_bytes < 1 then
    raise exception 'invalid cursor: part and byte budget must be positive' using errcode = '22023';
  end if;
  if from_table is not null then
    perform private.account_export_check_cursor(from_table, from_key);
  elsif from_key is not null then
    raise exception 'invalid cursor: a key without its table' using errcode = '22023';
  end if;
  open export no scroll for select p from private.account_export_part_pieces(workspace, from_table, from_key, part, max_bytes) p;
  return export;
end
$$;

revoke all on function public.open_workspace_export_part(uuid, text, jsonb, integer, integer) from public, anon;

grant execute on function public.open_workspace_export_part(uuid, text, jsonb, integer, integer) to authenticated;

-- The account export without workspace_data: where it was, "workspace_exports" lists the
-- workspaces the caller owns, with the path (under the functions URL) of each one's first part.
create function private.account_export_workspace_list(caller uuid) returns text
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
      'workspace_id', ws.id, 'name', ws.name,
      'first_part_path', 'account/export/workspaces/' || ws.id::text)
    order by ws.created_at, ws.id), '[]'::jsonb)::text
  from public.workspace_members m join public.workspaces ws on ws.id = m.workspace_id
  where m.user_id = caller and m.role = 'owner'
$$;

revoke all on function private.account_export_workspace_list(uuid) from public, anon, authenticated, service_role;

create function public.open_account_export() returns refcursor
language plpgsql volatile security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  queries text[];
  t record;
  first_table boolean := true;
  export refcursor := 'account_export';
begin
  if caller is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;
  queries := array[format('select %L::text', left(private.account_export_head(caller)::text, -1) || ',"other_tables":{')];
  for t in select * from private.account_export_user_tables(caller) loop
    queries := queries || private.account_export_array(t.relname, t.tbl, t.filter, first_table);
    first_table := false;
  end loop;
  queries := queries || format('select %L::text', '},"workspace_exports":' || private.account_export_workspace_list(caller) || '}');
  open export no scroll for execute array_to_string(queries, E'\nunion all\n');
  return export;
end
$$;

revoke all on function public.open_account_export() from public, anon;

grant execute on function public.open_account_export() to authenticated;
