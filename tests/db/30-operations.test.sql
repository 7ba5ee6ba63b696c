-- Operations (migrations 20261201000500 to 20261201001000, `ops_*`): ops grants nothing to the API roles; the rate-limit
-- counter is one upsert on the primary key; roll-ups are idempotent and metrics from roll-ups plus
-- raw rows are exact for a known set of calls; one open alert per rule, and an alert opens once,
-- notifies once (Slack JSON through net.http_post) and resolves; cache versions follow the data;
-- retention and the cron schedules exist.
begin;
select plan(84);

-- The pg_cron jobs of this database wait while the test runs, so that they neither roll up nor
-- evaluate half of what the test sets up.
select pg_advisory_xact_lock(hashtext('ops.rollup_api_calls'));
select pg_advisory_xact_lock(hashtext('ops.evaluate_alerts'));

-- Section: schema and grants

select has_table('ops', t, format('ops.%s exists', t))
from unnest(array['api_calls', 'api_calls_minute', 'api_calls_hour', 'user_last_seen', 'rollup_state', 'system_logs',
  'errors', 'health_probes', 'health_probe_leases', 'backups', 'alert_rules', 'alerts', 'rate_limits',
  'response_cache', 'cache_versions', 'retention_policies', 'metric_sources']) as t;

select is(
  array(select format('%s %s', c.relkind, c.oid::regclass) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'ops' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
          and (has_table_privilege(r, c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
               or (c.relkind = 'S' and has_sequence_privilege(r, c.oid, 'USAGE,SELECT,UPDATE')))
        order by 1),
  '{}'::text[], format('%s has no privilege on any ops table or sequence', r))
from unnest(array['anon', 'authenticated']) as r;

select is(
  array(select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'ops' and has_function_privilege(r, p.oid, 'EXECUTE') order by 1),
  '{}'::text[], format('%s can execute no ops function', r))
from unnest(array['public', 'anon', 'authenticated']) as r;

select ok(has_table_privilege('service_role', 'ops.api_calls', 'SELECT,INSERT')
  and has_function_privilege('service_role', 'ops.record_api_calls(jsonb, integer)', 'EXECUTE')
  and has_function_privilege('service_role', 'ops.admin_metrics(text, text)', 'EXECUTE'),
  'service_role reads and writes ops and runs its functions');

select is(
  array(select p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'ops' and not p.prosecdef order by 1),
  array['error_fingerprint', 'histogram_quantile', 'latency_bucket', 'latency_bucket_bounds', 'normalize_error_message'],
  'every ops function is security definer except the pure helpers');
select is(
  array(select p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'ops' and not coalesce(p.proconfig @> array['search_path=""'], false) order by 1),
  array['latency_bucket'],
  'every ops function has a fixed, empty search_path except the inlinable latency_bucket');

select is(array(select c.relname::text from pg_class c where c.relnamespace = 'ops'::regnamespace and c.relkind = 'r'
                and c.relpersistence = 'u' order by 1),
  array['anonymous_rate_limits', 'rate_limits', 'response_cache'], 'the cache and the rate-limit counters are unlogged (no WAL flush per request)');

-- Section: latency histogram

select is(
  array(select ops.latency_bucket(b)::integer from unnest(ops.latency_bucket_bounds()) b),
  array(select generate_series(1, 42)),
  'each bound falls into its own bucket');
select is(
  array(select ops.latency_bucket(b + 1)::integer from unnest(ops.latency_bucket_bounds()) b),
  array(select generate_series(2, 43)),
  'one millisecond more falls into the next bucket');
select is(ops.latency_bucket(0)::integer, 1, 'zero ms is in the first bucket');
select is(ops.histogram_quantile('{8,9}', '{19,1}', 0.95, 900), 10,
  'p95 of 19 calls of 10 ms and one of 900 ms is 10');
select is(ops.histogram_quantile('{8,43}', '{1,19}', 0.95, 61234), 61234,
  'p95 in the overflow bucket is the largest duration seen');

-- Section: rate-limit counter

select tests.create_user('ops_rl_a');
select tests.create_user('ops_rl_b');
-- The statement _shared/platform/rate-limit.ts sends for every request of a signed-in user.
create function pg_temp.count_request(uid uuid)
returns table (request_count integer, resets_at timestamptz, retry_after_seconds integer) language sql as $$
  insert into ops.rate_limits as r (user_id, window_start, count)
  values (uid, date_trunc('minute', now()), 1)
  on conflict (user_id, window_start) do update set count = r.count + 1
  returning r.count as request_count, r.window_start + interval '1 minute' as resets_at,
    greatest(1, ceil(extract(epoch from r.window_start + interval '1 minute' - now())))::integer as retry_after_seconds
$$;
select is((select request_count from pg_temp.count_request(tests.get_user_id('ops_rl_a'))), 1, 'first request of the minute counts 1');
select is((select request_count from pg_temp.count_request(tests.get_user_id('ops_rl_a'))), 2, 'the second counts 2');
select is((select request_count from pg_temp.count_request(tests.get_user_id('ops_rl_b'))), 1, 'another user has their own count');
select ok((select resets_at = date_trunc('minute', now()) + interval '1 minute' and retry_after_seconds between 1 and 60
           from pg_temp.count_request(tests.get_user_id('ops_rl_b'))),
  'the window is the current minute; retry-after is the seconds left in it');
select is((select count(*) from ops.rate_limits where user_id = tests.get_user_id('ops_rl_a')), 1::bigint,
  'one row per user and minute, however many requests');
select col_is_pk('ops', 'rate_limits', array['user_id', 'window_start'], 'the counter''s key is (user, minute)');

create function pg_temp.plan_of(statement text) returns text language plpgsql as $$
declare
  line text;
  plan text := '';
begin
  for line in execute 'explain ' || statement loop
    plan := plan || line || E'\n';
  end loop;
  return plan;
end
$$;
select matches(
  pg_temp.plan_of($$insert into ops.rate_limits as r (user_id, window_start, count)
    values (gen_random_uuid(), date_trunc('minute', now()), 1)
    on conflict (user_id, window_start) do update set count = r.count + 1 returning r.count$$),
  'Conflict Arbiter Indexes: rate_limits_pkey', 'its conflict arbiter is the primary key');
select doesnt_match(
  pg_temp.plan_of($$insert into ops.rate_limits as r (user_id, window_start, count)
    values (gen_random_uuid(), date_trunc('minute', now()), 1)
    on conflict (user_id, window_start) do update set count = r.count + 1 returning r.count$$),
  'Seq Scan', 'and it scans nothing');

insert into ops.rate_limits (user_id, window_start, count)
values (tests.get_user_id('ops_rl_a'), date_trunc('minute', now()) - interval '5 minutes', 7);
select ops.cleanup_short_lived();
select is(
  (select array_agg(count order by window_start) from ops.rate_limits where user_id = tests.get_user_id('ops_rl_a')),
  array[2], 'cleanup removes closed windows and keeps the current one');

-- Section: roll-ups and metrics for a known set of calls

-- 20 calls three minutes ago (19 of 10 ms, one 500 of 900 ms) and 5 of 20 ms in the open minute.
insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, user_id, request_id)
select date_trunc('minute', now()) - interval '3 minutes' + i * interval '1 second', 'pgtap-metrics', '/items/:id', 'GET',
  case when i = 20 then 500 else 200 end, case when i = 20 then 900 else 10 end,
  tests.get_user_id('ops_rl_a'), 'pgtap-' || i
