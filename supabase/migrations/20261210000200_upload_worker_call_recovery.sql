-- A row held by a worker that pg_net woke (the every-minute wake-up, or a worker's successor) is
-- taken back at once when that worker dies, as a step called by a paused upload already was
-- (20261209000100_upload_step_recovery).
--
-- A waiting worker claims whatever is due, including the next step of a paused upload when it
-- looks before the step's own call arrives. When the runtime killed such a worker (546 after 2 s
-- of CPU, a crash, a timeout), its rows stayed leased until the 40 s lease ran out: the row did
-- not record that call, and the worker id it claimed under was its own random one, so nothing tied
-- the row to pg_net's failed answer. Now every call that wakes schedules/worker through pg_net
-- names the worker id it runs under and records it with the call's pg_net request id
-- (private.upload_worker_calls); private.recover_upload_steps() also hands back a row whose lease
-- holder is such a worker whose call got a 5xx, a timeout or a transport error.
--
-- Exactly once is unchanged: the row is handed back only while that dead worker still holds it
-- (lease_owner is its id), so a live worker never loses a row; a worker that was not dead after
-- all (its invocation answered 5xx but went on) is where a worker whose lease ran out is: its next
-- write answers 'lease_lost' and it stops, and the session, the resume from YouTube's offset and
-- the final-chunk marker cover the rest.

-- Section: tables

-- One row per call that woke the worker through pg_net. Short-lived: an answer is read only for
-- 10 minutes (pg_net's index on created), so rows older than that are of no use and the
-- every-minute wake-up deletes them.
create table private.upload_worker_calls (
  call_id bigint primary key,
  worker text not null unique,
  called_at timestamptz not null default now()
);

create index upload_worker_calls_called_at_idx on private.upload_worker_calls (called_at);

comment on table private.upload_worker_calls is
  'pg_net request id of each call that woke schedules/worker and the worker id it was told to claim under: a dead worker''s rows are found from the call''s failed answer.';

revoke all on table private.upload_worker_calls from public, anon, authenticated, service_role;

insert into ops.backup_table_classes (table_name, class, why) values
  ('private.upload_worker_calls', 'external_state', 'worker calls in flight at pg_net; meaningless in another database');

-- Section: functions (the worker: service role)

-- Wakes schedules/worker through pg_net under a worker id chosen here, and records the call.
create function private.call_upload_worker(body jsonb default '{}'::jsonb) returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  worker text := 'schedules:call:' || gen_random_uuid()::text;
  call_id bigint;
begin
  call_id := private.call_worker('schedules/worker',
    coalesce(call_upload_worker.body, '{}'::jsonb) - 'worker_id' || jsonb_build_object('worker_id', worker), 150000);
  if call_id is not null then
    insert into private.upload_worker_calls (call_id, worker) values (call_id, worker);
  end if;
  return call_id;
end
$$;

revoke all on function private.call_upload_worker(jsonb) from public, anon, authenticated, service_role;

-- As in 20261201001300, with the successor called under a recorded worker id.
create or replace function private.chain_upload_worker(horizon_seconds integer default 60, except_ids uuid[] default '{}')
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
  return case when private.call_upload_worker() is null then 0 else 1 end;
end
$$;

-- As in 20261209000100, with each worker called under a recorded worker id, and the calls whose
-- answers can no longer be read deleted.
create or replace function private.wake_upload_worker(horizon interval default interval '60 seconds', max_workers integer default null)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  due integer;
  workers integer;
begin
  perform private.recover_upload_steps();
  delete from private.upload_worker_calls c where c.called_at < now() - interval '10 minutes';
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
    if private.call_upload_worker() is null then
      return 0; -- Vault secrets missing (warned)
    end if;
  end loop;
  return workers;
end
$$;

-- The failed answer that frees row u, if any: the next-step call pause_upload recorded (while its
-- worker or nobody holds the row), or the call of the worker that holds the row.
create function private.failed_upload_call(u public.upload_schedules)
returns table (call_id bigint, status_code integer, timed_out boolean, error_msg text, found_by text)
language sql stable security definer set search_path = '' as $$
  select a.id, a.status_code, coalesce(a.timed_out, false), left(a.error_msg, 200),
    case when a.id = u.step_call_id then 'step_call' else 'holder_call' end
  from net._http_response a
  where a.created > now() - interval '10 minutes'
    and (a.status_code >= 500 or a.timed_out is true or a.error_msg is not null)
    and ((a.id = u.step_call_id and (u.lease_owner is null or u.lease_owner = u.step_worker))
      or a.id = (select c.call_id from private.upload_worker_calls c where c.worker = u.lease_owner))
  order by a.id = u.step_call_id desc
  limit 1
$$;

revoke all on function private.failed_upload_call(public.upload_schedules) from public, anon, authenticated, service_role;

-- As in 20261209000100, plus rows of any open status held by a pg_net-woken worker whose call
-- failed. The event says which call freed the row (found_by: step_call | holder_call).
create or replace function private.recover_upload_steps() returns setof uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  r record;
  s public.upload_schedules;
begin
  for r in
    select u.id, u.status, u.lease_owner, f.*
    from public.upload_schedules u
    cross join lateral private.failed_upload_call(u) f
    where u.status in ('scheduled', 'uploading', 'processing')
      and (u.step_call_id is not null or u.lease_owner like 'schedules:call:%')
    for update of u skip locked
  loop
    update public.upload_schedules u set lease_owner = null, lease_expires_at = null, next_attempt_at = now(),
      step_call_id = null, step_worker = null
    where u.id = r.id
    returning * into s;
    perform private.add_upload_event(s, 'upload_step_recovered', r.status, r.status, 'dispatcher', null, r.lease_owner,
      jsonb_build_object('failed_call', r.call_id, 'found_by', r.found_by, 'status_code', r.status_code,
        'timed_out', r.timed_out, 'error', r.error_msg, 'upload_offset', s.upload_offset,
        'reason', 'the invocation holding this upload failed; resumed from the offset YouTube confirmed without waiting for its lease'));
    return next r.id;
  end loop;
end
$$;
