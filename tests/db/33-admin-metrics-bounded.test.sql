-- Long admin metrics windows read the coarse roll-ups (20261201000600_ops_api_calls):
-- hour totals (endpoints merged) for the series and the totals, day rows per endpoint for the
-- whole days of the window, and hour rows per endpoint only before its first midnight. The
-- figures are the same as from the minute rows.
begin;
select plan(9);

delete from ops.api_calls;
delete from ops.api_calls_minute;
delete from ops.api_calls_hour;
delete from ops.api_calls_hour_total;
delete from ops.api_calls_day;
delete from ops.rollup_state;
-- 6,300 calls, one every 7 minutes over 30.6 days, on two endpoints, all before the watermark;
-- every 25th a 500, durations spread over many latency buckets.
insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, request_id)
select date_trunc('minute', now()) - interval '2 minutes' - i * interval '7 minutes',
  (array['bounded-a', 'bounded-b'])[1 + i % 2], (array['/x', '/y/:id'])[1 + i % 2], (array['GET', 'POST'])[1 + i % 2],
  case when i % 25 = 0 then 500 else 200 end, (i * 37) % 3000, 'bounded-' || i
from generate_series(0, 6299) i;
select ops.rollup_api_calls(now() - interval '32 days');

select is(
  (select count(*)::int from ops.api_calls_hour_total t
   where row(t.calls, t.errors, t.total_ms, t.max_ms, t.latency_buckets, t.latency_counts) is distinct from (
     select row(sum(h.calls)::int, sum(h.errors)::int, sum(h.total_ms)::bigint, max(h.max_ms),
       array(select b.bucket from ops.api_calls_hour x, unnest(x.latency_buckets, x.latency_counts) b(bucket, n)
             where x.hour = t.hour group by 1 order by 1),
       array(select sum(b.n)::int from ops.api_calls_hour x, unnest(x.latency_buckets, x.latency_counts) b(bucket, n)
             where x.hour = t.hour group by b.bucket order by b.bucket))
     from ops.api_calls_hour h where h.hour = t.hour)),
  0, 'each hour total is the sum of its hour rows, histograms merged');
select is((select count(*)::int from ops.api_calls_hour_total), (select count(distinct hour)::int from ops.api_calls_hour),
  'every hour has its total');
select is(
  (select jsonb_object_agg(function_name, calls) from (
     select function_name, sum(calls)::int as calls from ops.api_calls_day where function_name like 'bounded-%' group by 1) x),
  '{"bounded-a": 3150, "bounded-b": 3150}'::jsonb, 'the day rows count every call once');
select is(
  (select count(*)::int from ops.api_calls_day d
   where d.day <> date_trunc('day', d.day, 'UTC')
      or d.calls <> (select sum(h.calls) from ops.api_calls_hour h
                     where date_trunc('day', h.hour, 'UTC') = d.day and (h.function_name, h.endpoint, h.method) = (d.function_name, d.endpoint, d.method))),
  0, 'a day row is a UTC day of its endpoint''s hour rows');

-- A 30-day window that starts between midnights (as admin_metrics('30d') does 23 hours a day).
create temp table window_start as
  select date_trunc('day', now(), 'UTC') - interval '30 days' + interval '5 hours' as since;
create temp table answer as
  select ops.api_metrics((select since from window_start), 'hour') as hour_step,
    ops.api_metrics((select since from window_start), 'minute') as minute_step;

select is((select hour_step - 'series' from answer), (select minute_step - 'series' from answer),
  'totals, p95 and slowest endpoints from hour totals, edge hours and day rows equal those from minute rows');
select is(ops.api_metrics((select since from window_start), 'hour', 'bounded-a') -> 'total_requests',
  to_jsonb((select count(*) from ops.api_calls where function_name = 'bounded-a' and at >= (select since from window_start))),
  'filtered by function, the window counts exactly its calls since its start');
select is(
  -- Closed hours only: calls of the running stack may land in the open one.
  (select jsonb_agg(p order by p ->> 't') from answer, jsonb_array_elements(hour_step -> 'series') p
   where (p ->> 't')::timestamptz < date_trunc('hour', now())),
  (select jsonb_agg(jsonb_build_object('t', h.hour, 'requests', h.calls, 'server_errors', h.errors,
     'avg_response_time', round(h.total_ms::numeric / h.calls, 1),
     'p95_response_time', ops.histogram_quantile(h.latency_buckets, h.latency_counts, 0.95, h.max_ms)) order by h.hour::text)
   from (select x.hour, sum(x.calls)::bigint as calls, sum(x.errors)::bigint as errors, sum(x.total_ms)::bigint as total_ms,
           max(x.max_ms) as max_ms,
           array(select b.bucket from ops.api_calls_hour y, unnest(y.latency_buckets, y.latency_counts) b(bucket, n)
                 where y.hour = x.hour group by 1 order by 1) as latency_buckets,
           array(select sum(b.n)::int from ops.api_calls_hour y, unnest(y.latency_buckets, y.latency_counts) b(bucket, n)
                 where y.hour = x.hour group by b.bucket order by b.bucket) as latency_counts
         from ops.api_calls_hour x where x.hour >= (select since from window_start) and x.hour < date_trunc('hour', now())
         group by 1) h),
  'the hourly series: each hour''s calls, errors, average and p95 over all endpoints');

-- What bounds the read: per-endpoint hour rows of whole days are not read any more (the old read
-- merged every one of them, 720 x endpoints rows and their histograms for 30 days). Changing them
-- leaves the answer as it was; changing the edge hours before the first midnight does not.
update ops.api_calls_hour set calls = calls + 1000, errors = errors + 1000, latency_buckets = '{1}', latency_counts = '{1000000}'
where hour >= date_trunc('day', (select since from window_start), 'UTC') + interval '1 day';
select is(ops.api_metrics((select since from window_start), 'hour'), (select hour_step from answer),
  'the 30-day window reads whole days from day rows and the series from hour totals, not from per-endpoint hour rows');
update ops.api_calls_hour set calls = calls + 1000
where hour >= (select since from window_start) and hour < date_trunc('day', (select since from window_start), 'UTC') + interval '1 day';
select isnt(ops.api_metrics((select since from window_start), 'hour') -> 'slowest_endpoints',
  (select hour_step -> 'slowest_endpoints' from answer), 'and the hours before its first midnight from hour rows');

select * from finish();
rollback;
