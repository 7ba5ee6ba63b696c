// generate-content: new ideas, titles, scripts, descriptions, tags or thumbnail prompts from what
// performed in a workspace (its insights), with Gemini. Editors and owners.
//   POST /  { workspace_id, channel_id?, kind, topic?, brief?, tone?, language?, target_format?, count? }
//     Accept: application/json (default) -> 201 { content }
//     Accept: text/event-stream          -> 200, events as the model writes:
//         started  { model, prompt_version, source_videos }
//         progress { attempt, chunks, characters }      (streamed chunks so far)
//         retry    { attempt, reason, delay_ms }         (bad output or a transient failure)
//         done     { content }                          (saved once the answer was complete and valid)
//         error    { status, error: { code, message } } (nothing saved)
//   The workspace's insights are reused for a minute per caller; `Cache-Control: no-cache`
//   recomputes them.
//   Errors before any work starts are plain JSON answers with their status (400, 401, 403, 404).
//   Failures of the generation: 422 content_blocked (safety), 502 invalid_model_output (bad
//   output twice) / model_request_rejected, 503 model_unavailable (+ Retry-After).
import { z } from 'zod';
import { requireUser, type Claims } from '../_shared/platform/auth.ts';
import { asUser, asUserThenService } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { Insights } from '../_shared/domain/insights-document.ts';
import { noteWorkspace } from '../_shared/platform/observability/context.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { Uuid } from '../_shared/platform/tenancy.ts';
import { GEMINI_MODEL, generate, type GenerationResult } from './generate.ts';
import { ContentKind } from '../_shared/domain/content-kinds.ts';
import { buildPrompt, PROMPT_VERSION, TARGET_FORMATS, type BuiltPrompt, type GenerationBrief, type OwnOutcome } from './prompt.ts';
import { bypassesCache, cachedInsights, insightsKey, rememberInsights } from './insights-cache.ts';
import { sseResponse, wantsEventStream, type SseWriter } from './sse.ts';
import {
  createContent,
  OWN_OUTCOMES_LIMIT,
  presentContent,
  recordCalls,
  recordInputs,
  unlinkCalls,
} from '../_shared/domain/content-store.ts';

const MAX_COUNT = { script: 3, other: 10 } as const;

const Body = z
  .strictObject({
    workspace_id: Uuid,
    channel_id: Uuid.optional(),
    kind: ContentKind,
    topic: z.string().trim().min(2, 'must be at least 2 characters').max(200, 'must be at most 200 characters').optional(),
    brief: z.string().trim().min(2, 'must be at least 2 characters').max(4_000, 'must be at most 4000 characters').optional(),
    tone: z.string().trim().min(2).max(60).default('friendly and energetic'),
    language: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en, de or pt-BR')
      .default('en'),
    target_format: z.enum(TARGET_FORMATS).default('short'),
    count: z.number().int().min(1).max(MAX_COUNT.other).optional(),
  })
  .refine((b) => b.topic !== undefined || b.brief !== undefined, { message: 'give a topic or a brief (or both)', path: ['topic'] })
  .refine((b) => b.kind !== 'script' || (b.count ?? 1) <= MAX_COUNT.script, {
    message: `at most ${MAX_COUNT.script} scripts per request`,
    path: ['count'],
  });
type Body = z.infer<typeof Body>;

const languageNames = new Intl.DisplayNames(['en'], { type: 'language' });

