-- Render jobs' rules in the database (20261201001200_video_jobs): idempotency per workspace, the monthly
-- render limit per user across workspaces, statuses that only move forward (final ones never
-- change, so late or repeated reports are ignored), cancel, refunds of renders RevID never
-- accepted, claiming with a lease, and the pg_cron wake-up that only calls the worker when due.
begin;
select plan(44);

select tests.create_user('vj_owner');
select tests.create_user('vj_viewer');

create temp table ids (name text primary key, id uuid) on commit drop;
grant all on ids to authenticated, service_role;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('vj_owner');
insert into public.workspace_members (workspace_id, user_id, role)
  values ((select id from ids where name = 'ws'), tests.get_user_id('vj_viewer'), 'viewer');
insert into ids values ('script', gen_random_uuid()), ('title', gen_random_uuid());

-- An approved script and a title, made through the content functions.
select tests.authenticate_as('vj_owner');
select public.create_generated_content((select id from ids where name = 'script'), (select id from ids where name = 'ws'),
  'script', '{}', '[]', 'v', 'm', 1, 1, '{"items": [{"title": "Hello", "hook": "Watch this.", "script": "Hello", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}');
select public.review_generated_content((select id from ids where name = 'script'), 'submit');
select public.review_generated_content((select id from ids where name = 'script'), 'approve');
select public.create_generated_content((select id from ids where name = 'title'), (select id from ids where name = 'ws'),
  'title', '{}', '[]', 'v', 'm', 1, 1, '{"items": [{"title": "Hello", "reason": "It worked before."}]}');

select throws_ok($$select * from private.create_video_job((select id from ids where name = 'ws'), (select id from ids where name = 'script'), 1,
  auth.uid(), 'k', repeat('a', 64), '{}', repeat('b', 64), 50)$$, '42501', null, 'users cannot create jobs directly');
select throws_ok($$select private.apply_video_job_update(gen_random_uuid(), 'webhook', 'ready', 100, 'https://x')$$,
  '42501', null, 'users cannot move jobs');
select throws_ok($$select private.video_job_webhook_secret_hash(gen_random_uuid())$$, '42501', null, 'users cannot read secret hashes through the function');

select tests.authenticate_as_service_role();

-- A job creator with the usual arguments; returns the outcome row.
create function pg_temp.job(key text, fingerprint text default repeat('a', 64), monthly_limit integer default 50,
  who text default 'vj_owner', content text default 'script', version integer default 1)
returns table (outcome text, job_id uuid, renders_used integer, resets_at timestamptz)
language sql as $$
  select * from private.create_video_job((select id from ids where name = 'ws'), (select id from ids where name = content),
    version, tests.get_user_id(who), key, fingerprint, '{"creationParams": {"inputText": "Hello"}}', repeat('b', 64), monthly_limit)
$$;

-- Section: creating, idempotency, limit

select is((select outcome from pg_temp.job('k1')), 'created', 'a job is created for an approved script');
insert into ids select 'j1', job_id from pg_temp.job('k1');
select is((select outcome from pg_temp.job('k1')), 'existing', 'the same key and request: the same job');
select is((select job_id from pg_temp.job('k1')), (select id from ids where name = 'j1'), '... by id');
select is((select outcome from pg_temp.job('k1', repeat('c', 64))), 'key_conflict', 'the same key with another request: a conflict');
select is((select count(*)::int from public.video_jobs where workspace_id = (select id from ids where name = 'ws')), 1, 'one job in all');
select is((select renders from public.generation_usage where user_id = tests.get_user_id('vj_owner')), 1, 'one render counted');
select is((select status from public.video_jobs where id = (select id from ids where name = 'j1')), 'queued', 'a new job is queued');
select ok((select next_attempt_at > now() from public.video_jobs where id = (select id from ids where name = 'j1')),
  'held for the request that submits it');

