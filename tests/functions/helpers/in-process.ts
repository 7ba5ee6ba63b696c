// Tests that call a handler in this process (not through the stack) start the wrapper's work after
// the response: the batched call record (a timer, then a write) and the database pool it opens.
// Deno's sanitizers check that a test leaves no timer or connection open, so such a test waits for
// that work and closes the pool before it ends.
import { closeDb } from '../../../supabase/functions/_shared/platform/db.ts';
import { backgroundSettled } from '../../../supabase/functions/_shared/platform/observability/background.ts';

export async function settleInProcess(): Promise<void> {
  await backgroundSettled();
  await closeDb();
}

/** Deno.test for a test that calls handlers in this process: it settles their work at its end. */
export function inProcessTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test(name, async () => {
    try {
      await fn();
    } finally {
      await settleInProcess();
    }
  });
}
