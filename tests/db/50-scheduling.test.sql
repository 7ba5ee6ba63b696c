-- Upload scheduling in the database (20261201001300_upload_schedules): members' functions
-- (create with its checks and idempotency, edit/reschedule with versions, cancel, publish now,
-- settings) and the worker's (claim with a lease and SKIP LOCKED, take-over after the lease,
-- missed schedules held or published late, begin_upload and its version guard, offsets, the last
-- chunk, recording the video once), the wake-up, and who may call what.
begin;
select plan(84);

-- Section: fixtures (as the superuser)

-- Other open schedules in this database must not be claimed or counted here.
update public.upload_schedules set next_attempt_at = next_attempt_at + interval '100 years'
where status in ('scheduled', 'uploading', 'processing');

select tests.create_user('sch_owner');
select tests.create_user('sch_editor');
select tests.create_user('sch_viewer');
select tests.create_user('sch_outsider');

create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to authenticated, service_role, anon;
insert into ids
select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('sch_owner');
insert into ids
select 'other_ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('sch_outsider');
insert into public.workspace_members (workspace_id, user_id, role)
values ((select id from ids where name = 'ws'), tests.get_user_id('sch_editor'), 'editor'),
       ((select id from ids where name = 'ws'), tests.get_user_id('sch_viewer'), 'viewer');

with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values ((select id from ids where name = 'ws'), 'UCschedTestChannel', 'Sched', 'active') returning id
) insert into ids select 'channel', id from c;
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values ((select id from ids where name = 'ws'), 'UCschedReauth', 'Sched reauth', 'reauth_required') returning id
) insert into ids select 'reauth_channel', id from c;
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values ((select id from ids where name = 'other_ws'), 'UCschedOther', 'Other', 'active') returning id
) insert into ids select 'other_channel', id from c;
with g as (
  insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, approved_version)
  values ((select id from ids where name = 'ws'), 'script', '{}', 't', 'm', '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 'approved', 1) returning id
) insert into ids select 'content', id from g;
with j as (
  insert into public.video_jobs (workspace_id, content_id, content_version, render_params, status, progress, video_url,
    webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, finished_at)
  values ((select id from ids where name = 'ws'), (select id from ids where name = 'content'), 1, '{}', 'ready', 100,
    'https://cdn.example.test/v.mp4', repeat('a', 64), now() + interval '1 hour', 'sched-ready', repeat('a', 64), now())
  returning id
) insert into ids select 'job', id from j;
with j as (
  insert into public.video_jobs (workspace_id, content_id, content_version, render_params, status, progress,
    webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint)
  values ((select id from ids where name = 'ws'), (select id from ids where name = 'content'), 1, '{}', 'rendering', 10,
    repeat('a', 64), now() + interval '1 hour', 'sched-rendering', repeat('a', 64))
  returning id
) insert into ids select 'rendering_job', id from j;

create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

