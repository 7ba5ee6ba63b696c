-- Fair shares of the project's YouTube quota (private.reserve_youtube_quota and
-- private.reserve_youtube_quota_at): before the borrow hour a workspace cannot spend more than its
-- share, the others keep theirs, after the borrow hour it may spend what is left of the project's
-- budget, and the budget still caps everything. Figures computed by hand from a 10,000-unit day,
-- a 25 % share (2,500 units) and an 18:00 Pacific borrow hour. The day is a fixed future date so
-- that nothing else spends on it.
begin;
select plan(27);

update private.youtube_daily_budget set units = 10000, workspace_share_percent = 25, borrow_from_hour = 18;

select tests.create_user('quota_a');
select tests.create_user('quota_b');
select m.workspace_id as ws_a from public.workspace_members m where m.user_id = tests.get_user_id('quota_a') \gset
select m.workspace_id as ws_b from public.workspace_members m where m.user_id = tests.get_user_id('quota_b') \gset

create temp table t (label text primary key, at timestamptz) on commit drop;
insert into t values
  ('morning', timestamptz '2030-03-04 10:00:00 America/Los_Angeles'),
  ('borrow', timestamptz '2030-03-04 18:00:00 America/Los_Angeles'),
  ('evening', timestamptz '2030-03-04 20:00:00 America/Los_Angeles'),
  ('late', timestamptz '2030-03-04 23:30:00 America/Los_Angeles');

create function pg_temp.reserve(ws uuid, endpoint text, calls integer, label text)
returns table (allowed boolean, reason text, retry_at timestamptz, used_today integer, workspace_used integer)
language sql as $$
  select r.allowed, r.reason, r.retry_at, r.used_today, r.workspace_used
  from private.reserve_youtube_quota_at(ws, null, endpoint, calls, (select t.at from t where t.label = reserve.label)) r
$$;

create function pg_temp.spent(ws uuid) returns integer language sql as $$
  select coalesce(sum(q.units), 0)::integer from public.youtube_quota_usage q where q.workspace_id = ws and q.day = '2030-03-04'
$$;

-- Before the borrow hour: up to the share, not one unit more.
select is((select allowed from pg_temp.reserve(:'ws_a', 'videos.insert', 1, 'morning')), true, 'an upload (1,600) fits the share');
select is((select allowed from pg_temp.reserve(:'ws_a', 'thumbnails.set', 1, 'morning')), true, 'its thumbnail (50) too');
select is((select row(allowed, reason, retry_at, workspace_used)::text from pg_temp.reserve(:'ws_a', 'videos.insert', 1, 'morning')),
  row(false, 'share', timestamptz '2030-03-04 18:00:00 America/Los_Angeles', 1650)::text,
  'a second upload (1,650 + 1,600 > 2,500) is refused for the share, retry at the borrow hour');
select is(pg_temp.spent(:'ws_a'), 1650, 'a refusal spends nothing');
select is((select allowed from pg_temp.reserve(:'ws_a', 'videos.list', 850, 'morning')), true, 'exactly the share (1,650 + 850 = 2,500) is allowed');
select is((select row(allowed, reason)::text from pg_temp.reserve(:'ws_a', 'channels.list', 1, 'morning')),
  row(false, 'share')::text, 'one unit past the share is refused');
select is((select allowed from pg_temp.reserve(:'ws_a', 'reports.query', 1, 'morning')), true,
  'a call that costs nothing (Analytics) is never held by the share');
select is(pg_temp.spent(:'ws_a'), 2500, 'the workspace spent exactly its share');

-- Other tenants are unaffected by A's spending.
select is((select allowed from pg_temp.reserve(:'ws_b', 'videos.insert', 1, 'morning')), true, 'another workspace still uploads');
select is((select row(allowed, workspace_used, used_today)::text from pg_temp.reserve(:'ws_b', 'videos.list', 900, 'morning')),
  row(true, 2500, 5000)::text, 'and spends its own full share');
