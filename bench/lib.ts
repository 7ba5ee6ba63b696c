// Shared pieces of the benchmarks: a database of their own (profile "bench"), percentiles, and
// JSON results in bench/results/. Every benchmark measures its baseline in the same run, so
// ratios stay meaningful on a shared, noisy machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { profile, ROOT, type Profile } from '../local/profile.ts';
import { initCluster, startCluster } from '../local/stack/cluster.ts';
import { applyPlatformSql, runMigrations } from '../local/stack/db-setup.ts';
import { startStack } from '../local/stack/lifecycle.ts';
import { ROOMY_AUTH_LIMITS } from '../tests/unit/helpers/auth-users.ts';
import type { Invocation as EdgeInvocation } from '../local/edge-runtime/invocations.ts';
import type { FunctionLogCounts } from '../local/edge-runtime/function-logs.ts';
import { ensureStackTls } from '../local/stack/tls.ts';
import type { z } from 'zod';

export function benchProfile(): Profile {
  process.env.CCE_PORT_BASE ??= '53321';
  return profile(process.env.CCE_PROFILE && process.env.CCE_PROFILE !== 'dev' ? process.env.CCE_PROFILE : 'bench');
}

/** Creates or starts the bench cluster and brings its schema up to date. */
export async function benchDatabase(): Promise<Profile> {
  const p = benchProfile();
  initCluster(p);
  startCluster(p);
  await applyPlatformSql(p);
  runMigrations(p);
  return p;
}

/**
 * A benchmark's settings from the environment, refused before anything starts: a typo must not
 * run a benchmark of nothing (NaN rounds) and write its JSON as if it had measured.
 */
export function settingsFromEnv<S extends z.ZodTypeAny>(bench: string, schema: S): z.output<S> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`${bench}: bad settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: s.length,
    p50: round(percentile(s, 0.5)),
    p95: round(percentile(s, 0.95)),
    p99: round(percentile(s, 0.99)),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
    min: round(s[0]),
    max: round(s[s.length - 1]),
  };
}

export function writeResult(name: string, result: Record<string, unknown>) {
  const dir = resolve(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: name, at: new Date().toISOString(), ...result }, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  console.log(`→ ${file}`);
}

/**
 * The profile of a benchmark that starts its own stack, after checking that this process trusts
 * that stack's fakes (HTTPS with a CA of the data dir): Node reads NODE_EXTRA_CA_CERTS only at
 * start-up, so a missing one would surface later as "self-signed certificate in chain".
 */
export function benchStackProfile(): Profile {
  const p = benchProfile();
  const { caFile } = ensureStackTls(p);
  if (process.env.NODE_EXTRA_CA_CERTS !== caFile) {
    throw new Error(`this benchmark calls the fakes over HTTPS: run it with npm run bench, or with NODE_EXTRA_CA_CERTS=${caFile}`);
  }
  return p;
}

/**
 * The stack a benchmark runs against: the one named by the environment (a loaded stack.env), or
 * its own `bench` stack, started now and stopped by `stop()`.
 */
export async function benchStack(): Promise<{ env: Record<string, string | undefined>; stop(): Promise<void> }> {
  const given = process.env;
  if (given.SUPABASE_URL && given.SUPABASE_DB_URL && given.LOCAL_FAKES_URL) return { env: given, stop: async () => {} };
  const started = await startStack(benchStackProfile(), { echo: false, serviceEnv: ROOMY_AUTH_LIMITS, onFatal: (r) => console.error(r) });
  return { env: started.env, stop: () => started.stop() };
}

/** A call to the fakes' control API (`/_control/<path>`); fails loudly on anything but 2xx. */
export function fakesControl(fakesUrl: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${fakesUrl}/_control/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`fake ${method} ${path}: ${res.status} ${await res.text()}`);
    return await res.json();
  };
}

export type { Invocation as EdgeInvocation } from '../local/edge-runtime/invocations.ts';

/**
 * What function requests cost, read from the stack's edge runtime (README "Edge runtime"): take a
 * mark before the work, then `since(mark)` lists every invocation after it and `summary` gives
 * the figures the hosted limits are judged by.
 */
export function edgeCosts(functionsUrl: string) {
  const read = async (since: number) => {
    const res = await fetch(`${functionsUrl}/_runtime/invocations?since=${since}`);
    if (res.status !== 200) throw new Error(`edge runtime costs: ${res.status} ${await res.text()}`);
    return (await res.json()) as { next: number; invocations: EdgeInvocation[] };
  };
  return {
    mark: async () => (await read(Number.MAX_SAFE_INTEGER)).next,
    since: async (mark: number, fn?: string) => (await read(mark)).invocations.filter((i) => !fn || i.fn === fn),
    /** Runs `op` (which must wait for all its work) and returns the invocations it caused. */
    async during(op: () => Promise<unknown>): Promise<EdgeInvocation[]> {
      const mark = (await read(Number.MAX_SAFE_INTEGER)).next;
      await op();
      // An invocation is recorded once its response has ended, just after the caller has it.
      await new Promise((r) => setTimeout(r, 200));
      return (await read(mark)).invocations;
    },
    /** Per function: log lines written, and those hosted would not keep (GET /_runtime/logs). */
    async logLines(): Promise<Record<string, FunctionLogCounts>> {
      const res = await fetch(`${functionsUrl}/_runtime/logs`);
      if (res.status !== 200) throw new Error(`edge runtime logs: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { functions: Record<string, FunctionLogCounts> }).functions;
    },
    summary(invocations: EdgeInvocation[]) {
      const cpu = stats(invocations.map((i) => i.cpu_ms));
      const rss = stats(invocations.map((i) => i.peak_rss_mb));
      return {
        invocations: invocations.length,
        cpu_ms: { max: cpu.max, p95: cpu.p95, p50: cpu.p50 },
        peak_rss_mb: { max: rss.max, p95: rss.p95 },
        worker_limit_546: invocations.filter((i) => i.status === 546).length,
        limits_crossed: invocations.filter((i) => i.limit !== null).length,
      };
    },
  };
}
