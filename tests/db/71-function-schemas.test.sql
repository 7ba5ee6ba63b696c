-- Which schema a function lives in follows from who may call it:
--   * `public` (served by PostgREST at /rest/v1/rpc) holds only what a signed-in member may call
--     through supabase-js. A function executable by service_role but not by authenticated is
--     service-only and belongs in `private`; it is found here from the grants, so a function any
--     later migration adds to `public` for the workers fails this test.
--   * Bodies and pg_cron commands name functions as text, so a function moved out of `public`
--     leaves callers that fail only when they run; every `public.<name>(` they hold must still
--     resolve.
begin;
select plan(9);

-- Functions in `public` that extensions did not bring.
create temp view public_functions as
  select p.oid, p.oid::regprocedure::text as signature, p.proname
  from pg_proc p
  where p.pronamespace = 'public'::regnamespace
    and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e');

select is(
  array(select signature from public_functions
        where has_function_privilege('service_role', oid, 'EXECUTE')
          and not has_function_privilege('authenticated', oid, 'EXECUTE')
        order by 1),
  '{}'::text[],
  'no service-only function (executable by service_role, not by authenticated) is in public');

select is(
  array(select signature from public_functions where not has_function_privilege('authenticated', oid, 'EXECUTE') order by 1),
  '{}'::text[],
  'every function in public is one a signed-in member may call');

-- `public.<name>(` or `private.<name>(` in a body is a call unless <name> is a table or view
-- (`insert into public.t (`).
create temp view named_calls as
  select p.oid::regprocedure::text as caller, m[1] as schema, m[2] as callee
  from pg_proc p
  cross join lateral regexp_matches(p.prosrc, '\m(public|private)\.([a-z_][a-z0-9_]*)\s*\(', 'g') m
  where p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  union all
  select 'cron job ' || j.jobname, m[1], m[2]
  from cron.job j cross join lateral regexp_matches(j.command, '\m(public|private)\.([a-z_][a-z0-9_]*)\s*\(', 'g') m;

select is(
  array(select distinct format('%s calls %s.%s', caller, schema, callee) from named_calls c
        where not exists (select 1 from pg_proc p where p.pronamespace = c.schema::regnamespace and p.proname = c.callee)
          and not exists (select 1 from pg_class r where r.relnamespace = c.schema::regnamespace and r.relname = c.callee)
        order by 1),
  '{}'::text[],
  'every public.<name>( and private.<name>( in a function body or a pg_cron command names a function that exists');

-- The service-only functions once in public: in private, for service_role only.
select is(
  array(select n from unnest(array[
      'apply_video_job_update', 'begin_final_chunk', 'begin_upload', 'begin_video_job_submission', 'cancel_video_job',
      'chain_render_video_worker', 'chain_upload_worker', 'channel_credentials', 'claim_upload_schedules',
      'claim_video_jobs', 'claim_youtube_sync_run', 'connect_youtube_channel', 'consume_youtube_oauth_state',
      'create_video_job', 'create_youtube_oauth_state', 'delete_channel_credentials', 'fail_video_job',
      'mark_video_job_submitted', 'next_upload_due_at', 'next_youtube_quota_reset', 'pause_upload',
      'record_generation_calls', 'record_uploaded_video', 'request_youtube_sync', 'rescore_all', 'reserve_youtube_quota',
      'save_channel_credentials', 'save_upload_offset', 'score_channel_videos', 'unlink_generation_calls',
      'upload_session', 'video_job_poll_failed', 'video_job_submission_failed', 'video_job_webhook_secret_hash',
      'wake_upload_worker', 'wake_youtube_sync_worker']) n
    where not exists (
      select 1 from pg_proc p where p.pronamespace = 'private'::regnamespace and p.proname = n
        and has_function_privilege('service_role', p.oid, 'EXECUTE')
        and not has_function_privilege('authenticated', p.oid, 'EXECUTE')
        and not has_function_privilege('anon', p.oid, 'EXECUTE'))
    order by 1),
  '{}'::text[],
  'the worker and OAuth functions are in private, executable by service_role only');

-- USAGE on `private` must not make its tables or the token key reachable to service_role.
select is(
  array(select c.oid::regclass::text from pg_class c
        where c.relnamespace = 'private'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
          and (case when c.relkind = 'S' then has_sequence_privilege('service_role', c.oid, 'USAGE,SELECT,UPDATE')
                    else has_table_privilege('service_role', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') end)
        order by 1),
  '{}'::text[],
  'service_role reads and writes no table in private directly');
select ok(not has_function_privilege('service_role', 'private.token_key()', 'EXECUTE')
  and not has_function_privilege('service_role', 'private.decrypt_token(bytea)', 'EXECUTE')
  and not has_function_privilege('service_role', 'private.encrypt_token(text)', 'EXECUTE'),
  'service_role cannot read the token key nor decrypt tokens itself');

-- In practice: the workers' calls work as service_role; a member reaches none of them.
select tests.create_user('fs_member');
select tests.authenticate_as_service_role();
select lives_ok($$select private.next_youtube_quota_reset()$$, 'service_role calls a worker function in private');
select throws_ok($$select * from private.channel_credentials$$, '42501', null,
  'service_role cannot read the credentials table, only call the function of that name');
select tests.clear_authentication();
select tests.authenticate_as('fs_member');
select throws_ok($$select private.next_youtube_quota_reset()$$, '42501', null, 'a member cannot call a worker function');
select tests.clear_authentication();

select * from finish();
rollback;
