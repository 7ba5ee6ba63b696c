-- YouTube channels, their videos and daily analytics, sync bookkeeping, quota accounting, and the
-- performance score of every video relative to its own channel.
--
-- Who writes what:
--   * channels are connected through Google OAuth by the youtube-oauth function (service role):
--     a channel row proves that the workspace holds that channel's tokens, so API roles may read
--     and delete channels (owners) but never create them or change their identity directly;
--     otherwise anyone could squat another creator's youtube_channel_id (it is unique).
--   * videos, video_metrics, performance_scores, performance_score_history, sync_runs and
--     youtube_quota_usage are written by the sync worker and the scoring functions (service
--     role); members of the workspace read them (viewers included).
--   * OAuth tokens live encrypted in private.channel_credentials. service_role has no USAGE on
--     schema `private` (tests/db/14 enforces that), so functions reach them only through the
--     security-definer functions public.save_channel_credentials / public.channel_credentials /
--     public.delete_channel_credentials, executable by service_role only.
--   * Quota: unit costs are data (private.youtube_api_costs), not code, because Google changes
--     them; public.reserve_youtube_quota() spends units atomically against the daily budget.
--
--   * private.video_metric_totals holds running per-video totals of video_metrics, kept by
--     statement triggers, so scoring reads one row per video instead of a year of days.
--   * public.workspace_insights() (security invoker: RLS applies) is what the insights function
--     and content generation read.
--
-- Scoring formula: see the comment above private.compute_scores() and docs/scoring.md.

