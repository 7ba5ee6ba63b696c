// Streamed generation: generate-content called with `Accept: text/event-stream`. functions-js's
// invoke does not stream, so this reads the response body itself with the same auth headers (see
// `streamTransport`).
import * as z from 'zod/mini';
import { newRequestId } from '../api.ts';
import { ApiError, apiErrorFromResponse, networkError } from '../api-error.ts';
import { Content } from './api.ts';
import type { ContentKind } from './kinds.ts';
import { createSseParser, type SseEvent } from './sse.ts';

const Started = z.object({ model: z.string(), prompt_version: z.string(), source_videos: z.number() });
const Progress = z.object({ attempt: z.number(), chunks: z.number(), characters: z.number() });
const Retry = z.object({ attempt: z.number(), reason: z.string(), delay_ms: z.number() });
const Done = z.object({ content: Content });
const ErrorEvent = z.object({
  status: z.number(),
  error: z.object({ code: z.string(), message: z.string(), request_id: z.optional(z.string()), details: z.optional(z.unknown()) }),
});

export type GenerationEvent =
  | ({ type: 'started' } & z.infer<typeof Started>)
  | ({ type: 'progress' } & z.infer<typeof Progress>)
  | ({ type: 'retry' } & z.infer<typeof Retry>);

/** One SSE event of generate-content, checked; unknown events are ignored (null). */
export function parseGenerationEvent(
  e: SseEvent,
): GenerationEvent | { type: 'done'; content: Content } | { type: 'error'; error: ApiError } | null {
  let data: unknown;
  try {
    data = JSON.parse(e.data);
  } catch {
    return null;
  }
  const schemas = { started: Started, progress: Progress, retry: Retry } as const;
  if (e.event in schemas) {
    const parsed = schemas[e.event as keyof typeof schemas].safeParse(data);
    return parsed.success ? ({ type: e.event, ...parsed.data } as GenerationEvent) : null;
  }
  if (e.event === 'done') {
    const parsed = Done.safeParse(data);
    return parsed.success ? { type: 'done', content: parsed.data.content } : null;
  }
  if (e.event === 'error') {
    const parsed = ErrorEvent.safeParse(data);
    if (!parsed.success) return null;
    const { status, error } = parsed.data;
    return {
      type: 'error',
      error: new ApiError({
        status,
        code: error.code,
        message: error.message,
        requestId: error.request_id ?? null,
        details: error.details,
      }),
    };
  }
  return null;
}

export interface GenerationRequest {
  workspace_id: string;
  kind: ContentKind;
  topic?: string;
  brief?: string;
  tone?: string;
  language?: string;
  target_format?: 'short' | 'long_form';
  count?: number;
}

export interface StreamTransport {
  /** `${supabaseUrl}/functions/v1` */
  functionsUrl: string;
  /** A fetch that adds apikey and Authorization (fetchWithAuth). */
  fetch: typeof fetch;
}

/**
 * Generates content, reporting each started/progress/retry event, and resolves with the saved
 * content. Rejects with an ApiError carrying the API's message and request id: from a plain JSON
 * error answer (before the stream started), an `error` event, or a stream that ended without
 * `done`.
 */
export async function streamGeneration(
  transport: StreamTransport,
  body: GenerationRequest,
  onEvent: (e: GenerationEvent) => void,
  signal?: AbortSignal,
): Promise<Content> {
  const requestId = newRequestId();
  let res: Response;
  try {
    res = await transport.fetch(`${transport.functionsUrl}/generate-content`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if ((err as { name?: string }).name === 'AbortError') throw err;
    throw networkError(requestId);
  }
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('text/event-stream') || !res.body) {
    if (!res.ok) throw await apiErrorFromResponse(res, requestId);
    throw new ApiError({
      status: res.status,
      code: 'unexpected_response',
      message: 'The server did not answer with an event stream.',
      requestId,
    });
  }
  let outcome: { content: Content } | { error: ApiError } | null = null;
  const parser = createSseParser((raw) => {
    if (outcome) return;
    const e = parseGenerationEvent(raw);
    if (!e) return;
    if (e.type === 'done') outcome = { content: e.content };
    else if (e.type === 'error')
      outcome = {
        error: e.error.requestId
          ? e.error
          : new ApiError({ status: e.error.status, code: e.error.code, message: e.error.message, requestId, details: e.error.details }),
      };
    else onEvent(e);
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
      if (outcome) break;
    }
  } catch (err) {
    if ((err as { name?: string }).name === 'AbortError') throw err;
    throw networkError(requestId);
  } finally {
    parser.end();
    void reader.cancel().catch(() => {});
  }
  const o = outcome as { content: Content } | { error: ApiError } | null;
  if (!o) {
    throw new ApiError({
      status: null,
      code: 'stream_ended',
      message: 'The generation stream ended before the content was saved. Nothing was saved; try again.',
      requestId,
    });
  }
  if ('error' in o) throw o.error;
  return o.content;
}

/** "Writing… 9 chunks, 1,434 characters" from the latest progress event. */
export function progressLabel(e: GenerationEvent | null, locale = 'en'): string {
  if (!e) return 'Sending the request…';
  const n = new Intl.NumberFormat(locale);
  if (e.type === 'started')
    return `Started with ${e.model}${e.source_videos ? `, learning from ${n.format(e.source_videos)} videos` : ''}…`;
  if (e.type === 'retry') return `Attempt ${e.attempt} had a problem (${e.reason}); retrying in ${Math.round(e.delay_ms / 100) / 10} s…`;
  return `Writing… attempt ${e.attempt}: ${n.format(e.chunks)} ${e.chunks === 1 ? 'chunk' : 'chunks'}, ${n.format(e.characters)} characters`;
}

/** The transport for streaming calls: the same URL and headers functions-js uses. */
export function streamTransport(
  config: { supabaseUrl: string; supabaseAnonKey: string },
  accessToken: () => Promise<string | null>,
  baseFetch: typeof fetch,
  withAuth: (anonKey: string, token: () => Promise<string | null>, f: typeof fetch) => typeof fetch,
): StreamTransport {
  const base = new URL(config.supabaseUrl.endsWith('/') ? config.supabaseUrl : `${config.supabaseUrl}/`);
  return { functionsUrl: new URL('functions/v1', base).href, fetch: withAuth(config.supabaseAnonKey, accessToken, baseFetch) };
}
