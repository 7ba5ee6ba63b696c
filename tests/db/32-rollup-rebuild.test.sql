-- Roll-up rebuilds plan without nested loops (20261201001000_ops_rate_limits_and_response_cache),
-- and a rebuild over calls spread thinly across a month still rolls every call up exactly once.
begin;
select plan(4);

select ok('enable_nestloop=off'::text = any (coalesce((select proconfig from pg_catalog.pg_proc
  where oid = 'ops.rollup_api_calls(timestamptz)'::regprocedure), '{}')),
  'ops.rollup_api_calls plans its set-wide statements without nested loops');

delete from ops.api_calls;
delete from ops.api_calls_minute;
delete from ops.api_calls_hour;
-- 3,000 calls, one every ~14 minutes over 30 days, on 3 endpoints: sparse, as a young project's.
insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, request_id)
select now() - interval '1 minute' - interval '30 days' * (1 - i::float8 / 3000), (array['a', 'b', 'c'])[1 + i % 3], '/', 'GET',
  case when i % 10 = 0 then 500 else 200 end, i % 700, 'rebuild-' || i
from generate_series(1, 3000) i;
select ops.rollup_api_calls(now() - interval '31 days');
-- Only this test's functions ('a', 'b', 'c') are counted: the running stack's own calls (health
-- probes from pg_cron) commit rows that this transaction's later statements see.

select is((select sum(calls)::int from ops.api_calls_minute where function_name in ('a', 'b', 'c')), 3000, 'every call is in the minute roll-ups once');
select is((select sum(errors)::int from ops.api_calls_minute where function_name in ('a', 'b', 'c')), 300, 'with its errors');
select is((select sum(calls)::int from ops.api_calls_hour where function_name in ('a', 'b', 'c')), 3000, 'and in the hour roll-ups once');

select * from finish();
rollback;
