// What one worker invocation may spend. Hosted edge functions end a worker once its CPU passes
// 2 s (546) and cannot measure their own CPU (no process.cpuUsage on the hosted Deno), so work is
// counted in units whose CPU was measured (bench/upload-limits):
//   bytes   every byte of an upload is read from the render's URL and written to YouTube, both
//           over TLS: about 2.9 ms of CPU per MiB on Deno 2.1 since the chunks go out in place
//           (upload-put-bytes.ts) and the reads keep one timer per fill (video-source.ts); a
//           64 MiB step took 0.55 times the CPU it took before (mean 326 against 562-611 ms,
//           measured alternately), so the units below are one and a half times what they were;
//   a schedule taken up costs about as much as SCHEDULE_COST_BYTES of upload (claim, token,
//           session, status query, database writes: 10-20 ms).
// A step is 96 MiB, about 0.4 s of CPU on a quiet machine and up to twice that on a busy one:
// every step pays a fixed cost (an isolate, a claim, a status query, a range request,
// connections), so fewer, larger steps finish an upload sooner than many small ones. Hosted
// counts CPU per worker, not per request (its supervisor compares the worker's CPU over all its
// requests with the hard limit, and retires it only once that reaches the soft limit), so a warm
// worker that did a step of 0.9 s has 1.1 s left: the isolate keeps a ledger of what its earlier
// invocations spent (module state) and an invocation gets only what the isolate has left of
// ISOLATE_BUDGET_BYTES. While every step stays under 1 s, an isolate that retires at the 1 s soft
// limit never passes 2 s; the ledger is the guard should steps cost more than measured or the
// soft limit be higher. It holds three and a half steps: with two, isolates still warm were cut
// to tiny steps (28 invocations for 500 MB), as they were again when the bytes got cheaper and
// the units had not followed (21 invocations). Steps of 112 MiB, at the old cost per byte,
// measured 0.9 to 2 s of CPU on a busy machine (bench/upload-limits), too close to the limit.
// A step that is killed anyway (546) is taken back within seconds (private.recover_upload_steps).
// Steps used to be killed by V8 collecting a heap with nothing to give back again and again, worst
// in steps of tens of seconds of wall time (the README's "garbage collection": its cause, BYOB
// reads into the chunk buffer, is gone), so no new chunk starts after UPLOAD_WALL_MS; a wall-clock
// deadline also caps the rest of the step (a slow network spends wall time, not CPU).
import { UPLOAD_UNIT } from '../_shared/integrations/youtube/upload-client.ts';

export const MiB = 1024 * 1024;
/** Upload bytes per invocation (a multiple of 256 KiB). */
export const DEFAULT_STEP_BYTES = 96 * MiB;
/** No new chunk of an upload starts this long after the step began. */
export const UPLOAD_WALL_MS = 10_000;
/** What one isolate may spend over all its invocations, in the same units (about 1.3 s of CPU at the measured mean). */
export const ISOLATE_BUDGET_BYTES = 336 * MiB;
/** What taking up one schedule counts for, in upload bytes. */
export const SCHEDULE_COST_BYTES = 4.5 * MiB;
/**
 * The part of a step that schedules taken up may use (about ten): a burst of due schedules is
 * spread over parallel chains of invocations (bench/upload-limits dispatch), sized when steps were
 * 32 MiB (in the units of then); larger steps are for the bytes of one long upload.
 */
export const SCHEDULE_SHARE_BYTES = 48 * MiB;

/** What this isolate spent in its earlier invocations, in budget units (one ledger per isolate). */
export class IsolateLedger {
  spent = 0;
  constructor(readonly limit: number) {}

  /**
   * What the next invocation may spend: `stepBytes`, or less in a warm isolate, but always one
   * schedule and one upload unit, so every call makes progress.
   */
  allowance(stepBytes: number, scheduleCost = SCHEDULE_COST_BYTES): number {
    return Math.max(scheduleCost + UPLOAD_UNIT, Math.min(stepBytes, this.limit - this.spent));
  }
}

/** Module state: what this isolate's worker invocations spent so far. */
export const thisIsolate = new IsolateLedger(ISOLATE_BUDGET_BYTES);

export interface BudgetLimits {
  /** upload bytes plus SCHEDULE_COST_BYTES per schedule taken up */
  bytes: number;
  /** epoch ms after which no new chunk and no new schedule starts */
  deadline: number;
  /** epoch ms after which no new chunk starts (schedules may still be taken up until `deadline`) */
  uploadDeadline?: number;
  scheduleCostBytes?: number;
  /** At most this much of `bytes` goes to schedules taken up (SCHEDULE_SHARE_BYTES by default). */
  scheduleShareBytes?: number;
  /** Also counts what is spent here against the isolate's ledger. */
  ledger?: IsolateLedger;
}

export class StepBudget {
  private spent = 0;
  private schedulesSpent = 0;
  private readonly scheduleCost: number;

  constructor(private readonly limits: BudgetLimits) {
    this.scheduleCost = limits.scheduleCostBytes ?? SCHEDULE_COST_BYTES;
  }

  /** A budget that never runs out (one-off runs outside a worker invocation). */
  static unlimited(): StepBudget {
    return new StepBudget({ bytes: Number.MAX_SAFE_INTEGER, deadline: Number.MAX_SAFE_INTEGER, scheduleCostBytes: 0 });
  }

  get left(): number {
    return Math.max(0, this.limits.bytes - this.spent);
  }

  get overTime(): boolean {
    return Date.now() >= this.limits.deadline;
  }

  /** How many more schedules fit (each costs its share before any byte is sent). */
  schedulesThatFit(): number {
    if (this.overTime) return 0;
    if (this.scheduleCost === 0) return Number.MAX_SAFE_INTEGER;
    const share = Math.max(0, (this.limits.scheduleShareBytes ?? SCHEDULE_SHARE_BYTES) - this.schedulesSpent);
    return Math.floor(Math.min(this.left, share) / this.scheduleCost);
  }

  takeSchedule(): void {
    this.schedulesSpent += this.scheduleCost;
    this.spend(this.scheduleCost);
  }

  /**
   * The length of the next chunk from `from` of a `total`-byte file, at most `want`: the rest of
   * the file when it fits, otherwise whole 256 KiB units (YouTube's rule for all but the last
   * chunk). 0 when the step is spent; an upload that has sent nothing yet in this invocation
   * always gets one unit, so every step makes progress.
   */
  grant(from: number, total: number, want: number, progressed: boolean): number {
    const rest = total - from;
    const late = this.overTime || Date.now() >= (this.limits.uploadDeadline ?? Number.MAX_SAFE_INTEGER);
    const room = late ? 0 : Math.min(want, this.left);
    if (room >= rest) return rest;
    const units = Math.floor(room / UPLOAD_UNIT) * UPLOAD_UNIT;
    if (units > 0) return units;
    return progressed ? 0 : Math.min(rest, UPLOAD_UNIT);
  }

  spend(units: number): void {
    this.spent += units;
    if (this.limits.ledger) this.limits.ledger.spent += units;
  }
}
