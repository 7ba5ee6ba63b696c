// The caller's standing in a workspace, as the database sees it. Row-level security decides what
// a caller can read or change; this only lets a function tell "no such workspace" (404: the id
// is not visible, so it never leaks) apart from "visible, but your role is too low" (403).
import { z } from 'zod';
import { HttpError } from './http.ts';
import type { Tx } from './db.ts';
import { ROLES, roleAtLeast } from '../contracts/roles.ts';

export { ROLES };
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const Uuid = z.uuid({ message: 'must be a UUID' });

export function atLeast(role: Role, min: Role): boolean {
  return roleAtLeast(role, min);
}

export function workspaceNotFound() {
  return new HttpError(404, 'not_found', 'workspace not found');
}

/** The caller's role in the workspace, or null when RLS does not show them that workspace. */
export async function myRoleIn(tx: Tx, workspaceId: string): Promise<Role | null> {
  const rows = await tx<{ role: Role }[]>`
    select role from public.workspace_members
    where workspace_id = ${workspaceId} and user_id = (select auth.uid())`;
  return rows[0]?.role ?? null;
}

/** 404 when the workspace is not visible to the caller, 403 when their role is below `min`. */
export async function requireRole(tx: Tx, workspaceId: string, min: Role, action: string): Promise<Role> {
  const role = await myRoleIn(tx, workspaceId);
  if (!role) throw workspaceNotFound();
  if (!atLeast(role, min)) {
    throw new HttpError(
      403,
      'forbidden',
      `only ${min === 'owner' ? 'owners' : `${min}s and owners`} can ${action}; your role here is ${role}`,
      {
        required_role: min,
        your_role: role,
      },
    );
  }
  return role;
}
