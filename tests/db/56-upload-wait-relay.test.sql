-- A worker hands the rest of its waiting window to its successor (20261211000200_upload_wait_relay):
-- chain_upload_worker puts the window's end in the successor's call as epoch ms, records the call
-- as every worker call is, calls nobody when nothing is due within the horizon, and still answers
-- the two-argument call of a worker deployed before it (no window: an empty body).
begin;
select plan(6);

update public.upload_schedules set next_attempt_at = next_attempt_at + interval '100 years'
where status in ('scheduled', 'uploading', 'processing');
delete from net.http_request_queue;

create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to service_role;
insert into ids select * from tests.create_upload_fixture('relay_owner', 'relay');
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
  idempotency_key, request_fingerprint)
values (pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'Due later', now() + interval '20 seconds', 'upload_at_time',
  'scheduled', now() + interval '20 seconds', 'relay-1', repeat('c', 64));

create function pg_temp.bodies() returns setof jsonb language sql as $$
  select convert_from(q.body, 'UTF8')::jsonb from net.http_request_queue q
  where q.url like '%/functions/v1/schedules/worker' order by q.id
$$;

select tests.authenticate_as_service_role();
select is(private.chain_upload_worker(10, '{}', '2030-01-01 00:00:05+00'), 0, 'nothing due within the horizon: no successor');
select is(private.chain_upload_worker(30, '{}', '2030-01-01 00:00:05.5+00'), 1, 'due within the horizon: one successor');
select is(private.chain_upload_worker(30, '{}'), 1, 'the call of a worker deployed before (two arguments) still works');
select tests.clear_authentication();

select results_eq(
  $$select b -> 'wait_until', b ? 'worker_id' from pg_temp.bodies() b$$,
  $$values ('1893456005500'::jsonb, true), (null::jsonb, true)$$,
  'the successor is told where the window ends (epoch ms), a successor without a window gets none');
select is((select count(*)::int from private.upload_worker_calls c join net.http_request_queue q on q.id = c.call_id), 2,
  'each successor call is recorded with its worker id');
select ok(not has_function_privilege('authenticated', 'private.chain_upload_worker(integer, uuid[], timestamptz)', 'EXECUTE')
  and has_function_privilege('service_role', 'private.chain_upload_worker(integer, uuid[], timestamptz)', 'EXECUTE'),
  'only the service role calls successors');

select * from finish();
rollback;
