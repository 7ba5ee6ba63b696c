-- Scheduling and publishing ready renders to YouTube: on time, exactly once, never lost.
--
-- Tables: public.upload_schedules (one video to publish), public.upload_events (every change of
-- a schedule, with who or what caused it), public.workspace_settings (what to do with missed
-- schedules, how early youtube_scheduled uploads) and private.upload_sessions (the resumable
-- session URI, encrypted: whoever holds it can write bytes into the creator's upload).
--
-- Strategies (per schedule):
--   youtube_scheduled (default for public videos) uploads ahead of time, `upload_lead_minutes`
--     before publish_at, as private with status.publishAt = publish_at: YouTube itself publishes at
--     that minute, even if we are down then.
--   upload_at_time uploads at publish_at with the chosen privacy (public, unlisted or private).
--
-- Life cycle (status); next_attempt_at is the one "due" time of every open status:
--   scheduled  --claim, session saved (begin_upload)-->  uploading  --last byte-->  processing
--     |  ^ waits (quota, upload limit, reconnect, retry): stays scheduled, next_attempt_at = then
--     |  '-- edit / reschedule / publish now (only here and in held)
--     '--missed and the workspace holds missed schedules--> held --reschedule / publish now--> scheduled
--   processing --thumbnail set, YouTube shows it published--> published
--   scheduled | held | uploading (before the last chunk) --cancel--> canceled
--   any open status --permanent error or too many failures--> failed
-- "Upload started" means: the session URI is saved (begin_upload). Before that an edit always
-- wins (it bumps `version`; a worker that claimed the row and created a session for the old
-- version abandons that session without sending a byte). From then on the metadata is YouTube's.
--
-- Exactly once: a schedule has at most one live upload session, stored before its first byte;
-- a worker that finds one asks YouTube for the session's status (`Content-Range: bytes */total`)
-- and resumes from the offset YouTube confirms, or records the video YouTube already made. A
-- new session is only started when the old one is gone and its last chunk was never sent
-- (final_chunk_at is null): a video can only exist once that chunk went out.
--
-- Workers (supabase/functions/schedules, POST /worker, service role) claim due rows with
-- FOR UPDATE SKIP LOCKED and a lease; a row whose worker died is due again when its lease runs out.
-- pg_cron wakes them every minute, but only when something is due within the next minute
-- (private.wake_upload_worker); a woken worker waits for rows due later in that minute, so one-minute
-- ticks are enough (pg_cron 1.4 locally, 1.6 hosted).
--
-- Missed schedules: a scheduled row claimed more than private.missed_schedule_grace() after its
-- publish_at (we were down, or waited too long) is missed. workspace_settings.missed_schedule_policy
-- 'publish_late' (default) publishes it now and records that; 'hold' parks it as `held` for a person.
--
-- Writes: API roles read (members, RLS) and change schedules only through the security-definer
-- functions below, which check roles and write the event; the worker (service role) updates rows
-- under its lease. SQLSTATEs raised here (the schedules function maps them):
--   CES01 schedule or workspace not found (or not visible)        -> 404
--   CES02 not possible in the schedule's current status            -> 409
--   CES03 too late: the video is (about to be) on YouTube          -> 409
--   CES04 the schedule changed since the version the caller saw    -> 409
--   CES10 channel_id is not a connected channel of the workspace   -> 400 (channel_id)
--   CES11 channel_id needs to be reconnected                       -> 400 (channel_id)
--   CES12 video_job_id is not a ready render of the workspace      -> 400 (video_job_id)
--   CES13 publish_at is not in the future                          -> 400 (publish_at)
--   CES14 time_zone is unknown                                     -> 400 (time_zone)
--   42501 role too low -> 403; 28000 not authenticated -> 401; 22023 bad argument -> 400
--
-- Upload and render workers in bounded steps that chain at once.
--
-- Hosted edge functions end a request that uses more than 2 s of CPU (HTTP 546). A resumable
-- upload of a 2 GB video costs several seconds of CPU (every byte is read from the render's URL
-- and written to YouTube, both over TLS), and 1,000 schedules due in the same minute cost more
-- than one request can spend. So the schedules worker now does a bounded step per invocation
-- (a byte budget for uploads, a bounded batch of schedules) and the next step is started at once
-- by the database, not a minute later by pg_cron:
--   * an upload that used up its step saves the offset YouTube confirmed, lets go of its lease and
--     calls the worker for that schedule again, all in one transaction (public.pause_upload):
--     pg_net sends the call after the commit, so the next step never starts before the offset is
--     saved, and a step whose call is lost is still due (next_attempt_at = now()) for the
--     every-minute wake-up;
--   * a worker that finished its batch while more schedules are due calls one successor
--     (public.chain_upload_worker); the every-minute wake-up starts one chain per 100 due rows
--     (at most 4), so a backlog is worked through in parallel chains of small invocations;
--   * the render poller does the same (public.chain_render_video_worker).
-- Exactly once is unchanged: leases, the session saved before the first byte, resume from the
-- offset YouTube confirms, the final-chunk marker.

-- Section: functions (helpers)
--
-- The every-minute wake-up starts as many upload worker chains as the backlog needs, not at most
-- four. bench/scaling (dispatch) measured 10,000 schedules due in one minute: four chains, each
-- invocation taking up the ~9 schedules its step budget fits, leave the last schedules minutes
-- late (the lag grows linearly with the backlog), over the 60 s p99 the product promises. One
-- chain per 100 due rows keeps every chain's share of a burst the same as at 400 due; the cap
-- bounds the concurrent invocations (each holds a database connection; hosted's pooler allows a
-- few hundred, shared with the API) and stays within what one pg_cron tick can post through pg_net.
--
-- Upload leases kept alive by the worker instead of sized for the longest step.
--
-- A claimed schedule was leased for 180 s so that no step (at most hosted's 150 s wall clock)
-- could outlive its lease. The cost showed when a step died: ended by the runtime (546 after 2 s
-- of CPU, 256 MB, or a deploy), the row stayed locked for the rest of those 180 s and the upload
-- resumed three to four minutes later. Now the worker renews a short lease (40 s by default) every
-- quarter of it while it still works on the row, so a live step keeps its row however long a chunk
-- takes, and a dead one lets it go within one lease: the next wake-up resumes it from the offset
-- YouTube confirmed. A worker that cannot reach the database to renew loses the row after one
-- lease; its next save_upload_offset then answers 'lease_lost' and it stops, as when a lease ran out
-- before.

-- YouTube counts tags the way its limit is defined: the commas between tags count, and a tag
-- with a space counts two more for the quotes it gets. In public (a pure function): a CHECK runs
-- with the privileges of whoever writes the row, and the worker writes as service_role.
create function public.youtube_tags_length(tags text[]) returns integer
language sql immutable set search_path = '' as $$
  select coalesce(sum(char_length(t) + case when t ~ ' ' then 2 else 0 end), 0)::integer
    + greatest(coalesce(cardinality(tags), 0) - 1, 0)
  from unnest(tags) as t
$$;

revoke all on function public.youtube_tags_length(text[]) from public, anon;

grant execute on function public.youtube_tags_length(text[]) to authenticated, service_role;

create table public.workspace_settings (
  workspace_id uuid primary key references public.workspaces (id) on delete cascade,
  missed_schedule_policy text not null default 'publish_late'
    check (missed_schedule_policy in ('publish_late', 'hold')),
  -- how long before publish_at a youtube_scheduled upload starts
  upload_lead_minutes integer not null default 60 check (upload_lead_minutes between 1 and 10080),
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now()
);

create index workspace_settings_updated_by_idx on public.workspace_settings (updated_by);

create table public.upload_schedules (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- null once the channel was removed (the worker then fails an open schedule with the reason)
  channel_id uuid,
  -- null once the render was deleted
  video_job_id uuid references public.video_jobs (id) on delete set null,

  -- the video resource YouTube gets (limits as YouTube enforces them)
  title text not null check (char_length(title) between 1 and 100 and title !~ '[<>]'),
  description text not null default '' check (octet_length(description) <= 5000 and description !~ '[<>]'),
  tags text[] not null default '{}'
    check (public.youtube_tags_length(tags) <= 500 and array_position(tags, null) is null),
  category_id text not null default '22' check (category_id ~ '^[0-9]{1,3}$'),
  privacy text not null default 'public' check (privacy in ('public', 'unlisted', 'private')),
  made_for_kids boolean not null default false,
  notify_subscribers boolean not null default true,
  thumbnail_url text check (thumbnail_url ~ '^https?://' and char_length(thumbnail_url) <= 2048),

  -- when, in UTC, and the zone the user chose it in (for showing and editing it as they did)
  publish_at timestamptz not null,
  time_zone text not null default 'UTC' check (char_length(time_zone) between 1 and 64),
  strategy text not null default 'youtube_scheduled' check (strategy in ('youtube_scheduled', 'upload_at_time')),

  status text not null default 'scheduled'
    check (status in ('scheduled', 'held', 'uploading', 'processing', 'published', 'failed', 'canceled')),
  -- why a scheduled row is not uploading although it is due: shown to the user with last_error
  -- quota_share: waiting for the borrow hour, apart from one waiting for the reset (quota)
  waiting_reason text check (waiting_reason in ('quota', 'quota_share', 'upload_limit', 'reauth_required', 'retry')),
  youtube_video_id text check (youtube_video_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  -- the privacy YouTube reported for the uploaded video
  youtube_privacy text,
  published_at timestamptz,

  -- claims so far (every worker that took the row)
  attempts integer not null default 0 check (attempts >= 0),
  -- transient failures in a row (reset by progress); too many fail the schedule
  failures integer not null default 0 check (failures >= 0),
  next_attempt_at timestamptz,
  last_error text check (char_length(last_error) <= 2000),
  lease_owner text,
  lease_expires_at timestamptz,

  -- the upload: the session itself is in private.upload_sessions
  upload_total_bytes bigint check (upload_total_bytes > 0),
  -- bytes YouTube has confirmed (Range of its last 308)
  upload_offset bigint not null default 0 check (upload_offset >= 0),
  upload_started_at timestamptz,
  -- set just before the chunk with the last byte goes out: from then on a video may exist
  final_chunk_at timestamptz,
  upload_completed_at timestamptz,
  -- the JSON YouTube received when the session was created (snippet, status, notifySubscribers)
  sent_metadata jsonb,
  thumbnail_status text not null default 'none' check (thumbnail_status in ('none', 'pending', 'set', 'failed')),
  -- when the dispatcher found it missed (null: never missed, or a person rescheduled it since)
  missed_at timestamptz,

  -- bumped by every edit; the worker's session is only used for the version it was made for
  version integer not null default 1 check (version >= 1),
  idempotency_key text not null check (char_length(idempotency_key) between 1 and 255),
  -- sha256 of the request the key was first used with; the same key with another request conflicts
  request_fingerprint text not null check (request_fingerprint ~ '^[0-9a-f]{64}$'),

  created_by uuid references auth.users (id) on delete set null,
  updated_by uuid references auth.users (id) on delete set null,
  canceled_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  canceled_at timestamptz,
  finished_at timestamptz,

  unique (workspace_id, idempotency_key),
  -- target of upload_events' (schedule_id, workspace_id) foreign key
  unique (id, workspace_id),
  -- a channel of another workspace can never be named
  foreign key (channel_id, workspace_id) references public.channels (id, workspace_id)
    on delete set null (channel_id),
  check ((status in ('published', 'failed', 'canceled')) = (finished_at is not null)),
  check (status <> 'published' or youtube_video_id is not null),
  check (status not in ('uploading', 'processing') or upload_started_at is not null),
  -- publishAt makes a private video public: YouTube cannot schedule an unlisted or private release
  constraint upload_schedules_strategy_needs_public check (strategy <> 'youtube_scheduled' or privacy = 'public')
);

-- the calendar: a workspace's schedules by publish time
create index upload_schedules_workspace_id_publish_at_idx on public.upload_schedules (workspace_id, publish_at);

create index upload_schedules_channel_id_idx on public.upload_schedules (channel_id);

create index upload_schedules_video_job_id_idx on public.upload_schedules (video_job_id);

create index upload_schedules_created_by_idx on public.upload_schedules (created_by);

create index upload_schedules_updated_by_idx on public.upload_schedules (updated_by);

create index upload_schedules_canceled_by_idx on public.upload_schedules (canceled_by);

-- what workers claim, and what the every-minute wake-up probes
create index upload_schedules_due_idx on public.upload_schedules (next_attempt_at)
  where status in ('scheduled', 'uploading', 'processing');

create table public.upload_events (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  schedule_id uuid not null,
  at timestamptz not null default now(),
  event text not null check (event ~ '^[a-z_]{1,40}$'),
  from_status text,
  to_status text,
  -- who or what: a member (actor_id), the dispatcher (claims, missed), a worker (actor_label = its id)
  actor_type text not null check (actor_type in ('user', 'dispatcher', 'worker')),
  actor_id uuid references auth.users (id) on delete set null,
  actor_label text,
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  foreign key (schedule_id, workspace_id) references public.upload_schedules (id, workspace_id) on delete cascade
);

create index upload_events_workspace_id_idx on public.upload_events (workspace_id, at);

create index upload_events_schedule_id_idx on public.upload_events (schedule_id, id);

create index upload_events_actor_id_idx on public.upload_events (actor_id);

create table private.upload_sessions (
  schedule_id uuid primary key references public.upload_schedules (id) on delete cascade,
  session_uri_enc bytea not null,
  total_bytes bigint not null check (total_bytes > 0),
  created_at timestamptz not null default now()
);

alter table public.workspace_settings enable row level security;

alter table public.upload_schedules enable row level security;

alter table public.upload_events enable row level security;

revoke all on public.workspace_settings from anon, authenticated;

revoke all on public.upload_schedules from anon, authenticated;

revoke all on public.upload_events from anon, authenticated;

grant all on public.workspace_settings to service_role;

grant all on public.upload_schedules to service_role;

grant all on public.upload_events to service_role;

grant select on public.workspace_settings to authenticated;

grant select on public.upload_schedules to authenticated;

grant select on public.upload_events to authenticated;

revoke all on private.upload_sessions from public, anon, authenticated, service_role;

-- "Not blank" as validation.ts means it: something besides JavaScript whitespace.
alter table public.upload_schedules add constraint upload_schedules_title_not_blank
  check (title ~ '[^\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]');

-- Each tag: no commas, < or >, and not blank. With no commas inside tags, joining them with
-- commas splits exactly, so a blank tag is an empty or all-whitespace stretch between two commas.
alter table public.upload_schedules add constraint upload_schedules_tags_allowed
  check (cardinality(tags) = 0 or (
    array_to_string(tags, '') !~ '[,<>]'
    and ',' || array_to_string(tags, ',') || ',' !~ ',[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*,'));

-- Assignable video categories (videoCategories.list, assignable=true), as validation.ts lists them.
alter table public.upload_schedules add constraint upload_schedules_category_assignable
  check (category_id in ('1', '2', '10', '15', '17', '19', '20', '22', '23', '24', '25', '26', '27', '28', '29'));

alter table public.upload_schedules add constraint upload_schedules_thumbnail_url_has_host
  check (thumbnail_url ~ '^https?://[^\s/?#]+([/?#][^\u0001-\u001f\u007f]*)?$');

-- The API takes an ISO 8601 date with a four-digit year; 'infinity' and the like never reach a row.
alter table public.upload_schedules add constraint upload_schedules_publish_at_iso
  check (isfinite(publish_at) and publish_at >= timestamptz '2000-01-01 00:00:00+00'
         and publish_at < timestamptz '10000-01-01 00:00:00+00');

alter table public.upload_schedules add constraint upload_schedules_time_zone_name
  check (time_zone ~ '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$');

alter table public.upload_schedules add constraint upload_schedules_idempotency_key_printable
  check (idempotency_key ~ '^[\u0021-\u007e]+$');

-- How late a scheduled row may be claimed before it counts as missed. Normal dispatch lag is
-- seconds (at most a minute), so anything beyond this means we were down or could not upload.
create function private.missed_schedule_grace() returns interval
language sql immutable set search_path = '' as $$ select interval '5 minutes' $$;

revoke all on function private.missed_schedule_grace() from public, anon, authenticated, service_role;

-- The workspace's settings, defaults when it never saved any.
create function private.schedule_settings(workspace_id uuid)
returns table (missed_schedule_policy text, upload_lead_minutes integer)
language sql stable security definer set search_path = '' as $$
  select coalesce(s.missed_schedule_policy, 'publish_late'), coalesce(s.upload_lead_minutes, 60)
  from (select 1) one
  left join public.workspace_settings s on s.workspace_id = schedule_settings.workspace_id
$$;

revoke all on function private.schedule_settings(uuid) from public, anon, authenticated, service_role;

-- When the worker should start the upload of a schedule.
create function private.upload_due_at(strategy text, publish_at timestamptz, lead_minutes integer)
returns timestamptz
language sql stable set search_path = '' as $$
  select case when strategy = 'youtube_scheduled'
    then greatest(now(), publish_at - make_interval(mins => lead_minutes))
    else publish_at end
$$;

revoke all on function private.upload_due_at(text, timestamptz, integer) from public, anon, authenticated, service_role;

create function private.add_upload_event(
  schedule public.upload_schedules, event text, from_status text, to_status text,
  actor_type text, actor_id uuid, actor_label text, details jsonb default '{}'::jsonb
) returns void
language sql volatile security definer set search_path = '' as $$
  insert into public.upload_events (workspace_id, schedule_id, event, from_status, to_status, actor_type, actor_id, actor_label, details)
  values ((add_upload_event.schedule).workspace_id, (add_upload_event.schedule).id, add_upload_event.event,
    add_upload_event.from_status, add_upload_event.to_status, add_upload_event.actor_type, add_upload_event.actor_id,
    add_upload_event.actor_label, coalesce(add_upload_event.details, '{}'::jsonb))
$$;

revoke all on function private.add_upload_event(public.upload_schedules, text, text, text, text, uuid, text, jsonb) from public, anon, authenticated, service_role;

-- Raises CES14 for a zone Postgres does not know (cheaper than reading pg_timezone_names).
create function private.check_time_zone(time_zone text) returns void
language plpgsql stable set search_path = '' as $$
begin
  if time_zone is null or time_zone !~ '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$' then
    raise exception 'unknown time zone "%"', time_zone using errcode = 'CES14';
  end if;
  perform now() at time zone time_zone;
exception
  when invalid_parameter_value then
    raise exception 'unknown time zone "%"', time_zone using errcode = 'CES14', hint = 'use an IANA name such as Europe/Berlin';
end
$$;

revoke all on function private.check_time_zone(text) from public, anon, authenticated, service_role;

-- publish_at as the API's PublishAt accepts it, and nothing else Postgres would also read
-- ('infinity', 'tomorrow', 'epoch', a five-digit year): CES13 otherwise.
create function private.resolve_publish_at(publish_at text, time_zone text) returns timestamptz
language plpgsql stable set search_path = '' as $$
begin
  if publish_at is null or publish_at !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}:\d{2})?$' then
    raise exception 'publish_at must be an ISO 8601 date and time, such as 2026-12-01T18:00' using errcode = 'CES13';
  end if;
  if publish_at ~ '(Z|z|[+-]\d{2}:\d{2})$' then
    return publish_at::timestamptz;
  end if;
  return publish_at::timestamp at time zone time_zone;
exception
  when invalid_datetime_format or datetime_field_overflow then
    raise exception 'publish_at is not a valid date and time' using errcode = 'CES13';
end
$$;

revoke all on function private.resolve_publish_at(text, text) from public, anon, authenticated, service_role;

-- How many chains `due` rows (due within the wake-up's horizon) get: one per 100, at least one,
-- at most 32.
create function private.upload_worker_chains(due integer) returns integer
language sql immutable set search_path = '' as $$
  select case when coalesce(upload_worker_chains.due, 0) <= 0 then 0
    else least(32, greatest(1, ceil(upload_worker_chains.due / 100.0)::integer)) end
$$;

revoke all on function private.upload_worker_chains(integer) from public, anon, authenticated;

grant execute on function private.upload_worker_chains(integer) to service_role;

create function private.wake_upload_worker(horizon interval default interval '60 seconds', max_workers integer default null)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  due integer;
  workers integer;
begin
  -- counted up to what the largest number of chains serves, so the probe stays an index range
  select count(*) into due from (
    select 1 from public.upload_schedules s
    where s.status in ('scheduled', 'uploading', 'processing') and s.next_attempt_at <= now() + horizon
    limit 100 * coalesce(max_workers, private.upload_worker_chains(2147483647))
  ) d;
  workers := private.upload_worker_chains(due);
  if max_workers is not null then
    workers := least(workers, max_workers);
  end if;
  for i in 1..workers loop
    if private.post_to_worker('schedules/worker', 150000) is null then
      return 0; -- Vault secrets missing (warned)
    end if;
  end loop;
  return workers;
end
$$;

revoke all on function private.wake_upload_worker(interval, integer) from public, anon, authenticated, service_role;

grant execute on function private.wake_upload_worker(interval, integer) to service_role;

-- Creates a schedule, or finds the one created before with the same idempotency key.
-- publish_at: an instant with offset, or a local date-time read in time_zone.
-- outcome: 'created' | 'existing' (same key, same request) | 'key_conflict' (same key, other request)
create function public.create_upload_schedule(
  workspace_id uuid, channel_id uuid, video_job_id uuid, title text, description text, tags text[],
  category_id text, privacy text, made_for_kids boolean, notify_subscribers boolean, thumbnail_url text,
  publish_at text, time_zone text, strategy text, idempotency_key text, request_fingerprint text
) returns table (outcome text, schedule_id uuid)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  ws uuid := create_upload_schedule.workspace_id;
  caller uuid;
  existing public.upload_schedules;
  created public.upload_schedules;
  at_utc timestamptz;
  lead integer;
  chosen_strategy text := coalesce(create_upload_schedule.strategy,
    case when coalesce(create_upload_schedule.privacy, 'public') = 'public' then 'youtube_scheduled' else 'upload_at_time' end);
begin
  caller := private.require_workspace_role(ws, 'editor', 'change schedules');
  select * into existing from public.upload_schedules s
  where s.workspace_id = ws and s.idempotency_key = create_upload_schedule.idempotency_key;
  if existing.id is not null then
    return query select case when existing.request_fingerprint = create_upload_schedule.request_fingerprint
      then 'existing' else 'key_conflict' end, existing.id;
    return;
  end if;

  perform private.check_time_zone(create_upload_schedule.time_zone);
  at_utc := private.resolve_publish_at(create_upload_schedule.publish_at, create_upload_schedule.time_zone);
  if at_utc <= now() then
    raise exception 'publish_at must be in the future' using errcode = 'CES13';
  end if;
  perform private.check_schedule_targets(ws, create_upload_schedule.channel_id, create_upload_schedule.video_job_id);
  select s.upload_lead_minutes into lead from private.schedule_settings(ws) s;

  insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, description, tags, category_id,
    privacy, made_for_kids, notify_subscribers, thumbnail_url, publish_at, time_zone, strategy, status,
    next_attempt_at, idempotency_key, request_fingerprint, created_by, updated_by)
  values (ws, create_upload_schedule.channel_id, create_upload_schedule.video_job_id, create_upload_schedule.title,
    coalesce(create_upload_schedule.description, ''), coalesce(create_upload_schedule.tags, '{}'),
    coalesce(create_upload_schedule.category_id, '22'), coalesce(create_upload_schedule.privacy, 'public'),
    coalesce(create_upload_schedule.made_for_kids, false), coalesce(create_upload_schedule.notify_subscribers, true),
    create_upload_schedule.thumbnail_url, at_utc, create_upload_schedule.time_zone,
    chosen_strategy, 'scheduled', private.upload_due_at(chosen_strategy, at_utc, lead),
    create_upload_schedule.idempotency_key, create_upload_schedule.request_fingerprint, caller, caller)
  -- Another member may have used the key a moment ago: then that schedule is the answer.
  on conflict (workspace_id, idempotency_key) do nothing
  returning * into created;
  if created.id is null then
    select * into existing from public.upload_schedules s
    where s.workspace_id = ws and s.idempotency_key = create_upload_schedule.idempotency_key;
    return query select case when existing.request_fingerprint = create_upload_schedule.request_fingerprint
      then 'existing' else 'key_conflict' end, existing.id;
    return;
  end if;

  perform private.add_upload_event(created, 'created', null, 'scheduled', 'user', caller, null,
    jsonb_build_object('publish_at', created.publish_at, 'time_zone', created.time_zone, 'strategy', created.strategy,
      'upload_due_at', created.next_attempt_at));
  if created.next_attempt_at <= now() + interval '60 seconds' then
    perform private.wake_upload_worker();
  end if;
  return query select 'created'::text, created.id;
end
$$;

revoke all on function public.create_upload_schedule(uuid, uuid, uuid, text, text, text[], text, text, boolean, boolean, text, text, text, text, text, text) from public, anon, authenticated;

grant execute on function public.create_upload_schedule(uuid, uuid, uuid, text, text, text[], text, text, boolean, boolean, text, text, text, text, text, text) to authenticated;

create function private.lock_schedule_for_change(schedule_id uuid, min_role public.workspace_role)
returns public.upload_schedules
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
begin
  select * into s from public.upload_schedules u where u.id = lock_schedule_for_change.schedule_id for update;
  -- A schedule of another tenant is "not found", as one that does not exist.
  if s.id is null or not exists (
    select 1 from public.workspace_members m where m.workspace_id = s.workspace_id and m.user_id = (select auth.uid())
  ) then
    raise exception 'schedule not found' using errcode = 'CES01';
  end if;
  perform private.require_workspace_role(s.workspace_id, min_role, 'change schedules');
  return s;
end
$$;

revoke all on function private.lock_schedule_for_change(uuid, public.workspace_role) from public, anon, authenticated, service_role;

-- Changes a schedule that has not started uploading (scheduled or held). `changes` holds the
-- fields to set: title, description, tags, category_id, privacy, made_for_kids,
-- notify_subscribers, thumbnail_url, channel_id, video_job_id, strategy, publish_at (text, as in
-- create, read in the new or current time_zone), time_zone. Changing publish_at or strategy is a
-- reschedule: the due time is recomputed, a missed or held schedule starts over. With
-- expected_version, a schedule changed by someone else meanwhile is a conflict (CES04).
create function public.update_upload_schedule(schedule_id uuid, changes jsonb, expected_version integer default null)
returns public.upload_schedules
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
  old public.upload_schedules;
  caller uuid;
  unknown_keys text[];
  lead integer;
  new_zone text;
  rescheduled boolean;
  changed text[];
  next_status text;
begin
  s := private.lock_schedule_for_change(update_upload_schedule.schedule_id, 'editor');
  caller := (select auth.uid());
  if jsonb_typeof(changes) is distinct from 'object' then
    raise exception 'changes must be a JSON object' using errcode = '22023';
  end if;
  select array_agg(k order by k) into unknown_keys from jsonb_object_keys(changes) k
  where k not in ('title', 'description', 'tags', 'category_id', 'privacy', 'made_for_kids', 'notify_subscribers',
    'thumbnail_url', 'channel_id', 'video_job_id', 'strategy', 'publish_at', 'time_zone');
  if unknown_keys is not null then
    raise exception 'unknown fields: %', array_to_string(unknown_keys, ', ') using errcode = '22023';
  end if;
  if expected_version is not null and expected_version <> s.version then
    raise exception 'the schedule was changed by someone else (version % is now %); reload it', expected_version, s.version
      using errcode = 'CES04';
  end if;
  if s.status not in ('scheduled', 'held') then
    raise exception 'the schedule is % and can no longer be changed', s.status using errcode = 'CES02',
      hint = case when s.status in ('uploading', 'processing') then 'the upload has started: YouTube has the metadata now' else '' end;
  end if;
  old := s;

  if changes ? 'title' then s.title := changes ->> 'title'; end if;
  if changes ? 'description' then s.description := coalesce(changes ->> 'description', ''); end if;
  if changes ? 'tags' then
    s.tags := coalesce(array(select jsonb_array_elements_text(changes -> 'tags')), '{}');
  end if;
  if changes ? 'category_id' then s.category_id := changes ->> 'category_id'; end if;
  if changes ? 'privacy' then s.privacy := changes ->> 'privacy'; end if;
  if changes ? 'made_for_kids' then s.made_for_kids := (changes ->> 'made_for_kids')::boolean; end if;
  if changes ? 'notify_subscribers' then s.notify_subscribers := (changes ->> 'notify_subscribers')::boolean; end if;
  if changes ? 'thumbnail_url' then s.thumbnail_url := changes ->> 'thumbnail_url'; end if;
  if changes ? 'channel_id' then s.channel_id := (changes ->> 'channel_id')::uuid; end if;
  if changes ? 'video_job_id' then s.video_job_id := (changes ->> 'video_job_id')::uuid; end if;
  if changes ? 'strategy' then s.strategy := changes ->> 'strategy'; end if;
  if changes ? 'time_zone' then
    new_zone := changes ->> 'time_zone';
    perform private.check_time_zone(new_zone);
    s.time_zone := new_zone;
  end if;
  if changes ? 'publish_at' then
    s.publish_at := private.resolve_publish_at(changes ->> 'publish_at', s.time_zone);
    if s.publish_at <= now() then
      raise exception 'publish_at must be in the future' using errcode = 'CES13';
    end if;
  end if;
  if changes ? 'channel_id' or changes ? 'video_job_id' then
    perform private.check_schedule_targets(s.workspace_id, s.channel_id, s.video_job_id);
  end if;

  rescheduled := s.publish_at is distinct from old.publish_at or s.strategy is distinct from old.strategy;
  if rescheduled then
    select x.upload_lead_minutes into lead from private.schedule_settings(s.workspace_id) x;
    -- a held schedule is due again; a rescheduled one is no longer missed, nor waiting
    next_status := 'scheduled';
    s.next_attempt_at := private.upload_due_at(s.strategy, s.publish_at, lead);
    s.missed_at := null;
    s.waiting_reason := null;
    s.failures := 0;
  else
    next_status := s.status;
  end if;

  select array_agg(k order by k) into changed from jsonb_object_keys(changes) k
  where to_jsonb(s) -> k is distinct from to_jsonb(old) -> k;

  update public.upload_schedules u set
    title = s.title, description = s.description, tags = s.tags, category_id = s.category_id, privacy = s.privacy,
    made_for_kids = s.made_for_kids, notify_subscribers = s.notify_subscribers, thumbnail_url = s.thumbnail_url,
    channel_id = s.channel_id, video_job_id = s.video_job_id, strategy = s.strategy, time_zone = s.time_zone,
    publish_at = s.publish_at, next_attempt_at = s.next_attempt_at, missed_at = s.missed_at,
    waiting_reason = s.waiting_reason, failures = s.failures, status = next_status,
    last_error = case when rescheduled then null else u.last_error end,
    version = u.version + 1, updated_by = caller
  where u.id = s.id
  returning * into s;

  perform private.add_upload_event(s, case when rescheduled then 'rescheduled' else 'edited' end, old.status, s.status,
    'user', caller, null,
    jsonb_build_object('fields', coalesce(to_jsonb(changed), '[]'::jsonb), 'version', s.version)
      || case when rescheduled then jsonb_build_object('publish_at_before', old.publish_at, 'publish_at', s.publish_at,
           'strategy', s.strategy, 'upload_due_at', s.next_attempt_at) else '{}'::jsonb end);
  if s.status = 'scheduled' and s.next_attempt_at <= now() + interval '60 seconds' then
    perform private.wake_upload_worker();
  end if;
  return s;
end
$$;

revoke all on function public.update_upload_schedule(uuid, jsonb, integer) from public, anon, authenticated;

grant execute on function public.update_upload_schedule(uuid, jsonb, integer) to authenticated;

-- Cancels a schedule. Before the upload started it simply never happens; during the upload the
-- worker stops at its next chunk (the session is abandoned and no video appears). Once the last
-- chunk went out, or the video is on YouTube, it is too late (CES03). Canceling twice is fine.
-- outcome: 'canceled' | 'already_canceled'
create function public.cancel_upload_schedule(schedule_id uuid)
returns table (outcome text, status text)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  s public.upload_schedules;
  caller uuid;
  from_status text;
begin
  s := private.lock_schedule_for_change(cancel_upload_schedule.schedule_id, 'editor');
  caller := (select auth.uid());
  if s.status = 'canceled' then
    return query select 'already_canceled'::text, s.status;
    return;
  end if;
  if s.status in ('processing', 'published') or (s.status = 'uploading' and s.final_chunk_at is not null) then
    raise exception 'too late to cancel: the video is on YouTube%', coalesce(' as ' || s.youtube_video_id, ' (its upload is finishing)')
      using errcode = 'CES03', hint = 'delete it or change its visibility in YouTube Studio';
  end if;
  if s.status = 'failed' then
    raise exception 'the schedule has failed and cannot be canceled' using errcode = 'CES02';
  end if;
  from_status := s.status;
  -- The lease stays with a worker that is uploading: it sees the cancel on its next save and stops.
  update public.upload_schedules u set status = 'canceled', canceled_by = caller, canceled_at = now(),
    finished_at = now(), next_attempt_at = null, waiting_reason = null, version = u.version + 1, updated_by = caller
  where u.id = s.id
  returning * into s;
  perform private.add_upload_event(s, 'canceled', from_status, 'canceled', 'user', caller, null,
    jsonb_build_object('during_upload', from_status = 'uploading', 'upload_offset', s.upload_offset,
      'upload_total_bytes', s.upload_total_bytes));
  return query select 'canceled'::text, s.status;
end
$$;

revoke all on function public.cancel_upload_schedule(uuid) from public, anon, authenticated;

grant execute on function public.cancel_upload_schedule(uuid) to authenticated;

-- Publishes a scheduled or held schedule now: the worker uploads it at once with its final
-- privacy (no publishAt). CES02 once the upload has started.
create function public.publish_upload_schedule_now(schedule_id uuid)
returns public.upload_schedules
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
  caller uuid;
  from_status text;
begin
  s := private.lock_schedule_for_change(publish_upload_schedule_now.schedule_id, 'editor');
  caller := (select auth.uid());
  if s.status not in ('scheduled', 'held') then
    raise exception 'the schedule is % and cannot be published now', s.status using errcode = 'CES02',
      hint = case when s.status in ('uploading', 'processing') then 'the upload has started; publish it in YouTube Studio' else '' end;
  end if;
  perform private.check_schedule_targets(s.workspace_id, s.channel_id, s.video_job_id);
  from_status := s.status;
  update public.upload_schedules u set status = 'scheduled', publish_at = now(), next_attempt_at = now(),
    missed_at = null, waiting_reason = null, failures = 0, last_error = null,
    version = u.version + 1, updated_by = caller
  where u.id = s.id
  returning * into s;
  perform private.add_upload_event(s, 'publish_now', from_status, 'scheduled', 'user', caller, null,
    jsonb_build_object('publish_at', s.publish_at));
  perform private.wake_upload_worker();
  return s;
end
$$;

revoke all on function public.publish_upload_schedule_now(uuid) from public, anon, authenticated;

grant execute on function public.publish_upload_schedule_now(uuid) to authenticated;

-- Owners choose what happens to missed schedules and how early youtube_scheduled uploads start.
-- A NULL keeps the current value.
create function public.update_workspace_settings(
  workspace_id uuid, missed_schedule_policy text default null, upload_lead_minutes integer default null
) returns public.workspace_settings
language plpgsql volatile security definer set search_path = '' as $$
declare
  caller uuid;
  saved public.workspace_settings;
begin
  caller := private.require_workspace_role(update_workspace_settings.workspace_id, 'owner', 'change schedules');
  insert into public.workspace_settings as w (workspace_id, missed_schedule_policy, upload_lead_minutes, updated_by)
  values (update_workspace_settings.workspace_id,
    coalesce(update_workspace_settings.missed_schedule_policy, 'publish_late'),
    coalesce(update_workspace_settings.upload_lead_minutes, 60), caller)
  on conflict on constraint workspace_settings_pkey do update set
    missed_schedule_policy = coalesce(update_workspace_settings.missed_schedule_policy, w.missed_schedule_policy),
    upload_lead_minutes = coalesce(update_workspace_settings.upload_lead_minutes, w.upload_lead_minutes),
    updated_by = caller, updated_at = now()
  returning * into saved;
  return saved;
end
$$;

revoke all on function public.update_workspace_settings(uuid, text, integer) from public, anon, authenticated;

grant execute on function public.update_workspace_settings(uuid, text, integer) to authenticated;

-- Claims up to max_rows due schedules for `worker` with a lease. Missed scheduled rows of
-- workspaces that hold them become `held` (with an event and a warning in ops.system_logs) and
-- are not returned; missed rows of the others are returned marked missed_at (publish late).
create function private.claim_upload_schedules(
  worker text, max_rows integer default 10, lease_seconds integer default 180, only_schedule uuid default null
) returns setof public.upload_schedules
language plpgsql volatile security definer set search_path = '' as $$
declare
  r public.upload_schedules;
  claimed public.upload_schedules;
  policy text;
  late_seconds integer;
begin
  for r in
    select * from public.upload_schedules s
    where s.status in ('scheduled', 'uploading', 'processing') and s.next_attempt_at <= now()
      and (claim_upload_schedules.only_schedule is null or s.id = claim_upload_schedules.only_schedule)
    order by s.next_attempt_at, s.publish_at
    limit claim_upload_schedules.max_rows
    for update skip locked
  loop
    if r.status = 'scheduled' and r.missed_at is null and r.publish_at < now() - private.missed_schedule_grace() then
      select x.missed_schedule_policy into policy from private.schedule_settings(r.workspace_id) x;
      late_seconds := extract(epoch from now() - r.publish_at)::integer;
      if policy = 'hold' then
        update public.upload_schedules s set status = 'held', missed_at = now(), next_attempt_at = null,
          lease_owner = null, lease_expires_at = null, waiting_reason = null,
          last_error = format('missed its publish time by %s; held for a person to reschedule or publish it now',
            justify_interval(make_interval(secs => late_seconds)))
        where s.id = r.id returning * into claimed;
        perform private.add_upload_event(claimed, 'missed', r.status, 'held', 'dispatcher', null, claim_upload_schedules.worker,
          jsonb_build_object('policy', policy, 'late_by_seconds', late_seconds, 'publish_at', r.publish_at));
        insert into ops.system_logs (event_type, severity, source, message, context)
        values ('upload_schedule_held', 'warning', 'schedules',
          format('a schedule missed its publish time by %s s and is held for a person', late_seconds),
          jsonb_build_object('schedule_id', r.id, 'workspace_id', r.workspace_id, 'publish_at', r.publish_at));
        continue;
      end if;
      update public.upload_schedules s set missed_at = now() where s.id = r.id;
      r.missed_at := now();
      perform private.add_upload_event(r, 'missed', r.status, r.status, 'dispatcher', null, claim_upload_schedules.worker,
        jsonb_build_object('policy', policy, 'late_by_seconds', late_seconds, 'publish_at', r.publish_at));
    end if;
    update public.upload_schedules s set
      lease_owner = claim_upload_schedules.worker,
      lease_expires_at = now() + make_interval(secs => claim_upload_schedules.lease_seconds),
      next_attempt_at = now() + make_interval(secs => claim_upload_schedules.lease_seconds),
      attempts = s.attempts + 1
    where s.id = r.id
    returning * into claimed;
    return next claimed;
  end loop;
end
$$;

revoke all on function private.claim_upload_schedules(text, integer, integer, uuid) from public, anon, authenticated;

grant execute on function private.claim_upload_schedules(text, integer, integer, uuid) to service_role;

-- The earliest due time of any open schedule (a woken worker waits for rows due within its budget).
create function private.next_upload_due_at() returns timestamptz
language sql stable security definer set search_path = '' as $$
  select min(s.next_attempt_at) from public.upload_schedules s
  where s.status in ('scheduled', 'uploading', 'processing')
$$;

revoke all on function private.next_upload_due_at() from public, anon, authenticated;

grant execute on function private.next_upload_due_at() to service_role;

-- Saves the session URI of a new upload (before its first byte) and moves the schedule to
-- uploading. outcome: 'started' | 'changed' (edited since the worker read version
-- expected_version: make a session for the new version) | 'canceled' | 'lease_lost' | a status
-- that cannot start an upload. From uploading it replaces a session that is gone, as long as no
-- last chunk was ever sent ('finishing' otherwise).
create function private.begin_upload(
  schedule_id uuid, worker text, expected_version integer, session_uri text, total_bytes bigint, sent jsonb,
  lease_seconds integer default 180
) returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
  restarted boolean;
begin
  select * into s from public.upload_schedules u where u.id = begin_upload.schedule_id for update;
  if s.id is null then
    return 'not_found';
  end if;
  if s.status = 'canceled' then
    return 'canceled';
  end if;
  if s.lease_owner is distinct from begin_upload.worker then
    return 'lease_lost';
  end if;
  if s.status not in ('scheduled', 'uploading') then
    return s.status;
  end if;
  if s.status = 'uploading' and s.final_chunk_at is not null then
    return 'finishing';
  end if;
  if s.status = 'scheduled' and s.version <> begin_upload.expected_version then
    return 'changed';
  end if;
  restarted := s.status = 'uploading';
  insert into private.upload_sessions as p (schedule_id, session_uri_enc, total_bytes)
  values (s.id, private.encrypt_token(begin_upload.session_uri), begin_upload.total_bytes)
  on conflict on constraint upload_sessions_pkey do update set session_uri_enc = excluded.session_uri_enc,
    total_bytes = excluded.total_bytes, created_at = now();
  update public.upload_schedules u set status = 'uploading', upload_total_bytes = begin_upload.total_bytes,
    upload_offset = 0, upload_started_at = coalesce(u.upload_started_at, now()), final_chunk_at = null,
    sent_metadata = begin_upload.sent, waiting_reason = null, last_error = null,
    lease_expires_at = now() + make_interval(secs => begin_upload.lease_seconds),
    next_attempt_at = now() + make_interval(secs => begin_upload.lease_seconds)
  where u.id = s.id;
  perform private.add_upload_event(s, case when restarted then 'upload_restarted' else 'upload_started' end,
    s.status, 'uploading', 'worker', null, begin_upload.worker,
    jsonb_build_object('total_bytes', begin_upload.total_bytes, 'version', s.version, 'attempt', s.attempts,
      'publish_at_sent', begin_upload.sent -> 'status' -> 'publishAt', 'missed', s.missed_at is not null));
  return 'started';
end
$$;

revoke all on function private.begin_upload(uuid, text, integer, text, bigint, jsonb, integer) from public, anon, authenticated;

grant execute on function private.begin_upload(uuid, text, integer, text, bigint, jsonb, integer) to service_role;

-- The saved session of a schedule's upload (decrypted), for the worker that resumes it.
create function private.upload_session(schedule_id uuid)
returns table (session_uri text, total_bytes bigint, created_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select private.decrypt_token(p.session_uri_enc), p.total_bytes, p.created_at
  from private.upload_sessions p where p.schedule_id = upload_session.schedule_id
$$;

revoke all on function private.upload_session(uuid) from public, anon, authenticated;

grant execute on function private.upload_session(uuid) to service_role;

-- Stores the offset YouTube confirmed and extends the lease. 'ok' | 'canceled' | 'lease_lost'.
create function private.save_upload_offset(schedule_id uuid, worker text, upload_offset bigint, lease_seconds integer default 180)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  current_status text;
begin
  update public.upload_schedules u set upload_offset = save_upload_offset.upload_offset,
    lease_expires_at = now() + make_interval(secs => save_upload_offset.lease_seconds),
    next_attempt_at = now() + make_interval(secs => save_upload_offset.lease_seconds)
  where u.id = save_upload_offset.schedule_id and u.lease_owner = save_upload_offset.worker and u.status = 'uploading';
  if found then
    return 'ok';
  end if;
  select u.status into current_status from public.upload_schedules u where u.id = save_upload_offset.schedule_id;
  return case when current_status = 'canceled' then 'canceled' else 'lease_lost' end;
end
$$;

revoke all on function private.save_upload_offset(uuid, text, bigint, integer) from public, anon, authenticated;

grant execute on function private.save_upload_offset(uuid, text, bigint, integer) to service_role;

-- Marks that the chunk with the last byte is about to go out: from now on a cancel is too late and
-- a lost session is never replaced. 'ok' | 'canceled' | 'lease_lost'.
create function private.begin_final_chunk(schedule_id uuid, worker text) returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  current_status text;
begin
  update public.upload_schedules u set final_chunk_at = coalesce(u.final_chunk_at, now())
  where u.id = begin_final_chunk.schedule_id and u.lease_owner = begin_final_chunk.worker and u.status = 'uploading';
  if found then
    return 'ok';
  end if;
  select u.status into current_status from public.upload_schedules u where u.id = begin_final_chunk.schedule_id;
  return case when current_status = 'canceled' then 'canceled' else 'lease_lost' end;
end
$$;

revoke all on function private.begin_final_chunk(uuid, text) from public, anon, authenticated;

grant execute on function private.begin_final_chunk(uuid, text) to service_role;

-- Records the video YouTube made from the schedule's session, whoever learnt of it (the worker
-- that sent the last chunk, or one that asked the session later): the video exists, so this does
-- not depend on the lease. 'recorded' | 'already_recorded'; CES03 if a different video was
-- recorded before (that would be a second upload: never expected).
create function private.record_uploaded_video(
  schedule_id uuid, worker text, youtube_video_id text, youtube_privacy text, learnt_from text
) returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
  from_status text;
begin
  select * into s from public.upload_schedules u where u.id = record_uploaded_video.schedule_id for update;
  if s.id is null then
    return 'not_found';
  end if;
  if s.youtube_video_id is not null then
    if s.youtube_video_id = record_uploaded_video.youtube_video_id then
      return 'already_recorded';
    end if;
    raise exception 'schedule % already has video %, not %', s.id, s.youtube_video_id, record_uploaded_video.youtube_video_id
      using errcode = 'CES03';
  end if;
  from_status := s.status;
  update public.upload_schedules u set youtube_video_id = record_uploaded_video.youtube_video_id,
    youtube_privacy = record_uploaded_video.youtube_privacy, upload_completed_at = now(),
    upload_offset = coalesce(u.upload_total_bytes, u.upload_offset), final_chunk_at = coalesce(u.final_chunk_at, now()),
    status = case when u.status = 'uploading' then 'processing' else u.status end
  where u.id = s.id
  returning * into s;
  perform private.add_upload_event(s, 'uploaded', from_status, s.status, 'worker', null, record_uploaded_video.worker,
    jsonb_build_object('youtube_video_id', s.youtube_video_id, 'privacy', record_uploaded_video.youtube_privacy,
      'learnt_from', record_uploaded_video.learnt_from));
  return 'recorded';
end
$$;

revoke all on function private.record_uploaded_video(uuid, text, text, text, text) from public, anon, authenticated;

grant execute on function private.record_uploaded_video(uuid, text, text, text, text) to service_role;

-- Ends one step of an upload: saves the offset YouTube confirmed, hands the row back (due now,
-- still uploading) and calls the worker for this schedule with `next_call` (its options), in one
-- transaction. 'ok' | 'canceled' | 'lease_lost' (nothing changed then).
create function private.pause_upload(schedule_id uuid, worker text, upload_offset bigint, next_call jsonb)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
  current_status text;
begin
  update public.upload_schedules u set upload_offset = pause_upload.upload_offset, next_attempt_at = now(),
    lease_owner = null, lease_expires_at = null, waiting_reason = null, last_error = null, failures = 0
  where u.id = pause_upload.schedule_id and u.lease_owner = pause_upload.worker and u.status = 'uploading'
  returning * into s;
  if s.id is null then
    select u.status into current_status from public.upload_schedules u where u.id = pause_upload.schedule_id;
    return case when current_status = 'canceled' then 'canceled' else 'lease_lost' end;
  end if;
  perform private.add_upload_event(s, 'upload_paused', 'uploading', 'uploading', 'worker', null, pause_upload.worker,
    jsonb_build_object('upload_offset', pause_upload.upload_offset, 'total_bytes', s.upload_total_bytes,
      'reason', 'step budget used up; the next step starts at once'));
  perform private.call_worker('schedules/worker',
    coalesce(pause_upload.next_call, '{}'::jsonb) || jsonb_build_object('schedule_id', s.id), 150000);
  return 'ok';
end
$$;

revoke all on function private.pause_upload(uuid, text, bigint, jsonb) from public, anon, authenticated;

grant execute on function private.pause_upload(uuid, text, bigint, jsonb) to service_role;

-- A worker that finished its batch calls one successor when more is due within `horizon_seconds`
-- (rows in `except_ids`, paused uploads that already called their own next step, do not count).
-- Returns the number of calls made (0 or 1).
create function private.chain_upload_worker(horizon_seconds integer default 60, except_ids uuid[] default '{}')
returns integer
language plpgsql volatile security definer set search_path = '' as $$
begin
  if not exists (
    select 1 from public.upload_schedules s
    where s.status in ('scheduled', 'uploading', 'processing')
      and s.next_attempt_at <= now() + make_interval(secs => chain_upload_worker.horizon_seconds)
      and s.id <> all (chain_upload_worker.except_ids)
  ) then
    return 0;
  end if;
  return case when private.post_to_worker('schedules/worker', 150000) is null then 0 else 1 end;
end
$$;

revoke all on function private.chain_upload_worker(integer, uuid[]) from public, anon, authenticated;

grant execute on function private.chain_upload_worker(integer, uuid[]) to service_role;

-- A channel is removed only once it is disconnected and none of its uploads is unfinished, as
-- DELETE /channels/:id requires (409 channel_connected / uploads_pending): removing it earlier
-- would strand the uploads and leave the refresh token unrevoked at Google. Held for API roles;
-- a workspace's deletion removes its channels as the table owner (the foreign key's cascade), so
-- it is not affected.
create function private.guard_channel_removal() returns trigger
language plpgsql set search_path = '' as $$
declare
  pending integer;
