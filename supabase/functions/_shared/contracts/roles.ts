// Workspace roles, lowest first, as the database's public.workspace_role enum has them
// (tests/unit/contracts-schema.test.ts fails when the two disagree). The functions and the web
// app both import this file, so it has no imports of its own: Deno and Vite read it as it is.

export const ROLES = ['viewer', 'editor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(min);
}
