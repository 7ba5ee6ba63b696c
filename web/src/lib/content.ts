// Generated content as the Studio uses it: streamed generation (generate-content with
// `Accept: text/event-stream`), and the content function's list / get / versions / edit / submit /
// approve / reject. functions-js's invoke does not stream, so generation reads the response body
// itself with the same auth headers (see `streamGeneration`).
import * as z from 'zod/mini';
import { callFunction, newRequestId, segment, type FunctionsInvoker } from './api.ts';
import { ApiError, apiErrorFromResponse, networkError } from './api-error.ts';
import { roleAtLeast, type Role } from './roles.ts';
import { CONTENT_KINDS, type ContentKind, type ContentStatus } from '../../../supabase/functions/_shared/contracts/content.ts';

export { CONTENT_KINDS, type ContentKind, type ContentStatus };
export const GENERATABLE_KINDS = ['idea', 'title', 'script', 'description'] as const satisfies readonly ContentKind[];

export const KIND_LABELS: Record<ContentKind, string> = {
  idea: 'Ideas',
  title: 'Titles',
  script: 'Script',
  description: 'Descriptions',
  tags: 'Tags',
  thumbnail_prompt: 'Thumbnail prompts',
};

export const STATUS_LABELS: Record<ContentStatus, string> = {
  draft: 'Draft',
  in_review: 'In review',
  approved: 'Approved',
  rejected: 'Rejected',
};
export function contentStatusLabel(status: string): string {
  return (STATUS_LABELS as Record<string, string>)[status] ?? status;
}

/** The fields of one item per kind, mirroring the backend's kinds.ts (what an edit must keep). */
export type FieldType = 'text' | 'long_text' | 'seconds' | 'list';
export interface FieldSpec {
  name: string;
  label: string;
  type: FieldType;
  max?: number;
}
const f = (name: string, label: string, type: FieldType, max?: number): FieldSpec => ({ name, label, type, max });
export const KIND_FIELDS: Record<ContentKind, FieldSpec[]> = {
  idea: [
    f('title', 'Title', 'text', 100),
    f('hook', 'Hook', 'long_text', 500),
    f('summary', 'Summary', 'long_text', 1500),
    f('why_it_fits', 'Why it fits', 'long_text', 800),
  ],
  title: [f('title', 'Title', 'text', 100), f('reason', 'Reason', 'long_text', 800)],
  script: [
    f('title', 'Title', 'text', 100),
    f('hook', 'Hook', 'long_text', 600),
    f('script', 'Script', 'long_text', 30_000),
    f('call_to_action', 'Call to action', 'long_text', 400),
    f('estimated_duration_seconds', 'Estimated duration (seconds)', 'seconds'),
  ],
  description: [f('description', 'Description', 'long_text', 5000), f('hashtags', 'Hashtags (comma-separated)', 'list')],
  tags: [f('tags', 'Tags (comma-separated)', 'list'), f('rationale', 'Rationale', 'long_text', 800)],
  thumbnail_prompt: [
    f('prompt', 'Prompt', 'long_text', 1500),
    f('text_overlay', 'Text overlay', 'text', 60),
    f('rationale', 'Rationale', 'long_text', 800),
  ],
};

const Item = z.record(z.string(), z.unknown());
export const Output = z.object({ items: z.array(Item) });