begin
  if current_user::text not in ('authenticated', 'anon') then
    return old;
  end if;
  if old.status <> 'disconnected' then
    raise exception 'disconnect the channel first, then remove it (it is %)', old.status using errcode = 'CEH01';
  end if;
  -- the caller is an owner of the channel's workspace (the delete policy), so RLS shows them all
  -- of its schedules
  select count(*) into pending from public.upload_schedules s where s.channel_id = old.id and s.finished_at is null;
  if pending > 0 then
    raise exception '% upload(s) to this channel are not finished; cancel them first', pending using errcode = 'CEH02';
  end if;
  return old;
end
$$;

revoke all on function private.guard_channel_removal() from public, anon, authenticated, service_role;

-- 'ok' while the row is still this worker's and open; 'canceled' or 'lease_lost' otherwise (the
-- worker stops at its next write either way). next_attempt_at moves with the lease: claims take
-- rows by next_attempt_at, and a row must not look due while its lease is alive.
create function private.renew_upload_lease(schedule_id uuid, worker text, lease_seconds integer)
returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  current_status text;
begin
  if renew_upload_lease.lease_seconds is null or renew_upload_lease.lease_seconds < 1 then
    raise exception 'lease_seconds must be at least 1' using errcode = '22023';
  end if;
  update public.upload_schedules u set
    lease_expires_at = now() + make_interval(secs => renew_upload_lease.lease_seconds),
    next_attempt_at = now() + make_interval(secs => renew_upload_lease.lease_seconds)
  where u.id = renew_upload_lease.schedule_id and u.lease_owner = renew_upload_lease.worker
    and u.status in ('scheduled', 'uploading', 'processing');
  if found then
    return 'ok';
  end if;
  select u.status into current_status from public.upload_schedules u where u.id = renew_upload_lease.schedule_id;
  return case when current_status = 'canceled' then 'canceled' else 'lease_lost' end;
