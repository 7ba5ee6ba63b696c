-- Sync run leases renewed by their invocation (20261201000400_youtube_sync_runs_and_quota): only the leaseholder of a running
-- run renews, for lease_seconds from now, and the run is not due before its lease ends; users
-- cannot call it.
begin;
select plan(6);

select tests.create_user('sync_lease_owner');
create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to service_role;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('sync_lease_owner');
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values ((select id from ids where name = 'ws'), 'UCsyncLease', 'Lease', 'active') returning id
) insert into ids select 'channel', id from c;
with r as (
  insert into public.sync_runs (workspace_id, channel_id, trigger, status, next_attempt_at, lease_owner, lease_expires_at)
  values ((select id from ids where name = 'ws'), (select id from ids where name = 'channel'), 'manual', 'running',
    now() + interval '40 seconds', 'w1', now() + interval '40 seconds')
  returning id
) insert into ids select 'run', id from r;
create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

select tests.authenticate_as_service_role();
select is(private.renew_youtube_sync_lease(pg_temp.id('run'), 'w2', 40), 'lease_lost', 'a worker without the lease cannot renew it');
select is(private.renew_youtube_sync_lease(pg_temp.id('run'), 'w1', 90), 'ok', 'the leaseholder renews');
select tests.clear_authentication();
select results_eq($$select lease_expires_at, next_attempt_at from public.sync_runs where id = pg_temp.id('run')$$,
  $$values (now() + interval '90 seconds', now() + interval '90 seconds')$$,
  'for lease_seconds from now, and the run is not due before the lease ends');
select throws_ok($$select private.renew_youtube_sync_lease(pg_temp.id('run'), 'w1', 0)$$, '22023', null, 'a lease of less than a second is refused');

update public.sync_runs set status = 'succeeded', lease_owner = null, lease_expires_at = null, finished_at = now() where id = pg_temp.id('run');
select is(private.renew_youtube_sync_lease(pg_temp.id('run'), 'w1', 40), 'lease_lost', 'a finished run is not renewed');

select ok(not has_function_privilege('authenticated', 'private.renew_youtube_sync_lease(uuid, text, integer)', 'EXECUTE')
  and not has_function_privilege('anon', 'private.renew_youtube_sync_lease(uuid, text, integer)', 'EXECUTE')
  and has_function_privilege('service_role', 'private.renew_youtube_sync_lease(uuid, text, integer)', 'EXECUTE'),
  'only the service role renews');

select * from finish();
rollback;
