// Acceptance: the email for a published upload arrives in the inbox exactly once, even when the
// send worker is killed mid-batch (after the provider accepted some emails whose answers it never
// read) and the provider then fails 30 % of the sends. Uploads are published by the real engine
// (schedules/worker → the fake YouTube); emails go through notifications/worker → the fake Resend
// → SMTP → the local mail catcher. pg_cron's wake-ups run workers alongside; the outcome must not
// depend on which worker sent what.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set: run against a running stack (tests/run.ts sets it)`);
  return v.replace(/\/+$/, '');
};
const gateway = env('SUPABASE_URL');
const anonKey = env('SUPABASE_ANON_KEY');
const serviceKey = env('SUPABASE_SERVICE_ROLE_KEY');
const fakes = env('LOCAL_FAKES_URL');
const mail = env('LOCAL_MAIL_URL');
const runtime = env('LOCAL_FUNCTIONS_URL');
const sql = postgres(env('SUPABASE_DB_URL'), { max: 2, prepare: false, onnotice: () => {} });
// Every upload costs 1,600 units of our daily budget and the fake's: room for this test's, restored after.
let restoreQuota = async () => {};
after(async () => {
  await control('POST', 'resend/settings', { answerDelayMs: 0 }).catch(() => {});
  await restoreQuota();
  await sql.end({ timeout: 5 });
});

async function roomForUploads(): Promise<void> {
  const [{ units }] = await sql`select units from private.youtube_daily_budget`;
  const fake = await control('GET', 'youtube/quota');
  restoreQuota = async () => {
    await sql`update private.youtube_daily_budget set units = ${units}`;
    await control('POST', 'youtube/quota', { dailyLimit: fake.dailyLimit });
  };
  await sql`update private.youtube_daily_budget set units = 100000000`;
  await control('POST', 'youtube/quota', { dailyLimit: 100_000_000 });
}

