// Shared by the schedules-* suites: a workspace with a connected fake YouTube channel and ready
// renders (RevID fake files of any size), schedules made through the API, the worker (through the
// API, in this process, or in a process of its own that a test can kill), and what the fake
// YouTube received.
import { assertEquals, assertOk } from '../assert.ts';
import { control, fakesUrl } from './youtube.ts';
import { callFunction, type Json, personalWorkspace, signUp, stack, type TestUser, withDb } from './users.ts';

export const MiB = 1024 * 1024;
const SCOPES = [
  'https://www.googleapis.com/auth/youtube.readonly',
  'https://www.googleapis.com/auth/yt-analytics.readonly',
  'https://www.googleapis.com/auth/youtube.upload',
];

export interface Render {
  videoJobId: string;
  pid: string;
  videoUrl: string;
  thumbnailUrl: string;
  bytes: number;
}

export interface Studio {
  user: TestUser;
  workspaceId: string;
  channelId: string;
  youtubeChannelId: string;
  render: Render;
}

/** A ready render of `bytes` bytes in the workspace (a RevID fake file), as issue 5's worker leaves it. */
export async function readyRender(workspaceId: string, userId: string, bytes = 2 * MiB): Promise<Render> {
  const job = await control('POST', 'revid/jobs', { videoBytes: bytes, renderMs: 0 });
  const videoUrl = `${fakesUrl()}/revid/media/${job.pid}.mp4`;
  const thumbnailUrl = `${fakesUrl()}/revid/media/${job.pid}.png`;
  const [row] = await withDb(
    (sql) => sql<{ id: string }[]>`
    with content as (
      insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, created_by,
        submitted_by, submitted_at, reviewed_by, reviewed_at, approved_version)
      values (${workspaceId}, 'script', '{"topic": "schedules"}', 'test', 'gemini-test', '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}',
        'approved', ${userId}, ${userId}, now(), ${userId}, now(), 1)
      returning id
    )
    insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress,
      video_url, thumbnail_url, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, finished_at)
    select ${workspaceId}, content.id, 1, ${job.pid}, '{}', 'ready', 100, ${videoUrl}, ${thumbnailUrl},
      encode(sha256('x'::bytea), 'hex'), now() + interval '1 hour', ${'test-' + crypto.randomUUID()}, encode(sha256('x'::bytea), 'hex'),
      ${userId}, now()
    from content
    returning id`,
  );
  return { videoJobId: row.id, pid: job.pid, videoUrl, thumbnailUrl, bytes };
}

/** A ready render (a 256 KiB RevID fake file) of version `version` of the content, as render-video's worker leaves one. */
export async function readyRenderOf(workspaceId: string, userId: string, contentId: string, version: number): Promise<string> {
  const job = await control('POST', 'revid/jobs', { videoBytes: 256 * 1024, renderMs: 0 });
  const [row] = await withDb(
    (sql) => sql<{ id: string }[]>`
    insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress,
      video_url, thumbnail_url, duration_seconds, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, finished_at)
    values (${workspaceId}, ${contentId}, ${version}, ${job.pid}, '{"resolution": "1080p"}', 'ready', 100,
      ${`${fakesUrl()}/revid/media/${job.pid}.mp4`}, ${`${fakesUrl()}/revid/media/${job.pid}.png`}, 42,
      encode(sha256('x'::bytea), 'hex'), now() + interval '1 hour', ${'test-' + crypto.randomUUID()}, encode(sha256('x'::bytea), 'hex'),
      ${userId}, now())
    returning id`,
  );
  return row.id;
}

/** A render that is still being made (not schedulable). */
export async function renderingJob(workspaceId: string, userId: string): Promise<string> {
  const [row] = await withDb(
    (sql) => sql<{ id: string }[]>`
    with content as (
      insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, created_by,
        reviewed_by, reviewed_at, approved_version)
      values (${workspaceId}, 'script', '{"topic": "rendering"}', 'test', 'gemini-test', '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 'approved', ${userId},
        ${userId}, now(), 1)
      returning id
    )
    insert into public.video_jobs (workspace_id, content_id, content_version, render_params, status, progress,
      webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, next_attempt_at)
    select ${workspaceId}, content.id, 1, '{}', 'rendering', 40, encode(sha256('x'::bytea), 'hex'), now() + interval '1 hour',
      ${'test-' + crypto.randomUUID()}, encode(sha256('x'::bytea), 'hex'), ${userId}, now() + interval '1 hour'
    from content
    returning id`,
  );
  return row.id;
}

