-- Bounded upload steps (20261201001300_upload_schedules): pause_upload saves the offset, hands the row
-- back due now and calls the worker for the schedule in the same transaction; a worker that lost
-- its lease (or a canceled schedule) changes nothing and calls nobody; chain_upload_worker calls
-- one successor only while something (other than the paused uploads) is due; the every-minute
-- wake-up starts one chain per 100 due rows (at most 32); the leaseholder
-- renews its lease and nobody else can; and who may call what.
begin;
select plan(22);

-- Other open schedules in this database must not be counted here.
update public.upload_schedules set next_attempt_at = next_attempt_at + interval '100 years'
where status in ('scheduled', 'uploading', 'processing');

create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to service_role;
insert into ids select * from tests.create_upload_fixture('steps_owner', 'steps');
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

-- An upload in progress, leased to worker w1, 1 MiB of 4 MiB confirmed.
with s as (
  insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
    lease_owner, lease_expires_at, upload_total_bytes, upload_offset, upload_started_at, idempotency_key, request_fingerprint, failures)
  values (pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'Steps', now(), 'upload_at_time', 'uploading',
    now() + interval '3 minutes', 'w1', now() + interval '3 minutes', 4194304, 1048576, now(), 'steps-1', repeat('b', 64), 2)
  returning id
) insert into ids select 's1', id from s;
delete from net.http_request_queue;

-- Section: renew_upload_lease

select tests.authenticate_as_service_role();
select is(private.renew_upload_lease(pg_temp.id('s1'), 'w2', 40), 'lease_lost', 'a worker without the lease cannot renew it');
select tests.clear_authentication();
select is((select lease_expires_at from public.upload_schedules where id = pg_temp.id('s1')), now() + interval '3 minutes',
  'and the lease is unchanged');
select tests.authenticate_as_service_role();
select is(private.renew_upload_lease(pg_temp.id('s1'), 'w1', 40), 'ok', 'the leaseholder renews');
select tests.clear_authentication();
select results_eq($$select lease_expires_at, next_attempt_at from public.upload_schedules where id = pg_temp.id('s1')$$,
  $$values (now() + interval '40 seconds', now() + interval '40 seconds')$$,
  'for lease_seconds from now, and the row is not due before the lease ends');
select throws_ok($$select private.renew_upload_lease(pg_temp.id('s1'), 'w1', 0)$$, '22023', null, 'a lease of less than a second is refused');

-- Section: pause_upload

select tests.authenticate_as_service_role();
select is(private.pause_upload(pg_temp.id('s1'), 'w2', 2097152, '{}'), 'lease_lost', 'a worker without the lease cannot pause it');
select tests.clear_authentication();
select is((select count(*)::int from net.http_request_queue), 0, 'and calls nobody');
select is((select upload_offset from public.upload_schedules where id = pg_temp.id('s1')), 1048576::bigint, 'nor changes the offset');

select tests.authenticate_as_service_role();
select is(private.pause_upload(pg_temp.id('s1'), 'w1', 2097152, '{"step_bytes": 8388608}'), 'ok', 'the leaseholder pauses its step');
select tests.clear_authentication();
select results_eq($$select status, upload_offset, lease_owner, failures, next_attempt_at from public.upload_schedules where id = pg_temp.id('s1')$$,
  $$values ('uploading'::text, 2097152::bigint, null::text, 0, now())$$, 'the offset is saved and the row is due now, without a lease');
select results_eq($$select event, details ->> 'upload_offset', actor_label from public.upload_events where schedule_id = pg_temp.id('s1')$$,
  $$values ('upload_paused'::text, '2097152'::text, 'w1'::text)$$, 'the pause is recorded');
select results_eq($$select url, convert_from(body, 'utf8')::jsonb - 'worker_id' - 'handover' from net.http_request_queue$$,
  $$select (select rtrim(decrypted_secret, '/') from vault.decrypted_secrets where name = 'project_url') || '/functions/v1/schedules/worker',
    jsonb_build_object('step_bytes', 8388608, 'schedule_id', pg_temp.id('s1'))$$,
  'the next step of this schedule is called with the same options, in the same transaction');
select results_eq($$select q.id, convert_from(q.body, 'utf8')::jsonb ->> 'worker_id' from net.http_request_queue q$$,
  $$select step_call_id, step_worker from public.upload_schedules where id = pg_temp.id('s1')$$,
  'with a worker id of its own, and the row records that call and that worker (20261209000100)');

update public.upload_schedules set lease_owner = 'w3', status = 'canceled', finished_at = now() where id = pg_temp.id('s1');
delete from net.http_request_queue;
select tests.authenticate_as_service_role();
select is(private.pause_upload(pg_temp.id('s1'), 'w3', 3145728, '{}'), 'canceled', 'a canceled schedule is not paused');
select tests.clear_authentication();
select is((select count(*)::int from net.http_request_queue), 0, 'and nothing is called');

-- Section: chain_upload_worker

update public.upload_schedules set status = 'uploading', finished_at = null, lease_owner = null, next_attempt_at = now() where id = pg_temp.id('s1');
select tests.authenticate_as_service_role();
select is(private.chain_upload_worker(1, array[pg_temp.id('s1')]), 0, 'a paused upload (which calls its own next step) does not count');
select is(private.chain_upload_worker(1, '{}'), 1, 'anything else due: one successor is called');
select tests.clear_authentication();
select is((select count(*)::int from net.http_request_queue where url like '%/functions/v1/schedules/worker'), 1, 'one call');
update public.upload_schedules set next_attempt_at = now() + interval '30 seconds' where id = pg_temp.id('s1');
select tests.authenticate_as_service_role();
select is(private.chain_upload_worker(1, '{}'), 0, 'nothing due within the horizon: no successor');
select tests.clear_authentication();

-- Section: the every-minute wake-up

insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
  idempotency_key, request_fingerprint)
select pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'Burst ' || i, now() + interval '1 day', 'upload_at_time', 'scheduled',
  now() + interval '20 seconds', 'steps-burst-' || i, repeat('c', 64)
from generate_series(1, 250) as i;
select is(private.wake_upload_worker(), 3, '251 due within the minute: three chains');
insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
  idempotency_key, request_fingerprint)
select pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'More ' || i, now() + interval '1 day', 'upload_at_time', 'scheduled',
  now() + interval '20 seconds', 'steps-more-' || i, repeat('c', 64)
from generate_series(1, 500) as i;
select is(private.wake_upload_worker(), 8, '751 due: eight chains (one per 100 due)');

-- Section: who may call what

select ok(not has_function_privilege('authenticated', 'private.pause_upload(uuid, text, bigint, jsonb)', 'EXECUTE')
  and not has_function_privilege('anon', 'private.chain_upload_worker(integer, uuid[], timestamptz)', 'EXECUTE')
  and not has_function_privilege('authenticated', 'private.chain_render_video_worker()', 'EXECUTE')
  and not has_function_privilege('authenticated', 'private.renew_upload_lease(uuid, text, integer)', 'EXECUTE')
  and has_function_privilege('service_role', 'private.renew_upload_lease(uuid, text, integer)', 'EXECUTE'),
  'users cannot pause uploads or call workers');

select * from finish();
rollback;
