// The schedules API against a running stack: every invalid field is a 400 that names it (YouTube's
// metadata limits, the channel and render of the workspace, the time and its zone); roles
// (viewers read, editors write, owners change settings, other workspaces get 404); idempotent
// creation; the calendar range; edits, reschedules, cancels and publish-now with their events;
// and the workspace settings that decide the upload lead and missed schedules.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import {
  connectFakeChannel,
  createSchedule,
  driveUntil,
  inMinutes,
  readyRender,
  renderingJob,
  scheduleBody,
  scheduleRow,
  type Studio,
  studio,
  withUploadQuota,
} from './helpers/schedules.ts';
import { addMember, callFunction, type Answer, createWorkspace, failedPaths, signUp, withDb } from './helpers/users.ts';

function assertInvalid(answer: Answer, path: string, message?: RegExp) {
  assertEquals(answer.status, 400, `${path}: ${JSON.stringify(answer.body)}`);
  assertEquals(answer.body.error.code, 'validation_failed');
  assertOk(
    failedPaths(answer).includes(path),
    `expected ${path} among ${JSON.stringify(failedPaths(answer))}: ${JSON.stringify(answer.body)}`,
  );
  if (message) assertMatch(JSON.stringify(answer.body.error.details), message);
}

Deno.test('create: every invalid field is a 400 naming it', async () => {
  const s = await studio('sched-invalid');
  const other = await studio('sched-invalid-other');
  const rendering = await renderingJob(s.workspaceId, s.user.id);
  const post = (overrides: Record<string, unknown>, headers: Record<string, string> = {}) =>
    s.user.call('schedules', { method: 'POST', body: scheduleBody(s, overrides), headers });
  const without = async (field: string) => {
    const body = scheduleBody(s);
    delete body[field];
    return await s.user.call('schedules', { method: 'POST', body });
  };

  const cases: [Record<string, unknown>, string, RegExp?][] = [
    [{ workspace_id: 'nope' }, 'workspace_id'],
    [{ channel_id: 'x' }, 'channel_id'],
    [{ channel_id: other.channelId }, 'channel_id', /not a connected YouTube channel of this workspace/],
    [{ video_job_id: 42 }, 'video_job_id'],
    [{ video_job_id: rendering }, 'video_job_id', /not ready/],
    [{ video_job_id: other.render.videoJobId }, 'video_job_id', /not a render of this workspace/],
    [{ title: '' }, 'title', /empty/],
    [{ title: 'x'.repeat(101) }, 'title', /100 characters/],
    [{ title: 'Best <pasta>' }, 'title', /< or >/],
    [{ title: 7 }, 'title'],
    // 2,501 characters but 5,002 bytes: the limit is bytes
    [{ description: 'é'.repeat(2501) }, 'description', /5000 bytes/],
    [{ description: 'a > b' }, 'description', /< or >/],
    [{ tags: 'pasta' }, 'tags'],
    [{ tags: ['pasta,dinner'] }, 'tags.0', /commas/],
    [{ tags: [''] }, 'tags.0'],
    // 480 characters of tags, but with the commas between them and the quotes around the ones with
    // a space YouTube counts 535
    [{ tags: Array.from({ length: 24 }, (_, i) => `tag ${String(i).padStart(2, '0')} abcdefghijklm`) }, 'tags', /500 characters/],
    [{ category_id: '99' }, 'category_id', /category/],
    [{ category_id: 22 }, 'category_id'],
    [{ privacy: 'secret' }, 'privacy'],
    [{ made_for_kids: 'yes' }, 'made_for_kids'],
    [{ notify_subscribers: 1 }, 'notify_subscribers'],
    [{ thumbnail_url: 'ftp://example.com/t.png' }, 'thumbnail_url'],
    [{ thumbnail_url: 'not a url' }, 'thumbnail_url'],
    [{ publish_at: 'tomorrow at six' }, 'publish_at'],
    [{ publish_at: '2027-02-30T10:00' }, 'publish_at'],
    [{ publish_at: '2020-01-01T00:00:00Z' }, 'publish_at', /future/],
    [{ publish_at: new Date(Date.now() - 60_000).toISOString() }, 'publish_at', /future/],
    [{ time_zone: 'Mars/Olympus_Mons' }, 'time_zone', /IANA/],
    [{ time_zone: 'Europe/Berlin; drop table' }, 'time_zone'],
    [{ strategy: 'later' }, 'strategy'],
    [{ strategy: 'youtube_scheduled', privacy: 'unlisted' }, 'strategy', /upload_at_time/],
  ];
  for (const [overrides, path, message] of cases) assertInvalid(await post(overrides), path, message);
  for (const field of ['workspace_id', 'channel_id', 'video_job_id', 'title', 'publish_at']) assertInvalid(await without(field), field);

  const unknown = await post({ colour: 'red' });
  assertEquals(unknown.status, 400);
  assertMatch(unknown.body.error.message, /colour/);
  assertInvalid(await post({}, { 'Idempotency-Key': 'has spaces in it' }), 'Idempotency-Key');

  // A channel that must be reconnected cannot be scheduled on.
  await withDb((sql) => sql`update public.channels set status = 'reauth_required' where id = ${s.channelId}`);
  assertInvalid(await post({}), 'channel_id', /reconnected/);
  // Nothing was created by any of these.
  const [{ n }] = await withDb((sql) => sql`select count(*)::int as n from public.upload_schedules where workspace_id = ${s.workspaceId}`);
  assertEquals(n, 0);
});