-- create_upload_schedule with the usual fields; key and fingerprint vary per call
create function pg_temp.new_schedule(
  k text, fp text default repeat('1', 64), ch uuid default null, jb uuid default null,
  when_text text default null, zone text default 'UTC', priv text default 'public', strat text default null
) returns table (outcome text, schedule_id uuid) language sql as $$
  select * from public.create_upload_schedule(pg_temp.id('ws'), coalesce(ch, pg_temp.id('channel')), coalesce(jb, pg_temp.id('job')),
    'A title', 'A description', array['tag one', 'two'], '22', priv, false, true, null,
    coalesce(when_text, to_char((now() + interval '1 day') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), zone, strat, k, fp)
$$;

-- Section: shape and grants

select has_table('public', 'upload_schedules', 'upload_schedules exists');
select has_table('public', 'upload_events', 'upload_events exists');
select has_table('public', 'workspace_settings', 'workspace_settings exists');
select ok(not has_table_privilege('service_role', 'private.upload_sessions', 'SELECT'), 'session URIs are not readable by service_role directly');
select ok(not has_table_privilege('authenticated', 'public.upload_schedules', 'INSERT,UPDATE,DELETE'), 'members cannot write schedules directly');
select ok(not has_function_privilege('authenticated', 'private.claim_upload_schedules(text, integer, integer, uuid)', 'EXECUTE')
  and not has_function_privilege('authenticated', 'private.begin_upload(uuid, text, integer, text, bigint, jsonb, integer)', 'EXECUTE')
  and not has_function_privilege('authenticated', 'private.upload_session(uuid)', 'EXECUTE')
  and not has_function_privilege('authenticated', 'private.record_uploaded_video(uuid, text, text, text, text)', 'EXECUTE'),
  'members cannot call the worker''s functions');
select ok(has_function_privilege('service_role', 'private.claim_upload_schedules(text, integer, integer, uuid)', 'EXECUTE')
  and has_function_privilege('service_role', 'private.upload_session(uuid)', 'EXECUTE'), 'the service role can');
select ok(not has_function_privilege('anon', 'public.create_upload_schedule(uuid, uuid, uuid, text, text, text[], text, text, boolean, boolean, text, text, text, text, text, text)', 'EXECUTE'),
  'anonymous callers cannot schedule');
select is(public.youtube_tags_length(array['tag one', 'two']), 13, 'tags are counted YouTube''s way (7 + 2 quotes + 1 comma + 3)');
select is(public.youtube_tags_length('{}'), 0, 'no tags count 0');

-- Section: create

select tests.authenticate_as('sch_editor');
select is((select outcome from pg_temp.new_schedule('k1')), 'created', 'an editor creates a schedule');
insert into ids select 's1', schedule_id from pg_temp.new_schedule('k1');
select is((select outcome from pg_temp.new_schedule('k1')), 'existing', 'the same key and request find it again');
select is((select schedule_id from pg_temp.new_schedule('k1')), pg_temp.id('s1'), 'the same schedule');
select is((select outcome from pg_temp.new_schedule('k1', repeat('2', 64))), 'key_conflict', 'the same key with another request conflicts');
select throws_ok($$select * from pg_temp.new_schedule('k2', ch => pg_temp.id('other_channel'))$$, 'CES10', null,
  'a channel of another workspace is refused');
select throws_ok($$select * from pg_temp.new_schedule('k3', ch => pg_temp.id('reauth_channel'))$$, 'CES11', null,
  'a channel that must be reconnected is refused');
select throws_ok($$select * from pg_temp.new_schedule('k4', jb => pg_temp.id('rendering_job'))$$, 'CES12', null,
  'a render that is not ready is refused');
select throws_ok($$select * from pg_temp.new_schedule('k5', when_text => '2020-01-01T00:00:00Z')$$, 'CES13', null, 'a past time is refused');
select throws_ok($$select * from pg_temp.new_schedule('k6', when_text => '2027-02-30T10:00')$$, 'CES13', null, 'an impossible date is refused');
select throws_ok($$select * from pg_temp.new_schedule('k7', zone => 'Mars/Olympus')$$, 'CES14', null, 'an unknown zone is refused');
select throws_ok($$select * from pg_temp.new_schedule('k8', priv => 'unlisted', strat => 'youtube_scheduled')$$, '23514', null,
  'YouTube cannot schedule an unlisted release');
insert into ids select 'unlisted', schedule_id from pg_temp.new_schedule('k9', priv => 'unlisted');
insert into ids select 'new_york', schedule_id from pg_temp.new_schedule('k10', when_text => '2027-07-01T18:00', zone => 'America/New_York');
select is((select strategy from public.upload_schedules where id = pg_temp.id('unlisted')),
  'upload_at_time', 'unlisted schedules upload at their time by default');
select is((select publish_at from public.upload_schedules where id = pg_temp.id('new_york')),
  '2027-07-01 22:00:00+00'::timestamptz, 'a wall-clock time is read in its zone');
select tests.clear_authentication();

select is((select next_attempt_at from public.upload_schedules where id = pg_temp.id('s1')),
  (select publish_at - interval '60 minutes' from public.upload_schedules where id = pg_temp.id('s1')),
  'youtube_scheduled is due an hour (the default lead) before publish_at');
select results_eq($$select event, actor_type, actor_id from public.upload_events where schedule_id = pg_temp.id('s1')$$,
  $$values ('created'::text, 'user'::text, tests.get_user_id('sch_editor'))$$, 'creating wrote its event, with who');

select tests.authenticate_as('sch_viewer');
select throws_ok($$select * from pg_temp.new_schedule('v1')$$, '42501', null, 'a viewer cannot schedule');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('s1'), '{"title": "x"}')$$, '42501', null, 'nor edit');
select throws_ok($$select * from public.cancel_upload_schedule(pg_temp.id('s1'))$$, '42501', null, 'nor cancel');
select is((select count(*)::int from public.upload_schedules where id = pg_temp.id('s1')), 1, 'but reads it');
select tests.authenticate_as('sch_outsider');
select throws_ok($$select * from pg_temp.new_schedule('o1')$$, 'CEX01', 'workspace not found', 'a non-member gets "not found" (of the workspace)');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('s1'), '{"title": "x"}')$$, 'CES01', null, 'also for the schedule');
select throws_ok($$select public.publish_upload_schedule_now(pg_temp.id('s1'))$$, 'CES01', null, 'and for publishing it');
select is((select count(*)::int from public.upload_schedules where id = pg_temp.id('s1')), 0, 'and cannot read it');

