// Fair shares of the project's YouTube quota, through the workers and the API: a workspace whose
// share is spent waits for the borrow hour (its sync makes no Data API call), another tenant's
// sync runs meanwhile, members see the remaining share on GET /channels, and once borrowing is
// allowed the waiting sync goes through. The share settings are restored after each test.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { connectChannel, connectedId, createFakeChannel, driveRun, queueRun, syncToEnd } from './helpers/youtube.ts';
import { nextPacificHour, quotaPosition, setShareSettings, spendShare, withShareSettings } from './helpers/quota.ts';
import { personalWorkspace, signUp, type TestUser, withDb } from './helpers/users.ts';

async function tenant(label: string): Promise<{ user: TestUser; workspaceId: string; channelId: string }> {
  const user = await signUp(label);
  const workspaceId = await personalWorkspace(user);
  const fake = await createFakeChannel(3, label);
  const channelId = connectedId(await connectChannel(user, workspaceId, fake.channelId));
  const run = await syncToEnd(channelId);
  assertEquals(run.status, 'succeeded', JSON.stringify(run));
  return { user, workspaceId, channelId };
}

Deno.test('quota shares: a workspace with its share spent waits for the borrow hour; others sync; then it borrows', async () => {
  const greedy = await tenant('share-greedy');
  const other = await tenant('share-other');
  await withShareSettings({ borrow_from_hour: await nextPacificHour() }, async () => {
    await spendShare(greedy.workspaceId);
    const position = await quotaPosition(greedy.workspaceId);

    const waiting = await driveRun(await queueRun(greedy.channelId));
    assertEquals(waiting.status, 'waiting_quota', JSON.stringify(waiting));
    assertEquals(waiting.next_attempt_at?.toISOString(), position.borrow_from.toISOString(), 'retry at the borrow hour');
    assertMatch(waiting.last_error ?? '', /share of the daily YouTube quota is spent.*may borrow unused quota/);
    assertEquals(waiting.stats?.quota_units ?? 0, 0, 'no Data API call was made');
    assertEquals((await quotaPosition(greedy.workspaceId)).workspace_used, position.workspace_used, 'nothing was spent');

    const ran = await driveRun(await queueRun(other.channelId));
    assertEquals(ran.status, 'succeeded', `another tenant is unaffected: ${JSON.stringify(ran)}`);

    const seen = await greedy.user.call(`channels?workspace_id=${greedy.workspaceId}`);
    assertEquals(seen.status, 200);
    const q = seen.body.youtube_quota;
    assertEquals([q.share_units, q.remaining_units, q.available_units, q.borrowing], [position.share_units, 0, 0, false]);
    assertEquals(q.borrow_from, position.borrow_from.toISOString());
    assertOk(q.project_remaining_units > 0);
    const theirs = (await other.user.call(`channels?workspace_id=${other.workspaceId}`)).body.youtube_quota;
    assertOk(theirs.remaining_units > 0 && theirs.remaining_units < theirs.share_units, JSON.stringify(theirs));
    assertEquals((await other.user.call(`channels?workspace_id=${greedy.workspaceId}`)).status, 404, 'not another tenant');

    // The borrow hour has come (0: from the start of the day), and the wake-up with it.
    await setShareSettings({ borrow_from_hour: 0 });
    await withDb((sql) => sql`update public.sync_runs set status = 'queued', next_attempt_at = now() where id = ${waiting.id}`);
    const borrowed = await driveRun(waiting.id);
    assertEquals(borrowed.status, 'succeeded', JSON.stringify(borrowed));
    const after = (await greedy.user.call(`channels?workspace_id=${greedy.workspaceId}`)).body.youtube_quota;
    assertEquals(after.borrowing, true);
    assertOk(after.used_units > after.share_units, 'the borrowed units count as its own');
  });
});
