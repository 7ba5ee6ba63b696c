-- Video rendering with RevID: render jobs for approved scripts, the monthly render limit per
-- user, the rules every status update follows (webhook or poll), and the pg_cron job that wakes
-- the poller.
--
-- Job life cycle (status):
--   queued --submit ok--> submitted --provider reports progress--> rendering --> ready
--     |  \--submit failed (transient)--> queued again, next_attempt_at = backoff
--     \--submit failed for good / too many attempts / deadline--> failed
--   any open status --DELETE by an editor--> canceled
--   any open status --deadline (give_up_at) passed--> failed, with the reason
-- ready, failed and canceled are final: nothing changes them afterwards, so a late or repeated
-- webhook (or poll) can never move a job backwards ("rendering" after "ready" is ignored).
-- Within an open status progress only grows.
--
-- next_attempt_at is the one "due" time for every open status, as in sync_runs:
--   queued                when to (re)try the submission (while a worker holds the job: its lease)
--   submitted, rendering  when to poll RevID's status if no news arrived before (a lost webhook);
--                         every piece of news pushes it back
-- pg_cron calls the render-video worker every minute, but only when a job is due
-- (private.wake_render_video_worker), so an idle minute costs one index probe. Minute granularity:
-- works on pg_cron 1.4 (local) and 1.6 (hosted).
--
-- Webhook secrets: each submission carries a fresh random secret in its webhook URL; only its
-- sha256 is stored (webhook_secret_hash) and the revid-webhook function compares hashes in
-- constant time. The hash is never returned by the API. Members may read the column through RLS
-- like the rest of the row (as owners read invitations.token_hash): a hash of 32 random bytes
-- tells them nothing.
--
-- Monthly limit: public.create_video_job() counts renders per user and calendar month (UTC) in
-- public.generation_usage.renders across all of the user's workspaces, under a per-user advisory
-- lock, so concurrent requests cannot overshoot. A job that fails or is canceled before RevID
-- accepted it gives its render back.

create table public.video_jobs (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  content_id uuid not null,
  -- the approved version that was rendered
  content_version integer not null check (content_version >= 1),
  provider text not null default 'revid' check (provider = 'revid'),
  -- RevID's pid, once the render was accepted
  provider_job_id text check (char_length(provider_job_id) between 1 and 200),
  -- what was sent (without the webhook URL): creationParams, resolution, frameRate
  render_params jsonb not null check (jsonb_typeof(render_params) = 'object'),
  status text not null default 'queued'
    check (status in ('queued', 'submitted', 'rendering', 'ready', 'failed', 'canceled')),
  progress smallint not null default 0 check (progress between 0 and 100),
  video_url text check (char_length(video_url) <= 4096),
  thumbnail_url text check (char_length(thumbnail_url) <= 4096),
  duration_seconds numeric check (duration_seconds >= 0),
  credits numeric check (credits >= 0),
  -- submissions tried so far
  attempts integer not null default 0 check (attempts >= 0),
  -- status polls that failed in a row (reset by any news)
  poll_failures integer not null default 0 check (poll_failures >= 0),
  next_attempt_at timestamptz,
  -- the reason of the last failure; for a failed job, why it failed
  last_error text check (char_length(last_error) <= 2000),
  webhook_secret_hash text not null check (webhook_secret_hash ~ '^[0-9a-f]{64}$'),
  webhook_received_at timestamptz,
  last_polled_at timestamptz,
  -- when anything was last heard about the job (submission, webhook, poll with a change)
  last_news_at timestamptz,
  -- no job stays open past this: the worker fails it with the reason
  give_up_at timestamptz not null,
  idempotency_key text not null check (char_length(idempotency_key) between 1 and 255),
  -- sha256 of the request the key was first used with; the same key with another request is a conflict
  request_fingerprint text not null check (request_fingerprint ~ '^[0-9a-f]{64}$'),
  requested_by uuid references auth.users (id) on delete set null,
  canceled_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  submitted_at timestamptz,
  finished_at timestamptz,
  unique (workspace_id, idempotency_key),
  unique (provider, provider_job_id),
  check ((status in ('ready', 'failed', 'canceled')) = (finished_at is not null)),
  check (status <> 'ready' or video_url is not null),
  foreign key (content_id, workspace_id) references public.generated_content (id, workspace_id)
    on update cascade on delete cascade
);