/** A channel of the fake YouTube connected to the workspace, as the OAuth callback leaves it. */
export async function connectFakeChannel(
  workspaceId: string,
  userId: string,
  label: string,
): Promise<{ channelId: string; youtubeChannelId: string }> {
  const fake = await control('POST', 'youtube/channels', { videos: 1, seed: `${label}-${crypto.randomUUID()}` });
  const [row] = await withDb(async (sql) => {
    const rows = await sql<{ id: string }[]>`
      insert into public.channels (workspace_id, youtube_channel_id, title, uploads_playlist_id, status, connected_by, connected_at)
      values (${workspaceId}, ${fake.channelId}, ${fake.title}, ${fake.uploadsPlaylistId}, 'active', ${userId}, now())
      returning id`;
    await sql`select private.save_channel_credentials(${rows[0].id}, ${fake.refreshToken}, ${fake.accessToken},
      now() + interval '50 minutes', ${SCOPES}::text[])`;
    return rows;
  });
  return { channelId: row.id, youtubeChannelId: fake.channelId };
}

export async function studio(label: string, bytes = 2 * MiB): Promise<Studio> {
  const user = await signUp(label);
  const workspaceId = await personalWorkspace(user);
  const { channelId, youtubeChannelId } = await connectFakeChannel(workspaceId, user.id, label);
  const render = await readyRender(workspaceId, user.id, bytes);
  return { user, workspaceId, channelId, youtubeChannelId, render };
}

export function inMinutes(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString();
}

export function scheduleBody(s: Studio, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    workspace_id: s.workspaceId,
    channel_id: s.channelId,
    video_job_id: s.render.videoJobId,
    title: 'Five-minute pasta',
    description: 'Dinner, fast.',
    tags: ['pasta', 'quick dinner'],
    category_id: '26',
    publish_at: inMinutes(24 * 60),
    time_zone: 'Europe/Berlin',
    ...overrides,
  };
}

export async function createSchedule(s: Studio, overrides: Record<string, unknown> = {}, user: TestUser = s.user): Promise<Json> {
  const res = await user.call('schedules', { method: 'POST', body: scheduleBody(s, overrides) });
  assertEquals(res.status, 201, JSON.stringify(res.body));
  return res.body.schedule;
}

export interface ScheduleRow {
  id: string;
  status: string;
  waiting_reason: string | null;
  last_error: string | null;
  youtube_video_id: string | null;
  upload_offset: number;
  upload_total_bytes: number | null;
  next_attempt_at: Date | null;
  lease_owner: string | null;
  attempts: number;
  missed_at: Date | null;
  published_at: Date | null;
  publish_at: Date;
  final_chunk_at: Date | null;
  sent_metadata: Json;
  thumbnail_status: string;
  version: number;
}

export async function scheduleRow(id: string): Promise<ScheduleRow> {
  const [row] = await withDb(
    (sql) => sql<ScheduleRow[]>`
    select id, status, waiting_reason, last_error, youtube_video_id, upload_offset::float8 as upload_offset,
      upload_total_bytes::float8 as upload_total_bytes, next_attempt_at, lease_owner, attempts, missed_at, published_at, publish_at,
      final_chunk_at, sent_metadata, thumbnail_status, version
    from public.upload_schedules where id = ${id}`,
  );
  return row;
}

export interface UploadEventRow {
  event: string;
  from_status: string | null;
  to_status: string | null;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  details: Json;
}

export async function eventsOf(id: string): Promise<UploadEventRow[]> {
  return (await withDb(
    (sql) => sql`
    select event, from_status, to_status, actor_type, actor_id, actor_label, details from public.upload_events
    where schedule_id = ${id} order by id`,
  )) as never;
}

/**
 * Moves a schedule's time to `publishAt` (ms from now; default: now) and makes it due now, as if
 * that much time had passed. With `claimFor`, the same transaction claims it for that worker id,
 * so no other worker (pg_cron wakes them every minute) can take it first.
 */
