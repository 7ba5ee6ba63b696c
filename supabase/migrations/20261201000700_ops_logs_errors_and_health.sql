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
--
-- Health is polled by monitors, load balancers and pg_cron as often as they like, and every call
-- wrote to the database: claim_health_probes' upsert takes a row lock on each lease row (a write,
-- recorded in the row and the WAL) even when the lease is current and nothing is claimed. Now a
-- call first looks, read-only, whether any lease has run out; only then does it take the upsert
-- path. Within the 30 s lease a health call is one read, whatever the polling rate. Same
-- signature and answers as before.

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

create table ops.error_fingerprints (
  fingerprint text primary key check (fingerprint ~ '^[0-9a-f]{32}$'),
  name text not null,
  operation text not null,
  message text not null,          -- the normalised message the fingerprint is made of
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  occurrences bigint not null default 1 check (occurrences > 0),
  first_request_id text,
  last_request_id text
);

create index error_fingerprints_last_seen_at_idx on ops.error_fingerprints (last_seen_at desc);

alter table ops.errors add column fingerprint text;

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

revoke all on function ops.record_api_calls(jsonb, integer) from public, anon, authenticated;

grant execute on function ops.record_api_calls(jsonb, integer) to service_role;

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

revoke all on function ops.record_health_probes(jsonb) from public, anon, authenticated;

grant execute on function ops.record_health_probes(jsonb) to service_role;

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

revoke all on function ops.request_health_probe() from public, anon, authenticated;

grant execute on function ops.request_health_probe() to service_role;

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

revoke all on function ops.measured_uptime(timestamptz) from public, anon, authenticated;

grant execute on function ops.measured_uptime(timestamptz) to service_role;

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

revoke all on function ops.apply_retention() from public, anon, authenticated;

grant execute on function ops.apply_retention() to service_role;

create function ops.verify_error_attribution() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  named uuid;
  kept uuid;
begin
  if jsonb_typeof(new.context -> 'workspace_id') = 'string' then
    -- Only what a uuid column would hold is kept; anything else is no attribution at all.
    if new.context ->> 'workspace_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then
      named := (new.context ->> 'workspace_id')::uuid;
      kept := ops.attributed_workspace(
        case when new.context ->> 'user_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
             then (new.context ->> 'user_id')::uuid end,
        named);
    end if;
    if kept is null then
      new.context := jsonb_set(new.context, '{workspace_id}', 'null'::jsonb);
    end if;
  end if;
  return new;
end
$$;

revoke all on function ops.verify_error_attribution() from public;

-- The message without what differs between two occurrences of the same fault: UUIDs, e-mail
-- addresses, long hex strings, timestamps, numbers and single-quoted values. Digits within a word
-- stay (`e2e`, `sha256`, `oauth2`); double-quoted names stay too: in Postgres messages they name
-- the relation or column, which is the kind of fault.
create function ops.normalize_error_message(message text) returns text
language sql immutable parallel safe set search_path = '' as $$
  select left(btrim(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
      coalesce(message, ''),
      '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),
      '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
      '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?', '<time>', 'g'),
      '''[^'']*''', '<value>', 'g'),
      '\m[0-9a-fA-F]{8,}\M', '<hex>', 'g'),
      '(^|[^A-Za-z0-9_])\d+(\.\d+)?', '\1<n>', 'g'),
    '\s+', ' ', 'g')), 300)
$$;

revoke all on function ops.normalize_error_message(text) from public, anon, authenticated;

grant execute on function ops.normalize_error_message(text) to service_role;

create function ops.error_fingerprint(name text, operation text, message text) returns text
language sql immutable parallel safe set search_path = '' as $$
  select md5(coalesce(name, '') || E'\n' || ops.normalize_error_message(operation) || E'\n' || ops.normalize_error_message(message))
$$;

revoke all on function ops.error_fingerprint(text, text, text) from public, anon, authenticated;

grant execute on function ops.error_fingerprint(text, text, text) to service_role;

create function ops.claim_health_probes(services text[], lease interval default interval '30 seconds')
returns table (service text, claimed boolean, status text, response_time_ms integer, error text, checked_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
begin
  if not exists (
    select 1 from unnest(services) as s(s)
    left join ops.health_probe_leases l on l.service = s.s
    where l.leased_until is null or l.leased_until <= now()
  ) then
    return query
    select s.s, false, p.status, p.response_time_ms, p.error, p.checked_at
    from unnest(services) as s(s)
    left join lateral (
      select hp.status, hp.response_time_ms, hp.error, hp.checked_at from ops.health_probes hp
      where hp.service = s.s order by hp.checked_at desc limit 1
    ) p on true;
    return;
  end if;
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

revoke all on function ops.claim_health_probes(text[], interval) from public, anon, authenticated;

grant execute on function ops.claim_health_probes(text[], interval) to service_role;

select cron.schedule('ops-health-probe', '* * * * *', 'select ops.request_health_probe()');

select cron.schedule('ops-retention', '17 3 * * *', 'select ops.apply_retention()');

create trigger verify_error_attribution
  before insert on ops.errors
  for each row execute function ops.verify_error_attribution();
