// Per-invocation CPU and memory of edge functions, for benchmarks that must show every request
// fits the hosted limits. The strict local runtime reports them at
// `GET <LOCAL_FUNCTIONS_URL>/_runtime/invocations?since=<seq>`; where that route is missing (the
// single-process functions server), a measuring proxy stands in: requests sent through it are
// measured from /proc of the functions process (CPU = utime + stime delta, peak RSS = VmHWM after
// resetting it with clear_refs). The proxy's figures are for the whole process, so a request that
// overlapped another one is flagged and both carry the CPU of the overlap.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Invocation {
  seq: number;
  fn: string;
  method: string;
  path: string;
  status: number;
  cpu_ms: number;
  peak_rss_mb: number;
  wall_ms: number;
  limit: null | 'cpu' | 'memory' | 'wall_clock' | 'idle';
  at: string;
  overlapped?: boolean;
}

export interface InvocationMeter {
  source: 'runtime' | 'proc-proxy';
  /** Base URL to send function calls to (`<url>/functions/v1/<name>`) so they are measured. */
  projectUrl: string;
  /** Invocations recorded since the last call. */
  take(): Promise<Invocation[]>;
  close(): Promise<void>;
}

/** The pid of the process listening on a local TCP port. */
export function pidListeningOn(port: number): number {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`no process listens on port ${port}`);
  return Number(m[1]);
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

function resetPeakRss(pid: number) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

async function runtimeMeter(functionsUrl: string, projectUrl: string): Promise<InvocationMeter | null> {
  const first = await fetch(`${functionsUrl}/_runtime/invocations`).catch(() => null);
  if (!first || first.status !== 200) {
    await first?.body?.cancel();
    return null;
  }
  let next = ((await first.json()) as { next: number }).next;
  return {
    source: 'runtime',
    projectUrl,
    async take() {
      const res = await fetch(`${functionsUrl}/_runtime/invocations?since=${next}`);
      const body = (await res.json()) as { next: number; invocations: Invocation[] };
      next = body.next;
      return body.invocations;
    },
    close: async () => {},
  };
}

function forward(req: IncomingMessage, res: ServerResponse, target: string, body: Buffer): Promise<number> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers.set(k, v);
  }
  return fetch(`${target}${req.url}`, { method: req.method, headers, body: body.length ? body : undefined }).then(async (r) => {
    const bytes = Buffer.from(await r.arrayBuffer());
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(bytes);
    return r.status;
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function procProxyMeter(functionsPort: number, projectUrl: string): Promise<InvocationMeter> {
  const pid = pidListeningOn(functionsPort);
  const recorded: Invocation[] = [];
  let seq = 0;
  let inFlight = 0;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const open = { overlapped: inFlight > 0 };
    inFlight++;
    if (inFlight === 1) resetPeakRss(pid);
    const t0 = performance.now();
    const cpu0 = cpuMs(pid);
    let status = 502;
    try {
      status = await forward(req, res, projectUrl, body);
    } catch (err) {
      res.writeHead(502).end(String(err));
    } finally {
      inFlight--;
      const path = (req.url ?? '').replace(/^\/functions\/v1\//, '/');
      recorded.push({
        seq: ++seq,
        fn: path.split(/[/?]/)[1] ?? '',
        method: req.method ?? '',
        path,
        status,
        cpu_ms: cpuMs(pid) - cpu0,
        peak_rss_mb: peakRssMb(pid),
        wall_ms: Math.round(performance.now() - t0),
        limit: null,
        at: new Date().toISOString(),
        overlapped: open.overlapped || inFlight > 0,
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    source: 'proc-proxy',
    projectUrl: `http://127.0.0.1:${port}`,
    take: async () => recorded.splice(0),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The runtime's own figures when it has them, else the /proc proxy in front of `projectUrl`. */
export async function invocationMeter(env: Record<string, string | undefined>): Promise<InvocationMeter> {
  const functionsUrl = env.LOCAL_FUNCTIONS_URL!;
  const projectUrl = env.SUPABASE_URL!;
  return (await runtimeMeter(functionsUrl, projectUrl)) ?? (await procProxyMeter(Number(new URL(functionsUrl).port), projectUrl));
}
