// Shared by the notification suites: the outbox rows of a recipient, the worker called as pg_cron
// calls it, the fake Resend's record and the local mail catcher's inbox.
import { fakes } from './content.ts';
import { callFunction, stack, withDb, type Json } from './users.ts';

export interface OutboxRow {
  id: string;
  event: string;
  status: string;
  attempts: number;
  provider_message_id: string | null;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  has_secret: boolean;
}

export async function outboxOf(where: { userId?: string; invitationId?: string }): Promise<OutboxRow[]> {
  return await withDb(
    (sql) => sql<OutboxRow[]>`
    select id::text, event, status, attempts, provider_message_id, last_status_code, last_error, next_attempt_at,
      secret_enc is not null as has_secret
    from private.notification_outbox
    where (${where.userId ?? null}::uuid is null or user_id = ${where.userId ?? null})
      and (${where.invitationId ?? null}::uuid is null or invitation_id = ${where.invitationId ?? null})
    order by id`,
  );
}

export async function runNotificationWorker(body: Record<string, unknown> = {}): Promise<Json> {
  const res = await callFunction(stack.serviceKey, 'notifications/worker', { method: 'POST', body });
  if (res.status !== 200) throw new Error(`notifications/worker: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** As if the backoff had passed: the rows are due now. */
export async function makeOutboxDue(ids: string[]): Promise<void> {
  await withDb(
    (sql) => sql`update private.notification_outbox set next_attempt_at = now() where id = any(${ids}::bigint[]) and status = 'pending'`,
  );
}

/**
 * Calls the worker until every row of the recipient is finished (pg_cron's worker may finish
 * some first: the outcome is the same), making retries due at once.
 */
export async function driveOutbox(where: { userId?: string; invitationId?: string }, timeoutMs = 30_000): Promise<OutboxRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await outboxOf(where);
    if (rows.length > 0 && rows.every((r) => ['sent', 'failed', 'skipped'].includes(r.status))) return rows;
    if (Date.now() > deadline) throw new Error(`outbox rows still open after ${timeoutMs} ms: ${JSON.stringify(rows)}`);
    await makeOutboxDue(rows.filter((r) => r.status === 'pending').map((r) => r.id));
    await runNotificationWorker();
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ResendEmail {
  id: string;
  idempotencyKey: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
  delivery: { status: string };
}

/** What the fake Resend accepted for an address, newest first. */
export async function resendEmailsTo(address: string): Promise<ResendEmail[]> {
  return (await fakes(`/_control/resend/emails?to=${encodeURIComponent(address)}`)).emails;
}

export interface InboxMessage {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

export function mailUrl(): string {
  const url = Deno.env.get('LOCAL_MAIL_URL');
  if (!url) throw new Error('LOCAL_MAIL_URL is not set: run these tests against a running stack');
  return url.replace(/\/+$/, '');
}

/** The local mail catcher's messages to an address, newest first. */
export async function inboxOf(address: string): Promise<InboxMessage[]> {
  const res = await fetch(`${mailUrl()}/api/messages?to=${encodeURIComponent(address)}`);
  if (!res.ok) throw new Error(`mail catcher: ${res.status} ${await res.text()}`);
  return await res.json();
}

export async function waitForInbox(address: string, count: number, timeoutMs = 15_000): Promise<InboxMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = await inboxOf(address);
    if (messages.length >= count) return messages;
    if (Date.now() > deadline) throw new Error(`${count} message(s) to ${address} expected, ${messages.length} arrived`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A published upload without the upload: the row moved to published as the engine does it. */
export async function publishScheduleInDb(scheduleId: string, videoId: string): Promise<void> {
  await withDb(
    (sql) => sql`
    update public.upload_schedules set status = 'published', youtube_video_id = ${videoId}, published_at = now(),
      finished_at = now(), next_attempt_at = null
    where id = ${scheduleId}`,
  );
}
