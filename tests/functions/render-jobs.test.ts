// render-video against a running stack and the RevID fake: only approved scripts render; the
// idempotency key makes a retried request return the same job (never a second render); the
// monthly limit answers 429 with the reset time; viewers cannot render or cancel; another
// workspace's content and jobs are 404; a render RevID refuses fails at once and gives its
// render back.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { addMember, createWorkspace, personalWorkspace, signUp, withDb } from './helpers/users.ts';
import { addFault, approvedScript, fakes, generate, jobRow, render, resetFakes, revidSettings, waitFor } from './helpers/content.ts';

async function revidRenders(): Promise<number> {
  const { jobs } = await fakes('/_control/revid/jobs');
  return jobs.length;
}

Deno.test('render: approved scripts only; 202 with the job, submitted to RevID with a webhook, then ready', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 300 });
  const user = await signUp('render-flow');
  const ws = await personalWorkspace(user);

  const draft = await generate(user, { workspace_id: ws, kind: 'script', topic: 'pour-over coffee' });
  const notApproved = await render(user, draft.body.content.id, 'flow-1');
  assertEquals(notApproved.status, 409, JSON.stringify(notApproved.body));
  assertEquals(notApproved.body.error.code, 'not_approved');
  const titles = await generate(user, { workspace_id: ws, kind: 'title', topic: 'pour-over coffee' });
  const notScript = await render(user, titles.body.content.id, 'flow-2');
  assertEquals(notScript.status, 422, JSON.stringify(notScript.body));
  const noKey = await user.call('render-video', { method: 'POST', body: { content_id: draft.body.content.id } });
  assertEquals(noKey.status, 400);
  assertEquals(noKey.body.error.code, 'idempotency_key_required');

  const scriptId = await approvedScript(user, ws);
  const res = await render(user, scriptId, 'flow-3', { options: { ratio: '1 / 1', voice: 'Ava' } });
  assertEquals(res.status, 202, JSON.stringify(res.body));
  assertEquals(res.body.replayed, false);
  const job = res.body.job;
  assertEquals(job.status, 'submitted');
  assertEquals(job.attempts, 1);
  assertEquals(job.content_id, scriptId);
  assertEquals(job.content_version, 1);
  assertOk(job.provider_job_id, 'RevID pid stored');
  assertEquals(job.render_params.creationParams.ratio, '1 / 1');
  assertEquals(job.render_params.creationParams.selectedVoice, 'Ava');
  assertOk(!('webhook_secret_hash' in job), 'the secret hash is never returned');

  // What RevID received: the approved script, and a webhook URL with a per-job secret.
  const sent = await fakes(`/_control/revid/jobs/${job.provider_job_id}`);
  const content = await user.call(`content/${scriptId}`);
  assertEquals(sent.creationParams.inputText, content.body.content.output.items[0].script);
  assertEquals(sent.hasWebhook, true);
  const [{ hash }] = await withDb((sql) => sql`select webhook_secret_hash as hash from public.video_jobs where id = ${job.id}`);
  assertMatch(hash, /^[0-9a-f]{64}$/);

  const ready = await waitFor('the job to be ready', async () => {
    const r = await user.call(`render-video/${job.id}`);
    return r.body.job.status === 'ready' ? r.body.job : null;
  });
  assertEquals(ready.progress, 100);
  assertMatch(ready.video_url, new RegExp(`/revid/media/${job.provider_job_id}\\.mp4$`));
  assertOk(ready.thumbnail_url && ready.duration_seconds > 0 && ready.credits > 0);
  assertOk(ready.webhook_received_at, 'it was the webhook that said so');
  assertEquals(ready.next_attempt_at, null);

  const listed = await user.call(`render-video?workspace_id=${ws}&status=ready`);
  assertEquals(
    listed.body.jobs.map((j: { id: string; progress: number }) => [j.id, j.progress]),
    [[job.id, 100]],
  );
  const byContent = await user.call(`render-video?workspace_id=${ws}&content_id=${draft.body.content.id}`);
  assertEquals(byContent.body.jobs, []);
});

