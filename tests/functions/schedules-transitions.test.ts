// Each transition of the upload engine on its own (engine.ts has the table), run in this process
// on a schedule claimed for the test's worker id, against the stack's database and the fake
// YouTube: what it returns (the next step) and what it wrote.
import { QuotaExhaustedError } from '../../supabase/functions/_shared/integrations/youtube/errors.ts';
import { StepBudget } from '../../supabase/functions/schedules/budget.ts';
import {
  ChannelClients,
  firstStep,
  runContext,
  type RunContext,
  type Step,
  TRANSITIONS,
} from '../../supabase/functions/schedules/engine.ts';
import { handleFailure } from '../../supabase/functions/schedules/failure.ts';
import { finishProcessing } from '../../supabase/functions/schedules/publish-step.ts';
import { recordVideo, resumeUpload, startUpload, streamUpload } from '../../supabase/functions/schedules/upload-steps.ts';
import { assertEquals, assertOk } from './assert.ts';
import {
  closeEngineDb,
  createSchedule,
  eventsOf,
  makeDue,
  MiB,
  readClaimed,
  renderSha256,
  scheduleRow,
  sleep,
  studio,
  type Studio,
  uploadsOf,
  withUploadQuota,
} from './helpers/schedules.ts';

/** A due schedule claimed for a worker of this test, and the engine's context for it. */
async function claimed(s: Studio, budget = StepBudget.unlimited(), publishInMs = 0): Promise<RunContext> {
  const made = await createSchedule(s, { strategy: 'upload_at_time' });
  const workerId = `test:transitions:${crypto.randomUUID()}`;
  await makeDue(made.id, { claimFor: workerId, publishInMs });
  const row = (await readClaimed(made.id))!;
  return runContext(row, { workerId, leaseSeconds: 60, chunkBytes: 2 * MiB, budget }, new ChannelClients());
}

const expectStep = <K extends Step['to']>(step: Step, to: K): Extract<Step, { to: K }> => {
  assertEquals(step.to, to, JSON.stringify(step));
  return step as Extract<Step, { to: K }>;
};

Deno.test('the table: each status starts where it should, and every transition is a named function', async () => {
  try {
    const s = await studio('tr-table');
    const ctx = await claimed(s);
    assertEquals(firstStep(ctx), { to: 'start', depth: 0 });
    assertEquals(firstStep({ ...ctx, row: { ...ctx.row, status: 'uploading' } }), { to: 'resume' });
    assertEquals(firstStep({ ...ctx, row: { ...ctx.row, status: 'processing' } }), { to: 'finish' });
    assertEquals(expectStep(firstStep({ ...ctx, row: { ...ctx.row, status: 'canceled' } }), 'done').outcome.result, 'lease_lost');
    assertEquals(
      Object.values(TRANSITIONS).map((t) => t.run.name),
      ['startUpload', 'resumeUpload', 'streamUpload', 'recordVideo', 'finishProcessing'],
    );
  } finally {
    await closeEngineDb();
  }
});

Deno.test('start: a due schedule gets its session saved before any byte and moves to stream; one due later is deferred', async () => {
  await withUploadQuota(async () => {
    try {
      const s = await studio('tr-start', 3 * MiB);
      const ctx = await claimed(s);
      const step = expectStep(await startUpload(ctx, { to: 'start', depth: 0 }), 'stream');
      await step.upload.source!.close();
      assertEquals([step.upload.from, step.upload.total], [0, 3 * MiB]);
      const row = await scheduleRow(ctx.row.id);
      assertEquals([row.status, row.upload_total_bytes, row.upload_offset], ['uploading', 3 * MiB, 0]);
      assertEquals(ctx.row.status, 'uploading');
      const [u] = await uploadsOf(s.youtubeChannelId);
      assertEquals([u.state, u.bytesReceived], ['active', 0]);

      const later = await claimed(s, StepBudget.unlimited(), 10 * 60_000);
      const deferred = expectStep(await startUpload(later, { to: 'start', depth: 0 }), 'done');
      assertEquals(deferred.outcome.result, 'deferred');
      assertEquals((await scheduleRow(later.row.id)).lease_owner, null);
    } finally {
      await closeEngineDb();
    }
  });
});

