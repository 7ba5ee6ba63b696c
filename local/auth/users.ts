// auth.users as GoTrue reads and writes it. Passwords are bcrypt hashes made and checked by
// pgcrypto inside Postgres (the same scheme as supabase/seed.sql), so they never need a Node
// bcrypt and stay compatible with rows created by SQL.
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import { textArray } from './database.ts';
import { badRequest } from './errors.ts';
import type { AccessTokenSubject } from './tokens.ts';

/** The connection pool (it can open transactions). */
export type Pool = postgres.Sql;
/** Anything that runs queries: the pool or a transaction. */
export type Sql = postgres.ISql;
type Json = Record<string, unknown>;

export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  email_confirmed_at: Date | null;
  invited_at: Date | null;
  phone: string | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Json | null;
  raw_user_meta_data: Json | null;
  created_at: Date | null;
  updated_at: Date | null;
  banned_until: Date | null;
  deleted_at: Date | null;
  is_anonymous: boolean;
  has_password: boolean;
  confirmation_sent_at: Date | null;
  recovery_sent_at: Date | null;
  email_change: string | null;
  email_change_sent_at: Date | null;
  email_change_confirm_status: number | null;
}

const DEFAULT_APP_METADATA = { provider: 'email', providers: ['email'] };

function appMetadata(row: UserRow): Json {
  const raw = row.raw_app_meta_data;
  return raw && Object.keys(raw).length > 0 ? raw : { ...DEFAULT_APP_METADATA };
}

const iso = (d: Date | null) => (d ? d.toISOString() : undefined);

/** GoTrue's user JSON (models.User), keeping its field order and omitempty fields. */
export function userJson(row: UserRow) {
  return {
    id: row.id,
    aud: row.aud ?? '',
    role: row.role ?? '',
    email: row.email ?? '',
    email_confirmed_at: iso(row.email_confirmed_at),
    invited_at: iso(row.invited_at),
    phone: row.phone ?? '',
    confirmation_sent_at: iso(row.confirmation_sent_at),
    // confirmed_at is a generated column in GoTrue's schema (the earliest confirmation).
    confirmed_at: iso(row.email_confirmed_at),
    recovery_sent_at: iso(row.recovery_sent_at),
    new_email: row.email_change || undefined,
    email_change_sent_at: iso(row.email_change_sent_at),
    last_sign_in_at: iso(row.last_sign_in_at),
    app_metadata: appMetadata(row),
    user_metadata: row.raw_user_meta_data ?? {},
    // No auth.identities table in the local platform schema; see README of this folder.
    identities: [],
    created_at: iso(row.created_at) ?? new Date(0).toISOString(),
    updated_at: iso(row.updated_at) ?? new Date(0).toISOString(),
    banned_until: iso(row.banned_until),
    deleted_at: iso(row.deleted_at),
    is_anonymous: row.is_anonymous,
  };
}

export type UserJson = ReturnType<typeof userJson>;

export function tokenSubject(row: UserRow): AccessTokenSubject {
  return {
    id: row.id,
    aud: row.aud || 'authenticated',
    role: row.role || 'authenticated',
    email: row.email ?? '',
    phone: row.phone ?? '',
    appMetadata: appMetadata(row),
    userMetadata: row.raw_user_meta_data ?? {},
    isAnonymous: row.is_anonymous,
  };
}

export const isBanned = (row: UserRow) => row.banned_until !== null && row.banned_until.getTime() > Date.now();

const USER_COLUMNS = (sql: Sql) => sql`
  id, aud, role, email, email_confirmed_at, invited_at, phone, last_sign_in_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at, banned_until, deleted_at,
  is_anonymous, coalesce(encrypted_password, '') <> '' as has_password,
  confirmation_sent_at, recovery_sent_at, email_change, email_change_sent_at, email_change_confirm_status`;

export async function findUserById(sql: Sql, id: string): Promise<UserRow | null> {
  const [row] = await sql<UserRow[]>`select ${USER_COLUMNS(sql)} from auth.users where id = ${id}`;
  return row ?? null;
}

