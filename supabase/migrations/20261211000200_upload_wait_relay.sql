-- A waiting upload worker hands its wait on in short calls instead of one long call.
--
-- pg_net (0.20, src/worker.c) takes up to pg_net.batch_size queued requests, sends them, and sends
-- nothing more until every request of that batch has answered; the batch's answers are written
-- together at its end. pg_cron's every-minute wake-up (private.wake_upload_worker) calls
-- schedules/worker, which waited in that one call for rows due later in the minute, for up to
-- 55 s. Everything pg_net queued meanwhile waited as long: the call a paused upload makes for its
-- next step, the successor of any other chained job (a sync, a restore, the render poller), alert
-- deliveries, and the failed answer of a killed step that private.recover_upload_steps reads to
-- take the step back within seconds (measured: a next-step call answered 53-66 s after its pause).
--
-- Now one call waits a few seconds; when that ends while something is due within its window, it
-- calls a successor that waits for the rest of the window and no longer: the window's end travels
-- in the call (`wait_until`, epoch ms), so relayed calls never outlive the wake-up that started
-- them, and the next tick starts the next window. The successor a worker calls when its budget is
-- spent carries the window's end too.
--
-- Dropped and created rather than replaced, because the argument list grows; the new argument has
-- a default, so a worker deployed before this migration (two arguments) still calls it.

drop function private.chain_upload_worker(integer, uuid[]);

-- As in 20261210000200, plus the end of the caller's waiting window handed to the successor.
create function private.chain_upload_worker(
  horizon_seconds integer default 60, except_ids uuid[] default '{}', wait_until timestamptz default null
) returns integer
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
  return case when private.call_upload_worker(case when chain_upload_worker.wait_until is null then '{}'::jsonb
      else jsonb_build_object('wait_until', floor(extract(epoch from chain_upload_worker.wait_until) * 1000)::bigint) end) is null
    then 0 else 1 end;
end
$$;

revoke all on function private.chain_upload_worker(integer, uuid[], timestamptz) from public, anon, authenticated;

grant execute on function private.chain_upload_worker(integer, uuid[], timestamptz) to service_role;

comment on function private.chain_upload_worker(integer, uuid[], timestamptz) is
  'Calls one successor schedules worker when something (but except_ids) is due within the horizon; it waits for due rows until wait_until at the latest.';
