-- Product notifications by email, durable and never duplicated.
--
-- Every notification is a row of private.notification_outbox written in the transaction of the
-- event it reports (triggers on the tables whose state changes, so every writer is covered: the
-- upload engine, the render poller, the sync worker, the API), once per event and recipient
-- (dedupe_key is unique). The `notifications/worker` edge function claims due rows with a lease,
-- sends each through the email provider's HTTP API with the row id as Idempotency-Key, records the
-- provider's message id and marks the row sent; a failed attempt goes back to pending with
-- backoff, and a worker that dies mid-batch leaves its rows to the next one once the lease ran
-- out. Resending after a lost answer is safe because the provider answers a repeated key with the
-- first email's id instead of sending again (24 hours; retries end well within that).
--
--   pending ──claim (lease)──▶ sending ──provider 2xx──▶ sent (provider_message_id)
--      ▲                          │ 429 / 5xx / no answer: back to pending after 30 s, 1, 2 … min
--      └──────────────────────────┘ 4xx or max_attempts spent: failed
--   recipient opted out, invitation no longer pending: skipped (at enqueue or at claim)
--
-- Events: upload published, upload failed or waiting on quota, YouTube access needs
-- re-authorisation, render ready or failed, invitation (to the invitee's address), daily alert
-- digest for platform admins. Workspace events go to the workspace's owners and to the member who
-- started the thing (created the schedule, requested the render, connected the channel).
-- Preferences are per user and category (public.notification_preferences, RLS: own row only); no
-- row means every category is on. An invitation is not a preference: the invitee asked for
-- nothing and may have no account yet.

create table public.notification_preferences (
  user_id uuid primary key default auth.uid() references auth.users (id) on delete cascade,
  upload_published boolean not null default true,
  upload_problems boolean not null default true,
  youtube_reauth boolean not null default true,
  render_finished boolean not null default true,
  alert_digest boolean not null default true,
  updated_at timestamptz not null default now()
);

create table private.notification_outbox (
  id bigint generated always as identity primary key,
  event text not null check (event in ('upload_published', 'upload_failed', 'upload_waiting_quota',
    'youtube_reauth_required', 'render_ready', 'render_failed', 'invitation', 'alert_digest')),
  -- once per event and recipient: a second enqueue of the same key is a no-op
  dedupe_key text not null unique check (char_length(dedupe_key) between 1 and 300),
  -- a user (their current address is read at send time) or an invitation (its address)
  user_id uuid references auth.users (id) on delete cascade,
  invitation_id uuid references public.invitations (id) on delete cascade,
  workspace_id uuid references public.workspaces (id) on delete cascade,
  -- what the template shows (names, titles, times); never an address, token or link
  payload jsonb not null default '{}'::jsonb check (jsonb_typeof(payload) = 'object'),
  -- the invitation's single-use token (the accept link needs it), encrypted with the Vault key and
  -- erased once the row is finished
  secret_enc bytea,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'skipped')),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 8 check (max_attempts between 1 and 20),
  next_attempt_at timestamptz default now(),
  lease_owner text check (char_length(lease_owner) <= 100),
  lease_expires_at timestamptz,
  provider_message_id text check (char_length(provider_message_id) <= 200),
  last_status_code integer,
  last_error text check (char_length(last_error) <= 500),
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  finished_at timestamptz,
  check ((user_id is null) <> (invitation_id is null)),
  check ((event = 'invitation') = (invitation_id is not null)),
  check ((status in ('sent', 'failed', 'skipped')) = (finished_at is not null)),
  check (status <> 'sent' or provider_message_id is not null),
  check (status <> 'pending' or next_attempt_at is not null),
  check (status <> 'sending' or (lease_owner is not null and lease_expires_at is not null)),
  check (status in ('pending', 'sending') or secret_enc is null)
);

create index notification_outbox_due_idx on private.notification_outbox (next_attempt_at) where status = 'pending';

