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

insert into ops.retention_policies (table_name, time_column, keep) values ('ops.api_calls_refused', 'minute', '30 days');

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

-- Every call as (time, route, status, duration, how many calls it stands for, their total time,
-- latency bucket). A refused-calls row reports its largest duration, which lies in its bucket.
create view ops.api_call_tally as
  select c.at, c.function_name, c.endpoint, c.method, c.status, c.duration_ms,
    1 as calls, c.duration_ms::bigint as total_ms, ops.latency_bucket(c.duration_ms) as bucket
  from ops.api_calls c
  union all
  select r.minute, r.function_name, r.endpoint, r.method, r.status, r.max_ms, r.calls, r.total_ms, r.bucket
  from ops.api_calls_refused r;

create or replace function ops.rollup_api_calls(rebuild_from timestamptz default null)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  roll_until timestamptz := date_trunc('minute', now());
  done_until timestamptz;
  roll_from timestamptz;
  minute_rows integer;
  hour_rows integer;
  user_rows integer;
begin
  perform pg_advisory_xact_lock(hashtext('ops.rollup_api_calls'));
  select s.rolled_until into done_until from ops.rollup_state s where s.name = 'api_calls';
  roll_from := date_trunc('minute', coalesce(
    rebuild_from, done_until - interval '5 minutes',
    least((select min(c.at) from ops.api_calls c), (select min(r.minute) from ops.api_calls_refused r)), roll_until));

  if roll_from < roll_until then
    with raw as materialized (
      select date_trunc('minute', c.at) as minute, c.function_name, c.endpoint, c.method, c.status, c.duration_ms,
        c.calls, c.total_ms, c.bucket
      from ops.api_call_tally c
      where c.at >= roll_from and c.at < roll_until
    ),
    -- percentile_disc(0.95) over calls that may stand for many (weighted by `calls`)
    p95 as (
      select x.minute, x.function_name, x.endpoint, x.method, min(x.duration_ms) filter (where x.running >= ceil(0.95 * x.total)) as p95_ms
      from (
        select r.*, sum(r.calls) over (partition by r.minute, r.function_name, r.endpoint, r.method order by r.duration_ms) as running,
          sum(r.calls) over (partition by r.minute, r.function_name, r.endpoint, r.method) as total
        from raw r
      ) x
      group by 1, 2, 3, 4
    ),
    counters as (
      select r.minute, r.function_name, r.endpoint, r.method,
        sum(r.calls)::integer as calls,
        coalesce(sum(r.calls) filter (where r.status >= 500), 0)::integer as errors,
        coalesce(sum(r.calls) filter (where r.status between 400 and 499 and r.status <> 429), 0)::integer as client_errors,
        coalesce(sum(r.calls) filter (where r.status = 429), 0)::integer as rate_limited,
        sum(r.total_ms)::bigint as total_ms,
        max(r.duration_ms) as max_ms
      from raw r
      group by 1, 2, 3, 4
    ),
    cells as (
      select r.minute, r.function_name, r.endpoint, r.method, r.bucket, sum(r.calls)::integer as n
      from raw r
      group by 1, 2, 3, 4, 5
    ),
    histograms as (
      select c.minute, c.function_name, c.endpoint, c.method,
        array_agg(c.bucket order by c.bucket) as buckets, array_agg(c.n order by c.bucket) as counts
      from cells c
      group by 1, 2, 3, 4
    )
    insert into ops.api_calls_minute as m (minute, function_name, endpoint, method, calls, errors, client_errors,
      rate_limited, total_ms, max_ms, p95_ms, latency_buckets, latency_counts)
    select k.minute, k.function_name, k.endpoint, k.method, k.calls, k.errors, k.client_errors, k.rate_limited,
      k.total_ms, k.max_ms, p.p95_ms, h.buckets, h.counts
    from counters k
    join histograms h using (minute, function_name, endpoint, method)
    join p95 p using (minute, function_name, endpoint, method)
    on conflict (minute, function_name, endpoint, method) do update set
      calls = excluded.calls, errors = excluded.errors, client_errors = excluded.client_errors,
      rate_limited = excluded.rate_limited, total_ms = excluded.total_ms, max_ms = excluded.max_ms,
      p95_ms = excluded.p95_ms, latency_buckets = excluded.latency_buckets, latency_counts = excluded.latency_counts;
    get diagnostics minute_rows = row_count;

    -- Every hour touched, recomputed whole from its minute rows.
    with minutes as (
      select date_trunc('hour', m.minute) as hour, m.*
      from ops.api_calls_minute m
      where m.minute >= date_trunc('hour', roll_from) and m.minute < roll_until
    ),
    counters as (
      select m.hour, m.function_name, m.endpoint, m.method, sum(m.calls)::integer as calls,
        sum(m.errors)::integer as errors, sum(m.client_errors)::integer as client_errors,
        sum(m.rate_limited)::integer as rate_limited, sum(m.total_ms)::bigint as total_ms, max(m.max_ms) as max_ms
      from minutes m
      group by 1, 2, 3, 4
    ),
    cells as (
      select m.hour, m.function_name, m.endpoint, m.method, b.bucket, sum(b.n)::integer as n
      from minutes m, unnest(m.latency_buckets, m.latency_counts) as b(bucket, n)
      group by 1, 2, 3, 4, 5
    ),
    histograms as (
      select c.hour, c.function_name, c.endpoint, c.method,
        array_agg(c.bucket order by c.bucket) as buckets, array_agg(c.n order by c.bucket) as counts
      from cells c
      group by 1, 2, 3, 4
    )
    insert into ops.api_calls_hour as h (hour, function_name, endpoint, method, calls, errors, client_errors,
      rate_limited, total_ms, max_ms, latency_buckets, latency_counts)
    select k.hour, k.function_name, k.endpoint, k.method, k.calls, k.errors, k.client_errors, k.rate_limited,
      k.total_ms, k.max_ms, g.buckets, g.counts
    from counters k
    join histograms g using (hour, function_name, endpoint, method)
    on conflict (hour, function_name, endpoint, method) do update set
      calls = excluded.calls, errors = excluded.errors, client_errors = excluded.client_errors,
      rate_limited = excluded.rate_limited, total_ms = excluded.total_ms, max_ms = excluded.max_ms,
      latency_buckets = excluded.latency_buckets, latency_counts = excluded.latency_counts;
    get diagnostics hour_rows = row_count;

    insert into ops.user_last_seen as u (user_id, last_seen_at)
    select c.user_id, max(c.at)
    from ops.api_calls c
    where c.at >= roll_from and c.at < roll_until and c.user_id is not null
    group by 1
    on conflict (user_id) do update set last_seen_at = greatest(u.last_seen_at, excluded.last_seen_at);
    get diagnostics user_rows = row_count;
  end if;

  insert into ops.rollup_state as s (name, rolled_until, updated_at)
  values ('api_calls', greatest(roll_until, coalesce(done_until, roll_until)), now())
  on conflict (name) do update set rolled_until = excluded.rolled_until, updated_at = now();
  perform ops.bump_cache_scope('ops:metrics');

  return jsonb_build_object('from', roll_from, 'until', roll_until,
    'minute_rows', coalesce(minute_rows, 0), 'hour_rows', coalesce(hour_rows, 0), 'user_rows', coalesce(user_rows, 0));
