-- Lineage of what the engine published: every published upload knows the schedule, the render,
-- the exact text a person approved, the Gemini generation behind it and the prompt's inputs (top
-- videos, patterns, brief, tone, model), and who approved it. Videos the engine did not upload
-- have no lineage row: they are "organic".
--
-- History must not be rewritable by later changes of the content: an edit makes a new version and
-- sends the content back to draft, and content (with its versions, renders and transitions) can be
-- deleted. So the facts are copied, at the moment they happen, by triggers in this database, not
-- read through references later:
--   * public.generation_inputs: what a prompt was built from that generated_content does not keep
--     (the publishing patterns, the channel totals, the workspace's own earlier outcomes, the
--     title variants offered). Written by generate-content (service role) next to the content.
--   * public.content_review_decisions: one row per approve or reject, written by a trigger on
--     content_transitions (review_generated_content() is the only writer of those): the reviewed
--     version's output, the reason, the reviewer, and a copy of the generation (brief, top videos,
--     patterns, model, prompt version, the Gemini calls).
--   * public.upload_lineage: one row per published upload, written by a trigger on
--     upload_schedules when its status becomes 'published' (whichever code path publishes it),
--     joining the schedule, the render and the approval decision that covered the rendered version.
-- Neither decisions nor lineage can be updated, and only a workspace's deletion removes them
-- (their only foreign key is the workspace; content ids are kept as plain values).
--
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
--
-- What the loop learned: engine-assisted uploads (those with lineage) against organic videos, at
-- one age (1, 7 or 28 days), from the outcomes recorded when the data arrived. Read by the
-- insights function (GET /insights/loop). Security invoker: RLS decides what the caller sees; a
-- workspace or channel they cannot see gives NULL (404).
--
-- Honest numbers:
--   * each group's median outcome score (the percentile among the channel's videos of the same
--     age) with a 95 % distribution-free confidence interval from order statistics: the interval
--     [x(j), x(n-j+1)] of the sorted scores, j the largest rank with P(Binomial(n, 1/2) < j) <= 2.5 %
--     (exact below 1,000 videos, the normal approximation above);
--   * a group smaller than min_videos (default 6, the smallest n for which such an interval
--     exists) gets "not enough data", no median;
--   * the verdict is "better" / "worse" only when the two intervals do not overlap (a conservative
--     test), "no clear difference" otherwise.
-- Breakdowns (kind, tone, length, publish weekday and hour of the engine's uploads) follow the same
-- minimum per bucket. Rejections come from the review decisions (reasons as the reviewer wrote
-- them), and variants from the lineage's chosen variant.

-- Section: functions
--
-- Title variants: generation now asks Gemini, in the same structured answer, for three titles per
-- suggestion (`title_variants`, the first being the suggestion's `title`), and a person picks one
-- in the Studio or writes their own. The pick is stored in the item with the content version
-- (`title_choice`: the 0-based position of the variant now in `title`, or "edited"), so review,
-- the approval record and the upload's lineage carry it like the rest of the approved text.
--
-- The loop then learns from it: the lineage of a published upload says which variant position
-- became the published title, or that the title was the person's own, and the loop insights give
-- the pick rate per position and the outcomes of each choice.

-- Section: functions
--
-- The loop insights learn from title variants (generated_content): `variants.titles` gives,
-- over the engine's published uploads whose suggestion offered title variants, how often each
-- offered position was published and how often people wrote their own title ("edited"), the pick
-- rate of each, and the outcome at the asked age of each choice and of variant vs edited (the same
-- median, interval and minimum as the main comparison).

create table public.generation_inputs (
  content_id uuid primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  request_id text check (char_length(request_id) <= 200),
  -- the publishing patterns of the insights document the prompt quoted ({name: {buckets, best}})
  patterns jsonb not null default '{}' check (jsonb_typeof(patterns) = 'object'),
  -- 28-day totals the prompt quoted (null when the workspace had no metrics)
  totals jsonb check (totals is null or jsonb_typeof(totals) = 'object'),
  -- the workspace's own earlier suggestions and how they did, as quoted in the prompt
  own_outcomes jsonb not null default '[]' check (jsonb_typeof(own_outcomes) = 'array'),
  created_at timestamptz not null default now(),
  foreign key (content_id, workspace_id) references public.generated_content (id, workspace_id)
    on update cascade on delete cascade
);

create index generation_inputs_workspace_id_idx on public.generation_inputs (workspace_id);

create table public.content_review_decisions (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  content_id uuid not null,
  transition_id bigint not null unique,
  decision text not null check (decision in ('approve', 'reject')),
  version integer not null check (version >= 1),
  kind public.content_kind not null,
  -- the exact output of the reviewed version
  output jsonb not null check (jsonb_typeof(output) = 'object'),
  reason text check (char_length(reason) <= 1000),
  -- a plain id: who decided stays recorded even when the account goes
  decided_by uuid,
  decided_at timestamptz not null,
  brief jsonb not null,
  source_videos jsonb not null,
  patterns jsonb not null default '{}',
  model text not null,
  prompt_version text not null,
  generation_request_id text,
  generation_call_ids uuid[] not null default '{}',
  content_created_by uuid,
  content_created_at timestamptz not null,
  check ((decision = 'reject') = (reason is not null))
);

create index content_review_decisions_workspace_id_idx on public.content_review_decisions (workspace_id, decided_at desc);

create index content_review_decisions_content_id_idx on public.content_review_decisions (content_id, version, id desc);

create table public.upload_lineage (
  schedule_id uuid primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  channel_id uuid,
  youtube_video_id text not null,
  published_at timestamptz not null,
  -- what was sent: title, description, tags, privacy, publish_at, time_zone, strategy, who scheduled
  schedule jsonb not null check (jsonb_typeof(schedule) = 'object'),
  -- the render: video_job_id, provider_job_id, render_params, duration_seconds, requested_by
  render jsonb not null check (jsonb_typeof(render) = 'object'),
  content_id uuid,
  content_version integer,
  kind public.content_kind,
  -- the approval that covered the rendered version (null: none was recorded, see approval_source)
  decision_id bigint,
  approval_source text not null check (approval_source in ('decision', 'transition', 'none')),
  approved_output jsonb,
  approved_by uuid,
  approved_at timestamptz,
  -- which of the approved output's variants (items, 0-based) became the published title: the one
  -- whose title equals the schedule's (ignoring case and outer spaces); null when none does
  chosen_variant integer,
  variants integer,
  -- Gemini: model, prompt_version, request_id, call_ids
  generation jsonb not null default '{}' check (jsonb_typeof(generation) = 'object'),
  -- brief (topic, brief, tone, language, target_format), source_videos, patterns
  prompt_inputs jsonb not null default '{}' check (jsonb_typeof(prompt_inputs) = 'object'),
  tone text,
  target_format text,
  recorded_at timestamptz not null default now()
);

create index upload_lineage_workspace_id_idx on public.upload_lineage (workspace_id, published_at desc);

create index upload_lineage_youtube_video_id_idx on public.upload_lineage (youtube_video_id);

create index upload_lineage_content_id_idx on public.upload_lineage (content_id);

alter table public.generation_inputs enable row level security;

alter table public.content_review_decisions enable row level security;

alter table public.upload_lineage enable row level security;

revoke all on public.generation_inputs from anon, authenticated;

revoke all on public.content_review_decisions from anon, authenticated;

revoke all on public.upload_lineage from anon, authenticated;

grant select on public.generation_inputs to authenticated;

grant select on public.content_review_decisions to authenticated;

grant select on public.upload_lineage to authenticated;

grant all on public.generation_inputs to service_role;

grant all on public.content_review_decisions to service_role;

grant all on public.upload_lineage to service_role;

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

alter table public.video_outcomes enable row level security;

revoke all on public.video_outcomes from anon, authenticated;

grant select on public.video_outcomes to authenticated;

grant all on public.video_outcomes to service_role;

alter table public.upload_lineage
  -- the position (0-based) in the chosen item's title_variants of the published title; null when
  -- the title was the person's own or the item had no variants
  add column title_variant integer check (title_variant >= 0),
  -- 'variant': the published title is one of the offered variants; 'edited': it is none of them;
  -- null: the approved suggestion offered no title variants
  add column title_choice text check (title_choice in ('variant', 'edited')),
  -- squawk-ignore constraint-missing-not-valid
  add constraint upload_lineage_title_choice_consistent check ((title_choice = 'variant') = (title_variant is not null));

-- Updates are refused always; deletes unless they come from a cascade (a workspace's deletion),
-- whose referential-action trigger makes this one run at depth 2. Restores run with triggers off
-- and never touch these tables (see ops.backup_table_classes below).
create function private.refuse_history_rewrite() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' and pg_catalog.pg_trigger_depth() > 1 then
    return old;
  end if;
  raise exception '% is a record of what happened and cannot be changed', tg_table_name using errcode = '42501';
end
$$;

revoke all on function private.refuse_history_rewrite() from public, anon, authenticated, service_role;

-- After an approve or reject transition: the copy of what was decided on.
create function private.record_review_decision() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  c public.generated_content;
  out jsonb;
begin
  select * into c from public.generated_content g where g.id = new.content_id;
  if c.id is null then
    return null;
  end if;
  select v.output into out from public.content_versions v where v.content_id = new.content_id and v.version = new.version;
  insert into public.content_review_decisions (workspace_id, content_id, transition_id, decision, version, kind, output,
    reason, decided_by, decided_at, brief, source_videos, patterns, model, prompt_version, generation_request_id,
    generation_call_ids, content_created_by, content_created_at)
  select new.workspace_id, new.content_id, new.id, new.action::text, new.version, c.kind, coalesce(out, c.output),
    case when new.action = 'reject' then coalesce(new.reason, c.rejection_reason, 'no reason given') end,
    new.actor, new.at, c.brief, c.source_videos, coalesce(i.patterns, '{}'), c.model, c.prompt_version,
    coalesce(i.request_id, calls.request_id), coalesce(calls.ids, '{}'), c.created_by, c.created_at
  from (select 1) one
  left join public.generation_inputs i on i.content_id = c.id
  left join lateral (
    select array_agg(g.id order by g.attempt) as ids, max(g.request_id) as request_id
    from public.generation_calls g where g.content_id = c.id
  ) calls on true
  on conflict (transition_id) do nothing;
  return null;
end
$$;

revoke all on function private.record_review_decision() from public, anon, authenticated, service_role;

-- The lineage of one schedule that is now published. The approval is the last decision that
-- approved the rendered version; content approved before decisions were recorded falls back to the
-- approve transition and the version row ('transition'); a render whose content is gone and was
-- never recorded has none ('none').
create function private.record_upload_lineage(s public.upload_schedules) returns void
language plpgsql security definer set search_path = '' as $$
declare
  j public.video_jobs;
  d public.content_review_decisions;
  c public.generated_content;
  t public.content_transitions;
  approved jsonb;
  source text := 'none';
begin
  if s.video_job_id is not null then
    select * into j from public.video_jobs v where v.id = s.video_job_id;
  end if;
  if j.id is not null then
    select * into d from public.content_review_decisions r
    where r.content_id = j.content_id and r.version = j.content_version and r.decision = 'approve'
    order by r.id desc limit 1;
    if d.id is not null then
      source := 'decision';
    else
      select * into c from public.generated_content g where g.id = j.content_id;
      select * into t from public.content_transitions x
      where x.content_id = j.content_id and x.version = j.content_version and x.action = 'approve'
      order by x.id desc limit 1;
      select v.output into approved from public.content_versions v
      where v.content_id = j.content_id and v.version = j.content_version;
      if t.id is not null then
        source := 'transition';
      end if;
    end if;
  end if;
  insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule,
    render, content_id, content_version, kind, decision_id, approval_source, approved_output, approved_by, approved_at,
    chosen_variant, variants, generation, prompt_inputs, tone, target_format)
  values (s.id, s.workspace_id, s.channel_id, s.youtube_video_id, coalesce(s.published_at, now()),
    jsonb_build_object('title', s.title, 'description', s.description, 'tags', to_jsonb(s.tags), 'privacy', s.privacy,
      'publish_at', s.publish_at, 'time_zone', s.time_zone, 'strategy', s.strategy, 'scheduled_by', s.created_by,
      'scheduled_at', s.created_at),
    jsonb_build_object('video_job_id', j.id, 'provider_job_id', j.provider_job_id, 'render_params', j.render_params,
      'duration_seconds', j.duration_seconds, 'requested_by', j.requested_by, 'finished_at', j.finished_at),
    j.content_id, j.content_version, coalesce(d.kind, c.kind), d.id, source,
    coalesce(d.output, approved), coalesce(d.decided_by, t.actor), coalesce(d.decided_at, t.at),
    (select (i.n - 1)::integer from jsonb_array_elements(case when jsonb_typeof(coalesce(d.output, approved) -> 'items') = 'array'
       then coalesce(d.output, approved) -> 'items' else '[]' end) with ordinality as i(item, n)
     where jsonb_typeof(i.item) = 'object' and lower(btrim(i.item ->> 'title')) = lower(btrim(s.title)) order by i.n limit 1),
    case when jsonb_typeof(coalesce(d.output, approved) -> 'items') = 'array' then jsonb_array_length(coalesce(d.output, approved) -> 'items') end,
    jsonb_strip_nulls(jsonb_build_object('model', coalesce(d.model, c.model), 'prompt_version', coalesce(d.prompt_version, c.prompt_version),
      'request_id', d.generation_request_id, 'call_ids', to_jsonb(d.generation_call_ids))),
    jsonb_strip_nulls(jsonb_build_object('brief', coalesce(d.brief, c.brief), 'source_videos', coalesce(d.source_videos, c.source_videos),
      'patterns', d.patterns)),
    coalesce(d.brief, c.brief) ->> 'tone', coalesce(d.brief, c.brief) ->> 'target_format')
  on conflict (schedule_id) do nothing;
end
$$;

revoke all on function private.record_upload_lineage(public.upload_schedules) from public, anon, authenticated, service_role;

-- Publishing never fails because of its record: the video is on YouTube whatever happens here. A
-- failure is a warning in the database log (and the upload then reads as organic).
create function private.upload_published() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  begin
    perform private.record_upload_lineage(new);
  exception when others then
    raise warning 'upload lineage of schedule % not recorded: % (%)', new.id, sqlerrm, sqlstate;
  end;
  return null;
end
$$;

revoke all on function private.upload_published() from public, anon, authenticated, service_role;

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

revoke all on function private.record_video_outcomes(uuid[]) from public, anon, authenticated, service_role;

-- The channels a scoring statement touched, whose outcomes may have become due.
create function private.scores_record_outcomes() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform private.record_video_outcomes(array(select distinct s.channel_id from scored_rows s));
  return null;
end
$$;

revoke all on function private.scores_record_outcomes() from public, anon, authenticated, service_role;

-- Ranks (1-based) of the order statistics bounding a 95 % confidence interval for the median of
-- n values; NULLs when n is too small for one (n < 6) or not positive. Pure arithmetic, so in
-- `public` for the security-invoker function below.
create function public.median_ci_ranks(n integer, out lo integer, out hi integer)
language plpgsql immutable set search_path = '' as $$
declare
  pmf double precision;
  cdf double precision := 0;
  j integer := 0;
begin
  if n is null or n < 6 then
    return;
  end if;
  if n > 1000 then
    j := floor((n - 1.959964 * sqrt(n)) / 2.0)::integer;
  else
    pmf := power(0.5::double precision, n);
    -- the largest j with P(B <= j - 1) <= 0.025
    while j < n loop
      exit when cdf + pmf > 0.025;
      cdf := cdf + pmf;
      pmf := pmf * (n - j) / (j + 1);
      j := j + 1;
    end loop;
  end if;
  if j < 1 then
    return;
  end if;
  lo := j;
  hi := n - j + 1;
end
$$;

revoke all on function public.median_ci_ranks(integer) from public, anon;

grant execute on function public.median_ci_ranks(integer) to authenticated, service_role;

-- {videos, status, median_score, ci, median_velocity_percentile} of sorted scores.
create function public.median_summary(sorted double precision[], velocity_percentiles double precision[], min_videos integer)
returns jsonb
language plpgsql immutable set search_path = '' as $$
declare
  n integer := coalesce(cardinality(sorted), 0);
  r record;
  med double precision;
begin
  if n < greatest(coalesce(min_videos, 6), 1) then
    return jsonb_build_object('videos', n, 'status', 'not_enough_data', 'median_score', null, 'ci', null,
      'median_velocity_percentile', null);
  end if;
  med := case when n % 2 = 1 then sorted[(n + 1) / 2] else (sorted[n / 2] + sorted[n / 2 + 1]) / 2 end;
  r := public.median_ci_ranks(n);
  return jsonb_build_object('videos', n, 'status', 'ok', 'median_score', round(med::numeric, 2),
    'ci', case when r.lo is null then null else jsonb_build_object('low', round(sorted[r.lo]::numeric, 2), 'high', round(sorted[r.hi]::numeric, 2), 'level', 0.95,
      'method', 'order statistics') end,
    'median_velocity_percentile', (select round(percentile_cont(0.5) within group (order by x)::numeric, 2)
                                   from unnest(velocity_percentiles) x));
end
$$;

revoke all on function public.median_summary(double precision[], double precision[], integer) from public, anon;

grant execute on function public.median_summary(double precision[], double precision[], integer) to authenticated, service_role;

-- Fills the title choice from the approved output and the title that was sent, as the lineage row
-- is inserted (the row is immutable afterwards). The published title decides, not the stored
-- pick: a person may still change the title when scheduling. The item is the one whose title
-- matched (chosen_variant); when none did, the first item offering the sent title as a variant.
create function private.lineage_title_choice() returns trigger
language plpgsql set search_path = '' as $$
declare
  items jsonb := case when jsonb_typeof(new.approved_output -> 'items') = 'array' then new.approved_output -> 'items' else '[]'::jsonb end;
  sent text := lower(btrim(new.schedule ->> 'title'));
  item jsonb;
begin
  if not exists (select 1 from jsonb_array_elements(items) i where jsonb_typeof(i -> 'title_variants') = 'array') then
    return new;
  end if;
  if new.chosen_variant is null then
    select (i.n - 1)::integer into new.chosen_variant
    from jsonb_array_elements(items) with ordinality as i(item, n)
    where jsonb_typeof(i.item -> 'title_variants') = 'array'
      and exists (select 1 from jsonb_array_elements_text(i.item -> 'title_variants') v where lower(btrim(v)) = sent)
    order by i.n limit 1;
  end if;
  if new.chosen_variant is null and jsonb_array_length(items) = 1 then
    new.chosen_variant := 0;
  end if;
  item := items -> new.chosen_variant;
  if item is null or jsonb_typeof(item -> 'title_variants') <> 'array' then
    new.title_choice := case when new.chosen_variant is null then 'edited' end;
    return new;
  end if;
  select (v.n - 1)::integer into new.title_variant
  from jsonb_array_elements_text(item -> 'title_variants') with ordinality as v(title, n)
  where lower(btrim(v.title)) = sent order by v.n limit 1;
  new.title_choice := case when new.title_variant is null then 'edited' else 'variant' end;
  return new;
end
$$;

revoke all on function private.lineage_title_choice() from public, anon, authenticated, service_role;

create function public.loop_insights(workspace_id uuid, channel_id uuid default null, age_days integer default 7,
  min_videos integer default 6)
returns jsonb
language plpgsql stable security invoker set search_path = ''
set plan_cache_mode = force_custom_plan as $$
declare
  ws uuid := loop_insights.workspace_id;
  ch uuid := loop_insights.channel_id;
  age integer := loop_insights.age_days;
  min_n integer := greatest(coalesce(loop_insights.min_videos, 6), 1);
  tz text;
  result jsonb;
begin
  if age not in (1, 7, 28) then
    raise exception 'age_days must be 1, 7 or 28' using errcode = '22023';
  end if;
  if not exists (select 1 from public.workspaces w where w.id = ws) then
    return null;
  end if;
  if ch is not null and not exists (select 1 from public.channels c where c.id = ch and c.workspace_id = ws) then
    return null;
  end if;
  select p.timezone into tz from public.profiles p where p.id = (select auth.uid());
  tz := coalesce(tz, 'UTC');

  with scope as materialized (
    select o.video_id, o.score, o.velocity_percentile, l.schedule_id is not null as engine,
      l.kind::text as kind, l.tone, o.published_at
    from public.video_outcomes o
    left join public.upload_lineage l on l.youtube_video_id = o.youtube_video_id and l.workspace_id = o.workspace_id
    where o.workspace_id = ws and o.age_days = age and (ch is null or o.channel_id = ch)
  ),
  groups as (
    select public.median_summary(array_agg(s.score::float8 order by s.score::float8) filter (where s.engine),
             array_agg(s.velocity_percentile::float8) filter (where s.engine), min_n) as engine,
           public.median_summary(array_agg(s.score::float8 order by s.score::float8) filter (where not s.engine),
             array_agg(s.velocity_percentile::float8) filter (where not s.engine), min_n) as organic
    from scope s
  ),
  compared as (
    select g.engine, g.organic, case
      when g.engine ->> 'status' <> 'ok' or g.organic ->> 'status' <> 'ok' then 'not_enough_data'
      when g.engine -> 'ci' = 'null'::jsonb or g.organic -> 'ci' = 'null'::jsonb then 'no_clear_difference'
      when (g.engine -> 'ci' ->> 'low')::numeric > (g.organic -> 'ci' ->> 'high')::numeric then 'better'
      when (g.engine -> 'ci' ->> 'high')::numeric < (g.organic -> 'ci' ->> 'low')::numeric then 'worse'
      else 'no_clear_difference' end as verdict
    from groups g
  ),
  -- only the engine's rows need the video's length and the local publishing time
  engine_rows as (
    select s.score, s.kind, s.tone, v.duration_seconds, s.published_at at time zone tz as published_local
    from scope s left join public.videos v on v.id = s.video_id
    where s.engine
  ),
  bucketed as (
    select e.score, dim.name, dim.bucket, dim.sort_key
    from engine_rows e
    cross join lateral (values
      ('kind', e.kind, 0),
      ('tone', e.tone, 0),
      ('length', case
          when e.duration_seconds is null then null
          when e.duration_seconds < 60 then '<60s'
          when e.duration_seconds < 300 then '1-5min'
          when e.duration_seconds < 900 then '5-15min'
          else '>15min' end,
        case when e.duration_seconds < 60 then 1 when e.duration_seconds < 300 then 2
             when e.duration_seconds < 900 then 3 else 4 end),
      ('publish_weekday', trim(to_char(e.published_local, 'Day')), extract(isodow from e.published_local)::int),
      ('publish_hour', to_char(e.published_local, 'HH24'), extract(hour from e.published_local)::int)
    ) as dim(name, bucket, sort_key)
    where dim.bucket is not null
  ),
  stats as (
    select b.name, b.bucket, min(b.sort_key) as sort_key, count(*)::int as videos,
      round(percentile_cont(0.5) within group (order by b.score)::numeric, 2) as median_score
    from bucketed b group by b.name, b.bucket
  ),
  breakdowns as (
    select coalesce(jsonb_object_agg(d.name, d.buckets), '{}'::jsonb) as doc
    from (
      select st.name, jsonb_agg(jsonb_build_object('bucket', st.bucket, 'videos', st.videos,
          'status', case when st.videos >= min_n then 'ok' else 'not_enough_data' end,
          'median_score', case when st.videos >= min_n then st.median_score end)
        order by st.sort_key, st.median_score desc nulls last, st.bucket) as buckets
      from stats st group by st.name
    ) d
  ),
  decisions as (
    select d.* from public.content_review_decisions d where d.workspace_id = ws
  ),
  rejections as (
    select jsonb_build_object(
      'rejected', (select count(*) from decisions where decision = 'reject'),
      'approved', (select count(*) from decisions where decision = 'approve'),
      'by_kind', (select coalesce(jsonb_agg(jsonb_build_object('kind', k.kind, 'rejected', k.rejected, 'approved', k.approved)
                    order by k.rejected desc, k.kind), '[]'::jsonb)
                  from (select x.kind::text as kind, count(*) filter (where x.decision = 'reject') as rejected,
                          count(*) filter (where x.decision = 'approve') as approved
                        from decisions x group by x.kind) k),
      'recent', (select coalesce(jsonb_agg(jsonb_build_object('content_id', r.content_id, 'kind', r.kind, 'version', r.version,
                    'title', r.output -> 'items' -> 0 ->> 'title', 'reason', r.reason, 'at', r.decided_at) order by r.decided_at desc, r.id desc), '[]'::jsonb)
                 from (select * from decisions x where x.decision = 'reject' order by x.decided_at desc, x.id desc limit 10) r)
    ) as doc
  ),
  variants as (
    select jsonb_build_object('uploads', count(*), 'with_variants', count(*) filter (where l.variants > 1)) as doc
    from public.upload_lineage l where l.workspace_id = ws and (ch is null or l.channel_id = ch)
  ),
  chosen as (
    select coalesce(jsonb_agg(jsonb_build_object('variant', c.variant, 'uploads', c.uploads) order by c.variant nulls last), '[]'::jsonb) as doc
    from (select l.chosen_variant as variant, count(*)::int as uploads from public.upload_lineage l
          where l.workspace_id = ws and (ch is null or l.channel_id = ch) and l.variants > 1 group by l.chosen_variant) c
  ),
  -- Title variants: per published upload whose suggestion offered them, the offered position that
  -- was published or the person's own title, with the outcome at this age when it exists.
  title_rows as (
    select l.title_choice as choice, l.title_variant as position, o.score::float8 as score, o.velocity_percentile::float8 as vp
    from public.upload_lineage l
    left join public.video_outcomes o on o.youtube_video_id = l.youtube_video_id and o.workspace_id = l.workspace_id and o.age_days = age
    where l.workspace_id = ws and (ch is null or l.channel_id = ch) and l.title_choice is not null
  ),
  titles as (
    select jsonb_build_object(
      'uploads', (select count(*) from title_rows),
      'picks', (select coalesce(jsonb_agg(jsonb_build_object('choice', p.choice, 'position', p.position, 'uploads', p.uploads,
                   'pick_rate', round(p.uploads::numeric / p.total, 3), 'outcome', p.outcome)
                 order by p.position nulls last), '[]'::jsonb)
               from (select t.choice, t.position, count(*)::int as uploads, sum(count(*)) over () as total,
                       public.median_summary(array_agg(t.score order by t.score) filter (where t.score is not null),
                         array_agg(t.vp) filter (where t.score is not null), min_n) as outcome
                     from title_rows t group by t.choice, t.position) p),
      'variant', (select public.median_summary(array_agg(t.score order by t.score) filter (where t.score is not null),
                    array_agg(t.vp) filter (where t.score is not null), min_n) from title_rows t where t.choice = 'variant'),
      'edited', (select public.median_summary(array_agg(t.score order by t.score) filter (where t.score is not null),
                   array_agg(t.vp) filter (where t.score is not null), min_n) from title_rows t where t.choice = 'edited')
    ) as doc
  ),
  recent as (
    select coalesce(jsonb_agg(jsonb_build_object('schedule_id', r.schedule_id, 'youtube_video_id', r.youtube_video_id,
        'video_id', r.video_id, 'title', r.title, 'kind', r.kind, 'tone', r.tone, 'published_at', r.published_at,
        'outcomes', r.outcomes) order by r.published_at desc), '[]'::jsonb) as doc
    from (
      select l.schedule_id, l.youtube_video_id, v.id as video_id, l.schedule ->> 'title' as title, l.kind, l.tone, l.published_at,
        (select coalesce(jsonb_object_agg(o.age_days::text, jsonb_build_object('score', o.score,
            'velocity_percentile', o.velocity_percentile, 'views', o.views, 'peers', o.peers)), '{}'::jsonb)
         from public.video_outcomes o where o.youtube_video_id = l.youtube_video_id and o.workspace_id = ws) as outcomes
      from public.upload_lineage l
      left join public.videos v on v.youtube_video_id = l.youtube_video_id and v.workspace_id = ws
      where l.workspace_id = ws and (ch is null or l.channel_id = ch)
      order by l.published_at desc limit 20
    ) r
  )
  select jsonb_build_object(
    'workspace_id', ws, 'channel_id', ch, 'age_days', age, 'min_videos', min_n, 'time_zone', tz, 'generated_at', now(),
    'comparison', (select jsonb_build_object('engine', c.engine, 'organic', c.organic, 'verdict', c.verdict,
      'difference', case when c.verdict <> 'not_enough_data'
        then round((c.engine ->> 'median_score')::numeric - (c.organic ->> 'median_score')::numeric, 2) end) from compared c),
    'breakdowns', (select doc from breakdowns),
    'rejections', (select doc from rejections),
    'variants', (select doc from variants) || jsonb_build_object('chosen', (select doc from chosen), 'titles', (select doc from titles)),
    'recent_uploads', (select doc from recent)
  ) into result;
  return result;
end
$$;

revoke all on function public.loop_insights(uuid, uuid, integer, integer) from public, anon;

grant execute on function public.loop_insights(uuid, uuid, integer, integer) to authenticated, service_role;

create trigger content_transitions_record_decision after insert on public.content_transitions
  for each row when (new.action in ('approve', 'reject')) execute function private.record_review_decision();

create trigger upload_schedules_record_lineage after update of status on public.upload_schedules
  for each row when (new.status = 'published' and old.status is distinct from 'published')
  execute function private.upload_published();

create trigger upload_schedules_record_lineage_on_insert after insert on public.upload_schedules
  for each row when (new.status = 'published') execute function private.upload_published();

create trigger content_review_decisions_immutable before update or delete on public.content_review_decisions
  for each row execute function private.refuse_history_rewrite();

create trigger upload_lineage_immutable before update or delete on public.upload_lineage
  for each row execute function private.refuse_history_rewrite();

create policy "members read generation inputs" on public.generation_inputs
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read review decisions" on public.content_review_decisions
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read upload lineage" on public.upload_lineage
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

insert into ops.backup_table_classes (table_name, class, why) values
  ('public.generation_inputs', 'content', 'what a generation''s prompt was built from, restored with its content'),
  ('public.content_review_decisions', 'ledger', 'review decisions as they were made; a restore never rewrites history'),
  ('public.upload_lineage', 'external_state', 'what was published to YouTube and from what; a restore never rewrites history');

-- Two triggers because a trigger with a transition table may have only one event; score_videos'
-- upsert fires both, and the second finds nothing left to record.
create trigger performance_scores_record_outcomes_insert after insert on public.performance_scores
  referencing new table as scored_rows for each statement execute function private.scores_record_outcomes();

create trigger performance_scores_record_outcomes_update after update on public.performance_scores
  referencing new table as scored_rows for each statement execute function private.scores_record_outcomes();

create policy "members read video outcomes" on public.video_outcomes
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

insert into ops.backup_table_classes (table_name, class, why) values
  ('public.video_outcomes', 'content', 'outcomes computed from synced data; the next scoring records any that a restore removed');

create trigger upload_lineage_title_choice before insert on public.upload_lineage
  for each row execute function private.lineage_title_choice();

-- The tables the document reads that did not bump the version yet (videos, channels, workspaces
-- and members already do). Outcomes are written at the end of a scoring, lineage when an upload
-- is published, decisions when content is reviewed.
select ops.invalidate_cache_on_change('public.video_outcomes');

select ops.invalidate_cache_on_change('public.upload_lineage');

select ops.invalidate_cache_on_change('public.content_review_decisions');
