// The endpoints that send Auth's emails: /recover, /resend, /otp and /magiclink (magic link or
// sign-up confirmation), and the admin /invite. Unknown addresses are answered like known ones
// where GoTrue does so, so the answers do not reveal who has an account.
import { badRequest, notImplemented, unprocessable } from './errors.ts';
import { databaseWrite, ok, type AuthContext, type Handler, type RouteRequest } from './handler.ts';
import { requireAdmin } from './guards.ts';
import { parseJsonParams, readBody } from './http.ts';
import { sendConfirmation, sendEmailChange, sendInvite, sendMagicLink, sendRecovery } from './email-flows.ts';
import { InviteParams, OtpParams, RecoverParams, ResendParams, validEmail } from './params.ts';
import { findUserByEmail, findUserById, hideParametersFromLog, insertUser, userJson, type Sql, type UserRow } from './users.ts';
import { randomBytes } from 'node:crypto';

/** The PKCE flow is not emulated (the web app uses the implicit flow with token_hash links). */
function refusePkce(params: { code_challenge?: string | null }) {
  if (params.code_challenge) throw notImplemented('The PKCE flow');
}

/** Runs `send` for the user in a transaction that sees the user's current row. */
async function withUser(ctx: AuthContext, user: UserRow, send: (tx: Sql, fresh: UserRow) => Promise<void>) {
  await ctx.sql.begin(async (tx) => {
    const [locked] = await tx<{ id: string }[]>`select id from auth.users where id = ${user.id} for update`;
    if (!locked) return;
    await send(tx, (await findUserById(tx, user.id))!);
  });
}

export const recover: Handler = async (ctx, rq) => {
  ctx.limiters.request('recover', rq.req);
  const params = parseJsonParams(await readBody(rq.req), RecoverParams);
  refusePkce(params);
  if (!params.email) throw badRequest('validation_failed', 'Password recovery requires an email');
  const user = await findUserByEmail(ctx.sql, validEmail(params.email));
  if (!user) return ok({});
  await withUser(ctx, user, (tx, fresh) => sendRecovery(ctx, tx, rq, fresh));
  return ok({});
};

export const resend: Handler = async (ctx, rq) => {
  ctx.limiters.request('resend', rq.req);
  const params = parseJsonParams(await readBody(rq.req), ResendParams);
  refusePkce(params);
  const type = params.type ?? '';
  if (!['signup', 'email_change', 'sms', 'phone_change'].includes(type)) {
    throw badRequest('validation_failed', 'Missing one of these types: signup, email_change, sms, phone_change');
  }
  if (type === 'sms' || type === 'phone_change') throw notImplemented('Phone verification');
  if (!params.email) throw badRequest('validation_failed', 'Type provided requires an email address');
  if (params.phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided.');
  const email = validEmail(params.email);
  const user = await findUserByEmail(ctx.sql, email);
  if (!user) return ok({});
  if (type === 'signup') {
    if (user.email_confirmed_at) return ok({});
    await withUser(ctx, user, (tx, fresh) => sendConfirmation(ctx, tx, rq, fresh));
  } else {
    if (!user.email_change) return ok({});
    await withUser(ctx, user, (tx, fresh) => sendEmailChange(ctx, tx, rq, fresh, fresh.email_change!));
  }
  return ok({});
};

/** A new (or never confirmed) address signed up with a random password, as GoTrue's MagicLink does. */
async function signUpForMagicLink(ctx: AuthContext, rq: RouteRequest, email: string, data: Record<string, unknown>) {
  const existing = await findUserByEmail(ctx.sql, email);
  await databaseWrite('Database error saving new user', () =>
    ctx.sql.begin(async (tx) => {
      await hideParametersFromLog(tx);
      const user =
        existing ??
        (await insertUser(tx, {
          email,
          password: randomBytes(33).toString('base64url'),
          userMetadata: data,
          appMetadata: { provider: 'email', providers: ['email'] },
          confirmed: false,
        }));
      await sendConfirmation(ctx, tx, rq, user);
    }),
  );
}

async function magicLink(ctx: AuthContext, rq: RouteRequest, email: string, createUser: boolean, data: Record<string, unknown>) {
  const user = await findUserByEmail(ctx.sql, email);
  if (!user && !createUser) throw unprocessable('otp_disabled', 'Signups not allowed for otp');
  if (!user || !user.email_confirmed_at) {
    if (!ctx.config.enableSignup) throw unprocessable('signup_disabled', 'Signups not allowed for this instance');
    await signUpForMagicLink(ctx, rq, email, data);
    return ok({});
  }
  await withUser(ctx, user, (tx, fresh) => sendMagicLink(ctx, tx, rq, fresh));
  return ok({});
}

export const otp: Handler = async (ctx, rq) => {
  ctx.limiters.request('otp', rq.req);
  const params = parseJsonParams(await readBody(rq.req), OtpParams);
  refusePkce(params);
  if (params.email && params.phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided');
  if (params.phone) throw notImplemented('Phone OTP');
  if (!params.email) throw badRequest('validation_failed', 'One of email or phone must be set');
  return magicLink(ctx, rq, validEmail(params.email), params.create_user ?? true, params.data ?? {});
};

export const magiclink: Handler = async (ctx, rq) => {
  ctx.limiters.request('magiclink', rq.req);
  const params = parseJsonParams(await readBody(rq.req), OtpParams);
  refusePkce(params);
  if (!params.email) throw unprocessable('validation_failed', 'Password recovery requires an email');
  return magicLink(ctx, rq, validEmail(params.email), true, params.data ?? {});
};

export const invite: Handler = async (ctx, rq) => {
  await requireAdmin(ctx, rq.req);
  const params = parseJsonParams(await readBody(rq.req), InviteParams);
  const email = validEmail(params.email ?? '');
  const existing = await findUserByEmail(ctx.sql, email);
  if (existing?.email_confirmed_at) {
    throw unprocessable('email_exists', 'A user with this email address has already been registered');
  }
  const invited = await databaseWrite('Database error saving new user', () =>
    ctx.sql.begin(async (tx) => {
      const user =
        existing ??
        (await insertUser(tx, {
          email,
          password: null,
          userMetadata: params.data ?? {},
          appMetadata: { provider: 'email', providers: ['email'] },
          confirmed: false,
        }));
      await sendInvite(ctx, tx, rq, user);
      return (await findUserById(tx, user.id))!;
    }),
  );
  return ok(userJson(invited));
};
