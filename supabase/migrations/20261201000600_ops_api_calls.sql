-- Refused anonymous calls are counted, not recorded one row each.
--
-- The public routes (health, youtube-oauth/callback, revid-webhook) reach the functions without a
-- user token, so anyone can call them as fast as they like. Every call used to write one
-- ops.api_calls row: a flood of ~1,500 refused calls a second wrote 279 k rows (66 MB) and slowed
-- every other request down. Calls that were refused (4xx) and carry no verified user or service
-- token now go to ops.api_calls_refused: one row per minute, function, route, method, status and
-- latency bucket, whose counters each flush adds to. A flood of N such calls writes a number of
-- rows bounded by the minutes it lasts (times the few routes, statuses and latency buckets), not
-- N, and every count stays exact. What is lost for them is the request id (support never needs
-- to look up an anonymous refusal) and the exact duration within its latency bucket.
--
-- Metrics, roll-ups and alerts read calls through ops.api_call_tally, where a row of either kind
-- stands for `calls` calls; the functions below are the originals with count(*) turned into
-- sums over it.
--
-- Tracking attributed a call to whatever workspace its URL named (a `workspace_id` path or query
-- parameter), before anything checked that the caller belongs to it: any user could put their
-- calls, and their errors, on another tenant's account by adding `?workspace_id=<theirs>` to a
-- request, even one answered 404. The user of a call is the verified token's subject; a workspace
-- now sticks to a user's call or error only when that user is a member of it when the row is
-- written. (Calls without a user: the functions attribute only the service role's, see
-- _shared/observability/tracking.ts; anonymous callers never name a workspace.)
--
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
--
-- The 30-day admin metrics window reads a bounded number of roll-up rows, however many calls.
--
-- bench/scaling (admin) measured ops.admin_metrics('30d') at p95 206 ms over 100,000 tracked calls
-- and 485 ms over 1,000,000 (2.36x; the acceptance is 2x). EXPLAIN (ANALYZE, BUFFERS) showed
-- every row count of the plan flat (8,652 hour rows: 720 hours x 12 endpoints) except one: the
-- latency histograms unnested from those rows, 80,131 cells at 100k and about 2.5x that at 1M. A
-- per-(hour, endpoint) histogram holds more distinct buckets the more calls it counts (9 at 100k,
-- up to the 43 buckets of ops.latency_bucket), and the read merged all of them twice (per hour for
-- the series, per endpoint for the slowest endpoints).
--
-- Two coarser roll-ups, kept from the hour rows in the same transaction as the watermark:
--   * ops.api_calls_hour_total: one row per hour, endpoints merged (the series and the totals of
--     the hour-step windows read 24 / 168 / 720 rows, whatever the number of endpoints);
--   * ops.api_calls_day: one row per (UTC day, endpoint) (the slowest endpoints of a window read the
--     window's whole days from here, and hour rows only for the hours before its first midnight).
-- So the 30-day window reads at most 720 + 31 x endpoints + 23 x endpoints roll-up rows, each with
-- at most 43 histogram cells, instead of 720 x endpoints rows. The answer is unchanged (same
-- sums, same merged histograms); the window still starts at the hour boundary.

-- One row per function call. `at` is the database's clock at insert (right after the response),
-- so roll-ups of closed minutes see every row of those minutes.
create table ops.api_calls (
  id bigserial primary key,
  at timestamptz not null default now(),
  function_name text not null,
  -- the route pattern ('/:id'), never a path with ids in it, so endpoints stay few
  endpoint text not null,
  method text not null,
  status integer not null check (status between 100 and 599),
  duration_ms integer not null check (duration_ms >= 0),
  user_id uuid,
  workspace_id uuid,
  request_id text not null
);

create index api_calls_at_idx on ops.api_calls (at);

-- "quote the request id": support looks calls up by it
create index api_calls_request_id_idx on ops.api_calls (request_id);

-- Minute roll-ups of closed minutes. Latency percentiles do not add up, so each row keeps a
-- sparse histogram (bucket numbers of ops.latency_bucket() and their counts) that does.
create table ops.api_calls_minute (
  minute timestamptz not null,
  function_name text not null,
  endpoint text not null,
  method text not null,
  calls integer not null,
  errors integer not null,          -- 5xx
  client_errors integer not null,   -- 4xx other than 429
  rate_limited integer not null,    -- 429
  total_ms bigint not null,
  max_ms integer not null,
  p95_ms integer not null,          -- exact for the row (percentile_disc)
  latency_buckets smallint[] not null,
  latency_counts integer[] not null,
  primary key (minute, function_name, endpoint, method)
);

-- The same per hour (the current hour covers the minutes rolled up so far), for long windows.
create table ops.api_calls_hour (
  hour timestamptz not null,
  function_name text not null,
  endpoint text not null,
  method text not null,
  calls integer not null,
  errors integer not null,
  client_errors integer not null,
  rate_limited integer not null,
  total_ms bigint not null,
  max_ms integer not null,
  latency_buckets smallint[] not null,
  latency_counts integer[] not null,
  primary key (hour, function_name, endpoint, method)
);

-- Each user's latest call (up to the roll-up watermark). A user was active in a window that
-- ends now exactly when their latest call falls in it, so "active users over 30 days" counts an
-- index range of this table instead of the distinct users of millions of calls.
create table ops.user_last_seen (
  user_id uuid primary key,
  last_seen_at timestamptz not null
);

create index user_last_seen_last_seen_at_idx on ops.user_last_seen (last_seen_at);

-- Everything before rolled_until is in the roll-ups; metrics read raw rows from there on.
create table ops.rollup_state (
  name text primary key,
  rolled_until timestamptz not null,
  updated_at timestamptz not null default now()
);

create table ops.api_calls_refused (
  -- the database's clock at the flush (a flush follows the calls by at most a second)
  minute timestamptz not null,
  function_name text not null,
  endpoint text not null,
  method text not null,
  status integer not null check (status between 400 and 499),
  -- ops.latency_bucket() of the durations counted in this row
  bucket smallint not null,
  calls integer not null check (calls > 0),
  total_ms bigint not null check (total_ms >= 0),
  max_ms integer not null check (max_ms >= 0),
  primary key (minute, function_name, endpoint, method, status, bucket)
);

revoke all on ops.api_calls_refused from public, anon, authenticated;

grant select on ops.api_calls_refused to service_role;

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

revoke all on ops.api_calls_counted from public, anon, authenticated;

grant select on ops.api_calls_counted to service_role;

create table ops.api_calls_hour_total (
  hour timestamptz primary key,
  calls integer not null,
  errors integer not null,
  client_errors integer not null,
  rate_limited integer not null,
  total_ms bigint not null,
  max_ms integer not null,
  latency_buckets smallint[] not null,
  latency_counts integer[] not null
);

create table ops.api_calls_day (
  -- midnight UTC (date_trunc('day', hour, 'UTC')), whatever the session's time zone
  day timestamptz not null,
  function_name text not null,
  endpoint text not null,
  method text not null,
  calls integer not null,
  errors integer not null,
  client_errors integer not null,
  rate_limited integer not null,
  total_ms bigint not null,
  max_ms integer not null,
  latency_buckets smallint[] not null,
  latency_counts integer[] not null,
  primary key (day, function_name, endpoint, method)
);

-- Inclusive upper bounds (ms) of the latency buckets; bucket 43 is everything above 60 s.
create function ops.latency_bucket_bounds() returns integer[]
language sql immutable parallel safe set search_path = '' as $$
  select '{1,2,3,4,5,6,8,10,12,15,20,25,30,40,50,60,80,100,120,150,200,250,300,400,500,600,800,1000,1200,1500,2000,2500,3000,4000,5000,6000,8000,10000,15000,20000,30000,60000}'::integer[]
$$;

revoke all on function ops.latency_bucket_bounds() from public, anon, authenticated;

grant execute on function ops.latency_bucket_bounds() to service_role;

-- The bucket (1..43) of a duration: the first bound >= ms. The thresholds are the bounds + 1,
-- which is what width_bucket() wants (lower bounds, inclusive). No SET search_path: that would
-- stop Postgres from inlining it into the roll-up (it names nothing outside pg_catalog).
create function ops.latency_bucket(ms integer) returns smallint
language sql immutable parallel safe as $$
  select width_bucket(ms, '{0,2,3,4,5,6,7,9,11,13,16,21,26,31,41,51,61,81,101,121,151,201,251,301,401,501,601,801,1001,1201,1501,2001,2501,3001,4001,5001,6001,8001,10001,15001,20001,30001,60001}'::integer[])::smallint
$$;

revoke all on function ops.latency_bucket(integer) from public, anon, authenticated;

grant execute on function ops.latency_bucket(integer) to service_role;

-- The q-quantile of a sparse histogram: the upper bound of the bucket holding the
-- ceil(q * total)-th duration, never more than the largest duration seen.
create function ops.histogram_quantile(buckets smallint[], counts integer[], q numeric, max_ms integer)
returns integer
language sql immutable parallel safe set search_path = '' as $$
  select least(max_ms, coalesce((ops.latency_bucket_bounds())[bucket], max_ms))
  from (
    select b.bucket, sum(b.n) over (order by b.bucket) as running, sum(b.n) over () as total
    from unnest(buckets, counts) as b(bucket, n)
  ) x
  where running >= ceil(q * total)
  order by bucket
  limit 1
$$;

revoke all on function ops.histogram_quantile(smallint[], integer[], numeric, integer) from public, anon, authenticated;

grant execute on function ops.histogram_quantile(smallint[], integer[], numeric, integer) to service_role;

-- Users with at least one call in [since, now): last-seen times up to the watermark, raw after.
create function ops.active_users(since timestamptz) returns bigint
language sql stable security definer set search_path = '' set jit = off as $$
  with w as (
    select coalesce((select s.rolled_until from ops.rollup_state s where s.name = 'api_calls'), '-infinity'::timestamptz) as watermark
  )
  select count(*) from (
    select u.user_id from ops.user_last_seen u where u.last_seen_at >= since
    union
    select c.user_id from ops.api_calls c, w where c.user_id is not null and c.at >= greatest(since, w.watermark)
  ) active
$$;

revoke all on function ops.active_users(timestamptz) from public, anon, authenticated;

grant execute on function ops.active_users(timestamptz) to service_role;

-- Adds a batch of counted refusals: `counts` is [{function_name, endpoint, method, status,
-- duration_ms, calls}], calls of one duration already summed by the function. Rows that are not
-- refusals are ignored rather than failing the batch: the caller's counts are all it has.
create function ops.record_refused_calls(counts jsonb)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  written integer;
begin
  perform set_config('synchronous_commit', 'off', true);
  insert into ops.api_calls_refused as r (minute, function_name, endpoint, method, status, bucket, calls, total_ms, max_ms)
  select date_trunc('minute', now()), c.function_name, c.endpoint, c.method, c.status, ops.latency_bucket(c.duration_ms),
    sum(c.calls)::integer, sum(c.calls::bigint * c.duration_ms), max(c.duration_ms)
  from jsonb_to_recordset(counts) as c(function_name text, endpoint text, method text, status integer, duration_ms integer, calls integer)
  where c.status between 400 and 499 and c.calls > 0 and c.duration_ms >= 0
    and c.function_name is not null and c.endpoint is not null and c.method is not null
  group by 1, 2, 3, 4, 5, 6
  on conflict (minute, function_name, endpoint, method, status, bucket) do update set
    calls = r.calls + excluded.calls, total_ms = r.total_ms + excluded.total_ms, max_ms = greatest(r.max_ms, excluded.max_ms);
  get diagnostics written = row_count;
  return written;
end
$$;

revoke all on function ops.record_refused_calls(jsonb) from public, anon, authenticated;

grant execute on function ops.record_refused_calls(jsonb) to service_role;

create function ops.verify_call_attribution() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.workspace_id := ops.attributed_workspace(new.user_id, new.workspace_id);
  return new;
end
$$;

revoke all on function ops.verify_call_attribution() from public;

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

revoke all on function private.record_counted_calls(jsonb) from public, anon, authenticated;

grant execute on function private.record_counted_calls(jsonb) to service_role;

-- Recomputes the hour totals and the day rows that contain [from_at, until_at) from the hour
-- rows (each hour and day touched, whole). The every-minute roll-up touches one hour and one day:
-- at most 24 x endpoints hour rows read.
create function ops.rollup_api_call_totals(from_at timestamptz, until_at timestamptz)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  hour_from timestamptz := date_trunc('hour', from_at);
  day_from timestamptz := date_trunc('day', from_at, 'UTC');
  total_rows integer;
  day_rows integer;
begin
  with hours as (
    select h.* from ops.api_calls_hour h where h.hour >= hour_from and h.hour < until_at
  ),
  counters as (
    select h.hour, sum(h.calls)::integer as calls, sum(h.errors)::integer as errors,
      sum(h.client_errors)::integer as client_errors, sum(h.rate_limited)::integer as rate_limited,
      sum(h.total_ms)::bigint as total_ms, max(h.max_ms) as max_ms
    from hours h group by 1
  ),
  cells as (
    select h.hour, b.bucket, sum(b.n)::integer as n
    from hours h, unnest(h.latency_buckets, h.latency_counts) as b(bucket, n)
    group by 1, 2
  ),
  histograms as (
    select c.hour, array_agg(c.bucket order by c.bucket) as buckets, array_agg(c.n order by c.bucket) as counts
    from cells c group by 1
  )
  insert into ops.api_calls_hour_total as t (hour, calls, errors, client_errors, rate_limited, total_ms, max_ms,
    latency_buckets, latency_counts)
  select k.hour, k.calls, k.errors, k.client_errors, k.rate_limited, k.total_ms, k.max_ms, g.buckets, g.counts
  from counters k join histograms g using (hour)
  on conflict (hour) do update set
    calls = excluded.calls, errors = excluded.errors, client_errors = excluded.client_errors,
    rate_limited = excluded.rate_limited, total_ms = excluded.total_ms, max_ms = excluded.max_ms,
    latency_buckets = excluded.latency_buckets, latency_counts = excluded.latency_counts;
  get diagnostics total_rows = row_count;

  with hours as (
    select date_trunc('day', h.hour, 'UTC') as day, h.*
    from ops.api_calls_hour h where h.hour >= day_from and h.hour < until_at
  ),
  counters as (
    select h.day, h.function_name, h.endpoint, h.method, sum(h.calls)::integer as calls, sum(h.errors)::integer as errors,
      sum(h.client_errors)::integer as client_errors, sum(h.rate_limited)::integer as rate_limited,
      sum(h.total_ms)::bigint as total_ms, max(h.max_ms) as max_ms
    from hours h group by 1, 2, 3, 4
  ),
  cells as (
    select h.day, h.function_name, h.endpoint, h.method, b.bucket, sum(b.n)::integer as n
    from hours h, unnest(h.latency_buckets, h.latency_counts) as b(bucket, n)
    group by 1, 2, 3, 4, 5
  ),
  histograms as (
    select c.day, c.function_name, c.endpoint, c.method,
      array_agg(c.bucket order by c.bucket) as buckets, array_agg(c.n order by c.bucket) as counts
    from cells c group by 1, 2, 3, 4
  )
  insert into ops.api_calls_day as d (day, function_name, endpoint, method, calls, errors, client_errors,
    rate_limited, total_ms, max_ms, latency_buckets, latency_counts)
  select k.day, k.function_name, k.endpoint, k.method, k.calls, k.errors, k.client_errors, k.rate_limited,
    k.total_ms, k.max_ms, g.buckets, g.counts
  from counters k join histograms g using (day, function_name, endpoint, method)
  on conflict (day, function_name, endpoint, method) do update set
    calls = excluded.calls, errors = excluded.errors, client_errors = excluded.client_errors,
    rate_limited = excluded.rate_limited, total_ms = excluded.total_ms, max_ms = excluded.max_ms,
    latency_buckets = excluded.latency_buckets, latency_counts = excluded.latency_counts;
  get diagnostics day_rows = row_count;

  return jsonb_build_object('hour_total_rows', total_rows, 'day_rows', day_rows);
end
$$;

-- Set-wide aggregates and upserts only, as the minute/hour roll-up (ops.rollup_api_calls_fine).
alter function ops.rollup_api_call_totals(timestamptz, timestamptz) set enable_nestloop = off;

revoke all on function ops.rollup_api_call_totals(timestamptz, timestamptz) from public, anon, authenticated;

-- Only through ops.rollup_api_calls, which serialises the two under one lock.
revoke all on function ops.rollup_api_call_totals(timestamptz, timestamptz) from service_role;

-- Request figures over [since, now): roll-ups up to the watermark, raw rows after it (as before).
-- Per time bucket (series, totals): minute rows for the 'minute' step; hour totals for the 'hour'
-- step, or the function's hour rows when filtered by function. Per endpoint (slowest endpoints):
-- minute rows for the 'minute' step; for the 'hour' step, hour rows before the first UTC midnight
-- at or after `since` and day rows from it.
create function ops.api_metrics(since timestamptz, step text, function_filter text default null)
returns jsonb
language plpgsql stable security definer set search_path = '' set jit = off as $$
declare
  watermark timestamptz := coalesce(
    (select s.rolled_until from ops.rollup_state s where s.name = 'api_calls'), '-infinity'::timestamptz);
  first_day timestamptz := case when since = date_trunc('day', since, 'UTC') then since
    else date_trunc('day', since, 'UTC') + interval '1 day' end;
  result jsonb;
begin
  if step not in ('minute', 'hour') then
    raise exception 'step must be minute or hour' using errcode = '22023';
  end if;

  with tail as materialized (
    select date_trunc(step, c.at) as t, c.function_name, c.endpoint, c.method, c.status, c.duration_ms, c.calls, c.total_ms, c.bucket
    from ops.api_call_tally c
    where c.at >= greatest(since, watermark)
      and (function_filter is null or c.function_name = function_filter)
  ),
  by_time as materialized (
    select m.minute as t, m.calls, m.errors, m.client_errors, m.rate_limited, m.total_ms, m.max_ms, m.latency_buckets, m.latency_counts
    from ops.api_calls_minute m
    where step = 'minute' and m.minute >= since and m.minute < watermark
      and (function_filter is null or m.function_name = function_filter)
    union all
    select a.hour, a.calls, a.errors, a.client_errors, a.rate_limited, a.total_ms, a.max_ms, a.latency_buckets, a.latency_counts
    from ops.api_calls_hour_total a
    where step = 'hour' and function_filter is null and a.hour >= since and a.hour < watermark
    union all
    select h.hour, h.calls, h.errors, h.client_errors, h.rate_limited, h.total_ms, h.max_ms, h.latency_buckets, h.latency_counts
    from ops.api_calls_hour h
    where step = 'hour' and function_filter is not null and h.function_name = function_filter
      and h.hour >= since and h.hour < watermark
  ),
  by_endpoint as materialized (
    select m.function_name, m.endpoint, m.method, m.calls, m.errors, m.total_ms, m.max_ms, m.latency_buckets, m.latency_counts
    from ops.api_calls_minute m
    where step = 'minute' and m.minute >= since and m.minute < watermark
      and (function_filter is null or m.function_name = function_filter)
    union all
    select h.function_name, h.endpoint, h.method, h.calls, h.errors, h.total_ms, h.max_ms, h.latency_buckets, h.latency_counts
    from ops.api_calls_hour h
    where step = 'hour' and h.hour >= since and h.hour < least(first_day, watermark)
      and (function_filter is null or h.function_name = function_filter)
    union all
    select d.function_name, d.endpoint, d.method, d.calls, d.errors, d.total_ms, d.max_ms, d.latency_buckets, d.latency_counts
    from ops.api_calls_day d
    where step = 'hour' and d.day >= first_day and d.day < watermark
      and (function_filter is null or d.function_name = function_filter)
  ),
  per_time as (
    select x.t, sum(x.calls)::bigint as calls, sum(x.errors)::bigint as errors, sum(x.client_errors)::bigint as client_errors,
      sum(x.rate_limited)::bigint as rate_limited, sum(x.total_ms)::bigint as total_ms, max(x.max_ms) as max_ms
    from (
      select b.t, b.calls, b.errors, b.client_errors, b.rate_limited, b.total_ms, b.max_ms from by_time b
      union all
      select y.t, y.calls, case when y.status >= 500 then y.calls else 0 end,
        case when y.status between 400 and 499 and y.status <> 429 then y.calls else 0 end,
        case when y.status = 429 then y.calls else 0 end, y.total_ms, y.duration_ms
      from tail y
    ) x
    group by 1
  ),
  per_endpoint as (
    select x.function_name, x.endpoint, x.method, sum(x.calls)::bigint as calls, sum(x.errors)::bigint as errors,
      sum(x.total_ms)::bigint as total_ms, max(x.max_ms) as max_ms
    from (
      select e.function_name, e.endpoint, e.method, e.calls, e.errors, e.total_ms, e.max_ms from by_endpoint e
      union all
      select y.function_name, y.endpoint, y.method, y.calls, case when y.status >= 500 then y.calls else 0 end, y.total_ms, y.duration_ms
      from tail y
    ) x
    group by 1, 2, 3
  ),
  time_cells as materialized (
    select x.t, x.bucket, sum(x.n)::bigint as n
    from (
      select b.t, c.bucket, c.n from by_time b, unnest(b.latency_buckets, b.latency_counts) as c(bucket, n)
      union all
      select y.t, y.bucket, y.calls from tail y
    ) x
    group by 1, 2
  ),
  endpoint_cells as (
    select x.function_name, x.endpoint, x.method, x.bucket, sum(x.n)::bigint as n
    from (
      select e.function_name, e.endpoint, e.method, c.bucket, c.n
      from by_endpoint e, unnest(e.latency_buckets, e.latency_counts) as c(bucket, n)
      union all
      select y.function_name, y.endpoint, y.method, y.bucket, y.calls from tail y
    ) x
    group by 1, 2, 3, 4
  ),
  totals as (
    select coalesce(sum(k.calls), 0)::bigint as calls, coalesce(sum(k.errors), 0)::bigint as errors,
      coalesce(sum(k.client_errors), 0)::bigint as client_errors, coalesce(sum(k.rate_limited), 0)::bigint as rate_limited,
      coalesce(sum(k.total_ms), 0)::bigint as total_ms, max(k.max_ms) as max_ms
    from per_time k
  ),
  total_hist as (
    select array_agg(bucket order by bucket) as buckets, array_agg(n order by bucket) as counts
    from (select c.bucket, sum(c.n)::integer as n from time_cells c group by 1) x
  ),
  -- The first bucket whose running count reaches ceil(0.95 * total), as histogram_quantile does.
  endpoint_p95 as (
    select function_name, endpoint, method, min(bucket) filter (where running >= ceil(0.95 * total)) as bucket
    from (
      select c.function_name, c.endpoint, c.method, c.bucket,
        sum(c.n) over (partition by c.function_name, c.endpoint, c.method order by c.bucket) as running,
        sum(c.n) over (partition by c.function_name, c.endpoint, c.method) as total
      from endpoint_cells c
    ) y
    group by 1, 2, 3
  ),
  time_p95 as (
    select t, min(bucket) filter (where running >= ceil(0.95 * total)) as bucket
    from (
      select c.t, c.bucket, sum(c.n) over (partition by c.t order by c.bucket) as running, sum(c.n) over (partition by c.t) as total
      from time_cells c
    ) y
    group by 1
  ),
  bounds as (select ops.latency_bucket_bounds() as b),
  slowest as (
    select e.function_name, e.endpoint, e.method, e.calls, e.errors,
      round(e.total_ms::numeric / nullif(e.calls, 0), 1) as avg_ms,
      least(e.max_ms, coalesce(bounds.b[p.bucket], e.max_ms)) as p95_ms, e.max_ms
    from per_endpoint e
    join endpoint_p95 p using (function_name, endpoint, method)
    cross join bounds
    order by p95_ms desc, avg_ms desc
    limit 10
  )
  select jsonb_build_object(
    'total_requests', tot.calls,
    'server_errors', tot.errors,
    'client_errors', tot.client_errors,
    'rate_limited', tot.rate_limited,
    'error_rate', case when tot.calls = 0 then 0 else round(tot.errors * 100.0 / tot.calls, 2) end,
    'avg_response_time', case when tot.calls = 0 then null else round(tot.total_ms::numeric / tot.calls, 1) end,
    'p95_response_time', (select ops.histogram_quantile(h.buckets, h.counts, 0.95, tot.max_ms) from total_hist h),
    'max_response_time', tot.max_ms,
    'slowest_endpoints', coalesce((
      select jsonb_agg(jsonb_build_object('function', s.function_name, 'endpoint', s.endpoint, 'method', s.method,
        'calls', s.calls, 'error_rate', round(s.errors * 100.0 / nullif(s.calls, 0), 2),
        'avg_response_time', s.avg_ms, 'p95_response_time', s.p95_ms, 'max_response_time', s.max_ms)
        order by s.p95_ms desc, s.avg_ms desc)
      from slowest s), '[]'::jsonb),
    'series', coalesce((
      select jsonb_agg(jsonb_build_object('t', p.t, 'requests', p.calls, 'server_errors', p.errors,
        'avg_response_time', round(p.total_ms::numeric / nullif(p.calls, 0), 1),
        'p95_response_time', least(p.max_ms, coalesce(bounds.b[q.bucket], p.max_ms))) order by p.t)
      from per_time p join time_p95 q using (t) cross join bounds), '[]'::jsonb)
  ) into result
  from totals tot;
  return result;
end
$$;

revoke all on function ops.api_metrics(timestamptz, text, text) from public, anon, authenticated;

grant execute on function ops.api_metrics(timestamptz, text, text) to service_role;

insert into ops.retention_policies (table_name, time_column, keep) values ('ops.api_calls_refused', 'minute', '30 days');

-- Metrics, roll-ups and alerts read every call through this view; counted calls join it as rows
-- standing for `calls` calls each (raw calls, refused calls, counted calls).
create view ops.api_call_tally as
  select c.at, c.function_name, c.endpoint, c.method, c.status, c.duration_ms,
    1 as calls, c.duration_ms::bigint as total_ms, ops.latency_bucket(c.duration_ms) as bucket
  from ops.api_calls c
  union all
  select r.minute, r.function_name, r.endpoint, r.method, r.status, r.max_ms, r.calls, r.total_ms, r.bucket
  from ops.api_calls_refused r
  union all
  select k.minute, k.function_name, k.endpoint, k.method, k.status, k.max_ms, k.calls, k.total_ms, k.bucket
  from ops.api_calls_counted k;

revoke all on ops.api_call_tally from public, anon, authenticated;

grant select on ops.api_call_tally to service_role;

create trigger verify_call_attribution
  before insert on ops.api_calls
  for each row execute function ops.verify_call_attribution();

insert into ops.retention_policies (table_name, time_column, keep) values ('ops.api_calls_counted', 'minute', '30 days');

-- As long as the hour rows they are made from.
insert into ops.retention_policies (table_name, time_column, keep) values
  ('ops.api_calls_hour_total', 'hour', '400 days'),
  ('ops.api_calls_day', 'day', '400 days');
