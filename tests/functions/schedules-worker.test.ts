// The worker's guarantees when things go wrong around it: a worker killed mid-upload (SIGKILL of a
// process of its own) is resumed from the offset YouTube confirmed by the next one; a worker that
// dies between YouTube making the video and our database hearing of it leaves a session that the
// next worker asks, so the video is recorded and never uploaded twice; workers racing on the same
// due rows upload each once; a live worker renews its lease through a chunk slower than the lease;
// a stalled worker whose lease ran out stops when it wakes up; an
// upload cut into bounded steps finishes by itself, each step calling the next; and a worker
// killed between steps is resumed from the offset YouTube confirmed.
import postgres from 'postgres';
import { SCHEDULE_COST_BYTES } from '../../supabase/functions/schedules/budget.ts';
import { assertEquals, assertOk } from './assert.ts';
import {
  closeEngineDb,
  createSchedule,
  driveUntil,
  eventsOf,
  expectRecoveredAndPublished,
  type KilledHolder,
  makeDue,
  MiB,
  processHere,
  renderSha256,
  runWorkerFor,
  scheduleRow,
  killIsolates,
  servingIsolates,
  sleep,
  studio,
  uploadsOf,
  withUploadQuota,
} from './helpers/schedules.ts';
import { addFault, control } from './helpers/youtube.ts';
import { workerProcess } from './helpers/worker-process.ts';
import { callFunction, stack, withDb } from './helpers/users.ts';

Deno.test('a worker killed mid-upload is resumed from the offset YouTube confirmed by the next worker', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-kill', 64 * MiB);
    const made = await createSchedule(s, { strategy: 'upload_at_time' });
    const slow = await addFault({ match: { method: 'PUT', pathPrefix: '/youtube/upload/youtube/v3/videos' }, latencyMs: 150 });
    const first = `test:first:${crypto.randomUUID()}`;
    let killedAt: number;
    try {
      await makeDue(made.id, { claimFor: first, leaseSeconds: 4 });
      const child = workerProcess(made.id, first, { leaseSeconds: 4, chunkBytes: 4 * MiB });
      for (let i = 0; ; i++) {
        const row = await scheduleRow(made.id);
        if (row.upload_offset >= 16 * MiB) {
          child.kill('SIGKILL');
          killedAt = row.upload_offset;
          break;
        }
        assertOk(i < 600, `the upload did not get far enough: ${JSON.stringify(row)}`);
        await sleep(20);
      }
      // output(), not status: it also reads the pipes to their end, so they are closed.
      const status = await child.output();
      assertEquals(status.signal, 'SIGKILL');
    } finally {
      await control('DELETE', `faults/${slow}`);
    }
    const orphan = await scheduleRow(made.id);
    assertEquals([orphan.status, orphan.lease_owner], ['uploading', first]);
    assertOk(orphan.upload_offset < 64 * MiB);

    // Nobody takes it over while the dead worker's lease lasts; afterwards the next worker does.
    assertEquals((await runWorkerFor(made.id)).schedules, []);
    await sleep(Math.max(0, orphan.next_attempt_at!.getTime() - Date.now()) + 100);
    const row = await driveUntil(made.id);
    assertEquals(row.status, 'published', JSON.stringify(row));

    const uploads = await uploadsOf(s.youtubeChannelId);
    assertEquals(uploads.length, 1, 'the same session, so one video');
    assertEquals(uploads[0].size, 64 * MiB);
    assertEquals(uploads[0].sha256, (await renderSha256(s.render.pid)).sha256);
    assertOk(uploads[0].statusQueries >= 1);
    // Resumed once from where the killed worker left it; with bounded steps a later step of the
    // same upload resumes again, each from the offset the step before saved.
    const resumed = (await eventsOf(made.id)).filter(
      (e) => e.event === 'upload_resumed' && e.details.saved_offset === orphan.upload_offset,
    );
    assertEquals(resumed.length, 1);
    assertOk(resumed[0].details.from_offset >= killedAt, `resumed at ${resumed[0].details.from_offset}, killed at ${killedAt}`);
    assertEquals(resumed[0].details.saved_offset, orphan.upload_offset);
    // Only what was not confirmed is sent again: at most the chunk that was in flight.
    assertOk(uploads[0].bytesReceived <= 64 * MiB + 4 * MiB, `${uploads[0].bytesReceived} bytes received`);
  });
});

