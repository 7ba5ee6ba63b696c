// render-video: approved scripts rendered as videos by RevID.
//   POST   /        { content_id, item?, options?, idempotency_key? } + header Idempotency-Key
//                   editors/owners -> 202 { job, replayed }; the same key returns the same job
//                   (replayed: true), never a second render. Over MAX_VIDEO_GENERATIONS_PER_USER
//                   renders this calendar month (UTC) -> 429 + Retry-After (until the reset).
//   GET    /?workspace_id=&status=&content_id=&limit=   members -> { jobs } (status, progress, ...)
//   GET    /:id                                         members -> { job }
//   DELETE /:id     editors/owners: cancels an open job -> { job }. RevID documents no cancel call,
//                   so this stops our side only (no more polling; late webhooks change nothing);
//                   a render already running at RevID may still finish and use credits.
//   POST   /worker  { job_id?, time_budget_ms?, max_jobs? }  service role (pg_cron; a bounded batch, chained): the poller
import { z } from 'zod';
import { requireServiceRole } from '../_shared/platform/auth.ts';
import { asJson } from '../_shared/platform/db-json.ts';
import { asService, asUser } from '../_shared/platform/db.ts';
import { env } from '../_shared/platform/env.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { noteWorkspace } from '../_shared/platform/observability/context.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { asMember, signedIn } from '../_shared/platform/signed-in.ts';
import { requireRole, Uuid } from '../_shared/platform/tenancy.ts';
import { getContent } from '../_shared/domain/content-store.ts';
import {
  JOB_COLUMNS,
  loadJob,
  newWebhookSecret,
  presentJob,
  RENDER_DEADLINE_MINUTES,
  sha256Hex,
  submitAttempt,
  SUBMIT_LEASE_SECONDS,
  type JobRow,
  type RenderParams,
} from '../_shared/domain/render-jobs.ts';
import { runRenderWorker } from './worker.ts';
import { queryInt } from '../_shared/platform/integers.ts';

// Attempts made while the caller waits; later ones are the poller's, with backoff.
const INLINE_SUBMIT_TRIES = 3;
const INLINE_RETRY_DELAY_MS = 250;

const IdempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const RenderOptions = z.strictObject({
  ratio: z.enum(['9 / 16', '16 / 9', '1 / 1']).optional(),
  voice: z.string().trim().min(1).max(100).optional(),
  caption_preset: z.string().trim().min(1).max(100).optional(),
  media_type: z.enum(['stockVideo', 'movingImage']).optional(),
  resolution: z.enum(['720p', '1080p']).optional(),
  frame_rate: z.union([z.literal(24), z.literal(25), z.literal(30), z.literal(60)]).optional(),
});
type RenderOptions = z.infer<typeof RenderOptions>;

const CreateBody = z.strictObject({
  content_id: Uuid,
  // which of the content's scripts (output.items) to render
  item: z.number().int().min(0).max(19).default(0),
  options: RenderOptions.default({}),
  idempotency_key: IdempotencyKey.optional(),
});
const ListQuery = z.strictObject({
  workspace_id: Uuid,
  status: z.enum(['queued', 'submitted', 'rendering', 'ready', 'failed', 'canceled']).optional(),
  content_id: Uuid.optional(),
  limit: queryInt(z.number().int().min(1).max(100)).default(20),
});
const IdParams = z.object({ id: Uuid });
const WorkerBody = z.object({
  job_id: Uuid.optional(),
  time_budget_ms: z.number().int().min(0).max(55_000).optional(),
  /** Jobs this invocation may handle (default MAX_JOBS_PER_INVOCATION); a run that reaches it calls its successor. */
  max_jobs: z.number().int().min(1).max(200).optional(),
});

