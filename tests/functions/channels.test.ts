// channels: members list a workspace's channels; owners remove a disconnected one, with its
// synced data, after which the same YouTube channel can be connected to another workspace.
import { assertEquals, assertOk } from './assert.ts';
import { addMember, NOT_A_WORKSPACE, personalWorkspace, signUp, withDb } from './helpers/users.ts';
import { createSchedule, studio } from './helpers/schedules.ts';

Deno.test("list: members see their workspace's channels with status and video count; outsiders 404; bad query 400", async () => {
  const s = await studio('chan-list');
  const viewer = await signUp('chan-viewer');
  const outsider = await signUp('chan-outsider');
  await addMember(s.user, s.workspaceId, viewer, 'viewer');
  await withDb(
    (sql) => sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title)
    values (${s.workspaceId}, ${s.channelId}, ${'cl' + crypto.randomUUID().slice(0, 8)}, 'One')`,
  );

  const res = await viewer.call(`channels?workspace_id=${s.workspaceId}`);
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assertEquals(res.body.channels.length, 1);
  const [channel] = res.body.channels;
  assertEquals(
    [channel.id, channel.youtube_channel_id, channel.status, channel.video_count],
    [s.channelId, s.youtubeChannelId, 'active', 1],
  );

  assertEquals((await outsider.call(`channels?workspace_id=${s.workspaceId}`)).status, 404);
  assertEquals((await viewer.call(`channels?workspace_id=${NOT_A_WORKSPACE}`)).status, 404);
  const bad = await viewer.call('channels?workspace_id=nope');
  assertEquals([bad.status, bad.body.error.code], [400, 'validation_failed']);
  assertEquals((await viewer.call('channels')).status, 400);
});

Deno.test('remove: owners only (viewer and editor 403, outsider 404); a connected channel 409; bad id 400', async () => {
  const s = await studio('chan-roles');
  const editor = await signUp('chan-editor');
  const outsider = await signUp('chan-outsider2');
  await addMember(s.user, s.workspaceId, editor, 'editor');
  const del = { method: 'DELETE' };
  const byEditor = await editor.call(`channels/${s.channelId}`, del);
  assertEquals([byEditor.status, byEditor.body.error.code], [403, 'forbidden']);
  assertEquals((await outsider.call(`channels/${s.channelId}`, del)).status, 404);
  assertEquals((await s.user.call('channels/not-a-uuid', del)).status, 400);
  const connected = await s.user.call(`channels/${s.channelId}`, del);
  assertEquals([connected.status, connected.body.error.code, connected.body.error.details.status], [409, 'channel_connected', 'active']);
  const [row] = await withDb((sql) => sql`select count(*)::int as n from public.channels where id = ${s.channelId}`);
  assertEquals(row.n, 1, 'nothing was removed');
});

Deno.test('remove: refused while an upload to the channel is unfinished', async () => {
  const s = await studio('chan-pending');
  await createSchedule(s);
  await withDb((sql) => sql`update public.channels set status = 'disconnected' where id = ${s.channelId}`);
  const res = await s.user.call(`channels/${s.channelId}`, { method: 'DELETE' });
  assertEquals([res.status, res.body.error.code, res.body.error.details.pending], [409, 'uploads_pending', 1]);
});

Deno.test('remove: a disconnected channel goes with its videos, and can then be connected to another workspace', async () => {
  const s = await studio('chan-remove');
  await withDb(
    (sql) => sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title)
    values (${s.workspaceId}, ${s.channelId}, ${'cr' + crypto.randomUUID().slice(0, 8)}, 'Gone')`,
  );
  const disconnected = await s.user.call('youtube-oauth/disconnect', { method: 'POST', body: { channel_id: s.channelId } });
  assertEquals(disconnected.status, 200, JSON.stringify(disconnected.body));

  const res = await s.user.call(`channels/${s.channelId}`, { method: 'DELETE' });
  assertEquals([res.status, res.body], [200, { deleted: true, id: s.channelId }]);
  const [left] = await withDb(
    (sql) => sql`
    select (select count(*) from public.channels where id = ${s.channelId})::int as channels,
      (select count(*) from public.videos where channel_id = ${s.channelId})::int as videos`,
  );
  assertEquals(left, { channels: 0, videos: 0 });
  assertEquals((await s.user.call(`channels/${s.channelId}`, { method: 'DELETE' })).status, 404, 'a second delete finds nothing');

  // The same YouTube channel in another user's workspace: allowed now that the row is gone.
  const otherWorkspace = await personalWorkspace(await signUp('chan-other'));
  const [moved] = await withDb(
    (sql) => sql`
    insert into public.channels (workspace_id, youtube_channel_id, title, status)
    values (${otherWorkspace}, ${s.youtubeChannelId}, 'Moved', 'active') returning id`,
  );
  assertOk(moved.id);
});
