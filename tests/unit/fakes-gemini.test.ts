// The fake Gemini speaks the Generative Language REST format: schema-honouring JSON, SSE streams
// split across chunks, the real error shapes, behaviours on demand and the full prompt log.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createFakesServer, type FakesServer } from '../../local/fakes/server.ts';

// Responses are read loosely; the assertions are what check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let fakes: FakesServer;
let base: string;
const MODEL = 'gemini-2.0-flash';

before(async () => {
  fakes = await createFakesServer({ port: 0 });
  base = fakes.url;
});
after(async () => {
  await fakes.close();
});
beforeEach(async () => {
  assert.equal((await fetch(`${base}/_control/reset`, { method: 'POST' })).status, 200);
});

async function control(path: string, body: unknown): Promise<Json> {
  const r = await fetch(`${base}/_control${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await r.json()) as Json;
  assert.ok(r.ok, `${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

async function call(body: unknown, opts: { task?: string; key?: string | null; query?: string; model?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.key !== null) headers['x-goog-api-key'] = opts.key ?? 'test-key';
  const url = `${base}/gemini/v1beta/models/${opts.model ?? MODEL}:${opts.task ?? 'generateContent'}${opts.query ?? ''}`;
  const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return r;
}

async function generate(body: unknown, opts: Parameters<typeof call>[1] = {}) {
  const r = await call(body, opts);
  return { status: r.status, body: (await r.json()) as Json };
}

// What the product asks for: ideas with a title, a hook, a format and tags (SDK-style lower-case types).
const IDEAS_SCHEMA = {
  type: 'object',
  properties: {
    ideas: {
      type: 'array',
      minItems: 1,
      maxItems: 8,
      items: {
        type: 'object',
        properties: {
          title: { type: 'string' },
          hook: { type: 'string' },
          format: { type: 'string', enum: ['short', 'long_form'] },
          tags: { type: 'array', items: { type: 'string' } },
          estimatedSeconds: { type: 'integer', minimum: 15, maximum: 60 },
          score: { type: 'number' },
          evergreen: { type: 'boolean' },
        },
        required: ['title', 'hook', 'format', 'tags', 'estimatedSeconds'],
      },
    },
  },
  required: ['ideas'],
};

const Ideas = z
  .object({
    ideas: z.array(
      z
        .object({
          title: z.string().min(1).max(100),
          hook: z.string().min(1),
          format: z.enum(['short', 'long_form']),
          tags: z.array(z.string().min(1)).min(1),
          estimatedSeconds: z.number().int().min(15).max(60),
          score: z.number().optional(),
          evergreen: z.boolean().optional(),
        })
        .strict(),
    ),
  })
  .strict();

function ideasRequest(prompt: string, extra: Json = {}) {
  return {
    contents: [{ role: 'user', parts: [{ text: prompt }] }],
    systemInstruction: { role: 'system', parts: [{ text: 'You are a YouTube strategist. Answer in JSON.' }] },
    generationConfig: { responseMimeType: 'application/json', responseSchema: IDEAS_SCHEMA, temperature: 0.7, ...extra },
  };
}

const PROMPT =
  'Generate 5 video ideas about sourdough starters. Top videos: "Sourdough starter in 7 days" (41,000 views), "Fermentation mistakes" (12,000 views).';

function textOf(body: Json, candidate = 0): string {
  return (body.candidates[candidate].content.parts as Array<{ text: string }>).map((p) => p.text).join('');
}

describe('generateContent with a response schema', () => {
  it('answers JSON that matches the schema, as many items as the prompt asked, with words from the prompt', async () => {
    const { status, body } = await generate(ideasRequest(PROMPT));
    assert.equal(status, 200, JSON.stringify(body));
    const c = body.candidates[0];
    assert.equal(c.finishReason, 'STOP');
    assert.equal(c.index, 0);
    assert.equal(c.content.role, 'model');
    assert.ok(Array.isArray(c.safetyRatings) && c.safetyRatings.length > 0);
    assert.equal(body.modelVersion, MODEL);
    const ideas = Ideas.parse(JSON.parse(textOf(body)));
    assert.equal(ideas.ideas.length, 5);
    assert.match(JSON.stringify(ideas), /sourdough/i);
  });

  it('is deterministic for the same request and differs for another prompt', async () => {
    const a = textOf((await generate(ideasRequest(PROMPT))).body);
    const b = textOf((await generate(ideasRequest(PROMPT))).body);
    const c = textOf((await generate(ideasRequest(PROMPT.replace('sourdough', 'ramen')))).body);
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.match(c, /ramen/i);
  });

  it('keeps array lengths within minItems and maxItems whatever the prompt asks', async () => {
    const many = Ideas.parse(JSON.parse(textOf((await generate(ideasRequest('Give me 30 ideas about kettlebells'))).body)));
    assert.equal(many.ideas.length, 8);
    const schema = { type: 'ARRAY', minItems: 3, maxItems: 4, items: { type: 'STRING' } };
    const few = (
      await generate({
        contents: [{ parts: [{ text: 'Write 1 title about kettlebells' }] }],
        generationConfig: { responseMimeType: 'application/json', responseSchema: schema },
      })
    ).body;
    const titles = JSON.parse(textOf(few)) as string[];
    assert.equal(titles.length, 3);
  });

  it('answers text/x.enum with one of the values', async () => {
    const schema = { type: 'STRING', enum: ['positive', 'neutral', 'negative'] };
    const { body } = await generate({
      contents: [{ parts: [{ text: 'Classify: great video!' }] }],
      generationConfig: { responseMimeType: 'text/x.enum', responseSchema: schema },
    });
    assert.ok(['positive', 'neutral', 'negative'].includes(textOf(body)));
  });

  it('writes plain text without a schema, and several candidates when asked', async () => {
    const { body } = await generate({
      contents: [{ parts: [{ text: 'Suggest 3 titles about mechanical keyboards' }] }],
      generationConfig: { candidateCount: 2 },
    });
    assert.equal(body.candidates.length, 2);
    assert.deepEqual(
      body.candidates.map((c: Json) => c.index),
      [0, 1],
    );
    assert.match(textOf(body, 0), /keyboards/i);
    assert.notEqual(textOf(body, 0), textOf(body, 1));
  });

  it('counts tokens as about four characters each', async () => {
    const { body } = await generate(ideasRequest(PROMPT));
    const u = body.usageMetadata;
    const promptChars = PROMPT.length + 1 + 'You are a YouTube strategist. Answer in JSON.'.length;
    assert.equal(u.promptTokenCount, Math.ceil(promptChars / 4));
    assert.equal(u.candidatesTokenCount, Math.ceil(textOf(body).length / 4));
    assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount);
    const counted = (await generate({ contents: [{ parts: [{ text: PROMPT }] }] }, { task: 'countTokens' })).body;
    assert.equal(counted.totalTokens, Math.ceil(PROMPT.length / 4));
  });

  it('stops at maxOutputTokens with finishReason MAX_TOKENS', async () => {
    const { body } = await generate(ideasRequest(PROMPT, { maxOutputTokens: 20 }));
    assert.equal(body.candidates[0].finishReason, 'MAX_TOKENS');
    assert.ok(textOf(body).length <= 80);
    assert.throws(() => JSON.parse(textOf(body)));
  });
});

describe('streamGenerateContent', () => {
  it('splits the JSON over several SSE chunks that concatenate to the unary answer, usage on the last', async () => {
    const unary = textOf((await generate(ideasRequest(PROMPT))).body);
    const r = await call(ideasRequest(PROMPT), { task: 'streamGenerateContent', query: '?alt=sse' });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
    const raw = await r.text();
    const frames = raw.split('\r\n\r\n').filter((f) => f.length > 0);
    assert.ok(frames.length >= 3, `only ${frames.length} frames`);
    const chunks = frames.map((f) => {
      assert.ok(f.startsWith('data: '), f.slice(0, 40));
      return JSON.parse(f.slice('data: '.length)) as Json;
    });
    assert.equal(chunks.map((c) => textOf(c)).join(''), unary);
    for (const c of chunks.slice(0, -1)) {
      assert.equal(c.usageMetadata, undefined);
      assert.equal(c.candidates[0].finishReason, undefined);
    }
    const last = chunks.at(-1)!;
    assert.equal(last.candidates[0].finishReason, 'STOP');
    assert.equal(last.usageMetadata.candidatesTokenCount, Math.ceil(unary.length / 4));
    // No chunk alone is the whole JSON: a client must concatenate.
    assert.ok(chunks.every((c) => textOf(c) !== unary));
  });

  it('answers a JSON array of the same chunks without alt=sse', async () => {
    const r = await call(ideasRequest(PROMPT), { task: 'streamGenerateContent' });
    const chunks = (await r.json()) as Json[];
    assert.ok(Array.isArray(chunks) && chunks.length >= 2);
    Ideas.parse(JSON.parse(chunks.map((c) => textOf(c)).join('')));
  });

  it('streams what came before a SAFETY stop, then a chunk with finishReason SAFETY and no content', async () => {
    await control('/gemini/behaviour', { mode: 'safety', times: 1 });
    const raw = await (await call(ideasRequest(PROMPT), { task: 'streamGenerateContent', query: '?alt=sse' })).text();
    const chunks = raw
      .split('\r\n\r\n')
      .filter((f) => f.length > 0)
      .map((f) => JSON.parse(f.slice(6)) as Json);
    const last = chunks.at(-1)!;
    assert.equal(last.candidates[0].finishReason, 'SAFETY');
    assert.equal(last.candidates[0].content, undefined);
    assert.ok(last.candidates[0].safetyRatings.some((r: Json) => r.blocked === true));
  });
});

describe('behaviours on demand', () => {
  it('safety: a candidate with finishReason SAFETY and no parts, for `times` requests, then normal', async () => {
    await control('/gemini/behaviour', { mode: 'safety', times: 1 });
    const blocked = (await generate(ideasRequest(PROMPT))).body;
    assert.equal(blocked.candidates[0].finishReason, 'SAFETY');
    assert.equal(blocked.candidates[0].content, undefined);
    const next = (await generate(ideasRequest(PROMPT))).body;
    assert.equal(next.candidates[0].finishReason, 'STOP');
  });

  it('prompt_blocked: promptFeedback.blockReason and no candidates', async () => {
    await control('/gemini/behaviour', { mode: 'prompt_blocked' });
    const { status, body } = await generate(ideasRequest(PROMPT));
    assert.equal(status, 200);
    assert.equal(body.candidates, undefined);
    assert.equal(body.promptFeedback.blockReason, 'SAFETY');
    assert.ok(body.usageMetadata.promptTokenCount > 0);
  });

  it('malformed: text that is not JSON; schema_mismatch: JSON that breaks the schema', async () => {
    await control('/gemini/behaviour', { mode: 'malformed', times: 1 });
    const bad = textOf((await generate(ideasRequest(PROMPT))).body);
    assert.throws(() => JSON.parse(bad));
    await control('/gemini/behaviour', { mode: 'schema_mismatch', times: 1 });
    const wrong = JSON.parse(textOf((await generate(ideasRequest(PROMPT))).body));
    assert.equal(Ideas.safeParse(wrong).success, false);
  });

  it('max_tokens: truncated text with finishReason MAX_TOKENS', async () => {
    await control('/gemini/behaviour', { mode: 'max_tokens', times: 1 });
    const { body } = await generate(ideasRequest(PROMPT));
    assert.equal(body.candidates[0].finishReason, 'MAX_TOKENS');
    assert.throws(() => JSON.parse(textOf(body)));
  });

  it('applies only to the model named, when one is', async () => {
    await control('/gemini/behaviour', { mode: 'safety', times: 1, model: 'gemini-1.5-pro' });
    assert.equal((await generate(ideasRequest(PROMPT))).body.candidates[0].finishReason, 'STOP');
    assert.equal((await generate(ideasRequest(PROMPT), { model: 'gemini-1.5-pro' })).body.candidates[0].finishReason, 'SAFETY');
    assert.equal((await generate(ideasRequest(PROMPT), { model: 'gemini-1.5-pro' })).body.candidates[0].finishReason, 'STOP');
  });

  it('rejects unknown modes and is undone by reset', async () => {
    const r = await fetch(`${base}/_control/gemini/behaviour`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'sometimes' }),
    });
    assert.equal(r.status, 400);
    await control('/gemini/behaviour', { mode: 'safety' });
    await control('/reset', {});
    assert.equal((await generate(ideasRequest(PROMPT))).body.candidates[0].finishReason, 'STOP');
  });
});

