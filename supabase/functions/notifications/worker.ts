// The email worker: claims due outbox rows with a lease (private.claim_notifications), renders
// each, sends it through the provider with the row id as Idempotency-Key, and records the
// provider's id (sent) or the failed attempt (back to pending with backoff, or failed). A worker
// that dies mid-batch loses nothing: its rows come back when the lease runs out, and the resend
// carries the same key, so the provider answers with the first email's id and sends nothing.
// Within the hosted limits: a send is one small TLS request (a few ms of CPU), at most
// MAX_ROWS per invocation, started only while the time budget lasts; rows claimed but not
// started are released. A full batch wakes a successor at once.
import { asService } from '../_shared/platform/db.ts';
import { env } from '../_shared/platform/env.ts';
import { EmailNotConfigured, sendEmail, type SendResult } from '../_shared/integrations/resend/client.ts';
import { categoryOf, renderEmail, type Links, type NotificationEvent } from './email-templates.ts';
import { unsubscribeToken } from './unsubscribe-token.ts';

export const DEFAULT_MAX_ROWS = 20;
export const DEFAULT_TIME_BUDGET_MS = 20_000;
export const DEFAULT_LEASE_SECONDS = 120;
const CONCURRENCY = 4;
// Tries within one claim for an answer worth retrying at once (429, 5xx, no answer); later tries
// are the outbox's, with backoff.
const INLINE_TRIES = 3;
const INLINE_BACKOFF_MS = [250, 1000];
const MAX_INLINE_RETRY_AFTER_S = 2;

export interface WorkerOptions {
  maxRows: number;
  timeBudgetMs: number;
  leaseSeconds: number;
}

export interface WorkerReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  released: number;
  provider_calls: number;
  chained: number;
}

interface OutboxRow {
  id: string;
  event: NotificationEvent;
  user_id: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  to_email: string | null;
  invitation_token: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function idempotencyKeyOf(row: { id: string | number }): string {
  return `notification-${row.id}`;
}

async function linksFor(row: OutboxRow): Promise<{ links: Links; oneClick: string | null }> {
  const e = env();
  const links: Links = { app: e.WEB_APP_URL, settings: `${e.WEB_APP_URL}/account/notifications` };
  if (row.invitation_token) links.accept = `${e.WEB_APP_URL}/accept?token=${encodeURIComponent(row.invitation_token)}`;
  const category = categoryOf(row.event);
  if (!category || !row.user_id) return { links, oneClick: null };
  const token = encodeURIComponent(await unsubscribeToken(row.user_id, category));
  links.unsubscribe = `${e.WEB_APP_URL}/unsubscribe?token=${token}`;
  return { links, oneClick: `${e.SUPABASE_URL}/functions/v1/notifications/unsubscribe?token=${token}` };
}

async function sendWithRetries(row: OutboxRow, report: WorkerReport): Promise<SendResult> {
  const { links, oneClick } = await linksFor(row);
  const rendered = renderEmail(row.event, row.payload, links);
  // RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` to the URL, no sign-in.
  const headers: Record<string, string> = oneClick
    ? { 'List-Unsubscribe': `<${oneClick}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
    : {};
  let result: SendResult | undefined;
  for (let attempt = 0; attempt < INLINE_TRIES; attempt++) {
    report.provider_calls++;
    result = await sendEmail({ to: row.to_email!, ...rendered, headers }, idempotencyKeyOf(row));
    if (result.ok || !result.retryable || attempt === INLINE_TRIES - 1) break;
    if (result.retryAfterSeconds !== null && result.retryAfterSeconds > MAX_INLINE_RETRY_AFTER_S) break;
    await sleep(Math.max(INLINE_BACKOFF_MS[attempt] ?? 1000, (result.retryAfterSeconds ?? 0) * 1000));
  }
  return result!;
}

async function handle(row: OutboxRow, worker: string, report: WorkerReport): Promise<void> {
  if (!row.to_email) {
    await recordFailure(row, worker, null, 'no address for the recipient', null, true, report);
    return;
  }
  let result: SendResult;
  try {
    result = await sendWithRetries(row, report);
  } catch (err) {
    if (!(err instanceof EmailNotConfigured)) throw err;
    // a deployment without its email secrets: the rows wait (with backoff) for them to be set
    await recordFailure(row, worker, null, 'not_configured: RESEND_API_KEY and EMAIL_FROM must be set', null, false, report);
    return;
  }
  if (result.ok) {
    await asService((tx) => tx`select private.notification_sent(${row.id}, ${result.id}, ${result.status})`);
    report.sent++;
    return;
  }
  await recordFailure(row, worker, result.status, `${result.code}: ${result.message}`, result.retryAfterSeconds, !result.retryable, report);
}

async function recordFailure(
  row: OutboxRow,
  worker: string,
  status: number | null,
  error: string,
  retryAfter: number | null,
  permanent: boolean,
  report: WorkerReport,
): Promise<void> {
  const [r] = await asService(
    (tx) => tx<{ status: string | null }[]>`
    select private.notification_attempt_failed(${row.id}, ${worker}, ${status}, ${error}, ${retryAfter}, ${permanent}) as status`,
  );
  if (r?.status === 'failed') report.failed++;
  else report.retried++;
}

async function claim(worker: string, opts: WorkerOptions): Promise<OutboxRow[]> {
  return await asService(
    (tx) => tx<OutboxRow[]>`
    select id::text, event, user_id, payload, attempts, to_email, invitation_token
    from private.claim_notifications(${worker}, ${opts.maxRows}, ${opts.leaseSeconds})`,
  );
}

export async function runNotificationWorker(opts: WorkerOptions): Promise<WorkerReport> {
  const worker = `notifications-${crypto.randomUUID()}`;
  const deadline = Date.now() + opts.timeBudgetMs;
  const report: WorkerReport = { claimed: 0, sent: 0, retried: 0, failed: 0, released: 0, provider_calls: 0, chained: 0 };
  const rows = await claim(worker, opts);
  report.claimed = rows.length;
  const queue = [...rows];
  const unstarted: string[] = [];
  async function lane() {
    for (let row = queue.shift(); row; row = queue.shift()) {
      if (Date.now() >= deadline) {
        unstarted.push(row.id);
        continue;
      }
      await handle(row, worker, report);
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, lane));
  if (unstarted.length > 0) {
    const [r] = await asService((tx) => tx<{ n: number }[]>`select private.release_notifications(${unstarted}::bigint[], ${worker}) as n`);
    report.released = r?.n ?? 0;
  }
  if (rows.length >= opts.maxRows || report.released > 0) {
    const [r] = await asService((tx) => tx<{ id: string | null }[]>`select private.wake_notification_worker()::text as id`);
    if (r?.id) report.chained = 1;
  }
  return report;
}
