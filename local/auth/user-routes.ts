// The endpoints supabase-js calls for a signed-in (or signing-in) user: sign-up, password and
// refresh-token grants, the user record, sign-out; plus health and the JWKS.
import { badRequest, forbidden, notImplemented, unprocessable } from './errors.ts';
import { databaseWrite, isUniqueViolation, ok, sessionReply, type Handler } from './handler.ts';
import { authenticate } from './guards.ts';
import { parseJsonParams, readBody } from './http.ts';
import {
  assertStrongPassword,
  MAX_PASSWORD_BYTES,
  PasswordGrantParams,
  passwordWeakness,
  RefreshTokenGrantParams,
  SignupParams,
  UserUpdateParams,
  validEmail,
} from './params.ts';
import { sendConfirmation, sendEmailChange } from './email-flows.ts';
import { endSessions, refreshSession, startSession, type LogoutScope } from './sessions.ts';
import { isWellFormedRefreshToken } from './tokens.ts';
import {
  findUserByEmail,
  findUserById,
  hideParametersFromLog,
  insertUser,
  isBanned,
  mergeMetadata,
  passwordMatches,
  setPassword,
  userJson,
} from './users.ts';

export const health: Handler = async () =>
  ok({ version: 'local', name: 'GoTrue', description: 'GoTrue is a user registration and authentication API' });

export const jwks: Handler = async (ctx) => ok({ keys: [ctx.publicJwk] }, { 'cache-control': 'public, max-age=600' });

export const signup: Handler = async (ctx, rq) => {
  const { req } = rq;
  const params = parseJsonParams(await readBody(req), SignupParams);
  const password = params.password ?? '';
  const phone = params.phone ?? '';
  if (params.email || phone) ctx.limiters.request('signup', req);
  if (!ctx.config.enableSignup) throw unprocessable('signup_disabled', 'Signups not allowed for this instance');
  if (password === '') throw badRequest('validation_failed', 'Signup requires a valid password');
  assertStrongPassword(password);
  if (params.email && phone) {
    throw badRequest('validation_failed', 'Only an email address or phone number should be provided on signup.');
  }
  if (!params.email && phone) throw badRequest('phone_provider_disabled', 'Phone signups are disabled');
  if (!params.email) throw badRequest('validation_failed', 'Sign up only available with email provider');
  const email = validEmail(params.email);
  const data = params.data ?? {};
  const confirm = ctx.config.enableConfirmations;

  const existing = await findUserByEmail(ctx.sql, email);
  // Without confirmations an existing address is refused outright; with them, GoTrue answers as
  // for a new address (a made-up user), so sign-up does not reveal who has an account.
  if (existing && (!confirm || existing.email_confirmed_at)) {
    if (!confirm) throw userExists();
    return ok(obfuscatedUser(email, data));
  }
  try {
    const created = await databaseWrite('Database error saving new user', () =>
      ctx.sql.begin(async (tx) => {
        await hideParametersFromLog(tx);
        const user =
          existing ??
          (await insertUser(tx, {
            email,
            password,
            userMetadata: data,
            appMetadata: { provider: 'email', providers: ['email'] },
            confirmed: !confirm,
          }));
        if (confirm) {
          await sendConfirmation(ctx, tx, rq, user);
          return { user: (await findUserById(tx, user.id))!, session: null };
        }
        const started = await startSession(tx, user.id);
        return { user: (await findUserById(tx, user.id))!, session: started };
      }),
    );
    if (!created.session) return ok(userJson(created.user));
    return await sessionReply(ctx, created.user, created.session.session, created.session.refreshToken);
  } catch (err) {
    if (isUniqueViolation(err)) throw userExists();
    throw err;
  }
};

const userExists = () => unprocessable('user_already_exists', 'User already registered');

/** GoTrue's sanitizeUser: what sign-up answers for an address that already has an account. */
function obfuscatedUser(email: string, data: Record<string, unknown>) {
  const now = new Date().toISOString();
  return {
    id: crypto.randomUUID(),
    aud: 'authenticated',
    role: '',
    email,
    phone: '',
    confirmation_sent_at: now,
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: data,
    identities: [],
    created_at: now,
    updated_at: now,
    is_anonymous: false,
  };
}

