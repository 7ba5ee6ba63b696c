// What a benchmark's Deno process reads about itself from /proc: the figures the edge runtime
// judges an isolate by (local/edge-runtime/proc.ts reads the same ones from outside).

/** CPU of the main thread so far, in ms: what hosted counts against a request. */
export function mainThreadCpuMs(): number {
  return Number(Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/schedstat`).split(' ')[0]) / 1e6;
}

/** CPU of every thread of this process so far, in ms (user + system, at clock-tick resolution). */
export function allThreadsCpuMs(): number {
  const stat = Deno.readTextFileSync('/proc/self/stat');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** A `/proc/self/status` memory field (VmRSS, VmHWM, ...) in kB; NaN when absent. */
export function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(Deno.readTextFileSync('/proc/self/status'));
  return m ? Number(m[1]) : NaN;
}
