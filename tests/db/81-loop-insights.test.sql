-- public.loop_insights (20261201001600_learning_lineage_and_outcomes): synthetic channels where the engine's
-- uploads are known to do better, worse or the same as organic videos, and one with too few of
-- them; medians, order-statistic intervals, verdicts and "not enough data" computed by hand below.
-- Also the breakdowns' minimum, rejections with reasons, chosen variants, and tenancy.
begin;
select plan(24);

select tests.create_user('li_owner');
select tests.create_user('li_outsider');
create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to authenticated, service_role, anon;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('li_owner');

-- A channel whose videos have 7-day outcomes with the given scores; the engine's have lineage (tone
-- from `tones`, cycling; 40 s long; published Mondays 18:00 UTC).
create function pg_temp.synthetic(label text, engine numeric[], organic numeric[], tones text[]) returns uuid
language plpgsql as $$
declare
  ws uuid := (select id from ids where name = 'ws');
  ch uuid;
begin
  insert into public.channels (workspace_id, youtube_channel_id, title) values (ws, 'UCli' || label, label) returning id into ch;
  insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds)
  select ws, ch, label || case when g.is_engine then 'e' else 'o' end || g.i, label || ' ' || g.i,
    timestamptz '2026-03-02 18:00:00Z' + g.i * interval '7 days', 40
  from (select true as is_engine, i from generate_series(1, cardinality(engine)) i
        union all select false, i from generate_series(1, cardinality(organic)) i) g;
  insert into public.video_outcomes (video_id, age_days, workspace_id, channel_id, youtube_video_id, published_at, window_from,
    window_to, views, velocity, retention, engagement, conversion, velocity_percentile, score, peers, channel_median_velocity)
  select v.id, 7, ws, ch, v.youtube_video_id, v.published_at, v.published_at::date, v.published_at::date + 6, 10, 1, 0, 0, 0,
    s.score, s.score, cardinality(engine) + cardinality(organic), 1
  from public.videos v
  join (select label || 'e' || i as yt, engine[i] as score from generate_series(1, cardinality(engine)) i
        union all select label || 'o' || i, organic[i] from generate_series(1, cardinality(organic)) i) s on s.yt = v.youtube_video_id
  where v.channel_id = ch;
  insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule, render,
    kind, approval_source, tone, variants, chosen_variant)
  select gen_random_uuid(), ws, ch, label || 'e' || i, timestamptz '2026-03-02 18:00:00Z' + i * interval '7 days',
    jsonb_build_object('title', label || ' ' || i), '{}', 'script', 'decision', tones[1 + (i - 1) % cardinality(tones)], 3, (i - 1) % 2
  from generate_series(1, cardinality(engine)) i;
  return ch;
end
$$;

-- better: engine 81,83,..,99 (n 10: median 90, CI ranks 2 and 9 -> [83, 97]);
--         organic 0,5,..,95 (n 20: median 47.5, ranks 6 and 15 -> [25, 70]); 83 > 70.
insert into ids select 'better', pg_temp.synthetic('better', array(select 79 + 2 * i from generate_series(1, 10) i)::numeric[],
  array(select 5 * i from generate_series(0, 19) i)::numeric[], array['calm', 'calm', 'calm', 'energetic', 'calm']);
-- worse: engine 1,3,..,19 (median 10, CI [3, 17]); organic as above; 17 < 25.
insert into ids select 'worse', pg_temp.synthetic('worse', array(select 2 * i - 1 from generate_series(1, 10) i)::numeric[],
  array(select 5 * i from generate_series(0, 19) i)::numeric[], array['calm']);
-- same: engine 2,12,..,92 (median 47, CI [12, 82]) overlaps organic's [25, 70].
insert into ids select 'same', pg_temp.synthetic('same', array(select 10 * i - 8 from generate_series(1, 10) i)::numeric[],
  array(select 5 * i from generate_series(0, 19) i)::numeric[], array['calm']);
-- few: five engine uploads, below the minimum of six.
insert into ids select 'few', pg_temp.synthetic('few', array[90, 91, 92, 93, 94]::numeric[],
  array(select 5 * i from generate_series(0, 19) i)::numeric[], array['calm']);

create temp table li on commit drop as
select c.name, public.loop_insights((select id from ids where name = 'ws'), c.id, 7) as doc
from ids c where c.name in ('better', 'worse', 'same', 'few');

select is((select doc -> 'comparison' ->> 'verdict' from li where name = 'better'), 'better', 'better: the verdict');
select is((select doc -> 'comparison' -> 'engine' from li where name = 'better'),
  '{"videos": 10, "status": "ok", "median_score": 90.00, "ci": {"low": 83, "high": 97, "level": 0.95, "method": "order statistics"}, "median_velocity_percentile": 90.00}'::jsonb,
  'better: the engine''s median, interval and count');
select is((select doc -> 'comparison' -> 'organic' from li where name = 'better'),
  '{"videos": 20, "status": "ok", "median_score": 47.50, "ci": {"low": 25, "high": 70, "level": 0.95, "method": "order statistics"}, "median_velocity_percentile": 47.50}'::jsonb,
  'better: organic median, interval and count');
