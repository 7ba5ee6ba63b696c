-- Insights read from a stored document while the workspace's data has not changed.
-- bench/scaling (insights) measured public.workspace_insights() growing with the workspace: it
-- aggregates 56 days of every video's metrics, a year of score history and every scored video's
-- patterns on each call, so a 10,000-video workspace's read cost about ten times a 1,000-video
-- one. The data behind it changes when a sync or scoring writes (a few times a day), while
-- members read it on every dashboard view and every generation. The document is now kept per
-- (workspace, channel or whole workspace, time zone) with the workspace's cache version
-- (ops.cache_versions, bumped by a statement trigger whenever a table behind the document
-- changes) and the day it was computed (its windows end today); a read with both current is one
-- index lookup, anything else recomputes and stores it.
--
-- Loop insights read from a stored document while the workspace's data has not changed, as the
-- workspace insights are (20261207000510_insights_documents).
--
-- Why: bench/loop-insights.bench.ts (10,000 videos, 1,000 engine uploads) measured GET
-- /insights/loop at p95 227-313 ms against a 200 ms target, public.loop_insights() alone at p95
-- 214 ms. EXPLAIN ANALYZE of its statement: the comparison's aggregate over all 10,000 outcomes at
-- the age (four sorted/filtered array_aggs, the medians and their intervals) takes about 60 % of
-- it, the breakdowns' bucketing of the engine's rows about 15 %, one RLS membership lookup per
-- table reference (seven) and the statement's planning (a custom plan per call) most of the
-- rest. Nothing there is waste that an index would remove: every call recomputes the same answer
-- from data that changes when a sync scores (a few times a day), an upload is published or
-- content is reviewed, while members read it on every view of the dashboard's "What we learned".
--
-- So the document is kept per (workspace, channel or whole workspace, age, minimum, time zone)
-- with the workspace's cache version (ops.cache_versions, bumped by a statement trigger whenever a
-- table behind the document changes); a read with the version current is one index lookup,
-- anything else recomputes it with public.loop_insights() (which stays the computation and keeps
-- its contract) and stores it. `generated_at` in the document says when it was computed.

create table ops.insights_documents (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- the channel, or the nil uuid for the whole workspace (a primary key cannot hold null)
  channel_key uuid not null,
  time_zone text not null,
  version bigint not null,
  computed_on date not null,
  doc jsonb not null,
  computed_at timestamptz not null default now(),
  primary key (workspace_id, channel_key, time_zone)
);

comment on table ops.insights_documents is
  'Derived: public.workspace_insights() documents, valid while version matches ops.cache_versions of the workspace';

revoke all on ops.insights_documents from public, anon, authenticated;

grant select, delete on ops.insights_documents to service_role;

create table ops.loop_insights_documents (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- the channel, or the nil uuid for the whole workspace (a primary key cannot hold null)
  channel_key uuid not null,
  age_days integer not null,
  min_videos integer not null,
  time_zone text not null,
  version bigint not null,
  doc jsonb not null,
  computed_at timestamptz not null default now(),
  primary key (workspace_id, channel_key, age_days, min_videos, time_zone)
);

comment on table ops.loop_insights_documents is
  'Derived: public.loop_insights() documents, valid while version matches ops.cache_versions of the workspace';

revoke all on ops.loop_insights_documents from public, anon, authenticated;

grant select, delete on ops.loop_insights_documents to service_role;