end
$$;

revoke all on function private.renew_upload_lease(uuid, text, integer) from public, anon, authenticated;

grant execute on function private.renew_upload_lease(uuid, text, integer) to service_role;

comment on function private.renew_upload_lease(uuid, text, integer) is
  'Extends the lease of a schedule this worker still holds (called every quarter of the lease while it works on the row).';

insert into ops.metric_sources (key, table_name, changed_column, failed_statuses, alert_on_failure, description) values
  ('generations', 'public.generated_content', 'updated_at', '{}', false, 'Gemini generations (issue 5)'),
  ('renders', 'public.video_jobs', 'finished_at', '{failed}', true, 'RevID renders (issue 5)'),
  ('uploads', 'public.upload_schedules', 'finished_at', '{failed}', true, 'YouTube uploads (issue 6)');

create trigger upload_schedules_touch_updated_at before update on public.upload_schedules
  for each row execute function private.touch_updated_at();

create trigger workspace_settings_touch_updated_at before update on public.workspace_settings
  for each row execute function private.touch_updated_at();

-- Members read; every change goes through the functions above (they check roles themselves).
create policy "members read workspace settings" on public.workspace_settings
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read upload schedules" on public.upload_schedules
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read upload events" on public.upload_events
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

select cron.schedule('upload-dispatch', '* * * * *', 'select private.wake_upload_worker()');

create trigger channels_guard_removal before delete on public.channels
  for each row execute function private.guard_channel_removal();
