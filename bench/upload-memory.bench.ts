// Peak memory of the schedules worker uploading a 500 MB video (target: under 150 MB RSS): the
// worker's engine runs in a Deno process of its own (bench/deno/upload-worker.ts) on a claimed
// schedule, streaming the render from the fake RevID CDN to the fake YouTube in 8 MiB chunks.
// Its peak resident set comes from the kernel (VmHWM), cross-checked by sampling VmRSS from here
// every 20 ms; its resident set before the upload (runtime and modules loaded) is the baseline.
// The upload is checked to have arrived whole (size and sha256) as one video.
// Uses the stack named by SUPABASE_URL / SUPABASE_DB_URL / LOCAL_FAKES_URL when they are set,
// otherwise starts the "bench" profile's stack.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { ROOT } from '../local/profile.ts';
import { DENO_ENV, denoBin } from '../local/deno.ts';
import { benchStack, fakesControl, writeResult } from './lib.ts';
import { roomyQuota } from './upload-fixtures.ts';

const VIDEO_BYTES = Number(process.env.BENCH_VIDEO_BYTES ?? 500 * 1024 * 1024);
const TARGET_MB = 150;

const started = await benchStack();
const env = started.env;
const fakes = env.LOCAL_FAKES_URL!;
const sql = postgres(env.SUPABASE_DB_URL!, { max: 2, onnotice: () => {} });
const control = fakesControl(fakes);

function rssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const undoQuota = await roomyQuota(sql, control);
let userId: string | undefined;
try {
  const [user] = await sql`
    insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values (gen_random_uuid(), 'authenticated', 'authenticated', ${`bench-memory-${Date.now()}@example.com`}, '{}', '{}', now(), now())
    returning id`;
  userId = user.id as string;
  const [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${userId}`;
  const fake = await control('POST', 'youtube/channels', { videos: 1, seed: `bench-memory-${Date.now()}` });
  const [{ id: channelId }] = await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title, status, connected_by, connected_at)
    values (${ws}, ${fake.channelId}, ${fake.title}, 'active', ${userId}, now()) returning id`;
  await sql`select private.save_channel_credentials(${channelId}, ${fake.refreshToken}, ${fake.accessToken}, now() + interval '50 minutes',
    array['https://www.googleapis.com/auth/youtube.upload'])`;
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
  const workerId = `bench-memory:${crypto.randomUUID()}`;
  const [{ id: scheduleId }] = await sql`
    insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, status, next_attempt_at,
      idempotency_key, request_fingerprint, created_by)
    values (${ws}, ${channelId}, ${videoJobId}, 'Memory bench', now(), 'upload_at_time', 'scheduled', now(),
      ${workerId}, repeat('c', 64), ${userId})
    returning id`;
  const [claimed] = await sql`select id from private.claim_upload_schedules(${workerId}, 1, 600, ${scheduleId})`;
  if (!claimed) throw new Error('could not claim the schedule');

  const child = spawn(
    denoBin(),
    ['run', '-A', '--frozen', '--config', 'supabase/functions/deno.json', 'bench/deno/upload-worker.ts', scheduleId, workerId],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, ...DENO_ENV } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  let sampledPeakKb = 0;
  const sampler = setInterval(() => {
    const kb = child.pid ? rssKb(child.pid) : null;
    if (kb !== null) sampledPeakKb = Math.max(sampledPeakKb, kb);
  }, 20);
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`the worker process exited with ${code}: ${stdout}`);
  const report = JSON.parse(
    stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{"outcome"'))
      .at(-1)!,
  );

  const [row] = await sql`select status, youtube_video_id from public.upload_schedules where id = ${scheduleId}`;
  const arrived = await control('GET', `youtube/uploads/${row.youtube_video_id}`);
  const expected = await control('GET', `revid/media/${job.pid}/sha256`);
  const whole = row.status === 'published' && arrived.size === VIDEO_BYTES && arrived.sha256 === expected.sha256;
  const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
  const peakMb = mb(Math.max(report.after.peak_kb, sampledPeakKb));
  writeResult('upload-memory', {
    video_bytes: VIDEO_BYTES,
    chunk_bytes: report.chunk_bytes,
    status: row.status,
    arrived_whole: whole,
    seconds: Math.round(report.seconds * 10) / 10,
    throughput_mb_per_s: Math.round((VIDEO_BYTES / 1024 / 1024 / report.seconds) * 10) / 10,
    rss_before_upload_mb: mb(report.before.rss_kb),
    peak_rss_mb: peakMb,
    peak_rss_sampled_mb: mb(sampledPeakKb),
    peak_rss_kernel_vmhwm_mb: mb(report.after.peak_kb),
    // TLS included: the fakes serve HTTPS, as RevID's CDN and Google's upload host do.
    cpu_ms_main_thread: Math.round(report.after.cpu_ms.main - report.before.cpu_ms.main),
    cpu_ms_all_threads: Math.round(report.after.cpu_ms.all - report.before.cpu_ms.all),
    cpu_ms_per_mib: Math.round(((report.after.cpu_ms.main - report.before.cpu_ms.main) / (VIDEO_BYTES / 1024 / 1024)) * 100) / 100,
    upload_cost_mb: Math.round((peakMb - mb(report.before.rss_kb)) * 10) / 10,
    target_mb: TARGET_MB,
    meets_target: peakMb < TARGET_MB,
  });
  if (!whole || peakMb >= TARGET_MB) process.exitCode = 1;
} finally {
  await undoQuota(userId);
  await sql.end();
  await started.stop();
}
