-- An upload step the runtime killed is taken up again within seconds, not after its lease.
--
-- Each step of a long upload is started by the step before it (private.pause_upload posts the
-- call through pg_net). When the runtime ends that invocation (546 after 2 s of CPU or 256 MB, a
-- crash, a timeout), the row stayed leased to the dead invocation until its 40 s lease ran out,
-- although pg_net had the failed answer in net._http_response within a second of the kill. Now
-- pause_upload records which call runs the next step (its pg_net request id) and the worker id
-- that call is told to use; private.recover_upload_steps() reads pg_net's answers to those calls
-- and hands a row whose step failed back (due now, lease dropped) so the next worker resumes it
-- from the offset YouTube confirmed. Waiting workers run it every time they look for due rows
-- (every 2 s) and so does the every-minute wake-up.
--
-- Exactly once is unchanged: only a row still leased to the worker of the failed call (or to
-- nobody) is handed back, so a live worker that took the row over legitimately keeps it; and a
-- worker that was not dead after all is in the same place as one whose lease ran out (its next
-- write answers 'lease_lost' and it stops; the session, resume-from-YouTube's-offset and the
-- final-chunk marker cover the rest).

-- Section: columns

-- Nullable, no default: adding them rewrites nothing. Set only while a paused upload waits for
-- (or runs) the step its pause called; cleared when the step pauses again, finishes or is recovered.
alter table public.upload_schedules
  add column step_call_id bigint,
  add column step_worker text;

comment on column public.upload_schedules.step_call_id is
  'pg_net request id of the call that runs this upload''s next step (private.pause_upload); its answer tells a killed step from a live one.';
comment on column public.upload_schedules.step_worker is
  'The worker id that next-step call was told to use, so only its lease is taken back when the call failed.';

-- Section: functions (the worker: service role)

-- As before (the offset saved, the row due now, the next step called, one transaction), plus the
-- next step's worker id chosen here and sent with the call, and the call recorded on the row.
create or replace function private.pause_upload(schedule_id uuid, worker text, upload_offset bigint, next_call jsonb)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
  current_status text;
  next_worker text := 'schedules:step:' || gen_random_uuid()::text;
  call_id bigint;
begin
  update public.upload_schedules u set upload_offset = pause_upload.upload_offset, next_attempt_at = now(),
    lease_owner = null, lease_expires_at = null, waiting_reason = null, last_error = null, failures = 0,
    step_call_id = null, step_worker = null
  where u.id = pause_upload.schedule_id and u.lease_owner = pause_upload.worker and u.status = 'uploading'
  returning * into s;
  if s.id is null then
    select u.status into current_status from public.upload_schedules u where u.id = pause_upload.schedule_id;
    return case when current_status = 'canceled' then 'canceled' else 'lease_lost' end;
  end if;
  perform private.add_upload_event(s, 'upload_paused', 'uploading', 'uploading', 'worker', null, pause_upload.worker,
    jsonb_build_object('upload_offset', pause_upload.upload_offset, 'total_bytes', s.upload_total_bytes,
      'reason', 'step budget used up; the next step starts at once'));
  call_id := private.call_worker('schedules/worker',
    coalesce(pause_upload.next_call, '{}'::jsonb) - 'worker_id'
      || jsonb_build_object('schedule_id', s.id, 'worker_id', next_worker), 150000);
  if call_id is not null then
    update public.upload_schedules u set step_call_id = call_id, step_worker = next_worker where u.id = s.id;
  end if;
  return 'ok';
end
$$;

-- Hands back every uploading row whose next-step call failed (an answer of 5xx, 546 included, a
-- timeout or a transport error) while the row is still leased to that call's worker or to
-- nobody: lease dropped, due now, an 'upload_step_recovered' event with pg_net's answer. Returns
-- the ids handed back. Only answers of the last 10 minutes are read (pg_net's index on created;
-- a step call is answered within hosted's 150 s wall clock), and only rows that recorded a call.
create function private.recover_upload_steps() returns setof uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  r record;
  s public.upload_schedules;
begin
  for r in
    select u.id, u.lease_owner, a.id as call_id, a.status_code, a.timed_out, left(a.error_msg, 200) as error_msg
    from public.upload_schedules u
    join net._http_response a on a.id = u.step_call_id and a.created > now() - interval '10 minutes'
    where u.status = 'uploading' and u.step_call_id is not null
      and (u.lease_owner is null or u.lease_owner = u.step_worker)
      and (a.status_code >= 500 or a.timed_out is true or a.error_msg is not null)
    for update of u skip locked
  loop
    update public.upload_schedules u set lease_owner = null, lease_expires_at = null, next_attempt_at = now(),
      step_call_id = null, step_worker = null
    where u.id = r.id
    returning * into s;
    perform private.add_upload_event(s, 'upload_step_recovered', 'uploading', 'uploading', 'dispatcher', null, r.lease_owner,
      jsonb_build_object('failed_call', r.call_id, 'status_code', r.status_code, 'timed_out', coalesce(r.timed_out, false),
        'error', r.error_msg, 'upload_offset', s.upload_offset,
        'reason', 'the invocation running this step failed; resumed from the offset YouTube confirmed without waiting for its lease'));
    return next r.id;
  end loop;
end
$$;

-- The every-minute wake-up recovers failed steps first, so a recovered row counts as due (a
-- backstop for when no worker is waiting; otherwise as in 20261207000500).
create or replace function private.wake_upload_worker(horizon interval default interval '60 seconds', max_workers integer default null)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  due integer;
  workers integer;
begin
  perform private.recover_upload_steps();
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

-- Section: grants

revoke all on function private.recover_upload_steps() from public, anon, authenticated;
grant execute on function private.recover_upload_steps() to service_role;

comment on function private.recover_upload_steps() is
  'Hands back uploads whose next-step invocation failed (pg_net answer 5xx/546, timeout, transport error), so they resume at once instead of after the lease.';
