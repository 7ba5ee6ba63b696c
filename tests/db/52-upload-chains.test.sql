-- Upload worker chains scale with the backlog (20261201001300_upload_schedules):
-- one chain per 100 rows due within the minute, at most 32, so 10,000 schedules due together get
-- 32 chains instead of the four that left a burst's last schedules minutes late (bench/scaling).
begin;
select plan(9);

update public.upload_schedules set next_attempt_at = next_attempt_at + interval '100 years'
where status in ('scheduled', 'uploading', 'processing');

select is(private.upload_worker_chains(0), 0, 'nothing due: no chain');
select is(private.upload_worker_chains(1), 1, 'one due: one chain');
select is(private.upload_worker_chains(400), 4, '400 due: four chains, as before');
select is(private.upload_worker_chains(1000), 10, '1,000 due: ten chains');
select is(private.upload_worker_chains(10000), 32, '10,000 due: the cap of 32');

create temp table ids (name text primary key, id uuid not null) on commit drop;
insert into ids select * from tests.create_upload_fixture('chains_owner', 'chains');
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
  idempotency_key, request_fingerprint)
select pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'), 'Burst ' || i, now() + interval '1 day', 'upload_at_time', 'scheduled',
  now() + interval '20 seconds', 'chains-burst-' || i, repeat('c', 64)
from generate_series(1, 5000) as i;
delete from net.http_request_queue;
select is(private.wake_upload_worker(), 32, '5,000 due within the minute: 32 chains (four before)');
select is((select count(*)::int from net.http_request_queue where url like '%/functions/v1/schedules/worker'), 32,
  'each chain is one call of the worker');
select is(private.wake_upload_worker(max_workers => 2), 2, 'an operator can still cap the chains of one wake-up');

select ok(not has_function_privilege('authenticated', 'private.upload_worker_chains(integer)', 'EXECUTE'),
  'users cannot call it');

select * from finish();
rollback;