function idempotencyKeyOf(req: Request, fromBody: string | undefined): string {
  const header = req.headers.get('idempotency-key');
  if (header !== null) {
    const parsed = IdempotencyKey.safeParse(header);
    if (!parsed.success) {
      throw new HttpError(400, 'validation_failed', `invalid Idempotency-Key header: ${parsed.error.issues[0]?.message}`, [
        { path: 'Idempotency-Key', message: parsed.error.issues[0]?.message },
      ]);
    }
    if (fromBody !== undefined && fromBody !== header) {
      throw new HttpError(400, 'validation_failed', 'the Idempotency-Key header and body.idempotency_key differ', [
        { path: 'idempotency_key', message: 'differs from the Idempotency-Key header' },
      ]);
    }
    return header;
  }
  if (fromBody !== undefined) return fromBody;
  throw new HttpError(
    400,
    'idempotency_key_required',
    'an Idempotency-Key header (or body.idempotency_key) is required, so that a retried request never renders twice',
    [{ path: 'Idempotency-Key', message: 'required' }],
  );
}

function renderParams(script: string, targetFormat: unknown, o: RenderOptions): RenderParams {
  return {
    creationParams: {
      inputText: script,
      flowType: 'text-to-video',
      mediaType: o.media_type ?? 'stockVideo',
      ratio: o.ratio ?? (targetFormat === 'long_form' ? '16 / 9' : '9 / 16'),
      captionPresetName: o.caption_preset ?? 'Wrap 1',
      ...(o.voice ? { selectedVoice: o.voice } : {}),
      hasToGenerateVoice: true,
      hasToSearchMedia: true,
    },
    resolution: o.resolution ?? '1080p',
    frameRate: o.frame_rate ?? 30,
  };
}

async function jobFor(claims: Parameters<typeof asUser>[0], id: string): Promise<JobRow> {
  const job = await asUser(claims, (tx) => loadJob(tx, id));
  if (!job) throw new HttpError(404, 'not_found', 'render job not found');
  return job;
}

function limitReached(used: number, limit: number, resetsAt: Date): HttpError {
  const seconds = Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000));
  return new HttpError(
    429,
    'render_limit_reached',
    `you have used ${used} of your ${limit} video renders this month; the limit resets at ${resetsAt.toISOString()}`,
    { limit, used, resets_at: resetsAt.toISOString(), retry_after_seconds: seconds },
    { 'Retry-After': String(seconds) },
  );
}

async function submitInline(job: Pick<JobRow, 'id' | 'render_params'>) {
  for (let i = 0; i < INLINE_SUBMIT_TRIES; i++) {
    const outcome = await submitAttempt(job);
    if (outcome.result !== 'retry_later') return;
    if (i < INLINE_SUBMIT_TRIES - 1) await new Promise((r) => setTimeout(r, INLINE_RETRY_DELAY_MS * 2 ** i));
  }
}

