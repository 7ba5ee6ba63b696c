// What the schedules API accepts, checked against YouTube's own limits for video metadata, so
// that a schedule YouTube would refuse is refused here (400 naming the field), not at upload time.
//   title        1–100 characters, no < or >
//   description  at most 5,000 bytes (UTF-8), no < or >
//   tags         at most 500 characters in total, counted YouTube's way (commas between tags
//                count, a tag with a space counts two more for its quotes); no commas, < or >
//   category_id  one YouTube assigns videos to
// https://developers.google.com/youtube/v3/docs/videos#resource (snippet.title, .description, .tags)
import { z } from 'zod';
import { env } from '../_shared/platform/env.ts';
import { refusalWithoutDns } from '../_shared/platform/outbound/public-fetch.ts';
import { Uuid } from '../_shared/platform/tenancy.ts';
import { queryInt } from '../_shared/platform/integers.ts';
import {
  MAX_DESCRIPTION_BYTES,
  MAX_TAGS_CHARS,
  MAX_THUMBNAIL_URL_CHARS,
  MAX_TITLE_CHARS,
  PRIVACY_STATUSES,
  PUBLISH_STRATEGIES,
  SCHEDULE_STATUSES,
  YOUTUBE_CATEGORY_IDS,
} from '../_shared/contracts/schedules.ts';

export { MAX_DESCRIPTION_BYTES, MAX_TAGS_CHARS, MAX_TITLE_CHARS };

export { YOUTUBE_CATEGORY_IDS };

export const PRIVACIES = PRIVACY_STATUSES;
export const STRATEGIES = PUBLISH_STRATEGIES;
export const MISSED_POLICIES = ['publish_late', 'hold'] as const;
export const STATUSES = SCHEDULE_STATUSES;

const characters = (s: string) => [...s].length;

export function youtubeTagsLength(tags: string[]): number {
  return tags.reduce((n, t) => n + characters(t) + (t.includes(' ') ? 2 : 0), 0) + Math.max(tags.length - 1, 0);
}

export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const NoAngleBrackets = (s: string) => !/[<>]/.test(s);

export const Title = z
  .string({ message: 'must be a string' })
  .refine((t) => t.trim().length > 0, 'must not be empty')
  .refine((t) => characters(t) <= MAX_TITLE_CHARS, `must be at most ${MAX_TITLE_CHARS} characters`)
  .refine(NoAngleBrackets, 'must not contain < or > (YouTube refuses them)');

export const Description = z
  .string({ message: 'must be a string' })
  .refine((d) => new TextEncoder().encode(d).byteLength <= MAX_DESCRIPTION_BYTES, `must be at most ${MAX_DESCRIPTION_BYTES} bytes (UTF-8)`)
  .refine(NoAngleBrackets, 'must not contain < or > (YouTube refuses them)');

export const Tags = z
  .array(
    z
      .string({ message: 'must be a string' })
      .refine((t) => t.trim().length > 0, 'must not be empty')
      .refine((t) => !/[,<>]/.test(t), 'must not contain commas, < or >'),
    { message: 'must be an array of strings' },
  )
  .refine(
    (tags) => youtubeTagsLength(tags) <= MAX_TAGS_CHARS,
    `must be at most ${MAX_TAGS_CHARS} characters in total (YouTube counts commas between tags, and quotes around tags with spaces)`,
  );

export const CategoryId = z.enum(YOUTUBE_CATEGORY_IDS, { message: `must be a YouTube category id: ${YOUTUBE_CATEGORY_IDS.join(', ')}` });
export const Privacy = z.enum(PRIVACIES, { message: `must be one of ${PRIVACIES.join(', ')}` });
export const Strategy = z.enum(STRATEGIES, { message: `must be one of ${STRATEGIES.join(', ')}` });
export const TimeZone = z.string({ message: 'must be a string' }).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin');

// An instant with its offset ("2026-12-01T17:00:00Z", "...+01:00"), or a wall-clock time that
// time_zone says where it is ("2026-12-01T18:00").
const PUBLISH_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}:\d{2})?$/;
const HAS_OFFSET = /(Z|z|[+-]\d{2}:\d{2})$/;
export const PublishAt = z
  .string({ message: 'must be a string' })
  .regex(PUBLISH_AT, 'must be an ISO 8601 date and time, such as 2026-12-01T18:00 (in time_zone) or 2026-12-01T17:00:00Z')
  .refine((v) => !Number.isNaN(Date.parse(HAS_OFFSET.test(v) ? v : `${v}Z`)), 'is not a valid date and time');

// The worker fetches it from our servers: what can be refused without DNS (another scheme, a
// port, credentials, localhost, an IP literal that is not public) is refused here already; the
// worker checks the resolved addresses and every redirect again.
export const ThumbnailUrl = z
  .string({ message: 'must be a string' })
  .max(MAX_THUMBNAIL_URL_CHARS, `must be at most ${MAX_THUMBNAIL_URL_CHARS} characters`)
  .refine((u) => {
    try {
      return typeof refusalWithoutDns(new URL(u), env().OUTBOUND_TRUSTED_ORIGINS) !== 'object';
    } catch {
      return false;
    }
  }, 'must be a public http(s) URL (default port) of a JPEG or PNG image');

const Bool = z.boolean({ message: 'must be true or false' });