create index notification_outbox_lease_idx on private.notification_outbox (lease_expires_at) where status = 'sending';

create index notification_outbox_user_id_idx on private.notification_outbox (user_id);

create index notification_outbox_invitation_id_idx on private.notification_outbox (invitation_id);

create index notification_outbox_workspace_id_idx on private.notification_outbox (workspace_id);

create index notification_outbox_created_at_idx on private.notification_outbox (created_at);

-- When the worker was last woken by an enqueue, so that a burst of events wakes it once.
create table private.notification_wake (
  id boolean primary key default true check (id),
  woken_at timestamptz not null default '-infinity'
);

alter table public.notification_preferences enable row level security;

revoke all on public.notification_preferences from anon;

revoke delete, truncate on public.notification_preferences from authenticated;

-- The preference column that governs an event; null: not governed (invitations).
create function private.notification_category(event text) returns text
language sql immutable parallel safe set search_path = '' as $$
  select case event
    when 'upload_published' then 'upload_published'
    when 'upload_failed' then 'upload_problems'
    when 'upload_waiting_quota' then 'upload_problems'
    when 'youtube_reauth_required' then 'youtube_reauth'
    when 'render_ready' then 'render_finished'
    when 'render_failed' then 'render_finished'
    when 'alert_digest' then 'alert_digest'
  end
$$;

revoke all on function private.notification_category(text) from public, anon, authenticated;

create function private.wants_notification(user_id uuid, event text) returns boolean
language sql stable security definer set search_path = '' as $$
  select case when private.notification_category(event) is null then true
    else coalesce((select (to_jsonb(p) ->> private.notification_category(event))::boolean
                   from public.notification_preferences p where p.user_id = wants_notification.user_id), true) end
$$;

revoke all on function private.wants_notification(uuid, text) from public, anon, authenticated;

-- One-click unsubscribe (the worker verifies the signed link first): that category off.
create function private.unsubscribe_notifications(user_id uuid, category text) returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  if category not in ('upload_published', 'upload_problems', 'youtube_reauth', 'render_finished', 'alert_digest') then
    raise exception 'unknown notification category' using errcode = '22023';
  end if;
  insert into public.notification_preferences (user_id) values (unsubscribe_notifications.user_id)
  on conflict on constraint notification_preferences_pkey do nothing;
  execute format('update public.notification_preferences set %I = false, updated_at = now() where user_id = $1', category)
  using unsubscribe_notifications.user_id;
end
$$;

revoke all on function private.unsubscribe_notifications(uuid, text) from public, anon, authenticated;

grant execute on function private.unsubscribe_notifications(uuid, text) to service_role;

-- Wakes the worker once the enqueuing transaction commits (pg_net sends after commit), at most
-- every 5 seconds; a transaction that finds the marker locked leaves the wake to its holder. The
-- every-minute job catches anything a wake missed.
create function private.wake_notification_worker_soon() returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  last timestamptz;
begin
  select w.woken_at into last from private.notification_wake w for update skip locked;
  if not found or last > now() - interval '5 seconds' then
    return;
  end if;
  update private.notification_wake set woken_at = now();
  perform private.post_to_worker('notifications/worker', 60000);
end
$$;

revoke all on function private.wake_notification_worker_soon() from public, anon, authenticated;

-- Queues one notification unless its recipient opted out or the same key was queued before.
create function private.queue_notification(event text, dedupe_key text, user_id uuid, workspace_id uuid, payload jsonb)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  queued bigint;
begin
  if not private.wants_notification(queue_notification.user_id, queue_notification.event) then
    return null;
  end if;
  insert into private.notification_outbox (event, dedupe_key, user_id, workspace_id, payload)
  values (queue_notification.event, queue_notification.dedupe_key, queue_notification.user_id,
    queue_notification.workspace_id, coalesce(queue_notification.payload, '{}'::jsonb))
  on conflict on constraint notification_outbox_dedupe_key_key do nothing
  returning id into queued;
  if queued is not null then
    perform private.wake_notification_worker_soon();
  end if;
  return queued;
