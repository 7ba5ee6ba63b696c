-- The every-minute wake-up starts as many upload worker chains as the backlog needs, not at most
-- four. bench/scaling (dispatch) measured 10,000 schedules due in one minute: four chains, each
-- invocation taking up the ~9 schedules its step budget fits, leave the last schedules minutes
-- late (the lag grows linearly with the backlog), over the 60 s p99 the product promises. One
-- chain per 100 due rows keeps every chain's share of a burst the same as at 400 due; the cap
-- bounds the concurrent invocations (each holds a database connection; hosted's pooler allows a
-- few hundred, shared with the API) and stays within what one pg_cron tick can post through pg_net.

-- How many chains `due` rows (due within the wake-up's horizon) get: one per 100, at least one,
-- at most 32.
create function private.upload_worker_chains(due integer) returns integer
language sql immutable set search_path = '' as $$
  select case when coalesce(upload_worker_chains.due, 0) <= 0 then 0
    else least(32, greatest(1, ceil(upload_worker_chains.due / 100.0)::integer)) end
$$;

create or replace function private.wake_upload_worker(horizon interval default interval '60 seconds', max_workers integer default null)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  due integer;
  workers integer;
begin
  -- counted up to what the largest number of chains serves, so the probe stays an index range
  select count(*) into due from (
    select 1 from public.upload_schedules s
    where s.status in ('scheduled', 'uploading', 'processing') and s.next_attempt_at <= now() + horizon
    limit 100 * coalesce(max_workers, private.upload_worker_chains(2147483647))
  ) d;
  workers := private.upload_worker_chains(due);
  if max_workers is not null then
    workers := least(workers, max_workers);
  end if;
  for i in 1..workers loop
    if private.post_to_worker('schedules/worker', 150000) is null then
      return 0; -- Vault secrets missing (warned)
    end if;
  end loop;
  return workers;
end
$$;

revoke all on function private.upload_worker_chains(integer) from public, anon, authenticated;
grant execute on function private.upload_worker_chains(integer) to service_role;
