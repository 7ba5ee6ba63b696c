// Gemini: models.list with the key (`GET /v1beta/models?pageSize=1`), which spends no tokens.
// Google's errors: `{ error: { code, status, message, details: [{ reason }] } }`.
import { call, excerpt } from './http.ts';
import type { CheckOutcome } from './types.ts';

interface GoogleError {
  error?: { code?: number; status?: string; message?: string; details?: { reason?: string }[] };
}

function explainGemini(status: number, body: GoogleError, text: string): CheckOutcome {
  const err = body.error ?? {};
  const reason = err.details?.find((d) => d.reason)?.reason;
  const code = [`HTTP ${status}`, err.status, reason].filter(Boolean).join(' ');
  const message = excerpt(err.message ?? text);
  if (reason === 'API_KEY_INVALID')
    return {
      ok: false,
      code,
      explanation:
        'bad key: Google does not know this GEMINI_API_KEY. Copy it again from Google AI Studio (aistudio.google.com → Get API key).',
      message,
    };
  if (reason === 'SERVICE_DISABLED' || /has not been used in project|is disabled/i.test(err.message ?? '')) {
    return {
      ok: false,
      code,
      explanation:
        "API not enabled: enable the Generative Language API in the key's Google Cloud project, wait a few minutes and try again.",
      message,
    };
  }
  if (reason === 'API_KEY_SERVICE_BLOCKED' || /^API_KEY_.*_BLOCKED$/.test(reason ?? '')) {
    return {
      ok: false,
      code,
      explanation:
        "the key's restrictions refuse this call: allow the Generative Language API (and no referrer/IP restriction that excludes this machine) for the key.",
      message,
    };
  }
  if (status === 429)
    return {
      ok: true,
      code,
      explanation: 'the key works, but its quota is used up for now (Google answered 429): generation will fail until it resets.',
      message,
    };
  if (err.status === 'FAILED_PRECONDITION')
    return {
      ok: false,
      code,
      explanation: 'Google refuses the call for this account or location (e.g. the free tier is not available in this region).',
      message,
    };
  if (status === 401 || status === 403) return { ok: false, code, explanation: 'the key was refused (permission denied).', message };
  if (status >= 500) return { ok: false, code, explanation: 'Gemini answered with a server error: try again later.', message };
  return { ok: false, code, explanation: 'unexpected answer to models.list.', message };
}

export async function checkGemini(env: Record<string, string>): Promise<CheckOutcome> {
  const url = `${env.GEMINI_API_BASE}/v1beta/models?pageSize=1`;
  const res = await call(url, { headers: { 'x-goog-api-key': env.GEMINI_API_KEY!, accept: 'application/json' } });
  if (res.status === 200) {
    const models = (res.json as { models?: unknown[] } | null)?.models;
    return {
      ok: true,
      code: 'HTTP 200',
      explanation: `key accepted (models.list answered${Array.isArray(models) ? ` with ${models.length} model${models.length === 1 ? '' : 's'}` : ''}).`,
    };
  }
  return explainGemini(res.status, (res.json ?? {}) as GoogleError, res.text);
}

export const GEMINI_CALL = 'GET {GEMINI_API_BASE}/v1beta/models?pageSize=1 (key in x-goog-api-key; spends no tokens)';
