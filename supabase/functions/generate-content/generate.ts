// One generation, independent of how its caller is answered (JSON or server-sent events): calls
// Gemini, checks the answer against the kind's schema, and decides what to do about failures:
//   invalid output (not JSON, wrong shape, cut off at the token limit) -> one retry, then 502;
//   a safety stop or a blocked prompt                                    -> 422, no retry;
//   429 / 5xx / timeouts / broken streams -> backoff with jitter and retry while the request's
//                                            time budget lasts, then 503 with Retry-After;
//   any other refusal of the request                                      -> 502.
// Every call is returned as a record (with its tokens), the failed ones too, for accounting.
import { callGemini, GeminiCallError, GeminiNotConfigured, type GeminiAnswer } from '../_shared/integrations/gemini/client.ts';
import { HttpError } from '../_shared/platform/http.ts';
import { parseModelOutput, responseSchema, type ContentOutput } from '../_shared/domain/content-kinds.ts';
import type { BuiltPrompt, GenerationBrief } from './prompt.ts';

export const GEMINI_MODEL = 'gemini-2.5-flash';
/** Wall-clock budget of one generation request, retries and backoff included. */
export const GENERATION_BUDGET_MS = 110_000;
const MAX_TRANSIENT_RETRIES = 5;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;
// Finish reasons that mean the model was stopped by a content filter.
const SAFETY_REASONS = new Set(['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'IMAGE_SAFETY']);

export type CallOutcome =
  'ok' | 'invalid_output' | 'max_tokens' | 'safety' | 'blocked' | 'rate_limited' | 'unavailable' | 'rejected' | 'aborted';

export interface CallRecord {
  attempt: number;
  streamed: boolean;
  outcome: CallOutcome;
  input_tokens: number;
  output_tokens: number;
  duration_ms: number;
  error: string | null;
}

export type GenerationEvent =
  | { type: 'progress'; attempt: number; chunks: number; characters: number }
  | { type: 'retry'; attempt: number; reason: string; delay_ms: number };

export interface GenerationRun {
  brief: GenerationBrief;
  prompt: BuiltPrompt;
  stream: boolean;
  signal?: AbortSignal;
  onEvent?: (e: GenerationEvent) => void;
  budgetMs?: number;
  /** Tests and benchmarks replace the wait between retries. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type GenerationResult =
  | { ok: true; output: ContentOutput; model: string; inputTokens: number; outputTokens: number; calls: CallRecord[] }
  | { ok: false; error: HttpError; model: string; calls: CallRecord[] };

function maxOutputTokens(brief: GenerationBrief): number {
  return brief.kind === 'script' ? 8_192 * brief.count : 4_096;
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new GeminiCallError('aborted', 'the request was canceled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new GeminiCallError('aborted', 'the request was canceled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Full jitter: uniform in [base/2, min(max, base·2^(n-1))]. */
function backoff(n: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, n - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function blocked(reason: string): HttpError {
  return new HttpError(422, 'content_blocked', reason, undefined);
}

/** What the attempts of one generation have seen so far. */
interface Attempts {
  deadline: number;
  calls: CallRecord[];
  invalidOutputs: number;
  transientFailures: number;
  lastProblem: string;
}

const clientClosed = () =>
  new HttpError(499, 'client_closed', 'the request was canceled before the generation finished; nothing was saved');

function failure(a: Attempts, error: HttpError): GenerationResult {
  return { ok: false, error, model: GEMINI_MODEL, calls: a.calls };
}

function askGemini(run: GenerationRun, a: Attempts, schema: ReturnType<typeof responseSchema>, attempt: number): Promise<GeminiAnswer> {
  return callGemini({
    model: GEMINI_MODEL,
    system: run.prompt.system,
    // A retry after bad output says so; the same prompt would likely get the same answer.
    prompt:
      a.invalidOutputs === 0
        ? run.prompt.user
        : `${run.prompt.user}\n\nYour previous answer was rejected: ${a.lastProblem}. Answer again with JSON that matches the schema exactly.`,
    schema,
    maxOutputTokens: maxOutputTokens(run.brief),
    temperature: a.invalidOutputs === 0 ? 0.8 : 0.4,
    stream: run.stream,
    timeoutMs: Math.max(1_000, a.deadline - Date.now()),
    signal: run.signal,
    onChunk: (p) => run.onEvent?.({ type: 'progress', attempt, ...p }),
  });
}

/** A call that failed: the error to end with, or the delay before the next attempt. */
function afterCallError(run: GenerationRun, a: Attempts, err: unknown, attempt: number, t0: number): HttpError | number {
  if (err instanceof GeminiNotConfigured) {
    return new HttpError(503, 'generation_unavailable', 'content generation is not configured on this server (GEMINI_API_KEY is missing)');
  }
  const e = err instanceof GeminiCallError ? err : new GeminiCallError('unavailable', String(err));
  a.calls.push({
    attempt,
    streamed: run.stream,
    outcome: e.kind === 'rejected' ? 'rejected' : e.kind,
    input_tokens: 0,
    output_tokens: 0,
    duration_ms: Date.now() - t0,
    error: e.message,
  });
  if (e.kind === 'aborted') return clientClosed();
  if (e.kind === 'rejected') return new HttpError(502, 'model_request_rejected', `Gemini refused the generation request: ${e.message}`);
  a.transientFailures++;
  const delay = Math.max(e.retryAfterMs ?? 0, backoff(a.transientFailures));
  if (a.transientFailures > MAX_TRANSIENT_RETRIES || Date.now() + delay >= a.deadline) {
    return new HttpError(
      503,
      'model_unavailable',
      `Gemini is busy or unreachable (${e.message}); ${a.transientFailures} attempt${a.transientFailures > 1 ? 's' : ''} failed. Nothing was saved; try again in a minute.`,
      undefined,
      { 'Retry-After': '60' },
    );
  }
  run.onEvent?.({ type: 'retry', attempt: attempt + 1, reason: e.message, delay_ms: delay });
  return delay;
}

/** An answer: the result to end with, or null to ask again (once) after unusable output. */
function judgeAnswer(run: GenerationRun, a: Attempts, answer: GeminiAnswer, attempt: number, t0: number): GenerationResult | null {
  const record = (outcome: CallOutcome, error: string | null) =>
    a.calls.push({
      attempt,
      streamed: run.stream,
      outcome,
      input_tokens: answer.inputTokens,
      output_tokens: answer.outputTokens,
      duration_ms: Date.now() - t0,
      error,
    });
  if (answer.blockReason) {
    record('blocked', `prompt blocked: ${answer.blockReason}`);
    return failure(
      a,
      blocked(`Gemini refused the prompt for safety reasons (${answer.blockReason}); rephrase the topic or brief. Nothing was saved.`),
    );
  }
  if (answer.finishReason && SAFETY_REASONS.has(answer.finishReason)) {
    record('safety', `finish reason ${answer.finishReason}`);
    return failure(
      a,
      blocked(`Gemini stopped its answer for safety reasons (${answer.finishReason}); rephrase the topic or brief. Nothing was saved.`),
    );
  }
  const parsed = parseModelOutput(run.brief.kind, run.brief.count, answer.text);
  if (parsed.ok) {
    record('ok', null);
    const inputTokens = a.calls.reduce((n, c) => n + c.input_tokens, 0);
    const outputTokens = a.calls.reduce((n, c) => n + c.output_tokens, 0);
    return { ok: true, output: parsed.output, model: GEMINI_MODEL, inputTokens, outputTokens, calls: a.calls };
  }
  a.lastProblem = answer.finishReason === 'MAX_TOKENS' ? `it was cut off at the output token limit (${parsed.problem})` : parsed.problem;
  record(answer.finishReason === 'MAX_TOKENS' ? 'max_tokens' : 'invalid_output', a.lastProblem);
  a.invalidOutputs++;
  if (a.invalidOutputs > 1) {
    return failure(
      a,
      new HttpError(
        502,
        'invalid_model_output',
        `Gemini's answer was not usable twice in a row (last time ${a.lastProblem}). Nothing was saved; try again.`,
        { attempts: a.calls.length },
      ),
    );
  }
  run.onEvent?.({ type: 'retry', attempt: attempt + 1, reason: a.lastProblem, delay_ms: 0 });
  return null;
}

export async function generate(run: GenerationRun): Promise<GenerationResult> {
  const a: Attempts = {
    deadline: Date.now() + (run.budgetMs ?? GENERATION_BUDGET_MS),
    calls: [],
    invalidOutputs: 0,
    transientFailures: 0,
    lastProblem: '',
  };
  const sleep = run.sleep ?? sleepFor;
  const schema = responseSchema(run.brief.kind, run.brief.count);
  for (let attempt = 1; ; attempt++) {
    const t0 = Date.now();
    let answer: GeminiAnswer;
    try {
      answer = await askGemini(run, a, schema, attempt);
    } catch (err) {
      const next = afterCallError(run, a, err, attempt, t0);
      if (next instanceof HttpError) return failure(a, next);
      try {
        await sleep(next, run.signal);
      } catch {
        return failure(a, clientClosed());
      }
      continue;
    }
    const ended = judgeAnswer(run, a, answer, attempt, t0);
    if (ended) return ended;
  }
}
