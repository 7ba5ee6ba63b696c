-- Expensive insights documents (20261209000400_insights_documents_bounded_refresh): the time a
-- computation took is stored; a document that took a second or more is served as stored for 15
-- minutes after it was computed although a write came since; a cheap one, an older one and
-- yesterday's one are recomputed after a write, as before.
begin;
select plan(7);

select tests.create_user('bounded_owner');
select m.workspace_id as ws from public.workspace_members m where m.user_id = tests.get_user_id('bounded_owner') \gset
insert into public.channels (workspace_id, youtube_channel_id) values (:'ws', 'UCbounded') returning id as ch \gset
insert into public.videos (workspace_id, channel_id, youtube_video_id, published_at)
values (:'ws', :'ch', 'boundedA', now() - interval '40 days') returning id as va \gset
insert into public.video_metrics (workspace_id, video_id, day, views)
select :'ws', :'va', current_date - d, 10 from generate_series(1, 30) d;

select tests.authenticate_as('bounded_owner');
select public.workspace_insights_cached(:'ws') is not null as computed \gset
select tests.clear_authentication();
select ok((select compute_ms >= 0 from ops.insights_documents where workspace_id = :'ws'), 'the computation''s duration is stored with the document');

-- What a 100,000-video workspace looks like to the function: a computation of 40 s.
update ops.insights_documents set compute_ms = 40000, doc = jsonb_set(doc, '{marker}', '"stored"') where workspace_id = :'ws';
insert into public.video_metrics (workspace_id, video_id, day, views) values (:'ws', :'va', current_date, 1000)
on conflict (video_id, day) do update set views = excluded.views;
select tests.authenticate_as('bounded_owner');
select is(public.workspace_insights_cached(:'ws') ->> 'marker', 'stored',
  'an expensive document computed minutes ago is served as stored after a write (a sync writing)');
select tests.clear_authentication();
select is((select version from ops.insights_documents where workspace_id = :'ws')
  < (select version from ops.cache_versions where scope = :'ws'::text), true, 'and it is still known to be older than the data');

-- Computed 20 minutes ago: recomputed.
update ops.insights_documents set computed_at = now() - interval '20 minutes' where workspace_id = :'ws';
select tests.authenticate_as('bounded_owner');
select is((public.workspace_insights_cached(:'ws') -> 'totals' -> 'views' ->> 'current')::int, 1270,
  'one computed more than 15 minutes ago is recomputed with the new day');
select tests.clear_authentication();
select ok((select version = (select version from ops.cache_versions where scope = :'ws'::text) from ops.insights_documents where workspace_id = :'ws'),
  'and stored at the current version');

-- Cheap (under a second): exact after every write, as before.
update ops.insights_documents set compute_ms = 999, doc = jsonb_set(doc, '{marker}', '"stored"') where workspace_id = :'ws';
insert into public.video_metrics (workspace_id, video_id, day, views) values (:'ws', :'va', current_date, 2000)
on conflict (video_id, day) do update set views = excluded.views;
select tests.authenticate_as('bounded_owner');
select ok(public.workspace_insights_cached(:'ws') ->> 'marker' is null, 'a cheap document is recomputed after a write');

-- Yesterday's expensive document: its windows ended yesterday, so it is recomputed.
select tests.clear_authentication();
update ops.insights_documents set compute_ms = 40000, computed_on = (now() at time zone 'UTC')::date - 1,
  doc = jsonb_set(doc, '{marker}', '"stored"') where workspace_id = :'ws';
select tests.authenticate_as('bounded_owner');
select ok(public.workspace_insights_cached(:'ws') ->> 'marker' is null, 'an expensive document from yesterday is recomputed');

select * from finish();
rollback;
