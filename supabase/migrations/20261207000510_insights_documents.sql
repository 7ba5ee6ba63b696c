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

-- Every table the document reads bumps the workspace's version when written.
select ops.invalidate_cache_on_change('public.channels');
select ops.invalidate_cache_on_change('public.videos');
select ops.invalidate_cache_on_change('public.video_metrics');
select ops.invalidate_cache_on_change('public.performance_scores');
select ops.invalidate_cache_on_change('public.performance_score_history');

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

revoke all on function private.insights_document(uuid, uuid, text) from public, anon, authenticated, service_role;
revoke all on function public.workspace_insights_cached(uuid, uuid) from public, anon;
grant execute on function public.workspace_insights_cached(uuid, uuid) to authenticated, service_role;
