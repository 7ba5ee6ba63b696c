-- What the youtube-oauth and youtube-sync functions need beyond the tables of
-- performance_scoring: single-use OAuth states, connecting a channel in one transaction, the
-- sync queue (enqueue with a per-channel rate limit, claim with FOR UPDATE SKIP LOCKED and a
-- lease), and the pg_cron jobs that queue the daily sync and wake the worker.
--
-- The worker (supabase/functions/youtube-sync) is the only consumer of the queue:
--   queued / waiting_quota --claim--> running (lease_owner, lease_expires_at) --> succeeded | failed
--                                         |--> queued (time budget used up, or a transient error:
--                                         |            next_attempt_at = when to try again)
--                                         '--> waiting_quota (next_attempt_at = next midnight PT)
-- A running row keeps next_attempt_at equal to its lease expiry, so "due" is one condition for
-- every open status (next_attempt_at <= now()) and a run whose worker died is claimed again
-- once its lease has run out; its cursor says where to resume.
--
-- pg_cron: Debian's 1.4 (local) and hosted Supabase's 1.6 both run these minute schedules.

-- Section: extensions (present on the local stack; enabled here on a fresh hosted project)

do $$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    create extension pg_cron with schema pg_catalog;
  end if;
  if to_regnamespace('net') is null then
    create extension if not exists pg_net with schema extensions;
  end if;
end
$$;

-- Section: tables

