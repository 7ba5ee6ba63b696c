-- ops.api_metrics as it read before the bounded roll-ups (every hour row's histogram), kept
-- verbatim for bench/scaling/admin.ts, which installs it in a schema of the bench database to
-- time the old read beside the current one. Not a migration: the migrations were re-cut, and
-- this definition no longer appears in them.
create or replace function ops.api_metrics(since timestamptz, step text, function_filter text default null)
returns jsonb
language plpgsql stable security definer set search_path = '' set jit = off as $$
declare
  watermark timestamptz := coalesce(
    (select s.rolled_until from ops.rollup_state s where s.name = 'api_calls'), '-infinity'::timestamptz);
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
  rolled as materialized (
    select m.minute as t, m.function_name, m.endpoint, m.method, m.calls, m.errors, m.client_errors,
      m.rate_limited, m.total_ms, m.max_ms, m.latency_buckets, m.latency_counts
    from ops.api_calls_minute m
    where step = 'minute' and m.minute >= since and m.minute < watermark
      and (function_filter is null or m.function_name = function_filter)
    union all
    select h.hour, h.function_name, h.endpoint, h.method, h.calls, h.errors, h.client_errors,
      h.rate_limited, h.total_ms, h.max_ms, h.latency_buckets, h.latency_counts
    from ops.api_calls_hour h
    where step = 'hour' and h.hour >= since and h.hour < watermark
      and (function_filter is null or h.function_name = function_filter)
  ),
  counters as materialized (
    select r.t, r.function_name, r.endpoint, r.method, r.calls, r.errors, r.client_errors, r.rate_limited, r.total_ms, r.max_ms
    from rolled r
    union all
    select x.t, x.function_name, x.endpoint, x.method, sum(x.calls)::integer,
      coalesce(sum(x.calls) filter (where x.status >= 500), 0)::integer,
      coalesce(sum(x.calls) filter (where x.status between 400 and 499 and x.status <> 429), 0)::integer,
      coalesce(sum(x.calls) filter (where x.status = 429), 0)::integer,
      sum(x.total_ms)::bigint, max(x.duration_ms)
    from tail x
    group by 1, 2, 3, 4
  ),
  -- The merged latency histograms per time bucket and per endpoint, in one pass over the cells
  -- (grouping sets); the window's own histogram is then the sum of the per-time ones.
  cell_sums as materialized (
    select grouping(x.t) = 1 as per_endpoint, x.t, x.function_name, x.endpoint, x.method, x.bucket, sum(x.n)::bigint as n
    from (
      select r.t, r.function_name, r.endpoint, r.method, b.bucket, b.n
      from rolled r, unnest(r.latency_buckets, r.latency_counts) as b(bucket, n)
      union all
      select y.t, y.function_name, y.endpoint, y.method, y.bucket, y.calls
      from tail y
    ) x
    group by grouping sets ((x.t, x.bucket), (x.function_name, x.endpoint, x.method, x.bucket))
  ),
  totals as (
    select coalesce(sum(k.calls), 0)::bigint as calls, coalesce(sum(k.errors), 0)::bigint as errors,
      coalesce(sum(k.client_errors), 0)::bigint as client_errors, coalesce(sum(k.rate_limited), 0)::bigint as rate_limited,
      coalesce(sum(k.total_ms), 0)::bigint as total_ms, max(k.max_ms) as max_ms
    from counters k
  ),
  total_hist as (
    select array_agg(bucket order by bucket) as buckets, array_agg(n order by bucket) as counts
    from (select c.bucket, sum(c.n)::integer as n from cell_sums c where not c.per_endpoint group by 1) x
  ),
  -- Per-group p95 set-based (one pass over the merged histograms instead of a call per group):
  -- the first bucket whose running count reaches ceil(0.95 * total), as histogram_quantile does.
  endpoint_p95 as (
    select function_name, endpoint, method, min(bucket) filter (where running >= ceil(0.95 * total)) as bucket
    from (
      select c.function_name, c.endpoint, c.method, c.bucket,
        sum(c.n) over (partition by c.function_name, c.endpoint, c.method order by c.bucket) as running,
        sum(c.n) over (partition by c.function_name, c.endpoint, c.method) as total
      from cell_sums c where c.per_endpoint
    ) y
    group by 1, 2, 3
  ),
  time_p95 as (
    select t, min(bucket) filter (where running >= ceil(0.95 * total)) as bucket
    from (
      select c.t, c.bucket, sum(c.n) over (partition by c.t order by c.bucket) as running, sum(c.n) over (partition by c.t) as total
      from cell_sums c where not c.per_endpoint
    ) y
    group by 1
  ),
  bounds as (select ops.latency_bucket_bounds() as b),
  per_endpoint as (
    select k.function_name, k.endpoint, k.method, sum(k.calls)::bigint as calls, sum(k.errors)::bigint as errors,
      sum(k.total_ms)::bigint as total_ms, max(k.max_ms) as max_ms
    from counters k
    group by 1, 2, 3
  ),
  slowest as (
    select e.function_name, e.endpoint, e.method, e.calls, e.errors,
      round(e.total_ms::numeric / nullif(e.calls, 0), 1) as avg_ms,
      least(e.max_ms, coalesce(bounds.b[p.bucket], e.max_ms)) as p95_ms, e.max_ms
    from per_endpoint e
    join endpoint_p95 p using (function_name, endpoint, method)
    cross join bounds
    order by p95_ms desc, avg_ms desc
    limit 10
  ),
  per_time as (
    select k.t, sum(k.calls)::bigint as calls, sum(k.errors)::bigint as errors, sum(k.total_ms)::bigint as total_ms, max(k.max_ms) as max_ms
    from counters k
    group by 1
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
