-- Functions only the service role calls leave the exposed schema.
--
-- Hosted PostgREST serves every function in `public` at /rest/v1/rpc/<name>. Before this
-- migration 36 of them were for the workers and the OAuth flow only (claim, lease, upload
-- session, channel credentials, quota, render jobs...): closed to `anon` and `authenticated` by
-- grants, but still listed, still one grant mistake away from being callable, and reachable
-- through the REST API by anyone holding the service key. The edge functions reach Postgres
-- directly (postgres.js, role service_role) and need none of them in `public`. So:
--
--   * `public` keeps exactly what a signed-in member may call through supabase-js (rpc), plus
--     the helpers row level security and CHECK constraints call as the member;
--   * everything executable by service_role but not by authenticated moves to `private`, which
--     PostgREST does not expose. tests/db/71-function-schemas.test.sql fails when such a
--     function is in `public` again.
--
-- `alter function ... set schema` keeps each function's oid, owner, ACL, security definer and
-- search_path, so the grants (service_role only) move with it, and every trigger, policy and view
-- that refers to one by oid keeps working. What refers to one by name does not: plpgsql and SQL
-- bodies are text, and so are pg_cron commands. Those are rewritten below from the catalogue, not
-- pasted from an older migration, so functions another migration changed in the meantime keep
-- their changes.

-- Section: service_role may enter `private`.
--
-- Until now service_role had no USAGE on `private` at all, and the public wrappers above were its
-- way in; grants on private tables written in earlier migrations (channel credentials, quota
-- costs) and on the token helpers took no effect. USAGE would make them live, so they go first:
-- secrets stay reachable only through the security-definer functions granted one by one.
revoke all on private.channel_credentials, private.youtube_api_costs, private.youtube_daily_budget
  from service_role;
revoke all on function private.token_key(), private.encrypt_token(text), private.decrypt_token(bytea)
  from service_role;
grant usage on schema private to service_role;

-- Section: the moves (signatures as in the catalogue before this migration).
alter function public.apply_video_job_update(uuid,text,text,integer,text,text,numeric,numeric,text,text,integer) set schema private;
alter function public.begin_final_chunk(uuid,text) set schema private;
alter function public.begin_upload(uuid,text,integer,text,bigint,jsonb,integer) set schema private;
alter function public.begin_video_job_submission(uuid,text,integer) set schema private;
alter function public.cancel_video_job(uuid,uuid) set schema private;
alter function public.chain_render_video_worker() set schema private;
alter function public.chain_upload_worker(integer,uuid[]) set schema private;
alter function public.channel_credentials(uuid) set schema private;
alter function public.claim_upload_schedules(text,integer,integer,uuid) set schema private;
alter function public.claim_video_jobs(integer,integer,uuid) set schema private;
alter function public.claim_youtube_sync_run(text,integer,uuid) set schema private;
alter function public.connect_youtube_channel(uuid,uuid,text,text,text,text,text,text,text,timestamp with time zone,text[]) set schema private;
alter function public.consume_youtube_oauth_state(text,uuid) set schema private;
alter function public.create_video_job(uuid,uuid,integer,uuid,text,text,jsonb,text,integer,integer,integer) set schema private;
alter function public.create_youtube_oauth_state(text,uuid,uuid,text,text) set schema private;
alter function public.delete_channel_credentials(uuid) set schema private;
alter function public.fail_video_job(uuid,text) set schema private;
alter function public.mark_video_job_submitted(uuid,text,integer) set schema private;
alter function public.next_upload_due_at() set schema private;
alter function public.next_youtube_quota_reset() set schema private;
alter function public.pause_upload(uuid,text,bigint,jsonb) set schema private;
alter function public.record_generation_calls(uuid,uuid,uuid,text,public.content_kind,text,text,jsonb) set schema private;
alter function public.record_uploaded_video(uuid,text,text,text,text) set schema private;
alter function public.request_youtube_sync(uuid,uuid) set schema private;
alter function public.rescore_all() set schema private;
alter function public.reserve_youtube_quota(uuid,uuid,text,integer) set schema private;
alter function public.save_channel_credentials(uuid,text,text,timestamp with time zone,text[]) set schema private;
alter function public.save_upload_offset(uuid,text,bigint,integer) set schema private;
alter function public.score_channel_videos(uuid) set schema private;
alter function public.unlink_generation_calls(uuid) set schema private;
alter function public.upload_session(uuid) set schema private;
alter function public.video_job_poll_failed(uuid,text,timestamp with time zone) set schema private;
alter function public.video_job_submission_failed(uuid,text,timestamp with time zone) set schema private;
alter function public.video_job_webhook_secret_hash(uuid) set schema private;

-- The two wake-up wrappers only existed so service_role could reach the private function of the
-- same name; with USAGE on `private` callers call that one (same defaults, same result).
drop function public.wake_upload_worker();
drop function public.wake_youtube_sync_worker();
grant execute on function private.wake_upload_worker(interval, integer), private.wake_youtube_sync_worker()
  to service_role;

-- Section: callers that name a moved function in their text.
do $$
declare
  moved constant text := 'apply_video_job_update|begin_final_chunk|begin_upload|begin_video_job_submission|'
    'cancel_video_job|chain_render_video_worker|chain_upload_worker|channel_credentials|claim_upload_schedules|'
    'claim_video_jobs|claim_youtube_sync_run|connect_youtube_channel|consume_youtube_oauth_state|create_video_job|'
    'create_youtube_oauth_state|delete_channel_credentials|fail_video_job|mark_video_job_submitted|next_upload_due_at|'
    'next_youtube_quota_reset|pause_upload|record_generation_calls|record_uploaded_video|request_youtube_sync|'
    'rescore_all|reserve_youtube_quota|save_channel_credentials|save_upload_offset|score_channel_videos|'
    'unlink_generation_calls|upload_session|video_job_poll_failed|video_job_submission_failed|'
    'video_job_webhook_secret_hash|wake_upload_worker|wake_youtube_sync_worker';
  -- Only a call (name followed by a parenthesis) is rewritten; `private.channel_credentials`,
  -- the table, is never written with `public.`.
  call_pattern constant text := '\mpublic\.(' || moved || ')(\s*\()';
  f record;
  j record;
begin
  for f in
    select p.oid from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname not in ('pg_catalog', 'information_schema') and p.prokind in ('f', 'p')
      and p.prosrc ~ call_pattern
  loop
    execute regexp_replace(pg_get_functiondef(f.oid), call_pattern, 'private.\1\2', 'g');
  end loop;
  for j in select jobid, command from cron.job where command ~ call_pattern loop
    perform cron.alter_job(j.jobid, command => regexp_replace(j.command, call_pattern, 'private.\1\2', 'g'));
  end loop;
end
$$;

comment on schema private is
  'Secrets and everything only the service role calls (workers, webhooks, OAuth). Not exposed by PostgREST; '
  'service_role has USAGE and executes only the functions granted to it, and reads no table here directly.';
