// Resend's send call (`POST {RESEND_API_BASE}/emails`, Bearer key): JSON `{ from, to, subject,
// html, text, headers }` → 200 `{ id }`; errors `{ statusCode, name, message }` (400
// invalid_idempotency_key / validation_error, 401 missing_api_key, 403 invalid_api_key, 409
// invalid_idempotent_request / concurrent_idempotent_requests, 422 validation_error /
// missing_required_field, 429 rate_limit_exceeded with Retry-After, 5xx application_error).
// The Idempotency-Key makes a resend after a lost answer safe: within 24 hours Resend answers the
// first email's id and sends nothing. Never logs or returns an address, a body or the key.
import { env } from '../../platform/env.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

export type SendResult =
  | { ok: true; id: string; status: number }
  | { ok: false; status: number | null; code: string; message: string; retryable: boolean; retryAfterSeconds: number | null };

const TIMEOUT_MS = 10_000;

export class EmailNotConfigured extends Error {
  constructor() {
    super('RESEND_API_KEY and EMAIL_FROM must be set to send email');
    this.name = 'EmailNotConfigured';
  }
}

function retryAfter(res: Response): number | null {
  const raw = res.headers.get('retry-after');
  if (!raw) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(Math.ceil(seconds), 3600);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.min(Math.max(Math.ceil((at - Date.now()) / 1000), 0), 3600);
}

// 409 concurrent_idempotent_requests: the first request with this key is still running; asking
// again later returns its answer. 409 invalid_idempotent_request is a bug of ours: never retried.
function isRetryable(status: number, code: string): boolean {
  if (status === 429 || status >= 500) return true;
  return status === 409 && code === 'concurrent_idempotent_requests';
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  try {
    const body = (await res.json()) as { name?: unknown; message?: unknown };
    return {
      code: typeof body.name === 'string' ? body.name.slice(0, 80) : `http_${res.status}`,
      message: typeof body.message === 'string' ? body.message.slice(0, 300) : `HTTP ${res.status}`,
    };
  } catch {
    return { code: `http_${res.status}`, message: `HTTP ${res.status}` };
  }
}

export async function sendEmail(email: OutgoingEmail, idempotencyKey: string): Promise<SendResult> {
  const e = env();
  if (!e.RESEND_API_KEY || !e.EMAIL_FROM) throw new EmailNotConfigured();
  let res: Response;
  try {
    res = await fetch(`${e.RESEND_API_BASE}/emails`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${e.RESEND_API_KEY}`,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify({
        from: e.EMAIL_FROM,
        to: [email.to],
        subject: email.subject,
        html: email.html,
        text: email.text,
        headers: email.headers,
      }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return {
      ok: false,
      status: null,
      code: timedOut ? 'timeout' : 'network_error',
      message: timedOut ? 'no answer within 10 s' : 'the request did not complete',
      retryable: true,
      retryAfterSeconds: null,
    };
  }
  if (res.ok) {
    let id: unknown;
    try {
      id = ((await res.json()) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    // An answer without an id cannot be recorded; asking again with the key returns the id.
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
      return {
        ok: false,
        status: res.status,
        code: 'invalid_response',
        message: 'the provider answered without an email id',
        retryable: true,
        retryAfterSeconds: null,
      };
    }
    return { ok: true, id, status: res.status };
  }
  const { code, message } = await errorOf(res);
  return { ok: false, status: res.status, code, message, retryable: isRetryable(res.status, code), retryAfterSeconds: retryAfter(res) };
}
