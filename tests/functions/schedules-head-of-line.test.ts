// pg_net sends its queue in batches and sends nothing more until every call of a batch has
// answered (hosted pg_net 0.20; the local worker does the same), and it writes a batch's answers
// only then. So a call that stays open holds back every call queued behind it, and the answers of
// its batch. A worker that pg_cron woke to wait for rows due later in the minute is such a call.
// Measured here with one in flight: how long after an upload's pause its next step started, and
// how long until pg_net held the answer to the pause's call for that step (what the recovery of a
// killed step reads, private.recover_upload_steps).
import { waitingTimes } from '../../supabase/functions/schedules/worker.ts';
import { assertEquals, assertOk } from './assert.ts';
import {
  createSchedule,
  killIsolates,
  makeDue,
  MiB,
  scheduleRow,
  servingIsolates,
  sleep,
  studio,
  withUploadQuota,
} from './helpers/schedules.ts';
import { withDb } from './helpers/users.ts';
import { workerProcess } from './helpers/worker-process.ts';

async function idleIsolates(fn: string): Promise<{ pid: number }[]> {
  const { isolates } = await (await fetch(`${Deno.env.get('LOCAL_FUNCTIONS_URL')}/_runtime/isolates`)).json();
  return (isolates as { fn: string; pid: number; serving_since: number | null }[]).filter((i) => i.fn === fn && i.serving_since === null);
}

/** Seconds from `from` to `to`, one decimal. */
const seconds = (from: Date, to: Date) => Math.round((to.getTime() - from.getTime()) / 100) / 10;

Deno.test(
  'a worker waiting through pg_net for a later schedule holds back neither the next step of a paused upload nor the answer to its call',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-hol', 24 * MiB);
      const upload = await createSchedule(s, { strategy: 'upload_at_time', title: 'paused upload' });
      // Due 50 s from now, inside a woken worker's claim window (55 s): the reason it waits.
      const later = await createSchedule(s, { strategy: 'upload_at_time', title: 'due later' });
      await withDb(
        (sql) => sql`
        update public.upload_schedules set publish_at = now() + interval '50 seconds', next_attempt_at = now() + interval '50 seconds'
        where id = ${later.id}`,
      );
      const first = `test:first:${crypto.randomUUID()}`;
      await makeDue(upload.id, { claimFor: first, leaseSeconds: 40 });

      // As pg_cron's every-minute wake-up does: a worker called through pg_net, waiting. In a fresh
      // isolate, so that its whole step budget is there: a warm isolate's ledger may end the worker
      // after the first upload step it takes, and then it would not be waiting any more.
      await killIsolates('schedules', await idleIsolates('schedules'));
      const since = Date.now();
      await withDb((sql) => sql`select private.call_upload_worker()`);
      for (let i = 0; (await servingIsolates('schedules', since)).length === 0; i++) {
        assertOk(i < 400, 'the woken worker never started');
        await sleep(50);
      }

      // The upload's first step, outside the runtime: 8 MiB, then it pauses and calls its next step.
      const step = await workerProcess(upload.id, first, { leaseSeconds: 40, chunkBytes: 4 * MiB, stepBytes: 8 * MiB }).output();
      const out = new TextDecoder().decode(step.stdout);
      assertOk(out.includes('"result":"yielded"'), out + new TextDecoder().decode(step.stderr));
      const [paused] = await withDb(
        (sql) => sql`
        select e.at, s.step_call_id from public.upload_events e join public.upload_schedules s on s.id = e.schedule_id
        where e.schedule_id = ${upload.id} and e.event = 'upload_paused'`,
      );
      assertOk(paused.step_call_id, 'the pause called the next step through pg_net');

      // Bounded: the woken worker's whole window and then some.
      let resumedAt: Date | undefined;
      let answeredAt: Date | undefined;
      for (let i = 0; !(resumedAt && answeredAt); i++) {
        assertOk(i < 700, `after 70 s: next step started ${resumedAt?.toISOString()}, its call answered ${answeredAt?.toISOString()}`);
        await sleep(100);
        const [row] = await withDb(
          (sql) => sql`
          select (select min(at) from public.upload_events where schedule_id = ${upload.id} and event = 'upload_resumed') as resumed_at,
            (select created from net._http_response where id = ${paused.step_call_id}) as answered_at`,
        );
        resumedAt = row.resumed_at ?? undefined;
        answeredAt = row.answered_at ?? undefined;
      }
      const startedAfter = seconds(paused.at, resumedAt);
      const answeredAfter = seconds(paused.at, answeredAt);
      console.log(`next step started ${startedAfter} s after the pause; pg_net answered its call ${answeredAfter} s after the pause`);
      assertOk(
        startedAfter <= 10,
        `the next step started ${startedAfter} s after the pause; waiting calls must not hold back chained steps`,
      );
      assertOk(
        answeredAfter <= 25,
        `pg_net answered the next step's call ${answeredAfter} s after the pause: a waiting worker's call held back the calls queued ` +
          'behind it and their answers (a killed step is taken back from that answer)',
      );
      for (let i = 0; (await scheduleRow(upload.id)).status !== 'published'; i++) {
        assertOk(i < 600, `the upload did not finish: ${JSON.stringify(await scheduleRow(upload.id))}`);
        await sleep(100);
      }
      // Nothing left due for later tests.
      await withDb((sql) => sql`delete from public.upload_schedules where id = ${later.id} and status <> 'published'`);
    });
  },
);