Deno.test('render: the same idempotency key twice (also concurrently) -> one job, one render at RevID', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 60_000 });
  const user = await signUp('render-idem');
  const ws = await personalWorkspace(user);
  const scriptId = await approvedScript(user, ws);

  const first = await render(user, scriptId, 'same-key');
  const second = await render(user, scriptId, 'same-key');
  assertEquals(first.status, 202);
  assertEquals(second.status, 202);
  assertEquals(second.body.replayed, true);
  assertEquals(second.body.job.id, first.body.job.id);

  const together = await Promise.all(Array.from({ length: 5 }, () => render(user, scriptId, 'concurrent-key')));
  assertOk(
    together.every((r) => r.status === 202),
    JSON.stringify(together.map((r) => r.status)),
  );
  assertEquals(new Set(together.map((r) => r.body.job.id)).size, 1);
  assertEquals(together.filter((r) => !r.body.replayed).length, 1);

  const header = { 'Idempotency-Key': 'same-key' };
  const otherRequest = await user.call('render-video', {
    method: 'POST',
    body: { content_id: scriptId, options: { ratio: '16 / 9' } },
    headers: header,
  });
  assertEquals(otherRequest.status, 409);
  assertEquals(otherRequest.body.error.code, 'idempotency_key_reused');
  const bodyKey = await user.call('render-video', { method: 'POST', body: { content_id: scriptId, idempotency_key: 'same-key' } });
  assertEquals(bodyKey.body.job.id, first.body.job.id);

  const [{ jobs, renders }] = await withDb(
    (sql) => sql`
    select (select count(*)::int from public.video_jobs where workspace_id = ${ws}) as jobs,
      (select renders from public.generation_usage where workspace_id = ${ws} and user_id = ${user.id}) as renders`,
  );
  assertEquals(jobs, 2);
  assertEquals(renders, 2);
  assertEquals(await revidRenders(), 2);
  await resetFakes();
});

Deno.test(
  'render: 50 renders a month, the 51st is 429 with Retry-After and the reset time; concurrent requests never overshoot',
  async () => {
    await resetFakes();
    // Long renders: no webhooks while the test runs.
    await revidSettings({ renderMs: 600_000 });
    const user = await signUp('render-limit');
    const ws = await personalWorkspace(user);
    const scriptId = await approvedScript(user, ws);
    for (let batch = 0; batch < 8; batch++) {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => render(user, scriptId, `limit-${batch * 6 + i}`)));
      assertOk(
        answers.every((a) => a.status === 202),
        JSON.stringify(answers.map((a) => a.body?.error ?? a.status)),
      );
    }
    // 48 used: five at once, exactly two get through
    const race = await Promise.all(Array.from({ length: 5 }, (_, i) => render(user, scriptId, `race-${i}`)));
    assertEquals(race.map((r) => r.status).sort(), [202, 202, 429, 429, 429]);

    const over = await render(user, scriptId, 'the-51st');
    assertEquals(over.status, 429, JSON.stringify(over.body));
    assertEquals(over.body.error.code, 'render_limit_reached');
    const now = new Date();
    const reset = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    assertEquals(over.body.error.details.resets_at, reset.toISOString());
    assertEquals(over.body.error.details.limit, 50);
    assertEquals(over.body.error.details.used, 50);
    const retryAfter = Number(over.headers.get('retry-after'));
    assertOk(Math.abs(retryAfter - (reset.getTime() - Date.now()) / 1000) < 60, `Retry-After ${retryAfter} s counts down to the reset`);
    assertMatch(over.body.error.message, new RegExp(reset.toISOString()));

    // A replay of a key used before still answers with its job.
    const replay = await render(user, scriptId, 'limit-0');
    assertEquals(replay.status, 202);
    assertEquals(replay.body.replayed, true);

    // The limit is the user's, across workspaces.
    const team = await createWorkspace(user, 'Second workspace');
    const otherScript = await approvedScript(user, team);
    assertEquals((await render(user, otherScript, 'elsewhere')).status, 429);

    const [{ jobs, renders }] = await withDb(
      (sql) => sql`
    select (select count(*)::int from public.video_jobs where requested_by = ${user.id}) as jobs,
      (select sum(renders)::int from public.generation_usage where user_id = ${user.id}) as renders`,
    );
    assertEquals(jobs, 50);
    assertEquals(renders, 50);
    assertEquals(await revidRenders(), 50);
    await resetFakes();
  },
);

