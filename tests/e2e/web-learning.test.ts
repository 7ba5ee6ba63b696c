// Browser test of the learning loop's pages against a running stack: a user whose engine-assisted
// upload was published (reviewed and approved through the content functions' SQL, published by
// the schedule's status change, its analytics synced and scored) walks from the dashboard to
// "What we learned", sees the comparison with its text summary and the upload with its outcome,
// and opens its outcome and lineage: the approved text, who approved it and the prompt's inputs.
// Env: SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_DB_URL, WEB_URL (optional).
// Screenshots go to tests/e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';
import { APP_PAGE, openPage, pageErrors, requiredEnv, shot, signInInUi, stackAuth, useWebSuite } from './web-suite.ts';

useWebSuite();

/** A confirmed account (Auth requires email confirmation), created through the admin API. */
async function signUp(email: string, password: string): Promise<string> {
  const user = await createConfirmedUser(stackAuth(), email, password, { full_name: 'Loop Tester' });
  return user.id;
}

// The approved version picked the second of the three offered titles, which is the one published.
const APPROVED = {
  items: [
    {
      title: 'Three-minute focaccia',
      title_variants: ['Focaccia without the wait', 'Three-minute focaccia', 'No-knead focaccia tonight'],
      title_choice: 1,
      hook: 'No knead, no wait.',
      script: 'Flour, water, oil, salt. Bake.',
      call_to_action: 'Subscribe for more bread.',
      estimated_duration_seconds: 40,
    },
  ],
};

// The first draft, rejected: no title picked yet.
const { title_choice: _noPick, title_variants: _noVariants, ...FIRST_DRAFT } = APPROVED.items[0];

/**
 * The user's loop as the product records it: content made, reviewed (one rejection, then an
 * approval) through the review functions as the user, a render, a schedule published by its
 * status change (the lineage trigger), then the channel's analytics and scoring (the outcome
 * recorder): the engine's video and seven organic ones with fewer views.
 */