end
$$;


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


create or replace function ops.check_alert_rule(rule ops.alert_rules, out firing boolean, out details jsonb)
language plpgsql volatile security definer set search_path = '' as $$
declare
  calls bigint;
  bad bigint;
  p95 integer;
  used bigint;
  budget integer := 10000;
  n bigint;
  src ops.metric_sources;
  counts jsonb := '{}'::jsonb;
  last_success timestamptz;
  pt_day date := (now() at time zone 'America/Los_Angeles')::date;
begin
  firing := false;
  details := '{}'::jsonb;
  case rule.kind
  when 'error_rate' then
    select coalesce(sum(c.calls), 0), coalesce(sum(c.calls) filter (where c.status >= 500), 0) into calls, bad
    from ops.api_call_tally c
    where c.at >= now() - rule.window_size and (rule.function_name is null or c.function_name = rule.function_name);
    firing := calls > 0 and calls >= rule.min_samples and bad * 100.0 / calls > rule.threshold;
    details := jsonb_build_object('calls', calls, 'server_errors', bad,
      'error_rate', case when calls = 0 then 0 else round(bad * 100.0 / calls, 2) end, 'window', rule.window_size::text);
  when 'p95_latency' then
    select coalesce(max(x.total), 0), min(x.duration_ms) filter (where x.running >= ceil(0.95 * x.total)) into calls, p95
    from (
      select c.duration_ms, sum(c.calls) over (order by c.duration_ms) as running, sum(c.calls) over () as total
      from ops.api_call_tally c
      where c.at >= now() - rule.window_size and (rule.function_name is null or c.function_name = rule.function_name)
    ) x;
    firing := calls > 0 and calls >= rule.min_samples and p95 > rule.threshold;
    details := jsonb_build_object('calls', calls, 'p95_ms', p95, 'window', rule.window_size::text);
  when 'unhealthy_service' then
    select coalesce(jsonb_agg(x.service order by x.service), '[]'::jsonb) into details
    from (
      select distinct on (p.service) p.service, p.status from ops.health_probes p
      where p.checked_at >= now() - rule.window_size
      order by p.service, p.checked_at desc
    ) x where x.status = 'unhealthy';
    firing := jsonb_array_length(details) > 0;
    details := jsonb_build_object('unhealthy_services', details);
  when 'backup_missing' then
    select max(b.finished_at) into last_success from ops.backups b where b.status = 'succeeded';
    firing := last_success is null or last_success < now() - rule.window_size;
    details := jsonb_build_object('last_successful_backup', last_success);
  when 'youtube_quota' then
    if to_regclass('public.youtube_quota_usage') is not null then
      if to_regclass('private.youtube_daily_budget') is not null then
        execute 'select units from private.youtube_daily_budget limit 1' into budget;
      end if;
      execute 'select coalesce(sum(units), 0) from public.youtube_quota_usage where day = $1' into used using pt_day;
      firing := used * 100.0 / budget > rule.threshold;
      details := jsonb_build_object('day', pt_day, 'units_used', used, 'daily_budget', budget,
        'percent', round(used * 100.0 / budget, 2));
    else
      details := jsonb_build_object('available', false);
    end if;
  when 'failed_jobs' then
    for src in select * from ops.metric_sources m where m.alert_on_failure order by m.key loop
      if (ops.source_counts(src.key, now() - rule.window_size) ->> 'available')::boolean then
        n := (ops.source_counts(src.key, now() - rule.window_size) ->> 'failed')::bigint;
        counts := counts || jsonb_build_object(src.key, n);
      end if;
    end loop;
    select coalesce(sum(value::bigint), 0) into n from jsonb_each_text(counts);
    firing := n > rule.threshold;
    details := jsonb_build_object('failed', counts, 'window', rule.window_size::text);
  when 'channels_reauth' then
    if to_regclass('public.channels') is not null and exists (
      select 1 from pg_catalog.pg_attribute a
      where a.attrelid = to_regclass('public.channels') and a.attname = 'status' and not a.attisdropped) then
      execute $q$select count(*), count(distinct workspace_id) from public.channels where status = 'reauth_required'$q$
        into n, calls;
      firing := n > rule.threshold;
      details := jsonb_build_object('channels', n, 'workspaces', calls);
    else
      details := jsonb_build_object('available', false);
    end if;
  end case;
end
$$;

revoke all on ops.api_calls_refused, ops.api_call_tally from public, anon, authenticated;
grant select on ops.api_calls_refused, ops.api_call_tally to service_role;
revoke all on function ops.record_refused_calls(jsonb) from public, anon, authenticated;
grant execute on function ops.record_refused_calls(jsonb) to service_role;