Deno.test('create: 201 with the time in UTC and in the zone it was chosen in; an idempotent retry returns the same schedule', async () => {
  const s = await studio('sched-create');
  const key = `create-${crypto.randomUUID()}`;
  const body = scheduleBody(s, { publish_at: '2027-07-01T18:00', time_zone: 'America/New_York', thumbnail_url: s.render.thumbnailUrl });
  const first = await s.user.call('schedules', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
  assertEquals(first.status, 201, JSON.stringify(first.body));
  const sc = first.body.schedule;
  assertEquals(sc.publish_at, '2027-07-01T22:00:00.000Z'); // 18:00 EDT
  assertEquals(sc.publish_at_local, '2027-07-01T18:00:00');
  assertEquals(sc.time_zone, 'America/New_York');
  assertEquals(sc.status, 'scheduled');
  assertEquals(sc.strategy, 'youtube_scheduled');
  assertEquals(sc.privacy, 'public');
  assertEquals(sc.made_for_kids, false);
  assertEquals(sc.notify_subscribers, true);
  assertEquals(sc.version, 1);
  assertEquals(sc.youtube, null);
  // youtube_scheduled uploads an hour (the default lead) before its time
  assertEquals(sc.next_attempt_at, '2027-07-01T21:00:00.000Z');

  const again = await s.user.call('schedules', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
  assertEquals(again.status, 200);
  assertEquals(again.body.schedule.id, sc.id);
  assertEquals(again.body.replayed, true);
  const reused = await s.user.call('schedules', {
    method: 'POST',
    body: { ...body, title: 'Another' },
    headers: { 'Idempotency-Key': key },
  });
  assertEquals(reused.status, 409);
  assertEquals(reused.body.error.code, 'idempotency_key_reused');

  // An instant with its offset; the zone defaults to the profile's (UTC for a new user).
  const offset = await createSchedule(s, { publish_at: '2027-01-15T09:30:00+01:00', time_zone: undefined, privacy: 'unlisted' });
  assertEquals(offset.publish_at, '2027-01-15T08:30:00.000Z');
  assertEquals(offset.time_zone, 'UTC');
  assertEquals(offset.publish_at_local, '2027-01-15T08:30:00');
  // unlisted cannot be released by YouTube's publishAt: it uploads at its time
  assertEquals(offset.strategy, 'upload_at_time');
  assertEquals(offset.next_attempt_at, '2027-01-15T08:30:00.000Z');

  const detail = await s.user.call(`schedules/${sc.id}`);
  assertEquals(detail.status, 200);
  assertEquals(
    detail.body.events.map((e: { event: string }) => e.event),
    ['created'],
  );
  assertEquals(detail.body.events[0].actor, { type: 'user', user_id: s.user.id, label: null });
});

Deno.test('roles: viewers read, editors write, outsiders get 404, anonymous callers 401', async () => {
  const owner = await signUp('sched-owner');
  const editor = await signUp('sched-editor');
  const viewer = await signUp('sched-viewer');
  const outsider = await signUp('sched-outsider');
  const ws = await createWorkspace(owner, 'Schedules team');
  await addMember(owner, ws, editor, 'editor');
  await addMember(owner, ws, viewer, 'viewer');
  const { channelId, youtubeChannelId } = await connectFakeChannel(ws, owner.id, 'sched-roles');
  const team: Studio = { user: editor, workspaceId: ws, channelId, youtubeChannelId, render: await readyRender(ws, owner.id) };

  const made = await createSchedule(team);
  assertEquals((await viewer.call('schedules', { method: 'POST', body: scheduleBody(team) })).status, 403);
  assertEquals((await outsider.call('schedules', { method: 'POST', body: scheduleBody(team) })).status, 404);
  assertEquals((await callFunction(null, 'schedules', { method: 'POST', body: scheduleBody(team) })).status, 401);

  assertEquals((await viewer.call(`schedules/${made.id}`)).status, 200);
  assertEquals((await viewer.call(`schedules?workspace_id=${ws}`)).body.schedules.length, 1);
  for (const [method, path, body] of [
    ['PATCH', `schedules/${made.id}`, { title: 'x' }],
    ['POST', `schedules/${made.id}/reschedule`, { publish_at: inMinutes(600) }],
    ['POST', `schedules/${made.id}/cancel`, undefined],
    ['POST', `schedules/${made.id}/publish-now`, undefined],
  ] as const) {
    const v = await viewer.call(path, { method, body });
    assertEquals(v.status, 403, `viewer ${method} ${path}: ${JSON.stringify(v.body)}`);
    const o = await outsider.call(path, { method, body });
    assertEquals(o.status, 404, `outsider ${method} ${path}: ${JSON.stringify(o.body)}`);
    assertEquals(o.body.error.code, 'not_found');
  }
  assertEquals((await outsider.call(`schedules/${made.id}`)).status, 404);
  assertEquals((await outsider.call(`schedules?workspace_id=${ws}`)).status, 404);
  assertEquals((await outsider.call('schedules/00000000-0000-4000-8000-000000000000')).status, 404);

  // Settings: members read, owners change.
  assertEquals((await viewer.call(`schedules/settings?workspace_id=${ws}`)).body.settings.missed_schedule_policy, 'publish_late');
  assertEquals(
    (await editor.call('schedules/settings', { method: 'PUT', body: { workspace_id: ws, missed_schedule_policy: 'hold' } })).status,
    403,
  );
  assertEquals((await outsider.call(`schedules/settings?workspace_id=${ws}`)).status, 404);
  const put = await owner.call('schedules/settings', {
    method: 'PUT',
    body: { workspace_id: ws, missed_schedule_policy: 'hold', upload_lead_minutes: 120 },
  });
  assertEquals(put.status, 200, JSON.stringify(put.body));
  assertEquals(put.body.settings.missed_schedule_policy, 'hold');
  assertEquals(put.body.settings.upload_lead_minutes, 120);
  assertInvalid(
    await owner.call('schedules/settings', { method: 'PUT', body: { workspace_id: ws, upload_lead_minutes: 0 } }),
    'upload_lead_minutes',
  );
  assertInvalid(
    await owner.call('schedules/settings', { method: 'PUT', body: { workspace_id: ws, missed_schedule_policy: 'ignore' } }),
    'missed_schedule_policy',
  );

  // The lead applies to schedules made afterwards: two hours before publish_at.
  const later = await createSchedule(team, { publish_at: '2027-03-01T12:00:00Z' });
  assertEquals(later.next_attempt_at, '2027-03-01T10:00:00.000Z');

  // Direct database access (supabase-js) cannot write either: RLS and grants leave SELECT only.
  const [{ writable }] = await withDb(
    (sql) => sql`
    select has_table_privilege('authenticated', 'public.upload_schedules', 'INSERT,UPDATE,DELETE') as writable`,
  );
  assertEquals(writable, false);
});

Deno.test('calendar: a range of one workspace, filtered by channel and status, in publish order', async () => {
  const s = await studio('sched-list');
  const a = await createSchedule(s, { publish_at: '2027-05-03T10:00:00Z', title: 'third' });
  const b = await createSchedule(s, { publish_at: '2027-05-01T10:00:00Z', title: 'first' });
  const c = await createSchedule(s, { publish_at: '2027-05-02T10:00:00Z', title: 'second' });
  await createSchedule(s, { publish_at: '2027-06-01T10:00:00Z', title: 'outside' });
  await s.user.call(`schedules/${c.id}/cancel`, { method: 'POST' });

  const may = await s.user.call(`schedules?workspace_id=${s.workspaceId}&from=2027-05-01T00:00:00Z&to=2027-06-01T00:00:00Z`);
  assertEquals(may.status, 200, JSON.stringify(may.body));
  assertEquals(
    may.body.schedules.map((x: { title: string }) => x.title),
    ['first', 'second', 'third'],
  );
  assertEquals(may.body.range, { from: '2027-05-01T00:00:00.000Z', to: '2027-06-01T00:00:00.000Z' });
  const open = await s.user.call(
    `schedules?workspace_id=${s.workspaceId}&from=2027-05-01T00:00:00Z&to=2027-06-01T00:00:00Z&status=scheduled,held`,
  );
  assertEquals(
    open.body.schedules.map((x: { id: string }) => x.id),
    [b.id, a.id],
  );
  const otherChannel = await s.user.call(
    `schedules?workspace_id=${s.workspaceId}&from=2027-05-01T00:00:00Z&to=2027-06-01T00:00:00Z&channel_id=00000000-0000-4000-8000-000000000000`,
  );
  assertEquals(otherChannel.body.schedules, []);
  assertInvalid(await s.user.call(`schedules?workspace_id=${s.workspaceId}&from=2027-05-02T00:00:00Z&to=2027-05-01T00:00:00Z`), 'to');
  assertInvalid(await s.user.call(`schedules?workspace_id=${s.workspaceId}&status=done`), 'status');
  assertInvalid(await s.user.call(`schedules?workspace_id=${s.workspaceId}&from=yesterday`), 'from');
  assertInvalid(await s.user.call('schedules'), 'workspace_id');
});

Deno.test('edit and reschedule before the upload: each takes effect with its event; versions guard concurrent edits', async () => {
  const s = await studio('sched-edit');
  const made = await createSchedule(s, { publish_at: '2027-04-01T10:00:00Z' });

  const edited = await s.user.call(`schedules/${made.id}`, {
    method: 'PATCH',
    body: { title: 'Pasta in five', tags: ['pasta'], version: 1 },
  });
  assertEquals(edited.status, 200, JSON.stringify(edited.body));
  assertEquals(edited.body.schedule.title, 'Pasta in five');
  assertEquals(edited.body.schedule.tags, ['pasta']);
  assertEquals(edited.body.schedule.version, 2);
  const stale = await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { title: 'Lost update', version: 1 } });
  assertEquals(stale.status, 409);
  assertEquals(stale.body.error.code, 'version_conflict');

  assertInvalid(await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { title: 'x'.repeat(101) } }), 'title');
  assertInvalid(await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { privacy: 'unlisted' } }), 'privacy', /upload_at_time/);
  assertInvalid(await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { version: 2 } }), 'body');
  assertInvalid(
    await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { video_job_id: await renderingJob(s.workspaceId, s.user.id) } }),
    'video_job_id',
  );
  assertInvalid(
    await s.user.call(`schedules/${made.id}/reschedule`, { method: 'POST', body: { publish_at: '2021-01-01T00:00:00Z' } }),
    'publish_at',
  );
  assertInvalid(await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { status: 'published' } }), 'body');

  const moved = await s.user.call(`schedules/${made.id}/reschedule`, {
    method: 'POST',
    body: { publish_at: '2027-04-02T08:00', time_zone: 'Asia/Tokyo', strategy: 'upload_at_time' },
  });
  assertEquals(moved.status, 200, JSON.stringify(moved.body));
  assertEquals(moved.body.schedule.publish_at, '2027-04-01T23:00:00.000Z');
  assertEquals(moved.body.schedule.publish_at_local, '2027-04-02T08:00:00');
  assertEquals(moved.body.schedule.next_attempt_at, '2027-04-01T23:00:00.000Z');
  const unlisted = await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { privacy: 'unlisted' } });
  assertEquals(unlisted.status, 200, JSON.stringify(unlisted.body));

  const events = (await s.user.call(`schedules/${made.id}`)).body.events;
  assertEquals(
    events.map((e: { event: string }) => e.event),
    ['created', 'edited', 'rescheduled', 'edited'],
  );
  assertEquals(events[1].details.fields, ['tags', 'title']);
  assertEquals(Date.parse(events[2].details.publish_at_before), Date.parse('2027-04-01T10:00:00Z'));
  assertEquals(events[2].details.strategy, 'upload_at_time');
  assertOk(events.every((e: { actor: { user_id: string } }) => e.actor.user_id === s.user.id));
});

