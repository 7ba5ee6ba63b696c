// The email flows of Supabase Auth as the app uses them. Every email links to /auth/confirm with
// the one-time token in the URL fragment (see supabase/templates), so the token never reaches a
// server log; that page verifies it with POST /auth/v1/verify (verifyOtp) and signs the user in.
import type { EmailOtpType, GoTrueClient } from '@supabase/auth-js';
import { toApiError } from './api-error.ts';
import { safeNextPath } from './redirect.ts';

export const CONFIRM_PATH = '/auth/confirm';

/** The redirect_to Auth puts in its emails: this app's confirm page, with where to go afterwards. */
export function confirmRedirect(origin: string, next?: string | null): string {
  const url = new URL(CONFIRM_PATH, origin);
  const safe = next ? safeNextPath(next, '') : '';
  if (safe) url.searchParams.set('next', safe);
  return url.href;
}

const LINK_TYPES: EmailOtpType[] = ['signup', 'invite', 'recovery', 'magiclink', 'email_change', 'email'];

export interface EmailLink {
  tokenHash: string;
  type: EmailOtpType;
}

/** The token of an email link, from the fragment (`#token_hash=…&type=…`); null if there is none. */
export function linkFromHash(hash: string): EmailLink | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const tokenHash = params.get('token_hash') ?? '';
  const type = params.get('type') as EmailOtpType | null;
  if (!/^[0-9a-f]{16,128}$/i.test(tokenHash) || !type || !LINK_TYPES.includes(type)) return null;
  return { tokenHash, type };
}

/** Where a verified link leads: a new password after recovery or an invitation, else `next`. */
export function afterConfirm(type: EmailOtpType, next: string | null): string {
  if (type === 'recovery' || type === 'invite') return '/reset-password';
  return safeNextPath(next);
}

export type VerifyOutcome = { kind: 'signed-in' } | { kind: 'one-of-two-confirmed' };

export async function verifyLink(auth: GoTrueClient, link: EmailLink): Promise<VerifyOutcome> {
  const { data, error } = await auth.verifyOtp({ token_hash: link.tokenHash, type: link.type });
  if (error) throw toApiError(error);
  // A secure email change answers the first of its two confirmations without a session.
  return data.session ? { kind: 'signed-in' } : { kind: 'one-of-two-confirmed' };
}

export async function resendConfirmation(auth: GoTrueClient, email: string, redirectTo: string) {
  const { error } = await auth.resend({ type: 'signup', email, options: { emailRedirectTo: redirectTo } });
  if (error) throw toApiError(error);
}

export async function requestPasswordReset(auth: GoTrueClient, email: string, redirectTo: string) {
  const { error } = await auth.resetPasswordForEmail(email, { redirectTo });
  if (error) throw toApiError(error);
}

/** A magic link (and code) to an existing account; never creates one. */
export async function sendMagicLink(auth: GoTrueClient, email: string, redirectTo: string) {
  const { error } = await auth.signInWithOtp({ email, options: { shouldCreateUser: false, emailRedirectTo: redirectTo } });
  if (error) throw toApiError(error);
}

export async function verifyCode(auth: GoTrueClient, email: string, code: string) {
  const { error } = await auth.verifyOtp({ email, token: code, type: 'email' });
  if (error) throw toApiError(error);
}

export async function setNewPassword(auth: GoTrueClient, password: string) {
  const { error } = await auth.updateUser({ password });
  if (error) throw toApiError(error);
}

/** Starts an email change; Auth mails both addresses, and the change applies once both confirm. */
export async function changeEmail(auth: GoTrueClient, email: string, redirectTo: string) {
  const { error } = await auth.updateUser({ email }, { emailRedirectTo: redirectTo });
  if (error) throw toApiError(error);
}