export async function findUserByEmail(sql: Sql, email: string): Promise<UserRow | null> {
  const [row] = await sql<UserRow[]>`
    select ${USER_COLUMNS(sql)} from auth.users where lower(email) = ${email.toLowerCase()}`;
  return row ?? null;
}

/**
 * Keeps passwords out of the server log: a statement slower than log_min_duration_statement
 * (bcrypt can be) would otherwise be logged with its parameters. Needs a superuser connection,
 * which is what the emulator uses; without one the setting is left alone.
 */
export async function hideParametersFromLog(tx: Sql) {
  await tx`
    select set_config('log_parameter_max_length', '0', true)
    where (select rolsuper from pg_roles where rolname = current_user)`;
}

/**
 * user_metadata travels in every access token, so its size bounds every request's Authorization
 * header (Node refuses headers over 16 KB with 431, many proxies over 8 KB). Measured as the
 * stored jsonb text, as the database's own guard on auth.users measures it; refused here first,
 * with a 400, so the guard's error never reaches a client.
 */
export const MAX_USER_METADATA_BYTES = 4096;

async function assertUserMetadataFits(size: Promise<{ bytes: number }[]>) {
  const [row] = await size;
  if (row && row.bytes > MAX_USER_METADATA_BYTES) {
    throw badRequest('validation_failed', `user_metadata is too large: ${row.bytes} bytes, at most ${MAX_USER_METADATA_BYTES}`);
  }
}

export async function insertUser(
  tx: Sql,
  user: {
    id?: string;
    email: string;
    /** null: no password (an invited user sets one after accepting). */
    password: string | null;
    userMetadata: Json;
    appMetadata: Json;
    confirmed: boolean;
    role?: string;
  },
): Promise<UserRow> {
  const userMetadata = user.confirmed ? { ...user.userMetadata, email_verified: true } : user.userMetadata;
  await assertUserMetadataFits(tx<{ bytes: number }[]>`
    select octet_length(${tx.json(userMetadata as postgres.JSONValue)}::jsonb::text) as bytes`);
  const [row] = await tx<UserRow[]>`
    insert into auth.users (
      instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
      raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous
    ) values (
      '00000000-0000-0000-0000-000000000000', ${user.id ?? tx`gen_random_uuid()`}, 'authenticated',
      ${user.role ?? 'authenticated'}, ${user.email.toLowerCase()},
      ${user.password === null ? '' : tx`extensions.crypt(${user.password}, extensions.gen_salt('bf', 10))`},
      ${user.confirmed ? tx`now()` : null},
      ${tx.json(user.appMetadata as postgres.JSONValue)}, ${tx.json(userMetadata as postgres.JSONValue)},
      now(), now(), false
    )
    returning ${USER_COLUMNS(tx)}`;
  return row!;
}

/** bcrypt comparison in SQL; rows without a bcrypt hash never match (crypt() would raise on them). */
export async function passwordMatches(tx: Sql, userId: string, password: string): Promise<boolean> {
  const [row] = await tx<{ ok: boolean }[]>`
    select case when encrypted_password ~ '^\\$2[abxy]?\\$'
                then extensions.crypt(${password}, encrypted_password) = encrypted_password
                else false end as ok
    from auth.users where id = ${userId}`;
  return row?.ok === true;
}

export async function setPassword(tx: Sql, userId: string, password: string) {
  await tx`
    update auth.users
    set encrypted_password = extensions.crypt(${password}, extensions.gen_salt('bf', 10)),
        confirmation_token = '', recovery_token = '', updated_at = now()
    where id = ${userId}`;
}

/**
 * GoTrue's UpdateUserMetaData / UpdateAppMetaData: top-level keys are merged, a null value
 * removes its key.
 */
