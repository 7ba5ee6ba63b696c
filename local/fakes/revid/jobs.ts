// Render jobs of the fake RevID: a job moves from queued through rendering to ready (or to a
// failure on demand) as time passes, computed from its start time whenever someone looks, and a
// timer fires the webhook when it is done, in the delivery mode tests asked for.
import { randomBytes } from 'node:crypto';

export const WEBHOOK_MODES = ['normal', 'drop', 'duplicate', 'out_of_order'] as const;
export type WebhookMode = (typeof WEBHOOK_MODES)[number];
export type FailStatus = 'error' | 'FAILED';

export interface RevidSettings {
  renderMs: number;
  videoBytes: number;
  failNext: number;
  failStatus: FailStatus;
  failMessage: string;
  webhookMode: WebhookMode;
  apiKeys: string[] | null; // null: any non-empty key is accepted
}

export const DEFAULT_SETTINGS: RevidSettings = {
  renderMs: 3_000,
  videoBytes: 2 * 1024 * 1024,
  failNext: 0,
  failStatus: 'error',
  failMessage: 'Rendering failed: the media search returned no usable clips',
  webhookMode: 'normal',
  apiKeys: null,
};

export interface RevidJob {
  pid: string;
  createdAt: number;
  renderMs: number;
  videoBytes: number;
  durationSeconds: number;
  credits: number;
  failure: { status: FailStatus; message: string } | null;
  webhookUrl: string | null;
  webhookMode: WebhookMode;
  creationParams: Record<string, unknown>;
  resolution: string | null;
  frameRate: number | null;
  origin: string; // where the media URLs point: the fake's address as the client reached it
  completedAt: number | null; // set when the completion timer ran
}

export interface WebhookDelivery {
  pid: string;
  url: string; // query values redacted: webhook URLs carry per-job secrets
  payload: Record<string, unknown>;
  at: string;
  status: number | null;
  error: string | null;
}

// The first tenth of the render time a job waits in the queue.
const QUEUED_FRACTION = 0.1;
const WEBHOOK_TIMEOUT_MS = 10_000;
const MAX_DELIVERIES_KEPT = 2_000;
// A duplicate or out-of-order delivery follows the first after this pause.
const SECOND_DELIVERY_DELAY_MS = 25;

/** Narration length from the script: about 150 words a minute. */
export function estimateSeconds(inputText: string): number {
  const words = inputText.split(/\s+/).filter((w) => w.length > 0).length;
  return Math.min(600, Math.max(5, Math.round(words / 2.5)));
}

/** Our guess at RevID's pricing: a credit per started 10 seconds, AI-generated visuals cost triple. */
export function estimateCredits(inputText: string, creationParams: Record<string, unknown>): number {
  const base = Math.ceil(estimateSeconds(inputText) / 10);
  return creationParams.hasToGenerateVideos === true ? base * 3 : base;
}

export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, '<redacted>');
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

export class RevidJobs {
  settings: RevidSettings = { ...DEFAULT_SETTINGS };
  readonly jobs = new Map<string, RevidJob>();
  readonly deliveries: WebhookDelivery[] = [];
  private timers = new Set<NodeJS.Timeout>();

  constructor(private readonly now: () => number = Date.now) {}

  create(input: {
    creationParams: Record<string, unknown> & { inputText: string };
    webhookUrl: string | null;
    resolution: string | null;
    frameRate: number | null;
    origin: string;
    renderMs?: number;
    videoBytes?: number;
  }): RevidJob {
    const s = this.settings;
    let failure: RevidJob['failure'] = null;
    if (s.failNext > 0) {
      s.failNext--;
      failure = { status: s.failStatus, message: s.failMessage };
    }
    const job: RevidJob = {
      pid: randomBytes(10).toString('hex'),
      createdAt: this.now(),
      renderMs: input.renderMs ?? s.renderMs,
      videoBytes: input.videoBytes ?? s.videoBytes,
      durationSeconds: estimateSeconds(input.creationParams.inputText),
      credits: estimateCredits(input.creationParams.inputText, input.creationParams),
      failure,
      webhookUrl: input.webhookUrl,
      webhookMode: s.webhookMode,
      creationParams: input.creationParams,
      resolution: input.resolution,
      frameRate: input.frameRate,
      origin: input.origin,
      completedAt: null,
    };
    this.jobs.set(job.pid, job);
    this.later(job.renderMs, () => this.complete(job));
    return job;
  }

