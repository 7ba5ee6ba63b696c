// Members of a workspace: list (with co-members' emails), change a role (owners), remove a member
// (owners) or yourself (= leave). The last-owner rule lives in the database and answers 409.
import { z } from 'zod';
import type { Claims } from '../_shared/platform/auth.ts';
import type { Tx } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { asMember, signedIn } from '../_shared/platform/signed-in.ts';
import { Role, Uuid } from '../_shared/platform/tenancy.ts';

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
  const leaving = userId === claims.sub;
  const workspace = { id: workspaceId, min: leaving ? 'viewer' : 'owner', action: leaving ? 'leave' : 'remove members' } as const;
  await asMember(claims, workspace, async (tx) => {
    const removed = await tx`
      delete from public.workspace_members
      where workspace_id = ${workspaceId} and user_id = ${userId}
      returning user_id`;
    if (removed.length === 0) throw memberNotFound();
  });
}

export const router = new Router('members')
  .on('GET', '/', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { query: ListQuery });
    const members = await asMember(claims, { id: input.workspace_id, min: 'viewer', action: 'list members' }, (tx) =>
      directory(tx, input.workspace_id),
    );
    return json({ members });
  })
  .on('PATCH', '/:workspace_id/:user_id', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { params: MemberParams });
    const { workspace_id, user_id } = input;
    const { role } = await parseBody(ctx, RoleBody);
    const member = await asMember(claims, { id: workspace_id, min: 'owner', action: 'change member roles' }, async (tx) => {
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
    const { claims, input } = await signedIn(ctx, { params: MemberParams });
    const { workspace_id, user_id } = input;
    await removeMember(claims, workspace_id, user_id);
    return json({ removed: true, workspace_id, user_id });
  })
  .on('POST', '/:workspace_id/leave', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { params: WorkspaceParams });
    await removeMember(claims, input.workspace_id, claims.sub);
    return json({ removed: true, workspace_id: input.workspace_id, user_id: claims.sub });
  });

export default createHandler(router);
