-- private.video_metric_totals (what scoring reads instead of a year of days per video) stays
-- equal to an aggregate of video_metrics computed here from scratch, through inserts, upserts
-- that revise days, deletes, a moved publish date, and videos deleted with their metrics.
begin;
select plan(12);

select tests.create_user('totals_owner');
select m.workspace_id as ws from public.workspace_members m where m.user_id = tests.get_user_id('totals_owner') \gset
insert into public.channels (workspace_id, youtube_channel_id) values (:'ws', 'UCtotals') returning id as ch \gset
insert into public.videos (workspace_id, channel_id, youtube_video_id, published_at) values
  (:'ws', :'ch', 'totalsA', '2026-03-01 10:00:00-08'),
  (:'ws', :'ch', 'totalsB', '2026-03-10 23:30:00-07'),  -- 06:30 UTC on the 11th; Pacific (PDT since 8 March) day is the 10th
  (:'ws', :'ch', 'totalsC', null);

-- What the totals must equal, recomputed from the rows with nothing shared with the trigger.
create function pg_temp.expected() returns table (video text, views bigint, views_28 bigint, weighted numeric,
  interactions bigint, subs bigint, last_day date)
language sql as $$
  select v.youtube_video_id, sum(m.views)::bigint,
    coalesce(sum(m.views) filter (where m.day >= (v.published_at at time zone 'America/Los_Angeles')::date
      and m.day < (v.published_at at time zone 'America/Los_Angeles')::date + 28), 0)::bigint,
    sum(m.average_view_percentage * m.views), sum(m.likes + m.comments + m.shares)::bigint,
    sum(m.subscribers_gained - m.subscribers_lost)::bigint, max(m.day)
  from public.videos v join public.video_metrics m on m.video_id = v.id
  where v.youtube_video_id like 'totals%'
  group by v.youtube_video_id
$$;
create function pg_temp.actual() returns table (video text, views bigint, views_28 bigint, weighted numeric,
  interactions bigint, subs bigint, last_day date)
language sql as $$
  select v.youtube_video_id, t.views, t.views_first_28_days, t.weighted_view_percentage, t.interactions,
    t.subscribers_net, t.last_day
  from public.videos v join private.video_metric_totals t on t.video_id = v.id
  where v.youtube_video_id like 'totals%'
    and (t.views <> 0 or exists (select 1 from public.video_metrics m where m.video_id = v.id))
$$;

-- Section: inserts, one statement with several videos and days (inside and outside day 28)
insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
select :'ws', v.id, d::date, 100 + extract(day from d)::int, 40.5, 3, 2, 1, 4, 1
from public.videos v, generate_series(date '2026-03-01', date '2026-04-15', interval '1 day') d
where v.youtube_video_id in ('totalsA', 'totalsB', 'totalsC');
select set_eq('select * from pg_temp.actual()', 'select * from pg_temp.expected()', 'after a multi-video insert the totals equal the aggregate');
select is((select views_28 from pg_temp.actual() where video = 'totalsA'),
  (select sum(100 + extract(day from d)::int)::bigint from generate_series(date '2026-03-01', date '2026-03-28', interval '1 day') d),
  'views in the first 28 days count days 0-27 from the publish day');
select is((select views_28 from pg_temp.actual() where video = 'totalsB'),
  (select sum(100 + extract(day from d)::int)::bigint from generate_series(date '2026-03-10', date '2026-04-06', interval '1 day') d),
  'the publish day is the Pacific-time date, not the UTC one');
select is((select views_28 from pg_temp.actual() where video = 'totalsC'), 0::bigint, 'a video without publish date has no 28-day window');

-- Section: the sync's upsert revises days it already had and adds new ones
insert into public.video_metrics as m (workspace_id, video_id, day, views, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
select :'ws', v.id, d::date, 500, 70, 10, 0, 0, 0, 3
from public.videos v, generate_series(date '2026-04-10', date '2026-04-20', interval '1 day') d
where v.youtube_video_id in ('totalsA', 'totalsB')
on conflict (video_id, day) do update set views = excluded.views, average_view_percentage = excluded.average_view_percentage,
  likes = excluded.likes, comments = excluded.comments, shares = excluded.shares,
  subscribers_gained = excluded.subscribers_gained, subscribers_lost = excluded.subscribers_lost;
select set_eq('select * from pg_temp.actual()', 'select * from pg_temp.expected()', 'after an upsert that updates and inserts, the totals equal the aggregate');
select is((select last_day from pg_temp.actual() where video = 'totalsA'), date '2026-04-20', 'last_day follows new days');

-- Section: plain updates, including one that moves a day into the 28-day window
update public.video_metrics set views = views * 2 where day between '2026-03-05' and '2026-03-07';
delete from public.video_metrics m using public.videos v
  where v.id = m.video_id and v.youtube_video_id = 'totalsB' and m.day = '2026-03-15';
update public.video_metrics m set day = '2026-03-15'
  from public.videos v where v.id = m.video_id and v.youtube_video_id = 'totalsB' and m.day = '2026-04-20';
select set_eq('select * from pg_temp.actual()', 'select * from pg_temp.expected()', 'after updates (values and days) the totals equal the aggregate');

-- Section: deletes, including a video's last day
delete from public.video_metrics where day >= '2026-04-18' or day = '2026-03-03';
select set_eq('select * from pg_temp.actual()', 'select * from pg_temp.expected()', 'after deletes the totals equal the aggregate');
select is((select last_day from pg_temp.actual() where video = 'totalsA'), date '2026-04-17', 'last_day falls back when the last days are deleted');

-- Section: a moved publish date moves the 28-day window
update public.videos set published_at = '2026-03-20 09:00:00-07' where youtube_video_id = 'totalsA';
update public.videos set published_at = '2026-03-05 09:00:00-08' where youtube_video_id = 'totalsC';
select set_eq('select * from pg_temp.actual()', 'select * from pg_temp.expected()', 'after publish dates change the totals equal the aggregate');

-- Section: a deleted video takes its metrics and totals with it; the others stay right
delete from public.videos where youtube_video_id = 'totalsB';
select is((select count(*) from private.video_metric_totals t where not exists (select 1 from public.videos v where v.id = t.video_id)),
  0::bigint, 'no totals are left for deleted videos');
select set_eq('select * from pg_temp.actual()', 'select * from pg_temp.expected()', 'after a video is deleted the remaining totals equal the aggregate');

select * from finish();
rollback;
