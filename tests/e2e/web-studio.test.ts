// Browser tests of the Studio, Videos and Schedule pages against a running stack and the real
// functions (generate-content, content, render-video, schedules, invitations):
//   - a new user sees a refused generation's error (message, code, request id), generates a script
//     with visible streamed progress, edits it (a new version), submits it, has it rejected with a
//     reason, submits it again and approves it, renders it (the RevID fake) and sees the preview;
//   - a viewer of that workspace sees no generate, edit, review or render controls, and a direct
//     attempt is refused by the API;
//   - the user connects a channel (fake consent page), schedules the ready video, publishes it now;
//     the fake YouTube receives the upload and the calendar shows it published.
// Env: SUPABASE_URL, SUPABASE_ANON_KEY, LOCAL_FAKES_URL, WEB_URL (optional). Screenshots go to
// tests/e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from '../../web/node_modules/playwright-core/index.js';
import { dayKeyAt, instantOf, parseLocalInput } from '../../web/src/lib/schedule.ts';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';
import {
  APP_PAGE,
  authPost as auth,
  callFunction as call,
  openPage,
  person,
  requiredEnv,
  shot,
  signInInUi,
  signUpInUi,
  stackAuth,
  trimSlashes,
  useWebSuite,
  waitFor,
  webUrl,
  type Json,
} from './web-suite.ts';

// Slow enough for the page to show several progress events of the stream, fast enough for a test.
const STREAM_CHUNK_DELAY_MS = 250;
const RENDER_TIMEOUT_MS = 90_000;
// publish-now wakes the upload worker at once; pg_cron's minute tick is the fallback.
const UPLOAD_TIMEOUT_MS = 150_000;

const fakes = trimSlashes(requiredEnv('LOCAL_FAKES_URL'));

