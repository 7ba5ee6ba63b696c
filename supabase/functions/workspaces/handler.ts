// Workspaces the caller belongs to: list with their role, create (caller becomes owner), read,
// rename and delete (owners; a personal workspace lives as long as its account).
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { asUser, type Tx } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { parseBody, parseParams } from '../_shared/platform/request.ts';
import { requireRole, Uuid, workspaceNotFound, type Role } from '../_shared/platform/tenancy.ts';

const Name = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const Slug = z
  .string()
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case letters and digits separated by single hyphens');

const CreateBody = z.strictObject({ name: Name, slug: Slug.nullish() });
const UpdateBody = z
  .strictObject({ name: Name.optional(), slug: Slug.nullable().optional() })
  .refine((b) => b.name !== undefined || b.slug !== undefined, { message: 'give name and/or slug' });
const IdParams = z.object({ id: Uuid });

interface Workspace {
  id: string;
  name: string;
  slug: string | null;
  personal: boolean;
  role: Role;
  created_at: Date;
  updated_at: Date;
}

// public.my_workspaces: the caller's own membership row supplies "my role"; RLS decides which
// workspaces are visible. The list, asked on every page, is a statement without parameters, which
// postgres.js sends in one round trip instead of two.
async function visibleWorkspaces(tx: Tx, id: string | null): Promise<Workspace[]> {
  return id === null
    ? await tx<Workspace[]>`select id, name, slug, personal, role, created_at, updated_at from public.my_workspaces()`
    : await tx<Workspace[]>`select id, name, slug, personal, role, created_at, updated_at from public.my_workspaces(${id}::uuid)`;
}

async function oneWorkspace(tx: Tx, id: string): Promise<Workspace> {
  const [workspace] = await visibleWorkspaces(tx, id);
  if (!workspace) throw workspaceNotFound();
  return workspace;
}

export const router = new Router('workspaces')
  .on('GET', '/', async ({ req }) => {
    const claims = await requireUser(req);
    const workspaces = await asUser(claims, (tx) => visibleWorkspaces(tx, null));
    return json({ workspaces });
  })
  .on('POST', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const body = await parseBody(ctx, CreateBody);
    const workspace = await asUser(claims, async (tx) => {
      const [created] = await tx<{ id: string }[]>`
        select id from public.create_workspace(${body.name}, ${body.slug ?? null})`;
      return await oneWorkspace(tx, created.id);
    });
    return json({ workspace }, 201);
  })
  .on('GET', '/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    return json({ workspace: await asUser(claims, (tx) => oneWorkspace(tx, id)) });
  })
  .on('PATCH', '/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    const body = await parseBody(ctx, UpdateBody);
    const workspace = await asUser(claims, async (tx) => {
      await requireRole(tx, id, 'owner', 'rename a workspace');
      const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      await tx`update public.workspaces set ${tx(changes, Object.keys(changes))} where id = ${id}`;
      return await oneWorkspace(tx, id);
    });
    return json({ workspace });
  })
  .on('DELETE', '/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    await asUser(claims, async (tx) => {
      await requireRole(tx, id, 'owner', 'delete a workspace');
      const workspace = await oneWorkspace(tx, id);
      if (workspace.personal) {
        throw new HttpError(
          409,
          'personal_workspace',
          'a personal workspace cannot be deleted on its own; it is deleted together with your account',
        );
      }
      const deleted = await tx`delete from public.workspaces where id = ${id} returning id`;
      if (deleted.length === 0) throw workspaceNotFound();
    });
    return json({ deleted: true, id });
  });

export default createHandler(router);
