-- YouTube sync in steps that fit an Edge Function invocation (2 s of CPU on hosted Supabase).
-- A sync run is advanced by many short worker invocations, each a bounded share of the work, and
-- each invocation's last transaction hands the run back due at once and posts the next one
-- (public.wake_youtube_sync_worker, through pg_net, sent after commit).
--
-- The run's cursor is saved with every step, so it must stay small at any channel size: the
-- analytics plan (one report per up to 50 videos: 1,000 reports of a 50,000-video channel) was
-- held in the cursor and rewritten on every step. It now lives in its own column, written once
-- when the run plans its reports and read one report at a time; an update that leaves it alone
-- keeps its stored (TOAST) value instead of copying it. It is cleared when the run ends.
alter table public.sync_runs add column plan jsonb;

comment on column public.sync_runs.plan is
  'analytics reports of the run ([{ids, start}]), written by its plan step; cursor.batch_index is the next one';
