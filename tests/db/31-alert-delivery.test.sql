-- Alert delivery (20261201000900_ops_alerts): every notification is an outbox row whose first attempt is made
-- in the transaction of the event; pg_net's answer (net._http_response) decides: 2xx delivered,
-- anything else retried after 1, 2, 4 … minutes, failed once the attempts are spent; no answer
-- 2 minutes after sending is a failed attempt unless the request is still queued. Unhandled
-- errors are grouped by fingerprint and only a new fingerprint is notified.
-- Time passing is written as moving sent_at / next_attempt_at back: now() is fixed in a transaction.
begin;
select plan(37);

-- pg_cron's runs of the same functions wait until the test is done.
select pg_advisory_xact_lock(hashtext('ops.deliver_alerts'));
select pg_advisory_xact_lock(hashtext('ops.evaluate_alerts'));

do $$
begin
  if exists (select 1 from vault.secrets where name = 'alert_webhook_url') then
    perform vault.update_secret((select id from vault.secrets where name = 'alert_webhook_url'), 'http://127.0.0.1:9/pgtap-deliveries');
  else
    perform vault.create_secret('http://127.0.0.1:9/pgtap-deliveries', 'alert_webhook_url');
  end if;
end
$$;

insert into ops.alert_rules (key, kind, description, threshold, window_size, min_samples, severity, function_name)
values ('pgtap_delivery', 'error_rate', 'pgTAP: delivery', 5, '5 minutes', 20, 'critical', 'pgtap-delivery');
create temp table subject as
  with a as (insert into ops.alerts (rule_key, details) values ('pgtap_delivery', '{"error_rate": 50}') returning id)
  select id as alert_id from a;

create function pg_temp.delivery(ev text default 'opened') returns ops.alert_deliveries language sql as $$
  select d from ops.alert_deliveries d where d.alert_id = (select alert_id from subject) and d.event = ev
$$;
create function pg_temp.respond(request bigint, code integer, err text default null) returns void language sql as $$
  insert into net._http_response (id, status_code, content, error_msg, timed_out)
  values (request, code, case when code is not null then 'answer ' || code end, err, err like 'Timeout%')
$$;
create function pg_temp.time_passes(d bigint, span interval) returns void language sql as $$
  update ops.alert_deliveries set sent_at = sent_at - span, next_attempt_at = next_attempt_at - span,
    created_at = created_at - span where id = d
$$;

-- Section: the outbox row and its first attempt

select isnt(ops.notify_alert((select alert_id from subject), 'opened'), null, 'notifying an alert makes an attempt at once');
select is(((pg_temp.delivery()).status, (pg_temp.delivery()).attempts), ('sending'::text, 1),
  'the outbox row is written with it, in flight, first attempt');
select is((select q.url from net.http_request_queue q where q.id = (pg_temp.delivery()).request_id),
  'http://127.0.0.1:9/pgtap-deliveries', 'the attempt is the pg_net request recorded on the row, to the Vault URL');
select is((select notify_request_id from ops.alerts where id = (select alert_id from subject)), (pg_temp.delivery()).request_id,
  'the alert keeps the request id of its notification');
select ok((pg_temp.delivery()).payload ->> 'text' like '[CRITICAL] pgTAP: delivery%', 'the payload is the Slack message');
select is(ops.notify_alert((select alert_id from subject), 'opened'), null, 'a second notification of the event is a no-op');
select is((select count(*) from ops.alert_deliveries where alert_id = (select alert_id from subject)), 1::bigint,
  'one outbox row per event');
select ok(position('pgtap-deliveries' in (pg_temp.delivery()).payload::text) = 0, 'the webhook URL is not copied into the outbox');

-- Section: 500, retried with backoff, then delivered

select ops.deliver_alerts();
select is((pg_temp.delivery()).status, 'sending', 'no answer yet: still in flight');
select pg_temp.respond((pg_temp.delivery()).request_id, 500);
select ops.deliver_alerts();
select is(((pg_temp.delivery()).status, (pg_temp.delivery()).last_status_code, (pg_temp.delivery()).next_attempt_at),
  ('pending'::text, 500, now() + interval '1 minute'), 'a 500 is a failed attempt, retried a minute later');
