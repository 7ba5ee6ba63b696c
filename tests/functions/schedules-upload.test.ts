// Uploads against the fake YouTube through the real worker: a 200 MB video through dropped
// connections arrives whole as one video; injected 5xx on chunks; edits before the start are what
// YouTube receives (also when the edit lands between a worker's claim and its session); YouTube
// scheduling with publishAt and the thumbnail; cancel before and during the upload; missed
// schedules under both workspace settings; quota, Google's quotaExceeded and the per-channel
// upload limit (waiting for the reset with the reason shown, an alert, then resuming); channels
// that need reconnecting; uploads YouTube locks private.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import {
  closeEngineDb,
  createSchedule,
  driveUntil,
  eventsOf,
  makeDue,
  MiB,
  processHere,
  readClaimed,
  renderSha256,
  resetUploadBehaviour,
  runWorkerFor,
  scheduleRow,
  settle,
  sleep,
  studio,
  systemLogs,
  uploadBehaviour,
  uploadsOf,
  withUploadQuota,
} from './helpers/schedules.ts';
import { nextPacificHour, quotaPosition, setShareSettings, spendShare, withShareSettings } from './helpers/quota.ts';
import { addFault, control } from './helpers/youtube.ts';
import { withDb } from './helpers/users.ts';

const eventNames = async (id: string) => (await eventsOf(id)).map((e) => e.event);

Deno.test('a 200 MB video with the connection dropped every ~50 MB arrives whole (size and hash) as exactly one video', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-200mb', 200 * MiB);
    const made = await createSchedule(s, { strategy: 'upload_at_time', title: 'The big one' });
    await uploadBehaviour({ dropEveryBytes: 50 * MiB });
    const t0 = performance.now();
    try {
      await makeDue(made.id);
      const row = await driveUntil(made.id, ['published', 'failed', 'canceled'], 300_000);
      assertEquals(row.status, 'published', JSON.stringify(row));
    } finally {
      await resetUploadBehaviour();
    }
    const seconds = (performance.now() - t0) / 1000;
    const row = await scheduleRow(made.id);
    const uploads = await uploadsOf(s.youtubeChannelId);
    assertEquals(uploads.length, 1, 'one upload session, so one video');
    const [u] = uploads;
    const expected = await renderSha256(s.render.pid);
    assertEquals(u.state, 'complete');
    assertEquals(u.videoId, row.youtube_video_id);
    assertEquals(u.size, 200 * MiB);
    assertEquals(u.sha256, expected.sha256);
    assertOk(u.drops >= 3, `${u.drops} drops`);
    // After each drop the worker asked the session where it stood, and went on from there.
    assertOk(u.statusQueries >= u.drops, `${u.statusQueries} status queries for ${u.drops} drops`);
    // Each drop costs at most the rest of one 8 MiB chunk again, never the file from the start.
    assertOk(u.bytesReceived <= 200 * MiB + u.drops * 8 * MiB, `${u.bytesReceived} bytes received`);
    assertEquals(row.upload_offset, 200 * MiB);
    const names = await eventNames(made.id);
    assertEquals(names.filter((n) => n === 'upload_started').length, 1);
    assertEquals(names.filter((n) => n === 'uploaded').length, 1);
    assertOk(!names.includes('upload_restarted') && !names.includes('session_lost'), names.join(','));
    console.log(
      `200 MB with ${u.drops} drops: ${seconds.toFixed(1)} s, ${u.puts} PUTs, ${u.statusQueries} status queries, ${u.bytesReceived - 200 * MiB} bytes resent`,
    );
  });
});

Deno.test('a third of the upload requests answered 503: the upload resumes from what YouTube kept and completes once', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-5xx', 40 * MiB);
    const made = await createSchedule(s, { strategy: 'upload_at_time' });
    const fault = await addFault({ match: { method: 'PUT', pathPrefix: '/youtube/upload/youtube/v3/videos' }, status: 503, failRate: 0.3 });
    try {
      await makeDue(made.id);
      const row = await driveUntil(made.id, ['published', 'failed'], 240_000);
      assertEquals(row.status, 'published', JSON.stringify(row));
    } finally {
      await control('DELETE', `faults/${fault}`);
    }
    const uploads = await uploadsOf(s.youtubeChannelId);
    assertEquals(uploads.length, 1);
    assertEquals(uploads[0].sha256, (await renderSha256(s.render.pid)).sha256);
  });
});

