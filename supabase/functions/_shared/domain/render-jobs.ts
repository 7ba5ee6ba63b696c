// Render jobs: submitting one to RevID, applying what RevID reports (webhook or poll), and the
// shape a job takes in API answers. The rules (statuses only move forward, the monthly limit,
// refunds) live in the SQL functions of migration video_processing; this module decides when to
// call them and what RevID's answers mean.
import { constantTimeEqual } from '../platform/auth.ts';
import { asService, type Tx } from '../platform/db.ts';
import { env } from '../platform/env.ts';
import { RevidError, renderStatus, submitRender, type StatusReport } from '../integrations/revid/client.ts';

/** A job with no news for this long gets its status polled (the webhook may be lost). */
export const POLL_AFTER_NO_NEWS_SECONDS = 120;
/** How long a submission attempt holds a job before another worker may take it. */
export const SUBMIT_LEASE_SECONDS = 120;
/** No job stays open longer: the worker fails it with the reason. */
export const RENDER_DEADLINE_MINUTES = 60;
export const MAX_SUBMIT_ATTEMPTS = 6;
const SUBMIT_BACKOFF_BASE_S = 30;
const SUBMIT_BACKOFF_MAX_S = 15 * 60;
const POLL_BACKOFF_BASE_S = 30;
const POLL_BACKOFF_MAX_S = 10 * 60;

export type JobStatus = 'queued' | 'submitted' | 'rendering' | 'ready' | 'failed' | 'canceled';

export interface JobRow {
  id: string;
  workspace_id: string;
  content_id: string;
  content_version: number;
  provider: string;
  provider_job_id: string | null;
  render_params: RenderParams;
  status: JobStatus;
  progress: number;
  video_url: string | null;
  thumbnail_url: string | null;
  duration_seconds: string | null;
  credits: string | null;
  attempts: number;
  poll_failures: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  webhook_received_at: Date | null;
  last_polled_at: Date | null;
  last_news_at: Date | null;
  give_up_at: Date;
  idempotency_key: string;
  requested_by: string | null;
  canceled_by: string | null;
  created_at: Date;
  updated_at: Date;
  submitted_at: Date | null;
  finished_at: Date | null;
}

export interface RenderParams {
  creationParams: Record<string, unknown> & { inputText: string };
  resolution?: string;
  frameRate?: number;
}

export const JOB_COLUMNS = `id, workspace_id, content_id, content_version, provider, provider_job_id, render_params, status,
  progress, video_url, thumbnail_url, duration_seconds, credits, attempts, poll_failures, next_attempt_at, last_error,
  webhook_received_at, last_polled_at, last_news_at, give_up_at, idempotency_key, requested_by, canceled_by,
  created_at, updated_at, submitted_at, finished_at`;

const FINAL: JobStatus[] = ['ready', 'failed', 'canceled'];

export function isFinal(status: JobStatus): boolean {
  return FINAL.includes(status);
}

