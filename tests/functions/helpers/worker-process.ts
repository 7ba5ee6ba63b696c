// Starts schedule-worker-process.ts (one already-claimed schedule processed in a Deno process of
// its own), so a test can kill that worker or run a step outside the edge runtime.
const WORKER_PROCESS = new URL('./schedule-worker-process.ts', import.meta.url).pathname;
const CONFIG = new URL('../../../supabase/functions/deno.json', import.meta.url).pathname;

export function workerProcess(scheduleId: string, workerId: string, options: Record<string, unknown>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ['run', '-A', '--config', CONFIG, WORKER_PROCESS, scheduleId, workerId, JSON.stringify(options)],
    stdout: 'piped',
    stderr: 'piped',
    env: Deno.env.toObject(),
  }).spawn();
}