async function control(path: string, body: unknown): Promise<Json> {
  const r = await fetch(`${fakes}/_control/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.status < 300, `${path}: ${r.status} ${text}`);
  return text ? (JSON.parse(text) as Json) : {};
}

useWebSuite({
  setup: async () => {
    await control('gemini/settings', { streamChunkDelayMs: STREAM_CHUNK_DELAY_MS });
    await control('revid/settings', { renderMs: 3000 });
  },
  teardown: async () => {
    await control('gemini/settings', { streamChunkDelayMs: 0 }).catch(() => {});
  },
  assertNoPageErrors: true,
});

const newPage = (viewport = APP_PAGE.viewport) => openPage({ ...APP_PAGE, viewport });

// Shared by the tests below, in order.
let owner: (ReturnType<typeof person> & { token: string; workspaceId: string; contentId: string; jobId: string }) | null = null;
let ownerPage: Page | null = null;

test(
  'a new user generates a script with streamed progress, edits, submits, approves, renders and previews it',
  { timeout: 240_000 },
  async () => {
    const me = person('studio');
    const page = await newPage();
    ownerPage = page;
    await signUpInUi(page, me, '/studio');
    await page.getByRole('heading', { name: 'Studio', level: 1 }).waitFor();
    await page.getByText('No content yet').waitFor();
    await shot(page, '40-studio-empty');

    await page.getByLabel('What to generate').selectOption('script');
    await page.getByLabel('Topic').fill('five-minute breakfasts for busy mornings');

    // A generation the model refuses (safety): the stream's error event, with message and request id.
    await control('gemini/behaviour', { mode: 'safety', times: 1 });
    await page.getByRole('button', { name: 'Generate' }).click();
    const failed = page.getByRole('alert').filter({ hasText: 'Generation failed; nothing was saved' });
    await failed.waitFor({ timeout: 60_000 });
    await failed.getByText('content_blocked').waitFor();
    assert.match((await failed.locator('.request-id').textContent()) ?? '', /^[0-9a-f-]{36}$/);
    await shot(page, '40b-studio-generation-error');
    await page.getByText('No content yet').waitFor();

    await page.getByRole('button', { name: 'Generate' }).click();
    // Progress arrives while the model writes: the counter moves before the content is saved.
    const progress = page.getByTestId('generation-progress');
    await progress.getByText(/Writing… attempt 1: [2-9]\d* chunks/).waitFor();
    await shot(page, '41-studio-streaming');
    await progress.getByText(/Done: attempt 1: \d+ chunks, [\d,]+ characters — saved as a draft\./).waitFor({ timeout: 60_000 });
    const status = page.getByTestId('content-status');
    assert.equal(await status.getAttribute('data-status'), 'draft');

    const token = (await auth('token?grant_type=password', { email: me.email, password: me.password })).access_token as string;
    const wsList = await call(token, 'workspaces');
    const workspaceId = (wsList.body.workspaces as Json[]).find((w) => w.personal)?.id as string;
    const listed = await call(token, `content?workspace_id=${workspaceId}`);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.content.length, 1);
    const saved = listed.body.content[0] as Json;
    assert.equal(saved.kind, 'script');
    // What the page shows is what was saved.
    await page.getByTestId('content-item').getByText(saved.output.items[0].title, { exact: true }).waitFor();

    // Edit: a new version, listed in the history.
    await page.getByRole('button', { name: 'Edit' }).click();
    const newTitle = `Breakfast in five ${me.suffix}`;
    await page.getByLabel('Title').fill(newTitle);
    await page.getByLabel('What changed (optional)').fill('shorter title');
    await shot(page, '42-studio-edit');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByTestId('content-item').getByText(newTitle, { exact: true }).waitFor();
    await page.getByRole('button', { name: 'v2', exact: true }).waitFor();
    await page.getByText('shorter title').waitFor();
    const versions = await call(token, `content/${saved.id}/versions`);
    assert.deepEqual(
      (versions.body.versions as Json[]).map((v) => v.version),
      [2, 1],
    );
    assert.equal(versions.body.versions[0].output.items[0].title, newTitle);

    // Submitted, rejected with a reason (shown), submitted again, approved.
    await page.getByRole('button', { name: 'Submit for review' }).click();
    await page.locator('[data-testid="content-status"][data-status="in_review"]').waitFor();
    await page.getByRole('button', { name: 'Reject…' }).click();
    const reject = page.getByRole('dialog', { name: 'Reject this content?' });
    await reject.getByRole('button', { name: 'Reject', exact: true }).click();
    await reject.getByText('Give a reason of at least 3 characters.').waitFor();
    await reject.getByLabel('Reason').fill('The hook needs a number in it');
    await reject.getByRole('button', { name: 'Reject', exact: true }).click();
    await page.locator('[data-testid="content-status"][data-status="rejected"]').waitFor();
    await page.getByText('Rejected: The hook needs a number in it').waitFor();
    await shot(page, '42b-studio-rejected');
    await page.getByRole('button', { name: 'Submit for review' }).click();
    await page.locator('[data-testid="content-status"][data-status="in_review"]').waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('[data-testid="content-status"][data-status="approved"]').waitFor();
    await shot(page, '43-studio-approved');

    // Render it.
    await page.getByRole('link', { name: 'Render video' }).click();
    await page.waitForURL((u) => u.pathname === '/videos');
    await page.getByRole('heading', { name: 'Videos', level: 1 }).waitFor();
    assert.equal(await page.getByLabel('Approved script').inputValue(), saved.id);
    await page.getByRole('button', { name: 'Render video' }).click();
    const job = page.locator('li.job').first();
    await job.waitFor();
    await shot(page, '44-videos-rendering');
    await page.locator('li.job[data-job-status="ready"]').waitFor({ timeout: RENDER_TIMEOUT_MS });
    const jobs = await call(token, `render-video?workspace_id=${workspaceId}`);
    assert.equal(jobs.body.jobs.length, 1, 'one click, one render');
    const ready = jobs.body.jobs[0] as Json;
    assert.equal(ready.status, 'ready');
    const video = page.locator('li.job video.preview');
    assert.equal(await video.getAttribute('src'), ready.video_url);
    const media = await fetch(ready.video_url as string, { headers: { range: 'bytes=0-15' } });
    assert.ok(media.status === 200 || media.status === 206, `the preview's file answers (${media.status})`);
    await media.body?.cancel();
    await shot(page, '45-videos-ready');

    // A second, slow render is canceled while it runs.
    await control('revid/settings', { renderMs: 120_000 });
    try {
      await page.getByRole('button', { name: 'Render video' }).click();
      const open = page.locator('li.job:not([data-job-status="ready"])').first();
      await open.getByRole('progressbar').waitFor();
      await open.getByRole('button', { name: 'Cancel' }).click();
      const confirm = page.getByRole('dialog', { name: 'Cancel this render?' });
      await confirm.getByRole('button', { name: 'Cancel render' }).click();
      await page.locator('li.job[data-job-status="canceled"]').waitFor();
      await shot(page, '45b-videos-canceled');
    } finally {
      await control('revid/settings', { renderMs: 3000 });
    }
    const afterCancel = await call(token, `render-video?workspace_id=${workspaceId}`);
    assert.deepEqual(
      (afterCancel.body.jobs as Json[]).map((j) => j.status),
      ['canceled', 'ready'],
    );

    owner = { ...me, token, workspaceId, contentId: saved.id as string, jobId: ready.id as string };
  },
);

