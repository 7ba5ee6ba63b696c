// What the fake Resend remembers: every accepted email with its id and what became of its
// delivery into the local mail catcher, the idempotency keys it has seen (24 hours, as Resend),
// and its settings.
import { createHash, randomUUID } from 'node:crypto';

export interface SentEmail {
  id: string;
  idempotencyKey: string | null;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
  createdAt: string;
  /** queued → delivered into the SMTP catcher, or failed (no catcher configured, or it refused) */
  delivery: { status: 'queued' | 'delivered' | 'failed' | 'not_configured'; attempts: number; at: string | null; error: string | null };
}

interface IdempotencyEntry {
  fingerprint: string;
  emailId: string;
  at: number;
}

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const MAX_EMAILS = 5_000;

export class ResendState {
  /** null: any non-empty key is accepted. */
  apiKeys: string[] | null = null;
  /** Where accepted emails are delivered; null: nowhere (recorded only). */
  smtp: { host: string; port: number } | null = null;
  /**
   * How long an accepted email's answer is held back (it is recorded and delivered at once): a
   * client that dies meanwhile never learns that the send worked.
   */
  answerDelayMs = 0;
  emails: SentEmail[] = [];
  private keys = new Map<string, IdempotencyEntry>();

  constructor(smtp: { host: string; port: number } | null) {
    this.smtp = smtp;
  }

  /** The email a key was first used for, `conflict` when it came with another payload. */
  replay(key: string, fingerprint: string): SentEmail | 'conflict' | undefined {
    const entry = this.keys.get(key);
    if (!entry || Date.now() - entry.at > IDEMPOTENCY_WINDOW_MS) return undefined;
    if (entry.fingerprint !== fingerprint) return 'conflict';
    return this.emails.find((e) => e.id === entry.emailId);
  }

  accept(email: Omit<SentEmail, 'id' | 'createdAt' | 'delivery'>, fingerprint: string): SentEmail {
    const sent: SentEmail = {
      ...email,
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      delivery: { status: this.smtp ? 'queued' : 'not_configured', attempts: 0, at: null, error: null },
    };
    this.emails.push(sent);
    if (this.emails.length > MAX_EMAILS) this.emails.splice(0, this.emails.length - MAX_EMAILS);
    if (email.idempotencyKey) this.keys.set(email.idempotencyKey, { fingerprint, emailId: sent.id, at: Date.now() });
    return sent;
  }

  reset() {
    this.apiKeys = null;
    this.answerDelayMs = 0;
    this.emails = [];
    this.keys.clear();
  }
}

/** The same payload sent again gives the same fingerprint (key order does not matter). */
export function payloadFingerprint(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
