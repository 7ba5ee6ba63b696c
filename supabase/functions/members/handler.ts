// Members of a workspace: list (with co-members' emails), change a role (owners), remove a member
// (owners) or yourself (= leave). The last-owner rule lives in the database and answers 409.
import { z } from 'zod';
import { requireUser, type Claims } from '../_shared/platform/auth.ts';
import { asUser, type Tx } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { parseBody, parseParams, parseQuery } from '../_shared/platform/request.ts';
import { requireRole, Role, Uuid } from '../_shared/platform/tenancy.ts';

const ListQuery = z.object({ workspace_id: Uuid });
const WorkspaceParams = z.object({ workspace_id: Uuid });
const MemberParams = z.object({ workspace_id: Uuid, user_id: Uuid });
const RoleBody = z.strictObject({ role: Role });

interface Member {
  user_id: string;
  email: string;
  display_name: string | null;
  avatar_url: string | null;
  role: Role;
  joined_at: Date;
}

async function directory(tx: Tx, workspaceId: string): Promise<Member[]> {
  return await tx<Member[]>`
    select user_id, email, display_name, avatar_url, role, joined_at
    from public.workspace_member_directory(${workspaceId})`;
}

function memberNotFound() {
  return new HttpError(404, 'not_found', 'member not found in this workspace');
}

/** Removes a membership: anyone may remove themself (leave); removing others takes an owner. */
async function removeMember(claims: Claims, workspaceId: string, userId: string) {
  await asUser(claims, async (tx) => {
    if (userId === claims.sub) await requireRole(tx, workspaceId, 'viewer', 'leave');
    else await requireRole(tx, workspaceId, 'owner', 'remove members');
    const removed = await tx`
      delete from public.workspace_members
      where workspace_id = ${workspaceId} and user_id = ${userId}
      returning user_id`;
    if (removed.length === 0) throw memberNotFound();
  });
}

export const router = new Router('members')
  .on('GET', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { workspace_id } = parseQuery(ctx, ListQuery);
    const members = await asUser(claims, async (tx) => {
      await requireRole(tx, workspace_id, 'viewer', 'list members');
      return await directory(tx, workspace_id);
    });
    return json({ members });
  })
  .on('PATCH', '/:workspace_id/:user_id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { workspace_id, user_id } = parseParams(ctx, MemberParams);
    const { role } = await parseBody(ctx, RoleBody);
    const member = await asUser(claims, async (tx) => {
      await requireRole(tx, workspace_id, 'owner', 'change member roles');
      const updated = await tx`
        update public.workspace_members set role = ${role}
        where workspace_id = ${workspace_id} and user_id = ${user_id}
        returning user_id`;
      if (updated.length === 0) throw memberNotFound();
      return (await directory(tx, workspace_id)).find((m) => m.user_id === user_id);
    });
    return json({ member });
  })
  .on('DELETE', '/:workspace_id/:user_id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { workspace_id, user_id } = parseParams(ctx, MemberParams);
    await removeMember(claims, workspace_id, user_id);
    return json({ removed: true, workspace_id, user_id });
  })
  .on('POST', '/:workspace_id/leave', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { workspace_id } = parseParams(ctx, WorkspaceParams);
    await removeMember(claims, workspace_id, claims.sub);
    return json({ removed: true, workspace_id, user_id: claims.sub });
  });

export default createHandler(router);
