// What every transition of the upload engine (engine.ts) shares: the run context (the claimed
// row as this worker last wrote it, the options, the channel clients, the step budget), the
// steps a transition returns, and the ways a run ends (outcome, fail, wait) that write the row.
import type { RetryPolicy } from '../_shared/integrations/youtube/http-retry.ts';
import type { UploadedVideo, YouTubeUploader } from '../_shared/integrations/youtube/upload-client.ts';
import type { VideoSource } from './video-source.ts';
import type { StepBudget } from './budget.ts';
import type { ChannelClients } from './channel-clients.ts';
import * as store from './store.ts';
import type { ScheduleRow } from './store.ts';
import type { UploadHooks } from './upload-run.ts';

export interface EngineOptions {
  workerId: string;
  leaseSeconds: number;
  chunkBytes: number;
  /** What this invocation may still spend; shared by the schedules it runs. */
  budget?: StepBudget;
  /** Without a budget: epoch ms after which running uploads stop at a chunk boundary. */
  deadline?: number;
  /** The options the next step of a paused upload is called with (the worker's request body). */
  nextCall?: Record<string, unknown>;
  /** What YouTube confirmed when the step before paused this call's schedule (its call says). */
  handover?: Handover;
  retry?: RetryPolicy;
  hooks?: UploadHooks;
}

/** The offset a clean pause saved right after YouTube's 308 confirmed it, and the row's claim count then. */
export interface Handover {
  upload_offset: number;
  attempts: number;
}

export type Result = 'published' | 'processing' | 'waiting' | 'retry' | 'deferred' | 'failed' | 'canceled' | 'yielded' | 'lease_lost';

export interface ScheduleOutcome {
  schedule_id: string;
  /** what this worker did with it */
  result: Result;
  status: string;
  message?: string;
  /** Something an operator should see although the schedule went on (a thumbnail given up). */
  note?: string;
  bytes_sent?: number;
}

export interface RunContext {
  /** The row as this worker last read or wrote it; transitions replace it as they change it. */
  row: ScheduleRow;
  readonly opts: EngineOptions;
  readonly clients: ChannelClients;
  readonly budget: StepBudget;
}

/** An upload with its session saved (begin_upload), ready to stream from `from`. */
export interface OpenUpload {
  uploader: YouTubeUploader;
  uri: string;
  total: number;
  from: number;
  videoUrl: string;
  /** Already open at `from` (a new upload read the size from it); else opened by the stream. */
  source: VideoSource | null;
}

export type Step =
  | { to: 'start'; depth: number }
  | { to: 'resume' }
  | { to: 'stream'; upload: OpenUpload }
  | { to: 'record'; video: UploadedVideo; learntFrom: 'final_chunk' | 'status_query'; bytesSent: number }
  | { to: 'finish'; justUploaded?: UploadedVideo; bytesSent?: number }
  | { to: 'done'; outcome: ScheduleOutcome };

export type StepOf<K extends Step['to']> = Extract<Step, { to: K }>;

export function outcome(ctx: RunContext, result: Result, status: string, message?: string, bytes?: number): ScheduleOutcome {
  return {
    schedule_id: ctx.row.id,
    result,
    status,
    ...(message ? { message } : {}),
    ...(bytes !== undefined ? { bytes_sent: bytes } : {}),
  };
}

export function done(o: ScheduleOutcome): Step {
  return { to: 'done', outcome: o };
}

export const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function release(ctx: RunContext, from: store.ScheduleStatus, r: store.Release): Promise<void> {
  await store.release(ctx.row, ctx.opts.workerId, from, r);
}

/** Fails the schedule for good, with an alert. */
export async function fail(
  ctx: RunContext,
  from: store.ScheduleStatus,
  message: string,
  details: Record<string, unknown> = {},
): Promise<Step> {
  const row = ctx.row;
  await release(ctx, from, { to: 'failed', error: message, event: { event: 'failed', details: { reason: message, ...details } } });
  await store.alert('upload_failed', 'error', `an upload schedule failed: ${message}`, {
    schedule_id: row.id,
    workspace_id: row.workspace_id,
    ...details,
  });
  return done(outcome(ctx, 'failed', 'failed', message));
}

/** Keeps the row in the queue until `until` with the reason shown, and alerts. */
export async function wait(
  ctx: RunContext,
  from: store.ScheduleStatus,
  reason: store.WaitingReason,
  until: Date,
  message: string,
  alertType: string,
): Promise<Step> {
  const row = ctx.row;
  await release(ctx, from, {
    to: from as 'scheduled' | 'uploading' | 'processing',
    at: until,
    reason,
    error: message,
    failure: 'keep',
    event: { event: 'waiting', details: { reason, until, message } },
  });
  await store.alert(alertType, 'warning', message, {
    schedule_id: row.id,
    workspace_id: row.workspace_id,
    channel_id: row.channel_id,
    until,
  });
  return done(outcome(ctx, 'waiting', from, message));
}
