// The worker entry (POST /schedules/worker, woken by pg_cron through pg_net when something is due
// within the minute). It claims due schedules (FOR UPDATE SKIP LOCKED, with a lease) and runs up
// to `concurrency` of them at once. Rows due later within its claim budget are waited for, so a
// schedule starts within seconds of its time although pg_cron ticks once a minute. After the
// claim budget no new row is taken; uploads still running stop at a chunk boundary once the time
// budget is used up and the next worker, woken at once, resumes them from the saved session.
// Several workers may run at the same time: each claims different rows.
import type { RetryPolicy } from '../_shared/clients/youtube.ts';
import { logEvent } from '../_shared/youtube/log.ts';
import { ChannelClients, processSchedule, type ScheduleOutcome } from './engine.ts';
import { DEFAULT_CHUNK_BYTES } from './plan.ts';
import { claimSchedules, nextDueAt, wakeNextWorker } from './store.ts';
import type { UploadHooks } from './upload-run.ts';

/** Hosted edge functions get about 150 s of wall clock (400 s on paid plans). */
export const DEFAULT_CLAIM_BUDGET_MS = 55_000;
export const DEFAULT_TIME_BUDGET_MS = 110_000;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_LEASE_SECONDS = 180;
/** A sleeping worker looks for new due rows at least this often. */
const POLL_MS = 2_000;

export interface WorkerOptions {
  workerId?: string;
  /** Only this schedule, if it is due; no waiting for others. */
  scheduleId?: string | null;
  claimBudgetMs?: number;
  timeBudgetMs?: number;
  concurrency?: number;
  leaseSeconds?: number;
  chunkBytes?: number;
  retry?: RetryPolicy;
  hooks?: UploadHooks;
  /** false: nothing claimed after the first empty claim (tests, operators). */
  waitForDue?: boolean;
}

export interface WorkerReport {
  worker: string;
  schedules: ScheduleOutcome[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export async function runWorker(opts: WorkerOptions = {}): Promise<WorkerReport> {
  const workerId = opts.workerId ?? `schedules:${crypto.randomUUID()}`;
  const started = Date.now();
  const claimUntil = started + (opts.claimBudgetMs ?? DEFAULT_CLAIM_BUDGET_MS);
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const leaseSeconds = opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const only = opts.scheduleId ?? null;
  const waitForDue = opts.waitForDue ?? only === null;
  const engine = {
    workerId,
    leaseSeconds,
    deadline: started + (opts.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS),
    chunkBytes: opts.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    retry: opts.retry,
    hooks: opts.hooks,
  };
  const clients = new ChannelClients(opts.retry);
  const outcomes: ScheduleOutcome[] = [];
  const running = new Set<Promise<void>>();

  const start = (row: Parameters<typeof processSchedule>[0]) => {
    const p: Promise<void> = processSchedule(row, engine, clients)
      .then((o) => void outcomes.push(o))
      .catch((err) => {
        // processSchedule handles its own failures; this is a bug or the database going away.
        logEvent('error', 'upload_worker_crashed', { schedule_id: row.id, message: err instanceof Error ? err.message : String(err) });
        outcomes.push({ schedule_id: row.id, result: 'lease_lost', status: row.status, message: 'the worker failed; the lease runs out and another worker resumes it' });
      })
      .finally(() => running.delete(p));
    running.add(p);
  };

  while (Date.now() < claimUntil) {
    const room = concurrency - running.size;
    let claimedAll = false;
    if (room > 0) {
      const rows = await claimSchedules(workerId, room, leaseSeconds, only);
      rows.forEach(start);
      claimedAll = rows.length === room;
      if (only) break;
    }
    if (claimedAll) continue;
    if (!waitForDue) {
      if (running.size === 0) break;
      await Promise.race(running);
      continue;
    }
    // Nothing more due now: sleep until a slot frees, the next row is due, or the next poll.
    const due = room > 0 ? await nextDueAt() : null;
    const dueMs = due ? due.getTime() : Infinity;
    if (running.size === 0 && dueMs >= claimUntil) break;
    const wakeAt = Math.min(claimUntil, Date.now() + POLL_MS, dueMs);
    await Promise.race([sleep(wakeAt - Date.now()), ...running]);
  }
  await Promise.all(running);

  // Work left over (paused uploads, or rows that became due meanwhile): the next worker starts
  // now rather than at the next minute's tick. A call for one schedule leaves the rest alone.
  // Only a worker that got something done wakes another, so an oddity can never chain wake-ups.
  if (!only && outcomes.length > 0) {
    const next = await nextDueAt();
    if (outcomes.some((o) => o.result === 'yielded') || (next !== null && next.getTime() <= Date.now() + 1_000)) await wakeNextWorker();
  }
  return { worker: workerId, schedules: outcomes };
}
