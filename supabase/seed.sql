-- Demo data for the local stack (never applied to production). Login printed by `npm start`.
insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values (
  '00000000-0000-4000-8000-00000000d3e0', 'authenticated', 'authenticated', 'demo@example.com',
  extensions.crypt('demo-password', extensions.gen_salt('bf', 10)), now(),
  '{"provider": "email", "providers": ["email"]}', '{"display_name": "Demo Creator"}', now(), now()
)
on conflict (id) do nothing;

-- The demo channel: the local YouTube fake's "Catalyst Demo Kitchen" (seed "demo", 120 videos over
-- the last year) connected to the demo user's personal workspace with the fake's well-known
-- refresh token (local/fakes/youtube/state.ts: it works only against the fake), and a queued
-- 'connect' sync. The every-minute pg_cron job wakes youtube-sync/worker, which pulls the videos
-- and a year of daily metrics from the fake and scores them: the dashboard is full on first run.
with demo_workspace as (
  select m.workspace_id from public.workspace_members m
  join public.workspaces w on w.id = m.workspace_id and w.personal
  where m.user_id = '00000000-0000-4000-8000-00000000d3e0'
), demo_channel as (
  insert into public.channels (workspace_id, youtube_channel_id, title, uploads_playlist_id, status, connected_by, connected_at)
  select workspace_id, 'UCPiAAOp0BW-sONN6Nk13cVQ', 'Catalyst Demo Kitchen', 'UUPiAAOp0BW-sONN6Nk13cVQ', 'active',
    '00000000-0000-4000-8000-00000000d3e0', now()
  from demo_workspace
  on conflict (youtube_channel_id) do nothing
  returning id, workspace_id
)
select
  private.save_channel_credentials(c.id, '1//0local-fake-demo-channel-refresh-token', null, null, array[
    'https://www.googleapis.com/auth/youtube.readonly',
    'https://www.googleapis.com/auth/youtube.upload',
    'https://www.googleapis.com/auth/yt-analytics.readonly']),
  private.enqueue_sync_run(c.id, c.workspace_id, 'connect', '00000000-0000-4000-8000-00000000d3e0')
from demo_channel c;
