-- The account export in parts: the account document (public.open_account_export, read with
-- public.fetch_export_chunk) is export_my_account()'s plus workspace_exports, the list of the
-- workspaces the caller owns; each workspace's data comes in parts (public.open_workspace_export_part)
-- that are self-contained JSON documents, end near a byte budget, and chain through next_cursor
-- to exactly the workspace's rows, as {columns, rows} per table, without credential columns.
begin;
select plan(22);

-- Rows of a table that belong to a workspace, counted directly.
create function pg_temp.rows_of(tbl text, ws uuid) returns int language plpgsql as $$
declare n int;
begin
  execute format('select count(*)::int from public.%I where workspace_id = $1', tbl) into n using ws;
  return n;
end $$;

-- The text of a cursor read to its end in chunks of 1 MB; the cursor is closed after.
create function pg_temp.read_all(c refcursor) returns text language plpgsql as $$
declare doc text := ''; chunk text;
begin
  loop
    chunk := public.fetch_export_chunk(c, 1048576);
    exit when chunk is null;
    doc := doc || chunk;
  end loop;
  execute format('close %I', c);
  return doc;
end $$;

-- A next_cursor string back as the JSON it encodes (base64url without padding).
create function pg_temp.decode_cursor(c text) returns jsonb language sql as $$
  select convert_from(decode(translate(c, '-_', '+/') || repeat('=', (4 - length(c) % 4) % 4), 'base64'), 'UTF8')::jsonb
$$;

-- Every part of a workspace's data at a byte budget, following next_cursor from the first.
create function pg_temp.all_parts(ws uuid, budget int) returns jsonb[] language plpgsql as $$
declare parts jsonb[] := '{}'; doc jsonb; c jsonb := null;
begin
  loop
    doc := pg_temp.read_all(public.open_workspace_export_part(ws, c ->> 't', c -> 'k', coalesce((c ->> 'p')::int, 1), budget))::jsonb;
    parts := parts || doc;
    exit when doc -> 'next_cursor' = 'null'::jsonb or cardinality(parts) > 10000;
    c := pg_temp.decode_cursor(doc ->> 'next_cursor');
  end loop;
  return parts;
end $$;

-- The rows of one table over all parts, each row as a JSON array, in part order.
create function pg_temp.rows_in(parts jsonb[], tbl text) returns setof jsonb language sql as $$
  select r from unnest(parts) with ordinality p(doc, n), jsonb_array_elements(p.doc -> 'tables' -> tbl -> 'rows') with ordinality x(r, i)
  order by p.n, x.i
$$;

select tests.create_user('export_owner');
select tests.create_user('export_viewer');
select tests.create_user('export_stranger');
select m.workspace_id as ws from public.workspace_members m where m.user_id = tests.get_user_id('export_owner') \gset
select m.workspace_id as viewer_ws from public.workspace_members m where m.user_id = tests.get_user_id('export_viewer') \gset
select m.workspace_id as stranger_ws from public.workspace_members m where m.user_id = tests.get_user_id('export_stranger') \gset
insert into public.workspace_members (workspace_id, user_id, role) values (:'ws', tests.get_user_id('export_viewer'), 'viewer');
select tests.create_fixture_rows(:'ws', tests.get_user_id('export_owner'));
select tests.create_fixture_rows(:'stranger_ws', tests.get_user_id('export_stranger'));
-- Three more videos with five days each, so the per-video series has several groups of rows.
insert into public.videos (workspace_id, channel_id, youtube_video_id, title)
  select :'ws', c.id, 'exportv' || n, 'Export video ' || n
  from public.channels c, generate_series(1, 3) n where c.workspace_id = :'ws';
insert into public.video_metrics (workspace_id, video_id, day, views)
  select v.workspace_id, v.id, current_date - d, 10 * d
  from public.videos v, generate_series(1, 5) d where v.youtube_video_id like 'exportv%';

-- The account document as the owner and as the viewer; the owner's workspace in parts of 300
-- bytes and in one part of 64 MB.
select tests.authenticate_as('export_owner');
select pg_temp.read_all(public.open_account_export()) as doc \gset
select public.export_my_account()::text as whole \gset
select array_to_json(pg_temp.all_parts(:'ws', 300))::text as small_parts \gset
select array_to_json(pg_temp.all_parts(:'ws', 64 * 1024 * 1024))::text as big_parts \gset
select tests.authenticate_as('export_viewer');
select pg_temp.read_all(public.open_account_export()) as viewer_doc \gset
select tests.clear_authentication();

create temp table small as select array(select jsonb_array_elements(:'small_parts'::jsonb)) as parts;
create temp table big as select array(select jsonb_array_elements(:'big_parts'::jsonb)) as parts;

select is(:'doc'::jsonb - 'workspace_exports', :'whole'::jsonb,
  'the account document is export_my_account()''s plus workspace_exports');