Deno.test('stream: a spent step pauses at the confirmed offset and calls its next step, which finishes the upload by itself', async () => {
  await withUploadQuota(async () => {
    try {
      const s = await studio('tr-stream', 10 * MiB);
      const ctx = await claimed(s, new StepBudget({ bytes: 4 * MiB, deadline: Number.MAX_SAFE_INTEGER }));
      const stream = expectStep(await startUpload(ctx, { to: 'start', depth: 0 }), 'stream');
      const paused = expectStep(await streamUpload(ctx, stream), 'done');
      assertEquals([paused.outcome.result, paused.outcome.bytes_sent], ['yielded', 4 * MiB]);
      // Nobody drives it from here: the call made in the pause's transaction runs the next step.
      let row = await scheduleRow(ctx.row.id);
      for (let i = 0; row.status !== 'published'; i++) {
        assertOk(i < 300, JSON.stringify(row));
        await sleep(100);
        row = await scheduleRow(ctx.row.id);
      }
      const events = await eventsOf(ctx.row.id);
      const pause = events.find((e) => e.event === 'upload_paused')!;
      assertEquals(pause.details.upload_offset, 4 * MiB);
      assertEquals(pause.actor_label, ctx.opts.workerId);
      const resumed = events.find((e) => e.event === 'upload_resumed')!;
      assertEquals([resumed.details.from_offset, resumed.details.saved_offset], [4 * MiB, 4 * MiB]);
      assertOk(resumed.actor_label !== ctx.opts.workerId, 'the next step is another invocation');
      const [u] = await uploadsOf(s.youtubeChannelId);
      assertEquals([u.size, u.bytesReceived, u.sha256], [10 * MiB, 10 * MiB, (await renderSha256(s.render.pid)).sha256]);
    } finally {
      await closeEngineDb();
    }
  });
});

Deno.test('resume: a session that holds more than the saved offset continues from what YouTube confirms', async () => {
  await withUploadQuota(async () => {
    try {
      const s = await studio('tr-resume', 6 * MiB);
      const ctx = await claimed(s);
      const stream = expectStep(await startUpload(ctx, { to: 'start', depth: 0 }), 'stream');
      // The worker dies after YouTube kept the first chunk, before the offset was saved.
      const died = new Error('died');
      const dying = { ...ctx, opts: { ...ctx.opts, hooks: { afterAnswer: () => Promise.reject(died) } } };
      let thrown: unknown;
      await streamUpload(dying, stream).catch((err) => (thrown = err));
      assertEquals(thrown, died);
      assertEquals((await scheduleRow(ctx.row.id)).upload_offset, 0);

      // A handover from a pause before a claim that is not this one (attempts moved on) is not
      // trusted: YouTube is asked.
      const stale = { ...ctx, opts: { ...ctx.opts, handover: { upload_offset: 0, attempts: ctx.row.attempts - 2 } } };
      const next = expectStep(await resumeUpload(stale, { to: 'resume' }), 'stream');
      ctx.row = stale.row;
      assertEquals(next.upload.from, 2 * MiB);
      assertEquals(next.upload.source, null);
      assertEquals((await scheduleRow(ctx.row.id)).upload_offset, 2 * MiB);
      const resumed = (await eventsOf(ctx.row.id)).find((e) => e.event === 'upload_resumed')!;
      assertEquals([resumed.details.from_offset, resumed.details.saved_offset, resumed.details.offset_from], [2 * MiB, 0, 'status_query']);
    } finally {
      await closeEngineDb();
    }
  });
});

Deno.test('record and finish: the video YouTube made is recorded, then the schedule is published', async () => {
  await withUploadQuota(async () => {
    try {
      const s = await studio('tr-record', 3 * MiB);
      const ctx = await claimed(s);
      const stream = expectStep(await startUpload(ctx, { to: 'start', depth: 0 }), 'stream');
      const record = expectStep(await streamUpload(ctx, stream), 'record');
      assertEquals([record.learntFrom, record.bytesSent], ['final_chunk', 3 * MiB]);
      const finish = expectStep(await recordVideo(ctx, record), 'finish');
      assertEquals(finish.justUploaded?.id, record.video.id);
      const recorded = await scheduleRow(ctx.row.id);
      assertEquals([recorded.status, recorded.youtube_video_id, recorded.upload_offset], ['processing', record.video.id, 3 * MiB]);

      const end = expectStep(await finishProcessing(ctx, finish), 'done');
      assertEquals(end.outcome.result, 'published');
      const row = await scheduleRow(ctx.row.id);
      assertEquals([row.status, row.lease_owner], ['published', null]);
      assertEquals(
        (await eventsOf(ctx.row.id)).map((e) => e.event),
        ['created', 'upload_started', 'uploaded', 'published'],
      );
    } finally {
      await closeEngineDb();
    }
  });
});

Deno.test('failure: quota waits for the reset with the reason; an unexpected error is retried with backoff', async () => {
  try {
    const s = await studio('tr-failure');
    const quota = await claimed(s);
    const waited = await handleFailure(quota, new QuotaExhaustedError('videos.insert', 'google'));
    assertEquals(waited.result, 'waiting');
    const q = await scheduleRow(quota.row.id);
    assertEquals([q.status, q.waiting_reason, q.lease_owner], ['scheduled', 'quota', null]);

    const odd = await claimed(s);
    const retried = await handleFailure(odd, new Error('socket hang up'));
    assertEquals([retried.result, retried.message], ['retry', 'socket hang up']);
    const r = await scheduleRow(odd.row.id);
    assertEquals([r.status, r.waiting_reason, r.last_error], ['scheduled', 'retry', 'socket hang up']);
    assertOk(r.next_attempt_at!.getTime() > Date.now() + 20_000, String(r.next_attempt_at));
  } finally {
    await closeEngineDb();
  }
});
