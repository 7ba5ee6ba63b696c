-- A paused upload hands its next step the offset it saved and the row's claim count
-- (20261210000210_upload_step_handover), so the step can tell whether anybody claimed the row
-- in between; a handover in the caller's options is never passed on in its place.
begin;
select plan(3);

update public.upload_schedules set next_attempt_at = next_attempt_at + interval '100 years'
where status in ('scheduled', 'uploading', 'processing');

create temp table ids (name text primary key, id uuid not null) on commit drop;
insert into ids select * from tests.create_upload_fixture('handover_owner', 'handover');
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

with s as (
  insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
    lease_owner, lease_expires_at, upload_total_bytes, upload_offset, upload_started_at, idempotency_key, request_fingerprint, attempts)
  values (pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'Handover', now(), 'upload_at_time', 'uploading',
    now() + interval '40 seconds', 'w1', now() + interval '40 seconds', 8388608, 1048576, now(), 'handover-1', repeat('d', 64), 3)
  returning id
) insert into ids select 's1', id from s;
delete from net.http_request_queue;

select is(private.pause_upload(pg_temp.id('s1'), 'w1', 2097152, '{"step_bytes": 262144, "handover": {"upload_offset": 1, "attempts": 1}}'),
  'ok', 'w1 pauses its step');
create temp table call on commit drop as
  select convert_from(q.body, 'UTF8')::jsonb as body from net.http_request_queue q
  where q.id = (select step_call_id from public.upload_schedules where id = pg_temp.id('s1'));
select is((select body -> 'handover' from call), '{"upload_offset": 2097152, "attempts": 3}'::jsonb,
  'the next step is told the saved offset and the claim count at the pause');
select is((select (body ->> 'step_bytes')::int from call), 262144, 'with the step options it was given');

select * from finish();
rollback;
