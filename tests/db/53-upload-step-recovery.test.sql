-- A killed upload step is taken back from pg_net's answer (20261209000100_upload_step_recovery):
-- recover_upload_steps hands back a row whose next-step call (recorded by pause_upload) got a 5xx
-- (546 included), a timeout or a transport error while the call's own worker (or nobody) holds
-- it; not while the call is unanswered or answered 2xx, not when another worker took the row
-- over, not for an answer older than its window; the every-minute wake-up runs it; and users
-- cannot call it.
begin;
select plan(13);

update public.upload_schedules set next_attempt_at = next_attempt_at + interval '100 years'
where status in ('scheduled', 'uploading', 'processing');

create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to service_role;
insert into ids select * from tests.create_upload_fixture('recovery_owner', 'recovery');
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

-- An upload leased to w1, which pauses it: the next step is called (one pg_net request).
with s as (
  insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
    lease_owner, lease_expires_at, upload_total_bytes, upload_offset, upload_started_at, idempotency_key, request_fingerprint)
  values (pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'Recovery', now(), 'upload_at_time', 'uploading',
    now() + interval '40 seconds', 'w1', now() + interval '40 seconds', 8388608, 1048576, now(), 'recovery-1', repeat('b', 64))
  returning id
) insert into ids select 's1', id from s;
delete from net.http_request_queue;
select tests.authenticate_as_service_role();
select is(private.pause_upload(pg_temp.id('s1'), 'w1', 2097152, '{}'), 'ok', 'w1 pauses its step');
select tests.clear_authentication();

-- The called step claims the row under the worker id the call gave it (as the worker does).
create function pg_temp.step_claims() returns void language sql as $$
  update public.upload_schedules set lease_owner = step_worker, lease_expires_at = now() + interval '40 seconds',
    next_attempt_at = now() + interval '40 seconds' where id = pg_temp.id('s1')
$$;
select pg_temp.step_claims();
create function pg_temp.recover() returns setof uuid language sql as $$ select * from private.recover_upload_steps() $$;
create function pg_temp.answer(answer_status integer, answered_at timestamptz default now()) returns void language sql as $$
  insert into net._http_response (id, status_code, content, timed_out, error_msg, created)
  select u.step_call_id, answer_status, '{}', false, null, answered_at from public.upload_schedules u where u.id = pg_temp.id('s1')
$$;

select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'a step whose call is not answered yet is left alone');
select tests.clear_authentication();

-- Section: a 546

select pg_temp.answer(546);
select tests.authenticate_as_service_role();
select results_eq($$select * from pg_temp.recover()$$, $$values (pg_temp.id('s1'))$$, 'a step answered 546 is taken back');
select tests.clear_authentication();
select results_eq($$select status, lease_owner, lease_expires_at, next_attempt_at, step_call_id, upload_offset from public.upload_schedules where id = pg_temp.id('s1')$$,
  $$values ('uploading'::text, null::text, null::timestamptz, now(), null::bigint, 2097152::bigint)$$,
  'still uploading, lease dropped, due now, from the saved offset');
select results_eq($$select event, actor_type, (details ->> 'status_code')::int, details ->> 'upload_offset' from public.upload_events
    where schedule_id = pg_temp.id('s1') and event = 'upload_step_recovered'$$,
  $$values ('upload_step_recovered'::text, 'dispatcher'::text, 546, '2097152'::text)$$, 'with an event that says what pg_net got');
select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'and only once');
select tests.clear_authentication();

-- Section: answers that are not a killed step

-- A new pause and claim for each case.
create function pg_temp.pause_and_claim() returns void language plpgsql as $$
begin
  update public.upload_schedules set lease_owner = 'w1', lease_expires_at = now() + interval '40 seconds' where id = pg_temp.id('s1');
  perform private.pause_upload(pg_temp.id('s1'), 'w1', 3145728, '{}');
  perform pg_temp.step_claims();
end
$$;

select pg_temp.pause_and_claim();
select pg_temp.answer(200);
select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'a step that answered 200 is not taken back');
select tests.clear_authentication();

select pg_temp.pause_and_claim();
select pg_temp.answer(500);
update public.upload_schedules set lease_owner = 'w-dispatcher' where id = pg_temp.id('s1');
select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'a failed step call does not take the row from another worker that holds it');
select tests.clear_authentication();

select pg_temp.pause_and_claim();
select pg_temp.answer(546, now() - interval '20 minutes');
select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'an answer older than the window is not read');
select tests.clear_authentication();

-- Section: transport failures, and a failed call nobody claimed

select pg_temp.pause_and_claim();
insert into net._http_response (id, status_code, timed_out, error_msg)
select step_call_id, null, true, 'Timeout of 150000 ms reached' from public.upload_schedules where id = pg_temp.id('s1');
select tests.authenticate_as_service_role();
select results_eq($$select * from pg_temp.recover()$$, $$values (pg_temp.id('s1'))$$, 'a step call that timed out is taken back');
select tests.clear_authentication();

select pg_temp.pause_and_claim();
update public.upload_schedules set lease_owner = null, lease_expires_at = null where id = pg_temp.id('s1');
select pg_temp.answer(503);
select is(private.wake_upload_worker(), 1, 'the every-minute wake-up takes back a step call answered 503 and wakes a worker');
select is((select step_call_id from public.upload_schedules where id = pg_temp.id('s1')), null::bigint, 'the call is settled');

-- Section: who may call it

select ok(not has_function_privilege('authenticated', 'private.recover_upload_steps()', 'EXECUTE')
  and not has_function_privilege('anon', 'private.recover_upload_steps()', 'EXECUTE')
  and has_function_privilege('service_role', 'private.recover_upload_steps()', 'EXECUTE'),
  'only the service role recovers steps');

select * from finish();
rollback;
