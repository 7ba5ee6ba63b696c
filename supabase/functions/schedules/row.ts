// public.upload_schedules as this function reads it: the generated row type of the table
// (_shared/database.types.ts, `npm run db:types`), with the text columns whose checks allow only
// some values narrowed to the contract's unions, and the byte counts as every query here reads
// them (cast to float8: postgres.js returns a bigint as a string).
import type { Selectable } from 'kysely';
import type { UploadSchedules } from '../_shared/database.types.ts';
import type { PrivacyStatus, PublishStrategy, ScheduleStatus, ThumbnailStatus, WaitingReason } from '../_shared/contracts/schedules.ts';

type Narrowed = 'privacy' | 'strategy' | 'status' | 'waiting_reason' | 'thumbnail_status' | 'upload_total_bytes' | 'upload_offset';

export type UploadScheduleRow = Omit<Selectable<UploadSchedules>, Narrowed> & {
  privacy: PrivacyStatus;
  strategy: PublishStrategy;
  status: ScheduleStatus;
  waiting_reason: WaitingReason | null;
  thumbnail_status: ThumbnailStatus;
  upload_total_bytes: number | null;
  upload_offset: number;
};