Deno.test('an edit made before the upload starts is what YouTube receives', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-edit-upload');
    const made = await createSchedule(s, { strategy: 'upload_at_time', privacy: 'unlisted' });
    const patch = await s.user.call(`schedules/${made.id}`, {
      method: 'PATCH',
      body: {
        title: 'Edited title',
        description: 'Edited description',
        tags: ['edited', 'two words'],
        category_id: '27',
        made_for_kids: true,
        notify_subscribers: false,
      },
    });
    assertEquals(patch.status, 200, JSON.stringify(patch.body));
    await makeDue(made.id);
    assertEquals((await driveUntil(made.id)).status, 'published');
    const [u] = await uploadsOf(s.youtubeChannelId);
    assertEquals(u.received, {
      snippet: { title: 'Edited title', description: 'Edited description', tags: ['edited', 'two words'], categoryId: '27' },
      status: { privacyStatus: 'unlisted', selfDeclaredMadeForKids: true },
    });
    assertEquals(u.notifySubscribers, false);
    assertEquals(u.video.privacyStatus, 'unlisted');
  });
});

Deno.test(
  'an edit that lands after a worker claimed the schedule but before its session: the old session gets no byte, YouTube gets the edit',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-edit-race');
      const made = await createSchedule(s, { strategy: 'upload_at_time', title: 'Before the edit' });
      const worker = `test:${crypto.randomUUID()}`;
      await makeDue(made.id, { claimFor: worker });
      try {
        // The worker read version 1 when it claimed; the editor changes it now.
        const claimed = (await readClaimed(made.id))!;
        assertEquals(claimed.version, 1);
        const patch = await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { title: 'After the edit' } });
        assertEquals(patch.status, 200, JSON.stringify(patch.body));
        const outcome = await processHere(made.id, worker, { row: claimed });
        assertEquals(outcome.result, 'published', JSON.stringify(outcome));
      } finally {
        await closeEngineDb();
      }
      const uploads = await uploadsOf(s.youtubeChannelId);
      assertEquals(uploads.length, 2);
      const abandoned = uploads.find((u) => u.received.snippet.title === 'Before the edit')!;
      const used = uploads.find((u) => u.received.snippet.title === 'After the edit')!;
      assertEquals(abandoned.state, 'active');
      assertEquals(abandoned.bytesReceived, 0);
      assertEquals(abandoned.videoId, null);
      assertEquals(used.state, 'complete');
      const started = (await eventsOf(made.id)).filter((e) => e.event === 'upload_started');
      assertEquals(started.length, 1);
      assertEquals(started[0].details.version, 2);
    });
  },
);

Deno.test('youtube_scheduled: uploaded ahead as private with publishAt, thumbnail set; YouTube publishes it at the time', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-publishat');
    const made = await createSchedule(s, { thumbnail_url: s.render.thumbnailUrl });
    assertEquals(made.strategy, 'youtube_scheduled');
    // 35 s ahead: far enough for YouTube to schedule it (it wants publishAt in the future).
    await makeDue(made.id, { publishInMs: 35_000 });
    const reached = await driveUntil(made.id, ['processing', 'published', 'failed']);
    assertEquals(reached.status, 'processing', JSON.stringify(reached));
    // A waiting worker may be the one that uploaded it, and still be setting the thumbnail when
    // the row turns `processing`: read the row once that worker's last step is recorded.
    for (let i = 0; i < 100 && !(await eventNames(made.id)).includes('awaiting_publish'); i++) await sleep(100);
    const uploaded = await scheduleRow(made.id);
    const publishAt = uploaded.publish_at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    assertEquals(uploaded.sent_metadata.status, { privacyStatus: 'private', publishAt, selfDeclaredMadeForKids: false });
    assertEquals(uploaded.thumbnail_status, 'set');
    const [u] = await uploadsOf(s.youtubeChannelId);
    assertEquals(u.video.privacyStatus, 'private');
    assertEquals(u.video.publishAt, publishAt);
    assertEquals(u.video.thumbnail.mimeType, 'image/png');
    // The worker looks again just after publish_at.
    assertOk(uploaded.next_attempt_at!.getTime() >= uploaded.publish_at.getTime(), String(uploaded.next_attempt_at));
    assertEquals((await runWorkerFor(made.id)).schedules, [], 'not due before publish_at');

    await sleep(Math.max(0, uploaded.next_attempt_at!.getTime() - Date.now()) + 200);
    const published = await driveUntil(made.id);
    assertEquals(published.status, 'published', JSON.stringify(published));
    assertOk(
      Math.abs(published.published_at!.getTime() - published.publish_at.getTime()) < 2_000,
      `published ${published.published_at} for ${published.publish_at}`,
    );
    assertEquals(await eventNames(made.id), ['created', 'upload_started', 'uploaded', 'thumbnail_set', 'awaiting_publish', 'published']);
    assertEquals((await eventsOf(made.id)).at(-1)!.details.confirmed_by, 'videos.list');
  });
});