Deno.test('cancel: before the upload it never happens; twice is fine; a canceled schedule cannot be edited or published', async () => {
  const s = await studio('sched-cancel-api');
  const made = await createSchedule(s);
  const canceled = await s.user.call(`schedules/${made.id}/cancel`, { method: 'POST' });
  assertEquals(canceled.status, 200, JSON.stringify(canceled.body));
  assertEquals(canceled.body.schedule.status, 'canceled');
  assertEquals(canceled.body.schedule.next_attempt_at, null);
  assertEquals(canceled.body.already_canceled, false);
  assertEquals((await s.user.call(`schedules/${made.id}/cancel`, { method: 'POST' })).body.already_canceled, true);
  const edit = await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { title: 'x' } });
  assertEquals(edit.status, 409);
  assertEquals(edit.body.error.code, 'invalid_status');
  assertEquals((await s.user.call(`schedules/${made.id}/publish-now`, { method: 'POST' })).status, 409);
  const row = await scheduleRow(made.id);
  assertEquals(row.status, 'canceled');
  assertEquals(row.lease_owner, null);
});

Deno.test('publish now: uploads at once with the final privacy, then refuses edits (the upload has started)', async () => {
  await withUploadQuota(async () => {
    const s = await studio('sched-now');
    const made = await createSchedule(s, { publish_at: '2027-09-01T10:00:00Z' });
    const now = await s.user.call(`schedules/${made.id}/publish-now`, { method: 'POST' });
    assertEquals(now.status, 200, JSON.stringify(now.body));
    assertOk(Math.abs(Date.parse(now.body.schedule.publish_at) - Date.now()) < 10_000, now.body.schedule.publish_at);
    const row = await driveUntil(made.id);
    assertEquals(row.status, 'published', JSON.stringify(row));
    assertEquals(row.sent_metadata.status, { privacyStatus: 'public', selfDeclaredMadeForKids: false });
    const after = await s.user.call(`schedules/${made.id}`, { method: 'PATCH', body: { title: 'too late' } });
    assertEquals(after.status, 409);
    const cancel = await s.user.call(`schedules/${made.id}/cancel`, { method: 'POST' });
    assertEquals(cancel.status, 409);
    assertEquals(cancel.body.error.code, 'too_late');
    const detail = (await s.user.call(`schedules/${made.id}`)).body;
    assertEquals(detail.schedule.youtube.url, `https://www.youtube.com/watch?v=${row.youtube_video_id}`);
    assertEquals(
      detail.events.map((e: { event: string }) => e.event),
      ['created', 'publish_now', 'upload_started', 'uploaded', 'published'],
    );
  });
});
