// The whole backstop for lost webhooks, without the test calling the worker: pg_cron runs
// private.wake_render_video_worker() every minute, which (only because a job is due) calls
// render-video/worker through pg_net with the service key from Vault; the worker polls RevID and
// the job ends ready. Takes up to a minute: pg_cron 1.4 ticks once a minute.
import { assertEquals, assertOk } from './assert.ts';
import { personalWorkspace, signUp, withDb } from './helpers/users.ts';
import { approvedScript, fakes, jobRow, makeDue, render, resetFakes, revidSettings, waitFor } from './helpers/content.ts';

Deno.test('pg_cron wakes the render poller, which recovers a job whose webhook was lost', async () => {
  await resetFakes();
  await revidSettings({ renderMs: 200, webhookMode: 'drop' });
  const user = await signUp('render-cron');
  const ws = await personalWorkspace(user);
  const scriptId = await approvedScript(user, ws);
  const job = (await render(user, scriptId, 'cron')).body.job;
  assertEquals(job.status, 'submitted');
  await waitFor('RevID to finish', async () => (await fakes(`/_control/revid/jobs/${job.provider_job_id}`)).status === 'ready');

  const [{ scheduled }] = await withDb(
    (sql) => sql`
    select count(*)::int as scheduled from cron.job
    where jobname = 'render-video-poller' and schedule = '* * * * *' and active`,
  );
  assertEquals(scheduled, 1);

  // As if the no-news interval had passed; from here on only pg_cron acts.
  await makeDue([job.id]);
  const row = await waitFor(
    'pg_cron to wake the worker and the job to be ready',
    async () => {
      const r = await jobRow(job.id);
      return r.status === 'ready' ? r : null;
    },
    80_000,
    1_000,
  );
  assertOk(row.last_polled_at, 'it was a poll');
  assertEquals(row.webhook_received_at, null);
  await resetFakes();
});