Deno.test('cancel before the upload: nothing reaches YouTube; cancel during the upload: it stops and no video appears', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-cancel', 64 * MiB);
    const before = await createSchedule(s, { strategy: 'upload_at_time' });
    assertEquals((await s.user.call(`schedules/${before.id}/cancel`, { method: 'POST' })).status, 200);
    await makeDue(before.id);
    assertEquals((await runWorkerFor(before.id)).schedules, []);
    assertEquals(await uploadsOf(s.youtubeChannelId), []);

    const during = await createSchedule(s, { strategy: 'upload_at_time' });
    // Slow chunks, so that the cancel lands in the middle.
    const slow = await addFault({ match: { method: 'PUT', pathPrefix: '/youtube/upload/youtube/v3/videos' }, latencyMs: 300 });
    const worker = `test:${crypto.randomUUID()}`;
    try {
      await makeDue(during.id, { claimFor: worker });
      const running = processHere(during.id, worker, { chunkBytes: 4 * MiB });
      for (let i = 0; (await scheduleRow(during.id)).upload_offset === 0; i++) {
        assertOk(i < 200, 'the upload never started');
        await sleep(50);
      }
      const cancel = await s.user.call(`schedules/${during.id}/cancel`, { method: 'POST' });
      assertEquals(cancel.status, 200, JSON.stringify(cancel.body));
      assertEquals(cancel.body.schedule.status, 'canceled');
      assertEquals((await running).result, 'canceled');
    } finally {
      await control('DELETE', `faults/${slow}`);
      await closeEngineDb();
    }
    const row = await scheduleRow(during.id);
    assertEquals(row.status, 'canceled');
    assertEquals(row.youtube_video_id, null);
    assertEquals(row.lease_owner, null);
    assertOk(row.upload_offset > 0 && row.upload_offset < 64 * MiB, String(row.upload_offset));
    const uploads = await uploadsOf(s.youtubeChannelId);
    assertEquals(uploads.length, 1);
    assertEquals(uploads[0].state, 'active');
    assertEquals(uploads[0].videoId, null);
    const events = await eventsOf(during.id);
    const canceled = events.find((e) => e.event === 'canceled')!;
    assertEquals(canceled.details.during_upload, true);
    assertEquals(canceled.actor_type, 'user');
    assertEquals(events.at(-1)!.event, 'upload_aborted');
    assertEquals(events.at(-1)!.actor_type, 'worker');
  });
});

Deno.test('missed schedule, default setting: published late at once, and the lateness is recorded', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-missed-late');
    const made = await createSchedule(s);
    // We were down: its time passed an hour ago (and its upload, due an hour before that, never ran).
    await makeDue(made.id, { publishInMs: -3_600_000 });
    const row = await driveUntil(made.id);
    assertEquals(row.status, 'published', JSON.stringify(row));
    assertOk(row.missed_at !== null);
    // Too late for YouTube to schedule: uploaded public, so it is out now.
    assertEquals(row.sent_metadata.status.privacyStatus, 'public');
    assertEquals(row.sent_metadata.status.publishAt, undefined);
    const events = await eventsOf(made.id);
    const missed = events.find((e) => e.event === 'missed')!;
    assertEquals(missed.actor_type, 'dispatcher');
    assertEquals(missed.details.policy, 'publish_late');
    assertOk(missed.details.late_by_seconds >= 3600, JSON.stringify(missed.details));
    const published = events.at(-1)!;
    assertEquals(published.event, 'published');
    assertEquals(published.details.missed, true);
    assertOk(published.details.late_by_seconds >= 3600);
  });
});