test(
  'a viewer of the workspace sees no generate, edit, review or render controls; the API refuses them too',
  { timeout: 120_000 },
  async () => {
    assert.ok(owner, 'the previous test made the owner');
    const viewer = person('viewer');
    // Confirmed through the admin API: sign-up by email confirmation has its own browser test.
    const viewerToken = (await createConfirmedUser(stackAuth(), viewer.email, viewer.password, { display_name: viewer.name })).accessToken;
    const invite = await call(owner.token, 'invitations', {
      method: 'POST',
      body: { workspace_id: owner.workspaceId, email: viewer.email, role: 'viewer' },
    });
    assert.equal(invite.status, 201, JSON.stringify(invite.body));
    const token = new URL(invite.body.accept_url as string).searchParams.get('token');
    const accepted = await call(viewerToken, 'invitations/accept', { method: 'POST', body: { token } });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));

    const page = await newPage();
    await signInInUi(page, viewer, '/studio');
    await page.locator('#workspace-switcher').selectOption(owner.workspaceId);
    await page.getByText('You are a viewer in this workspace').waitFor();
    await page.locator('.content-item').first().click();
    await page.locator('[data-testid="content-status"][data-status="approved"]').waitFor();
    await page.getByTestId('content-item').first().waitFor();
    for (const name of ['Generate', 'Edit', 'Submit for review', 'Approve', 'Reject…']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no “${name}” for a viewer`);
    }
    await shot(page, '46-studio-viewer');

    await page.getByRole('link', { name: 'Videos' }).click();
    await page.waitForURL((u) => u.pathname === '/videos');
    await page.locator('li.job[data-job-status="ready"] video.preview').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Render video' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
    await shot(page, '47-videos-viewer');

    await page.getByRole('link', { name: 'Schedule' }).click();
    await page.waitForURL((u) => u.pathname === '/schedule');
    await page.getByRole('button', { name: 'Week', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Schedule an upload' }).count(), 0);

    const edit = await call(viewerToken, `content/${owner.contentId}/submit`, { method: 'POST', body: {} });
    assert.equal(edit.status, 403);
    const render = await call(viewerToken, 'render-video', {
      method: 'POST',
      body: { content_id: owner.contentId },
      headers: { 'idempotency-key': `viewer-${viewer.suffix}` },
    });
    assert.equal(render.status, 403);
    await page.context().close();
  },
);

test(
  'the owner schedules the ready video, publishes it now; the fake YouTube receives it and the calendar shows it published',
  { timeout: 300_000 },
  async () => {
    assert.ok(owner && ownerPage, 'the first test made the owner');
    const page = ownerPage;
    const channelTitle = `E2E Studio ${owner.suffix}`;
    await control('youtube/channels', { videos: 6, seed: `e2e-${owner.suffix}`, title: channelTitle });
    await page.goto(`${webUrl}/channels`);
    await page.getByRole('button', { name: 'Connect a YouTube channel' }).click();
    await page.waitForURL((u) => u.href.startsWith(fakes));
    await page.getByRole('link', { name: new RegExp(`Allow as ${channelTitle}`) }).click();
    await page.waitForURL((u) => u.href.startsWith(webUrl) && u.pathname === '/channels');
    await page.getByText('Channel connected.').waitFor();

    const before = (await (await fetch(`${fakes}/_control/youtube/uploads`)).json()) as Json;

    // Times are shown in the profile's time zone, not the browser's (UTC here).
    const zone = 'America/New_York';
    const patched = await call(owner.token, 'account', { method: 'PATCH', body: { timezone: zone } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    // The channels arrive after the calendar (as on a busy server): the dialog opened before them
    // must wait for them and then schedule the first channel, not send an empty one.
    const lateChannels = '**/functions/v1/insights**';
    let releaseChannels!: () => void;
    const channelsReleased = new Promise<void>((r) => (releaseChannels = r));
    await page.route(lateChannels, async (route) => {
      await channelsReleased;
      await route.continue();
    });
    await page.goto(`${webUrl}/schedule`);
    await page
      .getByTestId('schedule-tz')
      .getByText(/^America\/New York \(GMT-[45]\)$/)
      .waitFor();
    await page.getByRole('button', { name: 'Schedule an upload' }).click();
    const dialog = page.getByRole('dialog', { name: 'Schedule an upload' });
    await dialog.getByText('Loading your channels and rendered videos…').waitFor();
    releaseChannels();
    await dialog.getByLabel('Channel').waitFor();
    await page.unroute(lateChannels);
    const title = `Breakfast in five ${owner.suffix}`;
    // Tomorrow 18:30 in New York (the same week or the next: the page jumps to the new upload).
    const when = `${dayKeyAt(new Date(Date.now() + 86_400_000), zone)}T18:30`;
    await dialog.getByLabel('Title').fill(`${title} draft`);
    await dialog.getByLabel('Description').fill('Five quick breakfasts.');
    await dialog.getByLabel(`Publish at (${zone})`).fill(when);
    await dialog.getByLabel('Privacy').selectOption('private');
    await shot(page, '48-schedule-create');
    await dialog.getByRole('button', { name: 'Schedule', exact: true }).click();

    const draftDetail = page.getByRole('dialog', { name: `${title} draft` });
    await draftDetail.getByTestId('schedule-status').getByText('Scheduled').waitFor();
    const listed = await call(owner.token, `schedules?workspace_id=${owner.workspaceId}`);
    const schedule = (listed.body.schedules as Json[]).find((s) => s.title === `${title} draft`);
    assert.ok(schedule, 'the schedule exists');
    assert.equal(schedule.video_job_id, owner.jobId);
    assert.equal(schedule.time_zone, zone);
    assert.equal(new Date(schedule.publish_at as string).toISOString(), instantOf(parseLocalInput(when)!, zone).toISOString());

    // Edit the title, then move it half an hour later.
    await draftDetail.getByLabel('Title').fill(title);
    await draftDetail.getByRole('button', { name: 'Save changes' }).click();
    const detail = page.getByRole('dialog', { name: title });
    await detail.waitFor();
    await detail.getByLabel(`New time (${zone})`).fill(when.replace('T18:30', 'T19:00'));
    await detail.getByRole('button', { name: 'Reschedule' }).click();
    await page.locator('.entry[data-schedule-status="scheduled"]').filter({ hasText: title }).getByText('07:00 PM').waitFor();
    const moved = await call(owner.token, `schedules/${schedule.id}`);
    assert.equal(moved.body.schedule.title, title);
    assert.equal(
      new Date(moved.body.schedule.publish_at as string).getTime() - new Date(schedule.publish_at as string).getTime(),
      30 * 60_000,
    );
    assert.deepEqual((moved.body.events as Json[]).map((e) => e.event).slice(0, 1), ['created']);
    await detail.getByRole('button', { name: 'Close' }).click();
    await shot(page, '49-schedule-week');

    await page.locator('.entry').filter({ hasText: title }).click();
    await detail.getByRole('button', { name: 'Publish now' }).click();
    const published = await waitFor('the schedule published', UPLOAD_TIMEOUT_MS, async () => {
      const r = await call(owner!.token, `schedules/${schedule.id}`);
      const s = r.body.schedule as Json | undefined;
      // A stack whose daily YouTube budget is spent (many runs in one day) cannot pass this test: say so.
      if (s?.waiting_reason === 'quota') throw new Error(`the upload waits for YouTube quota: ${s.last_error}`);
      return s?.status === 'published' ? s : null;
    });
    await page.locator('.entry[data-schedule-status="published"]').filter({ hasText: title }).waitFor();
    // Exactly once, counted for this title only: uploads left by the suites before this one (retries
    // pg_cron picks up) may complete on the same fake meanwhile.
    const uploads = (await (await fetch(`${fakes}/_control/youtube/uploads`)).json()) as Json;
    const ours = (uploads.uploads as Json[]).filter((u) => u.state === 'complete' && (u.metadata as Json).snippet.title === title);
    assert.deepEqual(
      ours.map((u) => u.videoId),
      [published.youtube.video_id],
      'the fake YouTube holds the uploaded video, once',
    );
    assert.ok(uploads.completedCount > before.completedCount);
    await detail.getByTestId('schedule-status').getByText('Published').waitFor();
    await shot(page, '50-schedule-published');
    await detail.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Month' }).click();
    await page.locator('.entry[data-schedule-status="published"]').filter({ hasText: title }).waitFor();
    await shot(page, '51-schedule-month');
    // Narrow screens: the calendar becomes a list of days.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, '52-schedule-mobile');
    await page.context().close();
  },
);
