-- Upload and render workers in bounded steps that chain at once.
--
-- Hosted edge functions end a request that uses more than 2 s of CPU (HTTP 546). A resumable
-- upload of a 2 GB video costs several seconds of CPU (every byte is read from the render's URL
-- and written to YouTube, both over TLS), and 1,000 schedules due in the same minute cost more
-- than one request can spend. So the schedules worker now does a bounded step per invocation
-- (a byte budget for uploads, a bounded batch of schedules) and the next step is started at once
-- by the database, not a minute later by pg_cron:
--   * an upload that used up its step saves the offset YouTube confirmed, lets go of its lease and
--     calls the worker for that schedule again, all in one transaction (public.pause_upload):
--     pg_net sends the call after the commit, so the next step never starts before the offset is
--     saved, and a step whose call is lost is still due (next_attempt_at = now()) for the
--     every-minute wake-up;
--   * a worker that finished its batch while more schedules are due calls one successor
--     (public.chain_upload_worker); the every-minute wake-up starts one chain per 100 due rows
--     (at most 4), so a backlog is worked through in parallel chains of small invocations;
--   * the render poller does the same (public.chain_render_video_worker).
-- Exactly once is unchanged: leases, the session saved before the first byte, resume from the
-- offset YouTube confirms, the final-chunk marker.

-- Section: functions (helpers)

-- private.post_to_worker with a JSON body (the function's options for the next step). Sent by
-- pg_net after the calling transaction commits; NULL when the Vault secrets are missing.
create function private.call_worker(function_path text, body jsonb, timeout_milliseconds integer)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  project_url text;
  service_key text;
begin
  select s.decrypted_secret into project_url from vault.decrypted_secrets s where s.name = 'project_url';
  select s.decrypted_secret into service_key from vault.decrypted_secrets s where s.name = 'service_role_key';
  if project_url is null or service_key is null then
    raise warning '%: vault secrets project_url and service_role_key are needed to wake the worker', function_path;
    return null;
  end if;
  return net.http_post(
    url := rtrim(project_url, '/') || '/functions/v1/' || function_path,
    headers := jsonb_build_object('Authorization', 'Bearer ' || service_key, 'Content-Type', 'application/json'),
    body := coalesce(call_worker.body, '{}'::jsonb),
    timeout_milliseconds := call_worker.timeout_milliseconds
  );
end
$$;

-- The every-minute wake-up (and publish-now) now starts one worker chain per 100 due rows, at
-- most 4: each chain's invocations take a bounded batch and call their successor, so parallel
-- chains are what keeps the lag of a burst of schedules low. A chained worker answers within
-- about a minute (its claim window plus a bounded step), hence the timeout.
create or replace function private.wake_upload_worker(horizon interval default interval '60 seconds', max_workers integer default 4)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  due integer;
  workers integer;
begin
  select count(*) into due from (
    select 1 from public.upload_schedules s
    where s.status in ('scheduled', 'uploading', 'processing') and s.next_attempt_at <= now() + horizon
    limit 100 * max_workers
  ) d;
  if due = 0 then
    return 0;
  end if;
  workers := least(max_workers, greatest(1, ceil(due / 100.0)::integer));
  for i in 1..workers loop
    if private.post_to_worker('schedules/worker', 150000) is null then
      return 0; -- Vault secrets missing (warned)
    end if;
  end loop;
  return workers;
end
$$;

-- Section: functions (the worker: service role)

-- Ends one step of an upload: saves the offset YouTube confirmed, hands the row back (due now,
-- still uploading) and calls the worker for this schedule with `next_call` (its options), in one
-- transaction. 'ok' | 'canceled' | 'lease_lost' (nothing changed then).
create function public.pause_upload(schedule_id uuid, worker text, upload_offset bigint, next_call jsonb)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
  current_status text;
begin
  update public.upload_schedules u set upload_offset = pause_upload.upload_offset, next_attempt_at = now(),
    lease_owner = null, lease_expires_at = null, waiting_reason = null, last_error = null, failures = 0
  where u.id = pause_upload.schedule_id and u.lease_owner = pause_upload.worker and u.status = 'uploading'
  returning * into s;
  if s.id is null then
    select u.status into current_status from public.upload_schedules u where u.id = pause_upload.schedule_id;
    return case when current_status = 'canceled' then 'canceled' else 'lease_lost' end;
  end if;
  perform private.add_upload_event(s, 'upload_paused', 'uploading', 'uploading', 'worker', null, pause_upload.worker,
    jsonb_build_object('upload_offset', pause_upload.upload_offset, 'total_bytes', s.upload_total_bytes,
      'reason', 'step budget used up; the next step starts at once'));
  perform private.call_worker('schedules/worker',
    coalesce(pause_upload.next_call, '{}'::jsonb) || jsonb_build_object('schedule_id', s.id), 150000);
  return 'ok';
end
$$;

-- A worker that finished its batch calls one successor when more is due within `horizon_seconds`
-- (rows in `except_ids`, paused uploads that already called their own next step, do not count).
-- Returns the number of calls made (0 or 1).
create function public.chain_upload_worker(horizon_seconds integer default 60, except_ids uuid[] default '{}')
returns integer
language plpgsql volatile security definer set search_path = '' as $$
begin
  if not exists (
    select 1 from public.upload_schedules s
    where s.status in ('scheduled', 'uploading', 'processing')
      and s.next_attempt_at <= now() + make_interval(secs => chain_upload_worker.horizon_seconds)
      and s.id <> all (chain_upload_worker.except_ids)
  ) then
    return 0;
  end if;
  return case when private.post_to_worker('schedules/worker', 150000) is null then 0 else 1 end;
end
$$;

-- The render poller's successor: called by a poller invocation that stopped at its batch limit
-- while jobs are still due (the same test as the every-minute wake-up).
create function public.chain_render_video_worker() returns integer
language plpgsql volatile security definer set search_path = '' as $$
begin
  return case when private.wake_render_video_worker() is null then 0 else 1 end;
end
$$;

-- Section: grants

revoke all on function private.call_worker(text, jsonb, integer) from public, anon, authenticated, service_role;
revoke all on function
  public.pause_upload(uuid, text, bigint, jsonb),
  public.chain_upload_worker(integer, uuid[]),
  public.chain_render_video_worker()
  from public, anon, authenticated;
grant execute on function
  public.pause_upload(uuid, text, bigint, jsonb),
  public.chain_upload_worker(integer, uuid[]),
  public.chain_render_video_worker()
  to service_role;
