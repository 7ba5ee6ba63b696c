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
import type { Claims } from '../_shared/platform/auth.ts';
import { asUser, type Tx } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { loadInsights } from '../_shared/domain/insights-document.ts';
import { signedIn } from '../_shared/platform/signed-in.ts';
import { Uuid, workspaceNotFound } from '../_shared/platform/tenancy.ts';
import { EvidenceQuery, LineageQuery, loadEvidence, loadLineage, loadLoopInsights, LoopQuery, summarize } from './loop.ts';

const Query = z.strictObject({ workspace_id: Uuid, channel_id: Uuid.optional() });

/** A document the caller may read: 404 for a workspace (or channel) they cannot see. */
function found<T>(result: { found: true; insights: T } | { found: false; missing: 'workspace' | 'channel' }): T {
  if (result.found) return result.insights;
  if (result.missing === 'workspace') throw workspaceNotFound();
  throw new HttpError(404, 'not_found', 'channel not found in this workspace');
}

/** `load` as the caller once their workspace is visible to them (404 before anything is read). */
async function inVisibleWorkspace<T>(claims: Claims, workspaceId: string, load: (tx: Tx) => Promise<T>): Promise<T> {
  return await asUser(claims, async (tx) => {
    const [ws] = await tx`select 1 from public.workspaces where id = ${workspaceId}`;
    if (!ws) throw workspaceNotFound();
    return await load(tx);
  });
}

export const router = new Router('insights')
  .on('GET', '/', async (ctx) => {
    const { claims, input: query } = await signedIn(ctx, { query: Query });
    const result = await asUser(claims, (tx) => loadInsights(tx, query.workspace_id, query.channel_id ?? null));
    return json({ insights: found(result) });
  })
  .on('GET', '/loop', async (ctx) => {
    const { claims, input: query } = await signedIn(ctx, { query: LoopQuery });
    const loop = found(await asUser(claims, (tx) => loadLoopInsights(tx, query)));
    return json({ loop, summary: summarize(loop) });
  })
  .on('GET', '/lineage', async (ctx) => {
    const { claims, input: query } = await signedIn(ctx, { query: LineageQuery });
    const doc = await inVisibleWorkspace(claims, query.workspace_id, (tx) => loadLineage(tx, query));
    if (!doc)
      throw new HttpError(
        404,
        'not_found',
        query.video_id ? 'video not found in this workspace' : 'no published upload of this schedule in this workspace',
      );
    return json(doc);
  })
  .on('GET', '/evidence', async (ctx) => {
    const { claims, input: query } = await signedIn(ctx, { query: EvidenceQuery });
    const doc = await inVisibleWorkspace(claims, query.workspace_id, (tx) => loadEvidence(tx, query));
    if (!doc) throw new HttpError(404, 'not_found', 'content not found in this workspace');
    return json({ evidence: doc });
  });

export default createHandler(router);
