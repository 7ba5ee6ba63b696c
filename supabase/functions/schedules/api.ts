// Reading schedules as the caller (RLS decides what is visible) and turning them into the API's
// shape; the database's verdicts on writes (SQLSTATEs of the upload_scheduling migration) as
// HTTP errors, naming the field when a field is at fault.
import { HttpError } from '../_shared/platform/http.ts';
import type { Tx } from '../_shared/platform/db.ts';
import type { UploadScheduleRow } from './row.ts';

/** A schedule as the API reads it: every column but the worker's and the idempotency bookkeeping. */
export type ScheduleRecord = Omit<
  UploadScheduleRow,
  'idempotency_key' | 'request_fingerprint' | 'lease_owner' | 'lease_expires_at' | 'failures'
> & {
  publish_at_local: string;
};

const COLUMNS = `s.id, s.workspace_id, s.channel_id, s.video_job_id, s.title, s.description, s.tags, s.category_id, s.privacy,
  s.made_for_kids, s.notify_subscribers, s.thumbnail_url, s.publish_at,
  to_char(s.publish_at at time zone s.time_zone, 'YYYY-MM-DD"T"HH24:MI:SS') as publish_at_local, s.time_zone, s.strategy,
  s.status, s.waiting_reason, s.last_error, s.next_attempt_at, s.attempts, s.upload_total_bytes::float8 as upload_total_bytes,
  s.upload_offset::float8 as upload_offset, s.upload_started_at, s.final_chunk_at, s.upload_completed_at, s.youtube_video_id,
  s.youtube_privacy, s.published_at, s.thumbnail_status, s.missed_at, s.sent_metadata, s.version, s.created_by, s.updated_by,
  s.canceled_by, s.created_at, s.updated_at, s.canceled_at, s.finished_at`;

const OPEN = new Set(['scheduled', 'held', 'uploading', 'processing']);

export function present(s: ScheduleRecord) {
  return {
    id: s.id,
    workspace_id: s.workspace_id,
    channel_id: s.channel_id,
    video_job_id: s.video_job_id,
    title: s.title,
    description: s.description,
    tags: s.tags,
    category_id: s.category_id,
    privacy: s.privacy,
    made_for_kids: s.made_for_kids,
    notify_subscribers: s.notify_subscribers,
    thumbnail_url: s.thumbnail_url,
    publish_at: s.publish_at,
    publish_at_local: s.publish_at_local,
    time_zone: s.time_zone,
    strategy: s.strategy,
    status: s.status,
    waiting_reason: s.waiting_reason,
    last_error: s.last_error,
    // for an open schedule: when the worker takes it up next (upload start, retry, quota reset)
    next_attempt_at: OPEN.has(s.status) ? s.next_attempt_at : null,
    attempts: s.attempts,
    upload: {
      started_at: s.upload_started_at,
      total_bytes: s.upload_total_bytes,
      confirmed_bytes: s.upload_offset,
      progress: s.upload_total_bytes ? Math.round((s.upload_offset / s.upload_total_bytes) * 1000) / 1000 : 0,
      last_chunk_sent_at: s.final_chunk_at,
      completed_at: s.upload_completed_at,
    },
    youtube: s.youtube_video_id
      ? { video_id: s.youtube_video_id, url: `https://www.youtube.com/watch?v=${s.youtube_video_id}`, privacy: s.youtube_privacy }
      : null,
    published_at: s.published_at,
    thumbnail_status: s.thumbnail_status,
    missed_at: s.missed_at,
    sent_metadata: s.sent_metadata,
    version: s.version,
    created_by: s.created_by,
    updated_by: s.updated_by,
    canceled_by: s.canceled_by,
    created_at: s.created_at,
    updated_at: s.updated_at,
    canceled_at: s.canceled_at,
    finished_at: s.finished_at,
  };
}

export function scheduleNotFound() {
  return new HttpError(404, 'not_found', 'schedule not found');
}

export async function readSchedule(tx: Tx, id: string): Promise<ScheduleRecord | null> {
  const [row] = await tx<ScheduleRecord[]>`select ${tx.unsafe(COLUMNS)} from public.upload_schedules s where s.id = ${id}`;
  return row ?? null;
}

export interface ListFilter {
  workspaceId: string;
  from: Date;
  to: Date;
  channelId?: string;
  statuses?: string[];
  limit: number;
}

export async function listSchedules(tx: Tx, f: ListFilter): Promise<ScheduleRecord[]> {
  return await tx<ScheduleRecord[]>`
    select ${tx.unsafe(COLUMNS)} from public.upload_schedules s
    where s.workspace_id = ${f.workspaceId} and s.publish_at >= ${f.from} and s.publish_at < ${f.to}
      ${f.channelId ? tx`and s.channel_id = ${f.channelId}` : tx``}
      ${f.statuses?.length ? tx`and s.status = any(${f.statuses}::text[])` : tx``}
    order by s.publish_at, s.id
    limit ${f.limit}`;
}

export async function eventsOf(tx: Tx, id: string) {
  const rows = await tx<
    {
      id: string;
      at: Date;
      event: string;
      from_status: string | null;
      to_status: string | null;
      actor_type: string;
      actor_id: string | null;
      actor_label: string | null;
      details: unknown;
    }[]
  >`
    select id::text as id, at, event, from_status, to_status, actor_type, actor_id, actor_label, details
    from public.upload_events where schedule_id = ${id} order by id`;
  return rows.map((e) => ({
    id: e.id,
    at: e.at,
    event: e.event,
    from_status: e.from_status,
    to_status: e.to_status,
    actor: { type: e.actor_type, user_id: e.actor_id, label: e.actor_label },
    details: e.details,
  }));
}

export async function profileTimeZone(tx: Tx): Promise<string> {
  const [p] = await tx<{ timezone: string }[]>`select timezone from public.profiles where id = (select auth.uid())`;
  return p?.timezone ?? 'UTC';
}
