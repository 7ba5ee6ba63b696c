// The process whose memory bench/upload-memory measures: the schedules worker's engine on one
// already-claimed schedule, as the edge function runs it. Prints its resident set before the
// upload (everything loaded, nothing uploaded) and its peak (VmHWM) afterwards, and the CPU the
// upload took, as JSON.
// Usage: deno run -A --config supabase/functions/deno.json bench/deno/upload-worker.ts <schedule id> <worker id>
import { closeDb } from '../../supabase/functions/_shared/platform/db.ts';
import { ChannelClients, processSchedule } from '../../supabase/functions/schedules/engine.ts';
import { DEFAULT_CHUNK_BYTES } from '../../supabase/functions/schedules/plan.ts';
import { reread } from '../../supabase/functions/schedules/store.ts';
import { allThreadsCpuMs, mainThreadCpuMs, statusKb } from './proc.ts';

/** CPU of this process so far: the main thread (what hosted counts) and all threads. */
const cpuMs = () => ({ main: mainThreadCpuMs(), all: allThreadsCpuMs() });

const [scheduleId, workerId] = Deno.args;
const row = await reread(scheduleId);
if (!row || row.lease_owner !== workerId) throw new Error(`schedule ${scheduleId} is not claimed by ${workerId}`);
const before = { rss_kb: statusKb('VmRSS'), peak_kb: statusKb('VmHWM'), cpu_ms: cpuMs() };
const t0 = performance.now();
const outcome = await processSchedule(
  row,
  {
    workerId,
    leaseSeconds: 180,
    deadline: Date.now() + 600_000,
    chunkBytes: DEFAULT_CHUNK_BYTES,
  },
  new ChannelClients(),
);
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    outcome,
    seconds,
    before,
    after: { rss_kb: statusKb('VmRSS'), peak_kb: statusKb('VmHWM'), cpu_ms: cpuMs() },
    chunk_bytes: DEFAULT_CHUNK_BYTES,
  }),
);
await closeDb();