Deno.test(
  'a worker that dies after YouTube made the video but before the database heard of it: the next worker records it, no second upload',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-crash-final', 6 * MiB);
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      const first = `test:first:${crypto.randomUUID()}`;
      await makeDue(made.id, { claimFor: first, leaseSeconds: 3 });
      const child = workerProcess(made.id, first, { leaseSeconds: 3, chunkBytes: 4 * MiB, dieAfterLastChunk: true });
      const status = await child.status;
      const out = new TextDecoder().decode((await child.output()).stdout);
      assertEquals(status.code, 137, out);
      const died = JSON.parse(
        out
          .trim()
          .split('\n')
          .filter((l) => l.includes('died_after'))
          .at(-1)!,
      );

      const orphan = await scheduleRow(made.id);
      assertEquals(orphan.status, 'uploading');
      assertEquals(orphan.youtube_video_id, null, 'the database never heard of the video');
      assertOk(orphan.final_chunk_at !== null, 'the last chunk was marked before it went out');
      // Too late to cancel: the video may exist.
      const cancel = await s.user.call(`schedules/${made.id}/cancel`, { method: 'POST' });
      assertEquals(cancel.status, 409);
      assertEquals(cancel.body.error.code, 'too_late');

      await sleep(Math.max(0, orphan.next_attempt_at!.getTime() - Date.now()) + 100);
      const row = await driveUntil(made.id);
      assertEquals(row.status, 'published', JSON.stringify(row));
      assertEquals(row.youtube_video_id, died.youtube_video_id);
      const uploads = await uploadsOf(s.youtubeChannelId);
      assertEquals(uploads.length, 1, 'no second session');
      assertEquals(uploads[0].videoId, died.youtube_video_id);
      const uploaded = (await eventsOf(made.id)).filter((e) => e.event === 'uploaded');
      assertEquals(uploaded.length, 1);
      assertEquals(uploaded[0].details.learnt_from, 'status_query');
    });
  },
);

Deno.test('workers racing on the same due rows: every schedule is uploaded exactly once', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-race');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await createSchedule(s, { strategy: 'upload_at_time', title: `race ${i}` })).id);
    await withDb(
      (sql) => sql`update public.upload_schedules set publish_at = now(), next_attempt_at = now() where id = any(${ids}::uuid[])`,
    );
    // Three workers at once (and whatever pg_cron wakes), each free to take any due row.
    const reports = await Promise.all(
      [1, 2, 3].map(() =>
        callFunction(stack.serviceKey, 'schedules/worker', { method: 'POST', body: { claim_budget_ms: 3_000, concurrency: 3 } }),
      ),
    );
    for (const r of reports) assertEquals(r.status, 200, JSON.stringify(r.body));
    for (const id of ids) assertEquals((await driveUntil(id)).status, 'published');
    const taken = reports
      .flatMap((r) => r.body.schedules.map((o: { schedule_id: string }) => o.schedule_id))
      .filter((id: string) => ids.includes(id));
    assertEquals(new Set(taken).size, taken.length, 'no schedule was processed by two workers');

    const uploads = await uploadsOf(s.youtubeChannelId);
    assertEquals(uploads.length, 12);
    assertEquals(uploads.filter((u) => u.state === 'complete').length, 12);
    assertEquals(new Set(uploads.map((u) => u.received.snippet.title)).size, 12);
    const [{ started }] = await withDb(
      (sql) => sql`
      select count(*)::int as started from public.upload_events where schedule_id = any(${ids}::uuid[]) and event = 'upload_started'`,
    );
    assertEquals(started, 12);
  });
});

