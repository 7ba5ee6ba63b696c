// The local edge runtime: serves /<function>/... with one pool of isolates per function (each
// function isolated in its own processes, as deployed), enforces the hosted limits, and tells
// tests and benchmarks what each request cost at GET /_runtime/invocations?since=<seq> and what
// each function logged, and hosted would not have kept, at GET /_runtime/logs.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FunctionLogs, HOSTED_LOG_LIMITS } from './function-logs.ts';
import { InvocationLog } from './invocations.ts';
import { BootError, type IsolateSpec } from './isolate.ts';
import { hostedHeapFlags, type Limits } from './limits.ts';
import { v8FlagsArg } from '../deno.ts';
import { platformError, sendPlatformError } from './platform-errors.ts';
import { FunctionPool } from './pool.ts';
import { dropBody } from '../unread-body.ts';

export interface EdgeRuntimeOptions {
  port: number;
  functionsDir: string;
  /** deno binary and the arguments before the isolate's entry (config, permissions). */
  deno: { command: string; args: string[] };
  isolateEntry: string;
  env: Record<string, string>;
  limits: Limits;
  maxIsolatesPerFunction: number;
  /** Extra V8 flags for every isolate (diagnostics such as `--trace-gc`), after the heap cap. */
  v8Flags?: string[];
  socketDir: string;
  log: (line: string) => void;
  /** Function log lines hosted would not keep, whole (see function-logs.ts). */
  overflow?: (line: string) => void;
}

const FUNCTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function deployedFunctions(functionsDir: string): string[] {
  return readdirSync(functionsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && FUNCTION_NAME.test(e.name) && existsSync(join(functionsDir, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

// Lets the runtime, and only the runtime, ask an isolate for its memory (see isolate/main.ts).
const PROBE_TOKEN = randomUUID();

function isolateArgs(opts: EdgeRuntimeOptions, fn: string, socketPath: string): string[] {
  const flags = [...(opts.limits.enforced ? hostedHeapFlags(opts.limits.memoryMb) : []), ...(opts.v8Flags ?? [])];
  const entry = pathToFileURL(join(opts.functionsDir, fn, 'index.ts')).href;
  return [...opts.deno.args, ...v8FlagsArg(flags), opts.isolateEntry, entry, socketPath, PROBE_TOKEN];
}

/** What the request handlers share: the options, the log of invocations and the pools. */
interface Runtime {
  opts: EdgeRuntimeOptions;
  invocations: InvocationLog;
  logs: FunctionLogs;
  pools: Map<string, FunctionPool>;
}

function isolateSpec(rt: Runtime, fn: string) {
  const { opts } = rt;
  return (socketPath: string): IsolateSpec => ({
    fn,
    command: opts.deno.command,
    args: isolateArgs(opts, fn, socketPath),
    socketPath,
    probeToken: PROBE_TOKEN,
    env: { ...opts.env, NO_COLOR: '1' },
    limits: opts.limits,
    log: opts.log,
    output: (source, line) => rt.logs.line(fn, source, line),
  });
}

function poolOf(rt: Runtime, fn: string): FunctionPool {
  let pool = rt.pools.get(fn);
  if (!pool)
    rt.pools.set(fn, (pool = new FunctionPool(fn, isolateSpec(rt, fn), rt.opts.socketDir, rt.opts.maxIsolatesPerFunction, rt.opts.limits)));
  return pool;
}

async function invoke(rt: Runtime, fn: string, path: string, req: http.IncomingMessage, res: http.ServerResponse) {
  const { opts, invocations } = rt;
  const startedAt = Date.now();
  const pool = poolOf(rt, fn);
  let isolate;
  try {
    isolate = await pool.acquire();
  } catch (err) {
    opts.log(`${fn}: ${(err as Error).message}`);
    dropBody(req, res);
    const answer = platformError(err instanceof BootError ? 'boot' : 'crash');
    sendPlatformError(res, answer);
    invocations.add({
      fn,
      method: req.method ?? '',
      path,
      status: answer.status,
      cpu_ms: 0,
      peak_rss_mb: 0,
      isolate_memory_mb: 0,
      wall_ms: Date.now() - startedAt,
      limit: null,
      acquire_ms: Date.now() - startedAt,
      isolate_request: 0,
    });
    return;
  }
  const acquireMs = Date.now() - startedAt;
  const served = await isolate.serve(req, res, path);
  // Recorded at once: tests and benchmarks read the record as soon as they have the answer.
  const record = invocations.add({
    fn,
    method: req.method ?? '',
    path,
    status: served.status,
    cpu_ms: served.cpuMs,
    peak_rss_mb: served.peakRssMb,
    isolate_memory_mb: 0,
    wall_ms: Date.now() - startedAt,
    limit: served.limit,
    acquire_ms: acquireMs,
    isolate_request: isolate.requests,
  });
  if (!served.limit && isolate.alive) void isolate.settleMemory().then((mb) => (record.isolate_memory_mb = Math.round(mb * 10) / 10));
  pool.release(isolate);
}

function runtimeRoute(rt: Runtime, url: URL, res: http.ServerResponse) {
  const { opts, invocations, logs, pools } = rt;
  if (url.pathname === '/_runtime/logs') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ limits: HOSTED_LOG_LIMITS, enforced: opts.limits.enforced, functions: logs.all() }));
    return;
  }
  if (url.pathname === '/_runtime/invocations') {
    const since = Number(url.searchParams.get('since') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(invocations.since(Number.isFinite(since) ? since : 0)));
    return;
  }
  if (url.pathname === '/_runtime/isolates') {
    const list = [...pools.values()].flatMap((pool) =>
      pool.isolates().map((i) => ({
        fn: pool.fn,
        pid: i.pid,
        age_ms: i.ageMs(),
        cpu_used_ms: Math.round(i.cpuUsedMs),
        requests: i.requests,
        rss_mb: Math.round(i.residentMb()),
        isolate_memory_mb: Math.round(i.memoryMb),
        serving_since: i.servingSince,
      })),
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    const crashes = Object.fromEntries([...pools.values()].map((pool) => [pool.fn, pool.crashes]));
    res.end(JSON.stringify({ limits: opts.limits, isolates: list, crashes }));
    return;
  }
  sendPlatformError(res, platformError('notFound'));
}

function handle(rt: Runtime, names: Set<string>, req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://edge-runtime');
  const fn = url.pathname.split('/')[1] ?? '';
  if (fn === '_runtime') {
    dropBody(req, res);
    return runtimeRoute(rt, url, res);
  }
  if (!names.has(fn)) {
    dropBody(req, res);
    return sendPlatformError(res, platformError('notFound'));
  }
  invoke(rt, fn, req.url ?? '/', req, res).catch((err: Error) => {
    rt.opts.log(`${fn}: runtime error: ${err.message}`);
    if (!res.headersSent) sendPlatformError(res, platformError('crash'));
    else res.destroy();
  });
}

export async function createEdgeRuntime(opts: EdgeRuntimeOptions) {
  rmSync(opts.socketDir, { recursive: true, force: true });
  mkdirSync(opts.socketDir, { recursive: true, mode: 0o700 });
  const names = new Set(deployedFunctions(opts.functionsDir));
  const rt: Runtime = {
    opts,
    invocations: new InvocationLog(opts.log),
    logs: new FunctionLogs(HOSTED_LOG_LIMITS, opts.limits.enforced, { write: opts.log, overflow: opts.overflow }),
    pools: new Map(),
  };
  const server = http.createServer((req, res) => handle(rt, names, req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://127.0.0.1:${port}`,
    functions: [...names],
    close: () =>
      new Promise<void>((resolve) => {
        for (const pool of rt.pools.values()) pool.stopAll();
        server.closeAllConnections();
        server.close(() => {
          rmSync(opts.socketDir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