export async function makeDue(
  id: string,
  opts: { publishInMs?: number; claimFor?: string; leaseSeconds?: number } = {},
): Promise<Json | null> {
  return (await withDb((sql) =>
    sql.begin(async (tx) => {
      await tx`update public.upload_schedules set publish_at = now() + make_interval(secs => ${(opts.publishInMs ?? 0) / 1000}),
        next_attempt_at = now() where id = ${id}`;
      if (!opts.claimFor) return null;
      const [row] = await tx`select * from private.claim_upload_schedules(${opts.claimFor}, 1, ${opts.leaseSeconds ?? 180}, ${id})`;
      if (!row) throw new Error(`could not claim schedule ${id}`);
      return row;
    }),
  )) as Json;
}

/** Calls the worker for one schedule through the API (as pg_cron would, with the service role). */
export async function runWorkerFor(id: string, body: Record<string, unknown> = {}): Promise<Json> {
  const res = await callFunction(stack.serviceKey, 'schedules/worker', { method: 'POST', body: { schedule_id: id, ...body } });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const FINAL = ['published', 'failed', 'canceled'];

/**
 * Drives a schedule until it reaches one of `statuses` (calling the worker whenever it is due).
 * A step the runtime ends with 546 is tolerated, as production must tolerate it: the schedule's
 * lease (40 s, no longer renewed by the dead step) keeps it until the next worker resumes from
 * YouTube's offset, so the default bound leaves room for several such steps (README "Edge
 * runtime": garbage collection).
 */
export async function driveUntil(id: string, statuses: string[] = FINAL, timeoutMs = 240_000): Promise<ScheduleRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await scheduleRow(id);
    if (statuses.includes(row.status)) return row;
    if (Date.now() > deadline) throw new Error(`schedule ${id} still ${row.status} after ${timeoutMs} ms: ${JSON.stringify(row)}`);
    if (row.next_attempt_at && row.next_attempt_at.getTime() <= Date.now()) await stepTolerating546(id);
    else await new Promise((r) => setTimeout(r, 100));
  }
}

async function stepTolerating546(id: string): Promise<void> {
  const res = await callFunction(stack.serviceKey, 'schedules/worker', { method: 'POST', body: { schedule_id: id } });
  if (res.status === 546)
    console.error(`schedules/worker step for ${id} ended with 546 (${JSON.stringify(res.body)}); the lease holds it until the next worker`);
  else assertEquals(res.status, 200, JSON.stringify(res.body));
}

export interface FakeUpload {
  sessionId: string;
  state: string;
  videoId: string | null;
  channelId: string;
  size: number | null;
  sha256: string | null;
  committedBytes: number;
  metadata: Json;
  received: Json;
  notifySubscribers: boolean;
  puts: number;
  statusQueries: number;
  drops: number;
  bytesReceived: number;
  video: Json;
}

/** Every upload session the fake YouTube saw for a channel. */
export async function uploadsOf(youtubeChannelId: string): Promise<FakeUpload[]> {
  const { uploads } = await control('GET', 'youtube/uploads');
  return (uploads as FakeUpload[]).filter((u) => u.channelId === youtubeChannelId);
}

export async function renderSha256(pid: string): Promise<{ size: number; sha256: string }> {
  return await control('GET', `revid/media/${pid}/sha256`);
}

/**
 * Room for uploads in our daily budget and the fake's (every session costs 1,600 units of both),
 * restored afterwards so that other suites see the defaults.
 */
export async function withUploadQuota<T>(fn: () => Promise<T>): Promise<T> {
  const [{ budget }] = await withDb((sql) => sql<{ budget: number }[]>`select units as budget from private.youtube_daily_budget`);
  const fake = await control('GET', 'youtube/quota');
  try {
    await withDb((sql) => sql`update private.youtube_daily_budget set units = 100000000`);
    await control('POST', 'youtube/quota', { dailyLimit: 100_000_000 });
    return await fn();
  } finally {
    await withDb((sql) => sql`update private.youtube_daily_budget set units = ${budget}`);
    await control('POST', 'youtube/quota', { dailyLimit: fake.dailyLimit });
  }
}

export async function uploadBehaviour(b: Record<string, unknown>): Promise<void> {
  await control('POST', 'youtube/upload-behaviour', b);
}

