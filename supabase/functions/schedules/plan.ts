// Decisions about one upload that need nothing but the schedule and the clock: how to upload it
// now (scheduled at YouTube, published at once, or not yet), the video resource YouTube gets, and
// whether what YouTube made is what was asked for.
import type { UploadedVideo, VideoResourceInput } from '../_shared/integrations/youtube/upload-client.ts';

/** YouTube wants publishAt in the future; closer than this the upload waits for publish_at instead. */
export const PUBLISH_AT_MARGIN_MS = 30_000;
/** 8 MiB: a multiple of YouTube's 256 KiB unit, and the one buffer an upload holds. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** Transient failures in a row before a schedule fails. */
export const MAX_FAILURES = 8;
/** How often a channel that needs reconnecting is looked at again. */
export const REAUTH_RECHECK_MS = 30 * 60_000;

export interface PlannedSchedule {
  strategy: 'youtube_scheduled' | 'upload_at_time';
  publish_at: Date;
  privacy: 'public' | 'unlisted' | 'private';
  title: string;
  description: string;
  tags: string[];
  category_id: string;
  made_for_kids: boolean;
  notify_subscribers: boolean;
}

export type UploadPlan =
  /** private with status.publishAt: YouTube publishes it at publish_at */
  | { kind: 'publish_at'; publishAt: Date }
  /** with its final privacy: it is published (or unlisted/private) when processed */
  | { kind: 'immediate' }
  /** not yet: upload at `until` */
  | { kind: 'wait'; until: Date };

export function uploadPlan(s: Pick<PlannedSchedule, 'strategy' | 'publish_at'>, now: number): UploadPlan {
  const at = s.publish_at.getTime();
  if (s.strategy === 'youtube_scheduled' && at - now >= PUBLISH_AT_MARGIN_MS) return { kind: 'publish_at', publishAt: s.publish_at };
  // Too close for YouTube to schedule it (or upload_at_time): upload at the time itself.
  if (at > now) return { kind: 'wait', until: s.publish_at };
  return { kind: 'immediate' };
}

/** YouTube's timestamps: ISO 8601 in UTC without milliseconds. */
export function googleTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function videoResource(s: PlannedSchedule, plan: UploadPlan): VideoResourceInput {
  return {
    snippet: { title: s.title, description: s.description, tags: s.tags, categoryId: s.category_id },
    status:
      plan.kind === 'publish_at'
        ? { privacyStatus: 'private', publishAt: googleTime(plan.publishAt), selfDeclaredMadeForKids: s.made_for_kids }
        : { privacyStatus: s.privacy, selfDeclaredMadeForKids: s.made_for_kids },
  };
}

/** What the session was created with, as stored on the schedule (upload_schedules.sent_metadata). */
export interface SentMetadata extends VideoResourceInput {
  notifySubscribers: boolean;
}

/**
 * Null when the uploaded video is what was asked for; otherwise what differs. Uploads from Google
 * Cloud projects that YouTube has not audited end up private (and unscheduled) whatever was asked.
 */
export function uploadedAsAsked(sent: SentMetadata, video: UploadedVideo): string | null {
  if (video.privacyStatus === null) return null;
  if (sent.status.publishAt) {
    if (video.privacyStatus === 'private' && video.publishAt === null) {
      return "YouTube made the upload private without its publish time: uploads of Google Cloud projects that have not passed YouTube's API audit are locked private";
    }
    return null;
  }
  if (video.privacyStatus !== sent.status.privacyStatus) {
    return `YouTube made the upload ${video.privacyStatus}, not ${sent.status.privacyStatus}: uploads of Google Cloud projects that have not passed YouTube's API audit are locked private`;
  }
  return null;
}

/** Seconds before a transient failure is retried: 30 s, 1 min, 2 min, ... at most 30 min, at least what the API asked. */
export function retryDelaySeconds(failures: number, retryAfterMs?: number): number {
  const backoff = Math.min(30 * 60, 30 * 2 ** Math.max(0, failures - 1));
  return Math.max(backoff, Math.ceil((retryAfterMs ?? 0) / 1000));
}
