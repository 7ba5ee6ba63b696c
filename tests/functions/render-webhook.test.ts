// revid-webhook and the render poller against a running stack and the RevID fake: a wrong or
// missing secret is a 401 that changes nothing; duplicate and out-of-order deliveries change
// nothing; a lost webhook is recovered by the poller; failed submissions are retried with
// backoff; a job past its deadline is failed with the reason; and renders still end `ready`
// with 30 % of RevID's answers failing.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { personalWorkspace, signUp, stack, withDb, type TestUser } from './helpers/users.ts';
import {
  addFault,
  approvedScript,
  fakes,
  faultStats,
  jobRow,
  makeDue,
  render,
  resetFakes,
  revidSettings,
  runWorker,
  sha256Hex,
  waitFor,
} from './helpers/content.ts';

async function webhook(jobId: string | null, secret: string | null, payload: unknown) {
  const u = new URL(`${stack.url}/functions/v1/revid-webhook`);
  if (jobId !== null) u.searchParams.set('job', jobId);
  if (secret !== null) u.searchParams.set('secret', secret);
  const res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  return { status: res.status, body: await res.json() };
}

async function userWithScript(label: string): Promise<{ user: TestUser; ws: string; scriptId: string }> {
  const user = await signUp(label);
  const ws = await personalWorkspace(user);
  return { user, ws, scriptId: await approvedScript(user, ws) };
}

/** A job whose webhook secret the test knows (its hash set directly, as a submission would). */
async function withKnownSecret(jobId: string): Promise<string> {
  const secret = `test-secret-${crypto.randomUUID()}`;
  const hash = await sha256Hex(secret);
  await withDb((sql) => sql`update public.video_jobs set webhook_secret_hash = ${hash} where id = ${jobId}`);
  return secret;
}

async function deliveries(pid: string) {
  return (await fakes(`/_control/revid/webhooks?pid=${pid}`)).deliveries as { status: number | null; payload: { status: string } }[];
}

Deno.test('webhook: a wrong or missing secret (or job) is 401 and changes nothing', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 600_000 });
  const { user, scriptId } = await userWithScript('hook-401');
  const job = (await render(user, scriptId, 'k')).body.job;
  const before = await jobRow(job.id);
  const ready = { pid: job.provider_job_id, status: 'ready', progress: 100, videoUrl: 'https://evil.example/video.mp4' };
  for (const [id, secret] of [
    [job.id, 'wrong'],
    [job.id, null],
    [job.id, ''],
    [null, 'x'],
    ['not-a-uuid', 'x'],
    [crypto.randomUUID(), 'x'],
  ]) {
    const r = await webhook(id, secret, ready);
    assertEquals(r.status, 401, `job=${id} secret=${secret}: ${JSON.stringify(r.body)}`);
    assertEquals(r.body.error.code, 'unauthorized');
  }
  assertEquals(await jobRow(job.id), before);
  await resetFakes();
});

Deno.test('webhook: duplicate and out-of-order deliveries from RevID change nothing', async () => {
  await resetFakes();
  const { user, scriptId } = await userWithScript('hook-order');
  for (const mode of ['duplicate', 'out_of_order']) {
    await revidSettings({ renderMs: 200, webhookMode: mode });
    const job = (await render(user, scriptId, `order-${mode}`)).body.job;
    // both deliveries answered
    const sent = await waitFor(`two ${mode} deliveries`, async () => {
      const d = await deliveries(job.provider_job_id);
      return d.length === 2 && d.every((x) => x.status !== null) ? d : null;
    });
    assertEquals(
      sent.map((d) => d.status),
      [200, 200],
      JSON.stringify(sent),
    );
    if (mode === 'out_of_order')
      assertEquals(
        sent.map((d) => d.payload.status),
        ['ready', 'rendering'],
      );
    const row = await jobRow(job.id);
    assertEquals(row.status, 'ready', mode);
    assertEquals(row.progress, 100);
    // Only the first delivery wrote: a later write would have moved updated_at past finished_at.
    assertEquals(row.updated_at.getTime(), row.finished_at.getTime(), `${mode}: the second delivery left the row alone`);
    assertOk(row.webhook_received_at.getTime() === row.finished_at.getTime());
  }
  await resetFakes();
});

