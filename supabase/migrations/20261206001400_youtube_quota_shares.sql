-- Fair shares of the project's YouTube Data API quota.
--
-- Google gives the quota to the Google Cloud project, so every tenant spends from the same daily
-- budget (private.youtube_daily_budget). Before this migration the only limit was that budget:
-- six uploads of one workspace (1,600 units each) used 96 % of a 10,000-unit day and every other
-- workspace's syncs and uploads waited until midnight Pacific. Now each workspace may spend at most
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
alter table private.youtube_daily_budget
  add column workspace_share_percent numeric(5, 2) not null default 25
    check (workspace_share_percent > 0 and workspace_share_percent <= 100),
  add column borrow_from_hour smallint not null default 18
    check (borrow_from_hour between 0 and 24);

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

-- The workers' entry point keeps its name and arguments; its answer gains the share columns.
drop function public.reserve_youtube_quota(uuid, uuid, text, integer);
create function public.reserve_youtube_quota(
  workspace_id uuid, channel_id uuid, endpoint text, calls integer default 1
) returns table (
  allowed boolean, units integer, used_today integer, daily_budget integer, resets_at timestamptz,
  reason text, retry_at timestamptz, share_units integer, workspace_used integer
)
language sql volatile security definer set search_path = '' as $$
  select * from private.reserve_youtube_quota_at(workspace_id, channel_id, endpoint, calls, now())
$$;

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

-- An upload waiting for the borrow hour says so, apart from one waiting for the reset.
alter table public.upload_schedules drop constraint upload_schedules_waiting_reason_check;
alter table public.upload_schedules add constraint upload_schedules_waiting_reason_check
  check (waiting_reason in ('quota', 'quota_share', 'upload_limit', 'reauth_required', 'retry'));

revoke all on function
  private.youtube_quota_position(uuid, timestamptz),
  private.reserve_youtube_quota_at(uuid, uuid, text, integer, timestamptz),
  public.reserve_youtube_quota(uuid, uuid, text, integer),
  public.workspace_youtube_quota(uuid)
  from public, anon, authenticated, service_role;
grant execute on function public.reserve_youtube_quota(uuid, uuid, text, integer) to service_role;
grant execute on function public.workspace_youtube_quota(uuid) to authenticated, service_role;
