-- The learning loop's records (20261201001600_learning_lineage_and_outcomes):
-- review decisions copied when they are made, lineage written when an upload is published and
-- surviving edits and the content's deletion, history that cannot be rewritten, organic videos
-- without lineage, and outcomes at 1/7/28 days recorded once when the channel's data covers them,
-- with hand-computed percentiles.
begin;
select plan(33);

select tests.create_user('ll_owner');
select tests.create_user('ll_outsider');
create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to authenticated, service_role, anon;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('ll_owner');
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title)
  values ((select id from ids where name = 'ws'), 'UClineageTest', 'Lineage') returning id
) insert into ids select 'channel', id from c;
insert into ids values ('content', 'c0000000-0000-4000-8000-000000000001');

-- Section: review decisions

select tests.authenticate_as('ll_owner');
select public.create_generated_content('c0000000-0000-4000-8000-000000000001', (select id from ids where name = 'ws'), 'script',
  '{"topic": "sourdough", "tone": "calm", "target_format": "short"}', '[{"video_id": "v1", "title": "Top one", "score": 91}]',
  'gen-test', 'gemini-test', 10, 20,
  '{"items": [{"title": "Approved text", "hook": "h", "script": "s", "call_to_action": "c", "estimated_duration_seconds": 30}]}');
reset role;
insert into public.generation_inputs (content_id, workspace_id, request_id, patterns)
values ((select id from ids where name = 'content'), (select id from ids where name = 'ws'), 'req-1',
  '{"publish_hour": {"best": "18", "buckets": []}}');
insert into public.generation_calls (workspace_id, user_id, content_id, request_id, kind, model, prompt_version, attempt, streamed, outcome, duration_ms)
values ((select id from ids where name = 'ws'), tests.get_user_id('ll_owner'), (select id from ids where name = 'content'), 'req-1',
  'script', 'gemini-test', 'gen-test', 1, false, 'ok', 5);

select tests.authenticate_as('ll_owner');
select public.review_generated_content((select id from ids where name = 'content'), 'submit');
select public.review_generated_content((select id from ids where name = 'content'), 'reject', 'hook too slow');
select public.edit_generated_content((select id from ids where name = 'content'),
  '{"items": [{"title": "Approved text v2", "hook": "h", "script": "s", "call_to_action": "c", "estimated_duration_seconds": 30}]}');
select public.review_generated_content((select id from ids where name = 'content'), 'submit');
select public.review_generated_content((select id from ids where name = 'content'), 'approve');

select is((select count(*)::int from public.content_review_decisions where content_id = (select id from ids where name = 'content')), 2,
  'a reject and an approve: two decisions, submits and edits are not decisions');
select is((select reason from public.content_review_decisions where content_id = (select id from ids where name = 'content') and decision = 'reject'),
  'hook too slow', 'the rejection keeps its reason');
select is((select output -> 'items' -> 0 ->> 'title' from public.content_review_decisions
           where content_id = (select id from ids where name = 'content') and decision = 'reject'),
  'Approved text', 'the rejection keeps the version it rejected');
select is((select row(version, output -> 'items' -> 0 ->> 'title', decided_by, patterns -> 'publish_hour' ->> 'best', generation_request_id,
                      cardinality(generation_call_ids), model, brief ->> 'tone')::text
           from public.content_review_decisions where content_id = (select id from ids where name = 'content') and decision = 'approve'),
  row(2, 'Approved text v2', tests.get_user_id('ll_owner'), '18', 'req-1', 1, 'gemini-test', 'calm')::text,
  'the approval copies the approved version, the reviewer, the prompt''s patterns, the generation and the brief');
select throws_ok($$update public.content_review_decisions set reason = 'x'$$, '42501', null,
  'a member cannot change a decision');
reset role;
select throws_ok($$update public.content_review_decisions set reason = 'rewritten' where decision = 'reject'
                   and content_id = 'c0000000-0000-4000-8000-000000000001'$$, '42501', null,
  'even the service role cannot rewrite a decision');

