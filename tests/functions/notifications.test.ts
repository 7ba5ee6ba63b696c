// The email worker and the notification settings end to end against a running stack: the outbox
// row sent once with the provider's id recorded, retries through 5xx / 429 / a lost answer with
// the same Idempotency-Key, permanent refusals, preferences (API and effect), the one-click
// unsubscribe link, and an invitation delivered by email with a link that accepts it.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { addFault, faultStats } from './helpers/content.ts';
import {
  driveOutbox,
  inboxOf,
  outboxOf,
  publishScheduleInDb,
  resendEmailsTo,
  runNotificationWorker,
  waitForInbox,
} from './helpers/notifications.ts';
import { createSchedule, studio } from './helpers/schedules.ts';
import { control } from './helpers/youtube.ts';
import { callFunction, createWorkspace, signUp, withDb } from './helpers/users.ts';

const EMAILS = { method: 'POST', pathPrefix: '/resend/emails' };

async function removeFault(id: string) {
  await control('DELETE', `faults/${id}`);
}

async function publishedUpload(label: string) {
  const s = await studio(label);
  const schedule = await createSchedule(s);
  await publishScheduleInDb(schedule.id, `vid${crypto.randomUUID().slice(0, 8)}`);
  return { ...s, scheduleId: schedule.id as string };
}

Deno.test('a published upload is emailed once through the provider, its id recorded, after two 500s', async () => {
  const fault = await addFault({ match: EMAILS, status: 500, times: 2 });
  try {
    const s = await publishedUpload('nt-published');
    const [row] = await driveOutbox({ userId: s.user.id });
    assertEquals(row.event, 'upload_published');
    assertEquals(row.status, 'sent', JSON.stringify(row));
    const accepted = await resendEmailsTo(s.user.email);
    assertEquals(accepted.length, 1, 'exactly one email accepted by the provider');
    assertEquals(row.provider_message_id, accepted[0].id, "the provider's id is recorded");
    assertEquals(accepted[0].idempotencyKey, `notification-${row.id}`, 'the outbox row id is the Idempotency-Key');
    assertMatch(accepted[0].subject, /^Published: Five-minute pasta$/);
    assertOk(accepted[0].html?.includes('<html lang="en">'));
    assertOk(accepted[0].text?.includes('https://www.youtube.com/watch?v=vid'));
    const [message] = await waitForInbox(s.user.email, 1);
    assertEquals(message.subject, 'Published: Five-minute pasta', 'delivered into the local inbox');
    assertEquals((await faultStats(fault)).hits, 2, 'the two 500s were answered');
  } finally {
    await removeFault(fault);
  }
});

Deno.test('an answer lost after the provider accepted: the resend carries the same key and nothing is sent twice', async () => {
  const s = await publishedUpload('nt-lost');
  // the next send is accepted and its answer cut mid-body, so the worker cannot know it worked
  const fault = await addFault({ match: EMAILS, drop: 'mid-body', times: 1 });
  try {
    const [row] = await driveOutbox({ userId: s.user.id });
    assertEquals(row.status, 'sent');
    const accepted = await resendEmailsTo(s.user.email);
    assertEquals(accepted.length, 1, 'the provider recorded one email although it was asked twice');
    assertEquals(row.provider_message_id, accepted[0].id);
    await waitForInbox(s.user.email, 1);
    await new Promise((r) => setTimeout(r, 500));
    assertEquals((await inboxOf(s.user.email)).length, 1, 'one message in the inbox');
    assertEquals((await faultStats(fault)).hits, 1, 'the answer was lost once');
  } finally {
    await removeFault(fault);
  }
});