-- The stored document of (workspace, channel, time zone) if it is still valid, else a new one,
-- stored unless the transaction is read-only. Definer: called only after the caller's access
-- was checked, and it reads the workspace's rows as every member sees them (members read all).
create function private.insights_document(ws uuid, ch uuid, tz text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  key uuid := coalesce(ch, '00000000-0000-0000-0000-000000000000'::uuid);
  current_version bigint;
  today date := (now() at time zone 'UTC')::date;
  result jsonb;
begin
  select coalesce((select v.version from ops.cache_versions v where v.scope = ws::text), 0) into current_version;
  select d.doc into result from ops.insights_documents d
  where d.workspace_id = ws and d.channel_key = key and d.time_zone = tz
    and d.version = current_version and d.computed_on = today;
  if found then
    return result;
  end if;
  result := public.workspace_insights(ws, ch);
  if result is null then
    return null;
  end if;
  begin
    insert into ops.insights_documents as d (workspace_id, channel_key, time_zone, version, computed_on, doc)
    values (ws, key, tz, current_version, today, result)
    on conflict (workspace_id, channel_key, time_zone) do update
      set version = excluded.version, computed_on = excluded.computed_on, doc = excluded.doc, computed_at = now();
  exception when read_only_sql_transaction then
    null; -- a read-only caller still gets the document; the next writable read stores it
  end;
  return result;
end
$$;

revoke all on function private.insights_document(uuid, uuid, text) from public, anon, authenticated, service_role;

-- The same contract as public.workspace_insights() (which stays the computation): the document,
-- or null when the caller cannot see the workspace or the channel is not one of its channels.
-- Members (and the service role) are let through; the insights function and content generation
-- read this one.
create function public.workspace_insights_cached(workspace_id uuid, channel_id uuid default null)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  ws uuid := workspace_insights_cached.workspace_id;
  ch uuid := workspace_insights_cached.channel_id;
  tz text;
begin
  if (select auth.role()) is distinct from 'service_role' and not public.has_role_on_workspace(ws, 'viewer') then
    return null;
  end if;
  if not exists (select 1 from public.workspaces w where w.id = ws) then
    return null;
  end if;
  if ch is not null and not exists (select 1 from public.channels c where c.id = ch and c.workspace_id = ws) then
    return null;
  end if;
  select p.timezone into tz from public.profiles p where p.id = (select auth.uid());
  return private.insights_document(ws, ch, coalesce(tz, 'UTC'));
end
$$;

revoke all on function public.workspace_insights_cached(uuid, uuid) from public, anon;

grant execute on function public.workspace_insights_cached(uuid, uuid) to authenticated, service_role;

-- The stored document if it is still valid, else a new one, stored unless the transaction is
-- read-only. Definer: called only after the caller's access was checked; public.loop_insights()
-- then reads the workspace's rows as every member sees them (members read all of them), with the
-- caller's time zone (the same one the key holds).
create function private.loop_insights_document(ws uuid, ch uuid, age integer, min_n integer, tz text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  key uuid := coalesce(ch, '00000000-0000-0000-0000-000000000000'::uuid);
  current_version bigint;
  result jsonb;
begin
  select coalesce((select v.version from ops.cache_versions v where v.scope = ws::text), 0) into current_version;
  select d.doc into result from ops.loop_insights_documents d
  where d.workspace_id = ws and d.channel_key = key and d.age_days = age and d.min_videos = min_n and d.time_zone = tz
    and d.version = current_version;
  if found then
    return result;
  end if;
  result := public.loop_insights(ws, ch, age, min_n);
  if result is null then
    return null;
  end if;
  begin
    insert into ops.loop_insights_documents as d (workspace_id, channel_key, age_days, min_videos, time_zone, version, doc)
    values (ws, key, age, min_n, tz, current_version, result)
    on conflict (workspace_id, channel_key, age_days, min_videos, time_zone) do update
      set version = excluded.version, doc = excluded.doc, computed_at = now();
  exception when read_only_sql_transaction then
    null; -- a read-only caller still gets the document; the next writable read stores it
  end;
  return result;
end
$$;

revoke all on function private.loop_insights_document(uuid, uuid, integer, integer, text) from public, anon, authenticated, service_role;

-- The same contract as public.loop_insights(): the document, or null when the caller cannot see
-- the workspace or the channel is not one of its channels; an age other than 1, 7 or 28 raises.
-- Members (and the service role) are let through; GET /insights/loop reads this one.
create function public.loop_insights_cached(workspace_id uuid, channel_id uuid default null, age_days integer default 7,
  min_videos integer default 6)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  ws uuid := loop_insights_cached.workspace_id;
  ch uuid := loop_insights_cached.channel_id;
  tz text;
begin
  if loop_insights_cached.age_days not in (1, 7, 28) then
    raise exception 'age_days must be 1, 7 or 28' using errcode = '22023';
  end if;
  if (select auth.role()) is distinct from 'service_role' and not public.has_role_on_workspace(ws, 'viewer') then
    return null;
  end if;
  if not exists (select 1 from public.workspaces w where w.id = ws) then
    return null;
  end if;
  if ch is not null and not exists (select 1 from public.channels c where c.id = ch and c.workspace_id = ws) then
    return null;
  end if;
  select p.timezone into tz from public.profiles p where p.id = (select auth.uid());
  return private.loop_insights_document(ws, ch, loop_insights_cached.age_days,
    greatest(coalesce(loop_insights_cached.min_videos, 6), 1), coalesce(tz, 'UTC'));
end
$$;

revoke all on function public.loop_insights_cached(uuid, uuid, integer, integer) from public, anon;

grant execute on function public.loop_insights_cached(uuid, uuid, integer, integer) to authenticated, service_role;
