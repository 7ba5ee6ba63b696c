-- Stored insights documents (20261201001700_insights_documents): a second read of an unchanged
-- workspace is the stored document; a write to a table behind it (here video_metrics) makes the
-- next read recompute; documents are kept per channel and per time zone; outsiders still get
-- null and never reach another workspace's document.
begin;
select plan(10);

select tests.create_user('docs_owner');
select tests.create_user('docs_outsider');
select m.workspace_id as ws from public.workspace_members m where m.user_id = tests.get_user_id('docs_owner') \gset
insert into public.channels (workspace_id, youtube_channel_id) values (:'ws', 'UCdocs') returning id as ch \gset
insert into public.videos (workspace_id, channel_id, youtube_video_id, published_at)
values (:'ws', :'ch', 'docsA', now() - interval '40 days') returning id as va \gset
insert into public.video_metrics (workspace_id, video_id, day, views)
select :'ws', :'va', current_date - d, 10 from generate_series(1, 30) d;

select tests.authenticate_as('docs_owner');
select (public.workspace_insights_cached(:'ws') -> 'totals' -> 'views' ->> 'current')::int as first_views \gset
select tests.clear_authentication();
select is(:first_views, 280, 'the first read computes the document (28 days of 10 views)');
select is((select count(*)::int from ops.insights_documents where workspace_id = :'ws'), 1, 'and stores it');
select computed_at as stored_at from ops.insights_documents where workspace_id = :'ws' \gset

-- A document changed behind the function's back is served as stored while nothing changed.
update ops.insights_documents set doc = jsonb_set(doc, '{marker}', '"stored"') where workspace_id = :'ws';
select tests.authenticate_as('docs_owner');
select is(public.workspace_insights_cached(:'ws') ->> 'marker', 'stored', 'a second read of an unchanged workspace is the stored document');

-- Channel and whole-workspace documents are separate.
select is((public.workspace_insights_cached(:'ws', :'ch') ->> 'channel_id')::uuid, :'ch'::uuid, 'a channel read gets the channel''s document');
select tests.clear_authentication();
select is((select count(*)::int from ops.insights_documents where workspace_id = :'ws'), 2, 'stored next to the workspace''s');

-- New metrics (the sync writing) invalidate it.
insert into public.video_metrics (workspace_id, video_id, day, views) values (:'ws', :'va', current_date, 1000)
on conflict (video_id, day) do update set views = excluded.views;
select tests.authenticate_as('docs_owner');
select ok(public.workspace_insights_cached(:'ws') ->> 'marker' is null, 'after a write to video_metrics the read recomputes');
select is((public.workspace_insights_cached(:'ws') -> 'totals' -> 'views' ->> 'current')::int, 1270,
  'and the new document has the new day (1,000 more views, the oldest day out of the window)');

-- Another time zone is another document.
select tests.clear_authentication();
update public.profiles set timezone = 'America/New_York' where id = tests.get_user_id('docs_owner');
select tests.authenticate_as('docs_owner');
select is(public.workspace_insights_cached(:'ws') ->> 'time_zone', 'America/New_York', 'a member in another time zone gets a document in it');

-- Outsiders: nothing, and no document made for them.
select tests.authenticate_as('docs_outsider');
select is(public.workspace_insights_cached(:'ws'), null, 'an outsider reads null, as before');
select tests.clear_authentication();
select ok(not has_function_privilege('anon', 'public.workspace_insights_cached(uuid, uuid)', 'EXECUTE'),
  'anonymous callers cannot read it');

select * from finish();
rollback;
