-- public.loop_insights_cached (20261201001700_insights_documents): the stored document is
-- what public.loop_insights computes, is served again while nothing behind it changed, and is
-- computed again after an outcome, a lineage row or a review decision of the workspace is written;
-- callers who cannot see the workspace get nothing, as from loop_insights.
begin;
select plan(11);

select tests.create_user('ld_owner');
select tests.create_user('ld_outsider');
create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to authenticated, service_role, anon;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('ld_owner');
with c as (insert into public.channels (workspace_id, youtube_channel_id, title)
  values ((select id from ids where name = 'ws'), 'UCloopDocs', 'Docs') returning id)
insert into ids select 'channel', id from c;

-- One video with a 7-day outcome of the given score, published by the engine when `engine`.
create function pg_temp.video(n integer, score numeric, engine boolean) returns void language plpgsql as $$
declare
  ws uuid := (select id from ids where name = 'ws');
  ch uuid := (select id from ids where name = 'channel');
  v uuid;
begin
  insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at)
  values (ws, ch, 'ld-' || n, 'Video ' || n, timestamptz '2026-03-02 18:00:00Z') returning id into v;
  insert into public.video_outcomes (video_id, age_days, workspace_id, channel_id, youtube_video_id, published_at, window_from,
    window_to, views, velocity, retention, engagement, conversion, velocity_percentile, score, peers, channel_median_velocity)
  values (v, 7, ws, ch, 'ld-' || n, timestamptz '2026-03-02 18:00:00Z', '2026-03-02', '2026-03-08', 10, 1, 0, 0, 0, score, score, 20, 1);
  if engine then
    insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule, render, kind,
      approval_source)
    values (gen_random_uuid(), ws, ch, 'ld-' || n, timestamptz '2026-03-02 18:00:00Z', jsonb_build_object('title', 'Video ' || n), '{}',
      'script', 'decision');
  end if;
end
$$;
select pg_temp.video(i, 8 * i, i <= 6) from generate_series(1, 12) i;
-- A thirteenth video whose outcome and lineage come later, each on its own.
insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at)
values ((select id from ids where name = 'ws'), (select id from ids where name = 'channel'), 'ld-13', 'Video 13', timestamptz '2026-03-02 18:00:00Z');

create function pg_temp.strip(doc jsonb) returns jsonb language sql as $$ select doc - 'generated_at' $$;

select tests.authenticate_as('ld_owner');
select is(pg_temp.strip(public.loop_insights_cached((select id from ids where name = 'ws'), null, 7)),
  pg_temp.strip(public.loop_insights((select id from ids where name = 'ws'), null, 7)), 'the stored document is the computation''s');
reset role;
select is((select count(*)::int from ops.loop_insights_documents where workspace_id = (select id from ids where name = 'ws')), 1, 'stored once');
select tests.authenticate_as('ld_owner');
select is(public.loop_insights_cached((select id from ids where name = 'ws'), null, 7) -> 'comparison' -> 'engine' ->> 'videos', '6',
  'six engine uploads');
reset role;

-- The thirteenth video's outcome arrives (organic so far), then it turns out to be the engine's.
insert into public.video_outcomes (video_id, age_days, workspace_id, channel_id, youtube_video_id, published_at, window_from,
  window_to, views, velocity, retention, engagement, conversion, velocity_percentile, score, peers, channel_median_velocity)
select v.id, 7, v.workspace_id, v.channel_id, v.youtube_video_id, v.published_at, '2026-03-02', '2026-03-08', 10, 1, 0, 0, 0, 95, 95, 20, 1
from public.videos v where v.youtube_video_id = 'ld-13';
select tests.authenticate_as('ld_owner');
select is(public.loop_insights_cached((select id from ids where name = 'ws'), null, 7) -> 'comparison' -> 'organic' ->> 'videos', '7',
  'after an outcome is recorded, the document is computed again');
reset role;
insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule, render, kind, approval_source)
values (gen_random_uuid(), (select id from ids where name = 'ws'), (select id from ids where name = 'channel'), 'ld-13',
  timestamptz '2026-03-02 18:00:00Z', '{"title": "Video 13"}', '{}', 'script', 'decision');
select tests.authenticate_as('ld_owner');
select is(public.loop_insights_cached((select id from ids where name = 'ws'), null, 7) -> 'comparison' -> 'engine' ->> 'videos', '7',
  'after an upload is published (its lineage), the document is computed again');
reset role;
-- A review decision: the rejections change.
insert into public.content_review_decisions (workspace_id, content_id, transition_id, decision, version, kind, output, reason,
  decided_at, brief, source_videos, model, prompt_version, content_created_at)
values ((select id from ids where name = 'ws'), gen_random_uuid(), -91, 'reject', 1, 'title', '{"items": [{"title": "Nope"}]}',
  'off topic', now(), '{}', '[]', 'm', 'p', now());
select tests.authenticate_as('ld_owner');
select is(public.loop_insights_cached((select id from ids where name = 'ws'), null, 7) -> 'rejections' ->> 'rejected', '1',
  'after a review decision, the rejections are current');
select is(pg_temp.strip(public.loop_insights_cached((select id from ids where name = 'ws'), (select id from ids where name = 'channel'), 28, 8)),
  pg_temp.strip(public.loop_insights((select id from ids where name = 'ws'), (select id from ids where name = 'channel'), 28, 8)),
  'per channel, age and minimum, as computed');
select throws_ok($$select public.loop_insights_cached((select id from ids where name = 'ws'), null, 3)$$, '22023',
  'age_days must be 1, 7 or 28', 'an age other than 1, 7 or 28 is refused');
select is(public.loop_insights_cached((select id from ids where name = 'ws'), gen_random_uuid(), 7), null, 'a channel of no workspace: nothing');
select tests.authenticate_as('ld_outsider');
select is(public.loop_insights_cached((select id from ids where name = 'ws'), null, 7), null, 'another workspace''s user gets nothing');
select throws_ok($$select count(*) from ops.loop_insights_documents$$, '42501', null, 'members cannot read the stored documents');
reset role;

select * from finish();
rollback;
