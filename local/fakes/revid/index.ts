// The fake RevID: render → pid, status that progresses with time, the webhook on completion and
// the rendered file behind videoUrl. Real base: https://www.revid.ai (`/api/public/v2/...`);
// here: /revid. RevID publishes no reference for its public API; the shapes follow public client
// code (summarised at the top of supabase/functions/_shared/integrations/revid/client.ts), and what nobody
// documents (the webhook payload) is our choice, written down in local/fakes/README.md.
import { z } from 'zod';
import { parseJson } from '../control.ts';
import type { RequestContext } from '../core/context.ts';
import type { Router } from '../core/router.ts';
import type { FakeService } from '../core/service.ts';
import { estimateCredits, estimateSeconds, RevidJobs, WEBHOOK_MODES, type RevidJob } from './jobs.ts';
import { mediaBytes, mediaSha256, parseRange } from './media.ts';
import { thumbnailPng } from './thumbnail.ts';

const API = '/revid/api/public/v2';
// Video sizes tests may ask for: up to 4 GiB, generated on the fly.
const MAX_VIDEO_BYTES = 4 * 1024 * 1024 * 1024;

const RenderBody = z
  .object({
    webhook: z.string().url().nullable().optional(),
    creationParams: z.object({ inputText: z.string().trim().min(1, 'creationParams.inputText is required') }).passthrough(),
    resolution: z.string().optional(),
    frameRate: z.number().optional(),
  })
  .passthrough();

function authorised(ctx: RequestContext, jobs: RevidJobs): boolean {
  const key = ctx.header('key');
  if (!key) {
    ctx.sendJson(401, { error: 'Missing API key: send it in the "key" header' });
    return false;
  }
  if (jobs.settings.apiKeys !== null && !jobs.settings.apiKeys.includes(key)) {
    ctx.sendJson(401, { error: 'Invalid API key' });
    return false;
  }
  return true;
}

/** Parses a render-like body; answers 400 `{ error }` itself when it is unusable. */
function renderBody(ctx: RequestContext) {
  let raw: unknown;
  try {
    raw = ctx.json();
  } catch {
    ctx.sendJson(400, { error: 'Request body must be JSON' });
    return undefined;
  }
  const parsed = RenderBody.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'body';
    const message =
      field === 'creationParams' || field === 'creationParams.inputText'
        ? 'creationParams.inputText is required'
        : `${field}: ${issue.message}`;
    ctx.sendJson(400, { error: message });
    return undefined;
  }
  return parsed.data;
}

function render(ctx: RequestContext, jobs: RevidJobs) {
  if (!authorised(ctx, jobs)) return;
  const body = renderBody(ctx);
  if (!body) return;
  const job = jobs.create({
    creationParams: body.creationParams,
    webhookUrl: body.webhook ?? null,
    resolution: body.resolution ?? null,
    frameRate: body.frameRate ?? null,
    origin: ctx.origin,
  });
  ctx.sendJson(200, { success: 1, pid: job.pid });
}

function status(ctx: RequestContext, jobs: RevidJobs) {
  if (!authorised(ctx, jobs)) return;
  const pid = ctx.query.get('pid');
  if (!pid) return ctx.sendJson(400, { error: 'pid is required' });
  const job = jobs.jobs.get(pid);
  if (!job) return ctx.sendJson(404, { error: `No project found with pid ${pid}` });
  ctx.sendJson(200, jobs.status(job));
}

function calculateCredits(ctx: RequestContext, jobs: RevidJobs) {
  if (!authorised(ctx, jobs)) return;
  const body = renderBody(ctx);
  if (!body) return;
  const text = body.creationParams.inputText;
  ctx.sendJson(200, { credits: estimateCredits(text, body.creationParams), estimatedDurationSeconds: estimateSeconds(text) });
}

/** GET/HEAD /revid/media/{pid}.mp4 (Range-capable) and /revid/media/{pid}.png. */
async function media(ctx: RequestContext, jobs: RevidJobs) {
  const m = /^([0-9a-f]+)\.(mp4|png)$/.exec(ctx.params.file!);
  const job = m ? jobs.jobs.get(m[1]!) : undefined;
  if (!m || !job || !jobs.isReady(job)) return ctx.sendJson(404, { error: 'Not Found' });
  const head = ctx.method === 'HEAD';
  if (m[2] === 'png') {
    const png = thumbnailPng();
    if (head) return ctx.sendHeaders(200, { 'content-type': 'image/png', 'content-length': String(png.length) });
    return ctx.send(200, { 'content-type': 'image/png' }, png);
  }

  const size = job.videoBytes;
  const common = {
    'content-type': 'video/mp4',
    'accept-ranges': 'bytes',
    etag: `"${job.pid}-${size}"`,
    'last-modified': new Date(job.createdAt + job.renderMs).toUTCString(),
    'cache-control': 'public, max-age=31536000, immutable',
  };
  const range = parseRange(ctx.header('range'), size);
  if (range === 'unsatisfiable') {
    return ctx.send(416, { 'content-type': 'text/plain; charset=utf-8', 'content-range': `bytes */${size}` }, 'Range Not Satisfiable');
  }
  const [status, start, end] = range ? [206, range.start, range.end] : [200, 0, size - 1];
  const headers: Record<string, string> = range ? { ...common, 'content-range': `bytes ${start}-${end}/${size}` } : { ...common };
  const length = end - start + 1;
  if (head) return ctx.sendHeaders(status, { ...headers, 'content-length': String(length) });
  await ctx.sendStream(status, headers, length, mediaBytes(job.pid, start, end));
}

