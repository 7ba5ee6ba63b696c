// One outbound call of the doctor and the words for what went wrong on the way: never a
// credential in what is printed (callers pass keys in headers or bodies, never in URLs).

export const DOCTOR_TIMEOUT_MS = 10_000;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export class NetworkProblem extends Error {
  constructor(
    readonly host: string,
    readonly code: string,
  ) {
    super(`no network: could not reach ${host} (${code})`);
  }
}

/** Node's fetch hides the reason in `cause`: DNS, refused, reset, TLS or timeout. */
function causeCode(err: unknown): string {
  if (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${DOCTOR_TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(DOCTOR_TIMEOUT_MS) });
  } catch (err) {
    throw new NetworkProblem(new URL(url).host, causeCode(err));
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (an HTML error page, an empty redirect): the text is what there is.
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A short, single-line excerpt of a provider's message for the report. */
export function excerpt(text: string, max = 200): string {
  const line = text
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