-- Section: lineage at publish time

with j as (
  insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress, video_url,
    duration_seconds, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, finished_at)
  values ((select id from ids where name = 'ws'), (select id from ids where name = 'content'), 2, 'pid-lineage', '{"resolution": "1080p"}',
    'ready', 100, 'https://cdn.example.test/l.mp4', 31, repeat('a', 64), now() + interval '1 hour', 'll-job', repeat('a', 64),
    tests.get_user_id('ll_owner'), now())
  returning id
) insert into ids select 'job', id from j;
with s as (
  insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, time_zone, status,
    upload_started_at, idempotency_key, request_fingerprint, created_by)
  values ((select id from ids where name = 'ws'), (select id from ids where name = 'channel'), (select id from ids where name = 'job'),
    'approved TEXT v2', now() - interval '1 hour', 'Europe/Berlin', 'processing', now() - interval '2 hours', 'll-sched', repeat('a', 64),
    tests.get_user_id('ll_owner'))
  returning id
) insert into ids select 'schedule', id from s;
update public.upload_schedules set youtube_video_id = 'llVideo0001' where id = (select id from ids where name = 'schedule');
select is((select count(*)::int from public.upload_lineage where schedule_id = (select id from ids where name = 'schedule')), 0,
  'no lineage before the upload is published');
update public.upload_schedules set status = 'published', published_at = now(), finished_at = now()
where id = (select id from ids where name = 'schedule');
select is((select row(youtube_video_id, content_version, approval_source, approved_output -> 'items' -> 0 ->> 'title', approved_by,
                      render ->> 'provider_job_id', schedule ->> 'title', schedule ->> 'time_zone', generation ->> 'model',
                      generation ->> 'request_id', prompt_inputs -> 'patterns' -> 'publish_hour' ->> 'best',
                      prompt_inputs -> 'source_videos' -> 0 ->> 'title', tone, target_format, kind::text)::text
           from public.upload_lineage where schedule_id = (select id from ids where name = 'schedule')),
  row('llVideo0001', 2, 'decision', 'Approved text v2', tests.get_user_id('ll_owner'), 'pid-lineage', 'approved TEXT v2', 'Europe/Berlin',
      'gemini-test', 'req-1', '18', 'Top one', 'calm', 'short', 'script')::text,
  'publishing records the schedule, render, approved text, approver, generation and prompt inputs');
select is((select row(chosen_variant, variants)::text from public.upload_lineage where schedule_id = (select id from ids where name = 'schedule')),
  row(0, 1)::text, 'the published title is recorded as the chosen variant of the approved output');
update public.upload_schedules set title = 'Edited later', status = 'published' where id = (select id from ids where name = 'schedule');
select is((select count(*)::int from public.upload_lineage where schedule_id = (select id from ids where name = 'schedule')), 1,
  'a later update of the published schedule records nothing more');

-- An edit after publishing and the content's deletion leave the lineage as it was.
select tests.authenticate_as('ll_owner');
select public.edit_generated_content((select id from ids where name = 'content'),
  '{"items": [{"title": "Rewritten after publishing", "hook": "h", "script": "s", "call_to_action": "c", "estimated_duration_seconds": 30}]}');
reset role;
delete from public.generated_content where id = (select id from ids where name = 'content');
select is((select approved_output -> 'items' -> 0 ->> 'title' from public.upload_lineage where schedule_id = (select id from ids where name = 'schedule')),
  'Approved text v2', 'after an edit and the content''s deletion the lineage still holds the approved text');
select is((select count(*)::int from public.content_review_decisions where content_id = (select id from ids where name = 'content')), 2,
  'and the decisions stay');
select throws_ok($$update public.upload_lineage set approved_output = '{}'$$, '42501', null, 'lineage cannot be updated');
select throws_ok($$delete from public.upload_lineage$$, '42501', null, 'lineage cannot be deleted directly');

