// One call to Gemini through `@google/generative-ai` (base URL from GEMINI_API_BASE), unary or
// streamed, asking for JSON with a response schema. The answer comes back as plain facts (text,
// finish reason, block reason, tokens) read from the candidates directly, because the SDK's
// text() throws on the very outcomes callers must tell apart. Failures become GeminiCallError
// with a kind that says whether trying again can help.
import {
  GoogleGenerativeAI,
  GoogleGenerativeAIAbortError,
  GoogleGenerativeAIFetchError,
  type GenerateContentResponse,
  type Schema,
} from '@google/generative-ai';
import { env } from '../../platform/env.ts';

export interface GeminiCall {
  model: string;
  system: string;
  prompt: string;
  schema: Schema;
  maxOutputTokens: number;
  temperature: number;
  stream: boolean;
  /** Per call; the answer (every chunk of it) must arrive within this. */
  timeoutMs: number;
  /** The caller went away: stop at once. */
  signal?: AbortSignal;
  /** Streamed calls: after every chunk, with the totals so far. */
  onChunk?: (progress: { chunks: number; characters: number }) => void;
}

export interface GeminiAnswer {
  text: string;
  /** STOP, MAX_TOKENS, SAFETY, RECITATION, ...; null when the model sent none */
  finishReason: string | null;
  /** promptFeedback.blockReason: the prompt itself was refused */
  blockReason: string | null;
  inputTokens: number;
  outputTokens: number;
  chunks: number;
}

/**
 * rate_limited / unavailable: worth retrying (429; 5xx, timeouts, broken connections or streams)
 * rejected: the API refused the request (4xx other than 429): retrying the same request fails again
 * aborted: the caller's signal fired
 */
export type GeminiFailure = 'rate_limited' | 'unavailable' | 'rejected' | 'aborted';

export class GeminiCallError extends Error {
  constructor(
    readonly kind: GeminiFailure,
    message: string,
    readonly status?: number,
    /** From the error's RetryInfo, when Google said how long to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'GeminiCallError';
  }

  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'unavailable';
  }
}

export class GeminiNotConfigured extends Error {
  constructor() {
    super('GEMINI_API_KEY is not set');
    this.name = 'GeminiNotConfigured';
  }
}

let client: { key: string; sdk: GoogleGenerativeAI } | undefined;

function sdk(): GoogleGenerativeAI {
  const key = env().GEMINI_API_KEY;
  if (!key) throw new GeminiNotConfigured();
  if (client?.key !== key) client = { key, sdk: new GoogleGenerativeAI(key) };
  return client.sdk;
}

/** "7s" / "1.5s" of a google.rpc.RetryInfo, in ms. */
function retryDelayOf(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    const delay = (d as { retryDelay?: unknown })?.retryDelay;
    const m = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
    if (m) return Math.round(Number(m[1]) * 1000);
  }
  return undefined;
}

function classify(err: unknown, callerAborted: boolean, timeoutMs: number): GeminiCallError {
  if (err instanceof GeminiCallError) return err;
  if (callerAborted) return new GeminiCallError('aborted', 'the request was canceled');
  if (err instanceof GoogleGenerativeAIFetchError) {
    const status = err.status ?? 0;
    const detail = `Gemini answered ${status || 'an error'}${err.statusText ? ` ${err.statusText}` : ''}`;
    if (status === 429) return new GeminiCallError('rate_limited', detail, status, retryDelayOf(err.errorDetails));
    if (status === 408 || status >= 500 || status === 0)
      return new GeminiCallError('unavailable', detail, status, retryDelayOf(err.errorDetails));
    return new GeminiCallError('rejected', `${detail}: ${err.message.replace(/^\[GoogleGenerativeAI Error\]: /, '')}`, status);
  }
  if (err instanceof GoogleGenerativeAIAbortError || (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))) {
    return new GeminiCallError('unavailable', `Gemini did not answer within ${timeoutMs} ms`);
  }
  // Network failures and streams that broke off or could not be parsed.
  const message = err instanceof Error ? err.message.replace(/^\[GoogleGenerativeAI Error\]: /, '') : String(err);
  return new GeminiCallError('unavailable', `Gemini call failed: ${message}`);
}

function candidateText(response: GenerateContentResponse): string {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  return parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

export async function callGemini(call: GeminiCall): Promise<GeminiAnswer> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  const model = sdk().getGenerativeModel(
    {
      model: call.model,
      systemInstruction: call.system,
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: call.schema,
        maxOutputTokens: call.maxOutputTokens,
        temperature: call.temperature,
      },
    },
    { baseUrl: env().GEMINI_API_BASE },
  );
  const request = { contents: [{ role: 'user', parts: [{ text: call.prompt }] }] };
  const answer: GeminiAnswer = { text: '', finishReason: null, blockReason: null, inputTokens: 0, outputTokens: 0, chunks: 0 };
  const absorb = (r: GenerateContentResponse) => {
    const candidate = r.candidates?.[0];
    if (candidate?.finishReason) answer.finishReason = candidate.finishReason;
    if (r.promptFeedback?.blockReason) answer.blockReason = r.promptFeedback.blockReason;
    if (r.usageMetadata) {
      answer.inputTokens = r.usageMetadata.promptTokenCount ?? answer.inputTokens;
      answer.outputTokens = r.usageMetadata.candidatesTokenCount ?? answer.outputTokens;
    }
  };
  try {
    if (!call.stream) {
      const { response } = await model.generateContent(request, { signal });
      absorb(response);
      answer.text = candidateText(response);
      answer.chunks = 1;
      return answer;
    }
    const result = await model.generateContentStream(request, { signal });
    // The SDK also aggregates the stream into result.response; nobody awaits it here, so its
    // rejection (when the stream breaks) must not surface as an unhandled one.
    result.response.catch(() => {});
    for await (const chunk of result.stream) {
      absorb(chunk);
      answer.text += candidateText(chunk);
      answer.chunks++;
      call.onChunk?.({ chunks: answer.chunks, characters: answer.text.length });
    }
    return answer;
  } catch (err) {
    throw classify(err, call.signal?.aborted ?? false, call.timeoutMs);
  }
}
