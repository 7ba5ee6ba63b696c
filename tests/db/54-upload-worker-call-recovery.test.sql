-- A row held by a worker pg_net woke is taken back from that call's failed answer
-- (20261210000200_upload_worker_call_recovery): the wake-up and the successor call record the
-- worker id they send; recover_upload_steps hands back a row that worker holds once its call got a
-- 5xx (546 included), and says it found the holder's call; not while the call is unanswered or
-- answered 2xx, and not a row another worker holds; old calls are deleted by the wake-up.
begin;
select plan(12);

update public.upload_schedules set next_attempt_at = next_attempt_at + interval '100 years'
where status in ('scheduled', 'uploading', 'processing');

create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to service_role;
insert into ids select * from tests.create_upload_fixture('holder_owner', 'holder');
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

with s as (
  insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
    upload_total_bytes, upload_offset, upload_started_at, idempotency_key, request_fingerprint)
  values (pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'Held', now(), 'upload_at_time', 'uploading',
    now(), 8388608, 4194304, now(), 'holder-1', repeat('c', 64))
  returning id
) insert into ids select 's1', id from s;

-- Section: every woken worker's call is recorded with the worker id it was sent

delete from net.http_request_queue;
delete from private.upload_worker_calls;
select is(private.wake_upload_worker(interval '60 seconds', 1), 1, 'the wake-up wakes one worker');
select results_eq(
  $$select c.worker, c.worker from private.upload_worker_calls c$$,
  $$select convert_from(q.body, 'UTF8')::jsonb ->> 'worker_id', c.worker
    from net.http_request_queue q join private.upload_worker_calls c on c.call_id = q.id$$,
  'the call is recorded with the worker id its body names');
select matches((select worker from private.upload_worker_calls), '^schedules:call:[0-9a-f-]{36}$', 'a call worker id');
select is(private.chain_upload_worker(60, '{}'), 1, 'a successor is called');
select is((select count(*)::int from private.upload_worker_calls), 2, 'and recorded too');

-- The woken worker claims the row under the id its call named (as the worker does).
create temp table woken on commit drop as select c.worker, c.call_id from private.upload_worker_calls c order by c.call_id limit 1;
grant select on woken to service_role;
create function pg_temp.woken() returns text language sql as $$ select worker from woken $$;
select tests.authenticate_as_service_role();
select is((select lease_owner from private.claim_upload_schedules(pg_temp.woken(), 1, 40, pg_temp.id('s1'))), pg_temp.woken(),
  'the woken worker holds the row');
select tests.clear_authentication();
create function pg_temp.answer(answer_status integer) returns void language sql as $$
  delete from net._http_response where id = (select call_id from woken);
  insert into net._http_response (id, status_code, content, timed_out, error_msg, created)
  select call_id, answer_status, '{}', false, null, now() from woken
$$;
create function pg_temp.recover() returns setof uuid language sql as $$ select * from private.recover_upload_steps() $$;

-- Section: only a failed answer of the holder's own call

select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'a holder whose call is unanswered keeps the row');
select tests.clear_authentication();
select pg_temp.answer(200);
select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'a holder whose call answered 200 keeps the row');
select tests.clear_authentication();

select pg_temp.answer(546);
update public.upload_schedules set lease_owner = 'schedules:call:00000000-0000-4000-8000-000000000000' where id = pg_temp.id('s1');
select tests.authenticate_as_service_role();
select is_empty($$select * from pg_temp.recover()$$, 'another worker''s failed call does not free a row this worker holds');
select tests.clear_authentication();
update public.upload_schedules set lease_owner = pg_temp.woken() where id = pg_temp.id('s1');

select tests.authenticate_as_service_role();
select results_eq($$select * from pg_temp.recover()$$, $$values (pg_temp.id('s1'))$$, 'a holder whose call answered 546 is taken back');
select tests.clear_authentication();
select results_eq(
  $$select s.lease_owner, s.next_attempt_at, e.actor_label, e.details ->> 'found_by', (e.details ->> 'status_code')::int,
      (e.details ->> 'failed_call')::bigint
    from public.upload_schedules s join public.upload_events e on e.schedule_id = s.id and e.event = 'upload_step_recovered'
    where s.id = pg_temp.id('s1')$$,
  $$select null::text, now(), pg_temp.woken(), 'holder_call'::text, 546,
      (select call_id from woken)$$,
  'lease dropped, due now, and the event names the holder and its call');

-- Section: housekeeping

update private.upload_worker_calls set called_at = now() - interval '11 minutes';
do $$ begin perform private.wake_upload_worker(interval '60 seconds', 1); end $$;
select is((select count(*)::int from private.upload_worker_calls where called_at < now() - interval '10 minutes'), 0,
  'the wake-up deletes calls whose answers are no longer read');

select * from finish();
rollback;
