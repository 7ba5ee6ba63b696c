// The baseline of bench/youtube-sync-limits: one queued sync run done the way the worker ran before
// syncs were cut into steps (no CPU budget, one long invocation), by the same engine, in a Deno
// process of its own so the edge runtime's limits (which would end it with a 546) do not apply.
// Prints the wall time and the main thread's CPU (what hosted counts) as JSON.
// Usage: deno run -A --config supabase/functions/deno.json bench/deno/sync-worker.ts <run id>
import { closeDb, sql } from '../../supabase/functions/_shared/platform/db.ts';
import { runWorker } from '../../supabase/functions/youtube-sync/worker.ts';
import { mainThreadCpuMs } from './proc.ts';

const [runId] = Deno.args;
const cpuBefore = mainThreadCpuMs();
const t0 = performance.now();
let invocations = 0;
for (;;) {
  const [run] = await sql()<{ status: string }[]>`select status from public.sync_runs where id = ${runId}`;
  if (!run) throw new Error(`no sync run ${runId}`);
  if (run.status !== 'queued' && run.status !== 'running') break;
  await runWorker({ runId, unbounded: true, timeBudgetMs: 600_000 });
  invocations++;
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ baseline: { seconds, cpu_ms: Math.round(mainThreadCpuMs() - cpuBefore), invocations } }));
await closeDb();