Deno.test('webhook: payloads are applied only forward when RevID cannot confirm them (progress, duplicates, late ones)', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 600_000 });
  const { user, scriptId } = await userWithScript('hook-forward');
  const job = (await render(user, scriptId, 'k')).body.job;
  const secret = await withKnownSecret(job.id);
  // RevID's status call is down, so the handler must rely on the payloads themselves.
  await addFault({ match: { pathPrefix: '/revid/api/public/v2/status' }, status: 503 });
  const pid = job.provider_job_id;

  let r = await webhook(job.id, secret, { pid, status: 'rendering', progress: 60 });
  assertEquals([r.status, r.body.changed, r.body.status], [200, true, 'rendering']);
  const at60 = await jobRow(job.id);
  assertEquals(at60.progress, 60);
  r = await webhook(job.id, secret, { pid, status: 'rendering', progress: 30 });
  assertEquals([r.status, r.body.changed], [200, false]);
  r = await webhook(job.id, secret, { pid, status: 'queued', progress: 0 });
  assertEquals(r.body.changed, false);
  r = await webhook(job.id, secret, { pid: 'another-render', status: 'ready', videoUrl: 'https://x.test/v.mp4' });
  assertEquals(r.body.changed, false, 'a payload about another render is ignored');
  assertEquals(await jobRow(job.id), at60);

  const videoUrl = 'https://cdn.revid.test/final.mp4';
  r = await webhook(job.id, secret, { pid, status: 'ready', progress: 100, videoUrl, duration: 42, creditsUsed: 5 });
  assertEquals([r.body.changed, r.body.status], [true, 'ready']);
  const done = await jobRow(job.id);
  for (const late of [
    { pid, status: 'ready', progress: 100, videoUrl: 'https://cdn.revid.test/other.mp4' },
    { pid, status: 'rendering', progress: 90 },
    { pid, status: 'error', error: 'late failure' },
  ]) {
    r = await webhook(job.id, secret, late);
    assertEquals([r.status, r.body.changed, r.body.status], [200, false, 'ready'], JSON.stringify(late));
  }
  const after = await jobRow(job.id);
  assertEquals(after, done);
  assertEquals(after.video_url, videoUrl);
  assertEquals(Number(after.duration_seconds), 42);
  await resetFakes();
});

Deno.test('poller: a lost webhook is recovered by polling RevID once the job had no news', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 200, webhookMode: 'drop' });
  const { user, scriptId } = await userWithScript('poll-lost');
  const job = (await render(user, scriptId, 'lost')).body.job;
  await waitFor('RevID to finish', async () => (await fakes(`/_control/revid/jobs/${job.provider_job_id}`)).status === 'ready');
  const waiting = await jobRow(job.id);
  assertEquals(waiting.status, 'submitted', 'no webhook came');
  const secondsToPoll = (waiting.next_attempt_at.getTime() - Date.now()) / 1000;
  assertOk(secondsToPoll > 100 && secondsToPoll <= 120, `first poll planned after the no-news interval (${secondsToPoll} s)`);

  // Not due yet: the worker leaves it alone.
  const early = await runWorker({ job_id: job.id });
  assertEquals(early.claimed, 0);
  await makeDue([job.id]);
  const report = await runWorker({ job_id: job.id });
  // (pg_cron's own run may take the job first at a minute boundary; the outcome is the same)
  if (report.claimed === 1) assertEquals([report.polled, report.changed], [1, 1]);
  const row = await jobRow(job.id);
  assertEquals(row.status, 'ready');
  assertOk(row.video_url.endsWith(`${job.provider_job_id}.mp4`));
  assertOk(row.last_polled_at, 'recovered by a poll');
  assertEquals(row.webhook_received_at, null);
  await resetFakes();
});

Deno.test('poller: one invocation handles a bounded batch and calls its successor, which polls the rest at once', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 100, webhookMode: 'drop' });
  const { user, scriptId } = await userWithScript('poll-chain');
  const jobs: string[] = [];
  for (let i = 0; i < 5; i++) jobs.push((await render(user, scriptId, `chain-${i}`)).body.job.id);
  const rows = await Promise.all(jobs.map(jobRow));
  await waitFor('RevID to finish', async () => {
    const states = await Promise.all(rows.map((r) => fakes(`/_control/revid/jobs/${r.provider_job_id}`)));
    return states.every((st) => st.status === 'ready');
  });
  await makeDue(jobs);
  const report = await runWorker({ max_jobs: 2 });
  // (pg_cron's own run may take some jobs first at a minute boundary; then there may be less to chain)
  if (report.claimed === 2) assertEquals(report.chained, 1, JSON.stringify(report));
  assertOk(report.claimed <= 2, JSON.stringify(report));
  // Nobody calls the worker again: the successor it called polls the other jobs now.
  for (const id of jobs) {
    await waitFor(`job ${id} to be polled ready`, async () => (await jobRow(id)).status === 'ready', 15_000);
  }
  await resetFakes();
});

