// GET /insights?workspace_id=&channel_id= : what performed in a workspace (or one of its
// channels): 28-day totals against the 28 days before, top videos by score with the components
// that explain them, score over time and the publishing patterns that worked. Any member may
// read it; a workspace or channel the caller cannot see is a 404, never a hint that it exists.
// GET /insights/loop?workspace_id=&channel_id=&age_days=1|7|28&min_videos= : what the learning
// loop learned: the engine's published suggestions against organic videos (medians with 95%
// intervals, or "not enough data"), breakdowns, rejections with reasons, chosen variants.
// GET /insights/lineage?workspace_id=&video_id=|schedule_id= : one video's lineage (or "organic")
// and its outcomes at 1, 7 and 28 days.
// GET /insights/evidence?workspace_id=&content_id= : what a generated suggestion was built from
// (top videos, brief, patterns and the workspace's own outcomes the prompt quoted).
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { asUser } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { loadInsights } from '../_shared/domain/insights-document.ts';
import { parseQuery } from '../_shared/platform/request.ts';
import { Uuid, workspaceNotFound } from '../_shared/platform/tenancy.ts';
import { EvidenceQuery, LineageQuery, loadEvidence, loadLineage, loadLoopInsights, LoopQuery, summarize } from './loop.ts';

const Query = z.strictObject({ workspace_id: Uuid, channel_id: Uuid.optional() });

export const router = new Router('insights')
  .on('GET', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const query = parseQuery(ctx, Query);
    const result = await asUser(claims, (tx) => loadInsights(tx, query.workspace_id, query.channel_id ?? null));
    if (!result.found) {
      if (result.missing === 'workspace') throw workspaceNotFound();
      throw new HttpError(404, 'not_found', 'channel not found in this workspace');
    }
    return json({ insights: result.insights });
  })
  .on('GET', '/loop', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const query = parseQuery(ctx, LoopQuery);
    const result = await asUser(claims, (tx) => loadLoopInsights(tx, query));
    if (!result.found) {
      if (result.missing === 'workspace') throw workspaceNotFound();
      throw new HttpError(404, 'not_found', 'channel not found in this workspace');
    }
    return json({ loop: result.insights, summary: summarize(result.insights) });
  })
  .on('GET', '/lineage', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const query = parseQuery(ctx, LineageQuery);
    const doc = await asUser(claims, async (tx) => {
      const [ws] = await tx`select 1 from public.workspaces where id = ${query.workspace_id}`;
      if (!ws) throw workspaceNotFound();
      return await loadLineage(tx, query);
    });
    if (!doc)
      throw new HttpError(
        404,
        'not_found',
        query.video_id ? 'video not found in this workspace' : 'no published upload of this schedule in this workspace',
      );
    return json(doc);
  })
  .on('GET', '/evidence', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const query = parseQuery(ctx, EvidenceQuery);
    const doc = await asUser(claims, async (tx) => {
      const [ws] = await tx`select 1 from public.workspaces where id = ${query.workspace_id}`;
      if (!ws) throw workspaceNotFound();
      return await loadEvidence(tx, query);
    });
    if (!doc) throw new HttpError(404, 'not_found', 'content not found in this workspace');
    return json({ evidence: doc });
  });

export default createHandler(router);