Deno.test('missed schedule, hold setting: held for a person (with an alert), who then publishes it now', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-missed-hold');
    const put = await s.user.call('schedules/settings', {
      method: 'PUT',
      body: { workspace_id: s.workspaceId, missed_schedule_policy: 'hold' },
    });
    assertEquals(put.status, 200, JSON.stringify(put.body));
    const made = await createSchedule(s, { strategy: 'upload_at_time' });
    await makeDue(made.id, { publishInMs: -20 * 60_000 });
    const held = await settle(made.id);
    assertEquals(held.status, 'held');
    assertEquals(held.next_attempt_at, null);
    assertMatch(held.last_error ?? '', /missed its publish time by .*held for a person/);
    assertEquals(await uploadsOf(s.youtubeChannelId), []);
    const logs = await systemLogs('upload_schedule_held', made.id);
    assertEquals(logs.length, 1);
    assertEquals(logs[0].severity, 'warning');
    const missed = (await eventsOf(made.id)).find((e) => e.event === 'missed')!;
    assertEquals([missed.from_status, missed.to_status, missed.details.policy], ['scheduled', 'held', 'hold']);

    // Still editable while held; a person publishes it now.
    assertEquals((await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { title: 'Late but here' } })).status, 200);
    const now = await s.user.call(`schedules/${made.id}/publish-now`, { method: 'POST' });
    assertEquals(now.status, 200, JSON.stringify(now.body));
    const row = await driveUntil(made.id);
    assertEquals(row.status, 'published');
    assertEquals((await uploadsOf(s.youtubeChannelId))[0].received.snippet.title, 'Late but here');
    const names = await eventNames(made.id);
    assertEquals(names, ['created', 'missed', 'edited', 'publish_now', 'upload_started', 'uploaded', 'published']);
  });
});

async function usedToday(): Promise<number> {
  const [{ used }] = await withDb(
    (sql) => sql<{ used: number }[]>`
    select coalesce(sum(units), 0)::int as used from public.youtube_quota_usage where day = (now() at time zone 'America/Los_Angeles')::date`,
  );
  return used;
}

async function quotaReset(): Promise<Date> {
  const [{ at }] = await withDb((sql) => sql<{ at: Date }[]>`select private.next_youtube_quota_reset() as at`);
  return at;
}

/** As if midnight Pacific time had come: the schedule is due again. */
async function passTheReset(id: string) {
  await withDb((sql) => sql`update public.upload_schedules set next_attempt_at = now() where id = ${id}`);
}

Deno.test('quota: with our daily budget spent the schedule waits for the reset (reason shown, alert logged), then uploads', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-quota');
    const made = await createSchedule(s, { strategy: 'upload_at_time' });
    await withDb(async (sql) => sql`update private.youtube_daily_budget set units = ${await usedToday()}`);
    await makeDue(made.id);
    const waiting = await settle(made.id);
    assertEquals([waiting.status, waiting.waiting_reason], ['scheduled', 'quota']);
    assertEquals(waiting.next_attempt_at?.toISOString(), (await quotaReset()).toISOString());
    assertMatch(waiting.last_error ?? '', /daily YouTube quota budget reached.*waits for the daily quota to reset/);
    assertEquals(await uploadsOf(s.youtubeChannelId), [], 'no session was started');
    assertEquals((await systemLogs('upload_waiting_quota', made.id)).length, 1);
    const shown = (await s.user.call(`schedules/${made.id}`)).body.schedule;
    assertEquals(
      [shown.status, shown.waiting_reason, shown.next_attempt_at],
      ['scheduled', 'quota', waiting.next_attempt_at!.toISOString()],
    );
    assertEquals((await runWorkerFor(made.id)).schedules, [], 'left alone until the reset');

    await withDb((sql) => sql`update private.youtube_daily_budget set units = 100000000`);
    await passTheReset(made.id);
    const row = await driveUntil(made.id);
    assertEquals(row.status, 'published', JSON.stringify(row));
    assertEquals(row.waiting_reason, null);
    assertEquals(await eventNames(made.id), ['created', 'waiting', 'upload_started', 'uploaded', 'published']);
  });
});

Deno.test(
  "quota share: with its workspace's share spent an upload waits for the borrow hour (reason quota_share); another workspace uploads; then it borrows",
  async () => {
    const borrowHour = await nextPacificHour();
    await withUploadQuota(() =>
      withShareSettings({ borrow_from_hour: borrowHour }, async () => {
        const s = await studio('sched-share');
        const made = await createSchedule(s, { strategy: 'upload_at_time' });
        await spendShare(s.workspaceId);
        const position = await quotaPosition(s.workspaceId);
        await makeDue(made.id);
        const waiting = await settle(made.id);
        assertEquals([waiting.status, waiting.waiting_reason], ['scheduled', 'quota_share']);
        assertEquals(waiting.next_attempt_at?.toISOString(), position.borrow_from.toISOString());
        assertMatch(waiting.last_error ?? '', /share of the daily YouTube quota is spent.*may borrow unused quota/);
        assertEquals(await uploadsOf(s.youtubeChannelId), [], 'no session was started');
        assertEquals((await systemLogs('upload_waiting_quota_share', made.id)).length, 1);
        const shown = (await s.user.call(`schedules/${made.id}`)).body.schedule;
        assertEquals([shown.waiting_reason, shown.next_attempt_at], ['quota_share', waiting.next_attempt_at!.toISOString()]);

        const other = await studio('sched-share-other');
        const theirs = await createSchedule(other, { strategy: 'upload_at_time' });
        await makeDue(theirs.id);
        assertEquals((await driveUntil(theirs.id)).status, 'published', 'another workspace is unaffected');

        await setShareSettings({ borrow_from_hour: 0 });
        await passTheReset(made.id);
        const row = await driveUntil(made.id);
        assertEquals([row.status, row.waiting_reason], ['published', null]);
        assertOk((await quotaPosition(s.workspaceId)).workspace_used > position.share_units, 'it borrowed');
      }),
    );
  },
);