async function seedLoop(userId: string, claims: string): Promise<{ workspaceId: string; scheduleId: string }> {
  const sql = postgres(requiredEnv('SUPABASE_DB_URL'), { max: 1, onnotice: () => {} });
  try {
    const [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${userId}`;
    const tag = Math.random().toString(36).slice(2, 10);
    const [ch] =
      await sql`insert into public.channels (workspace_id, youtube_channel_id, title) values (${ws}, ${'UCe2eloop' + tag}, 'Bread Lab') returning id`;
    const contentId = crypto.randomUUID();
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${claims}, true)`;
      await tx`set local role authenticated`;
      await tx`select public.create_generated_content(${contentId}, ${ws}, 'script',
        ${tx.json({ topic: 'fast bread', tone: 'warm', target_format: 'short', channel_id: ch.id })},
        ${tx.json([{ video_id: 'x', youtube_video_id: 'x', title: 'Sourdough in a day', score: 93 }])}, 'gen-e2e', 'gemini-2.5-flash', 10, 20,
        ${tx.json({ items: [{ ...FIRST_DRAFT, title: 'Focaccia, slowly' }] })})`;
      await tx`select public.review_generated_content(${contentId}, 'submit')`;
      await tx`select public.review_generated_content(${contentId}, 'reject', 'too slow for a Short')`;
      await tx`select public.edit_generated_content(${contentId}, ${tx.json(APPROVED)})`;
      await tx`select public.review_generated_content(${contentId}, 'submit')`;
      await tx`select public.review_generated_content(${contentId}, 'approve')`;
    });
    const [job] = await sql`
      insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress, video_url,
        duration_seconds, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, finished_at)
      values (${ws}, ${contentId}, 2, ${'pid-e2e-' + tag}, '{}', 'ready', 100, 'https://cdn.example.test/f.mp4', 40, repeat('a', 64),
        now() + interval '1 hour', ${'e2e-' + tag}, repeat('a', 64), ${userId}, now())
      returning id`;
    const youtubeId = 'e2eLoop' + tag;
    const [s] = await sql`
      insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, status, upload_started_at,
        youtube_video_id, idempotency_key, request_fingerprint, created_by)
      values (${ws}, ${ch.id}, ${job.id}, 'Three-minute focaccia', '2026-05-04 16:00:00Z', 'processing', now(), ${youtubeId},
        ${'e2e-' + tag}, repeat('a', 64), ${userId})
      returning id`;
    await sql`update public.upload_schedules set status = 'published', published_at = '2026-05-04 16:00:00Z', finished_at = now() where id = ${s.id}`;
    await sql`
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
      select ${ws}, ${ch.id}, case when k = 0 then ${youtubeId} else ${'e2eOrg' + tag} || k end,
        case when k = 0 then 'Three-minute focaccia' else 'Bread video ' || k end, timestamptz '2026-05-04 16:00:00Z' - k * interval '3 days', 40, true
      from generate_series(0, 7) k`;
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage, likes)
      select v.workspace_id, v.id, (v.published_at at time zone 'America/Los_Angeles')::date + d,
        case when v.youtube_video_id = ${youtubeId} then 900 else 100 + 10 * d + 3 * extract(day from v.published_at)::int end, 55, 3
      from public.videos v cross join generate_series(0, 8) d where v.channel_id = ${ch.id}`;
    await sql`select private.score_channel_videos(${ch.id})`;
    return { workspaceId: ws, scheduleId: s.id };
  } finally {
    await sql.end();
  }
}

test("from the dashboard to a published engine upload's outcome and lineage", async () => {
  const suffix = Math.random().toString(36).slice(2, 10);
  const who = { email: `e2e-loop-${suffix}@example.com`, password: `pw-${suffix}-long` };
  const userId = await signUp(who.email, who.password);
  const claims = JSON.stringify({ sub: userId, role: 'authenticated', email: who.email });
  const { scheduleId } = await seedLoop(userId, claims);

  const page = await openPage(APP_PAGE);
  await signInInUi(page, who, '/dashboard');

  await page.getByTestId('learned-link').click();
  await page.waitForURL((u) => u.pathname === '/dashboard/learned');
  const summary = page.getByTestId('loop-summary');
  await summary.waitFor();
  // One engine upload and seven organic videos: both below the minimum of six or not, the page says so in words.
  assert.match(await summary.innerText(), /engine-assisted uploads: not enough data \(1 video, at least 6 needed\)/);
  assert.match(await summary.innerText(), /organic videos: median percentile \d+/);
  await page.getByRole('heading', { name: 'Not enough data to compare yet' }).waitFor();
  const uploads = page.getByTestId('loop-uploads');
  await uploads.getByRole('cell', { name: /Three-minute focaccia/ }).waitFor();
  assert.match(await page.getByText('too slow for a Short').innerText(), /too slow for a Short/, 'the rejection reason is shown');
  // The published title was the second offered one: its pick rate is charted (and in the chart's
  // table) and said in words, with "not enough data" for one video.
  const titles = page.getByTestId('loop-title-choices');
  await titles.getByRole('heading', { name: 'Which titles people picked' }).waitFor();
  const lines = await titles.getByTestId('loop-title-lines').innerText();
  assert.match(lines, /Offered title 2: picked for 1 of 1 upload \(100%\); not enough data \(1 video, at least 6 needed\)/);
  assert.doesNotMatch(lines, /Their own title/, 'no upload had a title of its own');
  assert.match(
    await titles.innerText(),
    /an offered title: not enough data \(1 video, at least 6 needed\); their own title: not enough data \(0 videos/,
  );
  const chart = titles.getByRole('img', { name: 'Share of 1 published upload per title choice: Offered title 2 100%.' });
  await chart.and(page.locator('[data-drawn="true"]')).waitFor();
  await shot(page, 'learned');

  await uploads.getByRole('link', { name: 'Outcome and lineage' }).click();
  await page.waitForURL((u) => u.pathname === '/dashboard/lineage' && u.searchParams.get('schedule') === scheduleId);
  await page.getByTestId('lineage-origin').getByText('Made with the engine').waitFor();
  const outcomes = page.getByTestId('lineage-outcomes');
  await outcomes.getByRole('rowheader', { name: '24 hours' }).waitFor();
  await outcomes.getByRole('rowheader', { name: '7 days' }).waitFor();
  // 900 views a day against at most about 280 for the organic videos: the best of the eight at both ages.
  const firstRow = await outcomes.getByRole('row').nth(1).innerText();
  assert.match(firstRow, /900/);
  assert.match(firstRow, /100/);
  const details = page.getByTestId('lineage-details');
  await details.getByText('No knead, no wait.').waitFor();
  assert.match(await details.innerText(), /Approved by\s+you/);
  assert.match(await details.innerText(), /fast bread · tone warm · short/);
  assert.match(await details.innerText(), /Sourdough in a day/);
  assert.doesNotMatch(await details.innerText(), /Focaccia, slowly/, 'the rejected version is not the approved text');
  await shot(page, 'lineage');
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});
