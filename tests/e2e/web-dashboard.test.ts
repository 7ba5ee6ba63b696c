// Browser tests of the dashboard, channels and admin pages against a running stack and the real
// functions (insights, youtube-oauth, youtube-sync, admin-metrics, admin-alerts, health):
//   - the demo user's dashboard shows the numbers the insights function returns, with charts;
//   - a new user connects a channel through the fake Google consent page, sees it listed, and
//     "sync now" shows progress and ends succeeded (a second press is refused with the API's 429);
//   - a second user sees none of the first user's data, in the UI and through the API;
//   - a channel that needs re-authorising is re-authorised on the consent page; an owner disconnects it;
//   - a failed call shows its message and request id;
//   - a platform admin sees metrics with charts, health, a failed alert notification, and acknowledges and
//     resolves an alert.
// Env: SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY (to make the admin user),
// SUPABASE_DB_URL (to put a channel in the reauth_required state), LOCAL_FAKES_URL (to create the
// fake YouTube channel a new user connects), WEB_URL (optional).
// Screenshots go to tests/e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import {
  callFunction as call,
  openPage,
  pageErrors,
  passwordToken,
  person,
  requiredEnv,
  shot,
  signInInUi,
  signUpInUi,
  supabaseUrl,
  useWebSuite,
  waitFor,
  webUrl,
  APP_PAGE,
  type Json,
} from './web-suite.ts';

const DEMO = { email: 'demo@example.com', password: 'demo-password' };
// The demo channel syncs on the first pg_cron tick after the stack starts (up to a minute), then
// its analytics take a few seconds.
const DEMO_DATA_TIMEOUT_MS = 150_000;
const SYNC_TIMEOUT_MS = 120_000;

useWebSuite();

const newPage = (viewport = APP_PAGE.viewport) => openPage({ ...APP_PAGE, viewport });

async function personalWorkspaceId(token: string): Promise<string> {
  const { status, body } = await call(token, 'workspaces');
  assert.equal(status, 200);
  const ws = (body.workspaces as Json[]).find((w) => w.personal);
  assert.ok(ws, 'the user has a personal workspace');
  return ws.id as string;
}

const digits = (s: string | null) => (s ?? '').replace(/[^\d-]/g, '');

// State shared by the tests below, in order (node:test runs a file's tests one after another).
let firstUser: { email: string; password: string; name: string; workspaceId: string; channelId: string; channelTitle: string } | null =
  null;