from generate_series(1, 20) i;
insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, user_id, request_id)
select now(), 'pgtap-metrics', '/', 'POST', case when i = 1 then 429 else 201 end, 20, tests.get_user_id('ops_rl_b'), 'pgtap-tail-' || i
from generate_series(1, 5) i;

select ops.rollup_api_calls();
select ops.rollup_api_calls();
select is(
  (select jsonb_build_object('calls', calls, 'errors', errors, 'total_ms', total_ms, 'max_ms', max_ms, 'p95_ms', p95_ms,
     'buckets', latency_buckets, 'counts', latency_counts)
   from ops.api_calls_minute where function_name = 'pgtap-metrics' and endpoint = '/items/:id'),
  jsonb_build_object('calls', 20, 'errors', 1, 'total_ms', 1090, 'max_ms', 900, 'p95_ms', 10,
     'buckets', array[8, 28], 'counts', array[19, 1]),
  'a closed minute is rolled up once, with its histogram, however often the roll-up runs');
select is(
  (select calls from ops.api_calls_hour where function_name = 'pgtap-metrics' and endpoint = '/items/:id'), 20,
  'and its hour row counts it once too');
select is((select count(*) from ops.api_calls_minute where function_name = 'pgtap-metrics' and endpoint = '/'), 0::bigint,
  'the open minute is not rolled up');