const USERS = 10;
const SCOPES = [
  'https://www.googleapis.com/auth/youtube.readonly',
  'https://www.googleapis.com/auth/yt-analytics.readonly',
  'https://www.googleapis.com/auth/youtube.upload',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function control(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${fakes}/_control/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`fakes ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function call(token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${gateway}/functions/v1/${path}`, {
    method: init.method ?? 'GET',
    headers: { apikey: anonKey, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

interface Creator {
  id: string;
  email: string;
  token: string;
  scheduleId: string;
}

async function creatorWithSchedule(i: number): Promise<Creator> {
  const email = `accept-notify-${i}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  // Auth requires email confirmation: a confirmed account through the admin API.
  const user = await createConfirmedUser({ url: gateway, anonKey, serviceRoleKey: serviceKey }, email, `pw-${crypto.randomUUID()}`);
  const signup = { user: { id: user.id } };
  const token: string = user.accessToken;
  const workspaces = await call(token, 'workspaces');
  const ws: string = workspaces.body.workspaces.find((w: { personal: boolean }) => w.personal).id;
  const fake = await control('POST', 'youtube/channels', { videos: 1, seed: `accept-notify-${crypto.randomUUID()}` });
  const [channel] = await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title, uploads_playlist_id, status, connected_by, connected_at)
    values (${ws}, ${fake.channelId}, ${fake.title}, ${fake.uploadsPlaylistId}, 'active', ${signup.user.id}, now()) returning id`;
  await sql`select private.save_channel_credentials(${channel.id}, ${fake.refreshToken}, ${fake.accessToken},
    now() + interval '50 minutes', ${SCOPES}::text[])`;
  const job = await control('POST', 'revid/jobs', { videoBytes: 512 * 1024, renderMs: 0 });
  const [render] = await sql`
    with content as (
      insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, created_by,
        submitted_by, submitted_at, reviewed_by, reviewed_at, approved_version)
      values (${ws}, 'script', '{"topic": "acceptance"}', 'test', 'gemini-test',
        '{"items": [{"title": "A script", "hook": "Watch.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}',
        'approved', ${signup.user.id}, ${signup.user.id}, now(), ${signup.user.id}, now(), 1)
      returning id)
    insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress,
      video_url, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, finished_at)
    select ${ws}, content.id, 1, ${job.pid}, '{}', 'ready', 100, ${`${fakes}/revid/media/${job.pid}.mp4`},
      encode(sha256('x'::bytea), 'hex'), now() + interval '1 hour', ${`accept-${crypto.randomUUID()}`}, encode(sha256('x'::bytea), 'hex'),
      ${signup.user.id}, now()
    from content returning id`;
  const made = await call(token, 'schedules', {
    method: 'POST',
    body: {
      workspace_id: ws,
      channel_id: channel.id,
      video_job_id: render.id,
      title: `Acceptance upload ${i}`,
      publish_at: new Date(Date.now() + 86_400_000).toISOString(),
      time_zone: 'UTC',
      strategy: 'upload_at_time',
    },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return { id: signup.user.id, email, token, scheduleId: made.body.schedule.id };
}

/** The real engine publishes it: the schedules worker is called until the row is published. */
async function publish(c: Creator): Promise<void> {
  await sql`update public.upload_schedules set publish_at = now(), next_attempt_at = now() where id = ${c.scheduleId}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [row] = await sql`select status, next_attempt_at from public.upload_schedules where id = ${c.scheduleId}`;
    if (row.status === 'published') return;
    assert.ok(!['failed', 'canceled'].includes(row.status), `upload ${c.scheduleId} ended ${row.status}`);
    assert.ok(Date.now() < deadline, `upload ${c.scheduleId} not published in time`);
    if (row.next_attempt_at && row.next_attempt_at.getTime() <= Date.now()) {
      await fetch(`${gateway}/functions/v1/schedules/worker`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ schedule_id: c.scheduleId }),
      }).then((r) => r.text());
    } else {
      await sleep(100);
    }
  }
}

async function acceptedTo(addresses: string[]): Promise<Json[]> {
  const { emails } = await control('GET', 'resend/emails');
  return emails.filter((e: Json) => e.to.some((t: string) => addresses.includes(t)));
}

async function killNotificationIsolates(): Promise<number> {
  const { isolates } = await fetch(`${runtime}/_runtime/isolates`).then((r) => r.json());
  const pids: number[] = isolates.filter((i: Json) => i.fn === 'notifications').map((i: Json) => i.pid);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids.length;
}

async function outbox(userIds: string[]): Promise<Json[]> {
  return await sql`select id::text, user_id, status, provider_message_id, attempts from private.notification_outbox
    where event = 'upload_published' and user_id = any(${userIds}::uuid[]) order by id`;
}

test(`the published-upload email arrives exactly once for ${USERS} uploads, with the send worker killed mid-batch and 30 % of sends failing`, async () => {
  await roomForUploads();
  const creators: Creator[] = [];
  for (let i = 0; i < USERS; i++) creators.push(await creatorWithSchedule(i));
  const addresses = creators.map((c) => c.email);
  const ids = creators.map((c) => c.id);

  // The provider accepts (and delivers) at once but answers only after 4 s: a worker killed in
  // that time never learns which of its emails went out.
  await control('POST', 'resend/settings', { answerDelayMs: 4_000 });
  for (const c of creators) await publish(c);
  assert.equal((await outbox(ids)).length, USERS, 'one outbox row per published upload');

  // Publishing woke the worker; also call it as pg_cron does, without waiting for its answer.
  const inFlight = fetch(`${gateway}/functions/v1/notifications/worker`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
    body: '{}',
  }).then(
    (r) => r.status,
    () => 0,
  );
  const deadline = Date.now() + 30_000;
  while ((await acceptedTo(addresses)).length < 2) {
    assert.ok(Date.now() < deadline, 'the worker never reached the provider');
    await sleep(100);
  }
  const killed = await killNotificationIsolates();
  assert.ok(killed >= 1, 'a notifications isolate was killed mid-batch');
  await inFlight;
  const acceptedBeforeKill = await acceptedTo(addresses);
  const rowsAtKill = await outbox(ids);
  const addressOf = (userId: string) => creators.find((c) => c.id === userId)!.email;
  const unrecorded = rowsAtKill.filter((r) => r.status !== 'sent' && acceptedBeforeKill.some((e) => e.to.includes(addressOf(r.user_id))));
  assert.ok(unrecorded.length >= 1, 'some emails went out whose rows the killed worker never marked sent');

  // From now on the provider answers at once but fails 30 % of the sends.
  await control('POST', 'resend/settings', { answerDelayMs: 0 });
  const fault = await control('POST', 'faults', { match: { method: 'POST', pathPrefix: '/resend/emails' }, status: 500, failRate: 0.3 });
  try {
    // As if the killed worker's lease had run out (it would after lease_seconds).
    await sql`update private.notification_outbox set lease_expires_at = now() - interval '1 second'
      where status = 'sending' and user_id = any(${ids}::uuid[])`;
    const finish = Date.now() + 90_000;
    for (;;) {
      const rows = await outbox(ids);
      if (rows.every((r) => r.status === 'sent')) break;
      assert.ok(
        rows.every((r) => r.status !== 'failed'),
        `no row fails: ${JSON.stringify(rows)}`,
      );
      assert.ok(Date.now() < finish, `rows still open: ${JSON.stringify(rows)}`);
      await sql`update private.notification_outbox set next_attempt_at = now()
        where status = 'pending' and user_id = any(${ids}::uuid[])`;
      await fetch(`${gateway}/functions/v1/notifications/worker`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
        body: '{}',
      }).then((r) => r.text());
    }
    const { faults } = await control('GET', 'faults');
    assert.ok(faults.find((f: Json) => f.id === fault.id).hits >= 1, 'the provider did fail sends');
  } finally {
    await control('DELETE', `faults/${fault.id}`);
  }

  const rows = await outbox(ids);
  const accepted = await acceptedTo(addresses);
  for (const c of creators) {
    const mine = accepted.filter((e) => e.to.includes(c.email));
    assert.equal(mine.length, 1, `the provider sent one email to creator ${c.id}`);
    const row = rows.find((r) => r.user_id === c.id);
    assert.equal(row.provider_message_id, mine[0].id, "the row records the provider's id of that email");
  }
  // Delivery into the inbox is asynchronous: wait for all, then make sure no second one follows.
  const inboxDeadline = Date.now() + 20_000;
  for (const address of addresses) {
    for (;;) {
      const messages = await fetch(`${mail}/api/messages?to=${encodeURIComponent(address)}`).then((r) => r.json());
      if (messages.length >= 1) break;
      assert.ok(Date.now() < inboxDeadline, `no email arrived for ${address}`);
      await sleep(200);
    }
  }
  await sleep(1_000);
  for (const address of addresses) {
    const messages = await fetch(`${mail}/api/messages?to=${encodeURIComponent(address)}`).then((r) => r.json());
    assert.equal(messages.length, 1, `exactly one email in the inbox of ${address}`);
    assert.match(messages[0].subject, /^Published: Acceptance upload \d+$/);
  }
});
