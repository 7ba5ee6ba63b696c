// RevID's public API (v2), base URL from REVID_API_BASE, key in the `key` header:
//   POST /api/public/v2/render  { webhook?, creationParams: {...}, resolution?, frameRate? } -> { pid }
//   GET  /api/public/v2/status?pid=   -> { status, progress?, videoUrl?, thumbnailUrl?, duration?, ... }
// RevID publishes no reference for these; the shapes follow public client code,
// so answers are read leniently (unknown fields ignored, several spellings of a status accepted)
// and an answer we cannot read is treated as "no news", never as a result. There is no cancel
// call we know of.
import { z } from 'zod';
import { env } from '../../platform/env.ts';

export type RevidFailure = 'transient' | 'permanent';

export class RevidError extends Error {
  constructor(
    readonly kind: RevidFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RevidError';
  }
}

const TIMEOUT_MS = 15_000;

export interface RenderRequest {
  webhook: string;
  creationParams: Record<string, unknown> & { inputText: string };
  resolution?: string;
  frameRate?: number;
}

/** Our view of a RevID job status. */
export type ProviderStatus = 'submitted' | 'rendering' | 'ready' | 'failed' | 'canceled';

export interface StatusReport {
  status: ProviderStatus;
  progress: number | null;
  videoUrl: string | null;
  thumbnailUrl: string | null;
  durationSeconds: number | null;
  credits: number | null;
  error: string | null;
  pid: string | null;
}

const num = z
  .preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().finite())
  .optional()
  .catch(undefined);
const str = z.string().min(1).optional().catch(undefined);

// Whatever RevID (or its webhook) sends about a job; only these fields are read.
export const RevidStatusPayload = z.looseObject({
  pid: str,
  status: str,
  progress: num,
  videoUrl: str,
  video_url: str,
  thumbnailUrl: str,
  thumbnail_url: str,
  duration: num,
  creditsUsed: num,
  credits: num,
  error: z.unknown().optional(),
  message: z.unknown().optional(),
});

/** RevID's status words as ours; null for a word we do not know (then it is no news). */
export function mapStatus(word: string | undefined): ProviderStatus | null {
  switch ((word ?? '').trim().toLowerCase()) {
    case 'queued':
    case 'pending':
    case 'waiting':
    case 'submitted':
      return 'submitted';
    case 'rendering':
    case 'processing':
    case 'generating':
    case 'in_progress':
    case 'running':
      return 'rendering';
    case 'ready':
    case 'done':
    case 'completed':
    case 'complete':
    case 'success':
    case 'succeeded':
      return 'ready';
    case 'error':
    case 'failed':
    case 'failure':
      return 'failed';
    case 'canceled':
    case 'cancelled':
      return 'canceled';
    default:
      return null;
  }
}

function textOf(v: unknown): string | null {
  if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, 1_000);
  if (v && typeof v === 'object') {
    const m = (v as { message?: unknown }).message;
    if (typeof m === 'string' && m.trim() !== '') return m.trim().slice(0, 1_000);
    return JSON.stringify(v).slice(0, 1_000);
  }
  return null;
}

/** A status report from a status answer or a webhook body; null when it says nothing we can use. */
export function readStatus(raw: unknown): StatusReport | null {
  const parsed = RevidStatusPayload.safeParse(raw);
  if (!parsed.success) return null;
  const p = parsed.data;
  const status = mapStatus(p.status);
  if (!status) return null;
  const videoUrl = p.videoUrl ?? p.video_url ?? null;
  // "ready" without a video is not a result we can show; wait for a better answer.
  if (status === 'ready' && !videoUrl) return null;
  return {
    status,
    progress: p.progress === undefined ? null : Math.max(0, Math.min(100, Math.round(p.progress))),
    videoUrl,
    thumbnailUrl: p.thumbnailUrl ?? p.thumbnail_url ?? null,
    durationSeconds: p.duration ?? null,
    credits: p.creditsUsed ?? p.credits ?? null,
    error: status === 'failed' ? (textOf(p.error) ?? textOf(p.message) ?? `RevID reported status "${p.status}"`) : null,
    pid: p.pid ?? null,
  };
}

function apiKey(): string {
  const key = env().REVID_API_KEY;
  if (!key) throw new RevidError('permanent', 'video rendering is not configured on this server (REVID_API_KEY is missing)');
  return key;
}

async function send(path: string, init: RequestInit, timeoutMs = TIMEOUT_MS): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${env().REVID_API_BASE}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error;
    throw new RevidError(
      'transient',
      e.name === 'TimeoutError' ? `RevID did not answer within ${timeoutMs} ms` : `RevID unreachable: ${e.message}`,
    );
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new RevidError('transient', `RevID's answer broke off: ${(err as Error).message}`, res.status);
  }
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: reported below when it matters
  }
  if (res.ok) {
    if (body === null) throw new RevidError('transient', `RevID answered ${res.status} without a JSON body`, res.status);
    return body;
  }
  const said = textOf((body as { error?: unknown } | null)?.error) ?? textOf(body) ?? text.slice(0, 200);
  const message = `RevID answered ${res.status}${said ? `: ${said}` : ''}`;
  // 408, 425, 429 and 5xx pass; other 4xx mean this request will never be accepted as it is.
  const transient = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
  throw new RevidError(transient ? 'transient' : 'permanent', message, res.status);
}

/** Submits a render; its pid. */
export async function submitRender(req: RenderRequest): Promise<string> {
  const body = await send('/api/public/v2/render', {
    method: 'POST',
    headers: { key: apiKey(), 'content-type': 'application/json' },
    body: JSON.stringify(req),
  });
  const pid = (body as { pid?: unknown }).pid;
  if (typeof pid !== 'string' || pid === '') {
    // Accepted or not, we cannot follow a render without its pid: try again.
    throw new RevidError('transient', 'RevID accepted the render without returning a pid');
  }
  return pid;
}

/** The current status of a render; null when RevID's answer says nothing we can use. */
export async function renderStatus(pid: string, timeoutMs = TIMEOUT_MS): Promise<StatusReport | null> {
  const body = await send(
    `/api/public/v2/status?pid=${encodeURIComponent(pid)}`,
    {
      method: 'GET',
      headers: { key: apiKey() },
    },
    timeoutMs,
  );
  return readStatus(body);
}