create index video_jobs_workspace_id_idx on public.video_jobs (workspace_id, created_at desc);

create index video_jobs_content_id_idx on public.video_jobs (content_id);

create index video_jobs_requested_by_idx on public.video_jobs (requested_by);

create index video_jobs_canceled_by_idx on public.video_jobs (canceled_by);

-- The worker's two ways a job becomes due.
create index video_jobs_due_idx on public.video_jobs (next_attempt_at)
  where status in ('queued', 'submitted', 'rendering');

create index video_jobs_deadline_idx on public.video_jobs (give_up_at)
  where status in ('queued', 'submitted', 'rendering');

alter table public.video_jobs enable row level security;

revoke all on public.video_jobs from anon, authenticated;

grant all on public.video_jobs to service_role;

grant select on public.video_jobs to authenticated;

-- Order of statuses: an update may only move a job forward (or, in the same status, raise its
-- progress). The three final statuses share the top rank: none replaces another.
create function private.video_status_rank(status text) returns integer
language sql immutable set search_path = '' as $$
  select case video_status_rank.status
    when 'queued' then 0 when 'submitted' then 1 when 'rendering' then 2
    when 'ready' then 3 when 'failed' then 3 when 'canceled' then 3 end
$$;

revoke all on function private.video_status_rank(text) from public, anon, authenticated, service_role;

-- Gives a render back to the requester's month when a job ends before RevID accepted it.
create function private.refund_render(job public.video_jobs) returns void
language sql volatile security definer set search_path = '' as $$
  update public.generation_usage u set renders = greatest(0, u.renders - 1), updated_at = now()
  where (refund_render.job).provider_job_id is null
    and u.workspace_id = (refund_render.job).workspace_id
    and u.user_id = (refund_render.job).requested_by
    and u.month = private.usage_month((refund_render.job).created_at)
$$;

revoke all on function private.refund_render(public.video_jobs) from public, anon, authenticated, service_role;

-- Creates a render job for an approved script, or finds the one created before with the same
-- idempotency key. One transaction: the checks, the monthly limit and the insert.
-- outcome: 'created' | 'existing' (same key, same request: that job) |
--          'key_conflict' (same key, different request) | 'not_found' (no such content in the
--          workspace) | 'forbidden' (requester is no longer editor or owner) |
--          'not_a_script' | 'not_approved' (or the approved version is not `content_version`) |
--          'limit_reached' (renders_used >= monthly_limit; resets_at = next month, UTC)
create function private.create_video_job(
  workspace_id uuid, content_id uuid, content_version integer, requested_by uuid,
  idempotency_key text, request_fingerprint text, render_params jsonb, webhook_secret_hash text,
  monthly_limit integer, lease_seconds integer default 120, deadline_minutes integer default 60
) returns table (outcome text, job_id uuid, renders_used integer, resets_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  ws uuid := create_video_job.workspace_id;
  who uuid := create_video_job.requested_by;
  this_month date := private.usage_month();
  next_reset timestamptz := ((private.usage_month() + interval '1 month')::timestamp at time zone 'UTC');
  existing public.video_jobs;
  script public.generated_content;
  used integer;
  created uuid;
begin
  -- One requester at a time: the count below and the increment must not interleave.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('render-limit:' || who::text, 0));

  select * into existing from public.video_jobs j
  where j.workspace_id = ws and j.idempotency_key = create_video_job.idempotency_key;
  if existing.id is not null then
    return query select
      case when existing.request_fingerprint = create_video_job.request_fingerprint then 'existing' else 'key_conflict' end,
      existing.id, null::integer, null::timestamptz;
    return;
  end if;

  if not exists (
    select 1 from public.workspace_members m where m.workspace_id = ws and m.user_id = who and m.role >= 'editor'
  ) then
    return query select 'forbidden'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;

  -- Shared lock: an edit or review of the script cannot slip in before the job is saved.
  select * into script from public.generated_content g
  where g.id = create_video_job.content_id and g.workspace_id = ws
  for share;
  if script.id is null then
    return query select 'not_found'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  if script.kind <> 'script' then
    return query select 'not_a_script'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;
  if script.status <> 'approved' or script.approved_version <> create_video_job.content_version then
    return query select 'not_approved'::text, null::uuid, null::integer, null::timestamptz;
    return;
  end if;

  select coalesce(sum(u.renders), 0) into used from public.generation_usage u
  where u.user_id = who and u.month = this_month;
  if used >= create_video_job.monthly_limit then
    return query select 'limit_reached'::text, null::uuid, used, next_reset;
    return;
  end if;

  insert into public.video_jobs (workspace_id, content_id, content_version, render_params, status,
    webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, next_attempt_at)
  values (ws, script.id, create_video_job.content_version, create_video_job.render_params, 'queued',
    create_video_job.webhook_secret_hash, now() + make_interval(mins => create_video_job.deadline_minutes),
    create_video_job.idempotency_key, create_video_job.request_fingerprint, who,
    -- the request that creates the job submits it at once; the lease keeps the worker away meanwhile
    now() + make_interval(secs => create_video_job.lease_seconds))
  -- Another member of the workspace may have used the key a moment ago (the advisory lock is
  -- per requester): then that job is the answer.
  on conflict (workspace_id, idempotency_key) do nothing
  returning id into created;
  if created is null then
    select * into existing from public.video_jobs j
    where j.workspace_id = ws and j.idempotency_key = create_video_job.idempotency_key;
    return query select
      case when existing.request_fingerprint = create_video_job.request_fingerprint then 'existing' else 'key_conflict' end,
      existing.id, null::integer, null::timestamptz;
    return;
  end if;

  insert into public.generation_usage as u (workspace_id, user_id, month, renders)
  values (ws, who, this_month, 1)
  on conflict on constraint generation_usage_pkey do update set renders = u.renders + 1, updated_at = now();
  return query select 'created'::text, created, used + 1, next_reset;
