// The worker's reads and writes. Every change is made only while this worker holds the row's
// lease (lease_owner), and every change of status writes its upload_events row in the same
// transaction. The atomic steps of an upload (claim, begin, offset, last chunk, video) are SQL
// functions of the upload_scheduling migration.
import { asService, type Tx } from '../_shared/platform/db.ts';
import type { UploadedVideo } from '../_shared/integrations/youtube/upload-client.ts';
import type { ScheduleStatus, ThumbnailStatus, WaitingReason } from '../_shared/contracts/schedules.ts';
import type { SentMetadata } from './plan.ts';
import type { UploadScheduleRow } from './row.ts';

export type { ScheduleStatus, ThumbnailStatus, WaitingReason };

/** The columns the worker reads (COLUMNS below), with the metadata it sent in its own shape. */
export type ScheduleRow = Omit<Pick<UploadScheduleRow, WorkerColumn>, 'sent_metadata'> & { sent_metadata: SentMetadata | null };
type WorkerColumn =
  | 'id'
  | 'workspace_id'
  | 'channel_id'
  | 'video_job_id'
  | 'title'
  | 'description'
  | 'tags'
  | 'category_id'
  | 'privacy'
  | 'made_for_kids'
  | 'notify_subscribers'
  | 'thumbnail_url'
  | 'publish_at'
  | 'time_zone'
  | 'strategy'
  | 'status'
  | 'waiting_reason'
  | 'youtube_video_id'
  | 'attempts'
  | 'failures'
  | 'next_attempt_at'
  | 'lease_owner'
  | 'upload_total_bytes'
  | 'upload_offset'
  | 'upload_started_at'
  | 'final_chunk_at'
  | 'sent_metadata'
  | 'thumbnail_status'
  | 'missed_at'
  | 'version';

/** The row is no longer this worker's (lease taken over after expiry) or was canceled. */
export class LeaseLostError extends Error {
  constructor(
    scheduleId: string,
    readonly canceled = false,
  ) {
    super(canceled ? `schedule ${scheduleId} was canceled` : `schedule ${scheduleId} is no longer leased to this worker`);
    this.name = 'LeaseLostError';
  }
}

// bigint columns arrive as strings from postgres.js; the byte counts fit a double easily.
const COLUMNS = `id, workspace_id, channel_id, video_job_id, title, description, tags, category_id, privacy, made_for_kids,
  notify_subscribers, thumbnail_url, publish_at, time_zone, strategy, status, waiting_reason, youtube_video_id, attempts,
  failures, next_attempt_at, lease_owner, upload_total_bytes::float8 as upload_total_bytes, upload_offset::float8 as upload_offset,
  upload_started_at, final_chunk_at, sent_metadata, thumbnail_status, missed_at, version`;

export async function claimSchedules(workerId: string, max: number, leaseSeconds: number, only: string | null): Promise<ScheduleRow[]> {
  return await asService(
    (tx) =>
      tx<ScheduleRow[]>`
      select ${tx.unsafe(COLUMNS)} from private.claim_upload_schedules(${workerId}, ${max}, ${leaseSeconds}, ${only}::uuid)`,
  );
}

export async function nextDueAt(): Promise<Date | null> {
  const [r] = await asService((tx) => tx<{ at: Date | null }[]>`select private.next_upload_due_at() as at`);
  return r.at;
}

export async function reread(id: string): Promise<ScheduleRow | null> {
  const [row] = await asService((tx) => tx<ScheduleRow[]>`select ${tx.unsafe(COLUMNS)} from public.upload_schedules where id = ${id}`);
  return row ?? null;
}

export interface Targets {
  channel: { id: string; workspace_id: string; status: string } | null;
  job: { id: string; status: string; video_url: string | null } | null;
}

export interface UploadSession {
  uri: string;
  total: number;
}

/**
 * The schedule's channel and render, and with `withSession` its saved upload session, in one
 * statement: every chained upload step needs all three before it sends a byte, so one round trip
 * is all a step waits for.
 */
