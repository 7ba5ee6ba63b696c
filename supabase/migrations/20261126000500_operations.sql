-- Operations: what every function call did (raw rows plus minute and hour roll-ups), system logs,
-- unhandled errors, health probes, alert rules and alerts with a webhook, per-user rate limits, a
-- response cache shared by all function instances, and retention. Everything lives in schema
-- `ops` (service_role only; platform admins read it through the admin-* functions).
--
-- Who writes what:
--   * _shared/handler.ts (every function) inserts one ops.api_calls row per call, ops.errors rows
--     for unhandled errors, and counts requests in ops.rate_limits (one upsert per request);
--   * the health function claims probe leases and stores probe results (ops.health_probes);
--   * pg_cron (minute granularity, so pg_cron 1.4 is enough): roll-ups, alert evaluation, a
--     health probe through the function, cleanup of short-lived rows; retention once a day.
--
-- Conventions: every function here has a fixed search_path and EXECUTE revoked from PUBLIC
-- (Postgres grants it by default; tests/db/14 checks). Functions that read or write tables are
-- security definer. The small pure helpers (latency buckets, percentiles) are not: they touch no
-- data, and security definer would stop Postgres from inlining them into the roll-up queries.

-- Section: settings

create table ops.retention_policies (
  table_name text primary key check (table_name ~ '^ops\.[a-z_]+$'),
  time_column text not null check (time_column ~ '^[a-z_]+$'),
  keep interval not null check (keep >= interval '1 day'),
  updated_at timestamptz not null default now()
);
insert into ops.retention_policies (table_name, time_column, keep) values
  ('ops.api_calls', 'at', '30 days'),
  ('ops.system_logs', 'at', '30 days'),
  ('ops.errors', 'at', '30 days'),
  ('ops.health_probes', 'checked_at', '30 days'),
  -- the 1h window of admin-metrics reads minute rows; longer windows read hour rows
  ('ops.api_calls_minute', 'minute', '7 days'),
  ('ops.api_calls_hour', 'hour', '400 days'),
  ('ops.user_last_seen', 'last_seen_at', '400 days'),
  -- only resolved alerts have a resolved_at, so open ones are never removed
  ('ops.alerts', 'resolved_at', '180 days');

-- Tables of later features that admin-metrics counts and the failed-jobs alert watches. Guarded:
-- a source whose table or columns do not exist (yet) is reported as unavailable, never an error.
-- The engineers of those features keep these rows right (update them in their migration).
create table ops.metric_sources (
  key text primary key check (key ~ '^[a-z_]+$'),
  table_name text not null check (table_name ~ '^[a-z_]+\.[a-z_]+$'),
  created_column text not null default 'created_at',
  changed_column text not null default 'updated_at',
  status_column text not null default 'status',
  failed_statuses text[] not null default '{}',
  alert_on_failure boolean not null default false,
  description text not null default ''
);
insert into ops.metric_sources (key, table_name, changed_column, failed_statuses, alert_on_failure, description) values
  ('generations', 'public.generated_content', 'updated_at', '{}', false, 'Gemini generations (issue 5)'),
  ('renders', 'public.video_jobs', 'finished_at', '{failed}', true, 'RevID renders (issue 5)'),
  ('uploads', 'public.upload_schedules', 'finished_at', '{failed}', true, 'YouTube uploads (issue 6)');

-- Section: tracking tables

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

create table ops.system_logs (
  id bigserial primary key,
  at timestamptz not null default now(),
  event_type text not null,
  severity text not null check (severity in ('debug', 'info', 'warning', 'error', 'critical')),
  source text not null,
  message text not null,
  context jsonb not null default '{}'::jsonb
);
create index system_logs_at_idx on ops.system_logs (at);
create index system_logs_event_type_at_idx on ops.system_logs (event_type, at);

create table ops.errors (
  id bigserial primary key,
  at timestamptz not null default now(),
  name text not null,
  message text not null,
  stack text,
  operation text not null,
  context jsonb not null default '{}'::jsonb,
  request_id text
);
create index errors_at_idx on ops.errors (at);
create index errors_request_id_idx on ops.errors (request_id);

-- Section: health

create table ops.health_probes (
  id bigserial primary key,
  service text not null check (service in ('database', 'youtube', 'gemini', 'revid')),
  status text not null check (status in ('healthy', 'degraded', 'unhealthy')),
  response_time_ms integer not null check (response_time_ms >= 0),
  error text,
  checked_at timestamptz not null default now()
);
create index health_probes_service_checked_at_idx on ops.health_probes (service, checked_at desc);
create index health_probes_checked_at_idx on ops.health_probes (checked_at);

-- Who may probe a service next: one lease per service for 30 s, shared by every instance, so
-- that calling /health in a loop cannot turn into calls to YouTube, Gemini or RevID.
create table ops.health_probe_leases (
  service text primary key,
  leased_until timestamptz not null
);

-- Section: backups (the backup feature itself comes later; the alert rule needs the table now)

create table ops.backups (
  id bigserial primary key,
  kind text not null default 'snapshot',
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  details jsonb not null default '{}'::jsonb,
  check ((status = 'running') = (finished_at is null))
);
create index backups_status_finished_at_idx on ops.backups (status, finished_at desc);

