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

-- As long as the hour rows they are made from.
insert into ops.retention_policies (table_name, time_column, keep) values
  ('ops.api_calls_hour_total', 'hour', '400 days'),
  ('ops.api_calls_day', 'day', '400 days');

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
-- Set-wide aggregates and upserts only, as the minute/hour roll-up (20261207000520).
alter function ops.rollup_api_call_totals(timestamptz, timestamptz) set enable_nestloop = off;

-- ops.rollup_api_calls keeps its name (pg_cron and the workers call it) and now also keeps the
-- coarse roll-ups: the minute/hour roll-up it was is renamed, and the new one runs it and then
-- the totals over the same span, in one transaction under its advisory lock, so a reader never
-- sees a watermark the coarse rows have not caught up with.
alter function ops.rollup_api_calls(timestamptz) rename to rollup_api_calls_fine;

create function ops.rollup_api_calls(rebuild_from timestamptz default null)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  fine jsonb := ops.rollup_api_calls_fine(rebuild_from);
begin
  if (fine ->> 'from')::timestamptz < (fine ->> 'until')::timestamptz then
    fine := fine || ops.rollup_api_call_totals((fine ->> 'from')::timestamptz, (fine ->> 'until')::timestamptz);
  end if;
  return fine;
end
$$;
alter function ops.rollup_api_calls(timestamptz) set enable_nestloop = off;

-- Request figures over [since, now): roll-ups up to the watermark, raw rows after it (as before).
-- Per time bucket (series, totals): minute rows for the 'minute' step; hour totals for the 'hour'
-- step, or the function's hour rows when filtered by function. Per endpoint (slowest endpoints):
-- minute rows for the 'minute' step; for the 'hour' step, hour rows before the first UTC midnight
-- at or after `since` and day rows from it.
create or replace function ops.api_metrics(since timestamptz, step text, function_filter text default null)
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

revoke all on function ops.rollup_api_call_totals(timestamptz, timestamptz), ops.rollup_api_calls(timestamptz),
  ops.rollup_api_calls_fine(timestamptz) from public, anon, authenticated;
grant execute on function ops.rollup_api_calls(timestamptz) to service_role;
-- Only through ops.rollup_api_calls, which serialises the two under one lock.
revoke all on function ops.rollup_api_call_totals(timestamptz, timestamptz), ops.rollup_api_calls_fine(timestamptz) from service_role;

-- The coarse rows of everything already rolled up.
select ops.rollup_api_call_totals('-infinity', coalesce(
  (select s.rolled_until from ops.rollup_state s where s.name = 'api_calls'), '-infinity'::timestamptz));
