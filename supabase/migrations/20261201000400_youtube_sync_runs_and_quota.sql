-- What the youtube-oauth and youtube-sync functions need beyond the channel and
-- video tables: single-use OAuth states, connecting a channel in one transaction, the
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
--
-- YouTube sync in steps that fit an Edge Function invocation (2 s of CPU on hosted Supabase).
-- A sync run is advanced by many short worker invocations, each a bounded share of the work, and
-- each invocation's last transaction hands the run back due at once and posts the next one
-- (public.wake_youtube_sync_worker, through pg_net, sent after commit).
--
-- The run's cursor is saved with every step, so it must stay small at any channel size: the
-- analytics plan (one report per up to 50 videos: 1,000 reports of a 50,000-video channel) was
-- held in the cursor and rewritten on every step. It now lives in its own column, written once
-- when the run plans its reports and read one report at a time; an update that leaves it alone
-- keeps its stored (TOAST) value instead of copying it. It is cleared when the run ends.
--
-- Fair shares of the project's YouTube Data API quota.
--
-- Google gives the quota to the Google Cloud project, so every tenant spends from the same daily
-- budget (private.youtube_daily_budget). With that budget as the only limit, six uploads of one
-- workspace (1,600 units each) used 96 % of a 10,000-unit day and every other workspace's syncs
-- and uploads waited until midnight Pacific. So each workspace may spend at most
-- its share of the day; after the borrow hour (Pacific time, YouTube's quota day) a workspace may
-- also spend what the others left unused, because unused units are lost at midnight anyway.
--
-- Settings (one row, next to the budget they divide; operators change them with an UPDATE):
--   workspace_share_percent (default 25): a workspace's share of the daily budget. 25 % of the
--     default 10,000 units is 2,500: one upload with its thumbnail and metadata (1,700 units) plus a
--     day of syncs (a few units per channel), while any one tenant still leaves three quarters of
--     the day to the others. A percentage, not units, so raising the budget raises every share.
--   borrow_from_hour (default 18): from 18:00 Pacific a workspace may spend beyond its share, up
--     to the project's budget. Six hours before the reset most of the day's demand is known and
--     a borrowed upload still goes out the same day; 24 switches borrowing off, 0 switches the
--     shares off.
--
-- Worker wake-ups (pg_cron, chained invocations) authenticate with the project's secret API key.
--
-- Why: Supabase retires the legacy JWT anon / service_role keys by the end of 2026; a project
-- created today has a publishable key and secret keys (sb_secret_…), which are not JWTs. The
-- functions now verify callers themselves (verify_jwt = false) and take a secret key in the
-- `apikey` header as a service call. The secret key lives in the Vault secret `secret_api_key`.
--
-- The legacy name keeps working while present: when `secret_api_key` is missing or empty, the
-- wake-ups send `service_role_key` as before (`Authorization: Bearer <key>`), so a project that
-- has not created the new keys, or a deployment whose Vault still holds only the old secret,
-- keeps running. Both private.post_to_worker and private.call_worker build their headers here.
--
-- Sync runs get the lease upload schedules have: 40 s, renewed by the invocation
-- every quarter while it works on the run, so a step the runtime ends frees the run within 40 s
-- instead of the 180 s that covered the longest step (a killed step's run waited up to three
-- minutes, longer than a test or a person waits for a sync to move on). The cursor is saved with
-- every step's rows, so the next worker continues from it, as before.

create table public.sync_runs (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  channel_id uuid not null,
  trigger text not null check (trigger in ('manual', 'cron', 'connect')),
  status text not null default 'queued'
    check (status in ('queued', 'running', 'waiting_quota', 'succeeded', 'failed')),
  -- where a run that died resumes (page tokens, last day fetched, ...)
  cursor jsonb not null default '{}',
  stats jsonb not null default '{}',
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz,
  last_error text,
  lease_owner text,
  lease_expires_at timestamptz,
  requested_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  foreign key (channel_id, workspace_id) references public.channels (id, workspace_id)
    on update cascade on delete cascade
);

create index sync_runs_workspace_id_idx on public.sync_runs (workspace_id, created_at desc);

create index sync_runs_channel_id_idx on public.sync_runs (channel_id, created_at desc);

create index sync_runs_requested_by_idx on public.sync_runs (requested_by);

-- At most one unfinished run per channel: queueing a second one conflicts instead of doubling
-- the quota spent.
create unique index sync_runs_one_open_run_per_channel on public.sync_runs (channel_id)
  where status in ('queued', 'running', 'waiting_quota');

-- The worker claims due runs with FOR UPDATE SKIP LOCKED.
create index sync_runs_due_idx on public.sync_runs (next_attempt_at)
  where status in ('queued', 'running', 'waiting_quota');

-- Units spent per workspace, Pacific-time day (Google resets quota at midnight PT) and endpoint.
-- The budget itself is per Google Cloud project, i.e. the sum over all workspaces of a day.
create table public.youtube_quota_usage (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- the channel that spent them last (informational; the key is per workspace)
  channel_id uuid references public.channels (id) on delete set null,
  day date not null,
  endpoint text not null,
  units integer not null default 0 check (units >= 0),
  calls integer not null default 0 check (calls >= 0),
  primary key (workspace_id, day, endpoint)
);

create index youtube_quota_usage_day_idx on public.youtube_quota_usage (day);

create index youtube_quota_usage_channel_id_idx on public.youtube_quota_usage (channel_id);

-- Unit cost per call, from https://developers.google.com/youtube/v3/determine_quota_cost
-- (checked 2026-11). Every call, even an invalid one, costs at least its listed cost.
create table private.youtube_api_costs (
  endpoint text primary key,
  units integer not null check (units >= 0),
  note text not null default ''
);

-- The project's daily Data API budget (one row). Raise it when Google grants more quota.
create table private.youtube_daily_budget (
  singleton boolean primary key default true check (singleton),
  units integer not null default 10000 check (units > 0),
  updated_at timestamptz not null default now()
);

alter table public.sync_runs enable row level security;

alter table public.youtube_quota_usage enable row level security;

revoke all on public.sync_runs from anon, authenticated;

revoke all on public.youtube_quota_usage from anon, authenticated;

grant all on public.sync_runs to service_role;

grant all on public.youtube_quota_usage to service_role;

grant select on public.sync_runs to authenticated;

grant select on public.youtube_quota_usage to authenticated;

revoke all on private.youtube_api_costs from public, anon, authenticated, service_role;

revoke all on private.youtube_daily_budget from public, anon, authenticated, service_role;

grant select on private.youtube_api_costs to service_role;

grant select on private.youtube_daily_budget to service_role;

-- Every enqueue sets it; the default keeps rows inserted elsewhere due at once.
alter table public.sync_runs alter column next_attempt_at set default now();

alter table public.sync_runs add column plan jsonb;

comment on column public.sync_runs.plan is
  'analytics reports of the run ([{ids, start}]), written by its plan step; cursor.batch_index is the next one';

alter table private.youtube_daily_budget
  add column workspace_share_percent numeric(5, 2) not null default 25
    check (workspace_share_percent > 0 and workspace_share_percent <= 100),
  add column borrow_from_hour smallint not null default 18
    check (borrow_from_hour between 0 and 24);

revoke all on private.youtube_api_costs from service_role;

revoke all on private.youtube_daily_budget from service_role;

-- The headers a wake-up sends, or null (with the reason in a warning) when Vault holds neither key.
create function private.worker_auth_headers()
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  secret_key text := (select nullif(s.decrypted_secret, '') from vault.decrypted_secrets s where s.name = 'secret_api_key' limit 1);
  legacy_key text := (select nullif(s.decrypted_secret, '') from vault.decrypted_secrets s where s.name = 'service_role_key' limit 1);
begin
  if secret_key is not null then
    -- An opaque key is never a bearer token: it travels in apikey alone.
    return jsonb_build_object('apikey', secret_key, 'Content-Type', 'application/json');
  end if;
  if legacy_key is not null then
    return jsonb_build_object('Authorization', 'Bearer ' || legacy_key, 'apikey', legacy_key, 'Content-Type', 'application/json');
  end if;
  return null;
end
$$;

revoke all on function private.worker_auth_headers() from public, anon, authenticated;

create function private.call_worker(function_path text, body jsonb, timeout_milliseconds integer)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  project_url text := (select nullif(s.decrypted_secret, '') from vault.decrypted_secrets s where s.name = 'project_url' limit 1);
  headers jsonb := private.worker_auth_headers();
begin
  if project_url is null or headers is null then
    raise warning '%: vault secrets project_url and secret_api_key (or the legacy service_role_key) are needed to wake the worker', function_path;
    return null;
  end if;
  return net.http_post(
    url := rtrim(project_url, '/') || '/functions/v1/' || function_path,
    headers := headers,
    body := coalesce(call_worker.body, '{}'::jsonb),
    timeout_milliseconds := call_worker.timeout_milliseconds
  );
end
$$;

revoke all on function private.call_worker(text, jsonb, integer) from public, anon, authenticated, service_role;

create function private.post_to_worker(function_path text, timeout_milliseconds integer)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
begin
  return private.call_worker(post_to_worker.function_path, '{}'::jsonb, post_to_worker.timeout_milliseconds);
end
$$;

revoke all on function private.post_to_worker(text, integer) from public, anon, authenticated, service_role;

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

revoke all on function private.wake_youtube_sync_worker() from public, anon, authenticated, service_role;

grant execute on function private.wake_youtube_sync_worker() to service_role;

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

revoke all on function private.enqueue_sync_run(uuid, uuid, text, uuid) from public, anon, authenticated, service_role;

-- Connects a channel to a workspace after the OAuth callback, in one transaction: channel row,
-- encrypted tokens (a NULL refresh token keeps the stored one), a 'connect' sync, worker woken.
-- outcome: 'connected' | 'forbidden' (the user is no longer editor or owner there) |
--          'conflict' (the channel belongs to another workspace) |
--          'no_refresh_token' (Google sent none and none is stored: offline sync is impossible)
create function private.connect_youtube_channel(
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

  perform private.save_channel_credentials(connected, connect_youtube_channel.refresh_token,
    connect_youtube_channel.access_token, connect_youtube_channel.access_token_expires_at,
    connect_youtube_channel.scopes);
  select e.sync_run_id into run from private.enqueue_sync_run(connected, ws, 'connect', connect_youtube_channel.user_id) e;
  perform private.wake_youtube_sync_worker();
  return query select 'connected'::text, connected, run;
end
$$;

revoke all on function private.connect_youtube_channel(uuid, uuid, text, text, text, text, text, text, text, timestamptz, text[]) from public, anon, authenticated;

grant execute on function private.connect_youtube_channel(uuid, uuid, text, text, text, text, text, text, text, timestamptz, text[]) to service_role;

-- "Sync now" for a channel (the caller's role was checked by the function layer).
-- outcome: 'queued' (a new run) | 'already_open' (a run is queued or running: that one) |
--          'rate_limited' (a manual sync was requested less than 5 minutes ago) |
--          'inactive' (the channel needs reconnecting, or was disconnected) | 'not_found'
create function private.request_youtube_sync(channel_id uuid, requested_by uuid)
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

revoke all on function private.request_youtube_sync(uuid, uuid) from public, anon, authenticated;

grant execute on function private.request_youtube_sync(uuid, uuid) to service_role;

-- Claims the next due run (or the given one, if due) for `worker` with a lease; no row when
-- nothing is due. Runs whose lease expired are due again: their worker died.
create function private.claim_youtube_sync_run(worker text, lease_seconds integer default 180, only_run uuid default null)
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

revoke all on function private.claim_youtube_sync_run(text, integer, uuid) from public, anon, authenticated;

grant execute on function private.claim_youtube_sync_run(text, integer, uuid) to service_role;

-- The next midnight in Pacific time, when YouTube's daily quota resets.
create function private.next_youtube_quota_reset() returns timestamptz
language sql stable set search_path = '' as $$
  select (((now() at time zone 'America/Los_Angeles')::date + 1)::timestamp at time zone 'America/Los_Angeles')
$$;

revoke all on function private.next_youtube_quota_reset() from public, anon, authenticated;

grant execute on function private.next_youtube_quota_reset() to service_role;

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

revoke all on function private.queue_daily_youtube_syncs() from public, anon, authenticated, service_role;

-- YouTube Data API units spent per (Pacific) day since the window started, against the budget.
create function ops.youtube_quota_metrics(since timestamptz) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  budget integer := 10000;
  days jsonb;
begin
  if to_regclass('public.youtube_quota_usage') is null then
    return jsonb_build_object('available', false);
  end if;
  if to_regclass('private.youtube_daily_budget') is not null then
    execute 'select units from private.youtube_daily_budget limit 1' into budget;
  end if;
  execute $q$
    select coalesce(jsonb_agg(jsonb_build_object('day', d.day, 'units', d.units, 'calls', d.calls,
      'percent_of_budget', round(d.units * 100.0 / $2, 2)) order by d.day), '[]'::jsonb)
    from (select q.day, sum(q.units) as units, sum(q.calls) as calls from public.youtube_quota_usage q
          where q.day >= ($1 at time zone 'America/Los_Angeles')::date group by 1) d
  $q$ into days using since, budget;
  return jsonb_build_object('available', true, 'daily_budget', budget, 'days', days);
end
$$;

revoke all on function ops.youtube_quota_metrics(timestamptz) from public, anon, authenticated;

grant execute on function ops.youtube_quota_metrics(timestamptz) to service_role;

-- Where a workspace stands on a quota day: the arithmetic every reservation and the members'
-- view share. `as_of` is a parameter (callers pass now()) so that tests can ask about any hour.
create function private.youtube_quota_position(workspace_id uuid, as_of timestamptz)
returns table (
  day date, daily_budget integer, used_today integer, share_units integer, workspace_used integer,
  borrow_from timestamptz, resets_at timestamptz, borrowing boolean
)
language sql stable set search_path = '' as $$
  with d as (select (as_of at time zone 'America/Los_Angeles')::date as day),
  b as (select bu.units, bu.workspace_share_percent, bu.borrow_from_hour from private.youtube_daily_budget bu)
  select d.day, b.units,
    (select coalesce(sum(q.units), 0)::integer from public.youtube_quota_usage q where q.day = d.day),
    floor(b.units * b.workspace_share_percent / 100)::integer,
    (select coalesce(sum(q.units), 0)::integer from public.youtube_quota_usage q
      where q.day = d.day and q.workspace_id = youtube_quota_position.workspace_id),
    ((d.day::timestamp + make_interval(hours => b.borrow_from_hour)) at time zone 'America/Los_Angeles'),
    ((d.day + 1)::timestamp at time zone 'America/Los_Angeles'),
    as_of >= ((d.day::timestamp + make_interval(hours => b.borrow_from_hour)) at time zone 'America/Los_Angeles')
  from d, b
$$;

revoke all on function private.youtube_quota_position(uuid, timestamptz) from public, anon, authenticated, service_role;

-- Spends the units of `calls` calls to `endpoint` at `as_of` if both the project's budget and the
-- workspace's share allow it (after the borrow hour only the budget counts). A refusal spends
-- nothing and says why (`reason`: 'budget' or 'share') and when trying again makes sense
-- (`retry_at`: the reset for the budget, the borrow hour for a share spent before it).
-- Reservations are serialised on the budget row, so concurrent workers cannot overshoot either.
create function private.reserve_youtube_quota_at(
  workspace_id uuid, channel_id uuid, endpoint text, calls integer, as_of timestamptz
) returns table (
  allowed boolean, units integer, used_today integer, daily_budget integer, resets_at timestamptz,
  reason text, retry_at timestamptz, share_units integer, workspace_used integer
)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  cost integer;
  p record;
begin
  if coalesce(reserve_youtube_quota_at.calls, 0) < 1 then
    raise exception 'calls must be at least 1' using errcode = '22023';
  end if;
  select c.units * reserve_youtube_quota_at.calls into cost
  from private.youtube_api_costs c where c.endpoint = reserve_youtube_quota_at.endpoint;
  if cost is null then
    raise exception 'unknown YouTube endpoint "%"', reserve_youtube_quota_at.endpoint
      using errcode = 'CEQ01', hint = 'add its unit cost to private.youtube_api_costs';
  end if;
  perform 1 from private.youtube_daily_budget for update;
  select * into p from private.youtube_quota_position(reserve_youtube_quota_at.workspace_id, reserve_youtube_quota_at.as_of);

  if p.used_today + cost > p.daily_budget then
    return query select false, cost, p.used_today, p.daily_budget, p.resets_at, 'budget', p.resets_at,
      p.share_units, p.workspace_used;
    return;
  end if;
  -- A call that costs nothing (the Analytics API's own bucket) never waits for a share.
  if cost > 0 and not p.borrowing and p.workspace_used + cost > p.share_units then
    return query select false, cost, p.used_today, p.daily_budget, p.resets_at, 'share',
      least(p.borrow_from, p.resets_at), p.share_units, p.workspace_used;
    return;
  end if;
  insert into public.youtube_quota_usage as q (workspace_id, channel_id, day, endpoint, units, calls)
  values (reserve_youtube_quota_at.workspace_id, reserve_youtube_quota_at.channel_id, p.day,
          reserve_youtube_quota_at.endpoint, cost, reserve_youtube_quota_at.calls)
  on conflict on constraint youtube_quota_usage_pkey do update set
    units = q.units + excluded.units,
    calls = q.calls + excluded.calls,
    channel_id = coalesce(excluded.channel_id, q.channel_id);
  return query select true, cost, p.used_today + cost, p.daily_budget, p.resets_at, null::text, null::timestamptz,
    p.share_units, p.workspace_used + cost;
end
$$;

revoke all on function private.reserve_youtube_quota_at(uuid, uuid, text, integer, timestamptz) from public, anon, authenticated, service_role;

create function private.reserve_youtube_quota(
  workspace_id uuid, channel_id uuid, endpoint text, calls integer default 1
) returns table (
  allowed boolean, units integer, used_today integer, daily_budget integer, resets_at timestamptz,
  reason text, retry_at timestamptz, share_units integer, workspace_used integer
)
language sql volatile security definer set search_path = '' as $$
  select * from private.reserve_youtube_quota_at(workspace_id, channel_id, endpoint, calls, now())
$$;

revoke all on function private.reserve_youtube_quota(uuid, uuid, text, integer) from public, anon, authenticated, service_role;

grant execute on function private.reserve_youtube_quota(uuid, uuid, text, integer) to service_role;

-- What a member may see of the quota: their workspace's share and what is left of it, and what
-- is left of the project's day (a number, not who spent it). Not a member -> no row.
create function public.workspace_youtube_quota(workspace_id uuid)
returns table (
  day date, share_units integer, used_units integer, remaining_units integer,
  project_remaining_units integer, available_units integer, borrowing boolean,
  borrow_from timestamptz, resets_at timestamptz
)
language sql stable security definer set search_path = '' as $$
  select p.day, p.share_units, p.workspace_used,
    greatest(p.share_units - p.workspace_used, 0),
    greatest(p.daily_budget - p.used_today, 0),
    case when p.borrowing then greatest(p.daily_budget - p.used_today, 0)
      else least(greatest(p.share_units - p.workspace_used, 0), greatest(p.daily_budget - p.used_today, 0)) end,
    p.borrowing, least(p.borrow_from, p.resets_at), p.resets_at
  from private.youtube_quota_position(workspace_youtube_quota.workspace_id, now()) p
  where public.has_role_on_workspace(workspace_youtube_quota.workspace_id, 'viewer')
$$;

revoke all on function public.workspace_youtube_quota(uuid) from public, anon, authenticated, service_role;

grant execute on function public.workspace_youtube_quota(uuid) to authenticated, service_role;

-- 'ok' while the run is this worker's and running; 'lease_lost' otherwise (the worker's next save
-- then fails with LeaseLostError and it stops).
create function private.renew_youtube_sync_lease(run_id uuid, worker text, lease_seconds integer)
returns text
language plpgsql volatile security definer set search_path = '' as $$
begin
  if renew_youtube_sync_lease.lease_seconds is null or renew_youtube_sync_lease.lease_seconds < 1 then
    raise exception 'lease_seconds must be at least 1' using errcode = '22023';
  end if;
  update public.sync_runs r set
    lease_expires_at = now() + make_interval(secs => renew_youtube_sync_lease.lease_seconds),
    next_attempt_at = now() + make_interval(secs => renew_youtube_sync_lease.lease_seconds)
  where r.id = renew_youtube_sync_lease.run_id and r.lease_owner = renew_youtube_sync_lease.worker
    and r.status = 'running';
  return case when found then 'ok' else 'lease_lost' end;
end
$$;

revoke all on function private.renew_youtube_sync_lease(uuid, text, integer) from public, anon, authenticated;

grant execute on function private.renew_youtube_sync_lease(uuid, text, integer) to service_role;

comment on function private.renew_youtube_sync_lease(uuid, text, integer) is
  'Extends the lease of a sync run this worker still holds (called every quarter of the lease while it works on the run).';

insert into private.youtube_api_costs (endpoint, units, note) values
  ('channels.list', 1, 'Data API v3'),
  ('playlistItems.list', 1, 'Data API v3, per page'),
  ('videos.list', 1, 'Data API v3, up to 50 ids per call'),
  ('reports.query', 0, 'YouTube Analytics API v2 /v2/reports: its own quota, spends no Data API units'),
  ('videos.insert', 1600,
   'older docs price it at 1600 units; the current quota page describes a separate bucket of '
   '100 calls/day for videos.insert. Kept at 1600 so uploads stay conservative against the '
   'shared budget until the project''s quota page confirms the separate bucket'),
  ('videos.update', 50, 'Data API v3'),
  ('thumbnails.set', 50, 'Data API v3'),
  ('search.list', 100,
   'older docs price it at 100 units; the current quota page describes a separate bucket of '
   '100 calls/day');

insert into private.youtube_daily_budget (units) values (10000);

create policy "members read sync runs" on public.sync_runs
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read quota usage" on public.youtube_quota_usage
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

-- 08:15 UTC is 00:15 PST / 01:15 PDT: just after YouTube's quota day starts.
select cron.schedule('youtube-sync-daily', '15 8 * * *', $$select private.queue_daily_youtube_syncs()$$);

select cron.schedule('youtube-sync-wake', '* * * * *', $$select private.wake_youtube_sync_worker()$$);
