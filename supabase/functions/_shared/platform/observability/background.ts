// Work that must finish after the response has gone (recording a call, storing a cached answer).
// Hosted edge functions keep the instance alive for it through EdgeRuntime.waitUntil; every task
// is also kept here so that tests and benchmarks can wait for all of them.
type EdgeRuntimeLike = { waitUntil?: (task: Promise<unknown>) => void };

const pending = new Set<Promise<unknown>>();

/** Runs `task` off the response's path; the task reports its own failures. */
export function inBackground(task: Promise<unknown>): void {
  const tracked: Promise<unknown> = task.catch(() => {}).finally(() => pending.delete(tracked));
  pending.add(tracked);
  (globalThis as { EdgeRuntime?: EdgeRuntimeLike }).EdgeRuntime?.waitUntil?.(tracked);
}

/** Resolves once every background task started so far (and those they started) has settled. */
export async function backgroundSettled(): Promise<void> {
  while (pending.size > 0) await Promise.allSettled([...pending]);
}
