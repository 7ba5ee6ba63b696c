// Shared pieces of the scaling family (bench/scaling.bench.ts): sizes from the environment, a
// fixed-work baseline measured next to every size (the machine is shared, so a curve is read as
// p95 over the baseline of the same moment), the load average, and timing helpers.
import { loadavg } from 'node:os';
import type postgres from 'postgres';
import { stats } from '../lib.ts';

export type Sql = postgres.Sql;
export type Stats = ReturnType<typeof stats>;

/** One measured size of a path: the figure the curve is drawn from plus whatever explains it. */
export interface Point {
  size: number;
  /** The curve's figure (ms unless the path says otherwise): p95 for reads, wall time for workers. */
  value: number;
  baseline_p95_ms: number;
  load_average: number[];
  details: Record<string, unknown>;
}

export interface PathResult {
  path: string;
  size_unit: string;
  value_label: string;
  /** 'read': acceptance is at most 2x from the smallest to the largest size; 'worker': at most linear. */
  kind: 'read' | 'worker';
  points: Point[];
  notes?: string;
}

/** Sizes of a path: SCALING_<NAME>_SIZES="1000,10000" overrides the defaults. */
export function sizes(name: string, defaults: number[]): number[] {
  const raw = process.env[`SCALING_${name.toUpperCase().replace(/-/g, '_')}_SIZES`];
  if (!raw) return defaults;
  const parsed = raw.split(',').map((s) => Number(s.trim()));
  if (parsed.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`SCALING_${name.toUpperCase()}_SIZES: whole numbers, comma separated`);
  return parsed;
}

export const ROUNDS = Number(process.env.SCALING_ROUNDS ?? 20);

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}

export function load(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/**
 * A fixed amount of database work (the same at every size): what the machine's load does to a
 * query at this moment. Each size's figure is reported next to it.
 */
export async function baseline(sql: Sql, rounds = 10): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < rounds; i++) runs.push((await timed(() => sql`select sum(i) from generate_series(1, 200000) i`))[0]);
  return stats(runs).p95;
}

/** p50/p95/… of `fn` after one warm-up: `rounds` runs, fewer (at least 5) past `capMs` in total. */
export async function sample(rounds: number, fn: () => Promise<unknown>, capMs = 60_000): Promise<Stats> {
  await fn();
  const runs: number[] = [];
  const start = performance.now();
  for (let i = 0; i < rounds && (i < 5 || performance.now() - start < capMs); i++) runs.push((await timed(fn))[0]);
  return stats(runs);
}

/** Free bytes on the database's disk are checked before a large fixture (the disk is shared). */
export async function requireFreeDisk(bytes: number, what: string) {
  const { statfs } = await import('node:fs/promises');
  const s = await statfs('/');
  const free = s.bavail * s.bsize;
  if (free < bytes * 1.5) throw new Error(`${what}: needs about ${(bytes / 1e9).toFixed(1)} GB, ${(free / 1e9).toFixed(1)} GB free`);
}

/** Runs as a signed-in user (the role and claims PostgREST and asUser set). */
export function asUser(sql: Sql, userId: string) {
  const claims = JSON.stringify({ sub: userId, role: 'authenticated' });
  return <T>(fn: (tx: postgres.TransactionSql) => Promise<T>) =>
    sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
      return fn(tx);
    }) as Promise<T>;
}

/** A user (the signup trigger gives them a workspace); returns the user and that workspace. */
export async function makeUser(sql: Sql, email: string): Promise<{ userId: string; workspaceId: string }> {
  await sql`delete from auth.users where email = ${email}`;
  const [{ id }] = await sql`
    insert into auth.users (id, email, aud, role, raw_app_meta_data, raw_user_meta_data)
    values (gen_random_uuid(), ${email}, 'authenticated', 'authenticated', '{}', '{}') returning id`;
  const [{ workspace_id }] = await sql`select workspace_id from public.workspace_members where user_id = ${id}`;
  return { userId: id as string, workspaceId: workspace_id as string };
}