select is((select (doc -> 'comparison' ->> 'difference')::numeric from li where name = 'better'), 42.50, 'better: the difference of medians');
select is((select doc -> 'comparison' ->> 'verdict' from li where name = 'worse'), 'worse', 'worse: the verdict');
select is((select row(doc -> 'comparison' -> 'engine' ->> 'median_score', doc -> 'comparison' -> 'engine' -> 'ci' ->> 'low',
                      doc -> 'comparison' -> 'engine' -> 'ci' ->> 'high', doc -> 'comparison' ->> 'difference')::text from li where name = 'worse'),
  row('10.00', '3.00', '17.00', '-37.50')::text, 'worse: median 10 in [3, 17], 37.5 below organic');
select is((select doc -> 'comparison' ->> 'verdict' from li where name = 'same'), 'no_clear_difference', 'same: no clear difference');
select is((select row(doc -> 'comparison' -> 'engine' ->> 'median_score', doc -> 'comparison' -> 'engine' -> 'ci' ->> 'low',
                      doc -> 'comparison' -> 'engine' -> 'ci' ->> 'high')::text from li where name = 'same'),
  row('47.00', '12.00', '82.00')::text, 'same: median 47 in [12, 82]');
select is((select doc -> 'comparison' ->> 'verdict' from li where name = 'few'), 'not_enough_data', 'few: not enough data');
select is((select doc -> 'comparison' -> 'engine' from li where name = 'few'),
  '{"videos": 5, "status": "not_enough_data", "median_score": null, "ci": null, "median_velocity_percentile": null}'::jsonb,
  'few: five videos, no median shown');
select is((select doc -> 'comparison' -> 'difference' from li where name = 'few'), 'null'::jsonb, 'few: no difference claimed');
select is((select public.loop_insights((select id from ids where name = 'ws'), (select id from ids where name = 'better'), 7, 11)
           -> 'comparison' ->> 'verdict'), 'not_enough_data', 'a higher minimum turns ten videos into not enough data');
select is((select public.loop_insights((select id from ids where name = 'ws'), (select id from ids where name = 'better'), 28)
           -> 'comparison' -> 'engine' ->> 'videos'), '0', 'no 28-day outcomes yet: zero videos at that age');

-- Breakdowns: 'better' has 8 calm and 2 energetic uploads (tones cycle calm, calm, calm, energetic, calm).
select is((select b from li, jsonb_array_elements(doc -> 'breakdowns' -> 'tone') b where name = 'better' and b ->> 'bucket' = 'calm'),
  '{"bucket": "calm", "videos": 8, "status": "ok", "median_score": 90.00}'::jsonb, 'tone with enough uploads: its median (81..99 without 87 and 97: 89 and 91 in the middle)');
select is((select b from li, jsonb_array_elements(doc -> 'breakdowns' -> 'tone') b where name = 'better' and b ->> 'bucket' = 'energetic'),
  '{"bucket": "energetic", "videos": 2, "status": "not_enough_data", "median_score": null}'::jsonb, 'tone with two uploads: not enough data');
select is((select doc -> 'breakdowns' -> 'length' from li where name = 'better'),
  '[{"bucket": "<60s", "videos": 10, "status": "ok", "median_score": 90.00}]'::jsonb, 'length buckets');
select is((select doc -> 'breakdowns' -> 'publish_weekday' -> 0 ->> 'bucket' from li where name = 'better'), 'Monday', 'publish weekday (the caller''s time zone, UTC here)');
select is((select (doc -> 'variants') - 'titles' from li where name = 'better'),
  '{"uploads": 10, "with_variants": 10, "chosen": [{"variant": 0, "uploads": 5}, {"variant": 1, "uploads": 5}]}'::jsonb,
  'which of three variants was published');
select is((select jsonb_array_length(doc -> 'recent_uploads') from li where name = 'better'), 10, 'the engine''s uploads, with their outcomes');
select is((select doc -> 'recent_uploads' -> 0 -> 'outcomes' -> '7' ->> 'score' from li where name = 'better'), '99.00', 'newest first, with its 7-day score');

-- Rejections with reasons.
insert into public.content_review_decisions (workspace_id, content_id, transition_id, decision, version, kind, output, reason,
  decided_at, brief, source_videos, model, prompt_version, content_created_at)
values ((select id from ids where name = 'ws'), gen_random_uuid(), -1, 'reject', 1, 'title', '{"items": [{"title": "Too clickbaity"}]}',
        'sounds like clickbait', now(), '{}', '[]', 'm', 'p', now()),
       ((select id from ids where name = 'ws'), gen_random_uuid(), -2, 'approve', 1, 'title', '{"items": [{"title": "Fine"}]}',
        null, now() - interval '1 minute', '{}', '[]', 'm', 'p', now());
select is((select (public.loop_insights((select id from ids where name = 'ws')) -> 'rejections') - 'recent'::text),
  '{"rejected": 1, "approved": 1, "by_kind": [{"kind": "title", "rejected": 1, "approved": 1}]}'::jsonb, 'rejections and approvals per kind');
select is((select public.loop_insights((select id from ids where name = 'ws')) -> 'rejections' -> 'recent' -> 0 ->> 'reason'),
  'sounds like clickbait', 'the reviewer''s reason');

select tests.authenticate_as('li_outsider');
select is(public.loop_insights((select id from ids where name = 'ws')), null, 'another workspace''s user gets nothing');
select tests.authenticate_as('li_owner');
select is(public.loop_insights((select id from ids where name = 'ws'), (select id from ids where name = 'same'), 7)
  -> 'comparison' ->> 'verdict', 'no_clear_difference', 'the owner reads it through RLS');
reset role;

select * from finish();
rollback;