export const router = new Router('render-video')
  .on('POST', '/', async (ctx) => {
    const { claims, input: body } = await signedIn(ctx, { body: CreateBody });
    const key = idempotencyKeyOf(ctx.req, body.idempotency_key);
    const fingerprint = await sha256Hex(JSON.stringify({ content_id: body.content_id, item: body.item, options: body.options }));

    const { content, existing } = await asUser(claims, async (tx) => {
      const content = await getContent(tx, body.content_id);
      await requireRole(tx, content.workspace_id, 'editor', 'render videos');
      const [existing] = await tx<JobRow[]>`
        select ${tx.unsafe(JOB_COLUMNS)}, request_fingerprint from public.video_jobs
        where workspace_id = ${content.workspace_id} and idempotency_key = ${key}`;
      return { content, existing: existing as (JobRow & { request_fingerprint: string }) | undefined };
    });
    noteWorkspace(ctx.req, content.workspace_id);
    const conflict = () =>
      new HttpError(
        409,
        'idempotency_key_reused',
        'this Idempotency-Key was already used for a different render request in this workspace',
      );
    if (existing) {
      if (existing.request_fingerprint !== fingerprint) throw conflict();
      return json({ job: presentJob(existing), replayed: true }, 202);
    }

    if (content.kind !== 'script') {
      throw new HttpError(422, 'not_a_script', `only scripts can be rendered; this content is a ${content.kind.replace('_', ' ')}`);
    }
    if (content.status !== 'approved' || content.approved_version === null) {
      throw new HttpError(409, 'not_approved', `only an approved script can be rendered; this one is ${content.status.replace('_', ' ')}`);
    }
    const item = content.output.items[body.item];
    const script = typeof item?.script === 'string' ? item.script : null;
    if (!script) {
      throw new HttpError(
        400,
        'validation_failed',
        `item ${body.item} does not exist in this content (it has ${content.output.items.length})`,
        [{ path: 'item', message: 'no such item' }],
      );
    }

    const params = renderParams(script, content.brief.target_format, body.options);
    // The first secret only fills the column; every submission attempt sets its own.
    const { hash } = await newWebhookSecret();
    const limit = env().MAX_VIDEO_GENERATIONS_PER_USER;
    const [created] = await asService(
      (tx) => tx<{ outcome: string; job_id: string | null; renders_used: number | null; resets_at: Date | null }[]>`
      select * from private.create_video_job(${content.workspace_id}, ${content.id}, ${content.approved_version},
        ${claims.sub}, ${key}, ${fingerprint}, ${asJson(params)}, ${hash}, ${limit},
        ${SUBMIT_LEASE_SECONDS}, ${RENDER_DEADLINE_MINUTES})`,
    );

    switch (created.outcome) {
      case 'created':
        await submitInline({ id: created.job_id!, render_params: params });
        break;
      case 'existing':
        break;
      case 'key_conflict':
        throw conflict();
      case 'limit_reached':
        throw limitReached(created.renders_used ?? limit, limit, created.resets_at!);
      case 'not_approved':
        throw new HttpError(409, 'not_approved', 'only an approved script can be rendered; it changed while the request ran');
      case 'forbidden':
        throw new HttpError(403, 'forbidden', 'only editors and owners can render videos');
      case 'not_a_script':
        throw new HttpError(422, 'not_a_script', 'only scripts can be rendered');
      default:
        throw new HttpError(404, 'not_found', 'content not found');
    }
    const job = await jobFor(claims, created.job_id!);
    return json({ job: presentJob(job), replayed: created.outcome === 'existing' }, 202);
  })
  .on('GET', '/', async (ctx) => {
    const { claims, input: q } = await signedIn(ctx, { query: ListQuery });
    const jobs = await asMember(claims, { id: q.workspace_id, min: 'viewer', action: 'see renders' }, async (tx) => {
      return await tx<JobRow[]>`
        select ${tx.unsafe(JOB_COLUMNS)} from public.video_jobs
        where workspace_id = ${q.workspace_id}
          ${q.status ? tx`and status = ${q.status}` : tx``}
          ${q.content_id ? tx`and content_id = ${q.content_id}` : tx``}
        order by created_at desc, id desc
        limit ${q.limit}`;
    });
    return json({ jobs: jobs.map(presentJob) });
  })
  .on('GET', '/:id', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { params: IdParams });
    const job = await jobFor(claims, input.id);
    noteWorkspace(ctx.req, job.workspace_id);
    return json({ job: presentJob(job) });
  })
  .on('DELETE', '/:id', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { params: IdParams });
    const { id } = input;
    const job = await asUser(claims, async (tx) => {
      const job = await loadJob(tx, id);
      if (!job) throw new HttpError(404, 'not_found', 'render job not found');
      await requireRole(tx, job.workspace_id, 'editor', 'cancel renders');
      return job;
    });
    noteWorkspace(ctx.req, job.workspace_id);
    const [r] = await asService(
      (tx) => tx<{ outcome: string; status: string | null }[]>`
      select * from private.cancel_video_job(${id}, ${claims.sub})`,
    );
    if (r.outcome === 'final') {
      throw new HttpError(409, 'already_finished', `the render has already ended (${r.status}); only open renders can be canceled`);
    }
    if (r.outcome === 'forbidden') throw new HttpError(403, 'forbidden', 'only editors and owners can cancel renders');
    if (r.outcome === 'not_found') throw new HttpError(404, 'not_found', 'render job not found');
    return json({
      job: presentJob(await jobFor(claims, id)),
      note: 'RevID offers no cancel call: we stopped following this render; if RevID had started it, it may still finish and use credits',
    });
  })
  .on('POST', '/worker', async (ctx) => {
    requireServiceRole(ctx.req);
    const body = await parseBody(ctx, WorkerBody);
    return json(await runRenderWorker({ jobId: body.job_id, timeBudgetMs: body.time_budget_ms, maxJobs: body.max_jobs }));
  });

export default createHandler(router);
