// What one worker invocation may spend. Hosted edge functions end a request after 2 s of CPU
// (546) and cannot measure their own CPU (no process.cpuUsage on the hosted Deno), so work is
// counted in units whose CPU was measured (bench/upload-limits):
//   bytes   every byte of an upload is read from the render's URL and written to YouTube, both
//           over TLS: about 7.5 ms of CPU per MiB on Deno 2.1 (1.4 ms over plain HTTP);
//   a schedule taken up costs about as much as SCHEDULE_COST_BYTES of upload (claim, token,
//           session, status query, database writes: 10-20 ms).
// The default step, 32 MiB, is about 0.25 s of CPU at that rate. 64 MiB steps measured 0.4 to
// 0.76 s, and 96 MiB steps up to 2 s on a busy machine. Now and then V8 collects a heap that has
// nothing to give back again and again until the step is killed at 2 s whatever its size (the
// README's "garbage collection" finding); such a step costs one short lease (_shared/platform/lease-keeper.ts), and a
// smaller step is more likely to finish before it starts. A step of 32 MiB stays under the 1.5 s
// we allow ourselves of hosted's 2 s even at four times its usual cost. A wall-clock deadline caps
// the rest (a slow network spends wall time, not CPU).
import { UPLOAD_UNIT } from '../_shared/integrations/youtube/upload-client.ts';

export const MiB = 1024 * 1024;
/** Upload bytes per invocation (a multiple of 256 KiB). */
export const DEFAULT_STEP_BYTES = 32 * MiB;
/** What taking up one schedule counts for, in upload bytes. */
export const SCHEDULE_COST_BYTES = 3 * MiB;

export interface BudgetLimits {
  /** upload bytes plus SCHEDULE_COST_BYTES per schedule taken up */
  bytes: number;
  /** epoch ms after which no new chunk and no new schedule starts */
  deadline: number;
  scheduleCostBytes?: number;
}

export class StepBudget {
  private spent = 0;
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
    return this.scheduleCost === 0 ? Number.MAX_SAFE_INTEGER : Math.floor(this.left / this.scheduleCost);
  }

  takeSchedule(): void {
    this.spent += this.scheduleCost;
  }

  /**
   * The length of the next chunk from `from` of a `total`-byte file, at most `want`: the rest of
   * the file when it fits, otherwise whole 256 KiB units (YouTube's rule for all but the last
   * chunk). 0 when the step is spent; an upload that has sent nothing yet in this invocation
   * always gets one unit, so every step makes progress.
   */
  grant(from: number, total: number, want: number, progressed: boolean): number {
    const rest = total - from;
    const room = this.overTime ? 0 : Math.min(want, this.left);
    if (room >= rest) return rest;
    const units = Math.floor(room / UPLOAD_UNIT) * UPLOAD_UNIT;
    if (units > 0) return units;
    return progressed ? 0 : Math.min(rest, UPLOAD_UNIT);
  }

  spend(bytes: number): void {
    this.spent += bytes;
  }
}
