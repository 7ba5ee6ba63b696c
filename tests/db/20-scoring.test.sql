-- Performance scoring (private.compute_scores, documented in docs/scoring.md) on an input whose
-- scores were computed by hand below, not by re-running the SQL. Also: scores are relative to the
-- video's own channel only, young videos are compared on their first N days, a lone video gets
-- the neutral 50, and only the service role may run the scoring.
begin;
select plan(32);

select tests.create_user('scoring_owner');
select m.workspace_id as ws from public.workspace_members m where m.user_id = tests.get_user_id('scoring_owner') \gset

insert into public.channels (workspace_id, youtube_channel_id, title) values (:'ws', 'UCscoringA', 'A') returning id as ch_a \gset
insert into public.channels (workspace_id, youtube_channel_id, title) values (:'ws', 'UCscoringB', 'B') returning id as ch_b \gset
insert into public.channels (workspace_id, youtube_channel_id, title) values (:'ws', 'UCscoringC', 'C') returning id as ch_c \gset

-- Channel A. Publish times are noon Pacific (UTC-8 in winter), so the publish day p is the date shown.
insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at) values
  (:'ws', :'ch_a', 'scoreV1', 'V1', '2026-01-01 12:00:00-08'),
  (:'ws', :'ch_a', 'scoreV2', 'V2', '2026-01-05 12:00:00-08'),
  (:'ws', :'ch_a', 'scoreV3', 'V3', '2026-01-03 12:00:00-08'),
  (:'ws', :'ch_a', 'scoreV4', 'V4', '2026-01-10 12:00:00-08'),
  (:'ws', :'ch_a', 'scoreV5', 'V5', '2026-02-08 12:00:00-08'),
  (:'ws', :'ch_a', 'scoreV6', 'V6 (after the last data day)', '2026-02-20 12:00:00-08'),
  (:'ws', :'ch_a', 'scoreV7', 'V7 (not published)', null);
create temp table vid on commit drop as
  select v.title as k, v.id from public.videos v where v.channel_id = :'ch_a';

insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
select :'ws', (select id from vid where k = x.k), x.day::date, x.views, x.avp, x.likes, x.comments, x.shares, x.gained, x.lost
from (values
  ('V1', '2026-01-01', 2800, 40, 100, 20, 20, 20, 0),
  ('V1', '2026-02-10', 1200, 60,   0,  0,  0,  5, 5),  -- day p+40: outside the velocity window; the channel's last day D
  ('V2', '2026-01-05', 1400, 55,  50, 10, 10, 14, 0),
  ('V3', '2026-01-03', 5600, 30,  80, 20, 12, 28, 0),
  ('V4', '2026-01-10',  700, 70,   7,  0,  0,  0, 7),
  ('V5', '2026-02-08',  600, 80,  20,  5,  5,  2, 0),
  ('V5', '2026-02-09',  400, 60,   0,  0,  0,  0, 0)
) as x(k, day, views, avp, likes, comments, shares, gained, lost);