end
$$;

revoke all on function private.queue_notification(text, text, uuid, uuid, jsonb) from public, anon, authenticated;

create function private.queue_workspace_notification(event text, dedupe_key text, workspace_id uuid, actor uuid, payload jsonb)
returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  r uuid;
  n integer := 0;
  full_payload jsonb := payload || jsonb_build_object('workspace_name',
    (select w.name from public.workspaces w where w.id = queue_workspace_notification.workspace_id));
begin
  for r in select * from private.notification_recipients(queue_workspace_notification.workspace_id, actor) loop
    if private.queue_notification(event, dedupe_key || ':' || r, r, queue_workspace_notification.workspace_id, full_payload) is not null then
      n := n + 1;
    end if;
  end loop;
  return n;
end
$$;

revoke all on function private.queue_workspace_notification(text, text, uuid, uuid, jsonb) from public, anon, authenticated;

create function private.notify_upload_change() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
declare
  ev text;
  key text;
begin
  if new.status is distinct from old.status and new.status in ('published', 'failed') then
    ev := case new.status when 'published' then 'upload_published' else 'upload_failed' end;
    key := ev || ':' || new.id;
  elsif new.status = 'scheduled' and new.waiting_reason in ('quota', 'quota_share', 'upload_limit')
        and old.waiting_reason is distinct from new.waiting_reason then
    -- once per schedule and day: a quota wait that lasts is not repeated every retry
    ev := 'upload_waiting_quota';
    key := ev || ':' || new.id || ':' || to_char(now() at time zone 'UTC', 'YYYY-MM-DD');
  else
    return null;
  end if;
  perform private.queue_workspace_notification(ev, key, new.workspace_id, new.created_by, jsonb_build_object(
    'schedule_id', new.id, 'title', new.title, 'youtube_video_id', new.youtube_video_id,
    'publish_at', new.publish_at, 'published_at', new.published_at, 'waiting_reason', new.waiting_reason,
    'error', left(new.last_error, 300),
    'channel_title', (select c.title from public.channels c where c.id = new.channel_id)));
  return null;
end
$$;

revoke all on function private.notify_upload_change() from public, anon, authenticated;

create function private.notify_render_change() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
declare
  ev text := case new.status when 'ready' then 'render_ready' else 'render_failed' end;
