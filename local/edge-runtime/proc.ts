// What the runtime reads of an isolate process from /proc (Linux). CPU is the main thread's, in
// nanoseconds from schedstat: hosted counts the isolate's thread, not V8's helper threads, and
// clock-tick figures (10 ms) are too coarse for requests of a few milliseconds.
import { readFileSync, writeFileSync } from 'node:fs';

export function threadCpuMs(pid: number): number {
  try {
    const ns = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const rssMb = (pid: number) => statusField(pid, 'VmRSS');
export const peakRssMb = (pid: number) => statusField(pid, 'VmHWM');

/** Resets the peak (VmHWM) so that the next reading is the peak of one request alone. */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not permitted (another user's process): the peak then spans the isolate's life, an
    // over-estimate, never an under-estimate.
  }
}