end
$$;

revoke all on function private.create_video_job(uuid, uuid, integer, uuid, text, text, jsonb, text, integer, integer, integer) from public, anon, authenticated;

grant execute on function private.create_video_job(uuid, uuid, integer, uuid, text, text, jsonb, text, integer, integer, integer) to service_role;

-- Jobs that are due (next_attempt_at passed, or past their deadline), claimed for `lease_seconds`
-- with FOR UPDATE SKIP LOCKED so concurrent workers never take the same job.
create function private.claim_video_jobs(max_jobs integer default 20, lease_seconds integer default 120, only_job uuid default null)
returns setof public.video_jobs
language sql volatile security definer set search_path = '' as $$
  with due as (
    select j.id from public.video_jobs j
    where j.status in ('queued', 'submitted', 'rendering')
      and (j.next_attempt_at <= now() or j.give_up_at <= now())
      and (claim_video_jobs.only_job is null or j.id = claim_video_jobs.only_job)
    order by least(j.next_attempt_at, j.give_up_at)
    limit claim_video_jobs.max_jobs
    for update skip locked
  )
  update public.video_jobs j set
    next_attempt_at = now() + make_interval(secs => claim_video_jobs.lease_seconds)
  from due
  where j.id = due.id
  returning j.*
$$;

revoke all on function private.claim_video_jobs(integer, integer, uuid) from public, anon, authenticated;

grant execute on function private.claim_video_jobs(integer, integer, uuid) to service_role;

-- Starts a submission attempt: counts it, holds the job for `lease_seconds` and stores the hash
-- of the secret in the webhook URL about to be sent (a fresh one per attempt, so the URL of an
-- abandoned attempt stops working). The attempt's number; NULL when the job is no longer queued.
create function private.begin_video_job_submission(job_id uuid, webhook_secret_hash text, lease_seconds integer default 120)
returns integer
language sql volatile security definer set search_path = '' as $$
  update public.video_jobs j set
    attempts = j.attempts + 1,
    webhook_secret_hash = begin_video_job_submission.webhook_secret_hash,
    next_attempt_at = now() + make_interval(secs => begin_video_job_submission.lease_seconds)
  where j.id = begin_video_job_submission.job_id and j.status = 'queued'
  returning j.attempts
$$;

revoke all on function private.begin_video_job_submission(uuid, text, integer) from public, anon, authenticated;

grant execute on function private.begin_video_job_submission(uuid, text, integer) to service_role;

