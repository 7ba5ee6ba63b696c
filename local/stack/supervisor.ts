// Runs the stack's processes, waits until each answers, and never leaves a silent
// half-started stack: a child that dies is reported by name with its exit reason and last log
// lines, then restarted; one that keeps dying stops the whole stack loudly.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Profile } from '../profile.ts';
import { probeStatus } from './probe.ts';
import type { ServiceSpec } from './services.ts';

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const READY_TIMEOUT_MS = 90_000;

interface Running {
  spec: ServiceSpec;
  child: ChildProcess;
  tail: string[];
  restarts: number[];
  ready: boolean;
  sawLine: boolean;
}

export class Supervisor {
  private running = new Map<string, Running>();
  private stopping = false;
  private logs: WriteStream;

  constructor(
    private readonly p: Profile,
    private readonly env: Record<string, string>,
    private readonly onFatal: (reason: string) => void,
    private readonly echo = true,
  ) {
    mkdirSync(resolve(p.dataRoot, 'logs'), { recursive: true });
    this.logs = createWriteStream(resolve(p.dataRoot, 'logs', 'stack.log'), { flags: 'a' });
    process.once('exit', () => this.killAllNow());
  }

  log(line: string) {
    const stamped = `${new Date().toISOString()} ${line}`;
    this.logs.write(stamped + '\n');
    if (this.echo) console.log(line);
  }

  /** Last resort when the process exits without stopAll(): never leave orphans behind. */
  killAllNow() {
    for (const { child } of this.running.values()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  pids(): number[] {
    return [...this.running.values()].map((r) => r.child.pid).filter((p): p is number => !!p);
  }

  start(spec: ServiceSpec, restarts: number[] = []) {
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry: Running = { spec, child, tail: [], restarts, ready: false, sawLine: false };
    this.running.set(spec.name, entry);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        entry.sawLine ||= !!spec.readyLine?.test(line);
        entry.tail.push(line);
        if (entry.tail.length > 20) entry.tail.shift();
        this.logs.write(`${new Date().toISOString()} [${spec.name}] ${line}\n`);
        if (this.echo && process.env.CCE_VERBOSE) console.log(`[${spec.name}] ${line}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code, signal) => this.onExit(entry, code, signal));
  }

  private onExit(entry: Running, code: number | null, signal: NodeJS.Signals | null) {
    if (this.stopping || this.running.get(entry.spec.name) !== entry) return;
    const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
    this.log(`[supervisor] ${entry.spec.name} ${why}. Last lines:\n  ${entry.tail.slice(-8).join('\n  ') || '(no output)'}`);
    const now = Date.now();
    const recent = [...entry.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (recent.length > MAX_RESTARTS) {
      this.onFatal(`${entry.spec.name} died ${recent.length} times within a minute (${why}); stopping the stack`);
      return;
    }
    const delay = 250 * 2 ** (recent.length - 1);
    this.log(`[supervisor] restarting ${entry.spec.name} in ${delay} ms (restart ${recent.length}/${MAX_RESTARTS})`);
    setTimeout(() => {
      if (!this.stopping) this.start(entry.spec, recent);
    }, delay);
  }

  /** Resolves when the service answers; rejects with its last log lines when it cannot. */
  async waitReady(name: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const entry = this.running.get(name);
      if (!entry) throw new Error(`${name} is not running`);
      if (entry.spec.readyUrl) {
        try {
          const ca = entry.spec.readyCa ? readFileSync(entry.spec.readyCa) : undefined;
          if ((await probeStatus(entry.spec.readyUrl, { ca, timeoutMs: 2000 })) < 500) return;
        } catch {
          // not listening yet
        }
      } else if (entry.sawLine) {
        return;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    const tail = this.running.get(name)?.tail.slice(-10).join('\n  ') ?? '';
    throw new Error(`${name} did not become ready within ${READY_TIMEOUT_MS / 1000} s. Last lines:\n  ${tail}`);
  }

  async stopAll() {
    this.stopping = true;
    const exits = [...this.running.values()].reverse().map(
      ({ child }) =>
        new Promise<void>((resolveExit) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolveExit();
          });
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    await new Promise<void>((r) => this.logs.end(r));
  }
}