-- Section: alerting

create table ops.alert_rules (
  key text primary key check (key ~ '^[a-z0-9_]+$'),
  kind text not null check (kind in (
    'error_rate', 'p95_latency', 'unhealthy_service', 'backup_missing', 'youtube_quota',
    'failed_jobs', 'channels_reauth')),
  description text not null,
  -- error_rate: percent of 5xx; p95_latency: ms; youtube_quota: percent of the daily budget;
  -- failed_jobs / channels_reauth: a count that must be exceeded; others: unused (0)
  threshold numeric not null default 0,
  window_size interval,
  -- error_rate and p95_latency stay quiet below this many calls (one 500 is not 100 %)
  min_samples integer not null default 0 check (min_samples >= 0),
  -- error_rate and p95_latency over one function's calls only (null: all calls)
  function_name text check (function_name is null or kind in ('error_rate', 'p95_latency')),
  severity text not null default 'warning' check (severity in ('info', 'warning', 'critical')),
  enabled boolean not null default true,
  updated_at timestamptz not null default now()
);
insert into ops.alert_rules (key, kind, description, threshold, window_size, min_samples, severity) values
  ('error_rate', 'error_rate', 'More than 5 % of function calls failed with 5xx in 5 minutes', 5, '5 minutes', 20, 'critical'),
  ('p95_latency', 'p95_latency', 'p95 response time above 2 s in 5 minutes', 2000, '5 minutes', 20, 'warning'),
  ('unhealthy_service', 'unhealthy_service', 'A service''s latest health probe (last 10 minutes) is unhealthy', 0, '10 minutes', 0, 'critical'),
  ('backup_missing', 'backup_missing', 'No successful backup in the last 26 hours', 0, '26 hours', 0, 'critical'),
  ('youtube_quota', 'youtube_quota', 'YouTube Data API quota above 90 % of today''s budget (Pacific day)', 90, null, 0, 'warning'),
  ('failed_jobs', 'failed_jobs', 'Renders or uploads failed in the last hour', 0, '1 hour', 0, 'warning'),
  ('channels_reauth', 'channels_reauth', 'YouTube channels need to be re-authorised', 0, null, 0, 'warning');

create table ops.alerts (
  id bigserial primary key,
  rule_key text not null references ops.alert_rules (key) on delete cascade,
  opened_at timestamptz not null default now(),
  details jsonb not null default '{}'::jsonb,
  last_evaluated_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  acknowledged_by uuid,
  resolved_at timestamptz,
  resolved_by uuid,               -- null when the condition cleared by itself
  resolution text,
  notified_at timestamptz,
  notify_request_id bigint,       -- net.http_post request of the opening notification
  resolution_notified_at timestamptz,
  resolution_notify_request_id bigint,
  check ((resolved_at is null) = (resolution is null))
);
-- One open alert per rule: a condition that persists updates it instead of opening more.
create unique index alerts_one_open_per_rule_idx on ops.alerts (rule_key) where resolved_at is null;
create index alerts_opened_at_idx on ops.alerts (opened_at desc);
create index alerts_resolved_at_idx on ops.alerts (resolved_at);

-- Section: rate limits

-- Fixed one-minute windows per user. _shared/rate-limit.ts counts a request with one statement,
-- an upsert whose conflict arbiter is the primary key (no scan):
--   insert into ops.rate_limits as r (user_id, window_start, count) values ($1, date_trunc('minute', now()), 1)
--   on conflict (user_id, window_start) do update set count = r.count + 1 returning r.count, ...
-- Unlogged: a transaction that writes only unlogged tables commits without waiting for a WAL
-- flush, which is most of what a counted request would otherwise cost (measured: ~3 ms under
-- load on the local disk, 0.2 ms without). A crash forgets the current minute's counts.
create unlogged table ops.rate_limits (
  user_id uuid not null,
  window_start timestamptz not null,
  count integer not null,
  primary key (user_id, window_start)
);
create index rate_limits_window_start_idx on ops.rate_limits (window_start);

-- Section: response cache

-- Unlogged: a crash empties it, which is harmless for a cache and spares the WAL every write.
-- The key is sha256(user | workspace | method | full URL) and the scope's version at the time.
create unlogged table ops.response_cache (
  key text primary key,
  user_id uuid,
  workspace_id uuid,
  status integer not null,
  headers jsonb not null default '{}'::jsonb,
  body bytea not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  check (expires_at <= created_at + interval '5 minutes')
);
create index response_cache_expires_at_idx on ops.response_cache (expires_at);

-- Bumped whenever the data behind a scope changes (a workspace id, or a named scope such as
-- 'ops:metrics'); part of every cache key, so a bump makes all older entries unreachable. Logged,
-- unlike the cache, so versions never go back after a crash.
create table ops.cache_versions (
  scope text primary key,
  version bigint not null default 1,
  bumped_at timestamptz not null default now()
);

-- Section: functions (pure helpers)

