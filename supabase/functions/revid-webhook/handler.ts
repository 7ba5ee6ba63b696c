// revid-webhook: RevID's completion call (no user JWT; verify_jwt = false in config.toml).
//   POST /?job=<job id>&secret=<per-job secret>   body: whatever RevID sends about the render
// The URL is the one render-video gave RevID for this job's current submission attempt. A
// missing or wrong secret (or an unknown job) is a 401 and changes nothing; the secret's sha256
// is compared in constant time. RevID documents neither the payload nor retries, so the body is a
// hint: the status is confirmed with RevID's status call when it answers, and only moves the job
// forward (duplicate or out-of-order deliveries change nothing; a late "rendering" never
// downgrades "ready"). Answers 200 { received, changed, status } once the delivery is handled.
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, readJson, Router } from '../_shared/platform/http.ts';
import { asService } from '../_shared/platform/db.ts';
import { RevidError, readStatus, renderStatus, type StatusReport } from '../_shared/integrations/revid/client.ts';
import { applyReport, isFinal, loadJob, webhookSecretMatches } from '../_shared/domain/render-jobs.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SECRET_CHARS = 200;
const MAX_PAYLOAD_BYTES = 64 * 1024;
// The confirmation must not keep RevID's delivery waiting; without it the payload is used.
const CONFIRM_TIMEOUT_MS = 4_000;

function rejected() {
  return new HttpError(401, 'unauthorized', 'unknown job or wrong webhook secret');
}

async function confirm(pid: string): Promise<StatusReport | null> {
  try {
    return await renderStatus(pid, CONFIRM_TIMEOUT_MS);
  } catch (err) {
    if (!(err instanceof RevidError)) throw err;
    return null;
  }
}

export const router = new Router('revid-webhook').on('POST', '/', async (ctx) => {
  const jobId = ctx.url.searchParams.get('job') ?? '';
  const secret = ctx.url.searchParams.get('secret') ?? '';
  if (!UUID.test(jobId) || secret === '' || secret.length > MAX_SECRET_CHARS) throw rejected();
  if (!(await webhookSecretMatches(jobId, secret))) throw rejected();

  let payload: unknown;
  try {
    payload = await readJson(ctx.req, MAX_PAYLOAD_BYTES);
  } catch (err) {
    if (err instanceof HttpError && err.status === 413) throw err;
    payload = undefined;
  }
  const job = await asService((tx) => loadJob(tx, jobId));
  if (!job) throw rejected();
  if (isFinal(job.status)) return json({ received: true, changed: false, status: job.status });

  const hint = readStatus(payload);
  // A payload about another render than this job's is not trusted for anything.
  if (hint?.pid && job.provider_job_id && hint.pid !== job.provider_job_id) {
    return json({ received: true, changed: false, status: job.status });
  }
  const pid = job.provider_job_id ?? hint?.pid ?? null;
  const confirmed = pid ? await confirm(pid) : null;
  const report = confirmed ? { ...confirmed, pid: confirmed.pid ?? pid } : hint;
  if (!report) {
    // Nothing usable: have the poller look now rather than after the no-news interval.
    await asService(
      (tx) => tx`
      update public.video_jobs set next_attempt_at = now()
      where id = ${jobId} and status in ('submitted', 'rendering')`,
    );
    return json({ received: true, changed: false, status: job.status });
  }
  const applied = await applyReport(jobId, 'webhook', report);
  return json({ received: true, changed: applied.changed, status: applied.status });
});

export default createHandler(router);
