// Sending the email of each flow the way GoTrue's mail.go does: the per-user max_frequency, the
// project's email rate limit, a fresh one-time token, the template, then *_sent_at, all inside
// the caller's transaction (a failed send rolls the token back).
import type { IncomingMessage } from 'node:http';
import type { EmailTemplateName } from './config.ts';
import type { AuthContext } from './handler.ts';
import { issueToken, type IssuedToken, type TokenType } from './one-time-tokens.ts';
import { assertSentLongEnoughAgo } from './rate-limits.ts';
import { referrer } from './redirects.ts';
import { markSent, setInvitedAt, type Sql, type UserRow } from './users.ts';

export type VerificationType = 'signup' | 'invite' | 'recovery' | 'magiclink' | 'email_change';

export interface MailRequest {
  req: IncomingMessage;
  url: URL;
}

/** redirect_to of this request if the allow list lets it through, else the site URL. */
export function redirectFor(ctx: AuthContext, rq: MailRequest, fromBody?: string | null) {
  return referrer(rq.req, rq.url, ctx.config.siteUrl, ctx.config.additionalRedirectUrls, fromBody);
}

async function mailToken(
  ctx: AuthContext,
  rq: MailRequest,
  template: EmailTemplateName,
  type: VerificationType,
  to: string,
  token: IssuedToken,
  extra: { Email: string; NewEmail?: string },
) {
  const redirectTo = redirectFor(ctx, rq);
  const confirmationUrl = `${ctx.externalUrl}/verify?${new URLSearchParams({ token: token.tokenHash, type, redirect_to: redirectTo })}`;
  await ctx.mailer.send(template, to, {
    ConfirmationURL: confirmationUrl,
    Token: token.otp,
    TokenHash: token.tokenHash,
    SiteURL: ctx.config.siteUrl,
    RedirectTo: redirectTo,
    ...extra,
  });
}

async function issueAndSend(
  ctx: AuthContext,
  tx: Sql,
  rq: MailRequest,
  user: UserRow,
  kind: { template: EmailTemplateName; type: VerificationType; token: TokenType },
) {
  const email = user.email ?? '';
  ctx.limiters.email();
  const token = await issueToken(tx, user.id, kind.token, email, ctx.config.otpLength);
  await mailToken(ctx, rq, kind.template, kind.type, email, token, { Email: email });
}

export async function sendConfirmation(ctx: AuthContext, tx: Sql, rq: MailRequest, user: UserRow) {
  assertSentLongEnoughAgo(user.confirmation_sent_at, ctx.config.maxFrequencyMs);
  await issueAndSend(ctx, tx, rq, user, { template: 'confirmation', type: 'signup', token: 'confirmation_token' });
  await markSent(tx, user.id, 'confirmation_sent_at');
}

export async function sendInvite(ctx: AuthContext, tx: Sql, rq: MailRequest, user: UserRow) {
  await issueAndSend(ctx, tx, rq, user, { template: 'invite', type: 'invite', token: 'confirmation_token' });
  await markSent(tx, user.id, 'confirmation_sent_at');
  await setInvitedAt(tx, user.id);
}

export async function sendRecovery(ctx: AuthContext, tx: Sql, rq: MailRequest, user: UserRow) {
  assertSentLongEnoughAgo(user.recovery_sent_at, ctx.config.maxFrequencyMs);
  await issueAndSend(ctx, tx, rq, user, { template: 'recovery', type: 'recovery', token: 'recovery_token' });
  await markSent(tx, user.id, 'recovery_sent_at');
}

/** A magic link shares the recovery token and its timer, as in GoTrue. */
export async function sendMagicLink(ctx: AuthContext, tx: Sql, rq: MailRequest, user: UserRow) {
  assertSentLongEnoughAgo(user.recovery_sent_at, ctx.config.maxFrequencyMs);
  await issueAndSend(ctx, tx, rq, user, { template: 'magic_link', type: 'magiclink', token: 'recovery_token' });
  await markSent(tx, user.id, 'recovery_sent_at');
}

/**
 * An email change: a link to the new address and, with double_confirm_changes, one to the
 * current address too; the change applies once every link sent has been used.
 */
export async function sendEmailChange(ctx: AuthContext, tx: Sql, rq: MailRequest, user: UserRow, newEmail: string) {
  const current = user.email ?? '';
  assertSentLongEnoughAgo(user.email_change_sent_at, ctx.config.maxFrequencyMs);
  ctx.limiters.email();
  const secure = ctx.config.doubleConfirmChanges && current !== '';
  const toNew = await issueToken(tx, user.id, 'email_change_token_new', newEmail, ctx.config.otpLength);
  const toCurrent = secure ? await issueToken(tx, user.id, 'email_change_token_current', current, ctx.config.otpLength) : null;
  if (!secure) await tx`delete from auth.one_time_tokens where user_id = ${user.id} and token_type = 'email_change_token_current'`;
  await tx`
    update auth.users
    set email_change = ${newEmail}, email_change_sent_at = now(), email_change_confirm_status = 0,
        email_change_token_new = '', email_change_token_current = '', updated_at = now()
    where id = ${user.id}`;
  const vars = { Email: current, NewEmail: newEmail };
  await mailToken(ctx, rq, 'email_change', 'email_change', newEmail, toNew, vars);
  if (toCurrent) await mailToken(ctx, rq, 'email_change', 'email_change', current, toCurrent, vars);
}
