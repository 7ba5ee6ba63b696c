// One-click unsubscribe links (RFC 8058): a token naming a user and a category, signed with
// EMAIL_LINK_SECRET (HMAC-SHA-256), so the link works without signing in and cannot be made for
// anyone else. It does not expire: a link in an old email must still unsubscribe.
import { constantTimeEqual } from '../_shared/platform/auth.ts';
import { env } from '../_shared/platform/env.ts';

export const CATEGORIES = ['upload_published', 'upload_problems', 'youtube_reauth', 'render_finished', 'alert_digest'] as const;
export type Category = (typeof CATEGORIES)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

let cachedKey: { secret: string; key: CryptoKey } | undefined;

async function hmacKey(): Promise<CryptoKey> {
  const secret = env().EMAIL_LINK_SECRET;
  if (!secret) throw new Error('EMAIL_LINK_SECRET must be set for unsubscribe links');
  if (cachedKey?.secret !== secret) {
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    cachedKey = { secret, key };
  }
  return cachedKey.key;
}

async function signature(userId: string, category: Category): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(), new TextEncoder().encode(`unsubscribe:v1:${userId}:${category}`));
  return base64url(new Uint8Array(mac));
}

export async function unsubscribeToken(userId: string, category: Category): Promise<string> {
  return `${userId}.${category}.${await signature(userId, category)}`;
}

/** The user and category a token was made for, or null when it is malformed or not ours. */
export async function verifyUnsubscribeToken(token: string): Promise<{ userId: string; category: Category } | null> {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [userId, category, sig] = parts as [string, string, string];
  if (!UUID.test(userId) || !(CATEGORIES as readonly string[]).includes(category)) return null;
  const expected = await signature(userId, category as Category);
  return constantTimeEqual(sig, expected) ? { userId, category: category as Category } : null;
}