select is((pg_temp.delivery()).last_error, 'HTTP 500: answer 500', 'with what the webhook answered');
select ops.deliver_alerts();
select is(((pg_temp.delivery()).status, (pg_temp.delivery()).attempts), ('pending'::text, 1), 'not before it is due');
select pg_temp.time_passes((pg_temp.delivery()).id, interval '61 seconds');
create temp table first_request as select (pg_temp.delivery()).request_id as id;
select is((ops.deliver_alerts() ->> 'sent')::int, 1, 'when due, the delivery job sends it again');
select is(((pg_temp.delivery()).status, (pg_temp.delivery()).attempts), ('sending'::text, 2), 'second attempt in flight');
select isnt((pg_temp.delivery()).request_id, (select id from first_request), 'as a new pg_net request');
select is((select convert_from(q.body, 'UTF8')::jsonb from net.http_request_queue q where q.id = (pg_temp.delivery()).request_id),
  (pg_temp.delivery()).payload, 'with the same payload');
select pg_temp.respond((pg_temp.delivery()).request_id, 200);
select ops.deliver_alerts();
select is(((pg_temp.delivery()).status, (pg_temp.delivery()).last_status_code, (pg_temp.delivery()).last_error),
  ('delivered'::text, 200, null::text), 'a 2xx answer delivers it');
select isnt((pg_temp.delivery()).finished_at, null, 'and finishes it');

-- Section: backoff doubles, then failed; timeouts, lost requests and a missing URL

update ops.alerts set resolved_at = now(), resolution = 'pgTAP' where id = (select alert_id from subject);
select ops.notify_alert((select alert_id from subject), 'resolved');
update ops.alert_deliveries set max_attempts = 3 where id = (pg_temp.delivery('resolved')).id;
select pg_temp.respond((pg_temp.delivery('resolved')).request_id, null, 'Timeout of 5000 ms reached. Total time: 5001 ms');
select ops.deliver_alerts();
select is(((pg_temp.delivery('resolved')).status, (pg_temp.delivery('resolved')).last_error),
  ('pending'::text, 'Timeout of 5000 ms reached. Total time: 5001 ms'::text), 'a timeout is a failed attempt with pg_net''s message');
select pg_temp.time_passes((pg_temp.delivery('resolved')).id, interval '1 minute');
select ops.deliver_alerts();
select is((pg_temp.delivery('resolved')).attempts, 2, 'retried');
select pg_temp.time_passes((pg_temp.delivery('resolved')).id, interval '90 seconds');
select ops.deliver_alerts();
select is((pg_temp.delivery('resolved')).status, 'sending', 'no answer 90 s after sending: still waiting');
delete from net.http_request_queue where id = (pg_temp.delivery('resolved')).request_id;
select pg_temp.time_passes((pg_temp.delivery('resolved')).id, interval '31 seconds');
select ops.deliver_alerts();
select is(((pg_temp.delivery('resolved')).status, (pg_temp.delivery('resolved')).last_error,
           (pg_temp.delivery('resolved')).next_attempt_at),
  ('pending'::text, 'no response recorded by pg_net'::text, now() + interval '2 minutes'),
  'no answer 2 minutes after sending is a failed attempt; the next wait doubles to 2 minutes');
select pg_temp.time_passes((pg_temp.delivery('resolved')).id, interval '2 minutes');
select ops.deliver_alerts();
select pg_temp.time_passes((pg_temp.delivery('resolved')).id, interval '3 minutes');
select ops.deliver_alerts();
select is((pg_temp.delivery('resolved')).status, 'sending',
  'a request still in pg_net''s queue is not sent again, however long it waits');
select pg_temp.respond((pg_temp.delivery('resolved')).request_id, 404);
select ops.deliver_alerts();
select is(((pg_temp.delivery('resolved')).status, (pg_temp.delivery('resolved')).attempts,
           (pg_temp.delivery('resolved')).last_status_code, (pg_temp.delivery('resolved')).next_attempt_at),
  ('failed'::text, 3, 404, null::timestamptz), 'the last attempt spent: failed, with the last answer');