-- Hand computation, channel A. D = 2026-02-10 (V1's last row).
-- n = D - p + 1: V1 41, V2 37, V3 39, V4 32 -> mature (>= 7, velocity over 28 days);
-- V5 3 -> "first 3 days"; V6 n = -9 -> not scored; V7 has no publish date -> not scored.
--
-- Mature group {V1..V4}, pr = (rank - 1) / 3:
--          velocity        retention                     engagement        conversion (per 1000 views)
--   V1  2800/28 = 100   (40*2800+60*1200)/4000 = 46   140/4000 = 0.035   (20-0+5-5)*1000/4000 = 5
--   V2  1400/28 =  50   55                            70/1400  = 0.05    14*1000/1400 = 10
--   V3  5600/28 = 200   30                            112/5600 = 0.02    28*1000/5600 = 5
--   V4   700/28 =  25   70                            7/700    = 0.01    -7*1000/700 = -10
--   pr velocity:   V4 0, V2 1/3, V1 2/3, V3 1
--   pr retention:  V3 0, V1 1/3, V2 2/3, V4 1
--   pr engagement: V4 0, V3 1/3, V1 2/3, V2 1
--   pr conversion: V4 0, V1 = V3 1/3 (tie: both rank 2), V2 1
--   blend V1 = .4(2/3) + .25(1/3) + .2(2/3) + .15(1/3) = 1.6/3 = 0.5333
--   blend V2 = .4(1/3) + .25(2/3) + .2 + .15           = 0.65
--   blend V3 = .4 + 0 + .2(1/3) + .15(1/3)              = 0.5167
--   blend V4 = 0 + .25 + 0 + 0                          = 0.25
--   score = 100 * pr(blend): V4 0, V3 33.33, V1 66.67, V2 100
--   velocity median (25, 50, 100, 200) = 75; V1's ratio 100/75 = 1.3333
--
-- "First 3 days" group {V1..V5} (every video with n >= 3), components over days p..p+2 only,
-- pr = (rank - 1) / 4:
--          views   velocity rank   retention                    engagement            conversion
--   V1     2800    4 -> .75        40 -> rank 2 -> .25         140/2800 = .05 -> .75   20000/2800 = 7.14 -> .75
--   V2     1400    3 -> .5         55 -> rank 3 -> .5          .05 (tie V1)   -> .75   10 -> 1
--   V3     5600    5 -> 1          30 -> rank 1 -> 0           .02 -> .25              5 -> .5
--   V4      700    1 -> 0          70 -> rank 4 -> .75         .01 -> 0                -10 -> 0
--   V5     1000    2 -> .25        (80*600+60*400)/1000 = 72 -> 1   30/1000 = .03 -> .5   2 -> .25
--   blend V5 = .4(.25) + .25(1) + .2(.5) + .15(.25) = 0.4875
--   others: V1 .625, V2 .625, V3 .525, V4 .1875 -> V5 ranks 2nd of 5 -> score 100 * 1/4 = 25
--
-- Channel B (same workspace): two videos far above and below anything in A. Mixed into A's
-- groups they would move every percentile above; kept apart, B1 wins everything: 100 and 0.
-- Channel C: one video, nothing to compare with: every percentile 0.5, score 50.
insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at) values
  (:'ws', :'ch_b', 'scoreB1', 'B1', '2026-01-01 12:00:00-08'),
  (:'ws', :'ch_b', 'scoreB2', 'B2', '2026-01-01 12:00:00-08'),
  (:'ws', :'ch_c', 'scoreC1', 'C1', '2026-01-01 12:00:00-08');
insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
select :'ws', v.id, x.day::date, x.views, x.avp, x.likes, 0, 0, x.gained, 0
from (values
  ('B1', '2026-02-20', 10000000, 95, 900000, 50000),
  ('B2', '2026-01-02', 10, 1, 0, 0),
  ('C1', '2026-01-02', 10, 1, 0, 0)
) as x(k, day, views, avp, likes, gained)
join public.videos v on v.title = x.k and v.workspace_id = :'ws';

-- Section: who may score
select tests.authenticate_as('scoring_owner');
select throws_ok(format('select private.score_channel_videos(%L)', :'ch_a'), '42501', null,
  'a workspace owner cannot run score_channel_videos');
select throws_ok('select private.rescore_all()', '42501', null, 'an authenticated user cannot run rescore_all');
select tests.authenticate_as_anon();
select throws_ok('select private.rescore_all()', '42501', null, 'anon cannot run rescore_all');

-- Section: one channel
select tests.authenticate_as_service_role();
select is(private.score_channel_videos(:'ch_a'), 5, 'score_channel_videos scores the five scoreable videos of channel A');
select tests.clear_authentication();

create temp table score_of on commit drop as
  select v.title as k, s.score, s.components from public.performance_scores s join public.videos v on v.id = s.video_id;

select is((select score from score_of where k = 'V1'), 66.67, 'V1: hand-computed score 66.67');
select is((select score from score_of where k = 'V2'), 100.00, 'V2: hand-computed score 100');
select is((select score from score_of where k = 'V3'), 33.33, 'V3: hand-computed score 33.33');
select is((select score from score_of where k = 'V4'), 0.00, 'V4: hand-computed score 0');
select is((select score from score_of where k = 'V5'), 25.00, 'V5 (3 days old) is compared on everyone''s first 3 days: 25');
select is((select count(*) from score_of where k in ('V6 (after the last data day)', 'V7 (not published)')), 0::bigint,
  'videos without data days or publish date get no score');
select is((select count(*) from public.performance_scores where channel_id in (:'ch_b', :'ch_c')), 0::bigint,
  'scoring channel A leaves channels B and C alone');

