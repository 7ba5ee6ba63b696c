// What the fakes received, so tests can assert on what product code sent. Bounded (a ring of the
// newest entries) and scrubbed: credentials never come back out of the control API.

export interface RecordedRequest {
  seq: number;
  at: string; // ISO timestamp
  scheme: 'https' | 'http'; // https for the stack's fakes: proof that the client spoke TLS
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string; // text, at most 64 KB; binary bodies are summarised
  bodyBytes: number;
  bodyTruncated: boolean;
  status?: number; // filled in when the response has been sent
  fault?: string; // id of the fault rule applied, if any
}

export const REDACTED = '<redacted>';
const BODY_LIMIT = 64 * 1024;

// Header names that carry credentials: Authorization, cookies and anything named like a key.
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie)$|key|secret|token|password/i;
// Query and form fields that carry credentials in Google's and RevID's APIs.
const SECRET_FIELDS = new Set([
  'key',
  'api_key',
  'apikey',
  'access_token',
  'refresh_token',
  'token',
  'client_secret',
  'code',
  'code_verifier',
  'assertion',
  'password',
]);

export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADER.test(name) ? REDACTED : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function redactedQuery(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, raw] of params) {
    const v = SECRET_FIELDS.has(k.toLowerCase()) ? REDACTED : raw;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^text\/|json|x-www-form-urlencoded|xml|javascript/i.test(contentType);
}

export function bodyAsText(body: Buffer, contentType: string | undefined): { text: string; truncated: boolean } {
  if (body.length === 0) return { text: '', truncated: false };
  if (!isTextual(contentType)) return { text: `<${body.length} bytes of ${contentType}>`, truncated: false };
  const truncated = body.length > BODY_LIMIT;
  let text = body.subarray(0, BODY_LIMIT).toString('utf8');
  if (/x-www-form-urlencoded/i.test(contentType ?? '')) {
    const form = new URLSearchParams(text);
    for (const k of [...form.keys()]) if (SECRET_FIELDS.has(k.toLowerCase())) form.set(k, REDACTED);
    text = form.toString();
  }
  return { text, truncated };
}

export class RequestRecorder {
  private entries: RecordedRequest[] = [];
  private seq = 0;

  constructor(private readonly capacity = 5_000) {}

  add(entry: Omit<RecordedRequest, 'seq' | 'at'>): RecordedRequest {
    const full: RecordedRequest = { seq: ++this.seq, at: new Date().toISOString(), ...entry };
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return full;
  }

  /** `since`: entries at or after this instant. */
  list(filter: { pathPrefix?: string; since?: Date; method?: string } = {}): RecordedRequest[] {
    const since = filter.since?.getTime();
    return this.entries.filter(
      (e) =>
        (filter.pathPrefix === undefined || e.path.startsWith(filter.pathPrefix)) &&
        (since === undefined || Date.parse(e.at) >= since) &&
        (filter.method === undefined || e.method === filter.method.toUpperCase()),
    );
  }

  clear() {
    this.entries = [];
  }
}