Deno.test('poller: failed submissions are retried with backoff; a job past its deadline fails with the reason', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 600_000 });
  const { user, scriptId } = await userWithScript('poll-retry');
  const down = await addFault({ match: { pathPrefix: '/revid/api/public/v2/render' }, status: 503, times: 3 });
  const res = await render(user, scriptId, 'retry');
  assertEquals(res.status, 202);
  assertEquals(res.body.job.status, 'queued', 'still waiting for RevID');
  assertEquals(res.body.job.attempts, 3, 'three tries while the caller waited');
  assertMatch(res.body.job.last_error, /RevID answered 503/);
  const wait = (new Date(res.body.job.next_attempt_at).getTime() - Date.now()) / 1000;
  assertOk(wait >= 55 && wait <= 121, `next attempt after backoff (${wait} s)`);
  assertEquals((await faultStats(down)).hits, 3);
  await makeDue([res.body.job.id]);
  await runWorker({ job_id: res.body.job.id });
  const submitted = await waitFor('the retried submission', async () => {
    const r = await jobRow(res.body.job.id);
    return r.status !== 'queued' ? r : null;
  });
  assertEquals([submitted.status, submitted.attempts, submitted.last_error], ['submitted', 4, null]);

  // Past its deadline with RevID still rendering: failed, with why.
  await withDb((sql) => sql`update public.video_jobs set give_up_at = now() - interval '1 second' where id = ${submitted.id}`);
  await runWorker({ job_id: submitted.id });
  const failed = await waitFor('the deadline to fail it', async () => {
    const r = await jobRow(submitted.id);
    return r.status !== 'submitted' && r.status !== 'rendering' ? r : null;
  });
  assertEquals(failed.status, 'failed');
  assertMatch(failed.last_error, /no result from RevID within 60 minutes \(last known status: (submitted|rendering)/);

  // A job RevID never accepted, past its deadline: failed, and its render given back.
  await addFault({ match: { pathPrefix: '/revid/api/public/v2/render' }, status: 503 });
  const never = (await render(user, scriptId, 'never')).body.job;
  await withDb((sql) => sql`update public.video_jobs set give_up_at = now() - interval '1 second' where id = ${never.id}`);
  await runWorker({ job_id: never.id });
  const neverRow = await jobRow(never.id);
  assertEquals(neverRow.status, 'failed');
  assertMatch(neverRow.last_error, /RevID never accepted it \(3 submission attempts\)/);
  const [{ renders }] = await withDb((sql) => sql`select renders from public.generation_usage where user_id = ${user.id}`);
  assertEquals(renders, 1, 'the accepted render counts, the never-accepted one was given back');
  await resetFakes();
});

Deno.test('renders end ready with 30 % of RevID answers failing (webhooks and polls)', async () => {
  await resetFakes();
  const { user, scriptId } = await userWithScript('chaos');
  const chaos = await addFault({ match: { pathPrefix: '/revid/api/' }, status: 503, failRate: 0.3 });
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    // half of them lose their webhook: only the poller can finish those
    await revidSettings({ renderMs: 300, webhookMode: i % 2 ? 'drop' : 'normal' });
    const r = await render(user, scriptId, `chaos-${i}`);
    assertEquals(r.status, 202, JSON.stringify(r.body));
    ids.push(r.body.job.id);
  }
  // pg_cron's part, sped up: every open job is made due and the worker runs.
  await waitFor(
    'every render to be ready',
    async () => {
      const rows = await withDb(
        (sql) => sql<{ id: string; status: string }[]>`select id, status from public.video_jobs where id = any(${ids}::uuid[])`,
      );
      const open = rows.filter((r) => r.status !== 'ready');
      assertOk(!open.some((r) => r.status === 'failed' || r.status === 'canceled'), JSON.stringify(rows));
      if (open.length === 0) return true;
      await makeDue(open.map((r) => r.id));
      await runWorker();
      return false;
    },
    40_000,
    400,
  );
  const stats = await faultStats(chaos);
  assertOk(stats.hits > 0 && stats.hits <= Math.ceil(stats.matched * 0.3), `faults fired: ${JSON.stringify(stats)}`);
  await resetFakes();
});