select is((select row(allowed, reason)::text from pg_temp.reserve(:'ws_b', 'channels.list', 1, 'morning')),
  row(false, 'share')::text, 'and is held at its own share');

-- From the borrow hour: what the others left unused, up to the project's budget.
select is((select row(allowed, reason)::text from pg_temp.reserve(:'ws_a', 'videos.insert', 1, 'borrow')),
  row(true, null)::text, 'at 18:00 Pacific the workspace borrows beyond its share');
select is(pg_temp.spent(:'ws_a'), 4100, 'the borrowed units are its own spending');
select is((select row(allowed, used_today)::text from pg_temp.reserve(:'ws_a', 'videos.list', 3400, 'evening')),
  row(true, 10000)::text, 'up to the whole remaining budget');
select is((select row(allowed, reason, retry_at)::text from pg_temp.reserve(:'ws_a', 'channels.list', 1, 'evening')),
  row(false, 'budget', timestamptz '2030-03-05 00:00:00 America/Los_Angeles')::text,
  'the budget still caps borrowing; retry at midnight Pacific');
select is((select row(allowed, reason)::text from pg_temp.reserve(:'ws_b', 'channels.list', 1, 'evening')),
  row(false, 'budget')::text, 'once the project''s day is spent, everyone waits for the reset');
select is(pg_temp.spent(:'ws_a') + pg_temp.spent(:'ws_b'), 10000, 'never more than the budget');

-- Settings: a smaller share, and borrowing switched off.
update private.youtube_daily_budget set units = 20000, workspace_share_percent = 10, borrow_from_hour = 24;
select is((select row(allowed, reason, retry_at)::text from pg_temp.reserve(:'ws_b', 'videos.insert', 1, 'late')),
  row(false, 'share', timestamptz '2030-03-05 00:00:00 America/Los_Angeles')::text,
  'without a borrow hour the share holds all day (2,500 + 1,600 > 2,000) and the retry is the reset');
update private.youtube_daily_budget set borrow_from_hour = 0;
select is((select allowed from pg_temp.reserve(:'ws_b', 'videos.insert', 1, 'morning')), true,
  'borrow hour 0: only the budget counts');
select throws_ok($$update private.youtube_daily_budget set workspace_share_percent = 0$$, '23514', null, 'a share must be positive');
select throws_ok($$update private.youtube_daily_budget set borrow_from_hour = 25$$, '23514', null, 'the borrow hour is 0..24');

-- The workers' entry point (now()): with borrowing off, the share holds whatever the hour.
update private.youtube_daily_budget set units = 10000, workspace_share_percent = 25, borrow_from_hour = 24;
delete from public.youtube_quota_usage where day = (now() at time zone 'America/Los_Angeles')::date;
select is((select allowed from private.reserve_youtube_quota(:'ws_a', null, 'videos.list', 2500)), true, 'today: the share is spendable');
select is((select row(allowed, reason, retry_at = private.next_youtube_quota_reset())::text
  from private.reserve_youtube_quota(:'ws_a', null, 'channels.list', 1)),
  row(false, 'share', true)::text, 'today: one unit more is refused for the share');

-- What members see: their own workspace's share only.
select tests.authenticate_as('quota_a');
select is((select row(share_units, used_units, remaining_units, project_remaining_units, available_units, borrowing)::text
  from public.workspace_youtube_quota(:'ws_a')),
  row(2500, 2500, 0, 7500, 0, false)::text, 'a member sees the share, what is left of it and of the project');
select is((select count(*)::integer from public.workspace_youtube_quota(:'ws_b')), 0, 'nothing about another tenant''s workspace');
select tests.authenticate_as('quota_b');
select is((select row(share_units, used_units, remaining_units, available_units)::text from public.workspace_youtube_quota(:'ws_b')),
  row(2500, 0, 2500, 2500)::text, 'the other tenant still has its whole share');
select throws_ok($$select * from private.reserve_youtube_quota(gen_random_uuid(), null, 'channels.list', 1)$$, '42501', null,
  'members cannot spend quota themselves');
select tests.clear_authentication();

select * from finish();
rollback;