Deno.test('a 429 with a long Retry-After goes back to the outbox with that delay; a 422 fails the row for good', async () => {
  const s = await publishedUpload('nt-429');
  const slow = await addFault({ match: EMAILS, retryAfterSeconds: 120, times: 1 });
  try {
    await runNotificationWorker();
    const [row] = await outboxOf({ userId: s.user.id });
    // pg_cron's worker may have taken the 429 instead: either way the row waits for the provider
    assertEquals(row.status, 'pending', JSON.stringify(row));
    assertEquals(row.last_status_code, 429);
    assertOk(row.next_attempt_at!.getTime() >= Date.now() + 100_000, 'not retried before Retry-After');
  } finally {
    await removeFault(slow);
  }
  const [sent] = await driveOutbox({ userId: s.user.id });
  assertEquals(sent.status, 'sent');
  assertEquals(sent.attempts, 2, 'the 429 counted as an attempt');

  const t = await publishedUpload('nt-422');
  const refused = await addFault({
    match: EMAILS,
    status: 422,
    body: { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' },
    times: 1,
  });
  try {
    const [failed] = await driveOutbox({ userId: t.user.id });
    assertEquals(failed.status, 'failed');
    assertEquals(failed.attempts, 1, 'a refusal is never retried');
    assertMatch(failed.last_error ?? '', /^validation_error: Invalid `to` field\.$/);
    assertEquals((await resendEmailsTo(t.user.email)).length, 0);
  } finally {
    await removeFault(refused);
  }
});

Deno.test('notification preferences: defaults, changes, each user their own, bad input 400', async () => {
  const alice = await signUp('nt-prefs-a');
  const bob = await signUp('nt-prefs-b');
  const initial = await alice.call('notifications/preferences');
  assertEquals(initial.status, 200);
  assertEquals(initial.body.preferences, {
    upload_published: true,
    upload_problems: true,
    youtube_reauth: true,
    render_finished: true,
    alert_digest: true,
  });
  const changed = await alice.call('notifications/preferences', { method: 'PUT', body: { upload_published: false } });
  assertEquals(changed.status, 200, JSON.stringify(changed.body));
  assertEquals(changed.body.preferences.upload_published, false);
  assertEquals(changed.body.preferences.render_finished, true);
  assertEquals((await alice.call('notifications/preferences')).body.preferences.upload_published, false, 'stored');
  assertEquals((await bob.call('notifications/preferences')).body.preferences.upload_published, true, 'bob is untouched');
  assertEquals((await alice.call('notifications/preferences', { method: 'PUT', body: { upload_published: 'no' } })).status, 400);
  assertEquals((await alice.call('notifications/preferences', { method: 'PUT', body: { everything: false } })).status, 400);
  assertEquals((await alice.call('notifications/preferences', { method: 'PUT', body: {} })).status, 400);
  assertEquals((await callFunction(null, 'notifications/preferences')).status, 401);
  assertEquals(
    (await callFunction(null, 'notifications/worker', { method: 'POST', body: {} })).status,
    401,
    'the worker needs the service role',
  );
  assertEquals((await alice.call('notifications/worker', { method: 'POST', body: {} })).status, 401);
});

Deno.test("one-click unsubscribe: the email's List-Unsubscribe link works without signing in and stops that category", async () => {
  const s = await publishedUpload('nt-unsub');
  await driveOutbox({ userId: s.user.id });
  const [message] = await waitForInbox(s.user.email, 1);
  const header = message.headers['list-unsubscribe'] ?? '';
  assertEquals(message.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  const link = /^<(https?:\/\/[^>]+)>$/.exec(header)?.[1];
  assertOk(link, `a List-Unsubscribe URL: ${header}`);
  assertOk(message.text.includes('/unsubscribe?token='), 'the text has the web page link too');

  // a GET never unsubscribes: it sends the person to the web page
  const opened = await fetch(link, { redirect: 'manual' });
  await opened.body?.cancel();
  assertEquals(opened.status, 303);
  assertMatch(opened.headers.get('location') ?? '', /\/unsubscribe\?token=/);
  assertEquals((await s.user.call('notifications/preferences')).body.preferences.upload_published, true);

  const tampered = link.replace(/upload_published\./, 'alert_digest.');
  const refused = await fetch(tampered, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  assertEquals(refused.status, 400, 'a token changed by hand is refused');
  await refused.body?.cancel();

  const oneClick = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  assertEquals(oneClick.status, 200, await oneClick.clone().text());
  assertEquals((await oneClick.json()).category, 'upload_published');
  assertEquals((await s.user.call('notifications/preferences')).body.preferences.upload_published, false);

  // the next published upload of this user queues nothing for them
  const second = await createSchedule(s, { title: 'Second pasta' });
  await publishScheduleInDb(second.id, 'vidSecondOne');
  assertEquals((await outboxOf({ userId: s.user.id })).length, 1, 'no second row');
});

Deno.test('an invitation is emailed to the invitee, and the link in it accepts the invitation', async () => {
  const owner = await signUp('nt-inv-owner');
  const invitee = await signUp('nt-inv-guest');
  const ws = await createWorkspace(owner, 'Emailed team');
  const created = await owner.call('invitations', { method: 'POST', body: { workspace_id: ws, email: invitee.email, role: 'editor' } });
  assertEquals(created.status, 201);
  const [row] = await driveOutbox({ invitationId: created.body.invitation.id });
  assertEquals(row.status, 'sent');
  assertEquals(row.has_secret, false, 'the token is erased once sent');
  const [message] = await waitForInbox(invitee.email, 1);
  assertEquals(message.subject, 'You are invited to Emailed team');
  assertEquals(message.headers['list-unsubscribe'], undefined, 'an invitation is no subscription');
  const link = /(https?:\/\/\S+\/accept\?token=[A-Za-z0-9_%-]+)/.exec(message.text)?.[1];
  assertOk(link, 'the text has the accept link');
  assertEquals(link, created.body.accept_url, 'the link is the one the owner was given');
  const token = new URL(link).searchParams.get('token');
  const accepted = await invitee.call('invitations/accept', { method: 'POST', body: { token } });
  assertEquals(accepted.status, 200);
  assertEquals(accepted.body.workspace_id, ws);
  const stored = await withDb((sql) => sql`select payload::text as p from private.notification_outbox where id = ${row.id}`);
  assertEquals(stored[0].p.includes(token!), false, 'the token is never in the payload');
});
