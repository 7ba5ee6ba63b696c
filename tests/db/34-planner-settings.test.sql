-- A function that turns a plan node type off (enable_nestloop = off, …) makes the planner add its
-- disable cost (1e10) to any plan that still needs that node, which always passes jit_above_cost:
-- every call then pays for LLVM compilation (the every-minute roll-up spent 0.9–2.9 s doing so
-- for 18 ms of work). Such functions must turn JIT off with it.
begin;
select plan(2);

select ok((select count(*) from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private', 'ops')
    and exists (select 1 from unnest(p.proconfig) c where c ~ '^enable_[a-z]+=off$')) >= 3,
  'the roll-up functions are among those that disable a plan node type');

select is_empty($$
  select p.oid::regprocedure::text from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private', 'ops')
    and exists (select 1 from unnest(p.proconfig) c where c ~ '^enable_[a-z]+=off$')
    and not 'jit=off' = any (p.proconfig)$$,
  'every function that disables a plan node type also turns JIT off');

select * from finish();
rollback;