begin
  perform private.queue_workspace_notification(ev, ev || ':' || new.id, new.workspace_id, new.requested_by,
    jsonb_build_object('job_id', new.id, 'content_id', new.content_id,
      'content_title', (select coalesce(g.output #>> '{items,0,title}', g.brief ->> 'topic') from public.generated_content g where g.id = new.content_id),
      'duration_seconds', new.duration_seconds, 'error', left(new.last_error, 300)));
  return null;
end
$$;

revoke all on function private.notify_render_change() from public, anon, authenticated;

create function private.notify_channel_change() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
begin
  -- a channel may need access again after a later reconnect: one notification per occurrence
  perform private.queue_workspace_notification('youtube_reauth_required',
    'youtube_reauth_required:' || new.id || ':' || (extract(epoch from now()) * 1000)::bigint,
    new.workspace_id, new.connected_by,
    jsonb_build_object('channel_id', new.id, 'channel_title', new.title));
  return null;
end
$$;

revoke all on function private.notify_channel_change() from public, anon, authenticated;

-- The invitations function calls this in the transaction that creates the invitation, with the
-- token it just made: only the holder of the token can have the link emailed, only to the
-- invited address, once per invitation. The caller must be an owner of the workspace (RLS of the
-- invitation row is not enough: this is security definer). Errors: CEI01 not found (or not an
-- owner, so others learn nothing), 22023 wrong token or no longer pending.
create function public.send_invitation_email(invitation_id uuid, token text) returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  inv public.invitations;
  queued bigint;
begin
  select * into inv from public.invitations i where i.id = send_invitation_email.invitation_id;
  if inv is null or not exists (
      select 1 from public.workspace_members m
      where m.workspace_id = inv.workspace_id and m.user_id = (select auth.uid()) and m.role = 'owner') then
    raise exception 'invitation not found' using errcode = 'CEI01';
  end if;
  if token is null or encode(pg_catalog.sha256(convert_to(token, 'UTF8')), 'hex') <> inv.token_hash then
    raise exception 'token does not belong to this invitation' using errcode = '22023';
  end if;
  if inv.accepted_at is not null or inv.revoked_at is not null or inv.expires_at <= now() then
    raise exception 'invitation is no longer pending' using errcode = '22023';
  end if;
  insert into private.notification_outbox (event, dedupe_key, invitation_id, workspace_id, payload, secret_enc)
  values ('invitation', 'invitation:' || inv.id, inv.id, inv.workspace_id, jsonb_build_object(
      'workspace_name', (select w.name from public.workspaces w where w.id = inv.workspace_id),
      'role', inv.role,
      'inviter_name', (select coalesce(nullif(p.display_name, ''), 'A workspace owner') from public.profiles p where p.id = inv.invited_by),
      'expires_at', inv.expires_at),
    private.encrypt_token(token))
  on conflict on constraint notification_outbox_dedupe_key_key do nothing
  returning id into queued;
  if queued is not null then
    perform private.wake_notification_worker_soon();
  end if;
  return queued;
end
$$;

revoke all on function public.send_invitation_email(uuid, text) from public, anon;

grant execute on function public.send_invitation_email(uuid, text) to authenticated;

-- One email per platform admin (app_metadata.role = admin) summarising the last day's alerts,
-- sent only when there was something: alerts opened or resolved in the last 24 hours, or open.
create function private.queue_alert_digests() returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  summary jsonb;
  admin uuid;
  n integer := 0;
  day text := to_char(now() at time zone 'UTC', 'YYYY-MM-DD');
begin
  select jsonb_build_object(
      'day', day,
      'opened', count(*) filter (where a.opened_at > now() - interval '24 hours'),
      'resolved', count(*) filter (where a.resolved_at > now() - interval '24 hours'),
      'open', count(*) filter (where a.resolved_at is null),
      'alerts', coalesce(jsonb_agg(jsonb_build_object('rule', a.rule_key, 'severity', r.severity,
        'description', r.description, 'opened_at', a.opened_at, 'resolved_at', a.resolved_at)
        order by a.opened_at desc) filter (where a.id is not null), '[]'::jsonb))
  into summary
  from (select * from ops.alerts x
        where x.resolved_at is null or x.opened_at > now() - interval '24 hours' or x.resolved_at > now() - interval '24 hours'
        order by x.opened_at desc limit 25) a
  join ops.alert_rules r on r.key = a.rule_key;
  if summary is null or (summary ->> 'opened')::int + (summary ->> 'resolved')::int + (summary ->> 'open')::int = 0 then
    return 0;
  end if;
  for admin in select u.id from auth.users u where u.raw_app_meta_data ->> 'role' = 'admin' order by u.id loop
    if private.queue_notification('alert_digest', 'alert_digest:' || day || ':' || admin, admin, null, summary) is not null then
      n := n + 1;
    end if;
  end loop;
  return n;
end
$$;

revoke all on function private.queue_alert_digests() from public, anon, authenticated;

grant execute on function private.queue_alert_digests() to service_role;

-- Claims due rows for one worker: pending ones whose time has come and sending ones whose lease
-- ran out (a worker that died). Rows whose recipient opted out meanwhile, or whose invitation is
-- no longer pending, are skipped here, never sent. Returns what the template and the send need:
-- the address (read now, so a changed address is used) and, for invitations, the token.
create function private.claim_notifications(worker text, max_rows integer, lease_seconds integer)
returns table (id bigint, event text, user_id uuid, workspace_id uuid, payload jsonb, attempts integer,
  to_email text, invitation_token text, created_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
begin
  -- a worker died during the last allowed attempt: no outcome is known, and none is tried again
  update private.notification_outbox o set status = 'failed', finished_at = now(), secret_enc = null,
    lease_owner = null, lease_expires_at = null, next_attempt_at = null,
    last_error = 'no outcome recorded for the last attempt (the worker stopped)'
  where o.status = 'sending' and o.lease_expires_at <= now() and o.attempts >= o.max_attempts;

  update private.notification_outbox o set status = 'skipped', finished_at = now(), secret_enc = null,
    lease_owner = null, lease_expires_at = null, next_attempt_at = null,
    last_error = 'recipient opted out or invitation no longer pending'
  where o.id in (
    select c.id from private.notification_outbox c
    left join public.invitations i on i.id = c.invitation_id
    where ((c.status = 'pending' and c.next_attempt_at <= now()) or (c.status = 'sending' and c.lease_expires_at <= now()))
      and ((c.user_id is not null and not private.wants_notification(c.user_id, c.event))
        or (c.invitation_id is not null and (i.accepted_at is not null or i.revoked_at is not null or i.expires_at <= now())))
    for update of c skip locked);

  return query
  with picked as (
    select c.id from private.notification_outbox c
    where (c.status = 'pending' and c.next_attempt_at <= now()) or (c.status = 'sending' and c.lease_expires_at <= now())
    order by c.id
    limit greatest(1, least(max_rows, 100))
    for update skip locked
  ), claimed as (
    update private.notification_outbox o set status = 'sending', attempts = o.attempts + 1,
      lease_owner = worker, lease_expires_at = now() + make_interval(secs => lease_seconds), next_attempt_at = null
    from picked where o.id = picked.id
    returning o.*
  )
  select c.id, c.event, c.user_id, c.workspace_id, c.payload, c.attempts,
    coalesce(u.email, i.email)::text, private.decrypt_token(c.secret_enc), c.created_at
  from claimed c
  left join auth.users u on u.id = c.user_id
  left join public.invitations i on i.id = c.invitation_id
  order by c.id;
end
$$;

revoke all on function private.claim_notifications(text, integer, integer) from public, anon, authenticated;

grant execute on function private.claim_notifications(text, integer, integer) to service_role;

-- The provider accepted the email: its id is recorded and the row is finished. Also accepted from
-- a worker whose lease ran out (the provider's id is the truth; a second worker that sent with the
-- same Idempotency-Key got the same id and finds the row finished).
create function private.notification_sent(outbox_id bigint, provider_message_id text, status_code integer)
returns boolean
language sql volatile security definer set search_path = '' as $$
  with done as (
    update private.notification_outbox set status = 'sent', provider_message_id = notification_sent.provider_message_id,
      last_status_code = status_code, last_error = null, sent_at = now(), finished_at = now(), secret_enc = null,
      lease_owner = null, lease_expires_at = null, next_attempt_at = null
    where id = outbox_id and status in ('sending', 'pending')
    returning 1)
  select exists (select 1 from done)
$$;

revoke all on function private.notification_sent(bigint, text, integer) from public, anon, authenticated;

grant execute on function private.notification_sent(bigint, text, integer) to service_role;

-- An attempt that did not send: back to pending after 30 s, 1, 2, 4 … minutes (at most an hour,
-- and never sooner than the provider's Retry-After), or failed for good when permanent or when
-- max_attempts are spent. Only the worker holding the lease may record it.
create function private.notification_attempt_failed(outbox_id bigint, worker text, status_code integer, error text,
  retry_after_seconds integer, permanent boolean)
returns text
language sql volatile security definer set search_path = '' as $$
  update private.notification_outbox o set
    last_status_code = status_code,
    last_error = left(error, 500),
    status = case when permanent or o.attempts >= o.max_attempts then 'failed' else 'pending' end,
    finished_at = case when permanent or o.attempts >= o.max_attempts then now() end,
    secret_enc = case when permanent or o.attempts >= o.max_attempts then null else o.secret_enc end,
    next_attempt_at = case when permanent or o.attempts >= o.max_attempts then null
      else now() + greatest(make_interval(secs => coalesce(retry_after_seconds, 0)),
        least(interval '30 seconds' * power(2, greatest(o.attempts - 1, 0)), interval '1 hour')) end,
    lease_owner = null, lease_expires_at = null
  where o.id = outbox_id and o.status = 'sending' and o.lease_owner = worker
  returning o.status
$$;

revoke all on function private.notification_attempt_failed(bigint, text, integer, text, integer, boolean) from public, anon, authenticated;

grant execute on function private.notification_attempt_failed(bigint, text, integer, text, integer, boolean) to service_role;

-- Rows a worker claimed but did not get to (its time budget ran out): due again at once, the
-- claim not counted as an attempt.
create function private.release_notifications(ids bigint[], worker text) returns integer
language sql volatile security definer set search_path = '' as $$
  with released as (
    update private.notification_outbox o set status = 'pending', next_attempt_at = now(),
      attempts = greatest(o.attempts - 1, 0), lease_owner = null, lease_expires_at = null
    where o.id = any (ids) and o.status = 'sending' and o.lease_owner = worker
    returning 1)
  select count(*)::integer from released
$$;

revoke all on function private.release_notifications(bigint[], text) from public, anon, authenticated;

grant execute on function private.release_notifications(bigint[], text) to service_role;

-- The every-minute job: calls the worker when something is due (one index probe when idle).
create function private.wake_notification_worker() returns bigint
language plpgsql volatile security definer set search_path = '' as $$
begin
  if not exists (select 1 from private.notification_outbox o where o.status = 'pending' and o.next_attempt_at <= now())
     and not exists (select 1 from private.notification_outbox o where o.status = 'sending' and o.lease_expires_at <= now()) then
    return null;
  end if;
  return private.post_to_worker('notifications/worker', 60000);
end
$$;

revoke all on function private.wake_notification_worker() from public, anon, authenticated;

grant execute on function private.wake_notification_worker() to service_role;

insert into private.notification_wake default values;

insert into ops.backup_table_classes (table_name, class, why) values
  ('public.notification_preferences', 'account', 'per-user choices, never changed by a workspace restore'),
  ('private.notification_outbox', 'external_state', 'emails already sent or under way; a restore must not send them again'),
  ('private.notification_wake', 'platform', 'when the email worker was last woken');

create trigger upload_schedules_notify after update of status, waiting_reason on public.upload_schedules
  for each row when (new.status is distinct from old.status or new.waiting_reason is distinct from old.waiting_reason)
  execute function private.notify_upload_change();

create trigger video_jobs_notify after update of status on public.video_jobs
  for each row when (new.status is distinct from old.status and new.status in ('ready', 'failed'))
  execute function private.notify_render_change();

create trigger channels_notify after update of status on public.channels
  for each row when (new.status = 'reauth_required' and old.status is distinct from 'reauth_required')
  execute function private.notify_channel_change();

create policy "users read their notification preferences" on public.notification_preferences
  for select to authenticated using (user_id = (select auth.uid()));

create policy "users create their notification preferences" on public.notification_preferences
  for insert to authenticated with check (user_id = (select auth.uid()));

create policy "users change their notification preferences" on public.notification_preferences
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

create trigger notification_preferences_touch_updated_at before update on public.notification_preferences
  for each row execute function private.touch_updated_at();

select cron.schedule('notifications-wake', '* * * * *', 'select private.wake_notification_worker()');

select cron.schedule('notifications-alert-digest', '0 7 * * *', 'select private.queue_alert_digests()');
