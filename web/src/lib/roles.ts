// What each workspace role may do, so the UI offers only the controls a role can use. The
// database enforces the same rules (RLS and the last-owner trigger); this only hides what would
// be refused anyway.

import { ROLES, roleAtLeast, type Role } from '../../../supabase/functions/_shared/contracts/roles.ts';

export { ROLES, roleAtLeast, type Role };

export const ROLE_LABELS: Record<Role, string> = { viewer: 'Viewer', editor: 'Editor', owner: 'Owner' };

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  viewer: 'Can see everything in the workspace.',
  editor: 'Can also create and edit content.',
  owner: 'Can also manage members, invitations, channels and settings.',
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface WorkspacePermissions {
  rename: boolean;
  manageMembers: boolean;
  invite: boolean;
  editContent: boolean;
}

export function workspacePermissions(role: Role): WorkspacePermissions {
  const owner = role === 'owner';
  return { rename: owner, manageMembers: owner, invite: owner, editContent: roleAtLeast(role, 'editor') };
}

export interface MemberLike {
  user_id: string;
  role: Role;
}

export interface MemberActions {
  changeRole: boolean;
  /** Roles the actor may pick for this member (empty when changeRole is false). */
  roleChoices: Role[];
  remove: boolean;
  leave: boolean;
}

/**
 * The controls the acting user gets on one member row. Owners manage others; everybody may leave;
 * the last owner can neither leave nor be demoted; nobody raises their own role.
 */
export function memberActions(actorId: string, actorRole: Role, target: MemberLike, members: readonly MemberLike[]): MemberActions {
  const self = target.user_id === actorId;
  const owners = members.filter((m) => m.role === 'owner').length;
  const lastOwner = target.role === 'owner' && owners <= 1;
  const isOwner = actorRole === 'owner';

  let roleChoices: Role[] = [];
  if (isOwner && !lastOwner) {
    // An owner may step down while another owner remains; raising oneself is never possible
    // (an owner already holds the top role).
    roleChoices = [...ROLES];
  }
  return {
    changeRole: roleChoices.length > 0,
    roleChoices,
    remove: isOwner && !self && !lastOwner,
    leave: self && !lastOwner,
  };
}
