// The fake Gemini (Generative Language API) as `@google/generative-ai` calls it:
// POST {base}/v1beta/models/{model}:generateContent | :streamGenerateContent[?alt=sse] | :countTokens,
// with the API key in `x-goog-api-key` (or `?key=`). Real base: https://generativelanguage.googleapis.com;
// here: /gemini. Faults (429 RESOURCE_EXHAUSTED, 500 INTERNAL, latency, drops) come from the
// generic fault rules, which answer in this API's error shape.
import { z } from 'zod';
import { parseJson } from '../control.ts';
import type { RequestContext } from '../core/context.ts';
import type { Router } from '../core/router.ts';
import type { FakeService } from '../core/service.ts';
import { invalidKey, missingKey, sendGeminiError } from './errors.ts';
import { checkSemantics, CountTokensRequest, GenerateContentRequest, parseRequest, textOf } from './request.ts';
import { decide, promptTokens, streamBodies, unaryBody } from './responses.ts';
import { GEMINI_MODES, GeminiState, type GeminiRequestRecord } from './state.ts';

const VERSIONS = ['v1beta', 'v1'];
const TASKS = ['generateContent', 'streamGenerateContent', 'countTokens'];
// Model ids the real API serves under models/; anything else is a typo worth a 404.
const MODEL_ID = /^(gemini|gemma|learnlm)-[a-z0-9.-]+$/;

function apiKeyOf(ctx: RequestContext): string | undefined {
  return ctx.header('x-goog-api-key') ?? ctx.query.get('key') ?? undefined;
}