Deno.test("quota: Google's quotaExceeded and the channel's uploadLimitExceeded wait for the reset too, then upload", async () => {
  await withUploadQuota(async () => {
    for (const [fault, reason, alert] of [
      ['quotaExceeded', 'quota', 'upload_waiting_quota'],
      ['uploadLimitExceeded', 'upload_limit', 'upload_waiting_upload_limit'],
    ] as const) {
      const s = await studio(`sched-${reason}`);
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      await uploadBehaviour({ [fault]: 1 });
      let waiting;
      try {
        await makeDue(made.id);
        waiting = await settle(made.id);
      } finally {
        await resetUploadBehaviour();
      }
      assertEquals([waiting.status, waiting.waiting_reason], ['scheduled', reason], JSON.stringify(waiting));
      assertEquals(waiting.next_attempt_at?.toISOString(), (await quotaReset()).toISOString());
      assertMatch(waiting.last_error ?? '', fault === 'quotaExceeded' ? /quotaExceeded/ : /uploadLimitExceeded/);
      assertEquals((await systemLogs(alert, made.id)).length, 1);
      await passTheReset(made.id);
      assertEquals((await driveUntil(made.id)).status, 'published');
      assertEquals((await uploadsOf(s.youtubeChannelId)).filter((u) => u.state === 'complete').length, 1);
    }
  });
});

Deno.test('a channel that must be reconnected: the upload waits without calling YouTube; a revoked grant marks the channel', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-reauth');
    const made = await createSchedule(s, { strategy: 'upload_at_time' });
    // The refresh token is revoked at Google and the stored access token has expired.
    const [{ refresh_token: refresh }] = await withDb((sql) => sql`select refresh_token from private.channel_credentials(${s.channelId})`);
    await control('POST', 'youtube/tokens/revoke', { refresh_token: refresh });
    await withDb(
      (sql) =>
        sql`update private.channel_credentials set access_token_expires_at = now() - interval '1 minute' where channel_id = ${s.channelId}`,
    );
    await makeDue(made.id);
    const row = await settle(made.id);
    assertEquals([row.status, row.waiting_reason], ['scheduled', 'reauth_required'], JSON.stringify(row));
    assertMatch(row.last_error ?? '', /invalid_grant.*reconnected/);
    const [channel] = await withDb((sql) => sql`select status from public.channels where id = ${s.channelId}`);
    assertEquals(channel.status, 'reauth_required');
    assertEquals(await uploadsOf(s.youtubeChannelId), []);
    // Looked at again later, it still waits and does not even ask Google.
    await passTheReset(made.id);
    assertEquals((await settle(made.id)).waiting_reason, 'reauth_required');
    assertEquals((await systemLogs('upload_waiting_reauth', made.id)).length, 2);
  });
});

Deno.test(
  'YouTube locks the upload private (unaudited API project): the schedule fails with the reason and keeps the video id',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('sched-locked');
      const made = await createSchedule(s, { strategy: 'upload_at_time' });
      await uploadBehaviour({ lockPrivate: true });
      try {
        await makeDue(made.id);
        const row = await driveUntil(made.id);
        assertEquals(row.status, 'failed');
        assertOk(row.youtube_video_id !== null);
        assertMatch(row.last_error ?? '', /private.*audit/);
        assertEquals((await systemLogs('upload_failed', made.id)).length, 1);
      } finally {
        await resetUploadBehaviour();
      }
    });
  },
);

Deno.test('the render was deleted before the upload: the schedule fails with the reason', async () => {
  const s = await studio('sched-norender');
  const made = await createSchedule(s, { strategy: 'upload_at_time' });
  await withDb((sql) => sql`delete from public.video_jobs where id = ${s.render.videoJobId}`);
  await makeDue(made.id);
  const row = await driveUntil(made.id);
  assertEquals(row.status, 'failed');
  assertMatch(row.last_error ?? '', /render .*deleted/);
});
