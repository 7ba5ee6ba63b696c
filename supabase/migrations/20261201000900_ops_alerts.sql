-- Alerts that are delivered. Before, ops.notify_alert posted the webhook once through pg_net and
-- never read the answer: a webhook that answered 500, timed out or was unreachable lost the alert
-- without a trace. Now every notification is a row of ops.alert_deliveries (the outbox), written
-- in the same transaction as the event it reports, and a delivery is finished only by the
-- webhook's own answer:
--
--   pending ──send (net.http_post)──▶ sending ──2xx in net._http_response──▶ delivered
--      ▲                                 │
--      └── other status, transport error,┘ (after max_attempts: failed)
--          or no response recorded within 2 minutes; next try after 1, 2, 4, 8, 16 … minutes
--
-- The first attempt is made at once (pg_net sends it when the transaction commits), so an alert
-- is not a minute later than before; the pg_cron job `ops-deliver-alerts` reads the answers and
-- makes the retries. The webhook URL is read from Vault at each attempt and never copied into the
-- outbox (a Slack webhook URL is a credential, and a rotated URL applies to retries too).
--
-- New kinds of unhandled error: every ops.errors row gets a fingerprint (error name + operation
-- + message with ids, numbers and quoted values taken out), ops.error_fingerprints counts them per
-- fingerprint, and the first row of a fingerprint queues one notification, in the transaction
-- that records the error. A kind that is already known is counted, never notified again.

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

create table ops.alert_deliveries (
  id bigserial primary key,
  alert_id bigint references ops.alerts (id) on delete cascade,
  error_fingerprint text references ops.error_fingerprints (fingerprint) on delete cascade,
  event text not null check (event in ('opened', 'resolved', 'new_error')),
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'sending', 'delivered', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 6 check (max_attempts between 1 and 20),
  next_attempt_at timestamptz default now(),
  request_id bigint,              -- net.http_post request of the attempt in flight or last made
  sent_at timestamptz,
  last_status_code integer,
  last_error text,
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  -- an alert's events or a new error kind, never both
  check ((alert_id is null) <> (error_fingerprint is null)),
  check ((event = 'new_error') = (error_fingerprint is not null)),
  check ((status in ('delivered', 'failed')) = (finished_at is not null)),
  check (status <> 'pending' or next_attempt_at is not null),
  check (status <> 'sending' or (request_id is not null and sent_at is not null))
);

-- Once per event of an alert and once per error kind.
create unique index alert_deliveries_alert_event_idx on ops.alert_deliveries (alert_id, event) where alert_id is not null;

create unique index alert_deliveries_fingerprint_idx on ops.alert_deliveries (error_fingerprint) where error_fingerprint is not null;

-- What the delivery job reads every minute: the unfinished rows only.
create index alert_deliveries_unfinished_idx on ops.alert_deliveries (status, next_attempt_at) where finished_at is null;

create index alert_deliveries_created_at_idx on ops.alert_deliveries (created_at desc);

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

revoke all on function ops.database_metrics() from public, anon, authenticated;

grant execute on function ops.database_metrics() to service_role;

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

revoke all on function ops.admin_metrics(text, text) from public, anon, authenticated;

grant execute on function ops.admin_metrics(text, text) to service_role;

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

revoke all on function ops.check_alert_rule(ops.alert_rules) from public, anon, authenticated;

grant execute on function ops.check_alert_rule(ops.alert_rules) to service_role;

-- Records an attempt that did not deliver: retried after 1, 2, 4 … minutes (at most an hour), or
-- failed for good once max_attempts are spent.
create function ops.alert_delivery_attempt_failed(delivery_id bigint, status_code integer, error text)
returns ops.alert_deliveries
language plpgsql volatile security definer set search_path = '' as $$
declare
  d ops.alert_deliveries;