select is((select count(*) from ops.system_logs where event_type = 'alert_delivery_failed'
           and (context ->> 'delivery_id')::bigint = (pg_temp.delivery('resolved')).id), 1::bigint, 'and logged');
select pg_temp.time_passes((pg_temp.delivery('resolved')).id, interval '1 hour');
select ops.deliver_alerts();
select is((pg_temp.delivery('resolved')).attempts, 3, 'a failed delivery is never sent again');

insert into ops.alerts (rule_key) values ('pgtap_delivery');
select ops.notify_alert((select max(id) from ops.alerts where rule_key = 'pgtap_delivery'), 'opened');
delete from vault.secrets where name = 'alert_webhook_url';
update ops.alert_deliveries set status = 'pending', next_attempt_at = now()
where alert_id = (select max(id) from ops.alerts where rule_key = 'pgtap_delivery');
select ops.deliver_alerts();
select is((select (status, attempts, last_error)::text from ops.alert_deliveries
           where alert_id = (select max(id) from ops.alerts where rule_key = 'pgtap_delivery')),
  '(pending,2,"no alert_webhook_url in Vault")', 'a URL removed from Vault since: a failed attempt, retried later');

-- Section: fingerprints

select is(ops.normalize_error_message($$job 4f1c2a9e-0b7d-4c1e-9a55-3f2d1c0b9a87 failed after 3 tries at 2026-12-06T22:10:05Z for 'x@y' (a@b.io) sha 9f86d081884c7d65$$),
  'job <uuid> failed after <n> tries at <time> for <value> (<email>) sha <hex>', 'ids, numbers, times and values are taken out');
select is(ops.normalize_error_message('relation "public.foo" does not exist'), 'relation "public.foo" does not exist',
  'quoted names stay: they are the kind of fault');
select is(ops.normalize_error_message('e2e sha256 call failed with 503, 5000ms'), 'e2e sha256 call failed with <n>, <n>ms',
  'digits within a word stay');

do $$
begin
  perform vault.create_secret('http://127.0.0.1:9/pgtap-deliveries', 'alert_webhook_url');
end
$$;
insert into ops.errors (name, message, operation, request_id) values
  ('PgtapError', 'video 11 of job 9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d not found', 'GET pgtap/:id', 'pgtap-fp-1'),
  ('PgtapError', 'video 12 of job 1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed not found', 'GET pgtap/:id', 'pgtap-fp-2'),
  ('PgtapError', 'quota exceeded for 3 units', 'GET pgtap/:id', 'pgtap-fp-3');
select is((select count(distinct fingerprint) from ops.errors where request_id like 'pgtap-fp-%'), 2::bigint,
  'two errors that differ only in ids share a fingerprint; another message has its own');
select is((select array_agg(occurrences order by occurrences) from ops.error_fingerprints where name = 'PgtapError'), array[1, 2]::bigint[],
  'occurrences are counted per fingerprint');
select is((select count(*) from ops.alert_deliveries d join ops.error_fingerprints f on f.fingerprint = d.error_fingerprint
           where f.name = 'PgtapError'), 2::bigint, 'one notification per new fingerprint, not per error');
select is((select d.payload ->> 'text' from ops.alert_deliveries d join ops.error_fingerprints f on f.fingerprint = d.error_fingerprint
           where f.name = 'PgtapError' and f.occurrences = 2), '[NEW ERROR] PgtapError in GET pgtap/:id', 'saying what and where');
insert into ops.errors (name, message, operation, request_id)
values ('PgtapError', 'video 13 of job 6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b not found', 'GET pgtap/:id', 'pgtap-fp-4');
select is((select count(*) from ops.alert_deliveries d join ops.error_fingerprints f on f.fingerprint = d.error_fingerprint
           where f.name = 'PgtapError'), 2::bigint, 'a known fingerprint is counted and not notified again');
select is((select last_request_id from ops.error_fingerprints where occurrences = 3 and name = 'PgtapError'), 'pgtap-fp-4',
  'and remembers its latest request id');

select ok(exists (select 1 from cron.job where jobname = 'ops-deliver-alerts' and schedule = '* * * * *'),
  'pg_cron runs the delivery every minute');

select * from finish();
rollback;
