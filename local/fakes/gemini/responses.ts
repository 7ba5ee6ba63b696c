// GenerateContentResponse bodies: one for generateContent, a sequence of chunks for
// streamGenerateContent (the JSON text split across chunks, so clients must concatenate, with
// finishReason and usageMetadata on the last one), shaped per the behaviour in force.
import { hashString, Prng } from '../core/random.ts';
import { generateText, malformedText, schemaMismatchText, type GenerationInput } from './generate.ts';
import { mediaPartsOf, textOf, type GenerateRequest } from './request.ts';
import type { GeminiMode } from './state.ts';

type FinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY';

interface CandidateOutcome {
  text: string; // what the model emitted (for SAFETY: what it emitted before it was stopped)
  finishReason: FinishReason;
}

export interface Outcome {
  model: string;
  responseId: string;
  promptTokens: number;
  blocked: boolean;
  candidates: CandidateOutcome[];
}

// Gemini bills an image as 258 tokens; text is roughly four characters a token.
const TOKENS_PER_MEDIA_PART = 258;

export function tokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

export function promptTokens(contents: GenerateRequest['contents'], system?: GenerateRequest['systemInstruction']): number {
  const all = system ? [...contents, system] : contents;
  return tokenCount(textOf(all)) + TOKENS_PER_MEDIA_PART * mediaPartsOf(all);
}

export function decide(req: GenerateRequest, model: string, mode: GeminiMode): Outcome {
  const prompt = textOf(req.contents);
  const system = req.systemInstruction ? textOf([req.systemInstruction]) : '';
  const cfg = req.generationConfig ?? {};
  const base = {
    model,
    responseId: new Prng(hashString(`${model}|${prompt}|${system}`)).chars(
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
      22,
    ),
  };
  const promptTokenCount = promptTokens(req.contents, req.systemInstruction);
  if (mode === 'prompt_blocked') return { ...base, promptTokens: promptTokenCount, blocked: true, candidates: [] };

  const candidates: CandidateOutcome[] = [];
  for (let i = 0; i < (cfg.candidateCount ?? 1); i++) {
    const input: GenerationInput = { model, prompt, system, schema: cfg.responseSchema, mimeType: cfg.responseMimeType, candidate: i };
    let text = mode === 'malformed' ? malformedText(input) : mode === 'schema_mismatch' ? schemaMismatchText(input) : generateText(input);
    let finishReason: FinishReason = 'STOP';
    for (const stop of cfg.stopSequences ?? []) {
      const at = stop ? text.indexOf(stop) : -1;
      if (at >= 0) text = text.slice(0, at);
    }
    if (mode === 'max_tokens') {
      text = text.slice(0, Math.floor(text.length / 2));
      finishReason = 'MAX_TOKENS';
    } else if (cfg.maxOutputTokens !== undefined && tokenCount(text) > cfg.maxOutputTokens) {
      text = text.slice(0, cfg.maxOutputTokens * 4);
      finishReason = 'MAX_TOKENS';
    }
    if (mode === 'safety') {
      // The model was stopped part-way: a stream shows the start, a unary answer shows nothing.
      text = text.slice(0, Math.floor(text.length / 3));
      finishReason = 'SAFETY';
    }
    candidates.push({ text, finishReason });
  }
  return { ...base, promptTokens: promptTokenCount, blocked: false, candidates };
}

const CATEGORIES = [
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
];

function safetyRatings(blocked: boolean) {
  return CATEGORIES.map((category) =>
    blocked && category === 'HARM_CATEGORY_DANGEROUS_CONTENT'
      ? { category, probability: 'HIGH', blocked: true }
      : { category, probability: 'NEGLIGIBLE' },
  );
}

function usage(o: Outcome, emitted: number) {
  return {
    promptTokenCount: o.promptTokens,
    ...(o.blocked ? {} : { candidatesTokenCount: emitted }),
    totalTokenCount: o.promptTokens + emitted,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: o.promptTokens }],
  };
}

function blockedBody(o: Outcome) {
  return {
    promptFeedback: { blockReason: 'SAFETY', safetyRatings: safetyRatings(true) },
    usageMetadata: usage(o, 0),
    modelVersion: o.model,
    responseId: o.responseId,
  };
}

/** The generateContent answer. */
export function unaryBody(o: Outcome) {
  if (o.blocked) return blockedBody(o);
  let emitted = 0;
  const candidates = o.candidates.map((c, index) => {
    if (c.finishReason === 'SAFETY') return { finishReason: 'SAFETY', index, safetyRatings: safetyRatings(true) };
    emitted += tokenCount(c.text);
    return {
      content: { parts: [{ text: c.text }], role: 'model' },
      finishReason: c.finishReason,
      index,
      safetyRatings: safetyRatings(false),
    };
  });
  return { candidates, usageMetadata: usage(o, emitted), modelVersion: o.model, responseId: o.responseId };
}

// Roughly how much text one streamed chunk carries.
const CHUNK_CHARS = 160;
const MAX_CHUNKS = 60;

/** Split points for a text into `k` pieces, jittered but deterministic, never inside a surrogate pair. */
function split(text: string, k: number, rng: Prng): string[] {
  if (k <= 1) return [text];
  const cuts: number[] = [];
  for (let i = 1; i < k; i++) {
    let at = Math.round((text.length * (i + rng.between(-0.3, 0.3))) / k);
    at = Math.min(text.length, Math.max(cuts.at(-1) ?? 0, at));
    const code = text.charCodeAt(at - 1);
    if (code >= 0xd800 && code <= 0xdbff) at++;
    cuts.push(at);
  }
  const pieces: string[] = [];
  let from = 0;
  for (const at of [...cuts, text.length]) {
    pieces.push(text.slice(from, at));
    from = at;
  }
  return pieces;
}

/** The streamGenerateContent chunks. */
export function streamBodies(o: Outcome): unknown[] {
  if (o.blocked) return [blockedBody(o)];
  const rng = new Prng(hashString(o.responseId));
  const longest = Math.max(0, ...o.candidates.map((c) => c.text.length));
  const k = longest < 2 ? 1 : Math.min(MAX_CHUNKS, Math.max(2, Math.ceil(longest / CHUNK_CHARS)));
  const pieces = o.candidates.map((c) => split(c.text, k, rng));
  const safety = o.candidates.some((c) => c.finishReason === 'SAFETY');
  const emitted = o.candidates.reduce((n, c) => n + tokenCount(c.text), 0);
  const meta = { modelVersion: o.model, responseId: o.responseId };

  const chunks: Array<Record<string, unknown>> = [];
  for (let f = 0; f < k; f++) {
    const last = f === k - 1 && !safety;
    const candidates = o.candidates.map((c, index) => {
      const cand: Record<string, unknown> = { content: { parts: [{ text: pieces[index]![f]! }], role: 'model' }, index };
      if (last) Object.assign(cand, { finishReason: c.finishReason, safetyRatings: safetyRatings(false) });
      return cand;
    });
    chunks.push({ candidates, ...(last ? { usageMetadata: usage(o, emitted) } : {}), ...meta });
  }
  if (safety) {
    chunks.push({
      candidates: o.candidates.map((_c, index) => ({ finishReason: 'SAFETY', index, safetyRatings: safetyRatings(true) })),
      usageMetadata: usage(o, emitted),
      ...meta,
    });
  }
  return chunks;
}