create table public.videos (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  channel_id uuid not null,
  youtube_video_id text not null unique check (youtube_video_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  title text,
  description text,
  published_at timestamptz,
  duration_seconds integer check (duration_seconds >= 0),
  is_short boolean,
  tags text[] not null default '{}',
  category_id text,
  privacy_status text,
  thumbnail_url text,
  view_count bigint check (view_count >= 0),
  like_count bigint check (like_count >= 0),
  comment_count bigint check (comment_count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id),
  foreign key (channel_id, workspace_id) references public.channels (id, workspace_id)
    on update cascade on delete cascade
);

create index videos_workspace_id_idx on public.videos (workspace_id);

create index videos_channel_id_published_at_idx on public.videos (channel_id, published_at);

-- One row per video per (Pacific-time) day, as YouTube Analytics reports them; (video_id, day)
-- is the natural key the sync upserts on, so a resumed run never duplicates a day.
create table public.video_metrics (
  workspace_id uuid not null,
  video_id uuid not null,
  day date not null,
  views bigint not null default 0 check (views >= 0),
  estimated_minutes_watched numeric not null default 0 check (estimated_minutes_watched >= 0),
  -- seconds
  average_view_duration numeric not null default 0 check (average_view_duration >= 0),
  -- can exceed 100 (Shorts that loop, rewatches)
  average_view_percentage numeric not null default 0 check (average_view_percentage >= 0),
  likes bigint not null default 0 check (likes >= 0),
  comments bigint not null default 0 check (comments >= 0),
  shares bigint not null default 0 check (shares >= 0),
  subscribers_gained bigint not null default 0 check (subscribers_gained >= 0),
  subscribers_lost bigint not null default 0 check (subscribers_lost >= 0),
  primary key (video_id, day),
  foreign key (video_id, workspace_id) references public.videos (id, workspace_id)
    on update cascade on delete cascade
);

-- Policies find rows by workspace; insights read a workspace's last 56 days through it.
create index video_metrics_workspace_id_day_idx on public.video_metrics (workspace_id, day);

-- Running totals of video_metrics per video, kept by the statement triggers below, so scoring
-- reads one row per video instead of a year of days: a channel's rows of video_metrics are spread
-- over the whole table (a daily sync appends one day of every video), and aggregating them was
-- 1.5 s for a 500-video channel. Internal: only the scoring and trigger functions touch it.
create table private.video_metric_totals (
  video_id uuid primary key references public.videos (id) on delete cascade,
  views bigint not null default 0,
  -- views in [p, p + 27], p = the publish day in Pacific time (recomputed when published_at changes)
  views_first_28_days bigint not null default 0,
  -- sum(average_view_percentage * views), for the views-weighted retention
  weighted_view_percentage numeric not null default 0,
  interactions bigint not null default 0,
  subscribers_net bigint not null default 0,
  last_day date,
  updated_at timestamptz not null default now()
);

create table public.performance_scores (
  video_id uuid primary key,
  workspace_id uuid not null,
  channel_id uuid not null references public.channels (id) on delete cascade,
  score numeric(5, 2) not null check (score between 0 and 100),
  -- raw values and percentiles of each component, so the UI can explain the score
  components jsonb not null default '{}',
  scored_at timestamptz not null default now(),
  foreign key (video_id, workspace_id) references public.videos (id, workspace_id)
    on update cascade on delete cascade
);

create index performance_scores_workspace_id_score_idx on public.performance_scores (workspace_id, score desc);

create index performance_scores_channel_id_score_idx on public.performance_scores (channel_id, score desc);

-- One score per video per day, for "score over time".
create table public.performance_score_history (
  workspace_id uuid not null,
  video_id uuid not null,
  channel_id uuid not null references public.channels (id) on delete cascade,
  scored_on date not null,
  score numeric(5, 2) not null check (score between 0 and 100),
  primary key (video_id, scored_on),
  foreign key (video_id, workspace_id) references public.videos (id, workspace_id)
    on update cascade on delete cascade
);

create index performance_score_history_workspace_id_idx on public.performance_score_history (workspace_id, scored_on);

create index performance_score_history_channel_id_idx on public.performance_score_history (channel_id, scored_on);

alter table public.videos enable row level security;

alter table public.video_metrics enable row level security;

alter table public.performance_scores enable row level security;

alter table public.performance_score_history enable row level security;

revoke all on public.videos from anon, authenticated;

revoke all on public.video_metrics from anon, authenticated;

revoke all on public.performance_scores from anon, authenticated;

revoke all on public.performance_score_history from anon, authenticated;

grant all on public.videos to service_role;

grant all on public.video_metrics to service_role;

grant all on public.performance_scores to service_role;

grant all on public.performance_score_history to service_role;

grant select on public.videos to authenticated;

grant select on public.video_metrics to authenticated;

grant select on public.performance_scores to authenticated;

grant select on public.performance_score_history to authenticated;

revoke all on private.video_metric_totals from public, anon, authenticated, service_role;

-- True while a video's daily analytics may be behind its statistics: new videos, and videos whose
-- view/like/comment counts changed since their analytics were last fetched. Kept in the row (not
-- in a run's cursor) so that a run that fails after listing videos leaves them to the next run.
alter table public.videos add column metrics_stale boolean not null default true;

create index videos_channel_id_stale_idx on public.videos (channel_id) where metrics_stale;

-- The publish day that windows are measured from: YouTube Analytics' days are Pacific time.
-- No SET clause (everything is schema-qualified), so the planner inlines it: the totals trigger
-- calls it for every row of a statement.
create function private.publish_day(published_at timestamptz) returns date
language sql immutable as $$
  select pg_catalog.timezone('America/Los_Angeles', published_at)::pg_catalog.date
$$;

revoke all on function private.publish_day(timestamptz) from public, anon, authenticated, service_role;

-- Statement trigger on video_metrics (transition tables: one statement of 10,000 upserted rows
-- costs two grouped upserts, not 10,000 row triggers). Updates (the sync's upserts of days that
-- YouTube revised) subtract the old rows and add the new ones; deletes subtract. last_day is
-- re-read from the primary key index for videos that lost rows, since a removed day may have
-- been the last one. Rows are applied in video_id order so that concurrent syncs lock totals
-- rows in the same order and cannot deadlock on them. Rows of videos deleted in the same
-- statement (cascades) find no video and are skipped: their totals go with the video.
-- plpgsql plans each statement on first use, so the branch naming a transition table the
-- trigger does not have is never planned.
create function private.video_metrics_apply_to_totals() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    insert into private.video_metric_totals as t
      (video_id, views, views_first_28_days, weighted_view_percentage, interactions, subscribers_net, last_day)
    select o.video_id, -sum(o.views),
      -coalesce(sum(o.views) filter (where o.day between private.publish_day(v.published_at)
                                                 and private.publish_day(v.published_at) + 27), 0),
      -sum(o.average_view_percentage * o.views), -sum(o.likes + o.comments + o.shares),
      -sum(o.subscribers_gained - o.subscribers_lost),
      (select max(m.day) from public.video_metrics m where m.video_id = o.video_id)
    from old_rows o join public.videos v on v.id = o.video_id
    group by o.video_id
    order by o.video_id
    on conflict on constraint video_metric_totals_pkey do update set
      views = t.views + excluded.views,
      views_first_28_days = t.views_first_28_days + excluded.views_first_28_days,
      weighted_view_percentage = t.weighted_view_percentage + excluded.weighted_view_percentage,
      interactions = t.interactions + excluded.interactions,
      subscribers_net = t.subscribers_net + excluded.subscribers_net,
      last_day = excluded.last_day,
      updated_at = now();
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into private.video_metric_totals as t
      (video_id, views, views_first_28_days, weighted_view_percentage, interactions, subscribers_net, last_day)
    select n.video_id, sum(n.views),
      coalesce(sum(n.views) filter (where n.day between private.publish_day(v.published_at)
                                                 and private.publish_day(v.published_at) + 27), 0),
      sum(n.average_view_percentage * n.views), sum(n.likes + n.comments + n.shares),
      sum(n.subscribers_gained - n.subscribers_lost), max(n.day)
    from new_rows n join public.videos v on v.id = n.video_id
    group by n.video_id
    order by n.video_id
    on conflict on constraint video_metric_totals_pkey do update set
      views = t.views + excluded.views,
      views_first_28_days = t.views_first_28_days + excluded.views_first_28_days,
      weighted_view_percentage = t.weighted_view_percentage + excluded.weighted_view_percentage,
      interactions = t.interactions + excluded.interactions,
      subscribers_net = t.subscribers_net + excluded.subscribers_net,
      last_day = greatest(t.last_day, excluded.last_day),
      updated_at = now();
  end if;
  return null;
end
$$;

revoke all on function private.video_metrics_apply_to_totals() from public, anon, authenticated, service_role;

-- Recomputes the totals of the given videos from video_metrics: after published_at changes (the
-- 28-day window moves), and to repair or backfill (`select private.refresh_video_metric_totals(
-- array(select id from public.videos))`).
create function private.refresh_video_metric_totals(video_ids uuid[]) returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  n integer;
begin
  delete from private.video_metric_totals t where t.video_id = any (refresh_video_metric_totals.video_ids);
  insert into private.video_metric_totals
    (video_id, views, views_first_28_days, weighted_view_percentage, interactions, subscribers_net, last_day)
  select m.video_id, sum(m.views),
    coalesce(sum(m.views) filter (where m.day between private.publish_day(v.published_at)
                                               and private.publish_day(v.published_at) + 27), 0),
    sum(m.average_view_percentage * m.views), sum(m.likes + m.comments + m.shares),
    sum(m.subscribers_gained - m.subscribers_lost), max(m.day)
  from public.video_metrics m join public.videos v on v.id = m.video_id
  where m.video_id = any (refresh_video_metric_totals.video_ids)
  group by m.video_id
  order by m.video_id;
  get diagnostics n = row_count;
  return n;
end
$$;

revoke all on function private.refresh_video_metric_totals(uuid[]) from public, anon, authenticated, service_role;

create function private.videos_refresh_totals_on_publish_change() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.refresh_video_metric_totals(array(
    select n.id from new_rows n join old_rows o on o.id = n.id
    where n.published_at is distinct from o.published_at));
  return null;
end
$$;

revoke all on function private.videos_refresh_totals_on_publish_change() from public, anon, authenticated, service_role;

create function private.video_metrics_totals_on_truncate() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  truncate private.video_metric_totals;
  return null;
end
$$;

revoke all on function private.video_metrics_totals_on_truncate() from public, anon, authenticated, service_role;

-- private.compute_scores(channel_ids): scores every video of the given channels, set-based;
-- private.score_videos() below writes them to public.performance_scores plus today's row of
-- public.performance_score_history and returns the number of videos scored. docs/scoring.md explains the same formula for readers.
--
--   D      = the channel's last day with metrics (YouTube Analytics lags 2-3 days; measuring
--            age against D rather than today keeps that lag out of the comparison)
--   p(v)   = v's publish day, in Pacific time (the time zone of YouTube Analytics' days)
--   n(v)   = D - p(v) + 1, the days of data v can have; videos with n < 1 or no published_at
--            are not scored (their old score is removed)
--
--   Comparison group of v:
--     n(v) >= 7  "mature": all mature videos of the channel, components over their whole life
--                (velocity over their first min(n, 28) days);
--     n(v) = N < 7 "first N days": every video u of the channel with n(u) >= N, all components
--                of every u computed over u's first N days only [p(u), p(u) + N - 1].
--   Components of a video over its window of w days (days without a row count as zero views):
--     velocity     = views in the first min(w, 28) days / min(w, 28)      (views per day)
--                    also stored: channel median of velocity in the group and the ratio to it;
--                    the ratio ranks exactly like the velocity, so the percentile is the same
--     retention    = sum(average_view_percentage * views) / sum(views)      (views-weighted)
--     engagement   = (likes + comments + shares) / views
--     conversion   = (subscribers_gained - subscribers_lost) * 1000 / views
--     (retention, engagement and conversion are 0 when views = 0)
--   Percentile within the group: pr(x) = percent_rank() = (rank(x) - 1) / (n_group - 1), ties
--     share the lowest rank; a group of one has nothing to compare with: pr = 0.5.
--   blend = 0.40 pr(velocity) + 0.25 pr(retention) + 0.20 pr(engagement) + 0.15 pr(conversion)
--   score = round(100 * pr(blend), 2)   within the same group, so 0 = worst, 100 = best of it.
create function private.compute_scores(channel_ids uuid[])
returns table (video_id uuid, workspace_id uuid, channel_id uuid, score numeric, components jsonb)
language plpgsql stable security definer set search_path = ''
-- one function serves one channel (index scans) and every channel (hash joins): plan per call
set plan_cache_mode = force_custom_plan as $$
#variable_conflict use_column
begin
  -- RETURN QUERY may run this read-only query in parallel; the writes happen in the caller.
  return query
  with vids as (
    select v.id, v.workspace_id, v.channel_id,
      private.publish_day(v.published_at) as p
    from public.videos v
    where v.channel_id = any (compute_scores.channel_ids) and v.published_at is not null
  ),
  lifetime as (
    select t.video_id, t.views, t.views_first_28_days as views_28, t.weighted_view_percentage as pct_views,
      t.interactions, t.subscribers_net as subs_net, t.last_day
    from vids join private.video_metric_totals t on t.video_id = vids.id
  ),
  as_of as (
    select vids.channel_id, max(l.last_day) as d
    from vids join lifetime l on l.video_id = vids.id
    group by vids.channel_id
  ),
  aged as (
    select vids.id, vids.workspace_id, vids.channel_id, vids.p, a.d, a.d - vids.p + 1 as n
    from vids join as_of a on a.channel_id = vids.channel_id
    where a.d - vids.p + 1 >= 1
  ),
  mature as (
    select a.id, a.channel_id, 'mature'::text as grp, null::integer as horizon, true as target,
      coalesce(l.views_28, 0)::numeric / least(a.n, 28) as velocity,
      coalesce(l.views, 0)::numeric as views,
      coalesce(l.pct_views, 0)::numeric as pct_views,
      coalesce(l.interactions, 0)::numeric as interactions,
      coalesce(l.subs_net, 0)::numeric as subs_net
    from aged a left join lifetime l on l.video_id = a.id
    where a.n >= 7
  ),
  young_horizons as (
    select distinct a.channel_id, a.n as horizon from aged a where a.n < 7
  ),
  -- the first six days of every video of a channel that has young videos: a few rows per video
  early as (
    select a.id, m.day - a.p as day_offset, m.views, m.average_view_percentage * m.views as pct_views,
      m.likes + m.comments + m.shares as interactions, m.subscribers_gained - m.subscribers_lost as subs_net
    from aged a
    join public.video_metrics m on m.video_id = a.id and m.day between a.p and a.p + 5
    where a.channel_id in (select h.channel_id from young_horizons h)
  ),
  young as (
    select a.id, a.channel_id, 'first_' || h.horizon || '_days' as grp, h.horizon, a.n = h.horizon as target,
      coalesce(sum(e.views), 0)::numeric / h.horizon as velocity,
      coalesce(sum(e.views), 0)::numeric as views,
      coalesce(sum(e.pct_views), 0)::numeric as pct_views,
      coalesce(sum(e.interactions), 0)::numeric as interactions,
      coalesce(sum(e.subs_net), 0)::numeric as subs_net
    from young_horizons h
    join aged a on a.channel_id = h.channel_id and a.n >= h.horizon
    left join early e on e.id = a.id and e.day_offset < h.horizon
    group by a.id, a.channel_id, h.horizon, a.n
  ),
  members as (
    select g.*,
      case when g.views > 0 then g.pct_views / g.views else 0 end as retention,
      case when g.views > 0 then g.interactions / g.views else 0 end as engagement,
      case when g.views > 0 then g.subs_net * 1000 / g.views else 0 end as conversion
    from (select * from mature union all select * from young) g
  ),
  medians as (
    select m.channel_id, m.grp, percentile_cont(0.5) within group (order by m.velocity)::numeric as median_velocity
    from members m group by m.channel_id, m.grp
  ),
  -- percent_rank computed in numeric, (rank - 1) / (peers - 1), so equal blends stay equal;
  -- NULL for a group of one, which then gets the neutral 0.5
  ranked as (
    select m.*, md.median_velocity,
      count(*) over w as peers,
      coalesce((rank() over (w order by m.velocity) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_velocity,
      coalesce((rank() over (w order by m.retention) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_retention,
      coalesce((rank() over (w order by m.engagement) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_engagement,
      coalesce((rank() over (w order by m.conversion) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_conversion
    from members m join medians md on md.channel_id = m.channel_id and md.grp = m.grp
    window w as (partition by m.channel_id, m.grp)
  ),
  blended as (
    select r.*,
      round(0.40 * r.pr_velocity + 0.25 * r.pr_retention + 0.20 * r.pr_engagement + 0.15 * r.pr_conversion, 12) as blend
    from ranked r
  ),
  final as (
    select b.*,
      coalesce((rank() over (partition by b.channel_id, b.grp order by b.blend) - 1)::numeric
        / nullif(b.peers - 1, 0), 0.5) as pr_blend
    from blended b
  )
  select f.id, a.workspace_id, f.channel_id, round(100 * f.pr_blend, 2),
    jsonb_build_object(
      'version', 1,
      'comparison', case when f.horizon is null then 'mature' else 'first_n_days' end,
      'horizon_days', f.horizon,
      'peers', f.peers,
      'days_of_data', a.n,
      'as_of', a.d,
      'views', f.views,
      'velocity', jsonb_build_object('value', round(f.velocity, 4), 'channel_median', round(f.median_velocity, 4),
        'ratio_to_median', case when f.median_velocity > 0 then round(f.velocity / f.median_velocity, 4) end,
        'percentile', round(100 * f.pr_velocity, 2), 'weight', 0.40),
      'retention', jsonb_build_object('value', round(f.retention, 4),
        'percentile', round(100 * f.pr_retention, 2), 'weight', 0.25),
      'engagement', jsonb_build_object('value', round(f.engagement, 6),
        'percentile', round(100 * f.pr_engagement, 2), 'weight', 0.20),
      'subscriber_conversion', jsonb_build_object('value', round(f.conversion, 4),
        'percentile', round(100 * f.pr_conversion, 2), 'weight', 0.15),
      'blend', round(100 * f.blend, 2)
    )
  from final f join aged a on a.id = f.id
  where f.target;
end
$$;

revoke all on function private.compute_scores(uuid[]) from public, anon, authenticated, service_role;

-- Writes what compute_scores computed: the current score per video and today's history row;
-- then removes the scores of these channels' videos that were not scored now (no longer
-- scoreable). That sweep goes by scored_at on the channel_id index: an anti-join against the new
-- scores was planned as a nested loop whenever the table's statistics were older than its rows
-- (13 s for 10,000 videos in the benchmark).
create function private.score_videos(channel_ids uuid[]) returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  today date := (now() at time zone 'UTC')::date;
  -- clock time, not the transaction's: a second run in the same transaction sweeps correctly
  run_at timestamptz := clock_timestamp();
  n_scored integer;
begin
  with scored as materialized (
    select * from private.compute_scores(score_videos.channel_ids)
  ),
  current_scores as (
    insert into public.performance_scores as s (video_id, workspace_id, channel_id, score, components, scored_at)
    select r.video_id, r.workspace_id, r.channel_id, r.score, r.components, run_at from scored r
    on conflict on constraint performance_scores_pkey do update set
      workspace_id = excluded.workspace_id, channel_id = excluded.channel_id, score = excluded.score,
      components = excluded.components, scored_at = excluded.scored_at
  ),
  history as (
    insert into public.performance_score_history as h (workspace_id, video_id, channel_id, scored_on, score)
    select r.workspace_id, r.video_id, r.channel_id, today, r.score from scored r
    on conflict on constraint performance_score_history_pkey do update set
      score = excluded.score, workspace_id = excluded.workspace_id, channel_id = excluded.channel_id
  )
  select count(*) into n_scored from scored;

  delete from public.performance_scores s
  where s.channel_id = any (score_videos.channel_ids) and s.scored_at < run_at;
  return n_scored;
end
$$;

revoke all on function private.score_videos(uuid[]) from public, anon, authenticated, service_role;

-- Scores one channel's videos (run after each sync of that channel).
create function private.score_channel_videos(channel_id uuid) returns integer
language sql volatile security definer set search_path = '' as $$
  select private.score_videos(array[score_channel_videos.channel_id])
$$;

revoke all on function private.score_channel_videos(uuid) from public, anon, authenticated;

grant execute on function private.score_channel_videos(uuid) to service_role;

-- Scores every channel's videos in one set-based pass (nightly, or after a formula change).
create function private.rescore_all() returns integer
language sql volatile security definer set search_path = '' as $$
  select private.score_videos(coalesce((select array_agg(c.id) from public.channels c), '{}'))
$$;

revoke all on function private.rescore_all() from public, anon, authenticated;

grant execute on function private.rescore_all() to service_role;

-- What performed in a workspace (or one of its channels), as one document for the dashboard and
-- for content generation's prompts. Security invoker: row level security decides what the caller
-- sees, so a workspace (or channel) the caller cannot read gives NULL, which the insights
-- function answers with 404.
--   as_of            last day with metrics in scope (YouTube Analytics lags a few days; both
--                    periods end relative to it so they hold the same number of data days)
--   totals           views, watch minutes, net subscribers, likes, comments over the 28 days up
--                    to as_of against the 28 days before, with change in percent (NULL when the
--                    earlier period is 0)
--   top_videos       the 10 best current scores, with their components
--   score_over_time  weekly (ISO week, Monday) average of public.performance_score_history
--   patterns         median current score per publish weekday and hour (in the caller's profile
--                    time zone), duration bucket, title length bucket, Shorts vs long-form; each
--                    with its number of videos; `best` is the bucket with the highest median
--                    among those with at least 3 videos (NULL when none has 3)
create function public.workspace_insights(workspace_id uuid, channel_id uuid default null)
returns jsonb
language plpgsql stable security invoker set search_path = ''
-- `channel_id is null or ...` filters: plan per call, never a generic plan that fits neither case
set plan_cache_mode = force_custom_plan as $$
declare
  ws uuid := workspace_insights.workspace_id;
  ch uuid := workspace_insights.channel_id;
  tz text;
  last_day date;
  result jsonb;
begin
  if not exists (select 1 from public.workspaces w where w.id = ws) then
    return null;
  end if;
  if ch is not null and not exists (select 1 from public.channels c where c.id = ch and c.workspace_id = ws) then
    return null;
  end if;
  select p.timezone into tz from public.profiles p where p.id = (select auth.uid());
  tz := coalesce(tz, 'UTC');

  select max(m.day) into last_day
  from public.video_metrics m
  where m.workspace_id = ws
    and (ch is null or m.video_id in (select v.id from public.videos v where v.channel_id = ch));

  with scope_videos as (
    select v.* from public.videos v
    where v.workspace_id = ws and (ch is null or v.channel_id = ch)
  ),
  period_totals as (
    select
      sum(m.views) filter (where m.day > last_day - 28) as views_cur,
      sum(m.views) filter (where m.day <= last_day - 28) as views_prev,
      sum(m.estimated_minutes_watched) filter (where m.day > last_day - 28) as minutes_cur,
      sum(m.estimated_minutes_watched) filter (where m.day <= last_day - 28) as minutes_prev,
      sum(m.subscribers_gained - m.subscribers_lost) filter (where m.day > last_day - 28) as subs_cur,
      sum(m.subscribers_gained - m.subscribers_lost) filter (where m.day <= last_day - 28) as subs_prev,
      sum(m.likes) filter (where m.day > last_day - 28) as likes_cur,
      sum(m.likes) filter (where m.day <= last_day - 28) as likes_prev,
      sum(m.comments) filter (where m.day > last_day - 28) as comments_cur,
      sum(m.comments) filter (where m.day <= last_day - 28) as comments_prev
    from public.video_metrics m
    where m.workspace_id = ws and m.day between last_day - 55 and last_day
      and (ch is null or m.video_id in (select sv.id from scope_videos sv))
  ),
  totals as (
    select jsonb_object_agg(x.metric, jsonb_build_object(
      'current', x.cur,
      'previous', x.prev,
      'change_pct', case when x.prev <> 0 then round((x.cur - x.prev) * 100 / x.prev, 1) end
    )) as doc
    from period_totals t
    cross join lateral (values
      ('views', coalesce(t.views_cur, 0)::numeric, coalesce(t.views_prev, 0)::numeric),
      ('watch_minutes', round(coalesce(t.minutes_cur, 0), 1), round(coalesce(t.minutes_prev, 0), 1)),
      ('subscribers_net', coalesce(t.subs_cur, 0)::numeric, coalesce(t.subs_prev, 0)::numeric),
      ('likes', coalesce(t.likes_cur, 0)::numeric, coalesce(t.likes_prev, 0)::numeric),
      ('comments', coalesce(t.comments_cur, 0)::numeric, coalesce(t.comments_prev, 0)::numeric)
    ) as x(metric, cur, prev)
  ),
  scored as (
    select v.id, v.youtube_video_id, v.title, v.published_at, v.duration_seconds, v.is_short, v.view_count,
      v.channel_id, s.score, s.components,
      v.published_at at time zone tz as published_local
    from scope_videos v join public.performance_scores s on s.video_id = v.id
  ),
  top_videos as (
    select coalesce(jsonb_agg(jsonb_build_object(
      'video_id', t.id, 'youtube_video_id', t.youtube_video_id, 'channel_id', t.channel_id, 'title', t.title,
      'published_at', t.published_at, 'duration_seconds', t.duration_seconds, 'is_short', t.is_short,
      'view_count', t.view_count, 'score', t.score, 'components', t.components
    ) order by t.score desc, t.published_at desc), '[]'::jsonb) as doc
    from (select * from scored order by score desc, published_at desc limit 10) t
  ),
  weekly as (
    select coalesce(jsonb_agg(jsonb_build_object(
      'week', w.week, 'average_score', w.average_score, 'videos', w.videos) order by w.week), '[]'::jsonb) as doc
    from (
      select date_trunc('week', h.scored_on)::date as week, round(avg(h.score), 2) as average_score,
        count(distinct h.video_id) as videos
      from public.performance_score_history h
      where h.workspace_id = ws and (ch is null or h.channel_id = ch)
        and h.scored_on > (now() at time zone 'UTC')::date - 365
      group by 1
    ) w
  ),
  bucketed as (
    select sc.score, dim.name, dim.bucket, dim.sort_key
    from scored sc
    cross join lateral (values
      ('publish_weekday', trim(to_char(sc.published_local, 'Day')), extract(isodow from sc.published_local)::int),
      ('publish_hour', to_char(sc.published_local, 'HH24'), extract(hour from sc.published_local)::int),
      ('duration', case
          when sc.duration_seconds is null then null
          when sc.duration_seconds < 60 then '<60s'
          when sc.duration_seconds < 300 then '1-5min'
          when sc.duration_seconds < 900 then '5-15min'
          else '>15min' end,
        case when sc.duration_seconds < 60 then 1 when sc.duration_seconds < 300 then 2
             when sc.duration_seconds < 900 then 3 else 4 end),
      ('title_length', case
          when sc.title is null then null
          when char_length(sc.title) <= 30 then '<=30'
          when char_length(sc.title) <= 50 then '31-50'
          when char_length(sc.title) <= 70 then '51-70'
          else '>70' end,
        case when char_length(sc.title) <= 30 then 1 when char_length(sc.title) <= 50 then 2
             when char_length(sc.title) <= 70 then 3 else 4 end),
      ('format', case sc.is_short when true then 'short' when false then 'long_form' end,
        case when sc.is_short then 1 else 2 end)
    ) as dim(name, bucket, sort_key)
    where sc.published_local is not null and dim.bucket is not null
  ),
  bucket_stats as (
    select b.name, b.bucket, min(b.sort_key) as sort_key, count(*) as videos,
      round(percentile_cont(0.5) within group (order by b.score)::numeric, 2) as median_score,
      round(avg(b.score), 2) as average_score
    from bucketed b
    group by b.name, b.bucket
  ),
  patterns as (
    select coalesce(jsonb_object_agg(d.name, jsonb_build_object(
      'buckets', d.buckets, 'best', d.best)), '{}'::jsonb) as doc
    from (
      select bs.name,
        jsonb_agg(jsonb_build_object('bucket', bs.bucket, 'videos', bs.videos, 'median_score', bs.median_score,
          'average_score', bs.average_score) order by bs.sort_key) as buckets,
        (select x.bucket from bucket_stats x where x.name = bs.name and x.videos >= 3
         order by x.median_score desc, x.videos desc, x.sort_key limit 1) as best
      from bucket_stats bs
      group by bs.name
    ) d
  )
  select jsonb_build_object(
    'workspace_id', ws,
    'channel_id', ch,
    'generated_at', now(),
    'time_zone', tz,
    'as_of', last_day,
    'periods', case when last_day is null then null else jsonb_build_object(
      'current', jsonb_build_object('from', last_day - 27, 'to', last_day),
      'previous', jsonb_build_object('from', last_day - 55, 'to', last_day - 28)) end,
    'channels', (select coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'youtube_channel_id', c.youtube_channel_id,
        'title', c.title, 'status', c.status, 'last_synced_at', c.last_synced_at) order by c.created_at), '[]'::jsonb)
      from public.channels c where c.workspace_id = ws and (ch is null or c.id = ch)),
    'totals', (select doc from totals),
    'top_videos', (select doc from top_videos),
    'score_over_time', (select doc from weekly),
    'patterns', (select doc from patterns)
  ) into result;
  return result;
end
$$;

revoke all on function public.workspace_insights(uuid, uuid) from public, anon;

grant execute on function public.workspace_insights(uuid, uuid) to authenticated, service_role;

create trigger videos_touch_updated_at before update on public.videos
  for each row execute function private.touch_updated_at();

create trigger video_metrics_totals_insert after insert on public.video_metrics
  referencing new table as new_rows
  for each statement execute function private.video_metrics_apply_to_totals();

create trigger video_metrics_totals_update after update on public.video_metrics
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.video_metrics_apply_to_totals();

create trigger video_metrics_totals_delete after delete on public.video_metrics
  referencing old table as old_rows
  for each statement execute function private.video_metrics_apply_to_totals();

create trigger video_metrics_totals_truncate after truncate on public.video_metrics
  for each statement execute function private.video_metrics_totals_on_truncate();

create trigger videos_refresh_totals_on_publish_change after update on public.videos
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.videos_refresh_totals_on_publish_change();

-- Synced and computed data: members read; only the service role writes (no write policies).
create policy "members read videos" on public.videos
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read video metrics" on public.video_metrics
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read performance scores" on public.performance_scores
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read score history" on public.performance_score_history
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));
