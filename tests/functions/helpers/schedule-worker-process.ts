// Processes one already-claimed schedule in a process of its own, so that a test can kill it
// (SIGKILL) in the middle of an upload, as a crashed or timed-out edge function would die.
// Usage: deno run -A --config supabase/functions/deno.json <this file> <schedule id> <worker id> [options JSON]
// options: { leaseSeconds?, chunkBytes?, stepBytes?, dieAfterLastChunk?: true, dieAtConfirmed? } —
// dieAfterLastChunk exits the moment YouTube has answered the chunk with the last byte, before the
// database hears of the video; dieAtConfirmed exits once YouTube confirms that many bytes, before
// the offset is saved (a worker killed between steps of a bounded upload).
import { closeDb } from '../../../supabase/functions/_shared/platform/db.ts';
import { StepBudget } from '../../../supabase/functions/schedules/budget.ts';
import { ChannelClients, processSchedule } from '../../../supabase/functions/schedules/engine.ts';
import { reread } from '../../../supabase/functions/schedules/store.ts';

const [scheduleId, workerId, raw] = Deno.args;
const options: { leaseSeconds?: number; chunkBytes?: number; stepBytes?: number; dieAfterLastChunk?: boolean; dieAtConfirmed?: number } =
  raw ? JSON.parse(raw) : {};
const row = await reread(scheduleId);
if (!row || row.lease_owner !== workerId) {
  console.error(`schedule ${scheduleId} is not claimed by ${workerId}`);
  Deno.exit(2);
}
const outcome = await processSchedule(
  row,
  {
    workerId,
    leaseSeconds: options.leaseSeconds ?? 180,
    budget: new StepBudget({ bytes: options.stepBytes ?? Number.MAX_SAFE_INTEGER, deadline: Date.now() + 120_000 }),
    chunkBytes: options.chunkBytes ?? 8 * 1024 * 1024,
    hooks: {
      afterAnswer: ({ state }) => {
        if (options.dieAtConfirmed !== undefined && state.kind === 'incomplete' && state.confirmed >= options.dieAtConfirmed) {
          console.log(JSON.stringify({ died_after: 'confirmed', confirmed: state.confirmed }));
          Deno.exit(137);
        }
        if (options.dieAfterLastChunk && state.kind === 'complete') {
          console.log(JSON.stringify({ died_after: 'last chunk', youtube_video_id: state.video.id }));
          Deno.exit(137);
        }
      },
    },
  },
  new ChannelClients(),
);
console.log(JSON.stringify(outcome));
await closeDb();
