-- Anonymous `health` calls are counted per minute, not recorded one row each.
--
-- Monitors, load balancers and uptime services poll health without a token as often as they
-- like, and each call wrote an ops.api_calls row (0.66 ms, most of the ~577 bytes of WAL a call
-- cost) plus the per-address limiter's upsert. Like refused anonymous calls
-- (20261206001410_refused_call_counters.sql), they are now summed in the function instance and
-- added to ops.api_calls_counted: one row per minute, function, route, method, status and latency
-- bucket, written by one statement per flush (at most every 10 s per instance). Unlike refusals
-- they may have any status (200, or 503 while the database is down). Their request ids are not
-- kept: nobody looks up one anonymous health call. Calls with a user or service token are still
-- recorded one by one.
--
-- The minute is the instance's own (the minute the calls were answered in), not the flush's, so a
-- flush just after a minute boundary does not move calls into the next minute; it is capped at
-- the database's clock so that a skewed instance cannot write into the future. The minute
-- roll-up re-reads its last 5 minutes on every run, so counters that arrive up to 10 s late are
-- rolled up like any other.
create table ops.api_calls_counted (
  minute timestamptz not null,
  function_name text not null,
  endpoint text not null,
  method text not null,
  status integer not null check (status between 100 and 599),
  -- ops.latency_bucket() of the durations counted in this row
  bucket smallint not null,
  calls integer not null check (calls > 0),
  total_ms bigint not null check (total_ms >= 0),
  max_ms integer not null check (max_ms >= 0),
  primary key (minute, function_name, endpoint, method, status, bucket)
);

insert into ops.retention_policies (table_name, time_column, keep) values ('ops.api_calls_counted', 'minute', '30 days');

-- Adds a batch of counted calls: `counts` is [{minute, function_name, endpoint, method, status,
-- duration_ms, calls}] (minute as an ISO timestamp), calls of one duration already summed by the
-- function. Malformed entries are skipped rather than failing the batch, as for refusals.
create function private.record_counted_calls(counts jsonb)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  written integer;
begin
  -- Counters: losing the last few ms of them in a crash is acceptable, waiting for a WAL flush is not.
  perform set_config('synchronous_commit', 'off', true);
  insert into ops.api_calls_counted as r (minute, function_name, endpoint, method, status, bucket, calls, total_ms, max_ms)
  select date_trunc('minute', least(c.minute, now())), c.function_name, c.endpoint, c.method, c.status,
    ops.latency_bucket(c.duration_ms), sum(c.calls)::integer, sum(c.calls::bigint * c.duration_ms), max(c.duration_ms)
  from jsonb_to_recordset(counts) as c(minute timestamptz, function_name text, endpoint text, method text, status integer,
    duration_ms integer, calls integer)
  where c.minute is not null and c.status between 100 and 599 and c.calls > 0 and c.duration_ms >= 0
    and c.function_name is not null and c.endpoint is not null and c.method is not null
  group by 1, 2, 3, 4, 5, 6
  on conflict (minute, function_name, endpoint, method, status, bucket) do update set
    calls = r.calls + excluded.calls, total_ms = r.total_ms + excluded.total_ms, max_ms = greatest(r.max_ms, excluded.max_ms);
  get diagnostics written = row_count;
  return written;
end
$$;

-- Metrics, roll-ups and alerts read every call through this view; counted calls join it as rows
-- standing for `calls` calls each (the view of 20261206001410 plus the third branch).
create or replace view ops.api_call_tally as
  select c.at, c.function_name, c.endpoint, c.method, c.status, c.duration_ms,
    1 as calls, c.duration_ms::bigint as total_ms, ops.latency_bucket(c.duration_ms) as bucket
  from ops.api_calls c
  union all
  select r.minute, r.function_name, r.endpoint, r.method, r.status, r.max_ms, r.calls, r.total_ms, r.bucket
  from ops.api_calls_refused r
  union all
  select k.minute, k.function_name, k.endpoint, k.method, k.status, k.max_ms, k.calls, k.total_ms, k.bucket
  from ops.api_calls_counted k;

revoke all on ops.api_calls_counted from public, anon, authenticated;
grant select on ops.api_calls_counted to service_role;
revoke all on function private.record_counted_calls(jsonb) from public, anon, authenticated;
grant execute on function private.record_counted_calls(jsonb) to service_role;