select is((select outcome from pg_temp.job('k2', monthly_limit => 1)), 'limit_reached', 'over the monthly limit');
select is((select resets_at from pg_temp.job('k2', monthly_limit => 1)),
  (date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC', 'the limit resets at the next month, UTC');
select is((select renders_used from pg_temp.job('k2', monthly_limit => 1)), 1, 'with the renders used');
select is((select outcome from pg_temp.job('k1', monthly_limit => 1)), 'existing', 'a replay is answered even at the limit');
select is((select outcome from pg_temp.job('k3', who => 'vj_viewer')), 'forbidden', 'a viewer cannot render');
select is((select outcome from pg_temp.job('k4', content => 'title')), 'not_a_script', 'only scripts render');
select is((select outcome from pg_temp.job('k5', version => 2)), 'not_approved', 'only the approved version renders');

-- Section: submissions

select is(private.begin_video_job_submission((select id from ids where name = 'j1'), repeat('d', 64)), 1, 'first attempt');
select is(private.video_job_webhook_secret_hash((select id from ids where name = 'j1')), repeat('d', 64), 'with its own secret');
select is(private.video_job_submission_failed((select id from ids where name = 'j1'), 'RevID answered 503', now() + interval '1 minute'),
  'queued', 'a transient failure keeps it queued');
select is(private.begin_video_job_submission((select id from ids where name = 'j1'), repeat('e', 64)), 2, 'second attempt');
select ok(private.mark_video_job_submitted((select id from ids where name = 'j1'), 'pid-1', 120), 'RevID accepted it');
select is(private.begin_video_job_submission((select id from ids where name = 'j1'), repeat('f', 64)), null, 'no more attempts once submitted');
select results_eq($$select status, provider_job_id, attempts, last_error from public.video_jobs where id = (select id from ids where name = 'j1')$$,
  $$values ('submitted'::text, 'pid-1'::text, 2, null::text)$$, 'submitted with the pid');

-- Section: updates only move forward

select results_eq($$select * from private.apply_video_job_update((select id from ids where name = 'j1'), 'webhook', 'rendering', 40)$$,
  $$values (true, 'rendering'::text)$$, 'rendering 40%');
select ok((select webhook_received_at is not null from public.video_jobs where id = (select id from ids where name = 'j1')), 'the webhook is noted');
select results_eq($$select * from private.apply_video_job_update((select id from ids where name = 'j1'), 'webhook', 'rendering', 20)$$,
  $$values (false, 'rendering'::text)$$, 'progress never goes back');
select results_eq($$select * from private.apply_video_job_update((select id from ids where name = 'j1'), 'poll', 'submitted', 0)$$,
  $$values (false, 'rendering'::text)$$, 'nor does the status');
select throws_ok($$select private.apply_video_job_update((select id from ids where name = 'j1'), 'poll', 'ready')$$,
  '22023', 'a ready job needs its video_url', 'ready comes with a video');
select results_eq($$select * from private.apply_video_job_update((select id from ids where name = 'j1'), 'poll', 'ready', null, 'https://v/1.mp4', null, 30, 3)$$,
  $$values (true, 'ready'::text)$$, 'ready');
create temp table snapshot on commit drop as select * from public.video_jobs where id = (select id from ids where name = 'j1');
select results_eq($$select * from private.apply_video_job_update((select id from ids where name = 'j1'), 'webhook', 'rendering', 90)$$,
  $$values (false, 'ready'::text)$$, 'a late rendering does not downgrade ready');
select results_eq($$select * from private.apply_video_job_update((select id from ids where name = 'j1'), 'webhook', 'failed', null, null, null, null, null, 'late')$$,
  $$values (false, 'ready'::text)$$, 'nor does a late failure');
select results_eq($$select * from private.apply_video_job_update((select id from ids where name = 'j1'), 'webhook', 'ready', 100, 'https://v/other.mp4')$$,
  $$values (false, 'ready'::text)$$, 'a duplicate changes nothing');
select is((select to_jsonb(j) from public.video_jobs j where j.id = (select id from ids where name = 'j1')),
  (select to_jsonb(s) from snapshot s), 'the row is exactly as it was');
select is((select cancel_video_job.outcome from private.cancel_video_job((select id from ids where name = 'j1'), tests.get_user_id('vj_owner'))),
  'final', 'a finished job cannot be canceled');

-- Section: cancel and refunds

insert into ids select 'j2', job_id from pg_temp.job('k6');
select is((select renders from public.generation_usage where user_id = tests.get_user_id('vj_owner')), 2, 'two renders counted');
select is((select cancel_video_job.outcome from private.cancel_video_job((select id from ids where name = 'j2'), tests.get_user_id('vj_viewer'))),
  'forbidden', 'a viewer cannot cancel');
select is((select cancel_video_job.outcome from private.cancel_video_job((select id from ids where name = 'j2'), tests.get_user_id('vj_owner'))),
  'canceled', 'an owner cancels an open job');
select is((select renders from public.generation_usage where user_id = tests.get_user_id('vj_owner')), 1,
  'a job canceled before RevID accepted it gives its render back');

-- Section: claiming and waking

insert into ids select 'j3', job_id from pg_temp.job('k7');
-- as pg_cron runs it: as postgres
select tests.clear_authentication();
select is(private.wake_render_video_worker(), null, 'nothing due: pg_cron''s call costs no request');
update public.video_jobs set next_attempt_at = now() - interval '1 second' where id = (select id from ids where name = 'j3');
select isnt(private.wake_render_video_worker(), null, 'a due job wakes the worker through pg_net');
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_video_jobs(10, 120) c where c.id = (select id from ids where name = 'j3')), 1, 'the due job is claimed');
select is((select count(*)::int from private.claim_video_jobs(10, 120)), 0, 'and held by its lease');

select * from finish();
rollback;
