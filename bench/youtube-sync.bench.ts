// Sync of a 5,000-video channel from the fake YouTube through the real worker (youtube-sync
// /worker, time-budgeted invocations as pg_cron makes them): wall time, Data API calls and quota
// units spent, against the fewest calls the API allows for that channel:
//   1 channels.list + ceil(videos / 50) playlistItems.list pages + ceil(videos / 50) videos.list.
// Then an incremental re-sync of the unchanged channel (no analytics should be fetched).
// Uses the stack named by SUPABASE_URL / SUPABASE_DB_URL / LOCAL_FAKES_URL when they are set
// (e.g. `set -a; . .local/<profile>/stack.env`), otherwise starts the "bench" profile's stack.
import postgres from 'postgres';
import { benchStack, fakesControl, writeResult } from './lib.ts';

const VIDEOS = Number(process.env.BENCH_VIDEOS ?? 5000);
const SEED = `bench-sync-${VIDEOS}`;
const PAGE = 50;

const started = await benchStack();
const env = started.env;
const fakes = env.LOCAL_FAKES_URL!;
const sql = postgres(env.SUPABASE_DB_URL!, { max: 2, onnotice: () => {} });
const control = fakesControl(fakes);

/** Calls the worker for the run until it has finished; returns the run row. */
async function driveRun(runId: string) {
  for (;;) {
    const [run] = await sql`select * from public.sync_runs where id = ${runId}`;
    if (['succeeded', 'failed', 'waiting_quota'].includes(run.status)) return run;
    if (run.next_attempt_at <= new Date()) {
      const res = await fetch(`${env.SUPABASE_URL}/functions/v1/youtube-sync/worker`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ run_id: runId }),
      });
      if (res.status !== 200) throw new Error(`worker answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    } else {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function measuredSync(channelId: string) {
  const since = new Date();
  const t0 = performance.now();
  const [{ sync_run_id: runId }] = await sql`
    select e.sync_run_id from public.channels c, private.enqueue_sync_run(c.id, c.workspace_id, 'manual', null) e where c.id = ${channelId}`;
  const run = await driveRun(runId);
  const wallMs = Math.round(performance.now() - t0);
  if (run.status !== 'succeeded') throw new Error(`the run ended ${run.status}: ${run.last_error}`);
  const q = new URLSearchParams({ since: since.toISOString() });
  const { requests } = await control('GET', `requests?${q}`);
  const count = (path: string) => requests.filter((r: { path: string }) => r.path === path).length;
  const calls = {
    'channels.list': count('/youtube/youtube/v3/channels'),
    'playlistItems.list': count('/youtube/youtube/v3/playlistItems'),
    'videos.list': count('/youtube/youtube/v3/videos'),
    'reports.query': count('/youtube-analytics/v2/reports'),
  };
  return { run, wallMs, calls, invocations: run.attempts as number };
}

try {
  // A workspace of its own, and the channel (same seed → same catalogue every run).
  const email = `bench-sync-${Date.now()}@example.com`;
  const [user] = await sql`
    insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values (gen_random_uuid(), 'authenticated', 'authenticated', ${email}, '{}', '{}', now(), now()) returning id`;
  const [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
  const fake = await control('POST', 'youtube/channels', { videos: VIDEOS, seed: SEED, spanDays: 365 });
  await sql`delete from public.channels where youtube_channel_id = ${fake.channelId}`;
  // Connected as the OAuth callback leaves it, minus its 'connect' run: the runs are queued here.
  const [{ id: channelId }] = await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title, uploads_playlist_id, status, connected_by, connected_at)
    values (${ws}, ${fake.channelId}, ${fake.title}, ${fake.uploadsPlaylistId}, 'active', ${user.id}, now()) returning id`;
  await sql`select private.save_channel_credentials(${channelId}, ${fake.refreshToken}, ${fake.accessToken}, now() + interval '50 minutes',
    array['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/yt-analytics.readonly'])`;

  const full = await measuredSync(channelId);
  const [{ videos, metric_rows: metricRows }] = await sql`
    select (select count(*)::int from public.videos where channel_id = ${channelId}) as videos,
      (select count(*)::int from public.video_metrics m join public.videos v on v.id = m.video_id where v.channel_id = ${channelId}) as metric_rows`;
  const incremental = await measuredSync(channelId);

  const minimumCalls = 1 + 2 * Math.ceil(VIDEOS / PAGE);
  const summary = (m: Awaited<ReturnType<typeof measuredSync>>) => ({
    wall_ms: m.wallMs,
    worker_invocations: m.invocations,
    quota_units: m.run.stats.quota_units,
    data_api_calls: m.calls['channels.list'] + m.calls['playlistItems.list'] + m.calls['videos.list'],
    calls: m.calls,
    retries: m.run.stats.retries,
    metric_rows_written: m.run.stats.metric_rows,
    units_vs_minimum: Math.round((m.run.stats.quota_units / minimumCalls) * 1000) / 1000,
  });
  writeResult(process.env.BENCH_RESULT_NAME ?? 'youtube-sync', {
    videos: VIDEOS,
    videos_stored: videos,
    metric_rows_stored: metricRows,
    minimum_data_api_calls: minimumCalls,
    minimum_quota_units: minimumCalls,
    full_sync: { ...summary(full), metric_rows_per_s: Math.round(metricRows / (full.wallMs / 1000)) },
    incremental_resync: summary(incremental),
    note: 'analytics reports (reports.query) spend no Data API units; full sync fetches each video from its publish day',
  });
  await sql`delete from auth.users where id = ${user.id}`;
} finally {
  await sql.end();
  await started.stop();
}
