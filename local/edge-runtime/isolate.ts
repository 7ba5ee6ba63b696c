// One isolate: a Deno process running one function, serving one request at a time as hosted
// isolates do. It proxies a request over its Unix socket, measures the request's CPU time and
// peak memory from /proc, and kills itself the way hosted does when a limit is crossed.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { describeLimit, type LimitName, type Limits } from './limits.ts';
import { peakRssMb, resetPeakRss, rssMb, threadCpuMs } from './proc.ts';
import { platformError, sendPlatformError } from './platform-errors.ts';
import { dropUnreadBodyAfter } from '../unread-body.ts';

export interface IsolateSpec {
  fn: string;
  command: string;
  args: string[];
  socketPath: string;
  /** Marks the runtime's own memory question to the isolate (see isolate/main.ts). */
  probeToken: string;
  env: Record<string, string>;
  limits: Limits;
  /** The runtime's own lines about this isolate. */
  log: (line: string) => void;
  /** A line the function wrote (hosted's log limits apply to these, see function-logs.ts). */
  output: (source: string, line: string) => void;
}

export interface Served {
  status: number;
  cpuMs: number;
  peakRssMb: number;
  wallMs: number;
  limit: LimitName | null;
}

export class BootError extends Error {}

const POLL_MS = 20;
const BOOT_TIMEOUT_MS = 30_000;

export class Isolate {
  readonly startedAt = Date.now();
  cpuUsedMs = 0;
  requests = 0;
  /** When the request it is serving began (epoch ms); null while idle. */
  servingSince: number | null = null;
  /** V8 heap plus external memory after the last request, in MB: what hosted's memory counts. */
  memoryMb = 0;
  /** Settles once memoryMb has been read after the last request (see settleMemory). */
  memorySettled: Promise<unknown> = Promise.resolve();
  private exited = false;
  private stopping = false;
  private onLimit: ((limit: LimitName, figure: number) => void) | null = null;
  private readonly agent: http.Agent;
  private readonly wallClock: NodeJS.Timeout;
  /** The last lines a booting isolate wrote (for its boot error). */
  private bootTail: string[] = [];

  private constructor(
    private readonly spec: IsolateSpec,
    private readonly child: ChildProcess,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.wallClock = setTimeout(() => this.crossed('wall_clock', Date.now() - this.startedAt), spec.limits.wallClockMs);
    this.wallClock.unref();
    if (!spec.limits.enforced) clearTimeout(this.wallClock);
    child.on('exit', () => {
      this.exited = true;
      clearTimeout(this.wallClock);
      this.agent.destroy();
    });
  }

