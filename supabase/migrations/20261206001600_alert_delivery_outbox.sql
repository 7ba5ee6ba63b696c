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

-- Section: tables

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

-- Deliveries of new-error notifications are kept as long as the alerts' (resolved alerts take
-- theirs with them through the foreign key).
insert into ops.retention_policies (table_name, time_column, keep)
values ('ops.alert_deliveries', 'finished_at', '180 days');

-- Section: fingerprints

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

create function ops.error_fingerprint(name text, operation text, message text) returns text
language sql immutable parallel safe set search_path = '' as $$
  select md5(coalesce(name, '') || E'\n' || ops.normalize_error_message(operation) || E'\n' || ops.normalize_error_message(message))
$$;

-- Section: delivery

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

-- Section: notifications

-- The Slack-compatible message about an alert opening or resolving, as before, now queued in the
-- outbox. The request id and time of the first attempt are stored on the alert; a second call for
-- the same event is a no-op.
create or replace function ops.notify_alert(alert_id bigint, event text) returns bigint
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

create trigger errors_fingerprint before insert on ops.errors
for each row execute function ops.fingerprint_error();

-- Kinds already recorded are known: counted, not announced as new when they happen again.
insert into ops.error_fingerprints (fingerprint, name, operation, message, first_seen_at, last_seen_at, occurrences,
  first_request_id, last_request_id)
select f, min(e.name), min(ops.normalize_error_message(e.operation)), min(ops.normalize_error_message(e.message)),
  min(e.at), max(e.at), count(*), min(e.request_id), max(e.request_id)
from (select e.*, ops.error_fingerprint(e.name, e.operation, e.message) as f from ops.errors e) e
group by f;

-- Section: grants

revoke all on function
  ops.normalize_error_message(text), ops.error_fingerprint(text, text, text),
  ops.alert_delivery_attempt_failed(bigint, integer, text), ops.send_alert_delivery(bigint),
  ops.collect_alert_delivery_responses(), ops.deliver_alerts(integer),
  ops.queue_alert_delivery(bigint, text, text, jsonb), ops.notify_new_error(ops.error_fingerprints),
  ops.fingerprint_error()
  from public, anon, authenticated;
grant execute on function
  ops.normalize_error_message(text), ops.error_fingerprint(text, text, text),
  ops.alert_delivery_attempt_failed(bigint, integer, text), ops.send_alert_delivery(bigint),
  ops.collect_alert_delivery_responses(), ops.deliver_alerts(integer),
  ops.queue_alert_delivery(bigint, text, text, jsonb), ops.notify_new_error(ops.error_fingerprints)
  to service_role;

-- Section: schedule

select cron.schedule('ops-deliver-alerts', '* * * * *', 'select ops.deliver_alerts()');
