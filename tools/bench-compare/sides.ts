// One side of a comparison: a detached git worktree of a commit, with its own node_modules, its own
// stack (profile and ports of its own) and its benchmarks run against that stack.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

export interface SideCheckout {
  label: string;
  commit: string;
  dir: string;
  profile: string;
  portBase: number;
}

function git(root: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export function resolveCommit(root: string, ref: string): string {
  return git(root, ['rev-parse', '--verify', `${ref}^{commit}`]);
}

/** The commit's worktree, made once under the temp dir and reused by a later comparison. */
export function checkout(root: string, label: string, commit: string, portBase: number): SideCheckout {
  const dir = resolve(tmpdir(), 'cce-bench-compare', `${label}-${commit.slice(0, 12)}`);
  if (!existsSync(resolve(dir, '.git'))) {
    rmSync(dir, { recursive: true, force: true });
    git(root, ['worktree', 'add', '--detach', dir, commit]);
  }
  return { label, commit, dir, profile: `bench-compare-${label}`, portBase };
}

export function removeCheckout(root: string, side: SideCheckout): void {
  git(root, ['worktree', 'remove', '--force', side.dir]);
}

/** npm ci where the lock file changed, with the stamp `npm start` uses, so neither installs twice. */
export function installPackages(side: SideCheckout, log: (line: string) => void): void {
  for (const dir of [side.dir, resolve(side.dir, 'web')]) {
    const lock = resolve(dir, 'package-lock.json');
    if (!existsSync(lock)) continue;
    const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
    const stamp = resolve(dir, 'node_modules', '.cce-installed');
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) continue;
    log(`${side.label}: npm ci in ${dir}`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm ci failed in ${dir}`);
    writeFileSync(stamp, want);
  }
}

/**
 * The env of the side's own processes. `stack` picks the stack the tool starts (port base + 50);
 * without it, the profile a benchmark that starts its own stack or cluster uses (port base + 0).
 */
function sideEnv(side: SideCheckout, stack = false): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CCE_PROFILE: stack ? `${side.profile}-stack` : side.profile,
    CCE_PORT_BASE: String(stack ? side.portBase + 50 : side.portBase),
    CCE_DEMO_LOOP: 'off',
  };
  // A stack named by the caller's env would be used by both sides' benchmarks instead of their own.
  for (const key of Object.keys(env)) if (/^(SUPABASE_|LOCAL_|BENCH_DB_URL$|NODE_EXTRA_CA_CERTS$|DENO_CERT$)/.test(key)) delete env[key];
  return env;
}

/**
 * Whether a benchmark needs a running stack handed to it: one that starts nothing itself (it
 * reads a stack's env or BENCH_DB_URL) does; one that starts its stack or cluster gets none, so
 * that two stacks never share a profile.
 */
export function needsRunningStack(source: string): boolean {
  return !/\b(startStack|benchStack|benchDatabase)\(/.test(source);
}

export function benchSource(side: SideCheckout, name: string): string {
  return readFileSync(resolve(side.dir, 'bench', `${name}.bench.ts`), 'utf8');
}

/**
 * Empties both profiles' data dirs before a comparison: both sides start from the same empty
 * state, and a cluster made for another port base would not start on this one.
 */
export function resetDataDirs(side: SideCheckout): void {
  for (const env of [sideEnv(side), sideEnv(side, true)])
    rmSync(resolve(side.dir, '.local', env.CCE_PROFILE!), { recursive: true, force: true });
}

/** Stops what the benchmarks left running on the side's profile (a bench cluster stays up after a run). */
export function stopBenchProfile(side: SideCheckout): void {
  spawnSync(process.execPath, ['--import', 'tsx', 'local/commands/stop.ts'], { cwd: side.dir, env: sideEnv(side), stdio: 'ignore' });
}

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
  }
  return env;
}

export interface RunningStack {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the side's stack (`local/commands/start.ts`, in the foreground of a child) and waits for it. */
export async function startSideStack(side: SideCheckout, logFile: string): Promise<RunningStack> {
  const env = sideEnv(side, true);
  const envFile = resolve(side.dir, '.local', env.CCE_PROFILE!, 'stack.env');
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'local/commands/start.ts'], {
    cwd: side.dir,
    env,
    stdio: ['ignore', out, out],
    detached: true,
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + 300_000;
  while (!(existsSync(envFile) && readFileSync(logFile, 'utf8').includes(`"${env.CCE_PROFILE}" is up`))) {
    if (exited) throw new Error(`${side.label}: the stack did not start (see ${logFile})`);
    if (Date.now() > deadline) throw new Error(`${side.label}: the stack was not up after 300 s (see ${logFile})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    env: parseEnvFile(readFileSync(envFile, 'utf8')),
    stop: async () => {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
    },
  };
}

/**
 * Runs bench/<name>.bench.ts of the side through its own `npm run bench` (which names the CA the
 * benchmark's stack uses), against `stack` when given; the parsed result file, or the failure.
 */
export function runSideBench(
  side: SideCheckout,
  name: string,
  stack: RunningStack | null,
  logFile: string,
): { result?: unknown; error?: string } {
  const resultFile = resolve(side.dir, 'bench', 'results', `${name}.json`);
  rmSync(resultFile, { force: true });
  const out = openSync(logFile, 'w');
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(side.dir, 'bench', 'run.ts'), name], {
    cwd: side.dir,
    env: stack ? { ...sideEnv(side), ...stack.env, BENCH_DB_URL: stack.env.SUPABASE_DB_URL } : sideEnv(side),
    stdio: ['ignore', out, out],
  });
  if (r.status !== 0 || !existsSync(resultFile)) return { error: `exit ${r.status ?? r.signal}; see ${logFile}` };
  return { result: JSON.parse(readFileSync(resultFile, 'utf8')) };
}
