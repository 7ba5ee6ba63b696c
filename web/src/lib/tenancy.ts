// The tenancy functions (workspaces, members, invitations, account) as the UI calls them, with the
// shapes of their answers checked at the boundary.
import * as z from 'zod/mini';
import { callFunction, segment, type FunctionsInvoker } from './api.ts';
import { ROLES } from './roles.ts';

const role = z.enum(ROLES);
const timestamp = z.string();

export const Workspace = z.object({
  id: z.string(),
  name: z.string(),
  personal: z.boolean(),
  role,
  created_at: timestamp,
});
export type Workspace = z.infer<typeof Workspace>;

export const Member = z.object({
  user_id: z.string(),
  email: z.nullish(z.string()),
  display_name: z.nullish(z.string()),
  role,
  joined_at: timestamp,
});
export type Member = z.infer<typeof Member>;

export const Invitation = z.object({
  id: z.string(),
  email: z.string(),
  role,
  expires_at: timestamp,
  created_at: z.optional(timestamp),
  accepted_at: z.nullish(timestamp),
  revoked_at: z.nullish(timestamp),
});
export type Invitation = z.infer<typeof Invitation>;

export const Profile = z.object({
  display_name: z.string(),
  avatar_url: z.nullish(z.string()),
  locale: z.string(),
  timezone: z.string(),
  email: z.optional(z.nullish(z.string())),
});
export type Profile = z.infer<typeof Profile>;
export type ProfileUpdate = { display_name: string; avatar_url: string | null; locale: string; timezone: string };

const WorkspaceList = z.object({ workspaces: z.array(Workspace) });
const WorkspaceOne = z.union([z.object({ workspace: Workspace }), Workspace]);
const MemberList = z.object({ members: z.array(Member) });
const InvitationList = z.object({ invitations: z.array(Invitation) });
const InvitationCreated = z.object({ invitation: Invitation, accept_url: z.string() });
// The accept answer names the workspace joined, directly or inside a membership/workspace object.
const Accepted = z.looseObject({
  workspace_id: z.optional(z.string()),
  workspace: z.optional(z.looseObject({ id: z.string() })),
  membership: z.optional(z.looseObject({ workspace_id: z.string() })),
});
// The profile may come bare or wrapped as { profile }.
const ProfileAnswer = z.union([z.object({ profile: Profile }), Profile]);

const unwrapWorkspace = (w: z.infer<typeof WorkspaceOne>): Workspace => ('workspace' in w ? w.workspace : w);
const unwrapProfile = (p: z.infer<typeof ProfileAnswer>): Profile => ('profile' in p ? p.profile : p);

export async function listWorkspaces(client: FunctionsInvoker): Promise<Workspace[]> {
  return (await callFunction(client, 'workspaces', { schema: WorkspaceList })).workspaces;
}

export async function createWorkspace(client: FunctionsInvoker, name: string): Promise<Workspace> {
  return unwrapWorkspace(await callFunction(client, 'workspaces', { method: 'POST', body: { name }, schema: WorkspaceOne }));
}

export async function renameWorkspace(client: FunctionsInvoker, id: string, name: string): Promise<void> {
  await callFunction(client, `workspaces/${segment(id)}`, { method: 'PATCH', body: { name } });
}

export async function listMembers(client: FunctionsInvoker, workspaceId: string): Promise<Member[]> {
  return (await callFunction(client, 'members', { query: { workspace_id: workspaceId }, schema: MemberList })).members;
}

export async function changeMemberRole(
  client: FunctionsInvoker,
  workspaceId: string,
  userId: string,
  newRole: Member['role'],
): Promise<void> {
  await callFunction(client, `members/${segment(workspaceId)}/${segment(userId)}`, { method: 'PATCH', body: { role: newRole } });
}

/** Removes a member; with the caller's own user id this is "leave the workspace". */
export async function removeMember(client: FunctionsInvoker, workspaceId: string, userId: string): Promise<void> {
  await callFunction(client, `members/${segment(workspaceId)}/${segment(userId)}`, { method: 'DELETE' });
}

export async function listInvitations(client: FunctionsInvoker, workspaceId: string): Promise<Invitation[]> {
  return (await callFunction(client, 'invitations', { query: { workspace_id: workspaceId }, schema: InvitationList })).invitations;
}

export async function createInvitation(
  client: FunctionsInvoker,
  input: { workspace_id: string; email: string; role: Member['role'] },
): Promise<{ invitation: Invitation; accept_url: string }> {
  return callFunction(client, 'invitations', { method: 'POST', body: input, schema: InvitationCreated });
}

export async function revokeInvitation(client: FunctionsInvoker, id: string): Promise<void> {
  await callFunction(client, `invitations/${segment(id)}`, { method: 'DELETE' });
}

/** Accepts an invitation; returns the id of the workspace joined when the answer names it. */
export async function acceptInvitation(client: FunctionsInvoker, token: string): Promise<string | null> {
  const answer = await callFunction(client, 'invitations/accept', { method: 'POST', body: { token }, schema: Accepted });
  return answer.workspace_id ?? answer.workspace?.id ?? answer.membership?.workspace_id ?? null;
}

export async function getProfile(client: FunctionsInvoker): Promise<Profile> {
  return unwrapProfile(await callFunction(client, 'account', { schema: ProfileAnswer }));
}

export async function updateProfile(client: FunctionsInvoker, update: ProfileUpdate): Promise<void> {
  await callFunction(client, 'account', { method: 'PATCH', body: update });
}

const AccountExport = z.looseObject({
  workspace_exports: z.array(z.object({ workspace_id: z.string(), name: z.string(), first_part_path: z.string() })),
});
export type AccountExport = z.infer<typeof AccountExport>;

/** The account document: my rows, and the workspaces I own whose data comes in parts. */
export async function exportAccount(client: FunctionsInvoker): Promise<AccountExport> {
  return callFunction(client, 'account/export', { schema: AccountExport });
}

const WorkspaceExportPart = z.looseObject({ workspace_id: z.string(), part: z.number(), next_cursor: z.nullable(z.string()) });
export type WorkspaceExportPart = z.infer<typeof WorkspaceExportPart>;

/** One part of a workspace's data (the first when cursor is null); its next_cursor names the next. */
export async function exportWorkspacePart(
  client: FunctionsInvoker,
  workspaceId: string,
  cursor: string | null,
): Promise<WorkspaceExportPart> {
  return callFunction(client, `account/export/workspaces/${segment(workspaceId)}`, {
    query: { cursor: cursor ?? undefined },
    schema: WorkspaceExportPart,
  });
}

export async function deleteAccount(client: FunctionsInvoker): Promise<void> {
  await callFunction(client, 'account', { method: 'DELETE', body: { confirm: 'DELETE' } });
}