-- Section: edit and reschedule

select tests.authenticate_as('sch_editor');
select is((public.update_upload_schedule(pg_temp.id('s1'), '{"title": "New title", "tags": ["a"]}', 1)).version, 2,
  'an edit bumps the version');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('s1'), '{"title": "Lost"}', 1)$$, 'CES04', null,
  'an edit against an old version conflicts');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('s1'), '{"status": "published"}')$$, '22023', null,
  'only metadata fields can be changed');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('s1'), '{"title": "x<y"}')$$, '23514', null,
  'YouTube''s title rules hold in the database too');
select is((public.update_upload_schedule(pg_temp.id('s1'), '{"publish_at": "2027-06-01T12:00:00Z", "strategy": "upload_at_time"}')).next_attempt_at,
  '2027-06-01 12:00:00+00'::timestamptz, 'a reschedule recomputes when the upload is due');
select tests.clear_authentication();
select results_eq($$select event, details -> 'fields' from public.upload_events where schedule_id = pg_temp.id('s1') order by id$$,
  $$values ('created'::text, null::jsonb), ('edited', '["tags", "title"]'::jsonb), ('rescheduled', '["publish_at", "strategy"]'::jsonb)$$,
  'edits and reschedules are recorded with the fields they changed');

-- Section: claims and leases

update public.upload_schedules set next_attempt_at = now() - interval '1 second', publish_at = now() + interval '1 minute'
where id = pg_temp.id('s1');
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_upload_schedules('w1', 10, 60) where id = pg_temp.id('s1')), 1, 'a due schedule is claimed');
select tests.clear_authentication();
select results_eq($$select lease_owner, lease_expires_at, next_attempt_at, attempts from public.upload_schedules where id = pg_temp.id('s1')$$,
  $$values ('w1'::text, now() + interval '60 seconds', now() + interval '60 seconds', 1)$$, 'with a lease, due again only when it runs out');
select is((select count(*)::int from private.claim_upload_schedules('w2', 10, 60) where id = pg_temp.id('s1')), 0,
  'another worker cannot take it while the lease lasts');
update public.upload_schedules set next_attempt_at = now() - interval '1 second', lease_expires_at = now() - interval '1 second'
where id = pg_temp.id('s1');
select results_eq($$select lease_owner, attempts from private.claim_upload_schedules('w2', 10, 60) where id = pg_temp.id('s1')$$,
  $$values ('w2'::text, 2)$$, 'once the lease ran out, the next worker takes it over');

-- Section: the upload's steps

select tests.authenticate_as_service_role();
select is(private.begin_upload(pg_temp.id('s1'), 'w1', 3, 'https://upload.example.test/s?upload_id=abc', 1000, '{"snippet": {}}'), 'lease_lost',
  'a worker without the lease cannot start the upload');
select is(private.begin_upload(pg_temp.id('s1'), 'w2', 2, 'https://upload.example.test/s?upload_id=abc', 1000, '{"snippet": {}}'), 'changed',
  'a session made for an older version is not used');
select is(private.begin_upload(pg_temp.id('s1'), 'w2', 3, 'https://upload.example.test/s?upload_id=abc', 1000, '{"snippet": {"title": "New title"}}'), 'started',
  'the session of the current version is saved');
select results_eq($$select session_uri, total_bytes from private.upload_session(pg_temp.id('s1'))$$,
  $$values ('https://upload.example.test/s?upload_id=abc'::text, 1000::bigint)$$, 'the worker reads the session back');
