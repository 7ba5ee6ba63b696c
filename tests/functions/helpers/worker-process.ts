// Starts schedule-worker-process.ts (one already-claimed schedule processed in a Deno process of
// its own), so a test can kill that worker or run a step outside the edge runtime.
import { helperCommand } from './process.ts';

export function workerProcess(scheduleId: string, workerId: string, options: Record<string, unknown>): Deno.ChildProcess {
  return helperCommand('schedule-worker-process.ts', [scheduleId, workerId, JSON.stringify(options)], { stderr: 'piped' }).spawn();
}