begin
  update ops.alert_deliveries set
    last_status_code = status_code,
    last_error = left(error, 500),
    status = case when attempts >= max_attempts then 'failed' else 'pending' end,
    finished_at = case when attempts >= max_attempts then now() end,
    next_attempt_at = case when attempts >= max_attempts then null
      else now() + least(interval '1 minute' * power(2, greatest(attempts - 1, 0)), interval '1 hour') end
  where id = delivery_id
  returning * into d;
  if d.status = 'failed' then
    insert into ops.system_logs (event_type, severity, source, message, context)
    values ('alert_delivery_failed', 'error', 'alerting',
      format('alert delivery %s failed after %s attempts', d.id, d.attempts),
      jsonb_build_object('delivery_id', d.id, 'alert_id', d.alert_id, 'event', d.event,
        'last_status_code', d.last_status_code, 'last_error', d.last_error));
  end if;
  return d;
end
$$;

revoke all on function ops.alert_delivery_attempt_failed(bigint, integer, text) from public, anon, authenticated;

grant execute on function ops.alert_delivery_attempt_failed(bigint, integer, text) to service_role;

-- One attempt: posts the payload to the webhook URL in Vault. pg_net sends it after the calling
-- transaction commits; its answer is read by ops.collect_alert_delivery_responses.
create function ops.send_alert_delivery(delivery_id bigint) returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  d ops.alert_deliveries;
  url text := (select s.decrypted_secret from vault.decrypted_secrets s where s.name = 'alert_webhook_url' limit 1);
  req bigint;
begin
  select * into d from ops.alert_deliveries where id = delivery_id for update;
  if d is null then
    raise exception 'no alert delivery %', delivery_id using errcode = 'P0002';
  end if;
  if d.status <> 'pending' then
    return null;
  end if;
  update ops.alert_deliveries set attempts = attempts + 1 where id = delivery_id;
  if url is null or url = '' then
    perform ops.alert_delivery_attempt_failed(delivery_id, null, 'no alert_webhook_url in Vault');
    return null;
  end if;
  req := net.http_post(
    url := url,
    body := d.payload,
    headers := '{"Content-Type": "application/json"}'::jsonb,
    timeout_milliseconds := 5000);
  update ops.alert_deliveries set status = 'sending', request_id = req, sent_at = now(), next_attempt_at = null
  where id = delivery_id;
  return req;
end
$$;

revoke all on function ops.send_alert_delivery(bigint) from public, anon, authenticated;

grant execute on function ops.send_alert_delivery(bigint) to service_role;

-- Queues a notification and makes its first attempt. Without a webhook URL in Vault nothing is
-- queued: it logs that it could not notify (as before), since no attempt could ever succeed.
create function ops.queue_alert_delivery(alert_id bigint, error_fingerprint text, event text, payload jsonb)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  delivery_id bigint;
begin
  if not exists (select 1 from vault.decrypted_secrets s where s.name = 'alert_webhook_url' and coalesce(s.decrypted_secret, '') <> '') then
    insert into ops.system_logs (event_type, severity, source, message, context)
    values ('alert_notification_skipped', 'warning', 'alerting',
      'no alert_webhook_url in Vault: ' || event || ' without notification',
      jsonb_build_object('alert_id', alert_id, 'error_fingerprint', error_fingerprint, 'event', event));
    return null;
  end if;
  insert into ops.alert_deliveries (alert_id, error_fingerprint, event, payload)
  values (alert_id, error_fingerprint, event, payload)
  on conflict do nothing
  returning id into delivery_id;
  if delivery_id is null then
    return null;
  end if;
  return ops.send_alert_delivery(delivery_id);
end
$$;

revoke all on function ops.queue_alert_delivery(bigint, text, text, jsonb) from public, anon, authenticated;

grant execute on function ops.queue_alert_delivery(bigint, text, text, jsonb) to service_role;

