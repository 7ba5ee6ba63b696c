// The worker entry (POST /schedules/worker, called by pg_cron through pg_net when something is due
// within the minute, by a paused upload for its next step, and by a worker for its successor).
// One invocation is one bounded step, sized to hosted limits (2 s of CPU per request, which the
// function cannot measure itself; see budget.ts):
//   1. with nothing due yet it waits (wall clock, no CPU) for the first row due within its claim
//      window, so a schedule starts within seconds of its time although pg_cron ticks once a minute;
//   2. it claims due schedules (FOR UPDATE SKIP LOCKED, with a lease) while its step budget has
//      room for them, running up to `concurrency` at once; uploads take bytes from the same
//      budget chunk by chunk;
//   3. an upload whose step is spent pauses at a chunk boundary: the confirmed offset is saved and
//      its next step called, in one transaction (private.pause_upload);
//   4. with budget left it waits for the next due row (1); once the budget is spent, and more is
//      due, it calls one successor (private.chain_upload_worker) and answers.
// One call waits at most DEFAULT_WAIT_MS, not its whole claim window: pg_net (hosted 0.20, and the
// local worker) sends a batch of queued calls and sends nothing more, nor writes any answer, until
// every call of the batch has answered. A call that waited out a 55 s window held back everything
// queued behind it that long: the next step of a paused upload, another function's chained step,
// the failed answer a killed step is taken back from. So a call whose wait ends while its window
// lasts and something is due within it hands the rest of the window to a successor
// (`wait_until`, never later than the first call's window); pg_cron's next tick starts the next.
// A step whose invocation the runtime killed (546) is taken back by a waiting worker as soon as
// pg_net holds the failed answer (private.recover_upload_steps), not after its lease: the call a
// paused upload made for its next step, or the call that woke the worker holding the row (each
// names the worker id it runs under, body.worker_id).
// A call for one schedule (schedule_id) runs only that one, if it is due. Several workers may
// run at the same time: each claims different rows.
import type { InvocationEvents } from '../_shared/integrations/youtube/event-log.ts';
import type { RetryPolicy } from '../_shared/integrations/youtube/http-retry.ts';
import { keepLease } from '../_shared/platform/lease-keeper.ts';
import { DEFAULT_STEP_BYTES, StepBudget, thisIsolate, UPLOAD_WALL_MS } from './budget.ts';
import { ChannelClients } from './channel-clients.ts';
import type { EngineOptions, Handover, ScheduleOutcome } from './context.ts';
import { processSchedule } from './engine.ts';
import { DEFAULT_CHUNK_BYTES } from './plan.ts';
import { logStep, stepSummary } from './step-log.ts';
import { chainWorker, claimSchedules, nextDueAt, recoverFailedSteps, renewLease, type ScheduleRow } from './store.ts';
import type { UploadHooks } from './upload-run.ts';

/** How long a woken worker and its successors wait for due rows: until pg_cron's next tick. */
export const DEFAULT_CLAIM_BUDGET_MS = 55_000;
/**
 * How long one call waits before it answers and hands the rest of its window to a successor:
 * whatever pg_net queued behind it waits this long at most (the header says why).
 */
export const DEFAULT_WAIT_MS = 5_000;
/** Wall clock for the work of one step, from its first claim (a slow network costs wall time, not CPU). */
export const DEFAULT_TIME_BUDGET_MS = 60_000;
export const DEFAULT_CONCURRENCY = 8;
/** Renewed every quarter while the worker works on the row (_shared/platform/lease-keeper.ts); a dead step frees it within this. */
export const DEFAULT_LEASE_SECONDS = 40;
/** A waiting worker looks for new due rows at least this often. */
const POLL_MS = 2_000;

export interface WorkerOptions {
  workerId?: string;
  /** Only this schedule, if it is due; no waiting for others. */
  scheduleId?: string | null;
  /** The claim window, from now: this call and its successors wait for rows due within it. */
  claimBudgetMs?: number;
  /** Epoch ms: the end of the window a predecessor handed on (it never lengthens the window). */
  waitUntil?: number;
  /** How long this call waits before handing the wait on. */
  waitMs?: number;
  timeBudgetMs?: number;
  concurrency?: number;
  leaseSeconds?: number;
  chunkBytes?: number;
  /** Upload bytes (and schedules, see budget.ts) this invocation may spend. */
  stepBytes?: number;
  /** The options a paused upload's next step is called with. */
  nextCall?: Record<string, unknown>;
  /** A paused upload's next step: what YouTube confirmed when the step before paused. */
  handover?: Handover;
  retry?: RetryPolicy;
  hooks?: UploadHooks;
  /** false: nothing claimed after the first empty claim (tests, operators). */
  waitForDue?: boolean;
}

