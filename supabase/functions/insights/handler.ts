// GET /insights?workspace_id=&channel_id= : what performed in a workspace (or one of its
// channels): 28-day totals against the 28 days before, top videos by score with the components
// that explain them, score over time and the publishing patterns that worked. Any member may
// read it; a workspace or channel the caller cannot see is a 404, never a hint that it exists.
import { z } from 'zod';
import { requireUser } from '../_shared/auth.ts';
import { asUser } from '../_shared/db.ts';
import { createHandler } from '../_shared/handler.ts';
import { HttpError, json, Router } from '../_shared/http.ts';
import { loadInsights } from '../_shared/insights.ts';
import { parseQuery } from '../_shared/request.ts';
import { Uuid, workspaceNotFound } from '../_shared/tenancy.ts';

const Query = z.strictObject({ workspace_id: Uuid, channel_id: Uuid.optional() });

export const router = new Router('insights').on('GET', '/', async (ctx) => {
  const claims = await requireUser(ctx.req);
  const query = parseQuery(ctx, Query);
  const result = await asUser(claims, (tx) => loadInsights(tx, query.workspace_id, query.channel_id ?? null));
  if (!result.found) {
    if (result.missing === 'workspace') throw workspaceNotFound();
    throw new HttpError(404, 'not_found', 'channel not found in this workspace');
  }
  return json({ insights: result.insights });
});

export default createHandler(router);
