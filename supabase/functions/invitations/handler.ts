// Invitations to a workspace: owners create them (the single-use token is returned once, inside
// the accept link, and emailed to the invitee through the notification outbox; only its sha256
// is stored), list and revoke them; the invitee accepts with the
// token while signed in with the invited address. The database checks every rule of acceptance
// and each refusal has its own status (see ../_shared/platform/pg-errors.ts).
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { asUser, type Tx } from '../_shared/platform/db.ts';
import { env } from '../_shared/platform/env.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { parseBody, parseParams, parseQuery } from '../_shared/platform/request.ts';
import { requireRole, Role, Uuid } from '../_shared/platform/tenancy.ts';

const CreateBody = z.strictObject({
  workspace_id: Uuid,
  email: z.string().trim().toLowerCase().max(320, 'must be at most 320 characters').pipe(z.email('must be an email address')),
  role: Role,
});
const ListQuery = z.object({ workspace_id: Uuid });
const IdParams = z.object({ id: Uuid });
const AcceptBody = z.strictObject({ token: z.string().trim().min(1, 'must not be empty').max(512, 'is too long') });

type Status = 'pending' | 'accepted' | 'revoked' | 'expired';

interface Invitation {
  id: string;
  workspace_id: string;
  email: string;
  role: Role;
  status: Status;
  invited_by: string | null;
  expires_at: Date;
  created_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
  revoked_at: Date | null;
}

// Never token_hash: whoever could read it could try to match it against leaked links.
const columns = (tx: Tx) => tx`
  id, workspace_id, email, role,
  case
    when revoked_at is not null then 'revoked'
    when accepted_at is not null then 'accepted'
    when expires_at <= now() then 'expired'
    else 'pending'
  end as status,
  invited_by, expires_at, created_at, accepted_at, accepted_by, revoked_at`;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function invitationNotFound() {
  return new HttpError(404, 'not_found', 'invitation not found');
}

export const router = new Router('invitations')
  .on('POST', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const body = await parseBody(ctx, CreateBody);
    const token = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const tokenHash = await sha256Hex(token);
    const invitation = await asUser(claims, async (tx) => {
      await requireRole(tx, body.workspace_id, 'owner', 'invite people');
      const [created] = await tx<Invitation[]>`
        insert into public.invitations (workspace_id, email, role, token_hash)
        values (${body.workspace_id}, ${body.email}, ${body.role}, ${tokenHash})
        returning ${columns(tx)}`;
      // The invitee gets the link by email: queued in this transaction, sent by notifications/worker.
      await tx`select public.send_invitation_email(${created.id}, ${token})`;
      return created;
    });
    const acceptUrl = `${env().WEB_APP_URL}/accept?token=${encodeURIComponent(token)}`;
    return json({ invitation, accept_url: acceptUrl }, 201);
  })
  .on('GET', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { workspace_id } = parseQuery(ctx, ListQuery);
    const invitations = await asUser(claims, async (tx) => {
      await requireRole(tx, workspace_id, 'owner', 'see invitations');
      return await tx<Invitation[]>`
        select ${columns(tx)} from public.invitations
        where workspace_id = ${workspace_id}
        order by created_at desc, id`;
    });
    return json({ invitations });
  })
  .on('DELETE', '/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    const invitation = await asUser(claims, async (tx) => {
      // Only owners of its workspace can see an invitation (RLS); everyone else gets 404.
      const [current] = await tx<Invitation[]>`select ${columns(tx)} from public.invitations where id = ${id}`;
      if (!current) throw invitationNotFound();
      if (current.status === 'accepted') {
        throw new HttpError(409, 'invitation_used', 'this invitation has already been accepted; remove the member instead');
      }
      if (current.status === 'revoked') return current;
      const [revoked] = await tx<Invitation[]>`
        update public.invitations set revoked_at = now() where id = ${id} returning ${columns(tx)}`;
      if (!revoked) throw invitationNotFound();
      return revoked;
    });
    return json({ invitation });
  })
  .on('POST', '/accept', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { token } = await parseBody(ctx, AcceptBody);
    const [membership] = await asUser(
      claims,
      (tx) => tx<{ workspace_id: string; role: Role }[]>`select workspace_id, role from public.accept_invitation(${token})`,
    );
    return json({ workspace_id: membership.workspace_id, role: membership.role });
  });

export default createHandler(router);
