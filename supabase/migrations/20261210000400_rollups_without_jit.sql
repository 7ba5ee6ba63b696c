-- The every-minute roll-up of tracked calls costs milliseconds of work but took 0.9 s (2 M tracked
-- calls) to 2.9 s (10 M) per run, all of it LLVM compiling: these functions plan with
-- enable_nestloop = off, and a nested loop the plan cannot avoid (unnest of each row's latency
-- histogram) is then costed with the planner's disable cost (1e10), far above jit_above_cost. JIT
-- is on by default in Postgres (and on the hosted project), so every run compiled, optimised and
-- inlined each statement. Measured on 2 M calls: 870 ms with JIT, 18 ms without; the 31-day rebuild
-- is the same either way (21 s). Functions that disable a plan node type keep JIT off with it
-- (tests/db/34-planner-settings checks every such function in the catalogue).
alter function ops.rollup_api_calls(timestamptz) set jit = off;

alter function ops.rollup_api_calls_fine(timestamptz) set jit = off;

alter function ops.rollup_api_call_totals(timestamptz, timestamptz) set jit = off;