export async function loadTargets(row: ScheduleRow): Promise<Targets>;
export async function loadTargets(row: ScheduleRow, withSession: true): Promise<Targets & { session: UploadSession | null }>;
export async function loadTargets(row: ScheduleRow, withSession = false): Promise<Targets & { session?: UploadSession | null }> {
  const [r] = await asService(
    (tx) =>
      tx<{ channel: Targets['channel']; job: Targets['job']; session: UploadSession | null }[]>`
      select
        (select json_build_object('id', c.id, 'workspace_id', c.workspace_id, 'status', c.status)
           from public.channels c where c.id = ${row.channel_id}) as channel,
        (select json_build_object('id', j.id, 'status', j.status, 'video_url', j.video_url)
           from public.video_jobs j where j.id = ${row.video_job_id} and j.workspace_id = ${row.workspace_id}) as job,
        ${
          withSession
            ? tx`(select json_build_object('uri', s.session_uri, 'total', s.total_bytes::float8) from private.upload_session(${row.id}) s)`
            : tx`null::json`
        } as session`,
  );
  const targets = { channel: r.channel, job: r.job };
  return withSession ? { ...targets, session: r.session } : targets;
}

export type StepOutcome = 'ok' | 'canceled' | 'lease_lost';

export async function beginUpload(
  row: ScheduleRow,
  workerId: string,
  sessionUri: string,
  totalBytes: number,
  sent: SentMetadata,
  leaseSeconds: number,
): Promise<string> {
  const [r] = await asService(
    (tx) =>
      tx<{ outcome: string }[]>`
      select private.begin_upload(${row.id}, ${workerId}, ${row.version}, ${sessionUri}, ${totalBytes},
        ${tx.json(sent as unknown as Parameters<Tx['json']>[0])}, ${leaseSeconds}) as outcome`,
  );
  return r.outcome;
}

export async function saveOffset(id: string, workerId: string, offset: number, leaseSeconds: number): Promise<StepOutcome> {
  const [r] = await asService(
    (tx) => tx<{ outcome: StepOutcome }[]>`select private.save_upload_offset(${id}, ${workerId}, ${offset}, ${leaseSeconds}) as outcome`,
  );
  return r.outcome;
}

/** Extends this worker's lease on a row it still works on (_shared/platform/lease-keeper.ts). */
export async function renewLease(id: string, workerId: string, leaseSeconds: number): Promise<StepOutcome> {
  const [r] = await asService(
    (tx) => tx<{ outcome: StepOutcome }[]>`select private.renew_upload_lease(${id}, ${workerId}, ${leaseSeconds}) as outcome`,
  );
  return r.outcome;
}

export async function beginFinalChunk(id: string, workerId: string): Promise<StepOutcome> {
  const [r] = await asService((tx) => tx<{ outcome: StepOutcome }[]>`select private.begin_final_chunk(${id}, ${workerId}) as outcome`);
  return r.outcome;
}

export async function recordVideo(id: string, workerId: string, video: UploadedVideo, learntFrom: string): Promise<string> {
  const [r] = await asService(
    (tx) =>
      tx<{ outcome: string }[]>`
      select private.record_uploaded_video(${id}, ${workerId}, ${video.id}, ${video.privacyStatus}, ${learntFrom}) as outcome`,
  );
  return r.outcome;
}

export interface EventInput {
  event: string;
  details?: Record<string, unknown>;
}

async function addEvent(tx: Tx, row: Pick<ScheduleRow, 'id' | 'workspace_id'>, workerId: string, from: string, to: string, e: EventInput) {
  await tx`
    insert into public.upload_events (workspace_id, schedule_id, event, from_status, to_status, actor_type, actor_label, details)
    values (${row.workspace_id}, ${row.id}, ${e.event}, ${from}, ${to}, 'worker', ${workerId},
      ${tx.json((e.details ?? {}) as Parameters<Tx['json']>[0])})`;
}

export type Release =
  /** back in the queue (same status), due at `at` */
  | {
      to: 'scheduled' | 'uploading' | 'processing';
      at: Date;
      reason: WaitingReason | null;
      error: string | null;
      failure: 'count' | 'reset' | 'keep';
      thumbnail?: ThumbnailStatus;
      event?: EventInput;
    }
  | { to: 'published'; publishedAt: Date; thumbnail?: ThumbnailStatus; event: EventInput }
  | { to: 'failed'; error: string; thumbnail?: ThumbnailStatus; event: EventInput };

/**
 * Hands the row back (or finishes it) if this worker still holds it in status `from`; throws
 * LeaseLostError otherwise. Returns the row as saved.
 */
