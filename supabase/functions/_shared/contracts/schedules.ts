// An upload schedule's values as public.upload_schedules' checks allow them, for the schedules
// function's validation and the web app's form alike (tests/unit/contracts-schema.test.ts reads
// the checks from the database and fails when they and this file disagree).

export const SCHEDULE_STATUSES = ['scheduled', 'held', 'uploading', 'processing', 'published', 'failed', 'canceled'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

export const PRIVACY_STATUSES = ['public', 'unlisted', 'private'] as const;
export type PrivacyStatus = (typeof PRIVACY_STATUSES)[number];

export const PUBLISH_STRATEGIES = ['youtube_scheduled', 'upload_at_time'] as const;
export type PublishStrategy = (typeof PUBLISH_STRATEGIES)[number];

export const WAITING_REASONS = ['quota', 'quota_share', 'upload_limit', 'reauth_required', 'retry'] as const;
export type WaitingReason = (typeof WAITING_REASONS)[number];

/** Assignable video categories (videoCategories.list, regionCode=US, assignable=true). */
export const YOUTUBE_CATEGORY_IDS = ['1', '2', '10', '15', '17', '19', '20', '22', '23', '24', '25', '26', '27', '28', '29'] as const;

/** YouTube's limits: title in characters, description in bytes, tags counted YouTube's way. */
export const MAX_TITLE_CHARS = 100;
export const MAX_DESCRIPTION_BYTES = 5000;
export const MAX_TAGS_CHARS = 500;
export const MAX_THUMBNAIL_URL_CHARS = 2048;

export const THUMBNAIL_STATUSES = ['none', 'pending', 'set', 'failed'] as const;
export type ThumbnailStatus = (typeof THUMBNAIL_STATUSES)[number];