-- The Slack-compatible message about an alert opening or resolving, as before, now queued in the
-- outbox. The request id and time of the first attempt are stored on the alert; a second call for
-- the same event is a no-op.
create function ops.notify_alert(alert_id bigint, event text) returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  a ops.alerts;
  r ops.alert_rules;
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
  headline := case event
    when 'opened' then format('[%s] %s', upper(r.severity), r.description)
    else format('[RESOLVED] %s', r.description) end;
  request_id := ops.queue_alert_delivery(a.id, null, event, jsonb_build_object(
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
            else ' · resolved ' || to_char(a.resolved_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') end)))))));
  if request_id is null then
    return null;
  end if;
  if event = 'opened' then
    update ops.alerts set notified_at = now(), notify_request_id = request_id where id = a.id;
  else
    update ops.alerts set resolution_notified_at = now(), resolution_notify_request_id = request_id where id = a.id;
  end if;
  return request_id;
end
$$;

revoke all on function ops.notify_alert(bigint, text) from public, anon, authenticated;

grant execute on function ops.notify_alert(bigint, text) to service_role;

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

revoke all on function ops.evaluate_alerts() from public, anon, authenticated;

grant execute on function ops.evaluate_alerts() to service_role;

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

revoke all on function ops.acknowledge_alert(bigint, uuid) from public, anon, authenticated;

grant execute on function ops.acknowledge_alert(bigint, uuid) to service_role;

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

revoke all on function ops.resolve_alert(bigint, uuid, text) from public, anon, authenticated;

grant execute on function ops.resolve_alert(bigint, uuid, text) to service_role;

-- Reads pg_net's answers to the attempts in flight: 2xx delivers; any other status, a transport
-- error or a timeout is a failed attempt; so is no answer at all 2 minutes after sending (pg_net
-- drops its queue and responses on a crash, and its requests time out after 5 s), unless the
-- request is still waiting in pg_net's queue (then it has not been sent, and sending it again
-- could deliver twice).
create function ops.collect_alert_delivery_responses() returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  d ops.alert_deliveries;
  r record;
  delivered integer := 0;
  retried integer := 0;
begin
  for d in select * from ops.alert_deliveries where status = 'sending' order by id for update skip locked loop
    -- created after the attempt was queued: a response id from before a sequence reset never counts
    select h.status_code, h.error_msg, h.content, h.timed_out into r
    from net._http_response h where h.id = d.request_id and h.created >= d.sent_at
    order by h.created desc limit 1;
    if found then
      if r.status_code between 200 and 299 then
        update ops.alert_deliveries set status = 'delivered', finished_at = now(), last_status_code = r.status_code,
          last_error = null
        where id = d.id;
        delivered := delivered + 1;
      else
        perform ops.alert_delivery_attempt_failed(d.id, r.status_code, coalesce(
          r.error_msg,
          case when r.timed_out then 'timed out' end,
          format('HTTP %s%s', r.status_code, coalesce(': ' || left(r.content, 200), ''))));
        retried := retried + 1;
      end if;
    elsif d.sent_at < now() - interval '2 minutes'
          and not exists (select 1 from net.http_request_queue q where q.id = d.request_id) then
      perform ops.alert_delivery_attempt_failed(d.id, null, 'no response recorded by pg_net');
      retried := retried + 1;
    end if;
  end loop;
  return jsonb_build_object('delivered', delivered, 'failed_attempts', retried);
end
$$;

revoke all on function ops.collect_alert_delivery_responses() from public, anon, authenticated;

grant execute on function ops.collect_alert_delivery_responses() to service_role;

-- The pg_cron job: answers first (so an attempt that just failed can be retried when due), then
-- every due retry, a bounded batch per minute.
create function ops.deliver_alerts(batch integer default 50) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  collected jsonb;
  d record;
  sent integer := 0;
begin
  perform pg_advisory_xact_lock(hashtext('ops.deliver_alerts'));
  collected := ops.collect_alert_delivery_responses();
  for d in
    select id from ops.alert_deliveries
    where status = 'pending' and next_attempt_at <= now()
    order by next_attempt_at, id limit batch
  loop
    if ops.send_alert_delivery(d.id) is not null then
      sent := sent + 1;
    end if;
  end loop;
  return collected || jsonb_build_object('sent', sent);
end
$$;

revoke all on function ops.deliver_alerts(integer) from public, anon, authenticated;

grant execute on function ops.deliver_alerts(integer) to service_role;

-- The first error of a new kind, in Slack JSON: what, where, the normalised message and the
-- request id to look up in admin-metrics/errors.
create function ops.notify_new_error(fp ops.error_fingerprints) returns bigint
language sql volatile security definer set search_path = '' as $$
  select ops.queue_alert_delivery(null, fp.fingerprint, 'new_error', jsonb_build_object(
    'text', format('[NEW ERROR] %s in %s', fp.name, fp.operation),
    'blocks', jsonb_build_array(
      jsonb_build_object('type', 'section', 'text', jsonb_build_object('type', 'mrkdwn',
        'text', format('*[NEW ERROR] %s in %s*', fp.name, fp.operation))),
      jsonb_build_object('type', 'section', 'text', jsonb_build_object('type', 'mrkdwn',
        'text', '```' || left(fp.message, 2500) || '```')),
      jsonb_build_object('type', 'context', 'elements', jsonb_build_array(jsonb_build_object('type', 'mrkdwn',
        'text', format('fingerprint `%s` · first seen %s · request %s', fp.fingerprint,
          to_char(fp.first_seen_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'),
          coalesce(fp.first_request_id, '-'))))))))
$$;

revoke all on function ops.notify_new_error(ops.error_fingerprints) from public, anon, authenticated;

grant execute on function ops.notify_new_error(ops.error_fingerprints) to service_role;

-- Every unhandled error: its fingerprint, counted per kind; the first of a kind is notified. A
-- notification that cannot be queued is logged and never fails the error's own insert.
create function ops.fingerprint_error() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
declare
  fp ops.error_fingerprints;
begin
  new.fingerprint := ops.error_fingerprint(new.name, new.operation, new.message);
  insert into ops.error_fingerprints (fingerprint, name, operation, message, first_seen_at, last_seen_at,
    first_request_id, last_request_id)
  values (new.fingerprint, new.name, ops.normalize_error_message(new.operation), ops.normalize_error_message(new.message),
    new.at, new.at, new.request_id, new.request_id)
  on conflict (fingerprint) do nothing
  returning * into fp;
  if fp is null then
    update ops.error_fingerprints set occurrences = occurrences + 1, last_seen_at = greatest(last_seen_at, new.at),
      last_request_id = new.request_id
    where fingerprint = new.fingerprint;
    return new;
  end if;
  begin
    perform ops.notify_new_error(fp);
  exception when others then
    insert into ops.system_logs (event_type, severity, source, message, context)
    values ('alert_notification_failed', 'error', 'alerting', 'could not queue the notification of a new error kind',
      jsonb_build_object('fingerprint', fp.fingerprint, 'error', sqlerrm, 'sqlstate', sqlstate));
  end;
  return new;
end
$$;

revoke all on function ops.fingerprint_error() from public, anon, authenticated;

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

insert into ops.alert_rules (key, kind, description, threshold, window_size, min_samples, severity) values
  ('error_rate', 'error_rate', 'More than 5 % of function calls failed with 5xx in 5 minutes', 5, '5 minutes', 20, 'critical'),
  ('p95_latency', 'p95_latency', 'p95 response time above 2 s in 5 minutes', 2000, '5 minutes', 20, 'warning'),
  ('unhealthy_service', 'unhealthy_service', 'A service''s latest health probe (last 10 minutes) is unhealthy', 0, '10 minutes', 0, 'critical'),
  ('backup_missing', 'backup_missing', 'No successful backup in the last 26 hours', 0, '26 hours', 0, 'critical'),
  ('youtube_quota', 'youtube_quota', 'YouTube Data API quota above 90 % of today''s budget (Pacific day)', 90, null, 0, 'warning'),
  ('failed_jobs', 'failed_jobs', 'Renders or uploads failed in the last hour', 0, '1 hour', 0, 'warning'),
  ('channels_reauth', 'channels_reauth', 'YouTube channels need to be re-authorised', 0, null, 0, 'warning');

select cron.schedule('ops-evaluate-alerts', '* * * * *', 'select ops.evaluate_alerts()');

-- Deliveries of new-error notifications are kept as long as the alerts' (resolved alerts take
-- theirs with them through the foreign key).
insert into ops.retention_policies (table_name, time_column, keep)
values ('ops.alert_deliveries', 'finished_at', '180 days');

create trigger errors_fingerprint before insert on ops.errors
for each row execute function ops.fingerprint_error();

select cron.schedule('ops-deliver-alerts', '* * * * *', 'select ops.deliver_alerts()');