test('the demo user’s dashboard shows the numbers insights returns, with charts; the channel is listed', { timeout: 240_000 }, async () => {
  const token = await passwordToken(DEMO.email, DEMO.password);
  const workspaceId = await personalWorkspaceId(token);
  const insights = await waitFor('the demo channel’s first sync', DEMO_DATA_TIMEOUT_MS, async () => {
    const r = await call(token, `insights?workspace_id=${workspaceId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const i = r.body.insights as Json;
    return i.as_of && i.top_videos.length > 0 ? i : null;
  });

  const page = await newPage();
  await signInInUi(page, DEMO);
  const views = page.locator('[data-kpi="views"]');
  await views.waitFor();
  assert.equal(await views.getAttribute('data-value'), String(insights.totals.views.current), 'views card holds the API’s value');
  assert.equal(digits(await views.getByTestId('kpi-value').textContent()), String(insights.totals.views.current), 'and shows it');
  const likes = page.locator('[data-kpi="likes"]');
  assert.equal(digits(await likes.getByTestId('kpi-value').textContent()), String(insights.totals.likes.current));
  // The change against the previous 28 days is the API's change_pct, signed.
  const pct = insights.totals.views.change_pct as number | null;
  if (pct !== null) {
    const shown = (await views.locator('.delta').textContent()) ?? '';
    assert.ok(shown.includes(`${Math.abs(pct)}%`), `views change "${shown.trim()}" shows ${pct}%`);
  }

  // Charts: the score over time and the patterns draw into canvases once Chart.js has loaded.
  await page.locator('[data-drawn="true"] canvas').first().waitFor();
  assert.ok((await page.locator('figure.chart canvas').count()) >= 2, 'score chart and pattern charts');
  assert.ok(await page.getByRole('img', { name: /Average score per week/ }).isVisible(), 'the chart has an accessible summary');

  // Top videos in the API's order, and the first one's score explained on demand.
  const firstTitle = (insights.top_videos[0].title as string) ?? '';
  const rows = page.locator('li.video');
  assert.equal(await rows.count(), insights.top_videos.length);
  assert.equal((await rows.first().locator('a.title').textContent())?.replace('(opens YouTube in a new tab)', '').trim(), firstTitle);
  await rows.first().getByText('Why this score').click();
  const components = rows.first().locator('table.components');
  await components.waitFor();
  for (const name of ['Views velocity', 'Retention', 'Engagement', 'Subscriber conversion']) {
    await components.getByRole('rowheader', { name }).waitFor();
  }
  await page.getByRole('heading', { name: 'What performed' }).waitFor();
  const best = insights.patterns.publish_weekday?.best as string | null | undefined;
  if (best) await page.getByText(new RegExp(`Best: ${best}`)).waitFor();

  const rendered = await page.evaluate(() => performance.getEntriesByName('dashboard:data-rendered').length);
  assert.equal(rendered, 1, 'the page marks its first render with data (the benchmark measures it)');
  await page.waitForTimeout(400); // chart animation
  await shot(page, '20-dashboard-demo');

  // Keyboard: the explanation toggles from the keyboard too.
  const second = rows.nth(1).locator('summary');
  await second.focus();
  await page.keyboard.press('Enter');
  await rows.nth(1).locator('table.components').waitFor();

  await page.getByRole('link', { name: 'Channels', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/channels');
  const card = page.locator(`[data-channel-id="${insights.channels[0].id}"]`);
  await card.getByRole('heading', { name: 'Catalyst Demo Kitchen' }).waitFor();
  assert.equal(await card.locator('.channel-status').getAttribute('data-status'), 'active');
  await card.locator('[data-run-status]').waitFor();
  await shot(page, '21-channels-demo');
  await page.context().close();

  // The same dashboard on a phone.
  const phone = await newPage({ width: 390, height: 844 });
  await signInInUi(phone, DEMO);
  await phone.locator('[data-kpi="views"]').waitFor();
  await phone.locator('[data-drawn="true"] canvas').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
  await phone.waitForTimeout(400);
  await shot(phone, '22-dashboard-mobile');
  await phone.context().close();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

test(
  'a new user connects a channel on the consent page, sees it listed, and syncs it now with progress',
  { timeout: 360_000 },
  async () => {
    const fakes = requiredEnv('LOCAL_FAKES_URL').replace(/\/+$/, '');
    const me = person('conn');
    const channelTitle = `E2E Kitchen ${me.suffix}`;
    const created = await fetch(`${fakes}/_control/youtube/channels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ videos: 12, seed: `e2e-${me.suffix}`, title: channelTitle }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const fakeChannel = (await created.json()) as Json;

    const page = await newPage();
    await signUpInUi(page, me);
    // A workspace without channels: the dashboard points to the Channels page.
    await page.getByText('Nothing to show yet').waitFor();
    await shot(page, '23-dashboard-empty');
    await page.getByRole('link', { name: 'Go to Channels' }).click();
    await page.waitForURL((u) => u.pathname === '/channels');
    await page.getByText('No channel connected').waitFor();
    await shot(page, '24-channels-empty');

    // Cancelled on Google's (fake) consent page: back with the reason, nothing connected.
    await page.getByRole('button', { name: 'Connect a YouTube channel' }).click();
    await page.waitForURL((u) => u.href.startsWith(fakes));
    await page.locator('#deny').click();
    await page.waitForURL((u) => u.href.startsWith(webUrl) && u.pathname === '/channels');
    const cancelled = page.getByRole('alert').filter({ hasText: 'The channel was not connected.' });
    await cancelled.waitFor();
    assert.match((await cancelled.textContent()) ?? '', /cancelled on Google’s consent page.*access_denied/s);
    await page.getByText('No channel connected').waitFor();

    // Again, and this time choose the new channel and Allow.
    await page.getByRole('button', { name: 'Connect a YouTube channel' }).click();
    await page.waitForURL((u) => u.href.startsWith(fakes));
    await page.getByRole('heading', { name: 'Choose an account to continue' }).waitFor();
    await shot(page, '25-fake-consent');
    await page.getByRole('link', { name: new RegExp(`Allow as ${channelTitle}`) }).click();

    // Back in the app: the outcome, the address cleaned up, the channel listed and its first sync.
    await page.waitForURL((u) => u.href.startsWith(webUrl) && u.pathname === '/channels');
    await page.getByText('Channel connected.').waitFor();
    await page.waitForURL((u) => u.search === '');
    const card = page.locator('article.channel').filter({ hasText: channelTitle });
    await card.getByRole('heading', { name: channelTitle }).waitFor();
    assert.ok(await card.evaluate((el) => el.classList.contains('highlight')), 'the channel just connected is highlighted');
    assert.equal(await card.locator('.channel-status').getAttribute('data-status'), 'active');
    await shot(page, '26-channel-connected');
    await card.locator('[data-run-status="succeeded"]').waitFor({ timeout: SYNC_TIMEOUT_MS });

    // Slow YouTube Analytics down a little (bounded) so the run's progress is visible on the way.
    const fault = await fetch(`${fakes}/_control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { pathPrefix: '/youtube-analytics' }, latencyMs: 1_500, times: 4 }),
    });
    assert.equal(fault.status, 201);
    const faultId = ((await fault.json()) as Json).id as string;
    try {
      await card.getByRole('button', { name: 'Sync now' }).click();
      const open = card.locator('[data-run-status="queued"], [data-run-status="running"]');
      await open.waitFor({ timeout: 30_000 });
      await card.locator('progress').waitFor();
      assert.equal(await card.getByRole('button', { name: 'Sync now' }).isDisabled(), true, 'no second sync while one runs');
      await shot(page, '27-sync-in-progress');
      const done = card.locator('[data-run-status="succeeded"]');
      await done.waitFor({ timeout: SYNC_TIMEOUT_MS });
      assert.match((await card.locator('.sync').textContent()) ?? '', /Manual sync.*finished/s, 'the manual run is the one that finished');
    } finally {
      await fetch(`${fakes}/_control/faults/${faultId}`, { method: 'DELETE' });
    }

    // Pressed again within five minutes: the API's 429 with its message and request id, and a wait.
    await card.getByRole('button', { name: 'Sync now' }).click();
    const refused = card.getByRole('alert').filter({ hasText: 'That did not work' });
    await refused.waitFor();
    const text = (await refused.textContent()) ?? '';
    assert.match(text, /less than 5 minutes ago/);
    assert.match(text, /Request ID\s*[0-9a-f-]{36}/);
    assert.match(text, /HTTP 429/);
    await card.getByText(/You can sync again in \d+ s/).waitFor();
    assert.equal(await card.getByRole('button', { name: 'Sync now' }).isDisabled(), true);
    await shot(page, '28-sync-refused');

    // The dashboard now shows this channel's own numbers.
    const token = await passwordToken(me.email, me.password);
    const workspaceId = await personalWorkspaceId(token);
    const insights = (await call(token, `insights?workspace_id=${workspaceId}`)).body.insights as Json;
    assert.equal(insights.channels.length, 1);
    assert.equal(insights.channels[0].youtube_channel_id, fakeChannel.channelId);
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    const views = page.locator('[data-kpi="views"]');
    await views.waitFor();
    assert.equal(await views.getAttribute('data-value'), String(insights.totals.views.current));
    await page.context().close();

    firstUser = { ...me, workspaceId, channelId: insights.channels[0].id as string, channelTitle };
    assert.deepEqual(pageErrors, []);
  },
);

test('a second user sees none of the first user’s data', { timeout: 120_000 }, async () => {
  assert.ok(firstUser, 'runs after the connect test');
  const other = person('iso');
  const page = await newPage();
  await signUpInUi(page, other);
  await page.getByText('Nothing to show yet').waitFor();
  assert.equal(await page.getByText(firstUser.channelTitle).count(), 0);
  await page.getByRole('link', { name: 'Channels', exact: true }).click();
  await page.getByText('No channel connected').waitFor();
  assert.equal(await page.getByText(firstUser.channelTitle).count(), 0);
  const options = await page.getByLabel('Workspace', { exact: true }).locator('option').allTextContents();
  assert.deepEqual(options, [`${other.name}'s workspace`], 'only their own workspace to choose from');
  await shot(page, '29-second-user-channels');
  await page.context().close();

  // Asking the functions directly does not help: the first user's workspace and channel do not exist for them.
  const token = await passwordToken(other.email, other.password);
  const insights = await call(token, `insights?workspace_id=${firstUser.workspaceId}`);
  assert.equal(insights.status, 404, JSON.stringify(insights.body));
  const runs = await call(token, `youtube-sync/runs?channel_id=${firstUser.channelId}`);
  assert.equal(runs.status, 404);
  const sync = await call(token, 'youtube-sync', { method: 'POST', body: { channel_id: firstUser.channelId } });
  assert.equal(sync.status, 404);
  const disconnect = await call(token, 'youtube-oauth/disconnect', { method: 'POST', body: { channel_id: firstUser.channelId } });
  assert.equal(disconnect.status, 404);
  const start = await call(token, 'youtube-oauth/start', { method: 'POST', body: { workspace_id: firstUser.workspaceId } });
  assert.ok([403, 404].includes(start.status), `start in a foreign workspace is refused (${start.status})`);
  assert.deepEqual(pageErrors, []);
});

test('a channel whose grant Google refused is re-authorised; an owner disconnects it', { timeout: 180_000 }, async () => {
  assert.ok(firstUser, 'runs after the connect test');
  const me = firstUser;
  // The sync worker marks a channel reauth_required when Google answers invalid_grant (tested in
  // the youtube-sync suites); here the database is set to that state directly.
  const sql = postgres(requiredEnv('SUPABASE_DB_URL'), { max: 1, onnotice: () => {} });
  try {
    await sql`update public.channels set status = 'reauth_required' where id = ${me.channelId}`;
  } finally {
    await sql.end();
  }

  const page = await newPage();
  await signInInUi(page, me, '/channels');
  const card = page.locator(`[data-channel-id="${me.channelId}"]`);
  await card.locator('[data-status="reauth_required"]').waitFor();
  await card.getByText('YouTube no longer accepts this channel’s authorisation').waitFor();
  assert.equal(await card.getByRole('button', { name: 'Sync now' }).count(), 0, 'no sync while the grant is refused');
  await shot(page, '32-channel-reauth');

  await card.getByRole('button', { name: 'Re-authorise' }).click();
  await page.waitForURL((u) => !u.href.startsWith(webUrl));
  await page.getByRole('link', { name: new RegExp(`Allow as ${me.channelTitle}`) }).click();
  await page.waitForURL((u) => u.href.startsWith(webUrl) && u.pathname === '/channels');
  await page.getByText('Channel connected.').waitFor();
  const again = page.locator(`[data-channel-id="${me.channelId}"]`);
  await again.locator('[data-status="active"]').waitFor();
  await again.locator('[data-run-status="succeeded"]').waitFor({ timeout: SYNC_TIMEOUT_MS });

  await again.getByRole('button', { name: 'Disconnect' }).click();
  const dialog = page.getByRole('dialog', { name: 'Disconnect this channel?' });
  await dialog.getByText(me.channelTitle).waitFor();
  await shot(page, '33-channel-disconnect-confirm');
  await dialog.getByRole('button', { name: 'Disconnect' }).click();
  await again.locator('[data-status="disconnected"]').waitFor();
  await again.getByRole('button', { name: 'Reconnect' }).waitFor();
  assert.equal(await again.getByRole('button', { name: 'Disconnect' }).count(), 0);
  await shot(page, '34-channel-disconnected');
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});

test('a failed call shows the message and the request id', { timeout: 60_000 }, async () => {
  const page = await newPage();
  await signInInUi(page, DEMO, '/account');
  // The network drops the insights call: the client's own request id is what support can look up.
  await page.route('**/functions/v1/insights**', (route) => route.abort('failed'));
  await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'The dashboard could not be loaded' });
  await alert.waitFor();
  const text = (await alert.textContent()) ?? '';
  assert.match(text, /Could not reach the server/);
  assert.match(text, /Request ID\s*[0-9a-f-]{36}/);
  await shot(page, '30-dashboard-error');
  await page.unroute('**/functions/v1/insights**');
  await alert.getByRole('button', { name: 'Try again' }).click();
  await page.locator('[data-kpi="views"]').waitFor();
  await page.context().close();
});

test('a platform admin sees metrics with charts and health, and acknowledges and resolves an alert', { timeout: 240_000 }, async () => {
  const serviceKey = requiredEnv('SUPABASE_SERVICE_ROLE_KEY');
  const admin = person('adm');
  const created = await fetch(`${supabaseUrl}/auth/v1/admin/users`, {
    method: 'POST',
    headers: { apikey: serviceKey, authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: admin.email, password: admin.password, email_confirm: true, app_metadata: { role: 'admin' } }),
  });
  assert.equal(created.status, 200, await created.clone().text());
  const token = await passwordToken(admin.email, admin.password);

  // Alert rules are evaluated by pg_cron every minute; a fresh stack has at least the backup rule
  // firing (no backup yet). Wait for one open alert.
  const alert = await waitFor('an open alert', 150_000, async () => {
    const r = await call(token, 'admin-alerts?status=open');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return ((r.body.alerts as Json[]).find((a) => !a.acknowledged_at) as Json | undefined) ?? null;
  });

  // One unhandled error as the handler wrapper records it: the page lists it with its request id.
  const errorMarker = `e2e-${crypto.randomUUID()}`;
  const db = postgres(requiredEnv('SUPABASE_DB_URL'), { max: 1, onnotice: () => {} });
  try {
    await db`insert into ops.errors (name, message, operation, request_id) values ('RangeError', 'e2e marker', 'GET demo', ${errorMarker})`;
    // A notification the webhook never took, as ops.deliver_alerts leaves it after its last attempt.
    await db`
      with a as (
        insert into ops.alerts (rule_key, resolved_at, resolution) values ('backup_missing', now(), 'e2e') returning id
      )
      insert into ops.alert_deliveries (alert_id, event, payload, status, attempts, last_status_code, last_error, next_attempt_at, finished_at)
      select id, 'opened', '{}', 'failed', 6, 500, ${`HTTP 500: ${errorMarker}`}, null, now() from a`;
  } finally {
    await db.end();
  }

  const page = await newPage();
  await signInInUi(page, admin, '/admin');
  await page.getByRole('link', { name: 'Admin' }).waitFor();
  const requests = page.locator('[data-metric="total_requests"] .value');
  await requests.waitFor();
  assert.ok(Number(digits(await requests.textContent())) > 0, 'requests were counted');
  await page.locator('[data-drawn="true"] canvas').first().waitFor();
  assert.equal(await page.locator('figure.chart').count(), 3, 'requests, error rate and p95 charts');
  for (const service of ['database', 'youtube', 'gemini', 'revid']) await page.locator(`tr[data-service="${service}"]`).waitFor();
  // The test stack runs every external service on the fakes, and the page says so.
  for (const service of ['youtube', 'gemini', 'revid'])
    assert.equal(await page.locator(`tr[data-service="${service}"] td[data-backend]`).getAttribute('data-backend'), 'fake', service);
  await page.getByRole('heading', { name: 'Recent errors' }).waitFor();
  await page.locator('[data-testid="recent-errors"]').getByText(errorMarker).waitFor();
  await page.locator('[data-testid="error-kinds"]').getByText('e2e marker').first().waitFor();
  const failedDelivery = page.locator('li[data-status="failed"]').filter({ hasText: errorMarker });
  await failedDelivery.waitFor();
  assert.match((await failedDelivery.textContent()) ?? '', /failed after 6 attempts: HTTP 500/);
  assert.ok(Number(digits(await page.locator('[data-count="failed_deliveries"]').textContent())) >= 1, 'failed deliveries are counted');

  const item = page.locator(`li[data-alert-id="${alert.id}"]`);
  await item.waitFor();
  await page.waitForTimeout(400);
  await shot(page, '31-admin');
  await item.getByRole('button', { name: /^Acknowledge/ }).click();
  await page.getByLabel('Show', { exact: true }).selectOption('all');
  await page.locator(`li[data-alert-id="${alert.id}"][data-state="acknowledged"]`).waitFor();
  await page
    .locator(`li[data-alert-id="${alert.id}"]`)
    .getByRole('button', { name: /^Resolve/ })
    .click();
  const dialog = page.getByRole('dialog', { name: 'Resolve alert' });
  await dialog.getByLabel('Note (optional)').fill('checked by the e2e test');
  await dialog.getByRole('button', { name: 'Resolve alert' }).click();
  await page.locator(`li[data-alert-id="${alert.id}"][data-state="resolved"]`).waitFor();
  const after = await call(token, 'admin-alerts?status=resolved');
  const resolved = (after.body.alerts as Json[]).find((a) => a.id === alert.id);
  assert.equal(resolved?.resolution, 'checked by the e2e test');
  await page.context().close();

  // Anyone else gets neither the page nor the data.
  const userPage = await newPage();
  await signInInUi(userPage, DEMO, '/admin');
  await userPage.getByText('Platform admins only').waitFor();
  assert.equal(await userPage.getByRole('link', { name: 'Admin' }).count(), 0);
  await userPage.context().close();
  const demoToken = await passwordToken(DEMO.email, DEMO.password);
  assert.equal((await call(demoToken, 'admin-metrics')).status, 403);
  assert.deepEqual(pageErrors, []);
});