select is(:'doc'::jsonb -> 'workspace_exports',
  jsonb_build_array(jsonb_build_object('workspace_id', :'ws', 'name', 'export_owner''s workspace',
    'first_part_path', 'account/export/workspaces/' || :'ws')),
  'workspace_exports lists the one workspace the owner owns, with its first part');
select is(jsonb_array_length(:'viewer_doc'::jsonb -> 'workspace_exports'), 1, 'a viewer gets only their own workspace listed');
select is(:'viewer_doc'::jsonb -> 'workspace_exports' -> 0 ->> 'workspace_id', :'viewer_ws', '... which is not the one they view');
select is((select cardinality(parts) from big), 1, 'one part holds the small workspace at 64 MB');
select ok((select cardinality(parts) from small) > 10, 'parts of 300 bytes cut the data in many parts');
select is((select array_agg((p ->> 'part')::int order by n) from small, unnest(parts) with ordinality x(p, n)),
  (select array_agg(i) from small, generate_series(1, cardinality(parts)) i), 'parts are numbered 1, 2, 3, ...');
select is((select count(*)::int from small, unnest(parts) p where p ->> 'workspace_id' <> :'ws'), 0,
  'every part names its workspace');
select ok((select bool_and(octet_length(p::text) < 300 + 2000) from small, unnest(parts) p),
  'a part ends near its byte budget (one small batch over at most)');
select is(
  (select array_agg(distinct k order by k) from small, unnest(parts) p, jsonb_object_keys(p -> 'tables') k),
  (select array_agg(table_name::text order by table_name::text) from information_schema.columns
   where table_schema = 'public' and column_name = 'workspace_id'),
  'every public table with a workspace_id is exported');
select is(
  (select count(*)::int from (select distinct k from small, unnest(parts) p, jsonb_object_keys(p -> 'tables') k) t
   where (select count(*) from pg_temp.rows_in((select parts from small), t.k)) <> pg_temp.rows_of(t.k, :'ws')),
  0, 'the small parts hold exactly as many rows as each table has in the workspace');
select is(
  (select count(*)::int from (select distinct k from small, unnest(parts) p, jsonb_object_keys(p -> 'tables') k) t
   where (select count(distinct r) from pg_temp.rows_in((select parts from small), t.k) r)
      <> (select count(*) from pg_temp.rows_in((select parts from small), t.k))),
  0, 'no row comes twice');
select is(
  (select count(*)::int from (select distinct k from big, unnest(parts) p, jsonb_object_keys(p -> 'tables') k) t
   where array(select pg_temp.rows_in((select parts from small), t.k)) <> array(select pg_temp.rows_in((select parts from big), t.k))),
  0, 'the small parts concatenate to the rows of the one big part, in the same order');
select is(
  (select count(*)::int from big, unnest(parts) p, jsonb_each(p -> 'tables') t, jsonb_array_elements(t.value -> 'rows') r
   where jsonb_array_length(r) <> jsonb_array_length(t.value -> 'columns')),
  0, 'every row has a value for each column named');
select is((select count(*)::int from pg_temp.rows_in((select parts from small), 'video_metrics')), 16,
  'the per-video series is complete across parts (16 rows over 4 videos)');
select is(
  (select sum((r ->> (array_position(array(select jsonb_array_elements_text((select parts[1] from big) -> 'tables' -> 'video_metrics' -> 'columns')), 'views') - 1))::bigint)
   from small, pg_temp.rows_in(parts, 'video_metrics') r)::bigint,
  (select sum(views) from public.video_metrics where workspace_id = :'ws')::bigint,
  'metric values are exported as stored');
select ok(
  position('webhook_secret_hash' in :'small_parts') = 0 and position('token_hash' in :'small_parts') = 0
  and position(:'stranger_ws' in :'small_parts') = 0 and position(:'stranger_ws' in :'doc') = 0,
  'no credential columns and nothing of another tenant');

select tests.authenticate_as('export_viewer');
select throws_ok(format('select public.open_workspace_export_part(%L, null, null, 1, 1000)', :'ws'), 'CEX01', null,
  'a viewer cannot export the workspace''s data');
select tests.authenticate_as('export_owner');
select throws_ok(format('select public.open_workspace_export_part(%L, null, null, 1, 1000)', :'stranger_ws'), 'CEX01', null,
  'nor can anyone export another tenant''s workspace');
select throws_ok(format($q$select public.open_workspace_export_part(%L, 'auth.users', null, 1, 1000)$q$, :'ws'), '22023', null,
  'a cursor naming a table outside the workspace''s data is refused');
select throws_ok(format($q$select public.open_workspace_export_part(%L, 'video_metrics', '["not-a-uuid", "2026-01-01"]', 2, 1000)$q$, :'ws'),
  '22023', null, 'a cursor key that does not fit the table is refused');
select tests.authenticate_as_anon();
select throws_ok(format('select public.open_workspace_export_part(%L, null, null, 1, 1000)', :'ws'), '42501', null,
  'anon cannot open a part');
select tests.clear_authentication();

select * from finish();
rollback;