/** A job as API answers show it (never its webhook secret's hash). */
export function presentJob(j: JobRow) {
  return {
    id: j.id,
    workspace_id: j.workspace_id,
    content_id: j.content_id,
    content_version: j.content_version,
    provider: j.provider,
    provider_job_id: j.provider_job_id,
    status: j.status,
    progress: j.progress,
    video_url: j.video_url,
    thumbnail_url: j.thumbnail_url,
    duration_seconds: j.duration_seconds === null ? null : Number(j.duration_seconds),
    credits: j.credits === null ? null : Number(j.credits),
    attempts: j.attempts,
    last_error: j.last_error,
    next_attempt_at: isFinal(j.status) ? null : j.next_attempt_at,
    webhook_received_at: j.webhook_received_at,
    last_polled_at: j.last_polled_at,
    give_up_at: j.give_up_at,
    idempotency_key: j.idempotency_key,
    render_params: j.render_params,
    requested_by: j.requested_by,
    canceled_by: j.canceled_by,
    created_at: j.created_at,
    updated_at: j.updated_at,
    submitted_at: j.submitted_at,
    finished_at: j.finished_at,
  };
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

/** A fresh per-job webhook secret (256 bits) and the hash that is stored of it. */
export async function newWebhookSecret(): Promise<{ secret: string; hash: string }> {
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { secret, hash: await sha256Hex(secret) };
}

export function webhookUrl(jobId: string, secret: string): string {
  const u = new URL(`${env().SUPABASE_URL}/functions/v1/revid-webhook`);
  u.searchParams.set('job', jobId);
  u.searchParams.set('secret', secret);
  return u.toString();
}

/** Whether `secret` is the current webhook secret of the job; hashes compared in constant time. */
export async function webhookSecretMatches(jobId: string, secret: string): Promise<boolean> {
  const [row] = await asService((tx) => tx<{ hash: string | null }[]>`select private.video_job_webhook_secret_hash(${jobId}) as hash`);
  const presented = await sha256Hex(secret);
  // An unknown job is compared against a hash nobody has, so both answers take the same time.
  return constantTimeEqual(presented, row?.hash ?? '0'.repeat(64)) && row?.hash != null;
}

export async function loadJob(tx: Tx, id: string): Promise<JobRow | undefined> {
  const [row] = await tx<JobRow[]>`select ${tx.unsafe(JOB_COLUMNS)} from public.video_jobs where id = ${id}`;
  return row;
}

function backoffSeconds(attempt: number, base: number, max: number): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export type SubmitOutcome =
  | { result: 'submitted'; pid: string }
  | { result: 'retry_later'; error: string; retryAt: Date }
  | { result: 'failed'; error: string }
  | { result: 'not_queued' };

/**
 * One submission attempt: a fresh webhook secret, RevID's render call, and the outcome stored.
 * A transient failure schedules the next attempt with backoff until MAX_SUBMIT_ATTEMPTS; a
 * permanent one (RevID refused this request) fails the job at once.
 */
export async function submitAttempt(job: Pick<JobRow, 'id' | 'render_params'>): Promise<SubmitOutcome> {
  const { secret, hash } = await newWebhookSecret();
  const [begun] = await asService(
    (tx) => tx<{ attempt: number | null }[]>`
    select private.begin_video_job_submission(${job.id}, ${hash}, ${SUBMIT_LEASE_SECONDS}) as attempt`,
  );
  const attempt = begun?.attempt ?? null;
  if (attempt === null) return { result: 'not_queued' };
  try {
    const pid = await submitRender({ ...job.render_params, webhook: webhookUrl(job.id, secret) });
    await asService((tx) => tx`select private.mark_video_job_submitted(${job.id}, ${pid}, ${POLL_AFTER_NO_NEWS_SECONDS})`);
    return { result: 'submitted', pid };
  } catch (err) {
    const e = err instanceof RevidError ? err : new RevidError('transient', String(err));
    const giveUp = e.kind === 'permanent' || attempt >= MAX_SUBMIT_ATTEMPTS;
    const error =
      e.kind === 'permanent'
        ? `RevID refused the render: ${e.message}`
        : giveUp
          ? `RevID did not accept the render after ${attempt} attempts; last error: ${e.message}`
          : e.message;
    const retryAt = giveUp ? null : new Date(Date.now() + backoffSeconds(attempt, SUBMIT_BACKOFF_BASE_S, SUBMIT_BACKOFF_MAX_S) * 1000);
    await asService((tx) => tx`select private.video_job_submission_failed(${job.id}, ${error}, ${retryAt})`);
    return retryAt ? { result: 'retry_later', error, retryAt } : { result: 'failed', error };
  }
}

export interface Applied {
  changed: boolean;
  status: JobStatus | null;
}

/** Applies a report (webhook or poll); the database ignores anything that is not progress. */
export async function applyReport(jobId: string, source: 'webhook' | 'poll', r: StatusReport): Promise<Applied> {
  const [row] = await asService(
    (tx) => tx<{ changed: boolean; job_status: JobStatus | null }[]>`
    select changed, job_status from private.apply_video_job_update(
      ${jobId}, ${source}, ${r.status}, ${r.progress}, ${r.videoUrl}, ${r.thumbnailUrl}, ${r.durationSeconds},
      ${r.credits}, ${r.error}, ${r.pid}, ${POLL_AFTER_NO_NEWS_SECONDS})`,
  );
  return { changed: row?.changed ?? false, status: row?.job_status ?? null };
}

export type PollOutcome =
  { result: 'applied'; applied: Applied } | { result: 'poll_failed'; error: string } | { result: 'job_failed'; error: string };

/** Asks RevID for a submitted job's status and applies it; failures are retried with backoff. */
export async function pollJob(job: Pick<JobRow, 'id' | 'provider_job_id' | 'poll_failures'>): Promise<PollOutcome> {
  if (!job.provider_job_id) return { result: 'poll_failed', error: 'no RevID pid to poll' };
  try {
    const report = await renderStatus(job.provider_job_id);
    if (report) return { result: 'applied', applied: await applyReport(job.id, 'poll', report) };
    const error = "RevID's status answer could not be read";
    await pollFailed(job, error);
    return { result: 'poll_failed', error };
  } catch (err) {
    const e = err instanceof RevidError ? err : new RevidError('transient', String(err));
    if (e.kind === 'permanent' && e.status === 404) {
      // RevID does not know the pid (any more): waiting cannot produce a video.
      const error = `RevID no longer knows render ${job.provider_job_id}: ${e.message}`;
      await asService((tx) => tx`select private.fail_video_job(${job.id}, ${error})`);
      return { result: 'job_failed', error };
    }
    await pollFailed(job, e.message);
    return { result: 'poll_failed', error: e.message };
  }
}

async function pollFailed(job: Pick<JobRow, 'id' | 'poll_failures'>, error: string) {
  const retryAt = new Date(Date.now() + backoffSeconds(job.poll_failures + 1, POLL_BACKOFF_BASE_S, POLL_BACKOFF_MAX_S) * 1000);
  await asService((tx) => tx`select private.video_job_poll_failed(${job.id}, ${error}, ${retryAt})`);
}

export async function failJob(jobId: string, reason: string): Promise<boolean> {
  const [row] = await asService((tx) => tx<{ failed: boolean }[]>`select private.fail_video_job(${jobId}, ${reason}) as failed`);
  return row?.failed ?? false;
}
