-- Title variants (20261201001100_generated_content, 20261201001600_learning_lineage_and_outcomes): the
-- output rules for title_variants and the recorded pick (title_choice), an edit with a pick that
-- disagrees with its title refused, the lineage's title choice derived from the title that was
-- published, and the loop insights' pick rates and outcomes per choice, computed by hand.
begin;
select plan(21);

select tests.create_user('tv_owner');
create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to authenticated, service_role, anon;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('tv_owner');

-- Section: output rules

create function pg_temp.title_item(extra jsonb) returns jsonb language sql as $$
  select jsonb_build_object('items', jsonb_build_array(jsonb_build_object('title', 'Alpha', 'reason', 'r') || extra))
$$;

select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Alpha", "Beta", "Gamma"]}')), null,
  'variants, nothing picked yet');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Alpha", "Beta", "Gamma"], "title_choice": 0}')), null,
  'a pick that names the title''s variant');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Beta", "Gamma"], "title_choice": "edited"}')), null,
  '"edited" with a title of one''s own');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Alpha", "Beta", "Gamma"], "title_choice": 1}')),
  'output.items[0].title_choice names a variant the title does not equal', 'a pick must agree with the title');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Alpha", "Beta"], "title_choice": "edited"}')),
  'output.items[0].title_choice is "edited" but the title is one of the variants', '"edited" is not a variant');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Alpha", "Beta"], "title_choice": 2}')),
  'output.items[0].title_choice must be a position from 0 to 1 or "edited"', 'a position past the variants');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_choice": 0}')),
  'output.items[0].title_choice needs title_variants', 'a pick without variants');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Alpha"]}')),
  'output.items[0].title_variants must hold 2 to 5 entries', 'one variant is no choice');
select is(private.content_output_problem('title', pg_temp.title_item('{"title_variants": ["Alpha", "<b>Beta</b>"]}')),
  'output.items[0].title_variants: each entry must be a trimmed, non-empty title of at most 100 characters without < or >',
  'variants follow the title rules');
select is(private.content_output_problem('description', '{"items": [{"description": "d", "hashtags": [], "title_variants": ["A", "B"]}]}'),
  'output.items[0] has an unknown field title_variants', 'only kinds with a title have variants');

select tests.authenticate_as('tv_owner');
select public.create_generated_content('c0000000-0000-4000-8000-0000000000f1', (select id from ids where name = 'ws'), 'title',
  '{"topic": "bread", "tone": "calm", "target_format": "short"}', '[]', 'gen-test', 'gemini-test', 1, 1,
  pg_temp.title_item('{"title_variants": ["Alpha", "Beta", "Gamma"]}'));
select throws_ok($$select public.edit_generated_content('c0000000-0000-4000-8000-0000000000f1',
  '{"items": [{"title": "Alpha", "reason": "r", "title_variants": ["Alpha", "Beta", "Gamma"], "title_choice": 2}]}')$$,
  '22023', 'output.items[0].title_choice names a variant the title does not equal', 'an edit whose pick disagrees with its title is refused');
select is((select (public.edit_generated_content('c0000000-0000-4000-8000-0000000000f1',
  '{"items": [{"title": "Gamma", "reason": "r", "title_variants": ["Alpha", "Beta", "Gamma"], "title_choice": 2}]}', 'picked')).current_version),
  2, 'picking variant 3 saves a new version');
reset role;

-- Section: lineage

-- A lineage row as record_upload_lineage writes it: the approved output and the title sent.
create function pg_temp.lineage(ch uuid, yt text, sent text, approved jsonb, chosen integer default null) returns void
language sql as $$
  insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule, render,
    kind, approval_source, approved_output, chosen_variant, variants)
  values (gen_random_uuid(), (select id from ids where name = 'ws'), ch, yt, timestamptz '2026-03-02 18:00:00Z',
    jsonb_build_object('title', sent), '{}', 'title', 'decision', approved, chosen, jsonb_array_length(approved -> 'items'))
$$;

with c as (insert into public.channels (workspace_id, youtube_channel_id, title)
  values ((select id from ids where name = 'ws'), 'UCtitleVariants', 'Variants') returning id)
insert into ids select 'channel', id from c;

select pg_temp.lineage((select id from ids where name = 'channel'), 'tv-l1', ' beta ',
  pg_temp.title_item('{"title_variants": ["Alpha", "Beta", "Gamma"]}'));
select is((select row(chosen_variant, title_variant, title_choice)::text from public.upload_lineage where youtube_video_id = 'tv-l1'),
  row(0, 1, 'variant')::text, 'the published title is the second variant (case and spaces ignored)');
select pg_temp.lineage((select id from ids where name = 'channel'), 'tv-l2', 'My own words',
  pg_temp.title_item('{"title_variants": ["Alpha", "Beta", "Gamma"]}'));