-- True while a video's daily analytics may be behind its statistics: new videos, and videos whose
-- view/like/comment counts changed since their analytics were last fetched. Kept in the row (not
-- in a run's cursor) so that a run that fails after listing videos leaves them to the next run.
alter table public.videos add column metrics_stale boolean not null default true;
create index videos_channel_id_stale_idx on public.videos (channel_id) where metrics_stale;

-- Every enqueue sets it; the default keeps rows inserted elsewhere due at once.
alter table public.sync_runs alter column next_attempt_at set default now();

-- OAuth `state` of a consent started by youtube-oauth /start: stored as its sha256 only, with
-- the PKCE verifier encrypted, for ten minutes, usable once.
create table private.youtube_oauth_states (
  state_hash text primary key check (state_hash ~ '^[0-9a-f]{64}$'),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  code_verifier_enc bytea not null,
  redirect_uri text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index youtube_oauth_states_expires_at_idx on private.youtube_oauth_states (expires_at);

-- Section: functions (OAuth state)

-- Stores a new state; returns when it expires. Also drops states that expired a day ago.
create function public.create_youtube_oauth_state(
  state_hash text, workspace_id uuid, user_id uuid, code_verifier text, redirect_uri text
) returns timestamptz
language plpgsql volatile security definer set search_path = '' as $$
declare
  expires timestamptz := now() + interval '10 minutes';
begin
  delete from private.youtube_oauth_states s where s.expires_at < now() - interval '1 day';
  insert into private.youtube_oauth_states (state_hash, workspace_id, user_id, code_verifier_enc, redirect_uri, expires_at)
  values (create_youtube_oauth_state.state_hash, create_youtube_oauth_state.workspace_id,
    create_youtube_oauth_state.user_id, private.encrypt_token(create_youtube_oauth_state.code_verifier),
    create_youtube_oauth_state.redirect_uri, expires);
  return expires;
end
$$;

-- Uses a state up. outcome: 'ok' (with what was stored), 'unknown' (never issued: forged),
-- 'used' (replayed), 'expired'. Concurrent uses of one state: the row lock lets one through.
create function public.consume_youtube_oauth_state(state_hash text)
returns table (outcome text, workspace_id uuid, user_id uuid, code_verifier text, redirect_uri text)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  found_row private.youtube_oauth_states;
begin
  update private.youtube_oauth_states s set used_at = now()
  where s.state_hash = consume_youtube_oauth_state.state_hash and s.used_at is null and s.expires_at > now()
  returning s.* into found_row;
  if found_row.state_hash is not null then
    return query select 'ok'::text, found_row.workspace_id, found_row.user_id,
      private.decrypt_token(found_row.code_verifier_enc), found_row.redirect_uri;
    return;
  end if;
  select * into found_row from private.youtube_oauth_states s where s.state_hash = consume_youtube_oauth_state.state_hash;
  return query select
    case when found_row.state_hash is null then 'unknown' when found_row.used_at is not null then 'used' else 'expired' end,
    null::uuid, null::uuid, null::text, null::text;
end
$$;

-- Section: functions (sync queue)

-- POSTs `{}` to a worker route of an edge function as the service role, through pg_net (sent
-- after commit), with the project URL and service key from Vault. Every worker wake-up of later
-- migrations (renders, uploads) goes through here. Returns the pg_net request id, or null (with a
-- warning) when the Vault secrets are missing.
create function private.post_to_worker(function_path text, timeout_milliseconds integer)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  project_url text;
  service_key text;
begin
  select s.decrypted_secret into project_url from vault.decrypted_secrets s where s.name = 'project_url';
  select s.decrypted_secret into service_key from vault.decrypted_secrets s where s.name = 'service_role_key';
  if project_url is null or service_key is null then
    raise warning '%: vault secrets project_url and service_role_key are needed to wake the worker', function_path;
    return null;
  end if;
  return net.http_post(
    url := rtrim(project_url, '/') || '/functions/v1/' || function_path,
    headers := jsonb_build_object('Authorization', 'Bearer ' || service_key, 'Content-Type', 'application/json'),
    body := '{}'::jsonb,
    timeout_milliseconds := post_to_worker.timeout_milliseconds
  );
end
$$;

-- Calls the worker when a run is due; a no-op otherwise, so the every-minute job costs one index
-- probe when there is nothing to do.
create function private.wake_youtube_sync_worker() returns bigint
language plpgsql volatile security definer set search_path = '' as $$
begin
  if not exists (
    select 1 from public.sync_runs r
    where r.status in ('queued', 'running', 'waiting_quota') and r.next_attempt_at <= now()
  ) then
    return null;
  end if;
  -- the worker answers after its time budget (about 50 s)
  return private.post_to_worker('youtube-sync/worker', 60000);
end
$$;

-- For the worker itself: a worker that stops at its time budget with work left wakes the next one
-- at once instead of leaving the run to the next minute's tick.
create function public.wake_youtube_sync_worker() returns bigint
language sql volatile security definer set search_path = '' as $$
  select private.wake_youtube_sync_worker()
$$;

-- The open run of a channel, queued now if there is none (the partial unique index allows one).
create function private.enqueue_sync_run(channel_id uuid, workspace_id uuid, trigger text, requested_by uuid)
returns table (sync_run_id uuid, created boolean)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  new_id uuid;
begin
  insert into public.sync_runs (workspace_id, channel_id, trigger, status, requested_by, next_attempt_at)
  values (enqueue_sync_run.workspace_id, enqueue_sync_run.channel_id, enqueue_sync_run.trigger, 'queued',
    enqueue_sync_run.requested_by, now())
  on conflict (channel_id) where status in ('queued', 'running', 'waiting_quota') do nothing
  returning id into new_id;
  if new_id is not null then
    return query select new_id, true;
    return;
  end if;
  return query
    select r.id, false from public.sync_runs r
    where r.channel_id = enqueue_sync_run.channel_id and r.status in ('queued', 'running', 'waiting_quota');
end
$$;

-- Connects a channel to a workspace after the OAuth callback, in one transaction: channel row,
-- encrypted tokens (a NULL refresh token keeps the stored one), a 'connect' sync, worker woken.
-- outcome: 'connected' | 'forbidden' (the user is no longer editor or owner there) |
--          'conflict' (the channel belongs to another workspace) |
--          'no_refresh_token' (Google sent none and none is stored: offline sync is impossible)
create function public.connect_youtube_channel(
  workspace_id uuid, user_id uuid, youtube_channel_id text, title text, description text,
  thumbnail_url text, uploads_playlist_id text,
  refresh_token text, access_token text, access_token_expires_at timestamptz, scopes text[]
) returns table (outcome text, channel_id uuid, sync_run_id uuid)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  ws uuid := connect_youtube_channel.workspace_id;
  existing public.channels;
  connected uuid;
  run uuid;
begin
  if not exists (
    select 1 from public.workspace_members m
    where m.workspace_id = ws and m.user_id = connect_youtube_channel.user_id and m.role >= 'editor'
  ) then
    return query select 'forbidden'::text, null::uuid, null::uuid;
    return;
  end if;

  select * into existing from public.channels c where c.youtube_channel_id = connect_youtube_channel.youtube_channel_id;
  if existing.id is not null and existing.workspace_id <> ws then
    return query select 'conflict'::text, existing.id, null::uuid;
    return;
  end if;
  if connect_youtube_channel.refresh_token is null and not exists (
    select 1 from private.channel_credentials cc where cc.channel_id = existing.id and cc.refresh_token_enc is not null
  ) then
    return query select 'no_refresh_token'::text, existing.id, null::uuid;
    return;
  end if;

  -- The WHERE makes a concurrent connect of the same channel to another workspace a conflict
  -- rather than a move.
  insert into public.channels as c (workspace_id, youtube_channel_id, title, description, thumbnail_url,
    uploads_playlist_id, status, connected_by, connected_at)
  values (ws, connect_youtube_channel.youtube_channel_id, connect_youtube_channel.title,
    connect_youtube_channel.description, connect_youtube_channel.thumbnail_url,
    connect_youtube_channel.uploads_playlist_id, 'active', connect_youtube_channel.user_id, now())
  on conflict (youtube_channel_id) do update set
    title = excluded.title, description = excluded.description, thumbnail_url = excluded.thumbnail_url,
    uploads_playlist_id = excluded.uploads_playlist_id, status = 'active',
    connected_by = excluded.connected_by, connected_at = excluded.connected_at
  where c.workspace_id = excluded.workspace_id
  returning c.id into connected;
  if connected is null then
    return query select 'conflict'::text, null::uuid, null::uuid;
    return;
  end if;

  perform public.save_channel_credentials(connected, connect_youtube_channel.refresh_token,
    connect_youtube_channel.access_token, connect_youtube_channel.access_token_expires_at,
    connect_youtube_channel.scopes);
  select e.sync_run_id into run from private.enqueue_sync_run(connected, ws, 'connect', connect_youtube_channel.user_id) e;
  perform private.wake_youtube_sync_worker();
  return query select 'connected'::text, connected, run;
end
$$;

-- "Sync now" for a channel (the caller's role was checked by the function layer).
-- outcome: 'queued' (a new run) | 'already_open' (a run is queued or running: that one) |
--          'rate_limited' (a manual sync was requested less than 5 minutes ago) |
--          'inactive' (the channel needs reconnecting, or was disconnected) | 'not_found'
create function public.request_youtube_sync(channel_id uuid, requested_by uuid)
returns table (outcome text, sync_run_id uuid, retry_after_seconds integer)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  ch public.channels;
  last_manual timestamptz;
  run record;
begin
  -- Serialises concurrent requests for one channel, so two clicks cannot both pass the limit.
  select * into ch from public.channels c where c.id = request_youtube_sync.channel_id for update;
  if ch.id is null then
    return query select 'not_found'::text, null::uuid, null::integer;
    return;
  end if;
  if ch.status <> 'active' then
    return query select 'inactive'::text, null::uuid, null::integer;
    return;
  end if;
  select max(r.created_at) into last_manual from public.sync_runs r
  where r.channel_id = ch.id and r.trigger = 'manual' and r.created_at > now() - interval '5 minutes';
  if last_manual is not null then
    return query select 'rate_limited'::text, null::uuid,
      greatest(1, ceil(extract(epoch from last_manual + interval '5 minutes' - now())))::integer;
    return;
  end if;
  select * into run from private.enqueue_sync_run(ch.id, ch.workspace_id, 'manual', request_youtube_sync.requested_by);
  if run.created then
    perform private.wake_youtube_sync_worker();
  end if;
  return query select case when run.created then 'queued' else 'already_open' end, run.sync_run_id, null::integer;
end
$$;

-- Claims the next due run (or the given one, if due) for `worker` with a lease; no row when
-- nothing is due. Runs whose lease expired are due again: their worker died.
create function public.claim_youtube_sync_run(worker text, lease_seconds integer default 180, only_run uuid default null)
returns setof public.sync_runs
language sql volatile set search_path = '' as $$
  with next as (
    select r.id from public.sync_runs r
    where r.status in ('queued', 'running', 'waiting_quota')
      and r.next_attempt_at <= now()
      and (claim_youtube_sync_run.only_run is null or r.id = claim_youtube_sync_run.only_run)
    order by r.next_attempt_at, r.created_at
    limit 1
    for update skip locked
  )
  update public.sync_runs r set
    status = 'running',
    lease_owner = claim_youtube_sync_run.worker,
    lease_expires_at = now() + make_interval(secs => claim_youtube_sync_run.lease_seconds),
    next_attempt_at = now() + make_interval(secs => claim_youtube_sync_run.lease_seconds),
    attempts = r.attempts + 1,
    started_at = coalesce(r.started_at, now())
  from next
  where r.id = next.id
  returning r.*
$$;

-- The next midnight in Pacific time, when YouTube's daily quota resets.
create function public.next_youtube_quota_reset() returns timestamptz
language sql stable set search_path = '' as $$
  select (((now() at time zone 'America/Los_Angeles')::date + 1)::timestamp at time zone 'America/Los_Angeles')
$$;

-- Daily: one 'cron' run for every active channel (channels with an open run keep that one).
create function private.queue_daily_youtube_syncs() returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  queued integer;
begin
  insert into public.sync_runs (workspace_id, channel_id, trigger, status, next_attempt_at)
  select c.workspace_id, c.id, 'cron', 'queued', now() from public.channels c where c.status = 'active'
  on conflict (channel_id) where status in ('queued', 'running', 'waiting_quota') do nothing;
  get diagnostics queued = row_count;
  perform private.wake_youtube_sync_worker();
  return queued;
end
$$;

-- Section: pg_cron jobs (cron.schedule replaces a job of the same name)

-- 08:15 UTC is 00:15 PST / 01:15 PDT: just after YouTube's quota day starts.
select cron.schedule('youtube-sync-daily', '15 8 * * *', $$select private.queue_daily_youtube_syncs()$$);
select cron.schedule('youtube-sync-wake', '* * * * *', $$select private.wake_youtube_sync_worker()$$);

-- Section: grants

revoke all on private.youtube_oauth_states from public, anon, authenticated, service_role;

revoke all on function
  private.post_to_worker(text, integer),
  private.wake_youtube_sync_worker(),
  private.enqueue_sync_run(uuid, uuid, text, uuid),
  private.queue_daily_youtube_syncs()
  from public, anon, authenticated, service_role;

revoke all on function
  public.create_youtube_oauth_state(text, uuid, uuid, text, text),
  public.consume_youtube_oauth_state(text),
  public.connect_youtube_channel(uuid, uuid, text, text, text, text, text, text, text, timestamptz, text[]),
  public.request_youtube_sync(uuid, uuid),
  public.claim_youtube_sync_run(text, integer, uuid),
  public.next_youtube_quota_reset(),
  public.wake_youtube_sync_worker()
  from public, anon, authenticated;
grant execute on function
  public.create_youtube_oauth_state(text, uuid, uuid, text, text),
  public.consume_youtube_oauth_state(text),
  public.connect_youtube_channel(uuid, uuid, text, text, text, text, text, text, text, timestamptz, text[]),
  public.request_youtube_sync(uuid, uuid),
  public.claim_youtube_sync_run(text, integer, uuid),
  public.next_youtube_quota_reset(),
  public.wake_youtube_sync_worker()
  to service_role;