export const Content = z.object({
  id: z.string(),
  workspace_id: z.string(),
  kind: z.string(),
  status: z.string(),
  current_version: z.number(),
  approved_version: z.nullable(z.number()),
  output: Output,
  brief: z.record(z.string(), z.unknown()),
  model: z.nullable(z.string()),
  rejection_reason: z.nullable(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Content = z.infer<typeof Content>;

export const Transition = z.object({
  action: z.string(),
  from_status: z.nullable(z.string()),
  to_status: z.string(),
  version: z.number(),
  reason: z.nullable(z.string()),
  actor: z.nullable(z.string()),
  at: z.string(),
});
export type Transition = z.infer<typeof Transition>;

export const Version = z.object({
  version: z.number(),
  output: Output,
  note: z.nullable(z.string()),
  created_by: z.nullable(z.string()),
  created_at: z.string(),
});
export type Version = z.infer<typeof Version>;

// ── Server-sent events ──────────────────────────────────────────────────────────────────────────

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Splits a text/event-stream into events as chunks arrive (a frame may be cut anywhere, even in
 * a CRLF). Comments (`: keep-alive`) are skipped; multi-line data is joined with newlines, as the
 * EventSource specification says.
 */
export function createSseParser(onEvent: (e: SseEvent) => void) {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const dispatch = () => {
    if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n') });
    event = '';
    data = [];
  };
  const line = (raw: string) => {
    if (raw === '') return dispatch();
    if (raw.startsWith(':')) return;
    const colon = raw.indexOf(':');
    const field = colon === -1 ? raw : raw.slice(0, colon);
    let value = colon === -1 ? '' : raw.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  return {
    push(chunk: string) {
      buffer += chunk;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        if (!m) break;
        // A lone CR at the end may be the first half of a CRLF: wait for the next chunk.
        if (m[0] === '\r' && m.index === buffer.length - 1) break;
        line(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
      }
    },
    /** The stream ended: an unterminated last event is dropped, as EventSource does. */
    end() {
      buffer = '';
      event = '';
      data = [];
    },
  };
}

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

// ── The content function ────────────────────────────────────────────────────────────────────────

export async function listContent(
  client: FunctionsInvoker,
  workspaceId: string,
  opts: { status?: ContentStatus; kind?: ContentKind } = {},
) {
  const r = await callFunction(client, 'content', {
    query: { workspace_id: workspaceId, status: opts.status, kind: opts.kind, limit: '50' },
    schema: z.object({ content: z.array(Content) }),
  });
  return r.content;
}

export async function getContent(client: FunctionsInvoker, id: string) {
  return await callFunction(client, `content/${segment(id)}`, { schema: z.object({ content: Content, transitions: z.array(Transition) }) });
}

export async function listVersions(client: FunctionsInvoker, id: string) {
  const r = await callFunction(client, `content/${segment(id)}/versions`, { schema: z.object({ versions: z.array(Version) }) });
  return r.versions;
}

export async function saveVersion(client: FunctionsInvoker, id: string, output: { items: Record<string, unknown>[] }, note?: string) {
  return await callFunction(client, `content/${segment(id)}/versions`, {
    method: 'POST',
    body: { output, ...(note ? { note } : {}) },
    schema: z.object({ content: Content, version: Version }),
  });
}

export type ReviewAction = 'submit' | 'approve' | 'reject';

export async function review(client: FunctionsInvoker, id: string, action: ReviewAction, reason?: string) {
  const r = await callFunction(client, `content/${segment(id)}/${action}`, {
    method: 'POST',
    body: action === 'reject' ? { reason: reason ?? '' } : {},
    schema: z.object({ content: Content }),
  });
  return r.content;
}

// ── What the UI offers ──────────────────────────────────────────────────────────────────────────

export interface ContentActions {
  edit: boolean;
  submit: boolean;
  approve: boolean;
  reject: boolean;
}

/** The same rules the content function enforces: editors and owners edit and review. */
export function contentActions(status: string, role: Role): ContentActions {
  const editor = roleAtLeast(role, 'editor');
  return {
    edit: editor,
    submit: editor && (status === 'draft' || status === 'rejected'),
    approve: editor && status === 'in_review',
    reject: editor && status === 'in_review',
  };
}

export function canGenerate(role: Role): boolean {
  return roleAtLeast(role, 'editor');
}

/** A rejection needs a reason of 3 to 1000 characters (the function's rule); null when fine. */
export function rejectReasonProblem(reason: string): string | null {
  const t = reason.trim();
  if (t.length < 3) return 'Give a reason of at least 3 characters.';
  if (t.length > 1000) return 'Keep the reason under 1000 characters.';
  return null;
}

/** An item's field as the editor shows it (lists as "a, b, c"). */
export function fieldToText(value: unknown, type: FieldType): string {
  if (type === 'list') return Array.isArray(value) ? value.join(', ') : '';
  if (value === null || value === undefined) return '';
  return String(value);
}

/** The editor's text back to the field's value; a problem for a number that is not one. */
export function textToField(text: string, type: FieldType): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (type === 'list')
    return {
      ok: true,
      value: text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
  if (type === 'seconds') {
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 5 || n > 3600) return { ok: false, problem: 'must be a whole number of seconds between 5 and 3600' };
    return { ok: true, value: n };
  }
  return { ok: true, value: text };
}

/** A one-line summary of an item for lists ("title" or the first text field). */
export function itemHeadline(kind: string, item: Record<string, unknown>): string {
  const fields = KIND_FIELDS[kind as ContentKind] ?? [];
  for (const spec of fields) {
    const v = item[spec.name];
    if (typeof v === 'string' && v.trim()) return v.trim().length > 90 ? `${v.trim().slice(0, 89)}…` : v.trim();
  }
  return '(empty)';
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