export function mergeTopLevel(base: Json, updates: Json): Json {
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(updates)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** mergeTopLevel done in SQL, on the stored column. */
export async function mergeMetadata(tx: Sql, userId: string, column: 'raw_user_meta_data' | 'raw_app_meta_data', updates: Json) {
  const set = Object.fromEntries(Object.entries(updates).filter(([, v]) => v !== null));
  const remove = Object.keys(updates).filter((k) => updates[k] === null);
  if (column === 'raw_user_meta_data') {
    await assertUserMetadataFits(tx<{ bytes: number }[]>`
      select octet_length(((coalesce(raw_user_meta_data, '{}'::jsonb) - ${textArray(tx, remove)}) || ${tx.json(set as postgres.JSONValue)})::text) as bytes
      from auth.users where id = ${userId}`);
  }
  await tx`
    update auth.users
    set ${tx(column)} = (coalesce(${tx(column)}, '{}'::jsonb) - ${textArray(tx, remove)}) || ${tx.json(set as postgres.JSONValue)},
        updated_at = now()
    where id = ${userId}`;
}

export async function confirmEmail(tx: Sql, userId: string) {
  await tx`
    update auth.users
    set email_confirmed_at = coalesce(email_confirmed_at, now()), confirmation_token = '', updated_at = now()
    where id = ${userId}`;
  await mergeMetadata(tx, userId, 'raw_user_meta_data', { email_verified: true });
}

/** The second confirmation of an email change: the new address becomes the user's. */
export async function applyEmailChange(tx: Sql, userId: string) {
  await tx`
    update auth.users
    set email = lower(email_change), email_change = '', email_change_token_new = '', email_change_token_current = '',
        email_change_confirm_status = 0, email_change_sent_at = null,
        email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now()
    where id = ${userId}`;
  await mergeMetadata(tx, userId, 'raw_user_meta_data', { email_verified: true });
}

export async function markSent(tx: Sql, userId: string, column: 'confirmation_sent_at' | 'recovery_sent_at' | 'email_change_sent_at') {
  await tx`update auth.users set ${tx(column)} = now(), updated_at = now() where id = ${userId}`;
}

export async function setInvitedAt(tx: Sql, userId: string) {
  await tx`update auth.users set invited_at = now(), updated_at = now() where id = ${userId}`;
}

export async function setRole(tx: Sql, userId: string, role: string) {
  await tx`update auth.users set role = ${role}, updated_at = now() where id = ${userId}`;
}

export async function setBannedUntil(tx: Sql, userId: string, until: Date | null) {
  await tx`update auth.users set banned_until = ${until}, updated_at = now() where id = ${userId}`;
}

export async function touchLastSignIn(tx: Sql, userId: string) {
  await tx`update auth.users set last_sign_in_at = now() where id = ${userId}`;
}

export async function deleteUser(tx: Sql, userId: string) {
  await tx`delete from auth.users where id = ${userId}`;
}

// GoTrue's obfuscateValue: the address is replaced by a hash so it can be registered again.
const obfuscate = (id: string, value: string) =>
  createHash('sha256')
    .update(id + value)
    .digest('base64url');

/** GoTrue's soft delete: identifying data replaced, metadata emptied, sessions ended. */
export async function softDeleteUser(tx: Sql, row: UserRow) {
  await tx`
    update auth.users
    set email = ${obfuscate(row.id, row.email ?? '')},
        phone = ${row.phone ? obfuscate(row.id, row.phone).slice(0, 15) : null},
        encrypted_password = null, confirmation_token = '', recovery_token = '',
        raw_user_meta_data = '{}'::jsonb, raw_app_meta_data = '{}'::jsonb,
        deleted_at = now(), updated_at = now()
    where id = ${row.id}`;
  await tx`delete from auth.sessions where user_id = ${row.id}`;
}

export async function listUsers(sql: Sql, page: number, perPage: number) {
  const [{ count }] = await sql<{ count: number }[]>`select count(*)::int as count from auth.users where aud = 'authenticated'`;
  const rows = await sql<UserRow[]>`
    select ${USER_COLUMNS(sql)} from auth.users where aud = 'authenticated'
    order by created_at desc, id
    limit ${perPage} offset ${(page - 1) * perPage}`;
  return { count, rows };
}