function strategyFitsPrivacy(v: { strategy?: string | null; privacy?: string | null }, ctx: z.RefinementCtx) {
  if (v.strategy === 'youtube_scheduled' && v.privacy && v.privacy !== 'public') {
    ctx.addIssue({
      code: 'custom',
      path: ['strategy'],
      message:
        "youtube_scheduled publishes public videos (YouTube's publishAt makes a private video public); use upload_at_time for unlisted or private",
    });
  }
}

export const CreateBody = z
  .strictObject({
    workspace_id: Uuid,
    channel_id: Uuid,
    video_job_id: Uuid,
    title: Title,
    description: Description.default(''),
    tags: Tags.default([]),
    category_id: CategoryId.default('22'),
    privacy: Privacy.default('public'),
    made_for_kids: Bool.default(false),
    notify_subscribers: Bool.default(true),
    thumbnail_url: ThumbnailUrl.nullish(),
    publish_at: PublishAt,
    time_zone: TimeZone.optional(),
    strategy: Strategy.optional(),
  })
  .superRefine(strategyFitsPrivacy);
export type CreateBody = z.infer<typeof CreateBody>;

export const UpdateBody = z
  .strictObject({
    title: Title.optional(),
    description: Description.optional(),
    tags: Tags.optional(),
    category_id: CategoryId.optional(),
    privacy: Privacy.optional(),
    made_for_kids: Bool.optional(),
    notify_subscribers: Bool.optional(),
    thumbnail_url: ThumbnailUrl.nullable().optional(),
    channel_id: Uuid.optional(),
    video_job_id: Uuid.optional(),
    publish_at: PublishAt.optional(),
    time_zone: TimeZone.optional(),
    strategy: Strategy.optional(),
    // the version the caller last saw: a change by someone else since then is a 409
    version: z.number().int().min(1).optional(),
  })
  .superRefine(strategyFitsPrivacy)
  .refine((b) => Object.keys(b).some((k) => k !== 'version'), { message: 'give at least one field to change' });
export type UpdateBody = z.infer<typeof UpdateBody>;

export const RescheduleBody = z.strictObject({
  publish_at: PublishAt,
  time_zone: TimeZone.optional(),
  strategy: Strategy.optional(),
  version: z.number().int().min(1).optional(),
});

export const IdParams = z.object({ id: Uuid });

const Instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 instant with offset, such as 2026-12-01T00:00:00Z' });

export const ListQuery = z
  .object({
    workspace_id: Uuid,
    from: Instant.optional(),
    to: Instant.optional(),
    channel_id: Uuid.optional(),
    status: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .refine(
        (list) => list.every((x) => (STATUSES as readonly string[]).includes(x)),
        `must be a comma-separated list of ${STATUSES.join(', ')}`,
      )
      .optional(),
    limit: queryInt(z.number().int().min(1).max(500)).default(200),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from))
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    if (q.from && q.to && Date.parse(q.to) - Date.parse(q.from) > 400 * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'the range may span at most 400 days' });
    }
  });

export const SettingsQuery = z.object({ workspace_id: Uuid });
export const SettingsBody = z
  .strictObject({
    workspace_id: Uuid,
    missed_schedule_policy: z.enum(MISSED_POLICIES, { message: `must be one of ${MISSED_POLICIES.join(', ')}` }).optional(),
    upload_lead_minutes: z.number().int().min(1, 'must be at least 1').max(10080, 'must be at most 10080 (7 days)').optional(),
  })
  .refine((b) => b.missed_schedule_policy !== undefined || b.upload_lead_minutes !== undefined, {
    message: 'give missed_schedule_policy and/or upload_lead_minutes',
  });

export const WorkerBody = z.strictObject({
  schedule_id: Uuid.optional(),
  /** The waiting window from now: this call and the successors it hands the wait to look for due rows within it. */
  claim_budget_ms: z.number().int().min(0).max(120_000).optional(),
  /** Epoch ms: what is left of a predecessor's window (private.chain_upload_worker); never lengthens claim_budget_ms. */
  wait_until: z.number().int().min(0).optional(),
  /** How long this call waits for due rows before it answers and hands the wait on (default 5 s). */
  wait_ms: z.number().int().min(0).max(120_000).optional(),
  /** Uploads still running after this long stop at a chunk boundary and resume in the next worker. */
  time_budget_ms: z.number().int().min(0).max(380_000).optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
  lease_seconds: z.number().int().min(5).max(900).optional(),
  /** Upload bytes this invocation may send (whole 256 KiB units); see budget.ts for the default. */
  step_bytes: z.number().int().min(262_144).max(1_073_741_824).multipleOf(262_144).optional(),
  /**
   * The worker id the calling SQL chose and recorded with its pg_net call (a paused upload's next
   * step, private.pause_upload; a woken or chained worker, private.call_upload_worker), so the
   * rows a failed call held can be told apart.
   */
  worker_id: z
    .string()
    .regex(/^schedules:(step|call):[0-9a-f-]{36}$/, 'must be a step or call worker id')
    .optional(),
  /** What YouTube confirmed when the paused upload's step before ended (private.pause_upload). */
  handover: z
    .strictObject({
      upload_offset: z.number().int().min(0),
      attempts: z.number().int().min(0),
    })
    .optional(),
});

export const IdempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
