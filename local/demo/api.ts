// HTTP helpers of the demo loop: the stack's functions as the demo user or the service role
// (exactly as the web app and pg_cron call them), and the fakes' control API over HTTPS with the
// stack's own CA (Node's fetch reads extra CAs only at start-up, so this uses node:https).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface DemoEnv {
  SUPABASE_URL: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
  LOCAL_FAKES_URL: string;
  NODE_EXTRA_CA_CERTS: string;
}

export class DemoApi {
  token = '';
  constructor(private readonly env: DemoEnv) {}

  async signIn(email: string, password: string): Promise<string> {
    const res = await fetch(`${this.env.SUPABASE_URL}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { apikey: this.env.SUPABASE_ANON_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const body = (await res.json()) as Json;
    if (res.status !== 200) throw new Error(`demo sign-in: ${res.status} ${JSON.stringify(body)}`);
    this.token = body.access_token;
    return body.user.id as string;
  }

  /** A function call as the demo user (or the service role); throws on an unexpected status. */
  async call(
    path: string,
    init: { method?: string; body?: unknown; key?: string; service?: boolean; expect?: number[] } = {},
  ): Promise<Json> {
    const token = init.service ? this.env.SUPABASE_SERVICE_ROLE_KEY : this.token;
    const res = await fetch(`${this.env.SUPABASE_URL}/functions/v1/${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        apikey: this.env.SUPABASE_ANON_KEY,
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.key ? { 'idempotency-key': init.key } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : {};
    if (!(init.expect ?? [200, 201, 202]).includes(res.status)) throw new Error(`demo ${path}: ${res.status} ${text.slice(0, 300)}`);
    return body;
  }

  /** POST to the fakes' control API (/_control/<path>). */
  fakes(path: string, body: unknown): Promise<Json> {
    const url = new URL(`${this.env.LOCAL_FAKES_URL}/_control/${path}`);
    const payload = JSON.stringify(body);
    return new Promise((resolvePromise, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca: readFileSync(this.env.NODE_EXTRA_CA_CERTS),
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () =>
            (res.statusCode ?? 500) < 300 ? resolvePromise(JSON.parse(text)) : reject(new Error(`fake ${path}: ${res.statusCode} ${text}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000, everyMs = 1_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
