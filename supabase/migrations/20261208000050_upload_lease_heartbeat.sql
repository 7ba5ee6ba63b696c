-- Upload leases kept alive by the worker instead of sized for the longest step.
--
-- A claimed schedule was leased for 180 s so that no step (at most hosted's 150 s wall clock)
-- could outlive its lease. The cost showed when a step died: ended by the runtime (546 after 2 s
-- of CPU, 256 MB, or a deploy), the row stayed locked for the rest of those 180 s and the upload
-- resumed three to four minutes later. Now the worker renews a short lease (40 s by default) every
-- quarter of it while it still works on the row, so a live step keeps its row however long a chunk
-- takes, and a dead one lets it go within one lease: the next wake-up resumes it from the offset
-- YouTube confirmed. A worker that cannot reach the database to renew loses the row after one
-- lease; its next save_upload_offset then answers 'lease_lost' and it stops, as when a lease ran out
-- before.

-- 'ok' while the row is still this worker's and open; 'canceled' or 'lease_lost' otherwise (the
-- worker stops at its next write either way). next_attempt_at moves with the lease: claims take
-- rows by next_attempt_at, and a row must not look due while its lease is alive.
create function private.renew_upload_lease(schedule_id uuid, worker text, lease_seconds integer)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  current_status text;
begin
  if renew_upload_lease.lease_seconds is null or renew_upload_lease.lease_seconds < 1 then
    raise exception 'lease_seconds must be at least 1' using errcode = '22023';
  end if;
  update public.upload_schedules u set
    lease_expires_at = now() + make_interval(secs => renew_upload_lease.lease_seconds),
    next_attempt_at = now() + make_interval(secs => renew_upload_lease.lease_seconds)
  where u.id = renew_upload_lease.schedule_id and u.lease_owner = renew_upload_lease.worker
    and u.status in ('scheduled', 'uploading', 'processing');
  if found then
    return 'ok';
  end if;
  select u.status into current_status from public.upload_schedules u where u.id = renew_upload_lease.schedule_id;
  return case when current_status = 'canceled' then 'canceled' else 'lease_lost' end;
end
$$;

revoke all on function private.renew_upload_lease(uuid, text, integer) from public, anon, authenticated;
grant execute on function private.renew_upload_lease(uuid, text, integer) to service_role;

comment on function private.renew_upload_lease(uuid, text, integer) is
  'Extends the lease of a schedule this worker still holds (called every quarter of the lease while it works on the row).';
