// Helpers of the ops-* tests: platform admins (created with the service key, as an operator
// would), polling for rows written after a response, and the fakes' control API.
import { callFunction, signIn, stack, uniqueEmail, withDb, type Json, type TestUser } from './users.ts';

/** A user with app_metadata.role = 'admin', signed in through the password grant. */
export async function createAdmin(label = 'admin'): Promise<TestUser> {
  const email = uniqueEmail(label);
  const password = `pw-${crypto.randomUUID()}`;
  const res = await fetch(`${stack.url}/auth/v1/admin/users`, {
    method: 'POST',
    headers: { apikey: stack.serviceKey, Authorization: `Bearer ${stack.serviceKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, email_confirm: true, app_metadata: { role: 'admin' } }),
  });
  const created = await res.json();
  if (res.status !== 200) throw new Error(`creating admin ${email} failed: ${res.status} ${JSON.stringify(created)}`);
  const session = await signIn(email, password);
  const token = (session.body as Json)?.access_token;
  if (session.status !== 200 || !token) throw new Error(`admin sign-in failed: ${session.status} ${JSON.stringify(session.body)}`);
  return { id: created.id, email, password, token, call: (path, init) => callFunction(token, path, init) };
}

/** Polls `probe` until it returns something other than undefined (rows are written after the response). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CallRow {
  function_name: string;
  endpoint: string;
  method: string;
  status: number;
  duration_ms: number;
  user_id: string | null;
  workspace_id: string | null;
  request_id: string;
}

/** The ops.api_calls rows of these request ids, once all of them are there. */
export async function trackedCalls(requestIds: string[], timeoutMs = 10_000): Promise<CallRow[]> {
  return await eventually(
    () =>
      withDb(async (sql) => {
        const rows = await sql<CallRow[]>`
          select function_name, endpoint, method, status, duration_ms, user_id, workspace_id, request_id
          from ops.api_calls where request_id = any (${requestIds}) order by id`;
        return rows.length >= requestIds.length ? [...rows] : undefined;
      }),
    `ops.api_calls rows for ${requestIds.length} request ids`,
    timeoutMs,
  );
}

export function requestId(label: string): string {
  return `${label}-${crypto.randomUUID()}`.slice(0, 64);
}

function fakesUrl(): string {
  const url = Deno.env.get('LOCAL_FAKES_URL');
  if (!url) throw new Error('LOCAL_FAKES_URL is not set: run these tests against a running stack');
  return url.replace(/\/+$/, '');
}

export async function injectFault(rule: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${fakesUrl()}/_control/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(rule),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`injecting a fault failed: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

export async function removeFault(id: string): Promise<void> {
  await (await fetch(`${fakesUrl()}/_control/faults/${id}`, { method: 'DELETE' })).body?.cancel();
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string | null;
  status?: number;
}

export async function fakeRequests(pathPrefix: string, since: Date): Promise<FakeRequest[]> {
  const res = await fetch(`${fakesUrl()}/_control/requests?pathPrefix=${encodeURIComponent(pathPrefix)}&since=${since.getTime()}`);
  return (await res.json()).requests;
}

export { withDb };
