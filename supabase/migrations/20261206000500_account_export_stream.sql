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

-- The three queries of one table of a workspace's data: its opening with the column names (a
-- comma before it unless it is the first member), its rows as JSON arrays (a comma before each
-- piece but the first; grouped per video where the table is a per-video series) and the close.
create function private.account_export_table(key text, tbl regclass, workspace uuid, first_member boolean)
returns text[]
language plpgsql stable set search_path = '' as $$
declare
  cols text[] := private.account_export_columns(tbl);
  row_json text := format('json_build_array(%s)::text', (select string_agg(format('r.%I', c), ', ') from unnest(cols) c));
  comma text := $c$case when row_number() over () = 1 then '' else ',' end$c$;
begin
  return array[
    format('select %L::text', case when first_member then '' else ',' end || to_json(key)::text
      || ':{"columns":' || to_json(cols)::text || ',"rows":['),
    case when private.account_export_per_video(tbl) then
      format($f$select %s || g.piece from public.videos v
        cross join lateral (select string_agg(%s, ',') as piece from %s r where r.video_id = v.id) g
        where v.workspace_id = %L::uuid and g.piece is not null$f$, comma, row_json, tbl, workspace)
    else
      format('select %s || %s from %s r where r.workspace_id = %L::uuid', comma, row_json, tbl, workspace)
    end,
    $q$select ']}'::text$q$];
end
$$;

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

-- The queries that write "workspace_data": one object per workspace the caller owns.
create function private.account_export_workspace_queries(caller uuid) returns text[]
language plpgsql stable security definer set search_path = '' as $$
declare
  queries text[] := array[$q$select ',"workspace_data":{'::text$q$];
  w record;
  t record;
  first_workspace boolean := true;
  first_table boolean;
begin
  for w in
    select m.workspace_id as id from public.workspace_members m join public.workspaces ws on ws.id = m.workspace_id
    where m.user_id = caller and m.role = 'owner' order by ws.created_at, ws.id
  loop
    queries := queries || format('select %L::text', case when first_workspace then '' else ',' end || to_json(w.id::text)::text || ':{');
    first_workspace := false;
    first_table := true;
    for t in select * from private.account_export_workspace_tables() loop
      queries := queries || private.account_export_table(t.relname, t.tbl, w.id, first_table);
      first_table := false;
    end loop;
    queries := queries || $q$select '}'::text$q$::text;
  end loop;
  return queries || $q$select '}'::text$q$::text;
end
$$;

-- Opens the cursor `account_export` over the caller's whole export, as JSON text in pieces that
-- concatenate to one document. It is one query (a UNION ALL of every section, in document order:
-- without ORDER BY and outside parallel query, which cursors never use, Postgres runs the
-- branches one after the other), so the whole export reads one snapshot. Security definer: it
-- reads auth.users and auth.sessions; every branch filters by the caller or by a workspace the
-- caller owns. The cursor lives until the end of the caller's transaction.
-- Errors: 28000 not authenticated.
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
  -- The head without its closing brace; the other members follow it.
  queries := array[format('select %L::text', left(private.account_export_head(caller)::text, -1) || ',"other_tables":{')];
  for t in select * from private.account_export_user_tables(caller) loop
    queries := queries || private.account_export_array(t.relname, t.tbl, t.filter, first_table);
    first_table := false;
  end loop;
  queries := queries || $q$select '}'::text$q$::text || private.account_export_workspace_queries(caller)
    || $q$select '}'::text$q$::text;
  open export no scroll for execute array_to_string(queries, E'\nunion all\n');
  return export;
end
$$;

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

-- export_my_account() keeps its document (without workspace_data: it is one value in memory),
-- now sharing the head and the table discovery with the stream.
create or replace function public.export_my_account()
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

revoke all on function
  private.account_export_head(uuid),
  private.account_export_user_tables(uuid),
  private.account_export_row_json(regclass),
  private.account_export_per_video(regclass),
  private.account_export_array(text, regclass, text, boolean),
  private.account_export_columns(regclass),
  private.account_export_table(text, regclass, uuid, boolean),
  private.account_export_workspace_tables(),
  private.account_export_workspace_queries(uuid)
  from public, anon, authenticated, service_role;

revoke all on function public.open_account_export(), public.fetch_export_chunk(refcursor, integer) from public, anon;
grant execute on function public.open_account_export(), public.fetch_export_chunk(refcursor, integer) to authenticated;
