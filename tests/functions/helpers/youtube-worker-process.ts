// Processes one already-claimed sync run in a process of its own, so that a test can kill it
// (SIGKILL) in the middle of the run, as a crashed or timed-out edge function would die.
// Usage: deno run -A --config supabase/functions/deno.json <this file> <run id> <worker id>
import { asService, closeDb } from '../../../supabase/functions/_shared/platform/db.ts';
import { InvocationBudget } from '../../../supabase/functions/youtube-sync/budget.ts';
import { processRun } from '../../../supabase/functions/youtube-sync/engine.ts';
import type { SyncRun } from '../../../supabase/functions/youtube-sync/store.ts';

const [runId, workerId] = Deno.args;
const [run] = await asService((tx) => tx<SyncRun[]>`select * from public.sync_runs where id = ${runId}`);
// No CPU budget: the test decides when the process dies.
console.log(JSON.stringify(await processRun(run, { workerId, budget: new InvocationBudget(Infinity, 120_000), chain: false })));
await closeDb();