export interface WorkerReport {
  worker: string;
  schedules: ScheduleOutcome[];
  /** upload bytes sent in this invocation */
  bytes_sent: number;
  /** successor workers called (0 or 1; paused uploads call their own next step) */
  chained: number;
}

/** Lease renewals that failed in this invocation, and the first one's message. */
type LeaseProblems = Pick<InvocationEvents, 'leaseRenewalsFailed' | 'leaseError'>;

const bytesSent = (outcomes: ScheduleOutcome[]) => outcomes.reduce((n, o) => n + (o.bytes_sent ?? 0), 0);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Waits until a row is due; false when none is due within the window, or once this call's wait
 * is over (a successor waits for the rest, see runWorker). Each look first takes back uploads
 * whose step the runtime killed (store.recoverFailedSteps), so they resume within a poll.
 */
async function waitForDueRow(times: { waitEnd: number; windowEnd: number }): Promise<boolean> {
  for (;;) {
    if ((await recoverFailedSteps()) > 0) return true;
    const due = await nextDueAt();
    const dueMs = due ? due.getTime() : Infinity;
    if (dueMs <= Date.now()) return true;
    // Until its wait is over even when the row is due later: a call that handed on at once
    // would make its successors a tight loop of calls.
    if (dueMs >= times.windowEnd || Date.now() >= times.waitEnd) return false;
    await sleep(Math.min(dueMs, times.waitEnd, Date.now() + POLL_MS) - Date.now());
  }
}

/**
 * Claims due rows while the budget has room and runs them, until nothing more is due or fits.
 * Returns how many rows it claimed.
 */
