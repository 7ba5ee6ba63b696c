// GoTrue's /verify: a link (GET, answers with a redirect to the app) or a code or token_hash
// (POST, answers with a session). Each token works once and only until otp_expiry.
import { randomBytes } from 'node:crypto';
import { AuthHttpError, badRequest, forbidden, notImplemented, unprocessable } from './errors.ts';
import { ok, sessionReply, type AuthContext, type Handler } from './handler.ts';
import { redirectFor, type VerificationType } from './email-flows.ts';
import { parseJsonParams, readBody } from './http.ts';
import { consumeToken, findToken, linkTokenHash, type TokenType } from './one-time-tokens.ts';
import { validEmail, VerifyParams } from './params.ts';
import { startSession } from './sessions.ts';
import {
  applyEmailChange,
  confirmEmail,
  findUserById,
  hideParametersFromLog,
  isBanned,
  setPassword,
  type Sql,
  type UserRow,
} from './users.ts';

const TOKEN_TYPES: Record<string, TokenType[]> = {
  signup: ['confirmation_token'],
  invite: ['confirmation_token'],
  recovery: ['recovery_token'],
  magiclink: ['recovery_token'],
  email: ['confirmation_token', 'recovery_token'],
  email_change: ['email_change_token_new', 'email_change_token_current'],
};

// GoTrue's message for a secure email change confirmed on one of its two addresses.
export const SINGLE_CONFIRMATION = 'Confirmation link accepted. Please proceed to confirm link sent to the other email';

type Outcome = { kind: 'session'; user: UserRow; reply: Awaited<ReturnType<typeof sessionReply>> } | { kind: 'single_confirmation' };

interface Presented {
  type: string;
  tokenHash: string;
  /** Set when a code was typed: the token must belong to this address. */
  email: string | null;
}

async function confirmSignup(tx: Sql, user: UserRow) {
  // An invited user has no password yet: GoTrue gives a random one, and the app asks for a real one.
  if (!user.has_password && user.invited_at) {
    await hideParametersFromLog(tx);
    await setPassword(tx, user.id, randomBytes(48).toString('base64url'));
  }
  await confirmEmail(tx, user.id);
}

/** Applies a verified token; returns null for the first half of a secure email change. */
async function applyVerification(ctx: AuthContext, tx: Sql, type: VerificationType, tokenType: TokenType, user: UserRow) {
  await consumeToken(tx, user.id, tokenType);
  if (type === 'signup' || type === 'invite') return confirmSignup(tx, user);
  if (type === 'recovery' || type === 'magiclink') {
    if (!user.email_confirmed_at) await confirmEmail(tx, user.id);
    return;
  }
  const secure = ctx.config.doubleConfirmChanges && (user.email ?? '') !== '';
  if (secure && (user.email_change_confirm_status ?? 0) === 0) {
    await tx`update auth.users set email_change_confirm_status = 1, updated_at = now() where id = ${user.id}`;
    return 'single_confirmation' as const;
  }
  await tx`delete from auth.one_time_tokens where user_id = ${user.id} and token_type like 'email_change_token_%'`;
  await applyEmailChange(tx, user.id);
}

async function verify(ctx: AuthContext, p: Presented): Promise<Outcome> {
  const tokenTypes = TOKEN_TYPES[p.type];
  if (!tokenTypes) throw badRequest('validation_failed', 'Invalid email verification type');
  const invalid = () => forbidden('otp_expired', p.email ? 'Token has expired or is invalid' : 'Email link is invalid or has expired');
  let outcome: Outcome | null = null;
  await ctx.sql.begin(async (tx) => {
    const found = await findToken(tx, p.tokenHash, tokenTypes, ctx.config.otpExpirySeconds);
    if (!found || (p.email !== null && found.relatesTo !== p.email)) throw invalid();
    const user = await findUserById(tx, found.userId);
    if (!user) throw invalid();
    if (isBanned(user)) throw forbidden('user_banned', 'User is banned');
    if (found.expired) throw invalid();
    // "email" (a typed code) is a sign-up confirmation or a magic link, whichever token it is.
    const type: VerificationType =
      p.type === 'email' ? (found.type === 'confirmation_token' ? 'signup' : 'magiclink') : (p.type as VerificationType);
    if ((await applyVerification(ctx, tx, type, found.type, user)) === 'single_confirmation') {
      outcome = { kind: 'single_confirmation' };
      return;
    }
    const started = await startSession(tx, user.id);
    const fresh = (await findUserById(tx, user.id))!;
    outcome = { kind: 'session', user: fresh, reply: await sessionReply(ctx, fresh, started.session, started.refreshToken) };
  });
  return outcome!;
}