select tests.clear_authentication();
select ok((select position('upload_id=abc' in encode(session_uri_enc, 'escape')) = 0 from private.upload_sessions where schedule_id = pg_temp.id('s1')),
  'the session URI is stored encrypted');
select results_eq($$select status, upload_offset, upload_total_bytes, sent_metadata -> 'snippet' ->> 'title' from public.upload_schedules where id = pg_temp.id('s1')$$,
  $$values ('uploading'::text, 0::bigint, 1000::bigint, 'New title'::text)$$, 'the schedule is uploading');
select tests.authenticate_as('sch_editor');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('s1'), '{"title": "Too late"}')$$, 'CES02', null,
  'once the upload started, edits are refused');
select throws_ok($$select public.publish_upload_schedule_now(pg_temp.id('s1'))$$, 'CES02', null, 'and so is publishing now');
select tests.authenticate_as_service_role();
select is(private.save_upload_offset(pg_temp.id('s1'), 'w2', 512), 'ok', 'the confirmed offset is saved');
select is(private.save_upload_offset(pg_temp.id('s1'), 'w1', 768), 'lease_lost', 'not by a worker that lost the lease');
select is((select upload_offset from public.upload_schedules where id = pg_temp.id('s1')), 512::bigint, 'which changed nothing');
select is(private.begin_final_chunk(pg_temp.id('s1'), 'w2'), 'ok', 'the last chunk is marked before it goes out');
select tests.authenticate_as('sch_editor');
select throws_ok($$select * from public.cancel_upload_schedule(pg_temp.id('s1'))$$, 'CES03', null,
  'after the last chunk went out a cancel is too late');
select tests.authenticate_as_service_role();
select is(private.begin_upload(pg_temp.id('s1'), 'w2', 3, 'https://upload.example.test/s?upload_id=new', 1000, '{}'), 'finishing',
  'a session whose last chunk went out is never replaced');
select is(private.record_uploaded_video(pg_temp.id('s1'), 'w1', 'vid_123', 'public', 'status_query'), 'recorded',
  'the video is recorded by whoever learns of it');
select is(private.record_uploaded_video(pg_temp.id('s1'), 'w2', 'vid_123', 'public', 'final_chunk'), 'already_recorded',
  'recording it twice is harmless');
select throws_ok($$select private.record_uploaded_video(pg_temp.id('s1'), 'w2', 'vid_999', 'public', 'final_chunk')$$, 'CES03', null,
  'a second video for one schedule is refused');
select tests.clear_authentication();
select results_eq($$select status, youtube_video_id, upload_offset from public.upload_schedules where id = pg_temp.id('s1')$$,
  $$values ('processing'::text, 'vid_123'::text, 1000::bigint)$$, 'the schedule moves on to processing');
select results_eq($$select event, from_status, to_status, actor_type, actor_label from public.upload_events
    where schedule_id = pg_temp.id('s1') and event in ('upload_started', 'uploaded') order by id$$,
  $$values ('upload_started'::text, 'scheduled'::text, 'uploading'::text, 'worker'::text, 'w2'::text),
           ('uploaded', 'uploading', 'processing', 'worker', 'w1')$$, 'the upload''s transitions are recorded with the worker');

-- Section: cancel during the upload

select tests.authenticate_as('sch_editor');
insert into ids select 's2', schedule_id from pg_temp.new_schedule('c1', priv => 'unlisted');
select tests.clear_authentication();
update public.upload_schedules set next_attempt_at = now() - interval '1 second', publish_at = now() where id = pg_temp.id('s2');
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_upload_schedules('w3', 10, 60) where id = pg_temp.id('s2')), 1, 'claimed');
select is(private.begin_upload(pg_temp.id('s2'), 'w3', 1, 'https://upload.example.test/s?upload_id=c1', 5000, '{}'), 'started', 'started');
select tests.authenticate_as('sch_editor');
select results_eq($$select * from public.cancel_upload_schedule(pg_temp.id('s2'))$$, $$values ('canceled'::text, 'canceled'::text)$$,
  'a cancel during the upload takes effect');
select results_eq($$select * from public.cancel_upload_schedule(pg_temp.id('s2'))$$, $$values ('already_canceled'::text, 'canceled'::text)$$,
  'canceling twice is fine');
