// The prologue a signed-in caller's route shares, written once and always in the same order: who
// the caller is (a 401 comes first, so an anonymous caller learns nothing from input errors),
// then the route's input through zod (a 400 naming each bad field), then the work in the caller's
// own transaction, where row-level security decides what they see. `asMember` adds the role
// check on one workspace (404 when the caller cannot see it, 403 when their role is too low).
import type { z } from 'zod';
import { requireUser, type Claims } from './auth.ts';
import { asUser, type Tx } from './db.ts';
import type { RouteContext } from './http.ts';
import { parseBody, parseParams, parseQuery } from './request.ts';
import { requireRole, type Role } from './tenancy.ts';

/** Where a route's input comes from, and the schema it must pass. */
export type RouteInput<S extends z.ZodType> = { query: S } | { body: S } | { params: S };

async function readInput<S extends z.ZodType>(ctx: RouteContext, input: RouteInput<S>): Promise<z.infer<S>> {
  if ('query' in input) return parseQuery(ctx, input.query);
  if ('body' in input) return await parseBody(ctx, input.body);
  return parseParams(ctx, input.params);
}

/** The caller's verified claims, then their input: what every signed-in route starts from. */
export async function signedIn<S extends z.ZodType>(
  ctx: RouteContext,
  input: RouteInput<S>,
): Promise<{ claims: Claims; input: z.infer<S> }> {
  const claims = await requireUser(ctx.req);
  return { claims, input: await readInput(ctx, input) };
}

/** `work` in the caller's transaction once their role in the workspace is at least `min`. */
export async function asMember<T>(
  claims: Claims,
  workspace: { id: string; min: Role; action: string },
  work: (tx: Tx, role: Role) => Promise<T>,
): Promise<T> {
  return await asUser(claims, async (tx) => work(tx, await requireRole(tx, workspace.id, workspace.min, workspace.action)));
}
