// The hosted Edge Functions limits the local runtime enforces. Figures from Supabase's docs
// ("Edge Functions: Limits" and the 546 troubleshooting page, checked 2026-12-06; see README
// "Edge runtime"). Every figure can be lowered from the environment so that tests of the runtime
// itself cross a limit in seconds, and CCE_EDGE_LIMITS=off measures without enforcing.
import { z } from 'zod';

export interface Limits {
  /** CPU time of one request (the isolate's thread; async I/O waits excluded). */
  cpuMs: number;
  /** Resident memory of the isolate. */
  memoryMb: number;
  /** Lifetime of one worker (isolate); 150 s on the free plan, 400 s on paid plans. */
  wallClockMs: number;
  /** A request whose response sends nothing for this long ends with 504. */
  idleTimeoutMs: number;
  /** false: figures are measured and logged, nothing is killed (CCE_EDGE_LIMITS=off). */
  enforced: boolean;
}

export const HOSTED_LIMITS: Limits = {
  cpuMs: 2_000,
  memoryMb: 256,
  wallClockMs: 150_000,
  idleTimeoutMs: 150_000,
  enforced: true,
};

/**
 * V8 flags that size an isolate's heap as hosted sizes a user worker's. Hosted creates the isolate
 * with heap_limits(0, <memory limit>) (supabase/edge-runtime, crates/base/src/runtime/mod.rs),
 * from which V8 sizes both generations; --max-heap-size does the same. An old-space cap alone
 * leaves the young generation at its default size, and V8 then collects on other triggers than
 * hosted's (README "Edge runtime": garbage collection).
 */
export function hostedHeapFlags(memoryMb: number): string[] {
  return [`--max-heap-size=${memoryMb}`];
}

/** Hosted retires an isolate once it has used half of any resource, after its current request. */
export const RETIRE_AT = 0.5;

const positive = z.coerce.number().int().positive();
const envSchema = z.object({
  CCE_EDGE_LIMITS: z.enum(['on', 'off']).default('on'),
  LOCAL_EDGE_CPU_MS: positive.optional(),
  LOCAL_EDGE_MEMORY_MB: positive.optional(),
  LOCAL_EDGE_WALL_CLOCK_S: positive.optional(),
  LOCAL_EDGE_IDLE_TIMEOUT_S: positive.optional(),
});

export function limitsFromEnv(env: Record<string, string | undefined>): Limits {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`edge runtime: bad limit settings: ${issues}`);
  }
  const e = parsed.data;
  return {
    cpuMs: e.LOCAL_EDGE_CPU_MS ?? HOSTED_LIMITS.cpuMs,
    memoryMb: e.LOCAL_EDGE_MEMORY_MB ?? HOSTED_LIMITS.memoryMb,
    wallClockMs: (e.LOCAL_EDGE_WALL_CLOCK_S ?? HOSTED_LIMITS.wallClockMs / 1000) * 1000,
    idleTimeoutMs: (e.LOCAL_EDGE_IDLE_TIMEOUT_S ?? HOSTED_LIMITS.idleTimeoutMs / 1000) * 1000,
    enforced: e.CCE_EDGE_LIMITS === 'on',
  };
}

export type LimitName = 'cpu' | 'memory' | 'wall_clock' | 'idle';

export function describeLimit(limit: LimitName, figure: number, limits: Limits): string {
  switch (limit) {
    case 'cpu':
      return `CPU time exceeded: ${figure} ms of ${limits.cpuMs} ms`;
    case 'memory':
      return `Memory limit exceeded: ${figure} MB of ${limits.memoryMb} MB`;
    case 'wall_clock':
      return `Wall clock limit reached: ${Math.round(figure / 1000)} s of ${limits.wallClockMs / 1000} s`;
    case 'idle':
      return `Request idle timeout: no response for ${Math.round(figure / 1000)} s`;
  }
}
