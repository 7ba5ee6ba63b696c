// The render poller, woken by pg_cron (private.wake_render_video_worker) when a job is due:
//   queued jobs             -> the next submission attempt (after backoff)
//   submitted / rendering   -> a status poll, when no news came for POLL_AFTER_NO_NEWS_SECONDS
//                              (a lost webhook), or after a failed poll (backoff)
//   past give_up_at         -> a last poll if RevID has the job, then failed with the reason
// Jobs are claimed with a lease (FOR UPDATE SKIP LOCKED), so overlapping runs never double up;
// a run that dies leaves its jobs to the next one once the lease ran out.
// One invocation handles at most MAX_JOBS_PER_INVOCATION jobs (hosted edge functions end a
// request after 2 s of CPU, and a submission or poll costs a few ms of CPU over TLS); a run that
// stopped at that bound while more jobs are due calls its successor at once
// (private.chain_render_video_worker) instead of leaving them to the next minute's tick.
import { asService } from '../_shared/platform/db.ts';
import { logSafe } from '../_shared/platform/observability/log-line.ts';
import {
  failJob,
  isFinal,
  JOB_COLUMNS,
  pollJob,
  RENDER_DEADLINE_MINUTES,
  submitAttempt,
  SUBMIT_LEASE_SECONDS,
  type JobRow,
} from '../_shared/domain/render-jobs.ts';

export const DEFAULT_TIME_BUDGET_MS = 25_000;
/** About 10 ms of CPU per job over TLS: 40 stay far below the 2 s a request may use. */
export const MAX_JOBS_PER_INVOCATION = 40;
const BATCH = 10;
const CONCURRENCY = 4;
/** Failed jobs named in the run's log line (the rest are counted); messages are short. */
const NAMED_FAILURES = 10;

export interface WorkerReport {
  claimed: number;
  submitted: number;
  submissions_rescheduled: number;
  polled: number;
  changed: number;
  poll_errors: number;
  failed: number;
  errors: number;
  /** successor invocations called (0 or 1) */
  chained: number;
}

async function claim(max: number, onlyJob: string | null): Promise<JobRow[]> {
  return await asService(
    (tx) => tx<JobRow[]>`
    select ${tx.unsafe(JOB_COLUMNS)} from private.claim_video_jobs(${max}, ${SUBMIT_LEASE_SECONDS}, ${onlyJob})`,
  );
}

function deadlineReason(job: JobRow): string {
  const last =
    job.status === 'queued'
      ? `RevID never accepted it (${job.attempts} submission attempt${job.attempts === 1 ? '' : 's'})`
      : `last known status: ${job.status}, ${job.progress}%`;
  return `no result from RevID within ${RENDER_DEADLINE_MINUTES} minutes (${last}${job.last_error ? `; last error: ${job.last_error}` : ''})`;
}

async function handle(job: JobRow, report: WorkerReport): Promise<void> {
  if (job.give_up_at.getTime() <= Date.now()) {
    if (job.provider_job_id) {
      const last = await pollJob(job);
      report.polled++;
      if (last.result === 'applied' && last.applied.changed) report.changed++;
      if (last.result === 'applied' && last.applied.status && isFinal(last.applied.status)) return;
      if (last.result === 'job_failed') {
        report.failed++;
        return;
      }
    }
    if (await failJob(job.id, deadlineReason(job))) report.failed++;
    return;
  }
  if (job.status === 'queued') {
    const outcome = await submitAttempt(job);
    if (outcome.result === 'submitted') report.submitted++;
    else if (outcome.result === 'retry_later') report.submissions_rescheduled++;
    else if (outcome.result === 'failed') report.failed++;
    return;
  }
  const outcome = await pollJob(job);
  report.polled++;
  if (outcome.result === 'applied' && outcome.applied.changed) report.changed++;
  else if (outcome.result === 'poll_failed') report.poll_errors++;
  else if (outcome.result === 'job_failed') report.failed++;
}

export async function runRenderWorker(opts: { jobId?: string; timeBudgetMs?: number; maxJobs?: number } = {}): Promise<WorkerReport> {
  const deadline = Date.now() + (opts.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS);
  const maxJobs = opts.maxJobs ?? MAX_JOBS_PER_INVOCATION;
  const report: WorkerReport = {
    claimed: 0,
    submitted: 0,
    submissions_rescheduled: 0,
    polled: 0,
    changed: 0,
    poll_errors: 0,
    failed: 0,
    errors: 0,
    chained: 0,
  };
  const seen = new Set<string>();
  const failures: { job_id: string; error: string }[] = [];
  let again = false;
  while (Date.now() < deadline && report.claimed < maxJobs) {
    const jobs = await claim(Math.min(BATCH, maxJobs - report.claimed), opts.jobId ?? null);
    if (jobs.length === 0) break;
    // A job past its deadline stays claimable; once one comes round again this run is done.
    again = jobs.some((j) => seen.has(j.id));
    jobs.forEach((j) => seen.add(j.id));
    report.claimed += jobs.length;
    const queue = [...jobs];
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          try {
            await handle(job, report);
          } catch (err) {
            // The job's lease runs out and the next run takes it again.
            report.errors++;
            if (failures.length < NAMED_FAILURES)
              failures.push({ job_id: job.id, error: logSafe(err instanceof Error ? err.message : String(err), 300) });
          }
        }
      }),
    );
    if (opts.jobId || again) break;
  }
  // One line for the run, not one per job: hosted keeps 100 log lines per 10 s of a function, and
  // an outage would fail every job of every chained run (40 each).
  if (report.errors > 0) {
    console.error(JSON.stringify({ level: 'error', msg: 'render worker: jobs failed to process', errors: report.errors, first: failures }));
  }
  // Stopped by its bound, not by running out of due jobs: the next invocation starts now.
  if (!opts.jobId && !again && (report.claimed >= maxJobs || Date.now() >= deadline)) {
    const [r] = await asService((tx) => tx<{ calls: number }[]>`select private.chain_render_video_worker() as calls`);
    report.chained = r.calls;
  }
  return report;
}