-- Section: the components explain the score
select is((select components -> 'velocity' ->> 'value' from score_of where k = 'V1')::numeric, 100::numeric, 'V1 velocity: 2800 views / 28 days');
select is((select components -> 'velocity' ->> 'channel_median' from score_of where k = 'V1')::numeric, 75::numeric, 'channel median velocity 75');
select is((select components -> 'velocity' ->> 'ratio_to_median' from score_of where k = 'V1')::numeric, 1.3333, 'V1 ratio to the median 1.3333');
select is((select components -> 'velocity' ->> 'percentile' from score_of where k = 'V1')::numeric, 66.67, 'V1 velocity percentile 66.67');
select is((select components -> 'retention' ->> 'value' from score_of where k = 'V1')::numeric, 46::numeric, 'V1 retention: views-weighted 46 %');
select is((select components -> 'engagement' ->> 'value' from score_of where k = 'V1')::numeric, 0.035, 'V1 engagement 140 / 4000');
select is((select components -> 'subscriber_conversion' ->> 'value' from score_of where k = 'V1')::numeric, 5::numeric, 'V1 conversion 5 per 1000 views');
select is((select components -> 'subscriber_conversion' ->> 'percentile' from score_of where k = 'V3')::numeric, 33.33, 'tied conversions share the lower percentile');
select is((select components ->> 'blend' from score_of where k = 'V1')::numeric, 53.33, 'V1 blend 53.33');
select is((select components ->> 'comparison' || '/' || (components ->> 'horizon_days') || '/' || (components ->> 'peers') from score_of where k = 'V5'),
  'first_n_days/3/5', 'V5 is compared with the first 3 days of the 5 videos that have them');
select is((select components -> 'retention' ->> 'value' from score_of where k = 'V5')::numeric, 72::numeric, 'V5 retention over its 3 days: 72');
select is((select components ->> 'comparison' || '/' || (components ->> 'peers') || '/' || (components ->> 'as_of') from score_of where k = 'V2'),
  'mature/4/2026-02-10', 'V2 is compared with the 4 mature videos, as of the channel''s last data day');
select is((select count(*) from public.performance_score_history h join vid on vid.id = h.video_id
           where h.scored_on = (now() at time zone 'UTC')::date), 5::bigint, 'a history row for today per scored video');

-- Section: all channels at once; channel isolation
-- (the database may hold other channels, e.g. the demo seed's: rescore_all scores those too)
select tests.authenticate_as_service_role();
select private.rescore_all() as rescored \gset
select tests.clear_authentication();
select is((select count(*) from public.performance_scores where channel_id in (:'ch_a', :'ch_b', :'ch_c')), 8::bigint,
  'rescore_all scores A''s five, B''s two and C''s one video');
select ok(:rescored >= 8, 'rescore_all returns how many videos it scored, ours among them');
select results_eq(
  $$select v.title, s.score from public.performance_scores s join public.videos v on v.id = s.video_id
    where s.channel_id = (select id from public.channels where youtube_channel_id = 'UCscoringA') order by v.title$$,
  $$values ('V1'::text, 66.67::numeric), ('V2', 100.00), ('V3', 33.33), ('V4', 0.00), ('V5', 25.00)$$,
  'channel A''s scores are unchanged by channels B and C');
select results_eq(
  $$select v.title, s.score from public.performance_scores s join public.videos v on v.id = s.video_id
    where s.channel_id = (select id from public.channels where youtube_channel_id = 'UCscoringB') order by v.title$$,
  $$values ('B1'::text, 100.00::numeric), ('B2', 0.00)$$,
  'channel B is ranked within itself');
select is((select s.score from public.performance_scores s where s.channel_id = :'ch_c'), 50.00, 'a lone video scores the neutral 50');
select is((select count(*) from public.performance_score_history h join vid on vid.id = h.video_id), 5::bigint,
  'rescoring the same day updates the history row instead of adding one');

-- Section: a video that can no longer be scored loses its score
update public.videos set published_at = null where youtube_video_id = 'scoreV4';
select tests.authenticate_as_service_role();
select is(private.score_channel_videos(:'ch_a'), 4, 'after V4 loses its publish date four videos are scored');
select tests.clear_authentication();
select is((select count(*) from public.performance_scores s join vid on vid.id = s.video_id where vid.k = 'V4'), 0::bigint,
  'V4''s stale score is removed');

select * from finish();
rollback;