select is(
  (select jsonb_build_object('total', m -> 'total_requests', 'errors', m -> 'server_errors', 'rate_limited', m -> 'rate_limited',
     'error_rate', m -> 'error_rate', 'avg', m -> 'avg_response_time', 'p95', m -> 'p95_response_time', 'max', m -> 'max_response_time')
   from ops.api_metrics(date_trunc('minute', now()) - interval '1 hour', 'minute', 'pgtap-metrics') m),
  '{"total": 25, "errors": 1, "rate_limited": 1, "error_rate": 4.00, "avg": 47.6, "p95": 20, "max": 900}'::jsonb,
  'minute roll-ups plus the raw tail give the exact figures (25 calls, 1 error, avg 47.6, p95 20)');
select is(
  (select m - 'slowest_endpoints' - 'series' from ops.api_metrics(date_trunc('hour', now() - interval '24 hours'), 'hour', 'pgtap-metrics') m),
  (select m - 'slowest_endpoints' - 'series' from ops.api_metrics(date_trunc('minute', now()) - interval '1 hour', 'minute', 'pgtap-metrics') m),
  'hour roll-ups plus the tail give the same figures');
select is(
  (select jsonb_agg(jsonb_build_object('endpoint', e ->> 'endpoint', 'calls', e -> 'calls', 'p95', e -> 'p95_response_time'))
   from ops.api_metrics(date_trunc('minute', now()) - interval '1 hour', 'minute', 'pgtap-metrics') m,
     jsonb_array_elements(m -> 'slowest_endpoints') e),
  '[{"endpoint": "/", "calls": 5, "p95": 20}, {"endpoint": "/items/:id", "calls": 20, "p95": 10}]'::jsonb,
  'slowest endpoints are ranked by p95');
select is(
  (select sum((p ->> 'requests')::int) from ops.api_metrics(date_trunc('minute', now()) - interval '1 hour', 'minute', 'pgtap-metrics') m,
     jsonb_array_elements(m -> 'series') p),
  25::bigint, 'the time series adds up to the total');
select ok(ops.active_users(date_trunc('minute', now()) - interval '1 hour') >= 2, 'active users counts callers');
select is(
  (select m -> 'application' -> 'total_requests' from ops.admin_metrics('1h', 'pgtap-metrics') m), '25'::jsonb,
  'admin_metrics answers the same figures for a window name');
select throws_ok($$select ops.admin_metrics('2h')$$, '22023', null, 'an unknown window is refused');
select ok((select m ? 'database' and m ? 'api_usage' and m ? 'user_activity' and m ? 'errors' and m ? 'series'
           and m -> 'database' ? 'active_connections' and m -> 'database' ? 'database_size_mb'
           from ops.admin_metrics('24h') m), 'admin_metrics has every section');

-- Section: measured uptime and probe leases

insert into ops.health_probes (service, status, response_time_ms, checked_at)
select 'database', case when i = 4 then 'unhealthy' else 'healthy' end, 3, now() + interval '1 day' + i * interval '1 second'
from generate_series(1, 4) i;
select is((ops.measured_uptime(now() + interval '1 day') ->> 'uptime_percentage')::numeric, 75.000,
  'uptime is the share of stored probes that were not unhealthy');
select is(array(select claimed from ops.claim_health_probes(array['pgtap-a', 'pgtap-b']) order by service), array[true, true],
  'a free probe lease is claimed');
select is(array(select claimed from ops.claim_health_probes(array['pgtap-a', 'pgtap-b']) order by service), array[false, false],
  'and nobody else claims it within 30 s');

-- Section: alerts

-- A rule over this test's own calls, so that nothing else running on the database can tip it.
insert into ops.alert_rules (key, kind, description, threshold, window_size, min_samples, severity, function_name)
values ('pgtap_error_rate', 'error_rate', 'pgTAP: more than 5 % errors', 5, '5 minutes', 20, 'critical', 'pgtap-alerts');
select lives_ok($$insert into ops.alerts (rule_key) values ('pgtap_error_rate')$$, 'an alert opens');
select throws_ok($$insert into ops.alerts (rule_key) values ('pgtap_error_rate')$$, '23505', null,
  'a second open alert for the same rule is refused');
