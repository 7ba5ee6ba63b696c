// The caller's own account: profile read and update, a GDPR export of every row that is theirs
// and, in bounded parts, of the workspaces they own (see export.ts), and erasure of the account together
// with every workspace nobody else belongs to.
import { z } from 'zod';
import { requireUser, serviceKey, type Claims } from '../_shared/platform/auth.ts';
import { asUser, type Tx } from '../_shared/platform/db.ts';
import { env } from '../_shared/platform/env.ts';
import { PartCursorText } from './export-cursor.ts';
import { exportResponse, workspacePartResponse } from './export.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { rethrowPg } from '../_shared/platform/pg-errors.ts';
import { parseBody, parseParams, parseQuery } from '../_shared/platform/request.ts';
import { Uuid } from '../_shared/platform/tenancy.ts';
import { queryInt } from '../_shared/platform/integers.ts';

const ProfileUpdate = z
  .strictObject({
    display_name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
    avatar_url: z
      .string()
      .max(2048, 'must be at most 2048 characters')
      .pipe(z.url({ protocol: /^https$/, message: 'must be an https:// URL' }))
      .nullable()
      .optional(),
    locale: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag such as en or pt-BR')
      .optional(),
    // Checked against the database's zone list (the same list that later converts times).
    timezone: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters').optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'give at least one of display_name, avatar_url, locale, timezone',
  });

// A part is at most this many bytes (one batch of rows over at most). 64 MB measured 0.51-0.63 s
// of the function's CPU and 127 MB peak RSS; a client may ask for smaller parts.
export const EXPORT_PART_BYTES = 64 * 1024 * 1024;

const PartParams = z.object({ id: Uuid });
const PartQuery = z.strictObject({
  cursor: PartCursorText.optional(),
  max_bytes: queryInt(z.number().int().min(1).max(EXPORT_PART_BYTES, `must be at most ${EXPORT_PART_BYTES}`)).optional(),
});

const DeleteBody = z.object({
  confirm: z.literal('DELETE', { message: 'must be the string "DELETE" to confirm erasing the account' }),
});

interface Profile {
  id: string;
  email: string | null;
  display_name: string;
  avatar_url: string | null;
  locale: string;
  timezone: string;
  created_at: Date;
  updated_at: Date;
}

async function myProfile(tx: Tx, claims: Claims): Promise<Profile> {
  const [row] = await tx<Omit<Profile, 'email'>[]>`
    select id, display_name, avatar_url, locale, timezone, created_at, updated_at
    from public.profiles where id = (select auth.uid())`;
  if (!row) throw new HttpError(404, 'not_found', 'no profile for this account');
  return { ...row, email: claims.email ?? null };
}

/** The database's "unknown time zone" (22023 from the profile trigger) is a bad `timezone` field. */
function asTimezoneError(err: unknown): never {
  rethrowPg(err, { area: 'profile' });
}

interface OwnedWorkspace {
  id: string;
  name: string;
  personal: boolean;
  other_members: number;
}

// Workspaces the caller is the only owner of. Those with other members block the erasure (their
// data belongs to a team); those without are deleted with the auth user, by the database's
// on-delete trigger, in the same transaction.
async function solelyOwned(tx: Tx): Promise<OwnedWorkspace[]> {
  return await tx<OwnedWorkspace[]>`
    select w.id, w.name, w.personal,
      (select count(*)::int from public.workspace_members o
       where o.workspace_id = w.id and o.user_id <> m.user_id) as other_members
    from public.workspace_members m
    join public.workspaces w on w.id = m.workspace_id
    where m.user_id = (select auth.uid()) and m.role = 'owner'
      and not exists (
        select 1 from public.workspace_members o
        where o.workspace_id = m.workspace_id and o.role = 'owner' and o.user_id <> m.user_id)
    order by w.created_at, w.id`;
}

function ownershipConflict(blocking: OwnedWorkspace[]) {
  return new HttpError(
    409,
    'sole_owner',
    `you are the only owner of workspaces other people still use (${blocking.map((w) => `"${w.name}"`).join(', ')}); ` +
      'make another member owner or delete those workspaces first, then delete your account',
    { workspaces: blocking.map(({ id, name, other_members }) => ({ id, name, other_members })) },
  );
}

/** GoTrue's admin API, which hosted Supabase and the local emulator both serve. */
async function deleteAuthUser(userId: string): Promise<Response> {
  const key = serviceKey();
  // A secret key goes in apikey alone (the gateway hands Auth a service_role JWT for it); the
  // legacy service_role key is itself a JWT and goes in both, as supabase-js sends it.
  const headers: Record<string, string> = key.startsWith('sb_') ? { apikey: key } : { Authorization: `Bearer ${key}`, apikey: key };
  return await fetch(`${env().SUPABASE_URL}/auth/v1/admin/users/${encodeURIComponent(userId)}`, { method: 'DELETE', headers });
}

export const router = new Router('account')
  .on('GET', '/', async ({ req }) => {
    const claims = await requireUser(req);
    return json({ profile: await asUser(claims, (tx) => myProfile(tx, claims)) });
  })
  .on('PATCH', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const body = await parseBody(ctx, ProfileUpdate);
    const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    const profile = await asUser(claims, async (tx) => {
      await tx`update public.profiles set ${tx(changes, Object.keys(changes))} where id = (select auth.uid())`;
      return await myProfile(tx, claims);
    }).catch(asTimezoneError);
    return json({ profile });
  })
  .on('GET', '/export', async ({ req }) => {
    return await exportResponse(await requireUser(req));
  })
  .on('GET', '/export/workspaces/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, PartParams);
    const { cursor, max_bytes } = parseQuery(ctx, PartQuery);
    return await workspacePartResponse(claims, id, cursor ?? null, max_bytes ?? EXPORT_PART_BYTES);
  })
  .on('DELETE', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    await parseBody(ctx, DeleteBody);
    const owned = await asUser(claims, solelyOwned);
    const blocking = owned.filter((w) => w.other_members > 0);
    if (blocking.length > 0) throw ownershipConflict(blocking);

    const res = await deleteAuthUser(claims.sub);
    await res.body?.cancel();
    if (!res.ok) {
      // Someone may have joined a workspace in the meantime; say so if that is what stopped it.
      const nowBlocking = (await asUser(claims, solelyOwned)).filter((w) => w.other_members > 0);
      if (nowBlocking.length > 0) throw ownershipConflict(nowBlocking);
      if (res.status === 404) throw new HttpError(404, 'not_found', 'this account no longer exists');
      console.error(JSON.stringify({ level: 'error', msg: 'auth admin delete failed', status: res.status }));
      throw new HttpError(502, 'account_deletion_failed', 'the account could not be deleted; nothing was removed, try again later');
    }
    return json({ deleted: true, workspaces_deleted: owned.map(({ id, name }) => ({ id, name })) });
  });

export default createHandler(router);