-- RevID accepted the render: its pid, and the first poll if no webhook comes first.
-- False when the job is no longer queued (canceled meanwhile).
create function private.mark_video_job_submitted(job_id uuid, provider_job_id text, poll_after_seconds integer)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  update public.video_jobs j set
    status = 'submitted',
    provider_job_id = mark_video_job_submitted.provider_job_id,
    submitted_at = now(),
    last_news_at = now(),
    last_error = null,
    next_attempt_at = now() + make_interval(secs => mark_video_job_submitted.poll_after_seconds)
  where j.id = mark_video_job_submitted.job_id and j.status = 'queued';
  if found then
    return true;
  end if;
  -- Canceled while RevID was being called: keep its pid, so what was spent stays traceable.
  update public.video_jobs j set provider_job_id = coalesce(j.provider_job_id, mark_video_job_submitted.provider_job_id)
  where j.id = mark_video_job_submitted.job_id;
  return false;
end
$$;

revoke all on function private.mark_video_job_submitted(uuid, text, integer) from public, anon, authenticated;

grant execute on function private.mark_video_job_submitted(uuid, text, integer) to service_role;

-- A submission attempt failed: try again at retry_at, or fail the job when retry_at is NULL
-- (a permanent error, or attempts used up). A failed job gives its render back.
create function private.video_job_submission_failed(job_id uuid, error text, retry_at timestamptz)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  j public.video_jobs;
begin
  if video_job_submission_failed.retry_at is not null then
    update public.video_jobs v set last_error = left(video_job_submission_failed.error, 2000),
      next_attempt_at = video_job_submission_failed.retry_at
    where v.id = video_job_submission_failed.job_id and v.status = 'queued'
    returning * into j;
    return case when j.id is null then null else 'queued' end;
  end if;
  update public.video_jobs v set status = 'failed', last_error = left(video_job_submission_failed.error, 2000),
    next_attempt_at = null, finished_at = now()
  where v.id = video_job_submission_failed.job_id and v.status = 'queued'
  returning * into j;
  if j.id is null then
    return null;
  end if;
  perform private.refund_render(j);
  return 'failed';
end
$$;

revoke all on function private.video_job_submission_failed(uuid, text, timestamptz) from public, anon, authenticated;

grant execute on function private.video_job_submission_failed(uuid, text, timestamptz) to service_role;

-- What a webhook or a poll reported, applied only if it moves the job forward (see the header).
-- Returns whether anything changed and the status afterwards. For webhooks, webhook_received_at
-- records the first delivery; a delivery that changes nothing leaves the row untouched.
-- source: 'webhook' | 'poll'. For polls the next poll is scheduled in any case.
create function private.apply_video_job_update(
  job_id uuid, source text, status text, progress integer default null,
  video_url text default null, thumbnail_url text default null, duration_seconds numeric default null,
  credits numeric default null, error text default null, provider_job_id text default null,
  poll_after_seconds integer default 120
) returns table (changed boolean, job_status text)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  j public.video_jobs;
  new_status text := apply_video_job_update.status;
  new_progress integer := least(100, greatest(0, coalesce(apply_video_job_update.progress,
    case when apply_video_job_update.status = 'ready' then 100 else 0 end)));
  moved boolean;
  is_final boolean := new_status in ('ready', 'failed', 'canceled');
