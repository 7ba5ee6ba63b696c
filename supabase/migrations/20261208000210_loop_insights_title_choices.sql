-- The loop insights learn from title variants (migration title_variants): `variants.titles` gives,
-- over the engine's published uploads whose suggestion offered title variants, how often each
-- offered position was published and how often people wrote their own title ("edited"), the pick
-- rate of each, and the outcome at the asked age of each choice and of variant vs edited (the same
-- median, interval and minimum as the main comparison). Otherwise as in 20261207000420.

create or replace function public.loop_insights(workspace_id uuid, channel_id uuid default null, age_days integer default 7,
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