function presentedFromBody(params: ReturnType<typeof VerifyParams.parse>): Presented {
  const type = params.type ?? '';
  const token = params.token ?? '';
  const tokenHash = params.token_hash ?? '';
  if (type === '') throw badRequest('validation_failed', 'Verify requires a verification type');
  if ((token === '' && tokenHash === '') || (token !== '' && tokenHash !== '')) {
    throw badRequest('validation_failed', 'Verify requires either a token or a token hash');
  }
  if (type === 'sms' || type === 'phone_change') throw notImplemented('Phone verification');
  if (token !== '') {
    if (params.phone && !params.email) throw notImplemented('Phone verification');
    if (!params.email || params.phone) {
      throw badRequest('validation_failed', 'Only an email address or phone number should be provided on verify');
    }
    let email: string;
    try {
      email = validEmail(params.email);
    } catch {
      throw unprocessable('validation_failed', 'Invalid email format');
    }
    return { type, tokenHash: linkTokenHash(email, token), email };
  }
  if (params.email || params.phone || params.redirect_to) {
    throw badRequest('validation_failed', 'Only the token_hash and type should be provided');
  }
  return { type, tokenHash, email: null };
}

export const verifyPost: Handler = async (ctx, { req }) => {
  ctx.limiters.request('verify', req);
  const presented = presentedFromBody(parseJsonParams(await readBody(req), VerifyParams));
  const outcome = await verify(ctx, presented);
  if (outcome.kind === 'single_confirmation') return ok({ msg: SINGLE_CONFIRMATION, code: '200' });
  return outcome.reply;
};

// GoTrue's oauthErrorMap: the OAuth error name of a status, put in the redirect's fragment.
const OAUTH_ERRORS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized_client',
  403: 'access_denied',
  500: 'server_error',
  503: 'temporarily_unavailable',
};

function withFragment(target: string, values: Record<string, string>) {
  const u = new URL(target);
  const sorted = Object.keys(values)
    .sort()
    .map((k) => [k, values[k]!]);
  u.hash = new URLSearchParams(sorted).toString();
  return u.toString();
}

const seeOther = (location: string) => ({ status: 303, body: undefined, headers: { location } });

export const verifyGet: Handler = async (ctx, rq) => {
  ctx.limiters.request('verify', rq.req);
  const type = rq.url.searchParams.get('type') ?? '';
  const token = rq.url.searchParams.get('token') ?? '';
  if (type === '') throw badRequest('validation_failed', 'Verify requires a verification type');
  if (token === '') throw badRequest('validation_failed', 'Verify requires a token or a token hash');
  const redirectTo = redirectFor(ctx, rq);
  try {
    const outcome = await verify(ctx, { type, tokenHash: token, email: null });
    if (outcome.kind === 'single_confirmation') return seeOther(withFragment(redirectTo, { message: SINGLE_CONFIRMATION, sb: '' }));
    const t = outcome.reply.body as {
      access_token: string;
      token_type: string;
      expires_in: number;
      expires_at: number;
      refresh_token: string;
    };
    return seeOther(
      withFragment(redirectTo, {
        access_token: t.access_token,
        expires_at: String(t.expires_at),
        expires_in: String(t.expires_in),
        refresh_token: t.refresh_token,
        sb: '',
        token_type: t.token_type,
        type,
      }),
    );
  } catch (err) {
    if (!(err instanceof AuthHttpError)) throw err;
    const values: Record<string, string> = { error_code: err.errorCode, error_description: err.message, sb: '' };
    if (OAUTH_ERRORS[err.status]) values.error = OAUTH_ERRORS[err.status]!;
    return seeOther(withFragment(redirectTo, values));
  }
};