export async function release(row: ScheduleRow, workerId: string, from: ScheduleStatus, r: Release): Promise<void> {
  await asService(async (tx) => {
    let saved;
    if (r.to === 'published') {
      saved = await tx`
        update public.upload_schedules set status = 'published', published_at = ${r.publishedAt}, finished_at = now(),
          next_attempt_at = null, waiting_reason = null, last_error = null, failures = 0, lease_owner = null, lease_expires_at = null,
          thumbnail_status = coalesce(${r.thumbnail ?? null}, thumbnail_status)
        where id = ${row.id} and lease_owner = ${workerId} and status = ${from} returning id`;
    } else if (r.to === 'failed') {
      saved = await tx`
        update public.upload_schedules set status = 'failed', finished_at = now(), next_attempt_at = null, waiting_reason = null,
          last_error = left(${r.error}, 2000), lease_owner = null, lease_expires_at = null,
          thumbnail_status = coalesce(${r.thumbnail ?? null}, thumbnail_status)
        where id = ${row.id} and lease_owner = ${workerId} and status = ${from} returning id`;
    } else {
      saved = await tx`
        update public.upload_schedules set status = ${r.to}, next_attempt_at = ${r.at}, waiting_reason = ${r.reason},
          last_error = left(${r.error}, 2000),
          failures = case ${r.failure} when 'count' then failures + 1 when 'reset' then 0 else failures end,
          lease_owner = null, lease_expires_at = null,
          thumbnail_status = coalesce(${r.thumbnail ?? null}, thumbnail_status)
        where id = ${row.id} and lease_owner = ${workerId} and status = ${from} returning id`;
    }
    if (saved.length === 0) {
      const [now] = await tx<{ status: string }[]>`select status from public.upload_schedules where id = ${row.id}`;
      throw new LeaseLostError(row.id, now?.status === 'canceled');
    }
    if (r.event) await addEvent(tx, row, workerId, from, r.to, r.event);
  });
}

/** A worker that stopped an upload because the schedule was canceled lets go of it. */
export async function letGo(row: ScheduleRow, workerId: string, offset: number): Promise<void> {
  await asService(async (tx) => {
    const released = await tx`
      update public.upload_schedules set lease_owner = null, lease_expires_at = null
      where id = ${row.id} and lease_owner = ${workerId} and status = 'canceled' returning id`;
    if (released.length > 0)
      await addEvent(tx, row, workerId, 'canceled', 'canceled', { event: 'upload_aborted', details: { upload_offset: offset } });
  });
}

/** An event that changes no status (resumed, thumbnail, ...). */
export async function note(row: ScheduleRow, workerId: string, e: EventInput): Promise<void> {
  await asService((tx) => addEvent(tx, row, workerId, row.status, row.status, e));
}

/** A warning or error for the operators: ops.system_logs feeds the admin views and alerting. */
export async function alert(
  eventType: string,
  severity: 'info' | 'warning' | 'error',
  message: string,
  context: Record<string, unknown>,
): Promise<void> {
  await asService(
    (tx) =>
      tx`insert into ops.system_logs (event_type, severity, source, message, context)
       values (${eventType}, ${severity}, 'schedules', ${message}, ${tx.json(context as Parameters<Tx['json']>[0])})`,
  );
}

export async function nextQuotaReset(): Promise<Date> {
  const [r] = await asService((tx) => tx<{ at: Date }[]>`select private.next_youtube_quota_reset() as at`);
  return r.at;
}

/**
 * Ends an upload's step: saves the confirmed offset, hands the row back due now, and calls the
 * worker for it with `nextCall`, in one transaction (the call goes out after the commit).
 */
export async function pauseUpload(id: string, workerId: string, offset: number, nextCall: Record<string, unknown>): Promise<StepOutcome> {
  const [r] = await asService(
    (tx) =>
      tx<{ outcome: StepOutcome }[]>`
      select private.pause_upload(${id}, ${workerId}, ${offset}, ${tx.json(nextCall as Parameters<Tx['json']>[0])}) as outcome`,
  );
  return r.outcome;
}

/**
 * Calls one successor worker when more is due within `horizonSeconds` (not counting `except`);
 * it waits for due rows until `waitUntil` (epoch ms) at the latest.
 */
export async function chainWorker(horizonSeconds: number, except: string[], waitUntil: number): Promise<number> {
  const [r] = await asService(
    (tx) => tx<{ calls: number }[]>`
      select private.chain_upload_worker(${horizonSeconds}, ${except}::uuid[], to_timestamp(${waitUntil / 1000})) as calls`,
  );
  return r.calls;
}

/**
 * Hands back uploads whose next-step invocation failed (pg_net's answer to the call
 * private.pause_upload made: 546, another 5xx, a timeout), so they are due now instead of after the
 * dead invocation's lease. Returns how many.
 */
export async function recoverFailedSteps(): Promise<number> {
  const rows = await asService((tx) => tx<{ id: string }[]>`select id from private.recover_upload_steps() as id`);
  return rows.length;
}