begin
  if apply_video_job_update.source not in ('webhook', 'poll') then
    raise exception 'source must be webhook or poll' using errcode = '22023';
  end if;
  if new_status not in ('submitted', 'rendering', 'ready', 'failed', 'canceled') then
    raise exception 'unknown status %', new_status using errcode = '22023';
  end if;
  if new_status = 'ready' and apply_video_job_update.video_url is null then
    raise exception 'a ready job needs its video_url' using errcode = '22023';
  end if;

  select * into j from public.video_jobs v where v.id = apply_video_job_update.job_id for update;
  if j.id is null then
    return query select false, null::text;
    return;
  end if;
  moved := j.status not in ('ready', 'failed', 'canceled')
    and (private.video_status_rank(new_status) > private.video_status_rank(j.status)
         or (new_status = j.status and new_progress > j.progress));

  if moved then
    update public.video_jobs v set
      status = new_status,
      progress = case when new_status = 'ready' then 100 when is_final then v.progress else greatest(v.progress, new_progress) end,
      provider_job_id = coalesce(v.provider_job_id, apply_video_job_update.provider_job_id),
      video_url = coalesce(apply_video_job_update.video_url, v.video_url),
      thumbnail_url = coalesce(apply_video_job_update.thumbnail_url, v.thumbnail_url),
      duration_seconds = coalesce(apply_video_job_update.duration_seconds, v.duration_seconds),
      credits = coalesce(apply_video_job_update.credits, v.credits),
      last_error = case when new_status = 'failed' then left(coalesce(apply_video_job_update.error, 'RevID reported the render as failed'), 2000) else v.last_error end,
      submitted_at = coalesce(v.submitted_at, now()),
      last_news_at = now(),
      poll_failures = 0,
      webhook_received_at = case when apply_video_job_update.source = 'webhook' then coalesce(v.webhook_received_at, now()) else v.webhook_received_at end,
      last_polled_at = case when apply_video_job_update.source = 'poll' then now() else v.last_polled_at end,
      next_attempt_at = case when is_final then null else now() + make_interval(secs => apply_video_job_update.poll_after_seconds) end,
      finished_at = case when is_final then now() else null end
    where v.id = j.id
    returning * into j;
    if j.status in ('failed', 'canceled') then
      perform private.refund_render(j);
    end if;
    return query select true, j.status;
    return;
  end if;

  if apply_video_job_update.source = 'webhook' and j.webhook_received_at is null then
    update public.video_jobs v set webhook_received_at = now() where v.id = j.id;
  elsif apply_video_job_update.source = 'poll' and j.status not in ('ready', 'failed', 'canceled') then
    update public.video_jobs v set last_polled_at = now(), poll_failures = 0,
      next_attempt_at = now() + make_interval(secs => apply_video_job_update.poll_after_seconds)
    where v.id = j.id;
  end if;
  return query select false, j.status;
end
$$;

revoke all on function private.apply_video_job_update(uuid, text, text, integer, text, text, numeric, numeric, text, text, integer) from public, anon, authenticated;

grant execute on function private.apply_video_job_update(uuid, text, text, integer, text, text, numeric, numeric, text, text, integer) to service_role;

-- A status poll failed: try again at retry_at.
create function private.video_job_poll_failed(job_id uuid, error text, retry_at timestamptz) returns void
language sql volatile security definer set search_path = '' as $$
  update public.video_jobs j set poll_failures = j.poll_failures + 1, last_polled_at = now(),
    last_error = left(video_job_poll_failed.error, 2000), next_attempt_at = video_job_poll_failed.retry_at
  where j.id = video_job_poll_failed.job_id and j.status in ('submitted', 'rendering')
$$;

revoke all on function private.video_job_poll_failed(uuid, text, timestamptz) from public, anon, authenticated;

grant execute on function private.video_job_poll_failed(uuid, text, timestamptz) to service_role;

-- Ends an open job as failed with the reason (deadline passed). False when it was final already.
create function private.fail_video_job(job_id uuid, reason text) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  j public.video_jobs;
begin
  update public.video_jobs v set status = 'failed', last_error = left(fail_video_job.reason, 2000),
    next_attempt_at = null, finished_at = now()
  where v.id = fail_video_job.job_id and v.status in ('queued', 'submitted', 'rendering')
  returning * into j;
  if j.id is null then
    return false;
  end if;
  perform private.refund_render(j);
  return true;
end
$$;

revoke all on function private.fail_video_job(uuid, text) from public, anon, authenticated;

grant execute on function private.fail_video_job(uuid, text) to service_role;

-- Cancels an open job for `canceled_by` (an editor or owner of its workspace). RevID documents no
-- cancel call, so this only stops us waiting for it: a render already running at RevID may still
-- finish (and cost credits); its webhook then changes nothing.
-- outcome: 'canceled' | 'final' (already ready/failed/canceled) | 'forbidden' | 'not_found'
create function private.cancel_video_job(job_id uuid, canceled_by uuid)
returns table (outcome text, status text)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  j public.video_jobs;
begin
  select * into j from public.video_jobs v where v.id = cancel_video_job.job_id for update;
  if j.id is null then
    return query select 'not_found'::text, null::text;
    return;
  end if;
  if not exists (
    select 1 from public.workspace_members m
    where m.workspace_id = j.workspace_id and m.user_id = cancel_video_job.canceled_by and m.role >= 'editor'
  ) then
    return query select 'forbidden'::text, j.status;
    return;
  end if;
  if j.status in ('ready', 'failed', 'canceled') then
    return query select 'final'::text, j.status;
    return;
  end if;
  update public.video_jobs v set status = 'canceled', canceled_by = cancel_video_job.canceled_by,
    next_attempt_at = null, finished_at = now()
  where v.id = j.id
  returning * into j;
  perform private.refund_render(j);
  return query select 'canceled'::text, j.status;