select is((select row(chosen_variant, title_variant, title_choice)::text from public.upload_lineage where youtube_video_id = 'tv-l2'),
  row(0, null, 'edited')::text, 'a title that is none of the variants: edited');
select pg_temp.lineage((select id from ids where name = 'channel'), 'tv-l3', 'Delta two',
  '{"items": [{"title": "Alpha", "reason": "r", "title_variants": ["Alpha", "Beta"]},
              {"title": "Delta", "reason": "r", "title_variants": ["Delta", "Delta two", "Delta three"]}]}');
select is((select row(chosen_variant, title_variant, title_choice)::text from public.upload_lineage where youtube_video_id = 'tv-l3'),
  row(1, 1, 'variant')::text, 'a variant of the second suggestion that was not its title: that suggestion, that position');
select pg_temp.lineage((select id from ids where name = 'channel'), 'tv-l4', 'Alpha', pg_temp.title_item('{}'), 0);
select is((select row(chosen_variant, title_variant, title_choice)::text from public.upload_lineage where youtube_video_id = 'tv-l4'),
  row(0, null, null)::text, 'a suggestion without variants records no title choice');

-- Section: loop insights

-- Engine uploads with 7-day outcomes: position 0 picked six times (scores 10..60), position 2
-- three times (70, 80, 90), own titles six times (scores 5..55 by 10).
create function pg_temp.engine_upload(n integer, sent text, score numeric) returns void language plpgsql as $$
declare
  ch uuid := (select id from ids where name = 'channel');
  v uuid;
begin
  insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at)
  values ((select id from ids where name = 'ws'), ch, 'tv-e' || n, sent, timestamptz '2026-03-02 18:00:00Z') returning id into v;
  insert into public.video_outcomes (video_id, age_days, workspace_id, channel_id, youtube_video_id, published_at, window_from,
    window_to, views, velocity, retention, engagement, conversion, velocity_percentile, score, peers, channel_median_velocity)
  values (v, 7, (select id from ids where name = 'ws'), ch, 'tv-e' || n, timestamptz '2026-03-02 18:00:00Z', '2026-03-02', '2026-03-08',
    10, 1, 0, 0, 0, score, score, 20, 1);
  perform pg_temp.lineage(ch, 'tv-e' || n, sent, pg_temp.title_item('{"title_variants": ["Alpha", "Beta", "Gamma"]}'));
end
$$;
select pg_temp.engine_upload(i, 'Alpha', 10 * i) from generate_series(1, 6) i;
select pg_temp.engine_upload(6 + i, 'Gamma', 60 + 10 * i) from generate_series(1, 3) i;
select pg_temp.engine_upload(9 + i, 'Own ' || i, 10 * i - 5) from generate_series(1, 6) i;

select tests.authenticate_as('tv_owner');
create temp table lt on commit drop as
select public.loop_insights((select id from ids where name = 'ws'), (select id from ids where name = 'channel'), 7) -> 'variants' -> 'titles' as doc;
reset role;

-- The channel also has tv-l1..l3 (variant 1, edited, variant 1) without outcomes: 18 uploads in all.
select is((select (doc ->> 'uploads')::int from lt), 18, 'every upload whose suggestion offered variants');
select is((select jsonb_agg(jsonb_build_array(p ->> 'choice', p -> 'position', p -> 'uploads', p -> 'pick_rate') order by ord) from lt,
           jsonb_array_elements(doc -> 'picks') with ordinality as x(p, ord)),
  '[["variant", 0, 6, 0.333], ["variant", 1, 2, 0.111], ["variant", 2, 3, 0.167], ["edited", null, 7, 0.389]]'::jsonb,
  'pick rate per offered position and for own titles');
select is((select p -> 'outcome' from lt, jsonb_array_elements(doc -> 'picks') p where p -> 'position' = '0'),
  '{"videos": 6, "status": "ok", "median_score": 35.00, "ci": {"low": 10, "high": 60, "level": 0.95, "method": "order statistics"}, "median_velocity_percentile": 35.00}'::jsonb,
  'position 0: six outcomes, median 35 in [10, 60]');
select is((select p -> 'outcome' ->> 'status' from lt, jsonb_array_elements(doc -> 'picks') p where p -> 'position' = '2'),
  'not_enough_data', 'position 2: three outcomes are not enough');
select is((select row(doc -> 'variant' ->> 'videos', doc -> 'variant' ->> 'median_score', doc -> 'edited' ->> 'videos', doc -> 'edited' ->> 'median_score')::text from lt),
  row('9', '50.00', '6', '30.00')::text, 'variant vs edited: 9 outcomes (median 50) against 6 (median of 5..55: 30)');

select * from finish();
rollback;
