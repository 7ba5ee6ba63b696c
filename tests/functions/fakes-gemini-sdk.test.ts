// The fake Gemini against the real client: `@google/generative-ai` (the version the functions
// use) with its baseUrl pointed at the running stack's fake. Needs GEMINI_API_BASE and
// LOCAL_FAKES_URL from the stack's env. Behaviours and faults are scoped to this file's own
// model name, so other suites sharing the stack are not affected.
import {
  GoogleGenerativeAI,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIResponseError,
  SchemaType,
  type ResponseSchema,
} from '@google/generative-ai';
import { assertEquals, assertMatch, assertOk } from './assert.ts';

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run these tests against a running stack (tests/run.ts sets it)`);
  return value;
}

const MODEL = 'gemini-2.0-flash-sdk-conformance';
const schema: ResponseSchema = {
  type: SchemaType.OBJECT,
  properties: {
    ideas: {
      type: SchemaType.ARRAY,
      minItems: 1,
      maxItems: 6,
      items: {
        type: SchemaType.OBJECT,
        properties: {
          title: { type: SchemaType.STRING },
          script: { type: SchemaType.STRING },
          format: { type: SchemaType.STRING, format: 'enum', enum: ['short', 'long_form'] },
          tags: { type: SchemaType.ARRAY, items: { type: SchemaType.STRING } },
        },
        required: ['title', 'script', 'format', 'tags'],
      },
    },
  },
  required: ['ideas'],
};
const PROMPT = 'Write 4 ideas for videos about cast iron pans. Top performer: "Cast iron care in 60 seconds" (88,000 views).';

function model() {
  const genAI = new GoogleGenerativeAI(Deno.env.get('GEMINI_API_KEY') ?? 'local-gemini-key');
  return genAI.getGenerativeModel(
    {
      model: MODEL,
      systemInstruction: 'You write YouTube content plans as JSON.',
      generationConfig: { responseMimeType: 'application/json', responseSchema: schema, temperature: 0.8 },
    },
    { baseUrl: required('GEMINI_API_BASE') },
  );
}

async function control(path: string, body: unknown) {
  const res = await fetch(`${required('LOCAL_FAKES_URL')}/_control${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

interface Idea {
  title: string;
  script: string;
  format: string;
  tags: string[];
}

function checkIdeas(text: string) {
  const parsed = JSON.parse(text) as { ideas: Idea[] };
  assertEquals(parsed.ideas.length, 4);
  for (const idea of parsed.ideas) {
    assertOk(idea.title.length > 0 && idea.title.length <= 100, idea.title);
    assertOk(idea.script.length > 0);
    assertOk(['short', 'long_form'].includes(idea.format), idea.format);
    assertOk(Array.isArray(idea.tags) && idea.tags.length > 0);
  }
  assertMatch(text, /cast iron/i);
}

Deno.test('generateContent: the SDK gets JSON that parses and matches the response schema', async () => {
  const result = await model().generateContent(PROMPT);
  checkIdeas(result.response.text());
  const usage = result.response.usageMetadata!;
  assertOk(usage.promptTokenCount > 0 && usage.candidatesTokenCount > 0);
  assertEquals(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);
});

Deno.test('generateContentStream: several chunks the SDK concatenates into the same JSON', async () => {
  const unary = (await model().generateContent(PROMPT)).response.text();
  const result = await model().generateContentStream(PROMPT);
  const pieces: string[] = [];
  for await (const chunk of result.stream) pieces.push(chunk.text());
  assertOk(pieces.length >= 2, `only ${pieces.length} chunk(s)`);
  const streamed = pieces.join('');
  assertEquals(streamed, unary);
  checkIdeas(streamed);
  const aggregated = await result.response;
  assertEquals(aggregated.text(), unary);
  assertEquals(aggregated.candidates?.[0]?.finishReason, 'STOP');
});

Deno.test('finishReason SAFETY makes the SDK throw its response error', async () => {
  await control('/gemini/behaviour', { mode: 'safety', times: 1, model: MODEL });
  const result = await model().generateContent(PROMPT);
  let error: unknown;
  try {
    result.response.text();
  } catch (err) {
    error = err;
  }
  assertOk(error instanceof GoogleGenerativeAIResponseError, `expected a response error, got ${error}`);
  assertMatch((error as Error).message, /Candidate was blocked due to SAFETY/);
});

Deno.test('a blocked prompt makes the SDK throw, naming the block reason', async () => {
  await control('/gemini/behaviour', { mode: 'prompt_blocked', times: 1, model: MODEL });
  const result = await model().generateContent(PROMPT);
  let error: unknown;
  try {
    result.response.text();
  } catch (err) {
    error = err;
  }
  assertOk(error instanceof GoogleGenerativeAIResponseError);
  assertMatch((error as Error).message, /blocked due to SAFETY/);
});

Deno.test('an injected 429 reaches the SDK as a fetch error with status and Google message', async () => {
  const { id } = await control('/faults', { match: { pathPrefix: `/gemini/v1beta/models/${MODEL}:` }, status: 429, times: 1 });
  try {
    let error: unknown;
    try {
      await model().generateContent(PROMPT);
    } catch (err) {
      error = err;
    }
    assertOk(error instanceof GoogleGenerativeAIFetchError, `expected a fetch error, got ${error}`);
    assertEquals(error.status, 429);
    assertMatch(error.message, /Resource has been exhausted/);
  } finally {
    await fetch(`${required('LOCAL_FAKES_URL')}/_control/faults/${id}`, { method: 'DELETE' }).then((r) => r.body?.cancel());
  }
});
