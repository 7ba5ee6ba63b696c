-- Email notifications (20261201001500_notifications): the outbox row is written in the transaction of the event
-- (rolled back with it), once per event and recipient, only for recipients who want it; the
-- worker's claim takes a row once per lease; preferences are each user's own (RLS); an
-- invitation's email needs its token and an owner.
-- Time passing is written as moving lease_expires_at back: now() is fixed in a transaction.
begin;
select plan(52);

select tests.create_user('nt_owner', 'nt-owner@example.test');
select tests.create_user('nt_editor', 'nt-editor@example.test');
select tests.create_user('nt_other', 'nt-other@example.test');
select tests.create_user('nt_admin', 'nt-admin@example.test', '{}'::jsonb, '{"role": "admin"}'::jsonb);

select tests.authenticate_as('nt_owner');
select id as ws from public.create_workspace('Notify Team') \gset
select tests.clear_authentication();
insert into public.workspace_members (workspace_id, user_id, role) values (:'ws', tests.get_user_id('nt_editor'), 'editor');
select tests.create_fixture_rows(:'ws', tests.get_user_id('nt_owner'));
select id as schedule from public.upload_schedules where workspace_id = :'ws' \gset
select id as job from public.video_jobs where workspace_id = :'ws' \gset
select id as channel from public.channels where workspace_id = :'ws' \gset
-- the editor created the schedule: they and the owner hear about it
update public.upload_schedules set created_by = tests.get_user_id('nt_editor') where id = :'schedule';

-- This test's rows only: a stack that ran other suites has notifications of its own.
create function pg_temp.mine() returns setof bigint language sql as $$
  select o.id from private.notification_outbox o
  where o.user_id in (select u.id from tests.users u where u.identifier like 'nt\_%')
    or o.invitation_id in (select i.id from public.invitations i where i.email like 'nt-%@example.test')
$$;
create function pg_temp.outbox(ev text) returns bigint language sql as $$
  select count(*) from private.notification_outbox where event = ev and id in (select pg_temp.mine())
$$;

-- Section: written in the event's transaction

select is(pg_temp.outbox('upload_published'), 0::bigint, 'no notification before the event');
select throws_ok(format($$
  do $d$ begin
    update public.upload_schedules set status = 'published', youtube_video_id = 'vidRolledBack', published_at = now(), finished_at = now()
    where id = %L;
    raise exception 'the event''s transaction fails' using errcode = 'P0001';
  end $d$ $$, :'schedule'), 'P0001', null, 'an event whose transaction fails ...');
select is(pg_temp.outbox('upload_published'), 0::bigint, '... leaves no notification behind');

update public.upload_schedules set status = 'published', youtube_video_id = 'vidPublished1', published_at = now(), finished_at = now()
where id = :'schedule';
select is(pg_temp.outbox('upload_published'), 2::bigint, 'a published upload queues one email per recipient (owner and creator)');
select bag_eq($$select user_id from private.notification_outbox where event = 'upload_published' and id in (select pg_temp.mine())$$,
  format('values (%L::uuid), (%L::uuid)', tests.get_user_id('nt_owner'), tests.get_user_id('nt_editor')),
  'the recipients are the workspace owner and the member who scheduled it');
select is((select payload ->> 'youtube_video_id' from private.notification_outbox where event = 'upload_published' and id in (select pg_temp.mine()) limit 1),
  'vidPublished1', 'the payload carries what the template shows');
select is((select payload ->> 'workspace_name' from private.notification_outbox where event = 'upload_published' and id in (select pg_temp.mine()) limit 1),
  'Notify Team', 'and the workspace''s name');
select ok((select bool_and(status = 'pending' and next_attempt_at <= now()) from private.notification_outbox where event = 'upload_published' and id in (select pg_temp.mine())),
  'the rows are due at once');

-- Section: once per event

update public.upload_schedules set status = 'published', title = 'Renamed after publishing' where id = :'schedule';
select is(pg_temp.outbox('upload_published'), 2::bigint, 'an update that does not change the status queues nothing');
select is(private.queue_workspace_notification('upload_published', 'upload_published:' || :'schedule', :'ws',
  tests.get_user_id('nt_editor'), '{}'::jsonb), 0, 'the same event queued again is a no-op (dedupe key)');
select is(pg_temp.outbox('upload_published'), 2::bigint, 'still one row per recipient');

-- Section: other events

update public.video_jobs set status = 'failed', last_error = 'RevID said no' where id = :'job';
select is(pg_temp.outbox('render_failed'), 1::bigint, 'a failed render notifies (the requester is the owner: one row)');
select is((select payload ->> 'error' from private.notification_outbox where event = 'render_failed' and id in (select pg_temp.mine())), 'RevID said no',
  'with the reason');