Deno.test('concurrent claims from two connections take disjoint rows; a row whose lease ran out is taken over', async () => {
  const s = await studio('sched-claims');
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push((await createSchedule(s, { publish_at: '2027-10-01T10:00:00Z' })).id);
  const a = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
  const b = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
  try {
    await a`update public.upload_schedules set next_attempt_at = now() - interval '1 second' where id = any(${ids}::uuid[])`;
    // Both claim inside open transactions at the same time, as two workers would.
    const [ra, rb] = await Promise.all([
      a.begin(async (tx) => {
        const rows = await tx`select id from private.claim_upload_schedules('worker-a', 6, 60) where id = any(${ids}::uuid[])`;
        await sleep(300);
        return rows;
      }),
      b.begin(async (tx) => {
        await sleep(50);
        return await tx`select id from private.claim_upload_schedules('worker-b', 6, 60) where id = any(${ids}::uuid[])`;
      }),
    ]);
    const mine = (rows: { id: string }[]) => rows.map((r) => r.id).filter((id) => ids.includes(id));
    const byA = mine(ra as never);
    const byB = mine(rb as never);
    assertEquals(
      byA.filter((id) => byB.includes(id)),
      [],
    );
    assertEquals(new Set([...byA, ...byB]).size, 10);

    // worker-a dies; once its lease has run out, worker-c takes its rows (attempt 2).
    await a`update public.upload_schedules set next_attempt_at = now() - interval '1 second', lease_expires_at = now() - interval '1 second'
      where id = any(${byA}::uuid[])`;
    const rc =
      await a`select id, attempts, lease_owner from private.claim_upload_schedules('worker-c', 20, 60) where id = any(${ids}::uuid[])`;
    assertEquals(rc.map((r) => r.id).sort(), [...byA].sort());
    assertOk(rc.every((r) => r.attempts === 2 && r.lease_owner === 'worker-c'));
    const stale = await a`select private.save_upload_offset(${byA[0]}, 'worker-a', 1) as outcome`;
    assertEquals(stale[0].outcome, 'lease_lost');
  } finally {
    await withDb((sql) => sql`delete from public.upload_schedules where id = any(${ids}::uuid[])`);
    await a.end();
    await b.end();
  }
});

Deno.test('a stalled worker whose lease ran out: the next one finishes the upload from the session, the stalled one stops', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-stall', 24 * MiB);
    const made = await createSchedule(s, { strategy: 'upload_at_time' });
    const stalled = `test:stalled:${crypto.randomUUID()}`;
    await makeDue(made.id, { claimFor: stalled, leaseSeconds: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let paused = false;
    try {
      const running = processHere(made.id, stalled, {
        leaseSeconds: 2,
        chunkBytes: 4 * MiB,
        hooks: {
          // After YouTube confirmed the first chunk the worker hangs (a long GC pause, a frozen VM).
          afterAnswer: async ({ state }) => {
            if (!paused && state.kind === 'incomplete' && state.confirmed > 0) {
              paused = true;
              await gate;
            }
          },
        },
      });
      while (!paused) await sleep(20);
      const before = await scheduleRow(made.id);
      await sleep(Math.max(0, before.next_attempt_at!.getTime() - Date.now()) + 100);
      const row = await driveUntil(made.id);
      assertEquals(row.status, 'published', JSON.stringify(row));
      release();
      const outcome = await running;
      assertEquals(outcome.result, 'lease_lost', JSON.stringify(outcome));
    } finally {
      release?.();
      await closeEngineDb();
    }
    const uploads = await uploadsOf(s.youtubeChannelId);
    assertEquals(uploads.length, 1);
    assertEquals(uploads[0].sha256, (await renderSha256(s.render.pid)).sha256);
    assertEquals((await eventsOf(made.id)).filter((e) => e.event === 'uploaded').length, 1);
  });
});

Deno.test('a live worker keeps its lease while a chunk takes longer than the lease: nobody takes the row over', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-heartbeat', 2 * MiB);
    const made = await createSchedule(s, { strategy: 'upload_at_time' });
    await makeDue(made.id);
    // Every chunk takes 7 s to be answered; the worker's lease is 5 s, renewed every 1.25 s.
    const slow = await addFault({ match: { method: 'PUT', pathPrefix: '/youtube/upload/youtube/v3/videos' }, latencyMs: 7_000 });
    try {
      const first = runWorkerFor(made.id, { lease_seconds: 5 });
      for (let i = 0; (await scheduleRow(made.id)).status !== 'uploading'; i++) {
        assertOk(i < 300, 'the upload did not start');
        await sleep(50);
      }
      await sleep(6_000);
      const row = await scheduleRow(made.id);
      assertOk(row.next_attempt_at!.getTime() > Date.now(), `the lease was not renewed: ${JSON.stringify(row)}`);
      assertEquals((await runWorkerFor(made.id)).schedules, [], 'a second worker took the row over');
      const report = await first;
      assertEquals(
        report.schedules.map((o: { result: string }) => o.result),
        ['published'],
        JSON.stringify(report),
      );
    } finally {
      await control('DELETE', `faults/${slow}`);
    }
    assertEquals((await uploadsOf(s.youtubeChannelId)).length, 1);
  });
});

