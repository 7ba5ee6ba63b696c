-- A paused upload hands its next step what YouTube confirmed, so that step need not ask.
--
-- Every step began by asking YouTube where the session stands (a status query: one more HTTPS
-- request, about a tenth of a step's fixed cost), although after a clean pause the answer is
-- already on the row: the step stopped at a chunk boundary right after YouTube's 308 confirmed
-- the offset that pause_upload saves. The next-step call now carries that offset and the claim
-- count at the pause ("handover"). The step may trust it only when it is the first to claim the
-- row since (attempts is exactly one more; every claim counts one) and the row still holds that
-- offset: then no byte was sent after YouTube's confirmation. In every other case (a waiting
-- worker took the row first, a step was killed, the row was recovered) it asks YouTube as before,
-- so resuming from YouTube's own offset and exactly-once are unchanged.

-- As in 20261209000100, plus the handover in the next step's call.
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
    coalesce(pause_upload.next_call, '{}'::jsonb) - 'worker_id' - 'handover'
      || jsonb_build_object('schedule_id', s.id, 'worker_id', next_worker,
        'handover', jsonb_build_object('upload_offset', s.upload_offset, 'attempts', s.attempts)), 150000);
  if call_id is not null then
    update public.upload_schedules u set step_call_id = call_id, step_worker = next_worker where u.id = s.id;
  end if;
  return 'ok';
end
$$;