  /**
   * The isolate at once (so that a runtime shutting down can stop it while it boots) and its
   * readiness: `ready` resolves once its function has loaded and serves.
   */
  static start(spec: IsolateSpec, onExit: (isolate: Isolate, why: string) => void): { booting: Isolate; ready: Promise<Isolate> } {
    const child = spawn(spec.command, spec.args, { env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const isolate = new Isolate(spec, child);
    const readiness = new Promise<Isolate>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new BootError(`${spec.fn} did not start within ${BOOT_TIMEOUT_MS / 1000} s`));
      }, BOOT_TIMEOUT_MS);
      // Whole lines, however the pipe splits them. Once the function serves, each is one of its
      // log events (function-logs.ts); before that it is boot output (a load error, for one),
      // which the runtime logs as its own and keeps the last lines of for the boot error.
      const lines = (stream: 'out' | 'err') => (line: string) => {
        if (line === '') return;
        if (ready) return spec.output(`${spec.fn}[${child.pid}]`, line);
        if (stream === 'out' && line === 'edge-isolate: ready') {
          ready = true;
          clearTimeout(timer);
          resolve(isolate);
          return;
        }
        isolate.bootTail.push(line);
        if (isolate.bootTail.length > 3) isolate.bootTail.shift();
        spec.log(`${spec.fn}[${child.pid}] ${line}`);
      };
      createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', lines('out'));
      createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', lines('err'));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (ready) {
          if (isolate.crashed) spec.log(`${spec.fn}[${child.pid}] crashed (${why})`);
          return onExit(isolate, why);
        }
        // After 'close', when the pipes have been read to their end: the last line of a load
        // error may come after the exit.
        child.once('close', () =>
          reject(new BootError(`${spec.fn} failed to start (${why}): ${isolate.bootTail.join(' | ') || 'no output'}`)),
        );
      });
    });
    return { booting: isolate, ready: readiness };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Exited without the runtime asking (an uncaught error, a signal from outside): a crash. */
  get crashed(): boolean {
    return this.exited && !this.stopping;
  }

  /** Running and not being shut down: only such an isolate may be given a request. */
  get alive(): boolean {
    return !this.exited && !this.stopping;
  }

  ageMs(): number {
    return Date.now() - this.startedAt;
  }

  residentMb(): number {
    return rssMb(this.pid);
  }

  /**
   * Reads the memory figure after a request without holding the isolate back: it goes back to
   * its pool at once, and whoever takes it next waits for the figure (memorySettled) before
   * deciding whether it may serve. Hosted hands a finished worker the next request at once; when
   * the pool got it back only after the read, a chained request arriving meanwhile was given a
   * fresh spare instead, with a whole CPU budget the warm worker would not have had.
   */
  settleMemory(): Promise<number> {
    const sampled = this.sampleMemory();
    this.memorySettled = sampled;
    return sampled;
  }

  /**
   * Asks the isolate for its V8 heap and external memory (after a request, on the same socket).
   * The kill limit stays on the process's resident memory, stricter than hosted; retirement at
   * half the limit uses the figure hosted uses, or a local Deno process (~77 MB resident before
   * any code runs) would retire after almost every request and every chained step would be cold.
   */
  private sampleMemory(): Promise<number> {
    return new Promise((resolve) => {
      const ask = http.request(
        {
          socketPath: this.spec.socketPath,
          method: 'GET',
          path: '/',
          headers: { 'x-edge-isolate-probe': this.spec.probeToken },
          agent: this.agent,
          timeout: 2_000,
        },
        (answer) => {
          let body = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => (body += chunk));
          answer.on('end', () => {
            try {
              const m = JSON.parse(body) as { heapTotal: number; external: number };
              this.memoryMb = (m.heapTotal + m.external) / 1024 / 1024;
            } catch {
              // No figure (the isolate is going away): keep the last one.
            }
            resolve(this.memoryMb);
          });
        },
      );
      ask.on('timeout', () => ask.destroy());
      ask.on('error', () => resolve(this.memoryMb));
      ask.end();
    });
  }

  /** Ends the isolate: at once (a crossed limit) or after a grace period (retired). */
  stop(now = false) {
    if (this.exited) return;
    this.stopping = true;
    if (now) {
      this.child.kill('SIGKILL');
      return;
    }
    this.child.kill('SIGTERM');
    setTimeout(() => this.child.kill('SIGKILL'), 2_000).unref();
  }

  private crossed(limit: LimitName, figure: number) {
    if (this.onLimit) this.onLimit(limit, figure);
    else if (limit === 'wall_clock') this.stop();
  }

  /** Proxies one request; resolves when the response is over, however it ended. */
  serve(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<Served> {
    const pid = this.pid;
    this.requests++;
    this.servingSince = Date.now();
    resetPeakRss(pid);
    const cpuAtStart = threadCpuMs(pid);
    const startedAt = Date.now();
    return new Promise((resolve) => {
      const x: Exchange = { req, res, path, pid, cpuAtStart, startedAt, cpuMs: 0, peak: 0, status: 0, limit: null, done: false, resolve };
      this.onLimit = (crossed, figure) => this.kill(x, crossed, figure);
      this.watchLimits(x);
      this.proxy(x);
    });
  }

  private measure(x: Exchange) {
    const cpu = threadCpuMs(x.pid) - x.cpuAtStart;
    if (Number.isFinite(cpu)) x.cpuMs = cpu;
    const rss = rssMb(x.pid);
    if (Number.isFinite(rss)) x.peak = Math.max(x.peak, rss);
  }

  private finish(x: Exchange) {
    if (x.done) return;
    x.done = true;
    clearInterval(x.poll);
    clearTimeout(x.idle);
    this.onLimit = null;
    if (!this.exited) {
      this.measure(x);
      const hwm = peakRssMb(x.pid);
      if (Number.isFinite(hwm)) x.peak = Math.max(x.peak, hwm);
    }
    this.cpuUsedMs += x.cpuMs;
    this.servingSince = null;
    x.resolve({ status: x.status, cpuMs: x.cpuMs, peakRssMb: x.peak, wallMs: Date.now() - x.startedAt, limit: x.limit });
  }

  private kill(x: Exchange, crossed: LimitName, figure: number) {
    if (x.done || x.limit) return;
    x.limit = crossed;
    this.spec.log(
      `${this.spec.fn}[${x.pid}]: ${describeLimit(crossed, Math.round(figure), this.spec.limits)} (${x.req.method} ${x.path}); isolate shut down`,
    );
    this.stop(true);
    x.upstream?.destroy();
    const answer = crossed === 'idle' ? platformError('idle') : platformError('limit');
    if (!x.res.headersSent) {
      x.status = answer.status;
      sendPlatformError(x.res, answer);
    } else x.res.destroy();
    this.finish(x);
  }

  private watchLimits(x: Exchange) {
    const { limits } = this.spec;
    x.poll = setInterval(() => {
      this.measure(x);
      if (!limits.enforced) return;
      // Hosted counts CPU per worker, not per request: its supervisor compares the worker's
      // accumulated CPU with the hard limit (strategy_per_worker.rs), so a warm isolate has only
      // what its earlier requests left of the 2 s (at least half: it retires at half).
      const used = this.cpuUsedMs + x.cpuMs;
      if (used > limits.cpuMs) this.kill(x, 'cpu', used);
      else if (x.peak > limits.memoryMb) this.kill(x, 'memory', x.peak);
    }, POLL_MS);
    x.idle = setTimeout(() => this.kill(x, 'idle', limits.idleTimeoutMs), limits.idleTimeoutMs);
    if (!limits.enforced) clearTimeout(x.idle);
  }

  private stillTalking(x: Exchange) {
    const { limits } = this.spec;
    clearTimeout(x.idle);
    x.idle = setTimeout(() => this.kill(x, 'idle', limits.idleTimeoutMs), limits.idleTimeoutMs);
  }

  private proxy(x: Exchange) {
    const { limits } = this.spec;
    const { req, res, path } = x;
    const upstream = (x.upstream = http.request(
      { socketPath: this.spec.socketPath, method: req.method, path, headers: withoutHop(req.rawHeaders), agent: this.agent },
      (answer) => {
        x.status = answer.statusCode ?? 502;
        if (limits.enforced) this.stillTalking(x);
        res.writeHead(x.status, servedAsHosted(req.method, answer.rawHeaders));
        answer.on('data', () => limits.enforced && this.stillTalking(x));
        answer.pipe(res);
        answer.on('end', () => this.finish(x));
        answer.on('error', () => this.finish(x));
      },
    ));
    upstream.on('error', () => {
      if (x.limit || x.done) return;
      // The isolate died under the request (an uncaught error ends a hosted worker too).
      if (!res.headersSent) {
        const answer = platformError('crash');
        x.status = answer.status;
        sendPlatformError(res, answer);
      } else res.destroy();
      this.finish(x);
    });
    res.on('close', () => {
      if (res.writableFinished || x.done) return;
      upstream.destroy();
      x.status ||= 499;
      this.finish(x);
    });
    if (
      req.headers['content-length'] === '0' ||
      (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined)
    )
      upstream.end();
    else {
      req.pipe(upstream);
      dropUnreadBodyAfter(res, req, upstream);
    }
  }
}

/** One request in flight through an isolate: what serve measures, and whether it has ended. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  path: string;
  pid: number;
  cpuAtStart: number;
  startedAt: number;
  cpuMs: number;
  peak: number;
  status: number;
  limit: LimitName | null;
  done: boolean;
  poll?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
  upstream?: http.ClientRequest;
  resolve: (served: Served) => void;
}

// The probe header is the runtime's own: a caller's copy is dropped, never passed to an isolate.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'x-edge-isolate-probe']);

function withoutHop(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!HOP_BY_HOP.has(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/**
 * Hosted serves `text/html` answers to GET as `text/plain` on the default domain (only a custom
 * domain may serve HTML), so a page that works here must not count on being rendered.
 */
function servedAsHosted(method: string | undefined, raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    let value = raw[i + 1];
    if (method === 'GET' && name === 'content-type' && /^text\/html\b/i.test(value)) value = value.replace(/^text\/html/i, 'text/plain');
    out.push(raw[i], value);
  }
  return out;
}