update public.channels set status = 'reauth_required' where id = :'channel';
select is(pg_temp.outbox('youtube_reauth_required'), 1::bigint, 'a channel needing re-authorisation notifies its owner');
update public.channels set title = 'Renamed channel' where id = :'channel';
select is(pg_temp.outbox('youtube_reauth_required'), 1::bigint, 'a later update of that channel does not notify again');

-- a second schedule waiting on quota
insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, next_attempt_at,
  idempotency_key, request_fingerprint, created_by)
values (:'ws', :'channel', :'job', 'Quota wait', now() + interval '1 day', now(), 'nt-quota', encode(sha256('q'::bytea), 'hex'),
  tests.get_user_id('nt_owner'))
returning id as quota_schedule \gset
update public.upload_schedules set waiting_reason = 'quota_share', last_error = 'share used' where id = :'quota_schedule';
update public.upload_schedules set waiting_reason = 'retry' where id = :'quota_schedule';
update public.upload_schedules set waiting_reason = 'quota' where id = :'quota_schedule';
select is(pg_temp.outbox('upload_waiting_quota'), 1::bigint, 'waiting on quota notifies once per schedule and day');
update public.upload_schedules set status = 'failed', finished_at = now(), last_error = 'gave up' where id = :'quota_schedule';
select is(pg_temp.outbox('upload_failed'), 1::bigint, 'a failed upload notifies');

-- Section: preferences decide

select tests.authenticate_as('nt_editor');
insert into public.notification_preferences (upload_published, upload_problems) values (false, false);
select tests.clear_authentication();
insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, next_attempt_at,
  idempotency_key, request_fingerprint, created_by)
values (:'ws', :'channel', :'job', 'Second', now() + interval '1 day', now(), 'nt-second', encode(sha256('s'::bytea), 'hex'),
  tests.get_user_id('nt_editor'))
returning id as second_schedule \gset
update public.upload_schedules set status = 'published', youtube_video_id = 'vidSecond', published_at = now(), finished_at = now()
where id = :'second_schedule';
select is((select count(*) from private.notification_outbox where event = 'upload_published' and payload ->> 'schedule_id' = :'second_schedule'),
  1::bigint, 'a recipient who turned the category off gets nothing (the owner still does)');
select is(private.wants_notification(tests.get_user_id('nt_editor'), 'render_ready'), true, 'other categories stay on');
select is(private.wants_notification(tests.get_user_id('nt_editor'), 'invitation'), true, 'invitations are not a preference');
select lives_ok(format($$select private.unsubscribe_notifications(%L, 'render_finished')$$, tests.get_user_id('nt_other')),
  'unsubscribing creates the preferences row when there is none');
select is(private.wants_notification(tests.get_user_id('nt_other'), 'render_failed'), false, 'and turns that category off');
select throws_ok(format($$select private.unsubscribe_notifications(%L, 'everything; drop table x')$$, tests.get_user_id('nt_other')),
  '22023', null, 'an unknown category is refused');

-- Section: RLS on preferences

select tests.authenticate_as('nt_other');
select is((select count(*) from public.notification_preferences), 1::bigint, 'a user sees only their own preferences');
select throws_ok(format($$insert into public.notification_preferences (user_id) values (%L)$$, tests.get_user_id('nt_owner')),
  '42501', null, 'nobody writes preferences for someone else');
with u as (update public.notification_preferences set alert_digest = false where user_id = tests.get_user_id('nt_editor') returning 1)
select is((select count(*) from u), 0::bigint, 'nor changes theirs');
select tests.authenticate_as_anon();
select throws_ok($$select * from public.notification_preferences$$, '42501', null, 'anon reads no preferences');
select throws_ok($$select * from private.notification_outbox$$, '42501', null, 'the outbox is not readable through the API');
select tests.authenticate_as('nt_other');
select throws_ok($$select * from private.claim_notifications('x', 1, 60)$$, '42501', null, 'users cannot claim notifications');

-- Section: invitations

select tests.authenticate_as('nt_owner');
insert into public.invitations (workspace_id, email, role, token_hash)
values (:'ws', 'nt-invitee@example.test', 'viewer', encode(sha256(convert_to('nt-invite-token', 'UTF8')), 'hex'))
returning id as inv \gset
select throws_ok(format($$select public.send_invitation_email(%L, 'wrong-token')$$, :'inv'), '22023', null,
  'an invitation email needs the invitation''s own token');
