-- Outcomes: how every video of a channel did at fixed ages (1 day = 24 h, 7 days, 28 days) against
-- the channel's other videos at the same age. Kept for organic videos too, because the loop
-- compares the engine's uploads with them.
--
-- When: a sync ends by scoring its channel (private.score_videos writes public.performance_scores
-- in one statement); statement triggers on that table then record, for the channels just scored,
-- every (video, age) whose window is now covered by the channel's data and has no outcome yet. So
-- an outcome is recorded once, as the data arrives, and never recomputed: it says how the video
-- stood among its peers at the time.
--
-- Definitions (the scoring formula's, docs/scoring.md, restricted to a video's first N days):
--   D       the channel's last day with metrics (YouTube Analytics lags; windows are measured
--           against D, never today);  p = publish day (Pacific time)
--   window  [p, p + N - 1], covered when D >= p + N - 1 (days without a row count as zero views)
--   velocity = views in the window / N; retention, engagement, conversion as in scoring
--   peers   the channel's videos with an outcome at age N, including those recorded in the same
--           pass (in a first sync every old video is recorded together, so each is ranked among
--           all of them)
--   velocity_percentile = 100 * percent_rank of velocity among peers (ties share the lower rank; a
--           single peer gets 50)
--   score   = 100 * percent_rank among peers of the blend 0.40 pr(velocity) + 0.25 pr(retention)
--           + 0.20 pr(engagement) + 0.15 pr(conversion), every peer's blend taken in this pool
--   channel_median_velocity = median velocity of the peers

-- Section: tables

create table public.video_outcomes (
  video_id uuid not null,
  age_days integer not null check (age_days in (1, 7, 28)),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  channel_id uuid not null,
  youtube_video_id text not null,
  published_at timestamptz not null,
  window_from date not null,
  window_to date not null,
  views bigint not null check (views >= 0),
  velocity numeric not null,
  retention numeric not null,
  engagement numeric not null,
  conversion numeric not null,
  velocity_percentile numeric(5, 2) not null check (velocity_percentile between 0 and 100),
  score numeric(5, 2) not null check (score between 0 and 100),
  peers integer not null check (peers >= 1),
  channel_median_velocity numeric not null,
  recorded_at timestamptz not null default now(),
  primary key (video_id, age_days)
);
create index video_outcomes_workspace_id_idx on public.video_outcomes (workspace_id, age_days);
create index video_outcomes_channel_id_idx on public.video_outcomes (channel_id, age_days);
create index video_outcomes_youtube_video_id_idx on public.video_outcomes (youtube_video_id);

-- Section: functions

-- Records the outcomes that became due for the given channels; returns how many.
create function private.record_video_outcomes(channel_ids uuid[]) returns integer
language plpgsql volatile security definer set search_path = '' as $$
declare
  n integer;
