// Brings a whole local stack up (cluster, platform SQL, migrations, seed, processes) and down.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Profile } from '../profile.ts';
import { initCluster, isRunning, startCluster, stopCluster } from './cluster.ts';
import { applyPlatformSql, runMigrations, seedOnce, setVaultSecrets } from './db-setup.ts';
import { stackEnv, writeEnvFiles } from './env.ts';
import { activeKeys, apiKeyMode, loadOrCreateKeys, type StackKeys } from './keys.ts';
import { services } from './services.ts';
import { Supervisor } from './supervisor.ts';
import { ensureStackTls } from './tls.ts';
import { ensureWebBuild } from './web-build.ts';

export interface StackState {
  supervisor: number;
  children: number[];
  startedAt: string;
}

export function stateFile(p: Profile) {
  return resolve(p.dataRoot, 'stack.json');
}

export function readState(p: Profile): StackState | null {
  try {
    return JSON.parse(readFileSync(stateFile(p), 'utf8')) as StackState;
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface StartedStack {
  env: Record<string, string>;
  seeded: boolean;
  createdCluster: boolean;
  timings: Record<string, number>;
  stop(): Promise<void>;
}

/** Fails with the port and service named when something else already listens there. */
async function assertPortsFree(p: Profile, only?: string[]) {
  const wanted = Object.entries(p.ports).filter(([name]) => (only ? only.includes(name) : name !== 'postgres'));
  for (const [name, port] of wanted) {
    const free = await new Promise<boolean>((resolveFree) => {
      const server = createServer();
      server.once('error', () => resolveFree(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
    });
    if (!free) {
      throw new Error(`port ${port} (${name}) is already in use: is another ${p.name} stack running? Try: npm run stop`);
    }
  }
}

export interface StartOptions {
  echo?: boolean;
  onFatal: (reason: string) => void;
  /** Extra variables for the stack's processes only (not in the returned env). */
  serviceEnv?: Record<string, string>;
}

export async function startStack(p: Profile, opts: StartOptions): Promise<StartedStack> {
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  const mark = (k: string) => (timings[k] = Math.round(performance.now() - t0));
  const log = (line: string) => opts.echo !== false && console.log(line);

  // Every port is checked before anything starts, so a busy one fails fast and leaves nothing.
  const clusterWasRunning = isRunning(p);
  await assertPortsFree(p, clusterWasRunning ? undefined : Object.keys(p.ports));
  const createdCluster = initCluster(p);
  log(createdCluster ? `· created Postgres cluster in ${p.pgData}` : '· reusing Postgres cluster');
  startCluster(p);
  mark('postgres');
  let env: Record<string, string>;
  let seeded: boolean;
  try {
    const keys = await loadOrCreateKeys(p);
    ensureStackTls(p);
    env = stackEnv(p, keys);
    writeEnvFiles(p, env);
    await applyPlatformSql(p);
    // What pg_cron jobs read to call functions; production sets the same names (docs/deploy.md).
    await setVaultSecrets(p, vaultApiKeys(p, keys));
    runMigrations(p);
    seeded = await seedOnce(p);
    mark('database');
    log(`· database ready (platform SQL, migrations${seeded ? ', demo seed' : ''})`);
    if (ensureWebBuild()) log('· built the web app');
    mark('web-build');
  } catch (err) {
    if (!clusterWasRunning) stopCluster(p);
    throw err;
  }
  const supervisor = await startServices(p, env, opts);
  mark('services');
  writeFileSync(
    stateFile(p),
    JSON.stringify({ supervisor: process.pid, children: supervisor.pids(), startedAt: new Date().toISOString() } satisfies StackState),
  );

  let stopped = false;
  return {
    env,
    seeded,
    createdCluster,
    timings,
    async stop() {
      if (stopped) return;
      stopped = true;
      await supervisor.stopAll();
      stopCluster(p);
      rmSync(stateFile(p), { force: true });
    },
  };
}

/**
 * Starts every service and resolves once each is ready. A child that keeps dying while the stack
 * starts fails the start (and everything it started is stopped, the cluster too); after start-up
 * the caller decides what a fatal error means.
 */
async function startServices(p: Profile, env: Record<string, string>, opts: StartOptions): Promise<Supervisor> {
  let startupFatal: string | null = null;
  let started = false;
  const supervisor = new Supervisor(
    p,
    { ...env, ...opts.serviceEnv },
    (reason) => (started ? opts.onFatal(reason) : (startupFatal = reason)),
    opts.echo !== false,
  );
  const specs = services(p);
  try {
    for (const spec of specs) supervisor.start(spec);
    await Promise.race([
      Promise.all(specs.map((s) => supervisor.waitReady(s.name))),
      new Promise<never>((_, reject) => {
        const t = setInterval(() => {
          if (startupFatal) {
            clearInterval(t);
            reject(new Error(startupFatal));
          }
        }, 100);
        t.unref();
      }),
    ]);
    started = true;
  } catch (err) {
    await supervisor.stopAll();
    stopCluster(p);
    throw err;
  }
  return supervisor;
}

/** Stops a stack left running by another process (`npm run stop`), or its leftovers. */
export async function stopLeftStack(p: Profile): Promise<string> {
  const state = readState(p);
  if (state && alive(state.supervisor) && state.supervisor !== process.pid) {
    process.kill(state.supervisor, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(state.supervisor) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (alive(state.supervisor)) process.kill(state.supervisor, 'SIGKILL');
  }
  for (const pid of state?.children ?? []) if (alive(pid)) process.kill(pid, 'SIGTERM');
  const wasRunning = isRunning(p);
  stopCluster(p);
  if (existsSync(stateFile(p))) rmSync(stateFile(p), { force: true });
  return state || wasRunning ? `stopped the ${p.name} stack` : `no ${p.name} stack was running`;
}

/**
 * What pg_cron's wake-ups authenticate with: `secret_api_key` (the secret key) when the project
 * has one, `service_role_key` (legacy) while it has that; a key the project lacks is removed
 * (empty value), so switching CCE_API_KEYS on a data dir leaves no stale key behind.
 */
function vaultApiKeys(p: Profile, keys: StackKeys): Record<string, string> {
  const active = activeKeys(keys, apiKeyMode());
  return { project_url: p.urls.gateway, secret_api_key: active.secret ?? '', service_role_key: active.serviceRole ?? '' };
}