const passwordGrant: Handler = async (ctx, { req }) => {
  const params = parseJsonParams(await readBody(req), PasswordGrantParams);
  const email = params.email ?? '';
  const phone = params.phone ?? '';
  const password = params.password ?? '';
  if (email && phone) {
    throw badRequest('validation_failed', 'Only an email address or phone number should be provided on login.');
  }
  if (!email && phone) throw unprocessable('phone_provider_disabled', 'Phone logins are disabled');
  if (!email) throw badRequest('validation_failed', 'missing email or phone');

  const invalid = () => badRequest('invalid_credentials', 'Invalid login credentials');
  // No stored password is longer (they are refused when set), and bcrypt would ignore the excess.
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw invalid();
  const user = await findUserByEmail(ctx.sql, email);
  if (!user || !user.has_password) throw invalid();
  if (isBanned(user)) throw badRequest('user_banned', 'User is banned');

  const signedIn = await ctx.sql.begin(async (tx) => {
    await hideParametersFromLog(tx);
    if (!(await passwordMatches(tx, user.id, password))) return null;
    if (!user.email_confirmed_at) throw badRequest('email_not_confirmed', 'Email not confirmed');
    const started = await startSession(tx, user.id);
    return { ...started, user: (await findUserById(tx, user.id))! };
  });
  if (!signedIn) throw invalid();
  // GoTrue signs the user in but reports a password that no longer meets the policy.
  const weakness = passwordWeakness(password);
  return sessionReply(ctx, signedIn.user, signedIn.session, signedIn.refreshToken, weakness ? { weak_password: weakness } : {});
};

const refreshTokenGrant: Handler = async (ctx, { req }) => {
  const params = parseJsonParams(await readBody(req), RefreshTokenGrantParams);
  const presented = params.refresh_token ?? '';
  // Only GoTrue's 12-character legacy tokens are ever issued here; anything else is malformed.
  if (!isWellFormedRefreshToken(presented)) throw badRequest('validation_failed', 'Refresh token is not valid');
  const { user, session, refreshToken } = await refreshSession(ctx.sql, presented, ctx.refreshTokenReuseIntervalSeconds);
  return sessionReply(ctx, user, session, refreshToken);
};

export const token: Handler = async (ctx, rq) => {
  // GoTrue limits every grant (password sign-ins too) with token_refresh.
  ctx.limiters.request('token', rq.req);
  const grantType = rq.url.searchParams.get('grant_type') ?? '';
  switch (grantType) {
    case 'password':
      return passwordGrant(ctx, rq);
    case 'refresh_token':
      return refreshTokenGrant(ctx, rq);
    case 'id_token':
    case 'pkce':
    case 'web3':
      throw notImplemented(`grant_type=${grantType}`);
    default:
      throw badRequest('invalid_credentials', 'unsupported_grant_type');
  }
};

export const getUser: Handler = async (ctx, { req }) => {
  const { user } = await authenticate(ctx, req);
  return ok(userJson(user));
};

export const updateUser: Handler = async (ctx, rq) => {
  const { req } = rq;
  const { user, session } = await authenticate(ctx, req);
  ctx.limiters.request('user', req);
  const params = parseJsonParams(await readBody(req), UserUpdateParams);
  const newEmail = params.email ? validEmail(params.email) : null;
  const changesEmail = newEmail !== null && newEmail !== user.email;
  if (changesEmail) {
    const holder = await findUserByEmail(ctx.sql, newEmail);
    if (holder && holder.id !== user.id) throw unprocessable('email_exists', 'A user with this email address has already been registered');
  }
  if (params.phone && params.phone !== user.phone) throw notImplemented('Changing the phone number');
  if (params.password != null) assertStrongPassword(params.password);
  if (params.app_metadata != null) {
    throw forbidden('not_admin', 'Updating app_metadata requires admin privileges');
  }

  const updated = await ctx.sql.begin(async (tx) => {
    if (params.password != null) {
      await hideParametersFromLog(tx);
      if (user.has_password && (await passwordMatches(tx, user.id, params.password))) {
        throw unprocessable('same_password', 'New password should be different from the old password.');
      }
      await setPassword(tx, user.id, params.password);
      // A new password ends every other session, as in GoTrue's UpdatePassword.
      await endSessions(tx, session ? 'others' : 'global', user.id, session?.id ?? null);
    }
    if (params.data != null) await mergeMetadata(tx, user.id, 'raw_user_meta_data', params.data);
    if (changesEmail) await sendEmailChange(ctx, tx, rq, (await findUserById(tx, user.id))!, newEmail);
    return (await findUserById(tx, user.id))!;
  });
  return ok(userJson(updated));
};

const LOGOUT_SCOPES = new Map<string, LogoutScope>([
  ['', 'global'],
  ['global', 'global'],
  ['local', 'local'],
  ['others', 'others'],
]);

export const logout: Handler = async (ctx, { req, url }) => {
  const { user, session } = await authenticate(ctx, req);
  const requested = url.searchParams.get('scope') ?? '';
  const scope = LOGOUT_SCOPES.get(requested);
  if (!scope) throw badRequest('validation_failed', `Unsupported logout scope ${JSON.stringify(requested)}`);
  await endSessions(ctx.sql, scope, user.id, session?.id ?? null);
  return { status: 204 };
};