Deno.test(
  'a bounded step per invocation: one call, and the upload finishes by itself in chained steps, whole and exactly once',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-steps', 40 * MiB);
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      await makeDue(made.id);
      // One call with 8 MiB steps; every later step is called by the one before (pg_net), with the same options.
      const first = await runWorkerFor(made.id, { step_bytes: 8 * MiB });
      assertEquals(
        first.schedules.map((o: { result: string }) => o.result),
        ['yielded'],
      );
      assertOk(first.bytes_sent <= 8 * MiB, String(first.bytes_sent));
      let row = await scheduleRow(made.id);
      for (let i = 0; row.status !== 'published'; i++) {
        assertOk(i < 600 && row.status !== 'failed', JSON.stringify(row));
        await sleep(100);
        row = await scheduleRow(made.id);
      }
      const events = await eventsOf(made.id);
      const paused = events.filter((e) => e.event === 'upload_paused');
      const resumed = events.filter((e) => e.event === 'upload_resumed');
      // Each step's budget: 8 MiB less what taking up the schedule counts for. A step is run by the
      // invocation the step before called (worker ids `schedules:step:…`, same options), or by a
      // waiting worker (pg_cron's wake-up and the successors it hands its wait on, default budget),
      // which polls every 2 s and may take every step before the call reaches the function.
      const perStep = 8 * MiB - SCHEDULE_COST_BYTES;
      const chained = (label: string | null) => label?.startsWith('schedules:step:') ?? false;
      assertEquals(resumed.length, paused.length);
      assertOk(
        resumed.every((e) => e.actor_label?.startsWith('schedules:') ?? false),
        `later steps are run by schedules workers (called by the step before, or waiting): ${JSON.stringify(resumed.map((e) => e.actor_label))}`,
      );
      // A step called by a clean pause takes the offset YouTube confirmed from its call instead of
      // asking YouTube again, unless a waiting worker claimed the row first (then its claim count
      // moved on and the step asks): when every step was a called one, every one took it.
      if (resumed.every((e) => chained(e.actor_label))) {
        assertEquals(
          resumed.map((e) => e.details.offset_from),
          resumed.map(() => 'handover'),
        );
      }
      for (const e of resumed.filter((e) => e.details.offset_from === 'handover')) {
        assertOk(chained(e.actor_label), `only a called step has a handover: ${JSON.stringify(e)}`);
        assertEquals(e.details.from_offset, e.details.saved_offset);
      }
      // Each step resumed exactly where the one before stopped; the test's call and every chained
      // step sent at most its budget.
      assertEquals(
        resumed.map((e) => e.details.from_offset),
        paused.map((e) => e.details.upload_offset),
      );
      const offsets = [0, ...paused.map((e) => e.details.upload_offset as number), 40 * MiB];
      for (let i = 1; i < offsets.length; i++) {
        assertOk(offsets[i] > offsets[i - 1], offsets.join(','));
        const byChainOrTest = i === 1 || chained(resumed[i - 2].actor_label);
        if (byChainOrTest) assertOk(offsets[i] - offsets[i - 1] <= 8 * MiB, offsets.join(','));
      }
      if (resumed.every((e) => chained(e.actor_label))) {
        assertEquals(paused.length, Math.ceil((40 * MiB) / perStep) - 1, JSON.stringify(paused.map((e) => e.details)));
      }
      assertEquals(new Set([...paused, ...resumed].map((e) => e.actor_label)).size, paused.length + 1, 'one invocation per step');
      assertEquals(events.filter((e) => e.event === 'upload_started').length, 1);
      assertEquals(events.filter((e) => e.event === 'uploaded').length, 1);
      const uploads = await uploadsOf(s.youtubeChannelId);
      assertEquals(uploads.length, 1);
      assertEquals([uploads[0].size, uploads[0].bytesReceived], [40 * MiB, 40 * MiB], 'no byte sent twice');
      assertEquals(uploads[0].sha256, (await renderSha256(s.render.pid)).sha256);
    });
  },
);

