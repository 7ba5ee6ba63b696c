-- The sync worker's concurrency, bounded.
--
-- An invocation that finished or released a run woke another invocation (the release's
-- transaction posted one through pg_net) and then went on to claim the next due run itself. With
-- many short runs due at once (the daily job queues one per active channel) every finished run
-- added a chain of invocations: 200 ten-video channels ran up to 82 worker invocations at once
-- (bench youtube-sync-limits, `daily`), each in an isolate of its own with its own database pool,
-- where hosted's smallest computes take 60 direct connections, or 200 clients through the pooler.
--
-- Now an invocation wakes one successor only when it hands its run on with work left (a yield)
-- or stops with its budget spent while runs are still due (youtube-sync/worker.ts); a claim that
-- does not name its run is refused while youtube_sync_chains_max() runs are held under live
-- leases, so an invocation started on top of those (the minute's wake-up, two claims racing)
-- ends at its first claim, without a successor; and the wake-ups that start work (the daily job,
-- pg_cron's minute) start as many invocations as there are runs due and chains free, up to the
-- cap, instead of one.

-- Four chains: the daily sync of 200 small channels takes about as long as with 82 (the work is
-- the database's and the fake API's, not the workers'), and a sync is bounded by YouTube's quota
-- long before it is by chains.
create function private.youtube_sync_chains_max() returns integer
language sql immutable set search_path = '' as $$ select 4 $$;

revoke all on function private.youtube_sync_chains_max() from public, anon, authenticated;
grant execute on function private.youtube_sync_chains_max() to service_role;

-- The runs held under a live lease are few (at most the cap, and a race's extra); the index keeps
-- counting them from scanning the queued and waiting runs.
-- Not CONCURRENTLY: a migration runs in a transaction, which CONCURRENTLY cannot; the build holds
-- back writes to sync_runs (a row per sync run, a few per channel a day) for as long as it reads them.
-- squawk-ignore require-concurrent-index-creation
create index sync_runs_leased_idx on public.sync_runs (lease_expires_at) where status = 'running';

-- Chains at work: runs held under a live lease (a lease that ran out belongs to a worker that died).
create function private.youtube_sync_chains_running() returns integer
language sql stable set search_path = '' as $$
  select count(*)::int from public.sync_runs r where r.status = 'running' and r.lease_expires_at > now()
$$;

revoke all on function private.youtube_sync_chains_running() from public, anon, authenticated;
grant execute on function private.youtube_sync_chains_running() to service_role;

-- As in 20261201000400, and a claim that does not name its run gets none while the chains are
-- all at work. One that names it (a caller driving one run: an operator, the tests) is not a chain.
-- Two claims at the same moment can both see a chain free and make five; the next claim of either
-- chain then gets none, so the excess ends at once. Runs a person asked for (a sync now, a channel
-- just connected) come before the daily job's: with four chains, a morning's queue of every
-- channel would otherwise hold a "Sync now" back until the queue is through.
create or replace function private.claim_youtube_sync_run(worker text, lease_seconds integer default 180, only_run uuid default null)
returns setof public.sync_runs
language sql volatile set search_path = '' as $$
  with next as (
    select r.id from public.sync_runs r
    where r.status in ('queued', 'running', 'waiting_quota')
      and r.next_attempt_at <= now()
      and (claim_youtube_sync_run.only_run is null or r.id = claim_youtube_sync_run.only_run)
      and (claim_youtube_sync_run.only_run is not null
        or private.youtube_sync_chains_running() < private.youtube_sync_chains_max())
    order by r.trigger = 'cron', r.next_attempt_at, r.created_at
    limit 1
    for update skip locked
  )
  update public.sync_runs r set
    status = 'running',
    lease_owner = claim_youtube_sync_run.worker,
    lease_expires_at = now() + make_interval(secs => claim_youtube_sync_run.lease_seconds),
    next_attempt_at = now() + make_interval(secs => claim_youtube_sync_run.lease_seconds),
    attempts = r.attempts + 1,
    started_at = coalesce(r.started_at, now())
  from next
  where r.id = next.id
  returning r.*
$$;

-- Starts as many worker invocations as there are runs due and chains free (at most the cap);
-- returns how many. Called by pg_cron every minute and by the daily job; a successor is one call
-- of private.wake_youtube_sync_worker().
create function private.start_youtube_sync_chains() returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  due integer;
  chains integer;
begin
  select count(*) into due from (
    select 1 from public.sync_runs r
    where r.status in ('queued', 'running', 'waiting_quota') and r.next_attempt_at <= now()
    limit private.youtube_sync_chains_max()
  ) d;
  chains := greatest(0, least(due, private.youtube_sync_chains_max() - private.youtube_sync_chains_running()));
  for i in 1..chains loop
    if private.post_to_worker('youtube-sync/worker', 60000) is null then
      return 0; -- Vault secrets missing (warned)
    end if;
  end loop;
  return chains;
end
$$;

revoke all on function private.start_youtube_sync_chains() from public, anon, authenticated, service_role;
grant execute on function private.start_youtube_sync_chains() to service_role;

-- As in 20261201000400, starting chains rather than one invocation.
create or replace function private.queue_daily_youtube_syncs() returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  queued integer;
begin
  insert into public.sync_runs (workspace_id, channel_id, trigger, status, next_attempt_at)
  select c.workspace_id, c.id, 'cron', 'queued', now() from public.channels c where c.status = 'active'
  on conflict (channel_id) where status in ('queued', 'running', 'waiting_quota') do nothing;
  get diagnostics queued = row_count;
  perform private.start_youtube_sync_chains();
  return queued;
end
$$;

select cron.schedule('youtube-sync-wake', '* * * * *', $$select private.start_youtube_sync_chains()$$);
