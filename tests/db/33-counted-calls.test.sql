-- Anonymous health calls are counted per minute (private.record_counted_calls into
-- ops.api_calls_counted) instead of one ops.api_calls row each; metrics and alerts still see
-- every call through ops.api_call_tally, and the minute roll-up counts them.
begin;
select plan(7);

select is(
  private.record_counted_calls(jsonb_build_array(
    jsonb_build_object('minute', '2026-12-06T10:00:00Z', 'function_name', 'pgtap-counted', 'endpoint', '/', 'method', 'GET', 'status', 200, 'duration_ms', 7, 'calls', 40),
    jsonb_build_object('minute', '2026-12-06T10:00:00Z', 'function_name', 'pgtap-counted', 'endpoint', '/', 'method', 'GET', 'status', 200, 'duration_ms', 7, 'calls', 2),
    jsonb_build_object('minute', '2026-12-06T10:00:00Z', 'function_name', 'pgtap-counted', 'endpoint', '/', 'method', 'GET', 'status', 503, 'duration_ms', 3001, 'calls', 1),
    jsonb_build_object('minute', '2026-12-06T10:01:00Z', 'function_name', 'pgtap-counted', 'endpoint', '/', 'method', 'GET', 'status', 200, 'duration_ms', 3, 'calls', 5),
    jsonb_build_object('minute', null, 'function_name', 'pgtap-counted', 'endpoint', '/', 'method', 'GET', 'status', 200, 'duration_ms', 3, 'calls', 5),
    jsonb_build_object('minute', '2026-12-06T10:01:00Z', 'function_name', 'pgtap-counted', 'endpoint', '/', 'method', 'GET', 'status', 200, 'duration_ms', 3, 'calls', 0))),
  3, 'one row per minute, status and latency bucket; malformed entries are skipped');

select private.record_counted_calls(jsonb_build_array(
  jsonb_build_object('minute', '2026-12-06T10:00:30Z', 'function_name', 'pgtap-counted', 'endpoint', '/', 'method', 'GET', 'status', 200, 'duration_ms', 8, 'calls', 8)));
select is(
  (select array_agg(calls order by minute, status) from ops.api_calls_counted where function_name = 'pgtap-counted'),
  array[50, 1, 5], 'a later flush adds to the minute''s counters');
select is(
  (select max_ms from ops.api_calls_counted where function_name = 'pgtap-counted' and status = 200 and minute = '2026-12-06T10:00:00Z'),
  8, 'the largest duration of the bucket is kept');

select private.record_counted_calls(jsonb_build_array(
  jsonb_build_object('minute', (now() + interval '1 hour')::text, 'function_name', 'pgtap-future', 'endpoint', '/', 'method', 'GET', 'status', 200, 'duration_ms', 1, 'calls', 1)));
select is((select minute from ops.api_calls_counted where function_name = 'pgtap-future'), date_trunc('minute', now()),
  'an instance clock ahead of the database cannot write into the future');

select is((select sum(calls)::int from ops.api_call_tally where function_name = 'pgtap-counted'), 56,
  'the tally sees every counted call');

select ops.rollup_api_calls('2026-12-06T09:00:00Z');
select is(
  (select array_agg(calls || '/' || errors order by minute) from ops.api_calls_minute where function_name = 'pgtap-counted'),
  array['51/1', '5/0'], 'the minute roll-up counts them, 503s as server errors');

select is(
  (select has_function_privilege('authenticated', 'private.record_counted_calls(jsonb)', 'execute')
     or has_table_privilege('anon', 'ops.api_calls_counted', 'select')),
  false, 'neither members nor anonymous callers reach the counters');

select * from finish();
rollback;