-- Inclusive upper bounds (ms) of the latency buckets; bucket 43 is everything above 60 s.
create function ops.latency_bucket_bounds() returns integer[]
language sql immutable parallel safe set search_path = '' as $$
  select '{1,2,3,4,5,6,8,10,12,15,20,25,30,40,50,60,80,100,120,150,200,250,300,400,500,600,800,1000,1200,1500,2000,2500,3000,4000,5000,6000,8000,10000,15000,20000,30000,60000}'::integer[]
$$;

-- The bucket (1..43) of a duration: the first bound >= ms. The thresholds are the bounds + 1,
-- which is what width_bucket() wants (lower bounds, inclusive). No SET search_path: that would
-- stop Postgres from inlining it into the roll-up (it names nothing outside pg_catalog).
create function ops.latency_bucket(ms integer) returns smallint
language sql immutable parallel safe as $$
  select width_bucket(ms, '{0,2,3,4,5,6,7,9,11,13,16,21,26,31,41,51,61,81,101,121,151,201,251,301,401,501,601,801,1001,1201,1501,2001,2501,3001,4001,5001,6001,8001,10001,15001,20001,30001,60001}'::integer[])::smallint
$$;

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

-- Section: functions (tracking)

-- Records a batch of function calls (one insert; each slow call also gets its warning in
-- system_logs). Functions send the calls of the last few milliseconds together, so tracking costs
-- one statement per batch instead of one per request. Each call says how long ago it finished
-- (`age_ms`, measured by the function), so `at` comes from this database's clock and a function's
-- clock skew never shifts a call into another minute. The commit does not wait for the WAL flush:
-- a crash may lose the last fraction of a second of tracking, and in exchange tracking never makes
-- the database flush once per request.
create function ops.record_api_calls(calls jsonb, slow_ms integer default 2000)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  written integer;
begin
  perform set_config('synchronous_commit', 'off', true);
  with inserted as (
    insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, user_id, workspace_id, request_id)
    select now() - make_interval(secs => greatest(coalesce(c.age_ms, 0), 0) / 1000.0),
      c.function_name, c.endpoint, c.method, c.status, c.duration_ms, c.user_id, c.workspace_id, c.request_id
    from jsonb_to_recordset(calls) as c(age_ms integer, function_name text, endpoint text, method text, status integer,
      duration_ms integer, user_id uuid, workspace_id uuid, request_id text)
    returning id, function_name, endpoint, method, status, duration_ms, user_id, workspace_id, request_id
  ), warned as (
    insert into ops.system_logs (event_type, severity, source, message, context)
    select 'slow_api_call', 'warning', i.function_name,
      format('%s %s%s took %s ms', i.method, i.function_name, nullif(i.endpoint, '/'), i.duration_ms),
      jsonb_build_object('function', i.function_name, 'endpoint', i.endpoint, 'method', i.method, 'status', i.status,
        'duration_ms', i.duration_ms, 'request_id', i.request_id, 'user_id', i.user_id,
        'workspace_id', i.workspace_id, 'api_call_id', i.id)
    from inserted i
    where i.duration_ms > record_api_calls.slow_ms
  )
  select count(*) into written from inserted;
  return written;
end
$$;

