// 1,000 schedules due in the same minute, published through the real dispatch path against the
// fake YouTube (small files, so the fake answers at once): nothing calls a worker by hand — the
// rows are saved while the system is idle, pg_cron's next tick sees them due within the minute
// and wakes the schedules worker through pg_net, and the worker(s) claim and upload them. Measured:
// every schedule published exactly once (one upload session and one upload_started each), and the
// lag from publish_at to the upload's start (p50/p99/max; target p99 <= 60 s, aim <= 10 s).
// upload_at_time is the strategy measured: its uploads must start at publish_at, the worst case
// (youtube_scheduled uploads start an hour ahead and YouTube publishes at the minute).
// Uses the stack named by SUPABASE_URL / SUPABASE_DB_URL / LOCAL_FAKES_URL when they are set
// (e.g. `set -a; . .local/<profile>/stack.env`), otherwise starts the "bench" profile's stack.
import postgres from 'postgres';
import { benchStack, fakesControl, stats, writeResult } from './lib.ts';
import { roomyQuota } from './upload-fixtures.ts';

const SCHEDULES = Number(process.env.BENCH_SCHEDULES ?? 1000);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 10);
const VIDEO_BYTES = Number(process.env.BENCH_VIDEO_BYTES ?? 256 * 1024);
const TIMEOUT_MS = 6 * 60_000;

const started = await benchStack();
const env = started.env;
const fakes = env.LOCAL_FAKES_URL!;
const sql = postgres(env.SUPABASE_DB_URL!, { max: 2, onnotice: () => {} });
const control = fakesControl(fakes);

const undoQuota = await roomyQuota(sql, control);
let userId: string | undefined;
try {
  const email = `bench-dispatch-${Date.now()}@example.com`;
  const [user] = await sql`
    insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values (gen_random_uuid(), 'authenticated', 'authenticated', ${email}, '{}', '{}', now(), now()) returning id`;
  userId = user.id as string;
  const [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${userId}`;

  const channelIds: string[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const fake = await control('POST', 'youtube/channels', { videos: 1, seed: `bench-dispatch-${Date.now()}-${i}` });
    const [{ id }] = await sql`
      insert into public.channels (workspace_id, youtube_channel_id, title, uploads_playlist_id, status, connected_by, connected_at)
      values (${ws}, ${fake.channelId}, ${fake.title}, ${fake.uploadsPlaylistId}, 'active', ${userId}, now()) returning id`;
    await sql`select private.save_channel_credentials(${id}, ${fake.refreshToken}, ${fake.accessToken}, now() + interval '50 minutes',
      array['https://www.googleapis.com/auth/youtube.upload'])`;
    channelIds.push(id);
  }
  const job = await control('POST', 'revid/jobs', { videoBytes: VIDEO_BYTES, renderMs: 0 });
  const [{ id: videoJobId }] = await sql`
    with content as (
      insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, approved_version)
      values (${ws}, 'script', '{}', 'bench', 'bench', '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 'approved', 1) returning id
    )
    insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress,
      video_url, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, finished_at)
    select ${ws}, content.id, 1, ${job.pid}, '{}', 'ready', 100, ${`${fakes}/revid/media/${job.pid}.mp4`}, repeat('a', 64),
      now() + interval '1 hour', ${'bench-' + job.pid}, repeat('a', 64), now()
    from content returning id`;

  // Due 20 s after the next-but-one minute starts: saved while idle, woken by the tick before it.
  const now = Date.now();
  const publishAt = new Date(Math.ceil((now + 60_000) / 60_000) * 60_000 + 20_000);
  const run = `bench-${Date.now()}`;
  await sql`
    insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, privacy,
      status, next_attempt_at, idempotency_key, request_fingerprint, created_by, updated_by)
    select ${ws}, (${channelIds}::uuid[])[1 + (i % ${CHANNELS})], ${videoJobId}, ${run} || ' #' || i, ${publishAt}, 'upload_at_time', 'public',
      'scheduled', ${publishAt}, ${run} || '-' || i, repeat('b', 64), ${userId}, ${userId}
    from generate_series(1, ${SCHEDULES}) as i`;
  console.log(
    `${SCHEDULES} schedules on ${CHANNELS} channels due at ${publishAt.toISOString()} (in ${Math.round((publishAt.getTime() - now) / 1000)} s)`,
  );

  const deadline = publishAt.getTime() + TIMEOUT_MS;
  let last = '';
  for (;;) {
    const rows = await sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from public.upload_schedules where workspace_id = ${ws} group by 1 order by 1`;
    const line = rows.map((r) => `${r.status}=${r.n}`).join(' ');
    if (line !== last) console.log(`${new Date().toISOString()} ${line}`);
    last = line;
    const open = rows.filter((r) => !['published', 'failed', 'canceled'].includes(r.status)).reduce((n, r) => n + r.n, 0);
    if (open === 0) break;
    if (Date.now() > deadline) throw new Error(`not finished ${TIMEOUT_MS / 1000} s after publish_at: ${line}`);
    await new Promise((r) => setTimeout(r, 1000));
  }

  const rows = await sql<{ id: string; title: string; status: string; lag_ms: number; publish_lag_ms: number; attempts: number }[]>`
    select id, title, status, attempts,
      extract(epoch from upload_started_at - publish_at) * 1000 as lag_ms,
      extract(epoch from published_at - publish_at) * 1000 as publish_lag_ms
    from public.upload_schedules where workspace_id = ${ws}`;
  const [{ started: startedEvents, workers }] = await sql`
    select count(*) filter (where event = 'upload_started')::int as started,
      count(distinct actor_label) filter (where event = 'upload_started')::int as workers
    from public.upload_events where workspace_id = ${ws}`;
  const { uploads } = await control('GET', 'youtube/uploads');
  const ours = (uploads as { received: { snippet?: { title?: string } }; state: string }[]).filter((u) =>
    u.received?.snippet?.title?.startsWith(`${run} #`),
  );
  const sessionsPerTitle = new Map<string, number>();
  for (const u of ours) sessionsPerTitle.set(u.received.snippet!.title!, (sessionsPerTitle.get(u.received.snippet!.title!) ?? 0) + 1);
  const published = rows.filter((r) => r.status === 'published').length;
  const exactlyOnce =
    published === SCHEDULES &&
    ours.length === SCHEDULES &&
    ours.every((u) => u.state === 'complete') &&
    [...sessionsPerTitle.values()].every((n) => n === 1) &&
    startedEvents === SCHEDULES;
  const lag = stats(rows.map((r) => r.lag_ms / 1000));
  const publishLag = stats(rows.map((r) => r.publish_lag_ms / 1000));

  writeResult('schedules-dispatch', {
    schedules: SCHEDULES,
    channels: CHANNELS,
    video_bytes: VIDEO_BYTES,
    strategy: 'upload_at_time',
    woken_by: 'pg_cron tick -> private.wake_upload_worker -> pg_net -> POST /functions/v1/schedules/worker',
    published,
    upload_sessions: ours.length,
    upload_started_events: startedEvents,
    workers_that_uploaded: workers,
    exactly_once: exactlyOnce,
    lag_publish_at_to_upload_start_s: lag,
    lag_publish_at_to_published_s: publishLag,
    target: { p99_s: 60, aim_p99_s: 10 },
    meets_target: lag.p99 <= 60,
    meets_aim: lag.p99 <= 10,
  });
  if (!exactlyOnce) process.exitCode = 1;
} finally {
  await undoQuota(userId);
  await sql.end();
  await started.stop();
}