function languageLabel(tag: string): string {
  try {
    const name = languageNames.of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

function briefOf(body: Body): GenerationBrief {
  return {
    kind: body.kind,
    topic: body.topic,
    brief: body.brief,
    tone: body.tone,
    language: languageLabel(body.language),
    target_format: body.target_format,
    count: body.count ?? (body.kind === 'script' ? 1 : 5),
  };
}

interface Prepared {
  claims: Claims;
  body: Body;
  brief: GenerationBrief;
  prompt: BuiltPrompt;
}

/**
 * Everything that can fail before Gemini is called: role, workspace, channel, insights. The
 * caller's role and the insights come in one statement; insights computed within the last
 * minute for the same caller are reused (see insights-cache.ts), the role never is.
 */
async function prepare(req: Request, body: Body, claims: Claims): Promise<Prepared> {
  const channelId = body.channel_id ?? null;
  const key = insightsKey(claims.sub, body.workspace_id, channelId);
  const cached = bypassesCache(req) ? undefined : cachedInsights(key);
  // Insights are computed only for a caller who may generate: the role check (the database's one,
  // 404 for a non-member, 403 below editor) is materialized first and raises when it fails. The
  // engine's own published suggestions with their latest outcome come along in the same statement
  // (never cached: a sync may have recorded new outcomes since).
  const [row] = await asUser(
    claims,
    (tx) => tx<{ doc: unknown; own: OwnOutcome[] | null }[]>`
    with allowed as materialized (select public.require_workspace_role(${body.workspace_id}, 'editor', 'generate content') as caller)
    select ${cached ? tx`null::jsonb` : tx`public.workspace_insights_cached(${body.workspace_id}, ${channelId})`} as doc,
      (select coalesce(jsonb_agg(jsonb_build_object('title', l.schedule ->> 'title', 'kind', l.kind, 'tone', l.tone,
            'age_days', o.age_days, 'score', o.score, 'velocity_percentile', o.velocity_percentile,
            'title_choice', l.title_choice, 'title_variant', l.title_variant) order by l.published_at desc), '[]')
        from (select * from public.upload_lineage x where x.workspace_id = ${body.workspace_id}
                ${channelId ? tx`and x.channel_id = ${channelId}` : tx``}
              order by x.published_at desc limit ${OWN_OUTCOMES_LIMIT}) l
        join lateral (select * from public.video_outcomes v where v.youtube_video_id = l.youtube_video_id
                      order by v.age_days desc limit 1) o on true) as own
    from allowed`,
  );
  let insights = cached;
  if (!insights) {
    if (row.doc === null) throw new HttpError(404, 'not_found', 'channel not found in this workspace');
    insights = Insights.parse(row.doc);
    rememberInsights(key, insights);
  }
  const brief = briefOf(body);
  return { claims, body, brief, prompt: buildPrompt(brief, insights, row.own ?? []) };
}

/**
 * The content (as the caller: RLS and the role check apply once more) and, in the same
 * transaction as the service role, what its prompt quoted. Lineage copies those inputs when the
 * content is reviewed; content without them still works, so their failure is logged, not thrown.
 */
async function saveContent(p: Prepared, result: Extract<GenerationResult, { ok: true }>, contentId: string, requestId: string) {
  const { result: row, afterError } = await asUserThenService(
    p.claims,
    (tx) =>
      createContent(tx, {
        id: contentId,
        workspaceId: p.body.workspace_id,
        kind: p.body.kind,
        brief: {
          topic: p.body.topic ?? null,
          brief: p.body.brief ?? null,
          tone: p.body.tone,
          language: p.body.language,
          target_format: p.body.target_format,
          count: p.brief.count,
          channel_id: p.body.channel_id ?? null,
        },
        sourceVideos: p.prompt.sourceVideos,
        promptVersion: PROMPT_VERSION,
        model: result.model,
        inputTokens: result.inputTokens,
        outputTokens: result.outputTokens,
        output: result.output,
      }),
    (tx) => recordInputs(tx, { contentId, workspaceId: p.body.workspace_id, requestId, inputs: p.prompt.inputs }),
  );
  if (afterError !== undefined) {
    console.error(
      JSON.stringify({
        level: 'error',
        request_id: requestId,
        msg: 'recording prompt inputs failed',
        content_id: contentId,
        error: afterError instanceof Error ? afterError.message : String(afterError),
      }),
    );
  }
  return row;
}

/**
 * Saves the content and its prompt's inputs (saveContent) and, at the same time on another
 * connection, records every call with its tokens (service role).
 */
async function finish(p: Prepared, result: GenerationResult, requestId: string) {
  const record = (contentId: string | null) =>
    recordCalls({
      workspaceId: p.body.workspace_id,
      userId: p.claims.sub,
      contentId,
      requestId,
      kind: p.body.kind,
      model: result.model,
      promptVersion: PROMPT_VERSION,
      calls: result.calls,
    });
  if (!result.ok) {
    await record(null);
    throw result.error;
  }
  const contentId = crypto.randomUUID();
  const save = saveContent(p, result, contentId, requestId);
  const [saved, recorded] = await Promise.allSettled([save, record(contentId)]);
  if (saved.status === 'rejected') {
    // The calls were recorded as having made this content, which does not exist: unlink them.
    if (recorded.status === 'fulfilled') await unlinkCalls(contentId);
    throw saved.reason;
  }
  if (recorded.status === 'rejected') {
    // The content exists and is the caller's; the accounting gap is the operator's to see.
    const e = recorded.reason;
    console.error(
      JSON.stringify({
        level: 'error',
        request_id: requestId,
        msg: 'recording Gemini calls failed',
        content_id: contentId,
        error: e instanceof Error ? e.message : String(e),
      }),
    );
  }
  return presentContent(saved.value);
}

function streamed(p: Prepared, requestId: string): Response {
  return sseResponse(async (out: SseWriter) => {
    out.send('started', { model: GEMINI_MODEL, prompt_version: PROMPT_VERSION, source_videos: p.prompt.sourceVideos.length });
    const result = await generate({
      brief: p.brief,
      prompt: p.prompt,
      stream: true,
      signal: out.signal,
      onEvent: (e) => {
        const { type, ...data } = e;
        out.send(type, data);
      },
    });
    try {
      const content = await finish(p, result, requestId);
      out.send('done', { content });
    } catch (err) {
      const e = err instanceof HttpError ? err : null;
      if (!e) {
        console.error(
          JSON.stringify({
            level: 'error',
            request_id: requestId,
            msg: 'saving generated content failed',
            error: err instanceof Error ? err.message : String(err),
          }),
        );
      }
      out.send('error', {
        status: e?.status ?? 500,
        error: {
          code: e?.code ?? 'internal_error',
          message: e?.message ?? 'internal error; quote the request id when reporting it',
          ...(e?.details === undefined ? {} : { details: e.details }),
          request_id: requestId,
        },
      });
    }
  });
}

export const router = new Router('generate-content').on('POST', '/', async (ctx) => {
  const claims = await requireUser(ctx.req);
  const body = await parseBody(ctx, Body);
  noteWorkspace(ctx.req, body.workspace_id);
  const prepared = await prepare(ctx.req, body, claims);
  if (wantsEventStream(ctx.req)) return streamed(prepared, ctx.requestId);
  const result = await generate({ brief: prepared.brief, prompt: prepared.prompt, stream: false, signal: ctx.req.signal });
  return json({ content: await finish(prepared, result, ctx.requestId) }, 201);
});

export default createHandler(router);