describe('errors in the API shape', () => {
  it('needs an API key (header or ?key=), and checks it when keys are configured', async () => {
    const missing = await generate(ideasRequest(PROMPT), { key: null });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.status, 'PERMISSION_DENIED');
    assert.equal(missing.body.error.code, 403);
    assert.equal((await generate(ideasRequest(PROMPT), { key: null, query: '?key=any' })).status, 200);
    await control('/gemini/settings', { apiKeys: ['right-key'] });
    const wrong = await generate(ideasRequest(PROMPT), { key: 'wrong-key' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.details[0].reason, 'API_KEY_INVALID');
    assert.equal((await generate(ideasRequest(PROMPT), { key: 'right-key' })).status, 200);
  });

  it('rejects what the real API rejects, with INVALID_ARGUMENT', async () => {
    const cases: Array<[Json, RegExp]> = [
      [
        {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: {
            responseMimeType: 'application/json',
            responseSchema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
          },
        },
        /Unknown name "additionalProperties" at 'generation_config.response_schema'/,
      ],
      [
        {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'array' } },
        },
        /items: missing field/,
      ],
      [
        { contents: [{ parts: [{ text: 'x' }] }], generationConfig: { responseSchema: { type: 'string' } } },
        /response_schema: only allowed/,
      ],
      [
        {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: {
            responseMimeType: 'application/json',
            responseSchema: { type: 'object', properties: { a: { type: 'string' } }, required: ['b'] },
          },
        },
        /required\[b\]/,
      ],
      [
        {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'map' } },
        },
        /Invalid value at 'generation_config.response_schema.type'/,
      ],
      [{ contents: [] }, /contents is not specified/],
      [{ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, /valid role/],
      [
        { contents: [{ parts: [{ text: 'x' }] }], safetySettings: [{ category: 'HARM_CATEGORY_FUN', threshold: 'BLOCK_NONE' }] },
        /safety_settings\[0\]\.category/,
      ],
      [{ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { temprature: 1 } }, /Unknown name "temprature" at 'generation_config'/],
      [{ prompt: 'x' }, /Unknown name "prompt"/],
    ];
    for (const [body, message] of cases) {
      const r = await generate(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.status, 'INVALID_ARGUMENT');
      assert.match(r.body.error.message, message);
    }
    const unknownModel = await generate(ideasRequest(PROMPT), { model: 'gpt-4o' });
    assert.equal(unknownModel.status, 404);
    assert.equal(unknownModel.body.error.status, 'NOT_FOUND');
  });

  it('answers injected 429 and 500 in the Gemini shape (no legacy errors array)', async () => {
    await control('/faults', { match: { pathPrefix: '/gemini' }, status: 429, times: 1 });
    await control('/faults', { match: { pathPrefix: '/gemini' }, status: 500, times: 1 });
    const limited = await generate(ideasRequest(PROMPT));
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body, {
      error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' },
    });
    const broken = await generate(ideasRequest(PROMPT));
    assert.equal(broken.status, 500);
    assert.deepEqual(broken.body, { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } });
    assert.equal((await generate(ideasRequest(PROMPT))).status, 200);
  });
});

describe('request log', () => {
  it('keeps whole prompts of a few hundred KB, and never the key', async () => {
    const history = Array.from({ length: 4000 }, (_, i) => `Video ${i}: "Sourdough lesson ${i}" had ${1000 + i} views.`).join('\n');
    assert.ok(history.length > 200_000);
    await generate(ideasRequest(history));
    const { requests } = (await (await fetch(`${base}/_control/gemini/requests`)).json()) as Json;
    assert.equal(requests.length, 1);
    const r = requests[0];
    assert.equal(r.model, MODEL);
    assert.equal(r.method, 'generateContent');
    assert.equal(r.prompt, history);
    assert.equal(r.system, 'You are a YouTube strategist. Answer in JSON.');
    assert.equal(r.body.generationConfig.responseSchema.properties.ideas.maxItems, 8);
    assert.equal(r.mode, 'normal');
    assert.equal(r.status, 200);
    assert.doesNotMatch(JSON.stringify(requests), /test-key/);
  });
});
