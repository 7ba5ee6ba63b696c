// Render jobs as the Videos page uses them: render an approved script (render-video POST with an
// Idempotency-Key made once per click and reused on retry, so a retried request never renders
// twice), list with status and progress, one job, cancel.
import * as z from 'zod/mini';
import { callFunction, segment, type FunctionsInvoker } from './api.ts';
import type { ApiError } from './api-error.ts';
import { roleAtLeast, type Role } from './roles.ts';

export const JOB_STATUSES = ['queued', 'submitted', 'rendering', 'ready', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
const FINAL: ReadonlySet<string> = new Set(['ready', 'failed', 'canceled']);

export const JOB_STATUS_LABELS: Record<JobStatus, string> = {
  queued: 'Queued',
  submitted: 'Submitted',
  rendering: 'Rendering',
  ready: 'Ready',
  failed: 'Failed',
  canceled: 'Canceled',
};
export function jobStatusLabel(status: string): string {
  return (JOB_STATUS_LABELS as Record<string, string>)[status] ?? status;
}

export const Job = z.object({
  id: z.string(),
  workspace_id: z.string(),
  content_id: z.string(),
  content_version: z.number(),
  status: z.string(),
  progress: z.nullable(z.number()),
  video_url: z.nullable(z.string()),
  thumbnail_url: z.nullable(z.string()),
  duration_seconds: z.nullable(z.number()),
  attempts: z.number(),
  last_error: z.nullable(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.nullable(z.string()),
});
export type Job = z.infer<typeof Job>;

export function isFinalJob(job: Pick<Job, 'status'>): boolean {
  return FINAL.has(job.status);
}

/**
 * The job's progress as a whole percentage for the progress bar. RevID reports 0–100 (some
 * answers 0–1); a ready job is 100 whatever was last reported; a job not yet started has none.
 */
export function jobPercent(job: Pick<Job, 'status' | 'progress'>): number | null {
  if (job.status === 'ready') return 100;
  const p = job.progress;
  if (p === null || !Number.isFinite(p)) return job.status === 'queued' || job.status === 'submitted' ? 0 : null;
  const pct = p > 0 && p <= 1 && !Number.isInteger(p) ? p * 100 : p;
  return Math.max(0, Math.min(100, Math.round(pct)));
}

export function jobPermissions(role: Role) {
  const editor = roleAtLeast(role, 'editor');
  return { render: editor, cancel: editor };
}

/** Whether any job in the list still changes (the page polls while this is true). */
export function anyOpenJob(jobs: readonly Pick<Job, 'status'>[]): boolean {
  return jobs.some((j) => !isFinalJob(j));
}

/** Puts a fresh answer for one job into the list (newest first), replacing the old copy. */
export function mergeJob(jobs: readonly Job[], job: Job): Job[] {
  const rest = jobs.filter((j) => j.id !== job.id);
  return [job, ...rest].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}

export async function listJobs(client: FunctionsInvoker, workspaceId: string, contentId?: string) {
  const r = await callFunction(client, 'render-video', {
    query: { workspace_id: workspaceId, content_id: contentId, limit: '50' },
    schema: z.object({ jobs: z.array(Job) }),
  });
  return r.jobs;
}

export async function getJob(client: FunctionsInvoker, id: string) {
  return (await callFunction(client, `render-video/${segment(id)}`, { schema: z.object({ job: Job }) })).job;
}

/** The key goes in the Idempotency-Key header: the function's documented way to make a retry safe. */
export async function startRender(
  client: FunctionsInvoker,
  contentId: string,
  idempotencyKey: string,
  item = 0,
): Promise<{ job: Job; replayed: boolean }> {
  return await callFunction(client, 'render-video', {
    method: 'POST',
    body: { content_id: contentId, item },
    headers: { 'Idempotency-Key': idempotencyKey },
    schema: z.object({ job: Job, replayed: z.boolean() }),
  });
}

export async function cancelJob(client: FunctionsInvoker, id: string) {
  return (await callFunction(client, `render-video/${segment(id)}`, { method: 'DELETE', schema: z.object({ job: Job }) })).job;
}

/** A 429 over the monthly render limit: when it resets, from the error's details. */
export function renderLimitReset(error: Pick<ApiError, 'status' | 'details'>): Date | null {
  if (error.status !== 429) return null;
  const d = error.details as { resets_at?: unknown } | null | undefined;
  const at = d && typeof d.resets_at === 'string' ? new Date(d.resets_at) : null;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

/**
 * The key of one "Render" click: kept while that request is retried (a network failure or a
 * 5xx), dropped once the answer is final, so the next click renders anew.
 */
export function createIdempotencyKeys(newKey: () => string = () => crypto.randomUUID()) {
  const pending = new Map<string, string>();
  return {
    keyFor(contentId: string): string {
      let key = pending.get(contentId);
      if (!key) {
        key = newKey();
        pending.set(contentId, key);
      }
      return key;
    },
    /** The request got a definite answer (success or a 4xx): the next click is a new render. */
    settle(contentId: string) {
      pending.delete(contentId);
    },
    /** Whether an error means the same request should be retried with the same key. */
    retryable(error: Pick<ApiError, 'status'>): boolean {
      return error.status === null || error.status >= 500;
    },
  };
}
