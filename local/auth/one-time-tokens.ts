// One-time tokens of the email flows, as GoTrue makes them: a numeric code (OTP) is mailed, and
// the link carries token_hash = sha224(email + code). Only sha256(token_hash) is stored
// (auth.one_time_tokens), one row per user and kind; using a token deletes its row, so a link
// works once, and a token older than otp_expiry is refused.
import { createHash, randomInt } from 'node:crypto';
import type { Sql } from './users.ts';
import { textArray } from './database.ts';

export type TokenType = 'confirmation_token' | 'recovery_token' | 'email_change_token_new' | 'email_change_token_current';

export interface IssuedToken {
  /** The code people may type (otp_length digits). */
  otp: string;
  /** What links carry. */
  tokenHash: string;
}

/** GoTrue's crypto.GenerateTokenHash. */
export const linkTokenHash = (email: string, otp: string) =>
  createHash('sha224')
    .update(email + otp)
    .digest('hex');
const atRest = (tokenHash: string) => createHash('sha256').update(tokenHash).digest('hex');

export function newOtp(length: number): string {
  let otp = '';
  for (let i = 0; i < length; i++) otp += String(randomInt(10));
  return otp;
}

/** Issues a token for `email` (replacing the user's previous one of that kind). */
export async function issueToken(tx: Sql, userId: string, type: TokenType, email: string, otpLength: number): Promise<IssuedToken> {
  const otp = newOtp(otpLength);
  const tokenHash = linkTokenHash(email, otp);
  await tx`
    insert into auth.one_time_tokens (user_id, token_type, token_hash, relates_to)
    values (${userId}, ${type}, ${atRest(tokenHash)}, ${email})
    on conflict (user_id, token_type) do update
      set token_hash = excluded.token_hash, relates_to = excluded.relates_to, created_at = now(), updated_at = now()`;
  return { otp, tokenHash };
}

export interface FoundToken {
  userId: string;
  type: TokenType;
  relatesTo: string;
  expired: boolean;
}

/**
 * The unexpired-or-not token a link or code names, locked for this transaction; `types` limits
 * the kinds a verification type may use.
 */
export async function findToken(tx: Sql, tokenHash: string, types: TokenType[], expirySeconds: number): Promise<FoundToken | null> {
  const [row] = await tx<{ user_id: string; token_type: TokenType; relates_to: string; expired: boolean }[]>`
    select user_id, token_type, relates_to, created_at + make_interval(secs => ${expirySeconds}) < now() as expired
    from auth.one_time_tokens
    where token_hash = ${atRest(tokenHash)} and token_type = any(${textArray(tx, types)})
    for update`;
  return row ? { userId: row.user_id, type: row.token_type, relatesTo: row.relates_to, expired: row.expired } : null;
}

export async function consumeToken(tx: Sql, userId: string, type: TokenType) {
  await tx`delete from auth.one_time_tokens where user_id = ${userId} and token_type = ${type}`;
}

export async function clearTokens(tx: Sql, userId: string, types: TokenType[]) {
  await tx`delete from auth.one_time_tokens where user_id = ${userId} and token_type = any(${textArray(tx, types)})`;
}
