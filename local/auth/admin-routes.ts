// GoTrue's admin API (service-role key): the user management supabase.auth.admin offers.
import { badRequest, notFound, notImplemented, unprocessable } from './errors.ts';
import { requireAdmin } from './guards.ts';
import { databaseWrite, isUniqueViolation, ok, type AuthContext, type Handler, type RouteRequest } from './handler.ts';
import { parseJsonParams, readBody } from './http.ts';
import {
  AdminUserDeleteParams,
  AdminUserParams,
  assertStrongPassword,
  isUuid,
  MAX_PASSWORD_BYTES,
  NIL_UUID,
  parseGoDuration,
  validEmail,
} from './params.ts';
import { endSessions } from './sessions.ts';
import {
  confirmEmail,
  deleteUser,
  findUserByEmail,
  findUserById,
  hideParametersFromLog,
  insertUser,
  listUsers,
  mergeMetadata,
  mergeTopLevel,
  setBannedUntil,
  setPassword,
  setRole,
  softDeleteUser,
  userJson,
} from './users.ts';

async function loadUserParam(ctx: AuthContext, rq: RouteRequest) {
  const id = rq.params.id ?? '';
  if (!isUuid(id)) throw notFound('validation_failed', 'user_id must be an UUID');
  const user = await findUserById(ctx.sql, id);
  if (!user) throw notFound('user_not_found', 'User not found');
  return user;
}

/** ban_duration: a Go duration from now, "none" to lift a ban, absent to leave it as it is. */
function banUntil(duration: string | null | undefined): Date | null | undefined {
  if (duration == null || duration === '') return undefined;
  if (duration === 'none') return null;
  return new Date(Date.now() + parseGoDuration(duration));
}

/** Fields GoTrue's admin API accepts that this emulator does not implement. */
function refuseUnsupportedAdminFields(params: { phone?: string | null; password_hash?: string | null; aud?: string | null }) {
  if (params.phone) throw notImplemented('Phone numbers');
  if (params.password_hash) throw notImplemented('Creating users from a password hash');
  if (params.aud && params.aud !== 'authenticated') throw notImplemented('Audiences other than "authenticated"');
}

export const adminCreateUser: Handler = async (ctx, { req }) => {
  await requireAdmin(ctx, req);
  const params = parseJsonParams(await readBody(req), AdminUserParams);
  refuseUnsupportedAdminFields(params);
  if (!params.email) throw badRequest('validation_failed', 'Cannot create a user without either an email or phone');
  const email = validEmail(params.email);
  const emailExists = () => unprocessable('email_exists', 'A user with this email address has already been registered');
  if (await findUserByEmail(ctx.sql, email)) throw emailExists();
  if (params.password && Buffer.byteLength(params.password) > MAX_PASSWORD_BYTES) {
    throw badRequest('validation_failed', 'bcrypt: password length exceeds 72 bytes');
  }
  if (params.id && (!isUuid(params.id) || params.id === NIL_UUID)) {
    throw badRequest('validation_failed', 'ID must conform to the uuid v4 format');
  }
  const bannedUntil = banUntil(params.ban_duration);
  // GoTrue gives password-less admin users a random one, so nobody can sign in without setting it.
  const password = params.password || randomPassword();

  try {
    const user = await databaseWrite('Database error creating new user', () =>
      ctx.sql.begin(async (tx) => {
        await hideParametersFromLog(tx);
        const created = await insertUser(tx, {
          id: params.id ?? undefined,
          email,
          password,
          userMetadata: params.user_metadata ?? {},
          appMetadata: mergeTopLevel({ provider: 'email', providers: ['email'] }, params.app_metadata ?? {}),
          confirmed: params.email_confirm === true,
          role: params.role || 'authenticated',
        });
        if (bannedUntil === undefined) return created;
        await setBannedUntil(tx, created.id, bannedUntil);
        return (await findUserById(tx, created.id))!;
      }),
    );
    return ok(userJson(user));
  } catch (err) {
    if (isUniqueViolation(err)) throw emailExists();
    throw err;
  }
};

function randomPassword() {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(36))).toString('base64url');
}

export const adminGetUser: Handler = async (ctx, rq) => {
  await requireAdmin(ctx, rq.req);
  return ok(userJson(await loadUserParam(ctx, rq)));
};

export const adminUpdateUser: Handler = async (ctx, rq) => {
  await requireAdmin(ctx, rq.req);
  const user = await loadUserParam(ctx, rq);
  const params = parseJsonParams(await readBody(rq.req), AdminUserParams);
  refuseUnsupportedAdminFields(params);
  if (params.email && validEmail(params.email) !== user.email) throw notImplemented('Changing the email address');
  const bannedUntil = banUntil(params.ban_duration);
  if (params.password != null) assertStrongPassword(params.password);

  const updated = await databaseWrite('Error updating user', () =>
    ctx.sql.begin(async (tx) => {
      if (params.role) await setRole(tx, user.id, params.role);
      if (params.email_confirm) await confirmEmail(tx, user.id);
      if (params.password != null) {
        await hideParametersFromLog(tx);
        await setPassword(tx, user.id, params.password);
        // GoTrue: an admin password change signs the user out everywhere.
        await endSessions(tx, 'global', user.id, null);
      }
      if (params.app_metadata) await mergeMetadata(tx, user.id, 'raw_app_meta_data', params.app_metadata);
      if (params.user_metadata) await mergeMetadata(tx, user.id, 'raw_user_meta_data', params.user_metadata);
      if (bannedUntil !== undefined) await setBannedUntil(tx, user.id, bannedUntil);
      return (await findUserById(tx, user.id))!;
    }),
  );
  return ok(userJson(updated));
};

export const adminDeleteUser: Handler = async (ctx, rq) => {
  await requireAdmin(ctx, rq.req);
  const user = await loadUserParam(ctx, rq);
  const raw = await readBody(rq.req);
  const params = raw.length > 0 ? parseJsonParams(raw, AdminUserDeleteParams) : {};
  await databaseWrite('Database error deleting user', () =>
    ctx.sql.begin(async (tx) => {
      if (!params.should_soft_delete) await deleteUser(tx, user.id);
      else if (!user.deleted_at) await softDeleteUser(tx, user);
    }),
  );
  return ok({});
};

export const adminListUsers: Handler = async (ctx, { req, url }) => {
  await requireAdmin(ctx, req);
  const number = (name: string, fallback: number) => {
    const raw = url.searchParams.get(name) ?? '';
    if (raw === '') return fallback;
    if (!/^\d{1,9}$/.test(raw)) {
      throw badRequest('validation_failed', `Bad Pagination Parameters: strconv.ParseUint: parsing "${raw}": invalid syntax`);
    }
    return Number(raw);
  };
  const page = Math.max(1, number('page', 1));
  const perPage = Math.max(1, number('per_page', 50));
  const { count, rows } = await listUsers(ctx.sql, page, perPage);
  // GoTrue's pagination headers; supabase-js reads page numbers and the total from them.
  const totalPages = Math.ceil(count / perPage);
  const link = (p: number) => {
    const query = new URLSearchParams(url.searchParams);
    query.set('page', String(p));
    query.sort();
    return `<${url.pathname}?${query}>`;
  };
  const links = [...(totalPages > page ? [`${link(page + 1)}; rel="next"`] : []), `${link(totalPages)}; rel="last"`];
  return ok({ users: rows.map(userJson), aud: 'authenticated' }, { link: links.join(', '), 'x-total-count': String(count) });
};