-- Rolls closed minutes up: the minutes since the last run, and the 5 before it again, so a row
-- that committed late is still counted. Idempotent (upserts that replace), serialised by an
-- advisory lock. `rebuild_from` recomputes everything from that time (after bulk loads).
create function ops.rollup_api_calls(rebuild_from timestamptz default null)
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
    rebuild_from, done_until - interval '5 minutes', (select min(c.at) from ops.api_calls c), roll_until));

  if roll_from < roll_until then
    with raw as materialized (
      select date_trunc('minute', c.at) as minute, c.function_name, c.endpoint, c.method, c.status, c.duration_ms
      from ops.api_calls c
      where c.at >= roll_from and c.at < roll_until
    ),
    counters as (
      select r.minute, r.function_name, r.endpoint, r.method,
        count(*)::integer as calls,
        count(*) filter (where r.status >= 500)::integer as errors,
        count(*) filter (where r.status between 400 and 499 and r.status <> 429)::integer as client_errors,
        count(*) filter (where r.status = 429)::integer as rate_limited,
        sum(r.duration_ms)::bigint as total_ms,
        max(r.duration_ms) as max_ms,
        percentile_disc(0.95) within group (order by r.duration_ms) as p95_ms
      from raw r
      group by 1, 2, 3, 4
    ),
    cells as (
      select r.minute, r.function_name, r.endpoint, r.method, ops.latency_bucket(r.duration_ms) as bucket, count(*)::integer as n
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
      k.total_ms, k.max_ms, k.p95_ms, h.buckets, h.counts
    from counters k
    join histograms h using (minute, function_name, endpoint, method)
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

-- Section: functions (response cache)

-- Makes every cached answer of a scope unreachable (the version is part of the key).
create function ops.bump_cache_scope(scope text) returns bigint
language sql volatile security definer set search_path = '' as $$
  insert into ops.cache_versions as v (scope, version, bumped_at) values (bump_cache_scope.scope, 1, now())
  on conflict (scope) do update set version = v.version + 1, bumped_at = now()
  returning v.version
$$;

-- Statement-level trigger: bumps the cache version of every workspace a statement touched
-- (TG_ARGV[0] names the workspace column), once per statement however many rows it wrote.
create function ops.bump_workspace_cache_versions() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  col text := coalesce(tg_argv[0], 'workspace_id');
  touched text[];
begin
  if tg_op = 'INSERT' then
    execute format('select array_agg(distinct %I::text) from new_rows', col) into touched;
  elsif tg_op = 'DELETE' then
    execute format('select array_agg(distinct %I::text) from old_rows', col) into touched;
  else
    execute format('select array_agg(distinct w) from (select %1$I::text as w from new_rows union select %1$I::text from old_rows) x', col)
      into touched;
  end if;
  -- Sorted, so concurrent statements lock the version rows in the same order (no deadlock).
  insert into ops.cache_versions as v (scope, version, bumped_at)
  select w, 1, now() from unnest(touched) as w where w is not null order by w
  on conflict (scope) do update set version = v.version + 1, bumped_at = now();
  return null;
end
$$;

-- Opt-in for a table whose rows feed cached answers: after this, any insert, update or delete
-- invalidates the cached answers of the workspaces it touched. Run by the table's owner, in the
-- migration that creates the table: select ops.invalidate_cache_on_change('public.videos');
create function ops.invalidate_cache_on_change(tbl regclass, workspace_column name default 'workspace_id')
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  base text := left(replace(tbl::text, '.', '_'), 40);
begin
  if not exists (select 1 from pg_catalog.pg_attribute a
                 where a.attrelid = tbl and a.attname = workspace_column and not a.attisdropped) then
    raise exception '% has no column %', tbl, workspace_column using errcode = '42703';
  end if;
  -- Transition tables need one trigger per event.
  execute format('create or replace trigger %I after insert on %s referencing new table as new_rows
    for each statement execute function ops.bump_workspace_cache_versions(%L)', base || '_cache_ins', tbl, workspace_column);
  execute format('create or replace trigger %I after update on %s referencing old table as old_rows new table as new_rows
    for each statement execute function ops.bump_workspace_cache_versions(%L)', base || '_cache_upd', tbl, workspace_column);
  execute format('create or replace trigger %I after delete on %s referencing old table as old_rows
    for each statement execute function ops.bump_workspace_cache_versions(%L)', base || '_cache_del', tbl, workspace_column);
end
$$;

-- Section: functions (health)

-- Claims the probe lease of each service whose lease ran out, and returns every service's latest
-- stored result: `claimed` ones are the caller's to probe now, the others are answered from here.
create function ops.claim_health_probes(services text[], lease interval default interval '30 seconds')
returns table (service text, claimed boolean, status text, response_time_ms integer, error text, checked_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
begin
  return query
  with claims as (
    insert into ops.health_probe_leases as l (service, leased_until)
    select s, now() + lease from unnest(services) as s
    on conflict (service) do update set leased_until = excluded.leased_until
      where l.leased_until <= now()
    returning l.service
  )
  select s.s, c.service is not null, p.status, p.response_time_ms, p.error, p.checked_at
  from unnest(services) as s(s)
  left join claims c on c.service = s.s
  left join lateral (
    select hp.status, hp.response_time_ms, hp.error, hp.checked_at from ops.health_probes hp
    where hp.service = s.s order by hp.checked_at desc limit 1
  ) p on true;
end
$$;

-- Stores probe results: [{ service, status, response_time_ms, error?, checked_at? }].
create function ops.record_health_probes(probes jsonb) returns integer
language sql volatile security definer set search_path = '' as $$
  with inserted as (
    insert into ops.health_probes (service, status, response_time_ms, error, checked_at)
    select p.service, p.status, p.response_time_ms, p.error, coalesce(p.checked_at, now())
    from jsonb_to_recordset(probes) as p(service text, status text, response_time_ms integer, error text, checked_at timestamptz)
    returning 1
  )
  select count(*)::integer from inserted
$$;

-- pg_cron calls /health every minute, so uptime is measured even when nobody else asks.
create function ops.request_health_probe() returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  base text := (select s.decrypted_secret from vault.decrypted_secrets s where s.name = 'project_url' limit 1);
begin
  if base is null or base = '' then
    return null;
  end if;
  return net.http_get(url := rtrim(base, '/') || '/functions/v1/health', timeout_milliseconds := 10000);
end
$$;

-- Section: functions (metrics)

-- Request figures over [since, now): roll-ups up to the watermark, raw rows after it. `step`
-- ('minute' or 'hour') picks the roll-up table and the time series' step; `since` should be
-- aligned to it. Percentiles come from the merged latency histograms.
create function ops.api_metrics(since timestamptz, step text, function_filter text default null)
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
    select date_trunc(step, c.at) as t, c.function_name, c.endpoint, c.method, c.status, c.duration_ms
    from ops.api_calls c
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
    select x.t, x.function_name, x.endpoint, x.method, count(*)::integer,
      count(*) filter (where x.status >= 500)::integer,
      count(*) filter (where x.status between 400 and 499 and x.status <> 429)::integer,
      count(*) filter (where x.status = 429)::integer,
      sum(x.duration_ms)::bigint, max(x.duration_ms)
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
      select y.t, y.function_name, y.endpoint, y.method, ops.latency_bucket(y.duration_ms), 1
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

-- Share of stored probes per service that were not unhealthy; null when nothing was measured.
create function ops.measured_uptime(since timestamptz) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    -- The API is up when its database is: that is what /health answers 503 for.
    'uptime_percentage', (
      select round(count(*) filter (where p.status <> 'unhealthy') * 100.0 / nullif(count(*), 0), 3)
      from ops.health_probes p where p.service = 'database' and p.checked_at >= since),
    'services', coalesce((
      select jsonb_object_agg(x.service, jsonb_build_object('uptime_percentage', x.pct, 'probes', x.probes,
        'unhealthy_probes', x.down, 'last_checked', x.last_checked))
      from (
        select p.service, count(*) as probes, count(*) filter (where p.status = 'unhealthy') as down,
          round(count(*) filter (where p.status <> 'unhealthy') * 100.0 / count(*), 3) as pct,
          max(p.checked_at) as last_checked
        from ops.health_probes p where p.checked_at >= since group by 1
      ) x), '{}'::jsonb)
  )
$$;

-- Connections, size and the slowest statements (pg_stat_statements, when it is installed and
-- loaded). Only plain DML is listed: utility statements are stored verbatim and may hold secrets.
create function ops.database_metrics() returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  result jsonb;
  statements jsonb;
begin
  select jsonb_build_object(
    'active_connections', count(*) filter (where a.state = 'active'),
    'total_connections', count(*),
    'max_connections', current_setting('max_connections')::integer,
    'database_size_mb', round(pg_catalog.pg_database_size(current_database()) / 1048576.0, 1)
  ) into result
  from pg_catalog.pg_stat_activity a where a.datname = current_database();

  if to_regclass('extensions.pg_stat_statements') is not null then
    begin
      execute $q$
        with s as (
          select s.query, s.calls, s.mean_exec_time, s.total_exec_time
          from extensions.pg_stat_statements s
          where s.dbid = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
            and s.query ~* '^\s*(select|insert|update|delete|with)\s'
        )
        select jsonb_build_object(
          'total_queries', (select coalesce(sum(calls), 0) from s),
          'slow_queries_count', (select count(*) from s where mean_exec_time > 100),
          'slow_statements', coalesce((select jsonb_agg(jsonb_build_object('query', left(x.query, 300), 'calls', x.calls,
              'mean_ms', round(x.mean_exec_time::numeric, 2), 'total_ms', round(x.total_exec_time::numeric, 1)) order by x.mean_exec_time desc)
            from (select * from s order by mean_exec_time desc limit 5) x), '[]'::jsonb),
          'statistics_since', (select i.stats_reset from extensions.pg_stat_statements_info i))
      $q$ into statements;
    exception when others then
      statements := jsonb_build_object('slow_statements', null, 'statements_error', sqlerrm);
    end;
  else
    statements := jsonb_build_object('slow_statements', null, 'statements_error', 'pg_stat_statements is not installed');
  end if;
  return result || statements;
end
$$;

-- Rows of a metric source created in the window, by status; unavailable when the table (or a
-- column) does not exist yet.
create function ops.source_counts(source_key text, since timestamptz) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  src ops.metric_sources;
  result jsonb;
begin
  select * into src from ops.metric_sources m where m.key = source_key;
  if src is null or to_regclass(src.table_name) is null
     or (select count(*) from pg_catalog.pg_attribute a
         where a.attrelid = to_regclass(src.table_name) and not a.attisdropped
           and a.attname in (src.created_column, src.changed_column, src.status_column))
        < cardinality(array(select distinct unnest(array[src.created_column, src.changed_column, src.status_column]))) then
    return jsonb_build_object('available', false);
  end if;
  execute format($q$
    select jsonb_build_object('available', true,
      'created', (select count(*) from %1$s where %2$I >= $1),
      'by_status', coalesce((select jsonb_object_agg(s, n) from (
        select %3$I::text as s, count(*) as n from %1$s where %2$I >= $1 group by 1) x), '{}'::jsonb),
      'failed', (select count(*) from %1$s where %3$I::text = any ($2) and %4$I >= $1))
    $q$, src.table_name::regclass, src.created_column, src.status_column, src.changed_column)
    into result using since, src.failed_statuses;
  return result;
end
$$;

-- YouTube Data API units spent per (Pacific) day since the window started, against the budget.
create function ops.youtube_quota_metrics(since timestamptz) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  budget integer := 10000;
  days jsonb;
begin
  if to_regclass('public.youtube_quota_usage') is null then
    return jsonb_build_object('available', false);
  end if;
  if to_regclass('private.youtube_daily_budget') is not null then
    execute 'select units from private.youtube_daily_budget limit 1' into budget;
  end if;
  execute $q$
    select coalesce(jsonb_agg(jsonb_build_object('day', d.day, 'units', d.units, 'calls', d.calls,
      'percent_of_budget', round(d.units * 100.0 / $2, 2)) order by d.day), '[]'::jsonb)
    from (select q.day, sum(q.units) as units, sum(q.calls) as calls from public.youtube_quota_usage q
          where q.day >= ($1 at time zone 'America/Los_Angeles')::date group by 1) d
  $q$ into days using since, budget;
  return jsonb_build_object('available', true, 'daily_budget', budget, 'days', days);
end
$$;

-- Everything admin-metrics answers, in one round trip. Windows: 1h (per-minute series) and
-- 24h / 7d / 30d (per-hour series); the window starts at the bucket boundary at or before
-- now() - window, so the totals and the series cover exactly the same calls. JIT is off for the
-- metrics functions: the tail's size is unknown at plan time, so the planner guesses millions of
-- rows and would spend ~100 ms compiling a query that then reads a few hundred.
create function ops.admin_metrics(window_name text default '24h', function_filter text default null)
returns jsonb
language plpgsql volatile security definer set search_path = '' set jit = off as $$
declare
  span interval;
  step text;
  since timestamptz;
  api jsonb;
  uptime jsonb;
  unhandled jsonb;
  generations jsonb;
  renders jsonb;
  uploads jsonb;
begin
  case window_name
    when '1h' then span := interval '1 hour'; step := 'minute';
    when '24h' then span := interval '24 hours'; step := 'hour';
    when '7d' then span := interval '7 days'; step := 'hour';
    when '30d' then span := interval '30 days'; step := 'hour';
    else raise exception 'window must be one of 1h, 24h, 7d, 30d' using errcode = '22023';
  end case;
  since := date_trunc(step, now() - span);

  api := ops.api_metrics(since, step, function_filter);
  uptime := ops.measured_uptime(since);
  generations := ops.source_counts('generations', since);
  renders := ops.source_counts('renders', since);
  uploads := ops.source_counts('uploads', since);
  select coalesce(jsonb_agg(jsonb_build_object('name', x.name, 'count', x.n) order by x.n desc), '[]'::jsonb) into unhandled
  from (select e.name, count(*) as n from ops.errors e where e.at >= since group by 1 order by 2 desc limit 20) x;

  return jsonb_build_object(
    'timestamp', now(),
    'window', jsonb_build_object('name', window_name, 'since', since, 'until', now(), 'bucket', step,
      'function', function_filter),
    'application', jsonb_build_object(
      'total_requests', api -> 'total_requests',
      'error_rate', api -> 'error_rate',
      'avg_response_time', api -> 'avg_response_time',
      'p95_response_time', api -> 'p95_response_time',
      'max_response_time', api -> 'max_response_time',
      'uptime_percentage', uptime -> 'uptime_percentage',
      'uptime_by_service', uptime -> 'services',
      'slowest_endpoints', api -> 'slowest_endpoints'),
    'database', ops.database_metrics(),
    'api_usage', jsonb_build_object(
      'youtube_quota', ops.youtube_quota_metrics(since),
      'generations', generations,
      'renders', renders,
      'uploads', uploads),
    'user_activity', jsonb_build_object('active_users', ops.active_users(since)),
    'errors', jsonb_build_object(
      'server_errors', api -> 'server_errors',
      'client_errors', api -> 'client_errors',
      'rate_limited', api -> 'rate_limited',
      'unhandled', unhandled,
      'failed_renders', renders -> 'failed',
      'failed_uploads', uploads -> 'failed'),
    'series', api -> 'series',
    'open_alerts', (select count(*) from ops.alerts a where a.resolved_at is null)
  );
end
$$;

-- Section: functions (alerting)

-- Whether a rule's condition holds now, and the figures that show it.
create function ops.check_alert_rule(rule ops.alert_rules, out firing boolean, out details jsonb)
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
    select count(*), count(*) filter (where c.status >= 500) into calls, bad
    from ops.api_calls c
    where c.at >= now() - rule.window_size and (rule.function_name is null or c.function_name = rule.function_name);
    firing := calls > 0 and calls >= rule.min_samples and bad * 100.0 / calls > rule.threshold;
    details := jsonb_build_object('calls', calls, 'server_errors', bad,
      'error_rate', case when calls = 0 then 0 else round(bad * 100.0 / calls, 2) end, 'window', rule.window_size::text);
  when 'p95_latency' then
    select count(*), percentile_disc(0.95) within group (order by c.duration_ms) into calls, p95
    from ops.api_calls c
    where c.at >= now() - rule.window_size and (rule.function_name is null or c.function_name = rule.function_name);
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

-- Sends the Slack-compatible message about an alert opening or resolving to the webhook URL in
-- Vault (`alert_webhook_url`), once: the request id and time are stored on the alert, and a
-- second call for the same event is a no-op. Without a URL it logs that it could not notify.
create function ops.notify_alert(alert_id bigint, event text) returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  a ops.alerts;
  r ops.alert_rules;
  url text := (select s.decrypted_secret from vault.decrypted_secrets s where s.name = 'alert_webhook_url' limit 1);
  headline text;
  request_id bigint;
begin
  if event not in ('opened', 'resolved') then
    raise exception 'event must be opened or resolved' using errcode = '22023';
  end if;
  select * into a from ops.alerts where id = alert_id for update;
  if a is null then
    raise exception 'no alert %', alert_id using errcode = 'P0002';
  end if;
  if (event = 'opened' and a.notified_at is not null) or (event = 'resolved' and a.resolution_notified_at is not null) then
    return null;
  end if;
  select * into r from ops.alert_rules where key = a.rule_key;
  if url is null or url = '' then
    insert into ops.system_logs (event_type, severity, source, message, context)
    values ('alert_notification_skipped', 'warning', 'alerting',
      'no alert_webhook_url in Vault: alert ' || event || ' without notification',
      jsonb_build_object('alert_id', a.id, 'rule', a.rule_key));
    return null;
  end if;

  headline := case event
    when 'opened' then format('[%s] %s', upper(r.severity), r.description)
    else format('[RESOLVED] %s', r.description) end;
  request_id := net.http_post(
    url := url,
    body := jsonb_build_object(
      'text', headline,
      'blocks', jsonb_build_array(
        jsonb_build_object('type', 'section', 'text', jsonb_build_object('type', 'mrkdwn',
          'text', format('*%s*%s', headline, case when event = 'resolved' then ' (' || a.resolution || ')' else '' end))),
        jsonb_build_object('type', 'section', 'text', jsonb_build_object('type', 'mrkdwn',
          'text', '```' || left(jsonb_pretty(a.details), 2500) || '```')),
        jsonb_build_object('type', 'context', 'elements', jsonb_build_array(jsonb_build_object('type', 'mrkdwn',
          'text', format('rule `%s` · alert %s · opened %s%s', a.rule_key, a.id,
            to_char(a.opened_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
            case when a.resolved_at is null then ''
              else ' · resolved ' || to_char(a.resolved_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') end)))))),
    headers := '{"Content-Type": "application/json"}'::jsonb,
    timeout_milliseconds := 5000);

  if event = 'opened' then
    update ops.alerts set notified_at = now(), notify_request_id = request_id where id = a.id;
  else
    update ops.alerts set resolution_notified_at = now(), resolution_notify_request_id = request_id where id = a.id;
  end if;
  return request_id;
end
$$;

-- Evaluates every rule: opens an alert (and notifies) when a condition starts to hold, keeps the
-- open alert's details current while it holds, resolves it (and notifies) when it stops or the
-- rule is disabled. A rule that fails to evaluate is logged and skipped, not fatal to the rest.
create function ops.evaluate_alerts() returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  r ops.alert_rules;
  verdict record;
  opened_id bigint;
  resolved_id bigint;
  opened text[] := '{}';
  resolved text[] := '{}';
begin
  -- Two overlapping runs would both see "no open alert"; the unique index would stop the second
  -- insert anyway, but waiting here keeps the run clean.
  perform pg_advisory_xact_lock(hashtext('ops.evaluate_alerts'));
  for r in select * from ops.alert_rules order by key loop
    if not r.enabled then
      update ops.alerts set resolved_at = now(), resolution = 'rule disabled'
      where rule_key = r.key and resolved_at is null
      returning id into resolved_id;
      if resolved_id is not null then
        perform ops.notify_alert(resolved_id, 'resolved');
        resolved := resolved || r.key;
      end if;
      continue;
    end if;

    begin
      select * into verdict from ops.check_alert_rule(r);
    exception when others then
      insert into ops.system_logs (event_type, severity, source, message, context)
      values ('alert_rule_failed', 'error', 'alerting', 'could not evaluate alert rule ' || r.key,
        jsonb_build_object('rule', r.key, 'error', sqlerrm, 'sqlstate', sqlstate));
      continue;
    end;

    if verdict.firing then
      opened_id := null;
      insert into ops.alerts (rule_key, details)
      values (r.key, verdict.details)
      on conflict (rule_key) where resolved_at is null do nothing
      returning id into opened_id;
      if opened_id is not null then
        perform ops.notify_alert(opened_id, 'opened');
        opened := opened || r.key;
      else
        update ops.alerts set details = verdict.details, last_evaluated_at = now()
        where rule_key = r.key and resolved_at is null;
      end if;
    else
      resolved_id := null;
      update ops.alerts set resolved_at = now(), resolution = 'condition cleared', last_evaluated_at = now(),
        details = details || jsonb_build_object('at_resolution', verdict.details)
      where rule_key = r.key and resolved_at is null
      returning id into resolved_id;
      if resolved_id is not null then
        perform ops.notify_alert(resolved_id, 'resolved');
        resolved := resolved || r.key;
      end if;
    end if;
  end loop;
  return jsonb_build_object('opened', to_jsonb(opened), 'resolved', to_jsonb(resolved));
end
$$;

-- An admin takes an open alert on. Errors: P0002 no such alert, CEA01 already resolved.
create function ops.acknowledge_alert(alert_id bigint, admin_id uuid) returns ops.alerts
language plpgsql volatile security definer set search_path = '' as $$
declare
  a ops.alerts;
begin
  select * into a from ops.alerts where id = alert_id for update;
  if a is null then
    raise exception 'alert not found' using errcode = 'P0002';
  end if;
  if a.resolved_at is not null then
    raise exception 'alert is already resolved' using errcode = 'CEA01';
  end if;
  update ops.alerts set acknowledged_at = coalesce(acknowledged_at, now()), acknowledged_by = coalesce(acknowledged_by, admin_id)
  where id = alert_id returning * into a;
  return a;
end
$$;

-- An admin closes an alert. If its condition still holds, the next evaluation opens a new one.
create function ops.resolve_alert(alert_id bigint, admin_id uuid, note text default null) returns ops.alerts
language plpgsql volatile security definer set search_path = '' as $$
declare
  a ops.alerts;
begin
  select * into a from ops.alerts where id = alert_id for update;
  if a is null then
    raise exception 'alert not found' using errcode = 'P0002';
  end if;
  if a.resolved_at is not null then
    raise exception 'alert is already resolved' using errcode = 'CEA01';
  end if;
  update ops.alerts set resolved_at = now(), resolved_by = admin_id,
    resolution = coalesce(nullif(btrim(note), ''), 'resolved by an administrator')
  where id = alert_id;
  perform ops.notify_alert(alert_id, 'resolved');
  select * into a from ops.alerts where id = alert_id;
  return a;
end
$$;

-- Section: functions (housekeeping)

-- Deletes what is older than each table's retention (ops.retention_policies).
create function ops.apply_retention() returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  p ops.retention_policies;
  n bigint;
  deleted jsonb := '{}'::jsonb;
begin
  for p in select * from ops.retention_policies order by table_name loop
    execute format('delete from %s where %I < now() - $1', p.table_name::regclass, p.time_column) using p.keep;
    get diagnostics n = row_count;
    deleted := deleted || jsonb_build_object(p.table_name, n);
  end loop;
  insert into ops.system_logs (event_type, severity, source, message, context)
  values ('retention_applied', 'info', 'retention', 'old operations rows deleted', deleted);
  return deleted;
end
$$;

-- Every minute: rate-limit windows that closed and cache entries that expired.
create function ops.cleanup_short_lived() returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  windows bigint;
  entries bigint;
begin
  delete from ops.rate_limits where window_start < date_trunc('minute', now()) - interval '1 minute';
  get diagnostics windows = row_count;
  delete from ops.response_cache where expires_at < now();
  get diagnostics entries = row_count;
  return jsonb_build_object('rate_limit_windows', windows, 'cache_entries', entries);
end
$$;

-- Section: triggers

-- Who belongs to a workspace decides what its members may see, so membership changes invalidate
-- the workspace's cached answers too.
select ops.invalidate_cache_on_change('public.workspaces', 'id');
select ops.invalidate_cache_on_change('public.workspace_members');

-- Section: grants

revoke all on function
  ops.latency_bucket_bounds(), ops.latency_bucket(integer),
  ops.histogram_quantile(smallint[], integer[], numeric, integer),
  ops.record_api_calls(jsonb, integer),
  ops.rollup_api_calls(timestamptz),
  ops.bump_cache_scope(text), ops.bump_workspace_cache_versions(),
  ops.invalidate_cache_on_change(regclass, name),
  ops.claim_health_probes(text[], interval), ops.record_health_probes(jsonb), ops.request_health_probe(),
  ops.api_metrics(timestamptz, text, text), ops.active_users(timestamptz), ops.measured_uptime(timestamptz),
  ops.database_metrics(), ops.source_counts(text, timestamptz), ops.youtube_quota_metrics(timestamptz),
  ops.admin_metrics(text, text),
  ops.check_alert_rule(ops.alert_rules), ops.notify_alert(bigint, text), ops.evaluate_alerts(),
  ops.acknowledge_alert(bigint, uuid), ops.resolve_alert(bigint, uuid, text),
  ops.apply_retention(), ops.cleanup_short_lived()
  from public, anon, authenticated;

grant execute on function
  ops.latency_bucket_bounds(), ops.latency_bucket(integer),
  ops.histogram_quantile(smallint[], integer[], numeric, integer),
  ops.record_api_calls(jsonb, integer),
  ops.rollup_api_calls(timestamptz),
  ops.bump_cache_scope(text),
  ops.claim_health_probes(text[], interval), ops.record_health_probes(jsonb), ops.request_health_probe(),
  ops.api_metrics(timestamptz, text, text), ops.active_users(timestamptz), ops.measured_uptime(timestamptz),
  ops.database_metrics(), ops.source_counts(text, timestamptz), ops.youtube_quota_metrics(timestamptz),
  ops.admin_metrics(text, text),
  ops.check_alert_rule(ops.alert_rules), ops.notify_alert(bigint, text), ops.evaluate_alerts(),
  ops.acknowledge_alert(bigint, uuid), ops.resolve_alert(bigint, uuid, text),
  ops.apply_retention(), ops.cleanup_short_lived()
  to service_role;

-- Trigger plumbing and DDL helpers are for migrations (postgres) only.
revoke all on function ops.bump_workspace_cache_versions(), ops.invalidate_cache_on_change(regclass, name)
  from service_role;

-- Section: schedules (pg_cron; minute granularity works on pg_cron 1.4 and on hosted 1.6)

select cron.schedule('ops-rollup-api-calls', '* * * * *', 'select ops.rollup_api_calls()');
select cron.schedule('ops-evaluate-alerts', '* * * * *', 'select ops.evaluate_alerts()');
select cron.schedule('ops-health-probe', '* * * * *', 'select ops.request_health_probe()');
select cron.schedule('ops-cleanup-short-lived', '* * * * *', 'select ops.cleanup_short_lived()');
select cron.schedule('ops-retention', '17 3 * * *', 'select ops.apply_retention()');