Deno.test('render: a render RevID refuses fails at once with the reason and gives the render back', async () => {
  await resetFakes();
  const user = await signUp('render-refused');
  const ws = await personalWorkspace(user);
  const scriptId = await approvedScript(user, ws);
  await addFault({
    match: { pathPrefix: '/revid/api/public/v2/render' },
    status: 400,
    body: { error: 'voice "Nobody" does not exist' },
    times: 1,
  });
  const res = await render(user, scriptId, 'refused', { options: { voice: 'Nobody' } });
  assertEquals(res.status, 202, JSON.stringify(res.body));
  assertEquals(res.body.job.status, 'failed');
  assertMatch(res.body.job.last_error, /RevID refused the render: RevID answered 400: voice "Nobody" does not exist/);
  assertEquals(res.body.job.attempts, 1);
  const [{ renders }] = await withDb(
    (sql) => sql`select renders from public.generation_usage where workspace_id = ${ws} and user_id = ${user.id}`,
  );
  assertEquals(renders, 0);
});

Deno.test('render: viewers cannot render or cancel (403); another workspace is 404; DELETE cancels an open job', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 600_000 });
  const owner = await signUp('render-roles-owner');
  const viewer = await signUp('render-roles-viewer');
  const stranger = await signUp('render-roles-stranger');
  const team = await createWorkspace(owner, 'Render roles');
  await addMember(owner, team, viewer, 'viewer');
  const scriptId = await approvedScript(owner, team);

  const byViewer = await render(viewer, scriptId, 'viewer-key');
  assertEquals(byViewer.status, 403, JSON.stringify(byViewer.body));
  const byStranger = await render(stranger, scriptId, 'stranger-key');
  assertEquals(byStranger.status, 404, JSON.stringify(byStranger.body));

  const made = await render(owner, scriptId, 'owner-key');
  assertEquals(made.status, 202);
  const jobId = made.body.job.id;
  assertEquals((await viewer.call(`render-video/${jobId}`)).status, 200);
  assertEquals((await viewer.call(`render-video?workspace_id=${team}`)).body.jobs.length, 1);
  assertEquals((await stranger.call(`render-video/${jobId}`)).status, 404);
  assertEquals((await stranger.call(`render-video?workspace_id=${team}`)).status, 404);
  assertEquals((await stranger.call(`render-video/${jobId}`, { method: 'DELETE' })).status, 404);
  // The poller's route is the service role's only.
  assertEquals((await owner.call('render-video/worker', { method: 'POST', body: {} })).status, 401);
  const viewerCancel = await viewer.call(`render-video/${jobId}`, { method: 'DELETE' });
  assertEquals(viewerCancel.status, 403);
  assertEquals((await jobRow(jobId)).status, 'submitted');

  const canceled = await owner.call(`render-video/${jobId}`, { method: 'DELETE' });
  assertEquals(canceled.status, 200, JSON.stringify(canceled.body));
  assertEquals(canceled.body.job.status, 'canceled');
  assertEquals(canceled.body.job.canceled_by, owner.id);
  assertMatch(canceled.body.note, /no cancel call/);
  const again = await owner.call(`render-video/${jobId}`, { method: 'DELETE' });
  assertEquals(again.status, 409);
  assertEquals(again.body.error.code, 'already_finished');
  // Canceled after RevID accepted it: RevID may still spend credits, so the render still counts.
  const [{ renders }] = await withDb(
    (sql) => sql`select renders from public.generation_usage where workspace_id = ${team} and user_id = ${owner.id}`,
  );
  assertEquals(renders, 1);
  await resetFakes();
});
