// content: generated content and its review. Members read; editors and owners edit and review.
//   GET  /?workspace_id=&status=&kind=&limit=&before=  list, newest first        -> { content: [...] }
//   GET  /:id                                           one, with its transitions -> { content, transitions }
//   GET  /:id/versions                                  every version, newest first -> { versions }
//   POST /:id/versions  { output, note? }               edit: a new version; back to draft -> 201 { content, version }
//   POST /:id/submit                                    draft | rejected -> in_review -> { content }
//   POST /:id/approve                                   in_review -> approved        -> { content }
//   POST /:id/reject    { reason }                      in_review -> rejected        -> { content }
// Another workspace's content is a 404; a viewer's edit or review a 403; an action the current
// status does not allow a 409 (invalid_transition). Every action is recorded with who and when.
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { asUser, type Tx } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { json, Router, validate, type RouteContext } from '../_shared/platform/http.ts';
import { noteWorkspace } from '../_shared/platform/observability/context.ts';
import { parseBody, parseParams, parseQuery } from '../_shared/platform/request.ts';
import { requireRole, Uuid } from '../_shared/platform/tenancy.ts';
import { ContentKind, outputSchema } from '../_shared/domain/content-kinds.ts';
import {
  editContent,
  getContent,
  listContent,
  listTransitions,
  listVersions,
  presentContent,
  reviewContent,
  type ReviewAction,
} from '../_shared/domain/content-store.ts';
import { queryInt } from '../_shared/platform/integers.ts';

const STATUSES = ['draft', 'in_review', 'approved', 'rejected'] as const;

const ListQuery = z.strictObject({
  workspace_id: Uuid,
  status: z.enum(STATUSES).optional(),
  kind: ContentKind.optional(),
  limit: queryInt(z.number().int().min(1).max(100)).default(20),
  before: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
});
const IdParams = z.object({ id: Uuid });
const EditBody = z.strictObject({
  output: z.record(z.string(), z.unknown()),
  note: z.string().trim().max(500, 'must be at most 500 characters').optional(),
});
const RejectBody = z.strictObject({
  reason: z.string().trim().min(3, 'give a reason of at least 3 characters').max(1_000, 'must be at most 1000 characters'),
});
const NoBody = z.strictObject({}).optional();

const ROLE_ACTION: Record<ReviewAction, string> = {
  submit: 'submit content for review',
  approve: 'approve content',
  reject: 'reject content',
};

/** The content visible to the caller, after checking they may change it (404, then 403). */
async function changeable(tx: Tx, id: string, action: string) {
  const row = await getContent(tx, id);
  await requireRole(tx, row.workspace_id, 'editor', action);
  return row;
}

function review(action: ReviewAction) {
  return async (ctx: RouteContext) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    let reason: string | null = null;
    if (action === 'reject') reason = (await parseBody(ctx, RejectBody)).reason;
    else await parseBody(ctx, NoBody);
    const content = await asUser(claims, async (tx) => {
      const row = await changeable(tx, id, ROLE_ACTION[action]);
      noteWorkspace(ctx.req, row.workspace_id);
      return await reviewContent(tx, id, action, reason);
    });
    return json({ content: presentContent(content) });
  };
}

export const router = new Router('content')
  .on('GET', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const q = parseQuery(ctx, ListQuery);
    const rows = await asUser(claims, async (tx) => {
      await requireRole(tx, q.workspace_id, 'viewer', 'see content');
      return await listContent(tx, {
        workspaceId: q.workspace_id,
        status: q.status,
        kind: q.kind,
        limit: q.limit,
        before: q.before ? new Date(q.before) : undefined,
      });
    });
    return json({ content: rows.map(presentContent) });
  })
  .on('GET', '/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    const { row, transitions } = await asUser(claims, async (tx) => {
      const row = await getContent(tx, id);
      return { row, transitions: await listTransitions(tx, id) };
    });
    noteWorkspace(ctx.req, row.workspace_id);
    return json({ content: presentContent(row), transitions });
  })
  .on('GET', '/:id/versions', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    const versions = await asUser(claims, async (tx) => {
      await getContent(tx, id);
      return await listVersions(tx, id);
    });
    return json({ versions });
  })
  .on('POST', '/:id/versions', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    const body = await parseBody(ctx, EditBody);
    const result = await asUser(claims, async (tx) => {
      const row = await changeable(tx, id, 'edit content');
      noteWorkspace(ctx.req, row.workspace_id);
      // An edit must keep the kind's shape: what a render or an upload reads stays well-formed.
      const output = validate(outputSchema(row.kind), body.output, 'output');
      const edited = await editContent(tx, id, output, body.note ?? null);
      const [version] = await listVersions(tx, id, 1);
      return { edited, version };
    });
    return json({ content: presentContent(result.edited), version: result.version }, 201);
  })
  .on('POST', '/:id/submit', review('submit'))
  .on('POST', '/:id/approve', review('approve'))
  .on('POST', '/:id/reject', review('reject'));

export default createHandler(router);