delete from ops.alerts where rule_key = 'pgtap_error_rate';

do $$
begin
  if exists (select 1 from vault.secrets where name = 'alert_webhook_url') then
    perform vault.update_secret((select id from vault.secrets where name = 'alert_webhook_url'), 'http://127.0.0.1:9/pgtap-alerts');
  else
    perform vault.create_secret('http://127.0.0.1:9/pgtap-alerts', 'alert_webhook_url');
  end if;
end
$$;
create function pg_temp.notifications(rule text) returns setof jsonb language sql as $$
  select convert_from(q.body, 'UTF8')::jsonb from net.http_request_queue q
  where q.url = 'http://127.0.0.1:9/pgtap-alerts' and convert_from(q.body, 'UTF8') like '%rule `' || rule || '`%'
  order by q.id
$$;

insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, request_id)
select now() - interval '1 minute', 'pgtap-alerts', '/', 'GET', case when i <= 60 then 500 else 200 end, 5, 'pgtap-alert-' || i
from generate_series(1, 100) i;
select ok((select ops.evaluate_alerts() -> 'opened' ? 'pgtap_error_rate'), 'an error rate of 60 % opens the alert');
select ok(not (select ops.evaluate_alerts() -> 'opened' ? 'pgtap_error_rate'), 'evaluating again opens nothing');
select is((select count(*) from ops.alerts where rule_key = 'pgtap_error_rate' and resolved_at is null), 1::bigint,
  'one open alert for the rule');
select is((select count(*) from pg_temp.notifications('pgtap_error_rate')), 1::bigint, 'one notification was sent for it');
select ok((select n ->> 'text' like '[CRITICAL]%' and jsonb_typeof(n -> 'blocks') = 'array'
           from pg_temp.notifications('pgtap_error_rate') n),
  'the notification is Slack-compatible JSON: text and blocks');
select ok((select notified_at is not null and notify_request_id is not null and (details ->> 'error_rate')::numeric = 60
           from ops.alerts where rule_key = 'pgtap_error_rate' and resolved_at is null),
  'the alert records its figures and the notification');

delete from ops.api_calls where function_name = 'pgtap-alerts';
select ok((select ops.evaluate_alerts() -> 'resolved' ? 'pgtap_error_rate'), 'when the condition clears the alert resolves');
select is((select resolution from ops.alerts where rule_key = 'pgtap_error_rate' order by id desc limit 1), 'condition cleared',
  'and says why');
select is((select count(*) from pg_temp.notifications('pgtap_error_rate')), 2::bigint, 'the resolution is notified once');
select ok((select n ->> 'text' like '[RESOLVED]%' from pg_temp.notifications('pgtap_error_rate') n offset 1), 'as resolved');
select ok(not (select ops.evaluate_alerts() -> 'resolved' ? 'pgtap_error_rate'), 'evaluating again changes nothing');
select is((select count(*) from pg_temp.notifications('pgtap_error_rate')), 2::bigint, 'and sends nothing more');

insert into ops.alerts (rule_key) values ('pgtap_error_rate');
select is((select acknowledged_by from ops.acknowledge_alert(
    (select id from ops.alerts where rule_key = 'pgtap_error_rate' and resolved_at is null), tests.get_user_id('ops_rl_a'))),
  tests.get_user_id('ops_rl_a'), 'an admin acknowledges an open alert');
select ok((select resolved_by = tests.get_user_id('ops_rl_a') and resolution = 'false alarm' and resolution_notified_at is not null
           from ops.resolve_alert((select id from ops.alerts where rule_key = 'pgtap_error_rate' and resolved_at is null),
             tests.get_user_id('ops_rl_a'), 'false alarm')),
  'an admin resolves it with a note, and the resolution is notified');
select throws_ok(
  format('select ops.resolve_alert(%s, %L)', (select max(id) from ops.alerts where rule_key = 'pgtap_error_rate'), tests.get_user_id('ops_rl_a')),
  'CEA01', null, 'a resolved alert cannot be resolved again');

delete from ops.backups;
select ok((select firing from ops.check_alert_rule((select r from ops.alert_rules r where key = 'backup_missing'))),
  'no successful backup: backup_missing fires');