select isnt(public.send_invitation_email(:'inv', 'nt-invite-token'), null, 'the owner queues the invitation email');
select is(public.send_invitation_email(:'inv', 'nt-invite-token'), null, 'once per invitation');
select tests.authenticate_as('nt_editor');
select throws_ok(format($$select public.send_invitation_email(%L, 'nt-invite-token')$$, :'inv'), 'CEI01', null,
  'a member who is not an owner cannot send it');
select tests.clear_authentication();
select ok((select secret_enc is not null and payload::text not like '%nt-invite-token%' from private.notification_outbox where invitation_id = :'inv'),
  'the token is stored encrypted, never in the payload');

-- Section: claiming with a lease

-- other rows (of other suites) out of the way of this test's claims, as if they were not due yet
update private.notification_outbox set next_attempt_at = now() + interval '1 day'
where status = 'pending' and id not in (select pg_temp.mine());
update private.notification_outbox set lease_expires_at = now() + interval '1 day'
where status = 'sending' and id not in (select pg_temp.mine());

select tests.authenticate_as_service_role();
set local role service_role;
create temp table first_claim as select * from private.claim_notifications('worker-a', 100, 60);
reset role;
select ok((select count(*) > 0 from first_claim), 'the worker claims due rows');
select is((select to_email from first_claim where event = 'render_failed'), 'nt-owner@example.test',
  'with the recipient''s address read at claim time');
select is((select invitation_token from first_claim where event = 'invitation'), 'nt-invite-token',
  'and, for an invitation, the token for its link');
select is((select count(*) from private.claim_notifications('worker-b', 100, 60)), 0::bigint,
  'a second worker finds nothing while the lease holds');
update private.notification_outbox set lease_expires_at = now() - interval '1 second'
where id = (select min(id) from first_claim);
select is((select attempts from private.claim_notifications('worker-b', 100, 60)), 2,
  'a row whose lease ran out (its worker died) is claimed again, as a second attempt');

update private.notification_outbox set lease_expires_at = now() - interval '1 second', attempts = max_attempts
where id = (select id from first_claim where event = 'youtube_reauth_required');
select is((select count(*) from private.claim_notifications('worker-c', 100, 60) c
  where c.id = (select id from first_claim where event = 'youtube_reauth_required')), 0::bigint,
  'a row whose worker died during its last allowed attempt is not tried again ...');
select is((select status from private.notification_outbox where id = (select id from first_claim where event = 'youtube_reauth_required')),
  'failed', '... it is failed');

-- Section: recording the outcome

select is(private.notification_attempt_failed((select min(id) from first_claim), 'worker-a', 500, 'late answer', null, false), null,
  'a worker that lost its lease cannot record a failure over the new holder');
select is(private.notification_sent((select min(id) from first_claim), 'provider-id-1', 200), true,
  'the provider''s id is recorded whoever sent it (the same Idempotency-Key gives the same id)');
select is((select status || ' ' || provider_message_id from private.notification_outbox where id = (select min(id) from first_claim)),
  'sent provider-id-1', 'the row is sent with the provider''s id');
select is(private.notification_sent((select min(id) from first_claim), 'provider-id-2', 200), false, 'a sent row stays as it is');
select is(private.notification_attempt_failed((select id from first_claim where event = 'render_failed'), 'worker-a', 429, 'slow down', 90, false),
  'pending', 'a 429 goes back to pending ...');
select ok((select next_attempt_at >= now() + interval '90 seconds' from private.notification_outbox o
  where o.id = (select id from first_claim where event = 'render_failed')), '... not before the provider''s Retry-After');
select is(private.notification_attempt_failed((select id from first_claim where event = 'invitation'), 'worker-a', 422, 'bad address', null, true),
  'failed', 'a permanent refusal fails the row');
select is((select secret_enc from private.notification_outbox where invitation_id = :'inv'), null,
  'and erases the invitation token');

-- Section: alert digest

insert into ops.alert_rules (key, kind, description, threshold, window_size, min_samples, severity, function_name)
values ('pgtap_digest', 'error_rate', 'pgTAP: digest', 5, '5 minutes', 20, 'critical', 'pgtap-digest');
insert into ops.alerts (rule_key, details) values ('pgtap_digest', '{}');
select ok(private.queue_alert_digests() >= 1, 'the daily digest goes to platform admins when there were alerts');
select is((select count(*) from private.notification_outbox where event = 'alert_digest' and user_id = tests.get_user_id('nt_admin')),
  1::bigint, 'one per admin and day');
select is(private.queue_alert_digests(), 0, 'a second run the same day queues nothing');

select * from finish();
rollback;
