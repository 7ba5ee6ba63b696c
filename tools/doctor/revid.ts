// RevID publishes no reference and no account endpoint; the cheapest authenticated call known is
// the status of a render (`GET /api/public/v2/status?pid=`, key in the `key` header), asked for a
// project id that cannot exist. A refused key answers 401/403 before the id is looked at; any other
// answer below 500 (404 "no such project" is the expected one) means the key was accepted.
import { call, excerpt } from './http.ts';
import type { CheckOutcome } from './types.ts';

export const REVID_PROBE_PID = 'cce-doctor-check';

function revidMessage(json: unknown, text: string): string {
  const error = (json as { error?: unknown; message?: unknown } | null)?.error ?? (json as { message?: unknown } | null)?.message;
  return excerpt(typeof error === 'string' ? error : text);
}

export async function checkRevid(env: Record<string, string>): Promise<CheckOutcome> {
  const url = `${env.REVID_API_BASE}/api/public/v2/status?pid=${REVID_PROBE_PID}`;
  const res = await call(url, { headers: { key: env.REVID_API_KEY!, accept: 'application/json' } });
  const code = `HTTP ${res.status}`;
  const message = revidMessage(res.json, res.text);
  if (res.status === 401 || res.status === 403) {
    return {
      ok: false,
      code,
      explanation:
        'bad key: RevID refused REVID_API_KEY. Copy it again from your RevID account (API settings); a key needs a plan with API access.',
      message,
    };
  }
  if (res.status === 429)
    return { ok: true, code, explanation: 'the key was accepted, but RevID is throttling this key right now.', message };
  if (res.status >= 500) return { ok: false, code, explanation: 'RevID answered with a server error: try again later.', message };
  if (res.status >= 300 && res.status < 400)
    return { ok: false, code, explanation: `RevID redirected (to ${res.headers.get('location') ?? '?'}): is REVID_API_BASE right?` };
  return {
    ok: true,
    code,
    explanation: `key accepted (status of a project that does not exist: ${res.status === 404 ? 'not found, as expected' : 'answered'}).`,
  };
}

export const REVID_CALL = `GET {REVID_API_BASE}/api/public/v2/status?pid=${REVID_PROBE_PID} (key in the key header; renders nothing, spends no credits)`;