select tests.authenticate_as('ll_outsider');
select is((select count(*)::int from public.upload_lineage where schedule_id = (select id from ids where name = 'schedule')), 0,
  'another workspace''s user does not see the lineage');
reset role;

-- Section: outcomes
-- Channel O: 5 videos v1..v5 published on 2026-03-0k at 20:00 UTC (12:00 Pacific, publish day
-- 2026-03-0k), each with views 10*k on its publish day, 1 view on each later day up to D, and equal
-- retention, engagement and conversion (all 0: no likes, no subscribers), so every component but
-- velocity ties and the score equals the velocity percentile.
--   age 1 (window = publish day): velocities 10,20,30,40,50 -> percentiles 0,25,50,75,100, median 30
--   age 7: views 10k + 6 -> velocities (10k+6)/7, same ranks
-- D = 2026-03-20 first: v1..v5 have 7-day windows covered (v5: 03-05 + 6 = 03-11), 28-day ones not.
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title)
  values ((select id from ids where name = 'ws'), 'UCoutcomesTest', 'Outcomes') returning id
) insert into ids select 'ochannel', id from c;
insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
select (select id from ids where name = 'ws'), (select id from ids where name = 'ochannel'), 'ovid' || k, 'O ' || k,
  timestamptz '2026-03-01 20:00:00Z' + (k - 1) * interval '1 day', 40, true
from generate_series(1, 5) k;
insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage)
select v.workspace_id, v.id, d::date,
  case when d::date = private.publish_day(v.published_at) then 10 * split_part(v.title, ' ', 2)::int else 1 end, 50
from public.videos v cross join generate_series(date '2026-03-01', date '2026-03-20', interval '1 day') d
where v.channel_id = (select id from ids where name = 'ochannel') and d::date >= private.publish_day(v.published_at);
select private.score_channel_videos((select id from ids where name = 'ochannel'));

select is((select string_agg(velocity_percentile::text || '/' || score::text, ',' order by youtube_video_id)
           from public.video_outcomes where channel_id = (select id from ids where name = 'ochannel') and age_days = 1),
  '0.00/0.00,25.00/25.00,50.00/50.00,75.00/75.00,100.00/100.00', 'age 1: percentiles among the channel''s five first days');
select is((select string_agg(views::text || '@' || velocity::text, ',' order by youtube_video_id)
           from public.video_outcomes where channel_id = (select id from ids where name = 'ochannel') and age_days = 1),
  '10@10.0000,20@20.0000,30@30.0000,40@40.0000,50@50.0000', 'age 1: views and velocity of the publish day');
select is((select distinct channel_median_velocity from public.video_outcomes
           where channel_id = (select id from ids where name = 'ochannel') and age_days = 1), 30.0000::numeric,
  'age 1: the channel''s median velocity');
select is((select string_agg(views::text || '/' || velocity_percentile::text, ',' order by youtube_video_id)
           from public.video_outcomes where channel_id = (select id from ids where name = 'ochannel') and age_days = 7),
  '16/0.00,26/25.00,36/50.00,46/75.00,56/100.00', 'age 7: a week of views, ranked');
select is((select row(min(window_from), max(window_to))::text from public.video_outcomes
           where channel_id = (select id from ids where name = 'ochannel') and age_days = 7 and youtube_video_id = 'ovid5'),
  row(date '2026-03-05', date '2026-03-11')::text, 'age 7: the window is the first seven publish days');
select is((select count(*)::int from public.video_outcomes where channel_id = (select id from ids where name = 'ochannel') and age_days = 28), 0,
  'age 28: not recorded before the channel''s data covers 28 days');
select is((select peers from public.video_outcomes where youtube_video_id = 'ovid3' and age_days = 7), 5, 'peers are the five videos');

-- A sixth video arrives later with a huge first day; the earlier outcomes stay as recorded.
create temp table before_rescore on commit drop as
  select video_id, age_days, score, recorded_at from public.video_outcomes where channel_id = (select id from ids where name = 'ochannel');
insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
values ((select id from ids where name = 'ws'), (select id from ids where name = 'ochannel'), 'ovid6', 'O 6', '2026-03-21 20:00:00Z', 40, true);
insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage)
select v.workspace_id, v.id, date '2026-03-21', 1000, 50 from public.videos v where v.youtube_video_id = 'ovid6';
select private.score_channel_videos((select id from ids where name = 'ochannel'));
select is((select row(velocity_percentile, score, peers)::text from public.video_outcomes where youtube_video_id = 'ovid6' and age_days = 1),
  row(100.00, 100.00, 6)::text, 'a new video is ranked among every first day recorded so far');
select is((select count(*)::int from public.video_outcomes where youtube_video_id = 'ovid6' and age_days = 7), 0,
  'its week is not covered yet');
select ok(not exists (select 1 from before_rescore b join public.video_outcomes o using (video_id, age_days)
                      where o.score <> b.score or o.recorded_at <> b.recorded_at),
  'outcomes recorded earlier are never recomputed');

-- 28 days: data up to 2026-03-31 covers v1..v4's 28-day windows (v4: 03-04 + 27 = 03-31) but not v5's.
insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage)
select v.workspace_id, v.id, d::date, 1, 50
from public.videos v cross join generate_series(date '2026-03-21', date '2026-03-31', interval '1 day') d
where v.channel_id = (select id from ids where name = 'ochannel') and v.youtube_video_id <> 'ovid6';
select private.score_channel_videos((select id from ids where name = 'ochannel'));
select is((select string_agg(youtube_video_id || '=' || views, ',' order by youtube_video_id) from public.video_outcomes
           where channel_id = (select id from ids where name = 'ochannel') and age_days = 28),
  'ovid1=37,ovid2=47,ovid3=57,ovid4=67', 'age 28: recorded for the videos whose 28 days are covered');
select is((select count(*)::int from public.video_outcomes where youtube_video_id = 'ovid6' and age_days = 7), 1,
  'the late video''s week is recorded once the data covers it');

-- Section: organic and engine-assisted
insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at)
values ((select id from ids where name = 'ws'), (select id from ids where name = 'channel'), 'llVideo0001', 'Published title', now());
select is((select count(*)::int from public.videos v join public.upload_lineage l on l.youtube_video_id = v.youtube_video_id
           where v.channel_id = (select id from ids where name = 'ochannel')), 0,
  'videos the engine did not upload have no lineage: organic');
select is((select count(*)::int from public.videos v join public.upload_lineage l on l.youtube_video_id = v.youtube_video_id
           where v.youtube_video_id = 'llVideo0001'), 1, 'the engine''s published video finds its lineage by its YouTube id');

-- Section: grants
select ok(not has_table_privilege('authenticated', 'public.upload_lineage', 'INSERT,UPDATE,DELETE')
  and not has_table_privilege('authenticated', 'public.video_outcomes', 'INSERT,UPDATE,DELETE')
  and not has_table_privilege('authenticated', 'public.content_review_decisions', 'INSERT,UPDATE,DELETE')
  and not has_table_privilege('authenticated', 'public.generation_inputs', 'INSERT,UPDATE,DELETE'),
  'members only read the loop''s tables');
select is((select count(*)::int from ops.backup_table_classes where table_name in
  ('public.upload_lineage', 'public.video_outcomes', 'public.content_review_decisions', 'public.generation_inputs')), 4,
  'every new table has a backup class');

-- Only the workspace's deletion removes its history (the cascade is the one delete allowed).
select lives_ok(format('delete from public.workspaces where id = %L', (select id from ids where name = 'ws')),
  'deleting the workspace is not refused by its history');
select is((select count(*)::int from public.upload_lineage where workspace_id = (select id from ids where name = 'ws'))
          + (select count(*)::int from public.content_review_decisions where workspace_id = (select id from ids where name = 'ws')), 0,
  'and takes its lineage and decisions with it');

select * from finish();
rollback;
