-- Sync runs get the lease upload schedules got in 20261208000050: 40 s, renewed by the invocation
-- every quarter while it works on the run, so a step the runtime ends frees the run within 40 s
-- instead of the 180 s that covered the longest step (a killed step's run waited up to three
-- minutes, longer than a test or a person waits for a sync to move on). The cursor is saved with
-- every step's rows, so the next worker continues from it, as before.

-- 'ok' while the run is this worker's and running; 'lease_lost' otherwise (the worker's next save
-- then fails with LeaseLostError and it stops).
create function private.renew_youtube_sync_lease(run_id uuid, worker text, lease_seconds integer)
returns text
language plpgsql volatile security definer set search_path = '' as $$
begin
  if renew_youtube_sync_lease.lease_seconds is null or renew_youtube_sync_lease.lease_seconds < 1 then
    raise exception 'lease_seconds must be at least 1' using errcode = '22023';
  end if;
  update public.sync_runs r set
    lease_expires_at = now() + make_interval(secs => renew_youtube_sync_lease.lease_seconds),
    next_attempt_at = now() + make_interval(secs => renew_youtube_sync_lease.lease_seconds)
  where r.id = renew_youtube_sync_lease.run_id and r.lease_owner = renew_youtube_sync_lease.worker
    and r.status = 'running';
  return case when found then 'ok' else 'lease_lost' end;
end
$$;

revoke all on function private.renew_youtube_sync_lease(uuid, text, integer) from public, anon, authenticated;
grant execute on function private.renew_youtube_sync_lease(uuid, text, integer) to service_role;

comment on function private.renew_youtube_sync_lease(uuid, text, integer) is
  'Extends the lease of a sync run this worker still holds (called every quarter of the lease while it works on the run).';