async function modelCall(ctx: RequestContext, state: GeminiState) {
  const version = ctx.params.version!;
  const spec = ctx.params.modelTask!;
  const colon = spec.lastIndexOf(':');
  if (!VERSIONS.includes(version) || colon < 0) {
    sendGeminiError(ctx, 404, `no route ${ctx.method} ${ctx.path} in the fake Gemini API (not implemented by local/fakes)`);
    return;
  }
  const model = spec.slice(0, colon);
  const task = spec.slice(colon + 1);

  const key = apiKeyOf(ctx);
  if (!key) return missingKey(ctx);
  if (state.apiKeys !== null && !state.apiKeys.includes(key)) return invalidKey(ctx);

  if (!TASKS.includes(task)) {
    sendGeminiError(ctx, 501, `models.${task} is not implemented by the local Gemini fake (local/fakes/gemini).`);
    return;
  }
  if (!MODEL_ID.test(model)) {
    sendGeminiError(
      ctx,
      404,
      `models/${model} is not found for API version ${version}, or is not supported for ${task}. Call ListModels to see the list of available models and their supported methods.`,
    );
    return;
  }

  let raw: unknown;
  try {
    raw = ctx.json() ?? {};
  } catch {
    sendGeminiError(ctx, 400, 'Invalid JSON payload received. Unexpected token.');
    return;
  }
  const stream = task === 'streamGenerateContent';
  const entry = state.record({ model, method: task, stream, body: raw, prompt: '', system: '', mode: null });
  ctx.res.on('finish', () => {
    entry.status = ctx.res.statusCode;
  });

  if (task === 'countTokens') return countTokens(ctx, raw, entry);

  const parsed = parseRequest(GenerateContentRequest, raw, 'GenerateContentRequest');
  if (!parsed.ok) return sendGeminiError(ctx, 400, parsed.message);
  const req = parsed.value;
  entry.prompt = textOf(req.contents);
  entry.system = req.systemInstruction ? textOf([req.systemInstruction]) : '';
  const problem = checkSemantics(req);
  if (problem) return sendGeminiError(ctx, 400, problem);
  if (req.tools !== undefined || req.toolConfig !== undefined || req.cachedContent !== undefined) {
    sendGeminiError(ctx, 501, 'tools, toolConfig and cachedContent are not implemented by the local Gemini fake (local/fakes/gemini).');
    return;
  }

  const mode = state.takeMode(model);
  entry.mode = mode;
  const outcome = decide(req, model, mode);
  if (!stream) return ctx.sendJson(200, unaryBody(outcome));

  const chunks = streamBodies(outcome);
  if (ctx.query.get('alt') === 'sse') {
    // Google separates events with CRLF pairs; the SDK accepts \n\n, \r\r and \r\n\r\n.
    const frames = chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`);
    await ctx.sendFrames(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, frames, state.streamChunkDelayMs);
  } else {
    // Without alt=sse the API streams one JSON array of the same chunks.
    ctx.sendJson(200, chunks);
  }
}

function countTokens(ctx: RequestContext, raw: unknown, entry: GeminiRequestRecord) {
  const parsed = parseRequest(CountTokensRequest, raw, 'CountTokensRequest');
  if (!parsed.ok) return sendGeminiError(ctx, 400, parsed.message);
  const inner = parsed.value.generateContentRequest;
  const contents = parsed.value.contents ?? inner?.contents;
  if (!contents || contents.length === 0) return sendGeminiError(ctx, 400, '* CountTokensRequest.contents: contents is not specified');
  entry.prompt = textOf(contents);
  const total = promptTokens(contents, inner?.systemInstruction);
  ctx.sendJson(200, { totalTokens: total, promptTokensDetails: [{ modality: 'TEXT', tokenCount: total }] });
}

// models.list, as `GET {base}/v1beta/models?pageSize=`: the cheapest call that proves a key works
// (no tokens spent). The list is the fake's own choice of ids the product uses.
const LISTED_MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash'];

function listModels(ctx: RequestContext, state: GeminiState) {
  if (!VERSIONS.includes(ctx.params.version!))
    return sendGeminiError(ctx, 404, `no route ${ctx.method} ${ctx.path} in the fake Gemini API (not implemented by local/fakes)`);
  const key = apiKeyOf(ctx);
  if (!key) return missingKey(ctx);
  if (state.apiKeys !== null && !state.apiKeys.includes(key)) return invalidKey(ctx);
  const pageSize = Math.min(Math.max(Number(ctx.query.get('pageSize') ?? '50') || 50, 1), 1000);
  const models = LISTED_MODELS.slice(0, pageSize).map((id) => ({
    name: `models/${id}`,
    version: '001',
    displayName: id,
    supportedGenerationMethods: ['generateContent', 'countTokens'],
  }));
  ctx.sendJson(200, pageSize < LISTED_MODELS.length ? { models, nextPageToken: String(pageSize) } : { models });
}

const Behaviour = z
  .object({ mode: z.enum(GEMINI_MODES), times: z.number().int().min(1).optional(), model: z.string().min(1).optional() })
  .strict();
const Settings = z
  .object({
    apiKeys: z.array(z.string().min(1)).min(1).nullable().optional(),
    streamChunkDelayMs: z.number().int().min(0).max(10_000).optional(),
  })
  .strict();

function registerControl(router: Router, state: GeminiState) {
  router.get('/_control/gemini/behaviour', (ctx) => ctx.sendJson(200, state.behaviour));
  router.post('/_control/gemini/behaviour', (ctx) => {
    const body = parseJson(ctx, Behaviour);
    if (!body) return;
    state.setBehaviour(body.mode, body.times, body.model);
    ctx.sendJson(200, state.behaviour);
  });
  router.post('/_control/gemini/settings', (ctx) => {
    const body = parseJson(ctx, Settings);
    if (!body) return;
    if (body.apiKeys !== undefined) state.apiKeys = body.apiKeys;
    if (body.streamChunkDelayMs !== undefined) state.streamChunkDelayMs = body.streamChunkDelayMs;
    ctx.sendJson(200, { apiKeysRestricted: state.apiKeys !== null, streamChunkDelayMs: state.streamChunkDelayMs });
  });
  router.get('/_control/gemini/requests', (ctx) => {
    const after = Number(ctx.query.get('afterSeq') ?? '0');
    const model = ctx.query.get('model');
    ctx.sendJson(200, { requests: state.requests.filter((r) => r.seq > after && (model === null || r.model === model)) });
  });
  router.delete('/_control/gemini/requests', (ctx) => {
    state.requests = [];
    ctx.sendJson(200, { ok: true });
  });
}

export function geminiService(): FakeService & { state: GeminiState } {
  const state = new GeminiState();
  return {
    name: 'gemini',
    state,
    mounts: [{ prefix: '/gemini', style: 'gemini', label: 'Gemini API' }],
    register(router) {
      router.post('/gemini/:version/models/:modelTask', (ctx) => modelCall(ctx, state));
      router.get('/gemini/:version/models', (ctx) => listModels(ctx, state));
    },
    registerControl(router) {
      registerControl(router, state);
    },
    reset() {
      state.reset();
    },
  };
}
