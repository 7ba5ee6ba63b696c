-- Per-client limits for calls without a verified token.
--
-- Users are limited per account (ops.rate_limits); anonymous callers of the public routes
-- (health, youtube-oauth/callback, revid-webhook) were not limited at all, and one client sent
-- ~1,500 calls a second. They are now counted per client address and minute, with the same
-- one-statement upsert as the user counter (_shared/anonymous-limit.ts), and refused with 429
-- past MAX_ANONYMOUS_REQUESTS_PER_MINUTE. The address is the one the platform's gateway appends
-- to X-Forwarded-For, never one the caller wrote. An IPv6 client is counted per /64, the block
-- one subscriber usually gets, so that cycling through its own addresses gains nothing.
--
-- A roll-up rebuild over sparse calls no longer goes quadratic. bench/scaling (admin) found
-- ops.rollup_api_calls(now() - interval '31 days') on 20,000 calls spread over 30 days still
-- running after 4 minutes (100,000 calls: over 6): the planner estimates the grouped CTEs
-- (counters, histograms, p95) at a few hundred rows and joins them with a nested loop that
-- rescans one aggregate per row of the other, one pass per (minute, endpoint) group. Dense
-- traffic happened to get hash joins. The every-minute run reads a few minutes and never noticed;
-- a rebuild (after a restore, or the first run over existing calls, when rollup_state is empty)
-- holds the roll-up's advisory lock meanwhile, so admin metrics stop advancing. Every statement of
-- the function is a set-wide aggregate or upsert, so nested loops never pay here: with them off
-- the same 20,000 calls roll up in 2 s.

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

create unlogged table ops.anonymous_rate_limits (
  client cidr not null,
  window_start timestamptz not null,
  count integer not null,
  primary key (client, window_start)
);

create index anonymous_rate_limits_window_start_idx on ops.anonymous_rate_limits (window_start);

revoke all on ops.anonymous_rate_limits from public, anon, authenticated;

-- Makes every cached answer of a scope unreachable (the version is part of the key).
create function ops.bump_cache_scope(scope text) returns bigint
language sql volatile security definer set search_path = '' as $$
  insert into ops.cache_versions as v (scope, version, bumped_at) values (bump_cache_scope.scope, 1, now())
  on conflict (scope) do update set version = v.version + 1, bumped_at = now()
  returning v.version
$$;

revoke all on function ops.bump_cache_scope(text) from public, anon, authenticated;

grant execute on function ops.bump_cache_scope(text) to service_role;

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

revoke all on function ops.bump_workspace_cache_versions() from public, anon, authenticated;

-- Trigger plumbing and DDL helpers are for migrations (postgres) only.
revoke all on function ops.bump_workspace_cache_versions() from service_role;

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

revoke all on function ops.invalidate_cache_on_change(regclass, name) from public, anon, authenticated;

revoke all on function ops.invalidate_cache_on_change(regclass, name) from service_role;

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

revoke all on function ops.rollup_api_calls(timestamptz) from public, anon, authenticated;

grant execute on function ops.rollup_api_calls(timestamptz) to service_role;

create function ops.rollup_api_calls_fine(rebuild_from timestamptz default null)
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

revoke all on function ops.rollup_api_calls_fine(timestamptz) from public, anon, authenticated;

grant execute on function ops.rollup_api_calls_fine(timestamptz) to service_role;

alter function ops.rollup_api_calls_fine(timestamptz) set enable_nestloop = off;

revoke all on function ops.rollup_api_calls_fine(timestamptz) from public, anon, authenticated;

revoke all on function ops.rollup_api_calls_fine(timestamptz) from service_role;

-- The every-minute clean-up also drops closed anonymous windows (the original, plus that).
create function ops.cleanup_short_lived() returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  windows bigint;
  anonymous_windows bigint;
  entries bigint;
begin
  delete from ops.rate_limits where window_start < date_trunc('minute', now()) - interval '1 minute';
  get diagnostics windows = row_count;
  delete from ops.anonymous_rate_limits where window_start < date_trunc('minute', now()) - interval '1 minute';
  get diagnostics anonymous_windows = row_count;
  delete from ops.response_cache where expires_at < now();
  get diagnostics entries = row_count;
  return jsonb_build_object('rate_limit_windows', windows, 'anonymous_rate_limit_windows', anonymous_windows,
    'cache_entries', entries);
end
$$;

revoke all on function ops.cleanup_short_lived() from public, anon, authenticated;

grant execute on function ops.cleanup_short_lived() to service_role;

-- Who belongs to a workspace decides what its members may see, so membership changes invalidate
-- the workspace's cached answers too.
select ops.invalidate_cache_on_change('public.workspaces', 'id');

select ops.invalidate_cache_on_change('public.workspace_members');

select cron.schedule('ops-rollup-api-calls', '* * * * *', 'select ops.rollup_api_calls()');

select cron.schedule('ops-cleanup-short-lived', '* * * * *', 'select ops.cleanup_short_lived()');

-- Every table the document reads bumps the workspace's version when written.
select ops.invalidate_cache_on_change('public.channels');

select ops.invalidate_cache_on_change('public.videos');

select ops.invalidate_cache_on_change('public.video_metrics');

select ops.invalidate_cache_on_change('public.performance_scores');

select ops.invalidate_cache_on_change('public.performance_score_history');
