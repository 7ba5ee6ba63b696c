-- The sync worker's chains, bounded (20261212000100_youtube_sync_chains): a claim that does not
-- name its run gets none while youtube_sync_chains_max() runs are held under live leases (a lease
-- that ran out does not count), one that names it still does, and the wake-ups that start work
-- start as many invocations as runs are due and chains free.
begin;
select plan(13);

-- Nothing else in the database is due or held while this runs.
update public.sync_runs set next_attempt_at = next_attempt_at + interval '100 years', lease_expires_at = null
where status in ('queued', 'running', 'waiting_quota');
update public.sync_runs set status = 'queued' where status = 'running';

select tests.create_user('sync_chains_owner');
create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to service_role;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('sync_chains_owner');
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  select (select id from ids where name = 'ws'), 'UCsyncChains' || i, 'Chains ' || i, 'active' from generate_series(1, 7) i
  returning id, youtube_channel_id
) insert into ids select 'channel' || substring(youtube_channel_id from 13), id from c;
with r as (
  insert into public.sync_runs (workspace_id, channel_id, trigger, status, next_attempt_at)
  select (select id from ids where name = 'ws'), (select id from ids where name = 'channel' || i), 'cron', 'queued',
    now() - make_interval(secs => 10 - i)
  from generate_series(1, 7) i
  returning id, channel_id
) insert into ids select 'run' || substring(n.name from 8), r.id from r join ids n on n.id = r.channel_id;
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

select is(private.youtube_sync_chains_max(), 4, 'four chains at most');
select is(
  (select count(*)::int from generate_series(1, 6) i, private.claim_youtube_sync_run('chain-' || i, 40) r),
  4, 'six claims with seven runs due: four runs held, the other two claims get none');
select is(private.youtube_sync_chains_running(), 4, 'four chains at work');
select is((select count(*)::int from private.claim_youtube_sync_run('named', 40, pg_temp.id('run7'))), 1,
  'a claim that names its run is not a chain: it gets the run');

-- A lease that ran out belongs to a worker that died: its run is due and no chain is counted for it.
update public.sync_runs set lease_expires_at = now() - interval '1 second', next_attempt_at = now() - interval '1 second'
where lease_owner = 'chain-1';
select is(private.youtube_sync_chains_running(), 4, 'a lease that ran out does not count (three chains and the named claim)');
update public.sync_runs set status = 'succeeded', lease_owner = null, lease_expires_at = null, finished_at = now()
where lease_owner = 'named';
select is((select count(*)::int from private.claim_youtube_sync_run('chain-7', 40)), 1, 'with a chain free, a claim gets a run');

-- Starting chains: as many as runs are due and chains free.
update public.sync_runs set status = 'queued', lease_owner = null, lease_expires_at = null, finished_at = null,
  next_attempt_at = now() - interval '1 second'
where id in (select id from ids);
delete from net.http_request_queue;
select is(private.start_youtube_sync_chains(), 4, 'seven runs due, no chain at work: four invocations');
select is((select count(*)::int from net.http_request_queue where url like '%/functions/v1/youtube-sync/worker'), 4,
  'each one call of the worker');
select is((select count(*)::int from generate_series(1, 3) i, private.claim_youtube_sync_run('held-' || i, 40) r), 3, 'three held');
select is(private.start_youtube_sync_chains(), 1, 'three chains at work: one more');
update public.sync_runs set status = 'succeeded', lease_owner = null, lease_expires_at = null, finished_at = now()
where id in (select id from ids);
select is(private.start_youtube_sync_chains(), 0, 'nothing due: none');

-- A run a person asked for comes before the daily job's, however long those have been due.
update public.sync_runs set status = 'queued', finished_at = null, next_attempt_at = now() - interval '1 hour'
where id in (pg_temp.id('run1'), pg_temp.id('run2'));
update public.sync_runs set status = 'queued', finished_at = null, trigger = 'manual', next_attempt_at = now()
where id = pg_temp.id('run3');
select is((select id from private.claim_youtube_sync_run('first', 40)), pg_temp.id('run3'), 'a manual run is claimed before older cron runs');

select ok(not has_function_privilege('authenticated', 'private.start_youtube_sync_chains()', 'EXECUTE')
  and not has_function_privilege('anon', 'private.youtube_sync_chains_running()', 'EXECUTE')
  and has_function_privilege('service_role', 'private.start_youtube_sync_chains()', 'EXECUTE'),
  'service role only');

select * from finish();
rollback;
