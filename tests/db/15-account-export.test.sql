-- The streamed account export (public.open_account_export + public.fetch_export_chunk): the
-- pieces concatenate to one JSON document whatever the chunk size; it is export_my_account()'s
-- document plus workspace_data, which holds every table of the workspaces the caller owns (and
-- only those, and exactly their rows, as {columns, rows}), without credential columns.
begin;
select plan(16);

-- Rows of a table that belong to a workspace, counted directly.
create function pg_temp.rows_of(tbl text, ws uuid) returns int language plpgsql as $$
declare n int;
begin
  execute format('select count(*)::int from public.%I where workspace_id = $1', tbl) into n using ws;
  return n;
end $$;

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

-- The whole stream as the owner, fetched in chunks of 64 bytes and of 1 MB.
select tests.authenticate_as('export_owner');
select public.open_account_export() as cursor \gset
select string_agg(c, '' order by i) as doc_small
  from (select i, public.fetch_export_chunk(:'cursor', 64) as c from generate_series(1, 20000) i) x \gset
close account_export;
select public.open_account_export() as cursor \gset
select string_agg(c, '' order by i) as doc
  from (select i, public.fetch_export_chunk(:'cursor', 1048576) as c from generate_series(1, 10) i) x \gset
close account_export;
select public.export_my_account()::text as whole \gset
select tests.authenticate_as('export_viewer');
select public.open_account_export() as cursor \gset
select string_agg(c, '' order by i) as viewer_doc
  from (select i, public.fetch_export_chunk(:'cursor', 1048576) as c from generate_series(1, 10) i) x \gset
close account_export;
select tests.clear_authentication();

select is(:'doc_small'::text, :'doc'::text, 'chunks of 64 bytes and of 1 MB concatenate to the same text');
select ok(octet_length(:'doc') > 64 * 100, 'the small chunks really cut the document in many pieces');
select is(jsonb_typeof(:'doc'::jsonb), 'object', 'the pieces are one JSON object');
select is(:'doc'::jsonb - 'workspace_data', :'whole'::jsonb,
  'everything but workspace_data is export_my_account()''s document');
select is((select array_agg(k) from jsonb_object_keys(:'doc'::jsonb -> 'workspace_data') k), array[:'ws'],
  'workspace_data holds the one workspace the owner owns');
select is(
  (select array_agg(k order by k) from jsonb_object_keys(:'doc'::jsonb -> 'workspace_data' -> :'ws') k),
  (select array_agg(table_name::text order by table_name::text) from information_schema.columns
   where table_schema = 'public' and column_name = 'workspace_id'),
  'every public table with a workspace_id is exported');
select is(
  (select count(*)::int from jsonb_each(:'doc'::jsonb -> 'workspace_data' -> :'ws') t
   where jsonb_array_length(t.value -> 'rows') <> pg_temp.rows_of(t.key, :'ws')),
  0, 'every table has exactly the workspace''s rows (its fixture rows at least)');
select is(
  (select count(*)::int from jsonb_each(:'doc'::jsonb -> 'workspace_data' -> :'ws') t, jsonb_array_elements(t.value -> 'rows') r
   where jsonb_array_length(r) <> jsonb_array_length(t.value -> 'columns')),
  0, 'every row has a value for each column named');
select is(jsonb_array_length(:'doc'::jsonb -> 'workspace_data' -> :'ws' -> 'video_metrics' -> 'rows'), 16,
  'the per-video series is complete (16 rows over 4 videos)');
select is(
  (select sum((r ->> (array_position(array(select jsonb_array_elements_text(m -> 'columns')), 'views') - 1))::bigint)
   from (select :'doc'::jsonb -> 'workspace_data' -> :'ws' -> 'video_metrics' as m) x, jsonb_array_elements(m -> 'rows') r)::bigint,
  (select sum(views) from public.video_metrics where workspace_id = :'ws')::bigint,
  'metric values are exported as stored');
select ok(
  not jsonb_path_exists(:'doc'::jsonb, 'strict $.**.webhook_secret_hash')
  and not jsonb_path_exists(:'doc'::jsonb, 'strict $.**.token_hash')
  and position('webhook_secret_hash' in :'doc') = 0 and position('token_hash' in :'doc') = 0
  and position(:'stranger_ws' in :'doc') = 0,
  'no credential columns and nothing of another tenant');
select is((select array_agg(k) from jsonb_object_keys(:'viewer_doc'::jsonb -> 'workspace_data') k), array[:'viewer_ws'],
  'a viewer of a workspace does not get its data, only their own workspace''s');

select tests.authenticate_as_anon();
select throws_ok($$ select public.open_account_export() $$, '42501', null, 'anon cannot open an export');
select tests.authenticate_as('export_owner');
select throws_ok($$ select private.account_export_head(auth.uid()) $$, '42501', null,
  'the private pieces are not callable by users');
select tests.set_claims('{"role": "authenticated"}');
select throws_ok($$ select public.open_account_export() $$, '28000', 'not authenticated', 'no user, no export');
select tests.authenticate_as('export_owner');
select is(public.fetch_export_chunk(public.open_account_export(), 10) is not null, true,
  'a user opens and reads their own export');
select tests.clear_authentication();

select * from finish();
rollback;