begin
  with vids as (
    select v.id, v.workspace_id, v.channel_id, v.youtube_video_id, v.published_at,
      private.publish_day(v.published_at) as p
    from public.videos v
    where v.channel_id = any (record_video_outcomes.channel_ids) and v.published_at is not null
  ),
  as_of as (
    select vids.channel_id, max(t.last_day) as d
    from vids join private.video_metric_totals t on t.video_id = vids.id
    group by vids.channel_id
  ),
  due as (
    select vids.*, a.age
    from vids join as_of on as_of.channel_id = vids.channel_id
    cross join (values (1), (7), (28)) as a(age)
    where as_of.d >= vids.p + a.age - 1
      and not exists (select 1 from public.video_outcomes o where o.video_id = vids.id and o.age_days = a.age)
  ),
  fresh as (
    select due.id, due.workspace_id, due.channel_id, due.youtube_video_id, due.published_at, due.age, due.p,
      coalesce(sum(m.views), 0) as views,
      coalesce(sum(m.views), 0)::numeric / due.age as velocity,
      case when coalesce(sum(m.views), 0) > 0 then sum(m.average_view_percentage * m.views) / sum(m.views) else 0 end as retention,
      case when coalesce(sum(m.views), 0) > 0 then sum(m.likes + m.comments + m.shares)::numeric / sum(m.views) else 0 end as engagement,
      case when coalesce(sum(m.views), 0) > 0 then sum(m.subscribers_gained - m.subscribers_lost) * 1000.0 / sum(m.views) else 0 end as conversion
    from due
    left join public.video_metrics m on m.video_id = due.id and m.day between due.p and due.p + due.age - 1
    group by due.id, due.workspace_id, due.channel_id, due.youtube_video_id, due.published_at, due.age, due.p
  ),
  pool as (
    select f.id, f.channel_id, f.age, f.velocity, f.retention, f.engagement, f.conversion, true as is_new from fresh f
    union all
    select o.video_id, o.channel_id, o.age_days, o.velocity, o.retention, o.engagement, o.conversion, false
    from public.video_outcomes o
    where (o.channel_id, o.age_days) in (select distinct f.channel_id, f.age from fresh f)
  ),
  medians as (
    select pool.channel_id, pool.age, percentile_cont(0.5) within group (order by pool.velocity) as median_velocity
    from pool group by pool.channel_id, pool.age
  ),
  ranked as (
    select pool.*, count(*) over w as peers, md.median_velocity,
      coalesce((rank() over (w order by pool.velocity) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_velocity,
      coalesce((rank() over (w order by pool.retention) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_retention,
      coalesce((rank() over (w order by pool.engagement) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_engagement,
      coalesce((rank() over (w order by pool.conversion) - 1)::numeric / nullif(count(*) over w - 1, 0), 0.5) as pr_conversion
    from pool join medians md on md.channel_id = pool.channel_id and md.age = pool.age
    window w as (partition by pool.channel_id, pool.age)
  ),
  blended as (
    select r.*, round(0.40 * r.pr_velocity + 0.25 * r.pr_retention + 0.20 * r.pr_engagement + 0.15 * r.pr_conversion, 12) as blend
    from ranked r
  ),
  scored as (
    select b.*, coalesce((rank() over (partition by b.channel_id, b.age order by b.blend) - 1)::numeric
      / nullif(b.peers - 1, 0), 0.5) as pr_blend
    from blended b
  )
  insert into public.video_outcomes (video_id, age_days, workspace_id, channel_id, youtube_video_id, published_at,
    window_from, window_to, views, velocity, retention, engagement, conversion, velocity_percentile, score, peers,
    channel_median_velocity)
  select f.id, f.age, f.workspace_id, f.channel_id, f.youtube_video_id, f.published_at, f.p, f.p + f.age - 1, f.views,
    round(f.velocity, 4), round(f.retention, 4), round(f.engagement, 6), round(f.conversion, 4),
    round(100 * s.pr_velocity, 2), round(100 * s.pr_blend, 2), s.peers, round(s.median_velocity::numeric, 4)
  from fresh f join scored s on s.id = f.id and s.age = f.age and s.is_new
  on conflict on constraint video_outcomes_pkey do nothing;
  get diagnostics n = row_count;
  return n;
end
$$;

-- The channels a scoring statement touched, whose outcomes may have become due.
create function private.scores_record_outcomes() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.record_video_outcomes(array(select distinct s.channel_id from scored_rows s));
  return null;
end
$$;

-- Section: triggers
-- Two triggers because a trigger with a transition table may have only one event; score_videos'
-- upsert fires both, and the second finds nothing left to record.

create trigger performance_scores_record_outcomes_insert after insert on public.performance_scores
  referencing new table as scored_rows for each statement execute function private.scores_record_outcomes();
create trigger performance_scores_record_outcomes_update after update on public.performance_scores
  referencing new table as scored_rows for each statement execute function private.scores_record_outcomes();

-- Section: RLS policies

alter table public.video_outcomes enable row level security;
create policy "members read video outcomes" on public.video_outcomes
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

-- Section: grants

revoke all on public.video_outcomes from anon, authenticated;
grant select on public.video_outcomes to authenticated;
grant all on public.video_outcomes to service_role;
revoke all on function private.record_video_outcomes(uuid[]), private.scores_record_outcomes()
  from public, anon, authenticated, service_role;

insert into ops.backup_table_classes (table_name, class, why) values
  ('public.video_outcomes', 'content', 'outcomes computed from synced data; the next scoring records any that a restore removed');