async function claimAndRun(
  opts: { concurrency: number; leaseSeconds: number; only: string | null },
  engine: EngineOptions & { budget: StepBudget },
  clients: ChannelClients,
  outcomes: ScheduleOutcome[],
  problems: LeaseProblems,
): Promise<number> {
  const running = new Set<Promise<void>>();
  const start = (row: ScheduleRow) => {
    const lease = keepLease(
      opts.leaseSeconds,
      () => renewLease(row.id, engine.workerId, opts.leaseSeconds),
      (err) => {
        problems.leaseRenewalsFailed++;
        problems.leaseError ??= `schedule ${row.id}: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
    const p: Promise<void> = processSchedule(row, engine, clients)
      .finally(() => lease.stop())
      .then((o) => void outcomes.push(o))
      .catch((err) => {
        // processSchedule handles its own failures; this is a bug or the database going away
        // (named in the invocation's log line, step-log.ts).
        outcomes.push({
          schedule_id: row.id,
          result: 'lease_lost',
          status: row.status,
          message: `the worker failed (${err instanceof Error ? err.message : String(err)}); the lease runs out and another worker resumes it`,
        });
      })
      .finally(() => running.delete(p));
    running.add(p);
  };
  let claimedOnce = false;
  let claimed = 0;
  for (;;) {
    const room = Math.min(opts.concurrency - running.size, engine.budget.schedulesThatFit());
    if (room > 0 && !(opts.only && claimedOnce)) {
      const rows = await claimSchedules(engine.workerId, room, opts.leaseSeconds, opts.only);
      claimedOnce = true;
      claimed += rows.length;
      for (const row of rows) {
        engine.budget.takeSchedule();
        start(row);
      }
      if (rows.length === room && !opts.only) continue;
    }
    if (running.size === 0) return claimed;
    await Promise.race(running);
  }
}

export async function runWorker(opts: WorkerOptions = {}): Promise<WorkerReport> {
  const workerId = opts.workerId ?? `schedules:${crypto.randomUUID()}`;
  const started = Date.now();
  const times = waitingTimes(opts, started);
  const { windowEnd, waitEnd } = times;
  const only = opts.scheduleId ?? null;
  const waitForDue = (opts.waitForDue ?? true) && only === null;
  const stepBytes = opts.stepBytes ?? DEFAULT_STEP_BYTES;
  const outcomes: ScheduleOutcome[] = [];
  const problems: LeaseProblems = { leaseRenewalsFailed: 0 };
  let budget: StepBudget | null = null;
  const clients = new ChannelClients(opts.retry);

  let chained = 0;
  try {
    while (!waitForDue || (await waitForDueRow(times))) {
      // The step's clock starts at its first claim: waiting for a due row costs no CPU.
      // What this isolate's earlier invocations spent counts too: hosted counts CPU per worker.
      budget ??= new StepBudget({
        bytes: thisIsolate.allowance(stepBytes),
        deadline: Date.now() + (opts.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS),
        // A caller's time_budget_ms replaces both wall-clock caps.
        uploadDeadline: Date.now() + (opts.timeBudgetMs ?? UPLOAD_WALL_MS),
        ledger: thisIsolate,
      });
      const engine = {
        workerId,
        leaseSeconds: opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
        chunkBytes: opts.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        budget,
        nextCall: opts.nextCall,
        handover: only ? opts.handover : undefined,
        retry: opts.retry,
        hooks: opts.hooks,
      };
      const claimed = await claimAndRun(
        { concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY, leaseSeconds: engine.leaseSeconds, only },
        engine,
        clients,
        outcomes,
        problems,
      );
      // An upload that yielded spent this step (bytes, or its wall clock) and called its own next
      // step: claiming it again here would run it in tiny steps in this same invocation.
      if (!waitForDue || budget.schedulesThatFit() === 0 || outcomes.some((o) => o.result === 'yielded')) break;
      // Due but not claimable (another worker's claim holds it this instant): look again shortly,
      // but not long past this call's wait, which would hold back pg_net's queue as a long wait
      // does. A poll's worth even when the wait is over, so a successor called after its window
      // (whose chain ends if it gets nothing done) does not give up on a moment's contention.
      if (claimed === 0) {
        if (Date.now() >= Math.max(waitEnd, started + POLL_MS)) break;
        await sleep(POLL_MS / 4);
      }
    }

    // A successor, now rather than at the next minute's tick: more was due than this step could
    // take, or this call's wait ended while its window lasts. A worker that got nothing done calls
    // one only within the window, which a successor inherits and never lengthens, so an oddity
    // cannot chain calls forever.
    // Whole seconds left of the window: rounded up after work (rows due now count), down for a
    // call that only waited, so it hands on only for rows due within the window.
    const left = (windowEnd - Date.now()) / 1000;
    const horizon = outcomes.length > 0 ? Math.max(1, Math.ceil(left)) : Math.floor(left);
    if (!only && (outcomes.length > 0 || (waitForDue && horizon >= 1))) {
      const paused = outcomes.filter((o) => o.result === 'yielded').map((o) => o.schedule_id);
      chained = await chainWorker(horizon, paused, windowEnd);
    }
  } finally {
    // Also when a claim or the successor's call failed: what this invocation did is said once.
    if (outcomes.length > 0 || problems.leaseRenewalsFailed > 0) {
      const totals = { bytesSent: bytesSent(outcomes), chained, ms: Date.now() - started };
      const { tokensRefreshed, reauthChannels } = clients.tokenEvents;
      logStep(stepSummary(workerId, outcomes, totals, { ...problems, tokensRefreshed, reauthChannels }));
    }
  }
  return { worker: workerId, schedules: outcomes, bytes_sent: bytesSent(outcomes), chained };
}

/**
 * The end of the window this call and its successors wait within (the caller's claim budget, or
 * what is left of a predecessor's window), and the end of this call's own wait.
 */
export function waitingTimes(opts: Pick<WorkerOptions, 'claimBudgetMs' | 'waitUntil' | 'waitMs'>, now: number) {
  const windowEnd = Math.min(now + (opts.claimBudgetMs ?? DEFAULT_CLAIM_BUDGET_MS), opts.waitUntil ?? Infinity);
  return { windowEnd, waitEnd: Math.min(windowEnd, now + (opts.waitMs ?? DEFAULT_WAIT_MS)) };
}