insert into ops.backups (status, started_at, finished_at) values ('succeeded', now() - interval '2 hours', now() - interval '1 hour');
select ok(not (select firing from ops.check_alert_rule((select r from ops.alert_rules r where key = 'backup_missing'))),
  'a backup an hour ago: it does not');

select tests.create_user('ops_quota');
insert into public.youtube_quota_usage (workspace_id, day, endpoint, units, calls)
select m.workspace_id, (now() at time zone 'America/Los_Angeles')::date, 'pgtap.list', 1000000, 1
from public.workspace_members m where m.user_id = tests.get_user_id('ops_quota');
select ok((select firing from ops.check_alert_rule((select r from ops.alert_rules r where key = 'youtube_quota'))),
  'quota spent beyond 90 % of the budget fires youtube_quota');
select lives_ok($$select ops.check_alert_rule(r) from ops.alert_rules r where r.key in ('failed_jobs', 'channels_reauth')$$,
  'rules over tables of later features evaluate without error, present or not');

-- Section: cache versions

select tests.create_user('ops_cache');
create temp table ops_cache_ws as
  select m.workspace_id as id from public.workspace_members m where m.user_id = tests.get_user_id('ops_cache');
create temp table ops_cache_before as
  select coalesce((select version from ops.cache_versions where scope = (select id::text from ops_cache_ws)), 0) as v;
update public.workspaces set name = 'Renamed for the cache test' where id = (select id from ops_cache_ws);
select is((select version from ops.cache_versions where scope = (select id::text from ops_cache_ws)),
  (select v + 1 from ops_cache_before), 'changing a workspace bumps its cache version once');
update public.workspaces set name = name where id = (select id from ops_cache_ws);
select is((select version from ops.cache_versions where scope = (select id::text from ops_cache_ws)),
  (select v + 2 from ops_cache_before), 'every statement that touches it bumps again');
select throws_ok($$insert into ops.response_cache (key, status, body, expires_at) values ('k', 200, '\x', now() + interval '6 minutes')$$,
  '23514', null, 'nothing is cached for more than 5 minutes');
select throws_ok($$select ops.invalidate_cache_on_change('ops.rate_limits')$$, '42703', null,
  'opting a table in needs its workspace column');

-- Section: retention and schedules

insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, request_id)
values (now() - interval '31 days', 'pgtap-retention', '/', 'GET', 200, 1, 'pgtap-old'),
       (now() - interval '29 days', 'pgtap-retention', '/', 'GET', 200, 1, 'pgtap-kept');
select ops.apply_retention();
select is(array(select request_id from ops.api_calls where function_name = 'pgtap-retention'), array['pgtap-kept'],
  'retention deletes calls older than 30 days and keeps the rest');

select is(
  array(select jobname::text from cron.job where jobname like 'ops-%' order by 1),
  array['ops-cleanup-short-lived', 'ops-deliver-alerts', 'ops-evaluate-alerts', 'ops-health-probe', 'ops-retention', 'ops-rollup-api-calls'],
  'pg_cron runs roll-ups, alerts and their delivery, health probes, cleanup and retention');

-- Section: recording calls in batches

select is(ops.record_api_calls(jsonb_build_array(
    jsonb_build_object('age_ms', 0, 'function_name', 'rec-test', 'endpoint', '/', 'method', 'GET', 'status', 200,
      'duration_ms', 12, 'request_id', 'rec-test-fresh'),
    jsonb_build_object('age_ms', 90000, 'function_name', 'rec-test', 'endpoint', '/:id', 'method', 'PATCH', 'status', 500,
      'duration_ms', 2500, 'user_id', gen_random_uuid(), 'request_id', 'rec-test-old-slow')), 2000),
  2, 'one statement records a batch of calls');
select ok((select now() - at between interval '89 seconds' and interval '91 seconds' from ops.api_calls where request_id = 'rec-test-old-slow')
    and (select at = now() from ops.api_calls where request_id = 'rec-test-fresh'),
  'a call''s time is the database''s clock less the age the function measured');
select results_eq(
  $$select event_type, severity, message, (context ->> 'api_call_id')::bigint = (select id from ops.api_calls where request_id = 'rec-test-old-slow')
    from ops.system_logs where source = 'rec-test'$$,
  $$values ('slow_api_call'::text, 'warning'::text, 'PATCH rec-test/:id took 2500 ms'::text, true)$$,
  'only the call over slow_ms also writes a warning, pointing at its row');

select * from finish();
rollback;