Deno.test(
  'a worker killed between steps (YouTube confirmed bytes the database never heard of): the next step resumes from the offset YouTube confirms',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-kill-step', 24 * MiB);
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      const first = `test:first:${crypto.randomUUID()}`;
      await makeDue(made.id, { claimFor: first, leaseSeconds: 3 });
      const child = workerProcess(made.id, first, { leaseSeconds: 3, chunkBytes: 4 * MiB, stepBytes: 8 * MiB, dieAtConfirmed: 8 * MiB });
      const status = await child.status;
      const out = new TextDecoder().decode((await child.output()).stdout);
      assertEquals(status.code, 137, out);
      const orphan = await scheduleRow(made.id);
      assertEquals([orphan.status, orphan.lease_owner, orphan.upload_offset], ['uploading', first, 4 * MiB]);

      await sleep(Math.max(0, orphan.next_attempt_at!.getTime() - Date.now()) + 100);
      const row = await driveUntil(made.id);
      assertEquals(row.status, 'published', JSON.stringify(row));
      const resumed = (await eventsOf(made.id)).filter((e) => e.event === 'upload_resumed');
      // The first step after the kill starts where YouTube stands, not where the database does (a
      // worker woken by pg_cron meanwhile may take a step of it too).
      assertOk(resumed.length >= 1);
      assertEquals([resumed[0].details.from_offset, resumed[0].details.saved_offset], [8 * MiB, 4 * MiB]);
      const uploads = await uploadsOf(s.youtubeChannelId);
      assertEquals(uploads.length, 1, 'the same session, so one video');
      assertEquals([uploads[0].size, uploads[0].bytesReceived], [24 * MiB, 24 * MiB], 'nothing YouTube had was sent again');
      assertEquals(uploads[0].sha256, (await renderSha256(s.render.pid)).sha256);
    });
  },
);

Deno.test(
  'a step whose invocation the runtime ended (pg_net got its 5xx) is taken back at once from that answer, not after its lease',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-step-killed', 48 * MiB);
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      // Slow chunks keep the second step running long enough to be killed in the middle.
      const slow = await addFault({ match: { method: 'PUT', pathPrefix: '/youtube/upload/youtube/v3/videos' }, latencyMs: 400 });
      let killed: KilledHolder;
      try {
        await makeDue(made.id);
        // The first step is called here; it pauses after 16 MiB and calls the next through pg_net.
        await runWorkerFor(made.id, { step_bytes: 16 * MiB });
        for (let i = 0; ; i++) {
          const [row] = await withDb(
            (sql) => sql`
          select lease_owner, step_worker, lease_expires_at, upload_offset::float8 as upload_offset,
            (select max(at) from public.upload_events e where e.schedule_id = s.id and e.event = 'upload_paused') as paused_at,
            (select (details ->> 'upload_offset')::float8 from public.upload_events e where e.schedule_id = s.id and e.event = 'upload_paused'
              order by e.id desc limit 1) as paused_offset
          from public.upload_schedules s where s.id = ${made.id}`,
          );
          // The next step holds the row and has sent bytes (so it is streaming, as a step the CPU
          // limit ends usually is): end its isolate. Usually that step is the one the pause called
          // (step_worker); when pg_cron's every-minute wake-up started a worker shortly before the
          // pause, pg_net (which sends a batch's requests only after the previous batch answered,
          // as hosted pg_net does) may hold the step call back while that worker takes the row:
          // then the holder is that worker, recovered from its own call's answer (holder_call).
          if (row.lease_owner && row.upload_offset > row.paused_offset) {
            // Every schedules request begun in the last minute: the holder, and any other worker
            // pg_cron woke meanwhile (none holds this row but the holder).
            const serving = await servingIsolates('schedules', row.paused_at.getTime() - 60_000);
            assertOk(serving.length >= 1, 'the step runs in an isolate of the edge runtime');
            killed = { worker: row.lease_owner, leaseExpires: row.lease_expires_at, offset: row.upload_offset };
            await killIsolates('schedules', serving);
            break;
          }
          assertOk(i < 600, `the next step did not start: ${JSON.stringify(row)}`);
          await sleep(20);
        }
      } finally {
        await control('DELETE', `faults/${slow}`);
      }

      // A worker waiting for due rows (as pg_cron's wake-up starts one every minute) reads pg_net's
      // answer to the step's call and resumes the upload.
      await expectRecoveredAndPublished(s, made.id, killed);
      const resumed = (await eventsOf(made.id)).filter((e) => e.event === 'upload_resumed' && e.details.saved_offset >= killed.offset);
      assertOk(resumed.length >= 1 && resumed[0].details.from_offset >= killed.offset, JSON.stringify(resumed));
    });
  },
);
