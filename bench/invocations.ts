// What each function invocation cost (CPU ms, peak RSS), for benchmarks that check the hosted
// limits. Preferred source: the local edge runtime's `GET <functions URL>/_runtime/invocations`
// (one process per function instance, measured per request). Where the functions server does
// not offer it (the single-process server), the figures are estimated from /proc: the server's
// main-thread CPU and RSS are sampled every 10 ms, and each sample's CPU is shared among the
// invocations running at that moment (windows from ops.api_calls: finish time and duration).
// That is exact for invocations that run one at a time and an even split otherwise; the RSS is
// the whole server's (every function's modules), an over-estimate.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type postgres from 'postgres';

export interface Invocation {
  fn: string;
  path: string;
  status: number;
  cpu_ms: number;
  peak_rss_mb: number;
  wall_ms: number;
  limit: string | null;
  at: string;
}

interface Sample {
  t: number;
  cpuMs: number;
  rssMb: number;
}

function listeningPid(port: number): number | null {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function readSample(pid: number): Sample | null {
  try {
    const cpuNs = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { t: Date.now(), cpuMs: cpuNs / 1e6, rssMb: rss ? Number(rss[1]) / 1024 : NaN };
  } catch {
    return null;
  }
}

export interface InvocationMeter {
  source: 'runtime' | 'proc-estimate';
  /** Invocations of `fn` since the meter started. */
  collect(fn: string, sql: postgres.Sql): Promise<Invocation[]>;
  stop(): void;
}

/** Starts measuring; `functionsUrl` is the functions server behind the gateway. */
export async function startMeter(functionsUrl: string): Promise<InvocationMeter> {
  const runtime = await fetch(`${functionsUrl}/_runtime/invocations?since=0`).catch(() => null);
  if (runtime?.ok) {
    const { next } = await runtime.json() as { next: number };
    return {
      source: 'runtime',
      async collect(fn) {
        const res = await fetch(`${functionsUrl}/_runtime/invocations?since=${next}`);
        const body = await res.json() as { invocations: Invocation[] };
        return body.invocations.filter((i) => i.fn === fn);
      },
      stop() {},
    };
  }
  await runtime?.body?.cancel();
  return procMeter(functionsUrl);
}

function procMeter(functionsUrl: string): InvocationMeter {
  const pid = listeningPid(Number(new URL(functionsUrl).port));
  if (!pid) throw new Error(`no process listens at ${functionsUrl}`);
  const samples: Sample[] = [];
  const started = new Date();
  const timer = setInterval(() => {
    const s = readSample(pid);
    if (s) samples.push(s);
  }, 10);
  return {
    source: 'proc-estimate',
    async collect(fn, sql) {
      await new Promise((r) => setTimeout(r, 300)); // api_calls are written in batches
      const calls = await sql<{ at: Date; duration_ms: number; status: number; endpoint: string; function_name: string }[]>`
        select at, duration_ms, status, endpoint, function_name from ops.api_calls where at >= ${started} order by at`;
      const windows = calls.map((c) => ({ ...c, end: c.at.getTime(), start: c.at.getTime() - c.duration_ms }));
      return windows.filter((w) => w.function_name === fn).map((w) => attribute(w, windows, samples));
    },
    stop: () => clearInterval(timer),
  };
}

/** The CPU of the samples inside `w`, each shared by the invocations running then; the peak RSS then. */
function attribute(
  w: { start: number; end: number; status: number; endpoint: string; function_name: string; duration_ms: number },
  all: { start: number; end: number }[],
  samples: Sample[],
): Invocation {
  let cpu = 0;
  let rss = 0;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i];
    if (s.t < w.start || s.t > w.end + 10) continue;
    const running = all.filter((o) => s.t >= o.start && s.t <= o.end + 10).length;
    cpu += (s.cpuMs - samples[i - 1].cpuMs) / Math.max(1, running);
    rss = Math.max(rss, s.rssMb);
  }
  return {
    fn: w.function_name, path: w.endpoint, status: w.status, cpu_ms: Math.round(cpu * 10) / 10,
    peak_rss_mb: Math.round(rss * 10) / 10, wall_ms: w.duration_ms, limit: w.status === 546 ? 'unknown' : null, at: new Date(w.end).toISOString(),
  };
}
