-- Expensive insights documents: served for a bounded time after a write, and computed by one
-- reader at a time.
-- bench/scaling (insights) measured the computation behind a stored document (public
-- workspace_insights) growing linearly with the workspace: 0.5 s at 1,000 videos, 4.3 s at
-- 10,000, tens of seconds at 100,000. Any write behind the document bumps the workspace's cache
-- version, and a sync writes video_metrics at every step for as long as it runs (an hour and more
-- for a channel that size), so during a sync every member's read recomputed the whole document in
-- that member's request, and readers arriving together each computed it again in parallel.
-- Now a document whose last computation took at least a second is served as stored for 15 minutes
-- after it was computed even when writes came since (its generated_at says how old it is), and
-- while one reader recomputes it the others get the stored one instead of a second computation.
-- Cheap documents (most workspaces) stay exact: they are recomputed after every write, as before.

alter table ops.insights_documents add column compute_ms integer not null default 0;
comment on column ops.insights_documents.compute_ms is
  'How long the last computation of doc took (ms); at 1,000 and above the document is served stale for up to 15 minutes';

create or replace function private.insights_document(ws uuid, ch uuid, tz text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  key uuid := coalesce(ch, '00000000-0000-0000-0000-000000000000'::uuid);
  current_version bigint;
  today date := (now() at time zone 'UTC')::date;
  stored record;
  started timestamptz;
  result jsonb;
begin
  select coalesce((select v.version from ops.cache_versions v where v.scope = ws::text), 0) into current_version;
  select d.doc, d.version, d.compute_ms, d.computed_at into stored from ops.insights_documents d
  where d.workspace_id = ws and d.channel_key = key and d.time_zone = tz and d.computed_on = today;
  if found then
    if stored.version = current_version then
      return stored.doc;
    end if;
    -- A second's computation in a member's request is worth 15 minutes of staleness; below that
    -- the document is cheap enough to stay exact.
    if stored.compute_ms >= 1000 and stored.computed_at > now() - interval '15 minutes' then
      return stored.doc;
    end if;
    -- Someone is already recomputing it: the stored one now rather than a second computation.
    if stored.compute_ms >= 1000
       and not pg_try_advisory_xact_lock(hashtextextended(ws::text || key::text || tz, 18)) then
      return stored.doc;
    end if;
  end if;
  started := clock_timestamp();
  result := public.workspace_insights(ws, ch);
  if result is null then
    return null;
  end if;
  begin
    insert into ops.insights_documents as d (workspace_id, channel_key, time_zone, version, computed_on, doc, compute_ms)
    values (ws, key, tz, current_version, today, result,
      least(extract(epoch from clock_timestamp() - started) * 1000, 2147483647)::integer)
    on conflict (workspace_id, channel_key, time_zone) do update
      set version = excluded.version, computed_on = excluded.computed_on, doc = excluded.doc,
        compute_ms = excluded.compute_ms, computed_at = now();
  exception when read_only_sql_transaction then
    null; -- a read-only caller still gets the document; the next writable read stores it
  end;
  return result;
end
$$;

revoke all on function private.insights_document(uuid, uuid, text) from public, anon, authenticated, service_role;
