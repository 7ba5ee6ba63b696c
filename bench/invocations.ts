// What one function invocation cost (CPU ms, peak RSS, wall), for benchmarks that check work
// against the hosted Edge Functions limits. The strict local runtime reports every invocation at
// GET <functions server>/_runtime/invocations?since=<seq>; a functions server without that
// endpoint (one Deno process serving every function) is measured from /proc instead: the CPU of
// its main thread (schedstat, as hosted counts the isolate's thread) and its peak RSS (VmHWM,
// reset before each operation), across the whole operation, so only one operation may run at a
// time and everything else that calls functions (pg_cron) should be paused.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface Invocation {
  fn: string;
  method: string;
  path: string;
  status: number;
  cpu_ms: number;
  peak_rss_mb: number;
  wall_ms: number;
  limit: string | null;
}

export interface Meter {
  /** "runtime": per invocation from the runtime; "proc": one figure per operation from /proc. */
  readonly source: 'runtime' | 'proc';
  /** Runs `op` and returns what the functions did while it ran (it must wait for all of it). */
  measure(label: string, op: () => Promise<{ status: number; bytes?: number }>): Promise<Invocation[]>;
}

export async function openMeter(functionsUrl: string): Promise<Meter> {
  const probe = await fetch(`${functionsUrl}/_runtime/invocations?since=0`).catch(() => null);
  if (probe?.ok) {
    const body = await probe.json();
    if (typeof body?.next === 'number') return runtimeMeter(functionsUrl);
  } else {
    await probe?.body?.cancel();
  }
  return procMeter(listeningPid(Number(new URL(functionsUrl).port)));
}

function runtimeMeter(functionsUrl: string): Meter {
  const read = async (since: number) => {
    const res = await fetch(`${functionsUrl}/_runtime/invocations?since=${since}`);
    if (!res.ok) throw new Error(`invocations endpoint answered ${res.status}`);
    return (await res.json()) as { next: number; invocations: Invocation[] };
  };
  return {
    source: 'runtime',
    async measure(_label, op) {
      const { next: start } = await read(Number.MAX_SAFE_INTEGER);
      await op();
      // The runtime records an invocation when its response has ended; give it a moment.
      await new Promise((r) => setTimeout(r, 200));
      return (await read(start)).invocations;
    },
  };
}

function procMeter(pid: number): Meter {
  return {
    source: 'proc',
    async measure(label, op) {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const cpu0 = threadCpuMs(pid);
      const t0 = performance.now();
      const { status } = await op();
      const wall = performance.now() - t0;
      // Work the response started after its end (tracking's batched writes) belongs to it too.
      await new Promise((r) => setTimeout(r, 100));
      return [{
        fn: label,
        method: '',
        path: '',
        status,
        cpu_ms: Math.round((threadCpuMs(pid) - cpu0) * 10) / 10,
        peak_rss_mb: Math.round(statusMb(pid, 'VmHWM') * 10) / 10,
        wall_ms: Math.round(wall),
        limit: null,
      }];
    },
  };
}

function threadCpuMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

export function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** The process listening on a local TCP port (ss from iproute2). */
function listeningPid(port: number): number {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const match = /pid=(\d+)/.exec(out);
  if (!match) throw new Error(`no process listens on port ${port}`);
  return Number(match[1]);
}