select tests.authenticate_as_service_role();
select is(private.save_upload_offset(pg_temp.id('s2'), 'w3', 256), 'canceled', 'the uploading worker learns of it at its next save');
select is(private.begin_final_chunk(pg_temp.id('s2'), 'w3'), 'canceled', 'and never sends the last chunk');
select tests.clear_authentication();
select is((select count(*)::int from private.claim_upload_schedules('w4', 10, 60) where id = pg_temp.id('s2')), 0, 'a canceled schedule is never claimed');

-- Section: missed schedules

select tests.authenticate_as('sch_editor');
insert into ids select 'late', schedule_id from pg_temp.new_schedule('m1');
insert into ids select 'held', schedule_id from pg_temp.new_schedule('m2');
select tests.clear_authentication();
update public.upload_schedules set publish_at = now() - interval '1 hour', next_attempt_at = now() - interval '2 hours'
where id in (pg_temp.id('late'), pg_temp.id('held'));
select is((select count(*)::int from private.claim_upload_schedules('w5', 1, 60, pg_temp.id('late'))), 1,
  'publish_late (the default): a missed schedule is claimed');
select ok((select missed_at is not null from public.upload_schedules where id = pg_temp.id('late')), 'and marked missed');
select results_eq($$select actor_type, details ->> 'policy', (details ->> 'late_by_seconds')::int >= 3600 from public.upload_events
    where schedule_id = pg_temp.id('late') and event = 'missed'$$,
  $$values ('dispatcher'::text, 'publish_late'::text, true)$$, 'the dispatcher records that and how late');

select tests.authenticate_as('sch_owner');
select is((public.update_workspace_settings(pg_temp.id('ws'), 'hold')).missed_schedule_policy, 'hold', 'the owner sets "hold"');
select tests.authenticate_as('sch_editor');
select throws_ok($$select public.update_workspace_settings(pg_temp.id('ws'), 'publish_late')$$, '42501', null, 'an editor cannot');
select tests.clear_authentication();
select is((select count(*)::int from private.claim_upload_schedules('w5', 1, 60, pg_temp.id('held'))), 0,
  'hold: a missed schedule is not claimed');
select results_eq($$select status, next_attempt_at, lease_owner from public.upload_schedules where id = pg_temp.id('held')$$,
  $$values ('held'::text, null::timestamptz, null::text)$$, 'it is held for a person');
select is((select count(*)::int from ops.system_logs where event_type = 'upload_schedule_held' and context ->> 'schedule_id' = pg_temp.id('held')::text),
  1, 'with an alert for the operators');
select tests.authenticate_as('sch_editor');
select results_eq($$select status, next_attempt_at, missed_at from public.publish_upload_schedule_now(pg_temp.id('held'))$$,
  $$values ('scheduled'::text, now(), null::timestamptz)$$, 'a person publishes it now');
select tests.clear_authentication();
select is((select count(*)::int from private.claim_upload_schedules('w6', 1, 60, pg_temp.id('held'))), 1,
  'and then it is claimed like any other');
-- A missed schedule that was published late once is not held later (the setting changed meanwhile).
update public.upload_schedules set lease_owner = null, next_attempt_at = now() - interval '1 second' where id = pg_temp.id('late');
select is((select count(*)::int from private.claim_upload_schedules('w7', 1, 60, pg_temp.id('late'))), 1,
  'a decision about a missed schedule is made once');

-- Section: waking the worker

update public.upload_schedules set next_attempt_at = now() + interval '1 day'
where status in ('scheduled', 'uploading', 'processing');
select is(private.wake_upload_worker(), 0, 'nothing due within the minute: no worker is called');
update public.upload_schedules set next_attempt_at = now() + interval '30 seconds' where id = pg_temp.id('late');
select is(private.wake_upload_worker(), 1, 'something due within the minute: one worker is called');
select ok(exists (
  select 1 from net.http_request_queue q
  where q.method = 'POST' and q.url like '%/functions/v1/schedules/worker'
    and (q.headers ->> 'apikey' like 'sb_secret_%' or q.headers ->> 'Authorization' like 'Bearer %')
), 'through pg_net, with the secret key (or, without one, the legacy service role key)');
select is((select count(*)::int from cron.job where jobname = 'upload-dispatch' and schedule = '* * * * *'), 1,
  'pg_cron looks every minute');

select * from finish();
rollback;