export async function resetUploadBehaviour(): Promise<void> {
  await control('POST', 'youtube/upload-behaviour', { dropEveryBytes: null, quotaExceeded: 0, uploadLimitExceeded: 0, lockPrivate: false });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The schedule as the worker's store reads it. */
export async function readClaimed(id: string): Promise<import('../../../supabase/functions/schedules/store.ts').ScheduleRow | null> {
  const { reread } = await import('../../../supabase/functions/schedules/store.ts');
  return await reread(id);
}

/** Runs the worker's engine on an already-claimed schedule in this process (hooks allowed). */
export async function processHere(
  id: string,
  workerId: string,
  opts: {
    leaseSeconds?: number;
    chunkBytes?: number;
    hooks?: import('../../../supabase/functions/schedules/upload-run.ts').UploadHooks;
    deadline?: number;
    /** the row as the worker read it when it claimed it (default: as it is now) */
    row?: import('../../../supabase/functions/schedules/store.ts').ScheduleRow;
  } = {},
): Promise<Json> {
  const { ChannelClients, processSchedule } = await import('../../../supabase/functions/schedules/engine.ts');
  const row = opts.row ?? (await readClaimed(id));
  if (!row) throw new Error(`no schedule ${id}`);
  return await processSchedule(
    row,
    {
      workerId,
      leaseSeconds: opts.leaseSeconds ?? 180,
      deadline: opts.deadline ?? Date.now() + 120_000,
      chunkBytes: opts.chunkBytes ?? 8 * MiB,
      hooks: opts.hooks,
    },
    new ChannelClients(),
  );
}

/** Closes the database pool that in-process engine runs opened (Deno's sanitizers want it closed). */
export async function closeEngineDb(): Promise<void> {
  const { closeDb } = await import('../../../supabase/functions/_shared/platform/db.ts');
  await closeDb();
}

export async function systemLogs(eventType: string, scheduleId: string): Promise<{ severity: string; message: string; context: Json }[]> {
  return (await withDb(
    (sql) => sql`
    select severity, message, context from ops.system_logs
    where event_type = ${eventType} and context ->> 'schedule_id' = ${scheduleId} order by id`,
  )) as never;
}

/**
 * Calls the worker for the schedule until no worker holds it and it is not due (waiting for a
 * later time, held, or finished): whichever worker took it (pg_cron wakes them too), its state
 * is then settled.
 */
export async function settle(id: string, timeoutMs = 60_000): Promise<ScheduleRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await scheduleRow(id);
    const due = row.next_attempt_at !== null && row.next_attempt_at.getTime() <= Date.now();
    if (row.lease_owner === null && !due) return row;
    if (Date.now() > deadline) throw new Error(`schedule ${id} did not settle in ${timeoutMs} ms: ${JSON.stringify(row)}`);
    if (due) await runWorkerFor(id);
    else await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills the isolates and waits until the runtime no longer lists them, so the next call is not
 * routed to a dead isolate (which answers 500 at once). */
export async function killIsolates(fn: string, isolates: { pid: number }[]): Promise<void> {
  const runtime = Deno.env.get('LOCAL_FUNCTIONS_URL');
  if (!runtime) throw new Error('LOCAL_FUNCTIONS_URL is not set: run these tests against a running stack');
  for (const isolate of isolates) Deno.kill(isolate.pid, 'SIGKILL');
  const pids = new Set(isolates.map((i) => i.pid));
  for (let j = 0; ; j++) {
    const { isolates: live } = await (await fetch(`${runtime}/_runtime/isolates`)).json();
    if (!(live as { fn: string; pid: number }[]).some((i) => i.fn === fn && pids.has(i.pid))) return;
    if (j >= 100) throw new Error('the runtime never noticed the killed isolates');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The worker that held an upload when its isolate was killed: its id, its lease, the offset it had reached. */
export interface KilledHolder {
  worker: string;
  leaseExpires: Date;
  offset: number;
}

/**
 * After the holder of `s`'s upload was killed mid-upload: a worker waiting for due rows (as
 * pg_cron's wake-up starts one every minute) reads pg_net's failed answer to the killed call and
 * takes the row back at once (upload_step_recovered before the dead holder's lease ran out, which
 * the lease running out would not write); then the upload is driven to published as one session of
 * the whole render, uploaded once. `foundBy`: whose call's answer must have found it. Returns the
 * recovery event.
 */
export async function expectRecoveredAndPublished(
  s: Studio,
  scheduleId: string,
  killed: KilledHolder,
  opts: { foundBy?: 'holder_call' | 'step_call' } = {},
): Promise<UploadEventRow> {
  const waiting = callFunction(stack.serviceKey, 'schedules/worker', { method: 'POST', body: { claim_budget_ms: 20_000 } });
  let recovered: UploadEventRow | undefined;
  for (let i = 0; !recovered; i++) {
    recovered = (await eventsOf(scheduleId)).find((e) => e.event === 'upload_step_recovered');
    assertOk(i < 300, "the killed holder's row was never taken back");
    if (!recovered) await sleep(100);
  }
  assertEquals(recovered.actor_label, killed.worker, 'the row the killed holder held is what was taken back');
  if (opts.foundBy) assertEquals(recovered.details.found_by, opts.foundBy);
  assertOk(recovered.details.status_code >= 500, `pg_net's answer to the killed call: ${JSON.stringify(recovered.details)}`);
  const [{ at }] = await withDb(
    (sql) => sql<{ at: Date }[]>`
    select max(at) as at from public.upload_events where schedule_id = ${scheduleId} and event = 'upload_step_recovered'`,
  );
  assertOk(
    at < killed.leaseExpires,
    `taken back at ${at.toISOString()}, before the dead holder's lease ran out at ${killed.leaseExpires.toISOString()}`,
  );
  assertEquals((await waiting).status, 200);

  const row = await driveUntil(scheduleId);
  assertEquals(row.status, 'published', JSON.stringify(row));
  const uploads = await uploadsOf(s.youtubeChannelId);
  assertEquals(uploads.length, 1, 'the same session, so one video');
  assertEquals(uploads[0].size, s.render.bytes);
  assertEquals(uploads[0].sha256, (await renderSha256(s.render.pid)).sha256);
  assertEquals((await eventsOf(scheduleId)).filter((e) => e.event === 'uploaded').length, 1);
  return recovered;
}

/** The isolates of `fn` serving a request that began at or after `since`, from the edge runtime. */
export async function servingIsolates(fn: string, since: number): Promise<{ pid: number; serving_since: number }[]> {
  const runtime = Deno.env.get('LOCAL_FUNCTIONS_URL');
  if (!runtime) throw new Error('LOCAL_FUNCTIONS_URL is not set: run these tests against a running stack');
  const { isolates } = await (await fetch(`${runtime}/_runtime/isolates`)).json();
  return (isolates as { fn: string; pid: number; serving_since: number | null }[])
    .filter((i) => i.fn === fn && i.serving_since !== null && i.serving_since >= since)
    .map((i) => ({ pid: i.pid, serving_since: i.serving_since! }));
}

/**
 * The upload worker's log lines (upload_worker_step) that name a schedule, from the running
 * stack's log and what its runtime kept out of it (past hosted's log limits). A line is written
 * as the invocation ends, which may have other schedules to finish, so this waits up to `waitMs`.
 */
export async function workerStepLinesNaming(scheduleId: string, waitMs = 15_000): Promise<Record<string, unknown>[]> {
  const keyFile = Deno.env.get('LOCAL_KEY_FILE');
  if (!keyFile) throw new Error('LOCAL_KEY_FILE is not set: run these tests against a running stack');
  const logs = `${keyFile.slice(0, keyFile.lastIndexOf('/'))}/logs`;
  const files = [`${logs}/stack.log`, Deno.env.get('LOCAL_EDGE_DROPPED_LOG') ?? `${logs}/functions-dropped.log`];
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found: Record<string, unknown>[] = [];
    for (const file of files) {
      const text = await Deno.readTextFile(file).catch((err) => (err instanceof Deno.errors.NotFound ? '' : Promise.reject(err)));
      for (const line of text.split('\n')) {
        if (!line.includes('"upload_worker_step"') || !line.includes(scheduleId)) continue;
        found.push(JSON.parse(line.slice(line.indexOf('{'))));
      }
    }
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
}