  /** Finishes a job now (tests that do not want to wait for the render time). */
  finishNow(job: RevidJob) {
    if (job.completedAt !== null) return;
    job.renderMs = Math.max(0, this.now() - job.createdAt);
    this.complete(job);
  }

  /** What GET /status answers for a job at this moment. */
  status(job: RevidJob): Record<string, unknown> {
    const elapsed = this.now() - job.createdAt;
    const fraction = job.renderMs === 0 ? 1 : elapsed / job.renderMs;
    const base = { pid: job.pid, createdAt: new Date(job.createdAt).toISOString() };
    if (fraction < QUEUED_FRACTION) return { ...base, status: 'queued', progress: 0 };
    if (fraction < 1)
      return {
        ...base,
        status: 'rendering',
        progress: Math.min(99, Math.floor(((fraction - QUEUED_FRACTION) / (1 - QUEUED_FRACTION)) * 100)),
      };
    return this.finalState(job);
  }

  isReady(job: RevidJob): boolean {
    return job.failure === null && (job.renderMs === 0 || this.now() - job.createdAt >= job.renderMs);
  }

  private finalState(job: RevidJob): Record<string, unknown> {
    const base = { pid: job.pid, createdAt: new Date(job.createdAt).toISOString() };
    if (job.failure?.status === 'FAILED') return { ...base, status: 'FAILED', progress: 0, message: job.failure.message };
    if (job.failure) return { ...base, status: 'error', progress: 0, error: job.failure.message };
    return {
      ...base,
      status: 'ready',
      progress: 100,
      videoUrl: `${job.origin}/revid/media/${job.pid}.mp4`,
      thumbnailUrl: `${job.origin}/revid/media/${job.pid}.png`,
      duration: job.durationSeconds,
      videoBytes: job.videoBytes,
      creditsUsed: job.credits,
    };
  }

  private complete(job: RevidJob) {
    if (job.completedAt !== null || !this.jobs.has(job.pid)) return;
    job.completedAt = this.now();
    if (!job.webhookUrl || job.webhookMode === 'drop') return;
    const url = job.webhookUrl;
    const final = this.finalState(job);
    const send = (payload: Record<string, unknown>) => this.deliver(job.pid, url, payload);
    void (async () => {
      await send(final);
      if (job.webhookMode === 'duplicate') this.later(SECOND_DELIVERY_DELAY_MS, () => void send(final));
      if (job.webhookMode === 'out_of_order') {
        this.later(
          SECOND_DELIVERY_DELAY_MS,
          () => void send({ pid: job.pid, createdAt: final.createdAt, status: 'rendering', progress: 60 }),
        );
      }
    })();
  }

  private async deliver(pid: string, url: string, payload: Record<string, unknown>) {
    const record: WebhookDelivery = {
      pid,
      url: redactUrl(url),
      payload,
      at: new Date(this.now()).toISOString(),
      status: null,
      error: null,
    };
    this.deliveries.push(record);
    if (this.deliveries.length > MAX_DELIVERIES_KEPT) this.deliveries.splice(0, this.deliveries.length - MAX_DELIVERIES_KEPT);
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'revid-webhooks (local fake)' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      record.status = r.status;
      await r.body?.cancel();
    } catch (err) {
      record.error = (err as Error).message;
    }
  }

  private later(ms: number, fn: () => void) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  stopTimers() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  reset() {
    this.stopTimers();
    this.jobs.clear();
    this.deliveries.length = 0;
    this.settings = { ...DEFAULT_SETTINGS };
  }
}