const Settings = z
  .object({
    renderMs: z.number().int().min(0).max(3_600_000).optional(),
    videoBytes: z.number().int().min(1).max(MAX_VIDEO_BYTES).optional(),
    failNext: z.number().int().min(0).optional(),
    failStatus: z.enum(['error', 'FAILED']).optional(),
    failMessage: z.string().min(1).optional(),
    webhookMode: z.enum(WEBHOOK_MODES).optional(),
    apiKeys: z.array(z.string().min(1)).min(1).nullable().optional(),
  })
  .strict();

const CreateJob = z
  .object({
    videoBytes: z.number().int().min(1).max(MAX_VIDEO_BYTES).optional(),
    renderMs: z.number().int().min(0).max(3_600_000).default(0),
    inputText: z.string().min(1).default('A video made through the control API.'),
  })
  .strict();

function jobSummary(jobs: RevidJobs, job: RevidJob) {
  return {
    ...jobs.status(job),
    videoBytes: job.videoBytes,
    renderMs: job.renderMs,
    webhookMode: job.webhookMode,
    hasWebhook: job.webhookUrl !== null,
    creationParams: job.creationParams,
    resolution: job.resolution,
    frameRate: job.frameRate,
  };
}

function settingsView(jobs: RevidJobs) {
  const { apiKeys, ...rest } = jobs.settings;
  return { ...rest, apiKeysRestricted: apiKeys !== null };
}

function registerControl(router: Router, jobs: RevidJobs) {
  router.get('/_control/revid/settings', (ctx) => ctx.sendJson(200, settingsView(jobs)));
  router.post('/_control/revid/settings', (ctx) => {
    const body = parseJson(ctx, Settings);
    if (!body) return;
    const defined = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    jobs.settings = { ...jobs.settings, ...defined };
    ctx.sendJson(200, settingsView(jobs));
  });

  router.get('/_control/revid/jobs', (ctx) => ctx.sendJson(200, { jobs: [...jobs.jobs.values()].map((j) => jobSummary(jobs, j)) }));
  router.post('/_control/revid/jobs', (ctx) => {
    const body = parseJson(ctx, CreateJob);
    if (!body) return;
    const job = jobs.create({
      creationParams: { inputText: body.inputText },
      webhookUrl: null,
      resolution: null,
      frameRate: null,
      origin: ctx.origin,
      renderMs: body.renderMs,
      videoBytes: body.videoBytes,
    });
    ctx.sendJson(201, jobSummary(jobs, job));
  });
  router.get('/_control/revid/jobs/:pid', (ctx) => {
    const job = jobs.jobs.get(ctx.params.pid!);
    if (!job) return ctx.sendJson(404, { error: `no job ${ctx.params.pid}` });
    ctx.sendJson(200, { ...jobSummary(jobs, job), webhooks: jobs.deliveries.filter((d) => d.pid === job.pid) });
  });
  router.post('/_control/revid/jobs/:pid/finish', (ctx) => {
    const job = jobs.jobs.get(ctx.params.pid!);
    if (!job) return ctx.sendJson(404, { error: `no job ${ctx.params.pid}` });
    jobs.finishNow(job);
    ctx.sendJson(200, jobSummary(jobs, job));
  });

  router.get('/_control/revid/webhooks', (ctx) => {
    const pid = ctx.query.get('pid');
    ctx.sendJson(200, { deliveries: jobs.deliveries.filter((d) => pid === null || d.pid === pid) });
  });

  router.get('/_control/revid/media/:pid/sha256', async (ctx) => {
    const job = jobs.jobs.get(ctx.params.pid!);
    if (!job) return ctx.sendJson(404, { error: `no job ${ctx.params.pid}` });
    ctx.sendJson(200, { pid: job.pid, size: job.videoBytes, sha256: await mediaSha256(job.pid, job.videoBytes) });
  });
}

export function revidService(): FakeService & { jobs: RevidJobs } {
  const jobs = new RevidJobs();
  return {
    name: 'revid',
    jobs,
    mounts: [{ prefix: '/revid', style: 'revid', label: 'RevID API' }],
    register(router) {
      router.post(`${API}/render`, (ctx) => render(ctx, jobs));
      router.get(`${API}/status`, (ctx) => status(ctx, jobs));
      router.post(`${API}/calculate-credits`, (ctx) => calculateCredits(ctx, jobs));
      router.get('/revid/media/:file', (ctx) => media(ctx, jobs));
      router.head('/revid/media/:file', (ctx) => media(ctx, jobs));
    },
    registerControl(router) {
      registerControl(router, jobs);
    },
    reset() {
      jobs.reset();
    },
    close() {
      jobs.stopTimers();
    },
  };
}
