// Per-invocation CPU and memory of edge functions, for benchmarks that must show every request
// fits the hosted limits. The strict local runtime reports them at
// `GET <LOCAL_FUNCTIONS_URL>/_runtime/invocations?since=<seq>`; where that route is missing (the
// single-process functions server), a measuring proxy stands in: the measured functions run in a
// process each (bench/deno/single-function.ts, as hosted deploys them), requests for them sent
// through the proxy go straight to that process, and each request is measured from its /proc
// (CPU = utime + stime delta, peak RSS = VmHWM after resetting it with clear_refs). Other requests
// pass on to the project URL unmeasured. A request that overlapped another one of the same
// function is flagged: both carry the CPU of the overlap.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { ROOT } from '../local/profile.ts';

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
  return fetch(`${target}${req.url}`, { method: req.method, headers, body: body.length ? new Uint8Array(body) : undefined }).then(async (r) => {
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

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** `name` served alone by a Deno process; resolves once it listens. */
async function startSingleFunction(name: string, env: Record<string, string | undefined>) {
  const port = await freePort();
  const deno = resolve(ROOT, 'node_modules', '.bin', 'deno');
  // BENCH_FUNCTION_V8_FLAGS (e.g. --max-old-space-size=128): a heap limit like a hosted isolate's,
  // to tell live memory from garbage a heap without a limit is slow to collect.
  const v8 = process.env.BENCH_FUNCTION_V8_FLAGS ? [`--v8-flags=${process.env.BENCH_FUNCTION_V8_FLAGS}`] : [];
  const child = spawn(deno, ['run', '-A', '--no-prompt', ...v8, '--config', resolve(ROOT, 'supabase/functions/deno.json'), resolve(ROOT, 'bench/deno/single-function.ts'), name, String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (b: Buffer) => b.toString().includes('listening') && ok());
    child.on('exit', (code) => fail(new Error(`${name} exited with ${code} before listening`)));
  });
  child.stdout!.resume();
  return { child, url: `http://127.0.0.1:${port}`, pid: pidListeningOn(port) };
}

interface Isolated {
  child: ChildProcess;
  url: string;
  pid: number;
  inFlight: number;
}

async function procProxyMeter(projectUrl: string, names: string[], env: Record<string, string | undefined>): Promise<InvocationMeter> {
  const isolated = new Map<string, Isolated>();
  for (const name of names) isolated.set(name, { ...(await startSingleFunction(name, env)), inFlight: 0 });
  const recorded: Invocation[] = [];
  let seq = 0;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '').replace(/^\/functions\/v1\//, '/');
    const fn = path.split(/[/?]/)[1] ?? '';
    const target = req.url?.startsWith('/functions/v1/') ? isolated.get(fn) : undefined;
    if (!target) {
      await forward(req, res, projectUrl, body).catch((err) => res.writeHead(502).end(String(err)));
      return;
    }
    const overlapped = target.inFlight > 0;
    if (target.inFlight++ === 0) resetPeakRss(target.pid);
    const t0 = performance.now();
    const cpu0 = cpuMs(target.pid);
    let status = 502;
    try {
      req.url = path;
      status = await forward(req, res, target.url, body);
    } catch (err) {
      res.writeHead(502).end(String(err));
    } finally {
      target.inFlight--;
      recorded.push({
        seq: ++seq, fn, method: req.method ?? '', path, status,
        cpu_ms: cpuMs(target.pid) - cpu0,
        peak_rss_mb: peakRssMb(target.pid),
        wall_ms: Math.round(performance.now() - t0),
        limit: null,
        at: new Date().toISOString(),
        overlapped: overlapped || target.inFlight > 0,
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    source: 'proc-proxy',
    projectUrl: `http://127.0.0.1:${port}`,
    take: async () => recorded.splice(0),
    close: async () => {
      await new Promise((r) => server.close(() => r(undefined)));
      for (const f of isolated.values()) {
        f.child.kill('SIGTERM');
        // The npm package may start the binary behind a wrapper: end the listener itself too.
        try {
          process.kill(f.pid, 'SIGTERM');
        } catch {
          // already gone with its wrapper
        }
      }
    },
  };
}

/**
 * The runtime's own figures when it has them, else the /proc proxy in front of the project URL,
 * with each of `functions` in a process of its own.
 */
export async function invocationMeter(env: Record<string, string | undefined>, functions: string[]): Promise<InvocationMeter> {
  const projectUrl = env.SUPABASE_URL!;
  return (await runtimeMeter(env.LOCAL_FUNCTIONS_URL!, projectUrl)) ?? (await procProxyMeter(projectUrl, functions, env));
}