end
$$;

revoke all on function private.cancel_video_job(uuid, uuid) from public, anon, authenticated;

grant execute on function private.cancel_video_job(uuid, uuid) to service_role;

-- The hash of a job's current webhook secret, for the webhook function to compare in constant
-- time (NULL for an unknown job).
create function private.video_job_webhook_secret_hash(job_id uuid) returns text
language sql stable security definer set search_path = '' as $$
  select j.webhook_secret_hash from public.video_jobs j where j.id = video_job_webhook_secret_hash.job_id
$$;

revoke all on function private.video_job_webhook_secret_hash(uuid) from public, anon, authenticated;

grant execute on function private.video_job_webhook_secret_hash(uuid) to service_role;

-- Calls the render-video worker (private.post_to_worker) when a job is due; a no-op
-- otherwise, so the every-minute job costs two index probes when there is nothing to do.
create function private.wake_render_video_worker() returns bigint
language plpgsql volatile security definer set search_path = '' as $$
begin
  if not exists (
      select 1 from public.video_jobs j
      where j.status in ('queued', 'submitted', 'rendering') and j.next_attempt_at <= now())
    and not exists (
      select 1 from public.video_jobs j
      where j.status in ('queued', 'submitted', 'rendering') and j.give_up_at <= now()) then
    return null;
  end if;
  -- the worker answers after its time budget (about 25 s)
  return private.post_to_worker('render-video/worker', 60000);
end
$$;

revoke all on function private.wake_render_video_worker() from public, anon, authenticated, service_role;

-- The channel must belong to the workspace and be usable; the render must be ready there.
create function private.check_schedule_targets(workspace_id uuid, channel_id uuid, video_job_id uuid)
returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  channel_status text;
  job_status text;
begin
  select c.status into channel_status from public.channels c
  where c.id = check_schedule_targets.channel_id and c.workspace_id = check_schedule_targets.workspace_id;
  if channel_status is null then
    raise exception 'channel_id is not a connected YouTube channel of this workspace' using errcode = 'CES10';
  end if;
  if channel_status <> 'active' then
    raise exception 'channel_id: the channel must be reconnected first (it is %)', channel_status using errcode = 'CES11';
  end if;
  select j.status into job_status from public.video_jobs j
  where j.id = check_schedule_targets.video_job_id and j.workspace_id = check_schedule_targets.workspace_id;
  if job_status is null then
    raise exception 'video_job_id is not a render of this workspace' using errcode = 'CES12';
  end if;
  if job_status <> 'ready' then
    raise exception 'video_job_id is not ready to publish (its render is %)', job_status using errcode = 'CES12';
  end if;
end
$$;

revoke all on function private.check_schedule_targets(uuid, uuid, uuid) from public, anon, authenticated, service_role;

-- The render poller's successor: called by a poller invocation that stopped at its batch limit
-- while jobs are still due (the same test as the every-minute wake-up).
create function private.chain_render_video_worker() returns integer
language plpgsql volatile security definer set search_path = '' as $$
begin
  return case when private.wake_render_video_worker() is null then 0 else 1 end;
end
$$;

revoke all on function private.chain_render_video_worker() from public, anon, authenticated;

grant execute on function private.chain_render_video_worker() to service_role;

create trigger video_jobs_touch_updated_at before update on public.video_jobs
  for each row execute function private.touch_updated_at();

-- Members read; jobs are created, advanced and canceled only through the functions above
-- (render-video, revid-webhook), which check roles themselves.
create policy "members read video jobs" on public.video_jobs
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

select cron.schedule('render-video-poller', '* * * * *', 'select private.wake_render_video_worker()');

do $$
declare
  cols text;
begin
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
  from pg_catalog.pg_attribute a
  where a.attrelid = 'public.video_jobs'::regclass and a.attnum > 0 and not a.attisdropped
    and a.attname <> 'webhook_secret_hash';
  execute 'revoke select on public.video_jobs from authenticated';
  execute format('grant select (%s) on public.video_jobs to authenticated', cols);
end
$$;