Deno.test(
  'a woken worker waits a few seconds, then hands the rest of its window on: a schedule due 12 s later starts on time',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-relay');
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      await withDb(
        (sql) => sql`
      update public.upload_schedules set publish_at = now() + interval '12 seconds', next_attempt_at = now() + interval '12 seconds'
      where id = ${made.id}`,
      );
      const [{ call_id: firstCall }] = await withDb((sql) => sql`select private.call_upload_worker() as call_id`);
      for (let i = 0; (await scheduleRow(made.id)).status !== 'published'; i++) {
        assertOk(i < 600, `not published within a minute: ${JSON.stringify(await scheduleRow(made.id))}`);
        await sleep(100);
      }
      // The woken call itself answered without the schedule, having called a successor.
      const [first] = await withDb((sql) => sql`select status_code, content from net._http_response where id = ${firstCall}`);
      assertOk(first, 'the woken call answered before the schedule was due');
      const report = JSON.parse(first.content);
      assertOk(first.status_code === 200 && report.schedules.length === 0 && report.chained === 1, first.content);
      const [started] = await withDb(
        (sql) => sql`
      select e.actor_label, extract(epoch from s.upload_started_at - s.publish_at)::float8 as lag_s
      from public.upload_events e join public.upload_schedules s on s.id = e.schedule_id
      where e.schedule_id = ${made.id} and e.event = 'upload_started'`,
      );
      assertOk(started.actor_label !== report.worker, 'a successor started the upload');
      assertOk(
        started.lag_s < 10,
        `started ${started.lag_s} s after its time: the relayed wait should cover it, not the next minute's tick`,
      );
    });
  },
);

Deno.test('one call waits 5 s of its window; a successor inherits what is left and never lengthens it', () => {
  const now = 1_000_000;
  assertEquals(waitingTimes({}, now), { windowEnd: now + 55_000, waitEnd: now + 5_000 });
  assertEquals(waitingTimes({ waitUntil: now + 3_000 }, now), { windowEnd: now + 3_000, waitEnd: now + 3_000 });
  assertEquals(waitingTimes({ waitUntil: now + 500_000 }, now).windowEnd, now + 55_000, 'a far wait_until does not lengthen the window');
  assertEquals(waitingTimes({ waitUntil: now - 1 }, now).waitEnd, now - 1, 'a window that is over: no waiting at all');
  assertEquals(waitingTimes({ waitMs: 55_000 }, now).waitEnd, now + 55_000, 'one call waiting out its whole window, as before');
});
