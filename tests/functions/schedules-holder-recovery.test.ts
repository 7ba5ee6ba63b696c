// A worker woken through pg_net (pg_cron's every-minute wake-up, a worker's successor) that takes
// up an upload and is killed by the runtime: its row is taken back from pg_net's failed answer to
// the call that woke it, at once, as a step called by a paused upload is; not after its lease.
import { assertOk } from './assert.ts';
import {
  createSchedule,
  expectRecoveredAndPublished,
  type KilledHolder,
  makeDue,
  MiB,
  killIsolates,
  servingIsolates,
  sleep,
  studio,
  withUploadQuota,
} from './helpers/schedules.ts';
import { addFault, control } from './helpers/youtube.ts';
import { withDb } from './helpers/users.ts';

Deno.test(
  "a step a woken worker took up (not the call the pause made) is taken back at once from that worker call's failed answer",
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-holder-killed', 48 * MiB);
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      const slow = await addFault({ match: { method: 'PUT', pathPrefix: '/youtube/upload/youtube/v3/videos' }, latencyMs: 400 });
      let killed: KilledHolder;
      try {
        await makeDue(made.id);
        // As pg_cron's every-minute wake-up does: a worker called through pg_net, which waits for
        // due rows and takes this one up under the worker id the call gave it.
        const since = Date.now();
        await withDb((sql) => sql`select private.wake_upload_worker(interval '60 seconds', 1)`);
        for (let i = 0; ; i++) {
          const [row] = await withDb(
            (sql) => sql`
          select lease_owner, lease_expires_at, upload_offset::float8 as upload_offset from public.upload_schedules where id = ${made.id}`,
          );
          if (row.lease_owner && row.upload_offset > 0) {
            const serving = await servingIsolates('schedules', since - 1_000);
            assertOk(serving.length >= 1, 'the woken worker runs in an isolate of the edge runtime');
            killed = { worker: row.lease_owner, leaseExpires: row.lease_expires_at, offset: row.upload_offset };
            await killIsolates('schedules', serving);
            break;
          }
          assertOk(i < 1500, `no woken worker took the upload up: ${JSON.stringify(row)}`);
          await sleep(20);
        }
      } finally {
        await control('DELETE', `faults/${slow}`);
      }

      // How: from the failed answer to the call that woke the holder, not from a step call and
      // not by its lease running out (which writes no such event).
      await expectRecoveredAndPublished(s, made.id, killed, { foundBy: 'holder_call' });
    });
  },
);
