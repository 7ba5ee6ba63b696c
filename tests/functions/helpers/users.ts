// Fresh users for tests against a running stack (SUPABASE_URL, SUPABASE_PUBLISHABLE_KEY and
// SUPABASE_SECRET_KEY when the stack's project has the new API keys, else the legacy
// SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY; SUPABASE_DB_URL), and calls to functions as
// them, through the gateway exactly as the web app sends them.
import postgres from 'postgres';

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run these tests against a running stack (tests/run.ts sets it)`);
  return value;
}

export const stack = {
  get url() {
    return required('SUPABASE_URL').replace(/\/+$/, '');
  },
  /** The publishable key, or the legacy anon key in a legacy-only stack (CCE_API_KEYS=legacy). */
  get anonKey() {
    return Deno.env.get('SUPABASE_PUBLISHABLE_KEY') || required('SUPABASE_ANON_KEY');
  },
  /** The secret key, or the legacy service_role key in a legacy-only stack. */
  get serviceKey() {
    return Deno.env.get('SUPABASE_SECRET_KEY') || required('SUPABASE_SERVICE_ROLE_KEY');
  },
  get dbUrl() {
    return required('SUPABASE_DB_URL');
  },
};

// Answers are read field by field in assertions (which fail on a wrong shape); a loose type keeps
// the tests readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Answer<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallInit {
  method?: string;
  body?: unknown;
  /** Raw text body (for malformed JSON); wins over `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * Calls `/functions/v1/<path>` with a bearer token (or none) and always reads the whole body. An
 * opaque key as the token is sent as supabase-js sends a key without a session: in `apikey` and
 * as the bearer.
 */
export async function callFunction(token: string | null, path: string, init: CallInit = {}): Promise<Answer> {
  const headers: Record<string, string> = { apikey: token?.startsWith('sb_') ? token : stack.anonKey, ...init.headers };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (init.rawBody !== undefined) body = init.rawBody;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${stack.url}/functions/v1/${path}`, { method: init.method ?? 'GET', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
  call(path: string, init?: CallInit): Promise<Answer>;
}

export function uniqueEmail(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 12)}@example.com`.toLowerCase();
}

async function authPost(path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack.url}/auth/v1/${path}`, {
    method: 'POST',
    headers: { apikey: stack.anonKey, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * A new user with a unique email, ready to call functions. Auth requires email confirmation, so
 * the user is created confirmed through the admin API (as a hosted project allows with its
 * service-role key) and then signs in with the password (GoTrue's password grant).
 */
export async function signUp(label = 'user', email = uniqueEmail(label)): Promise<TestUser> {
  const password = `pw-${crypto.randomUUID()}`;
  const created = await fetch(`${stack.url}/auth/v1/admin/users`, {
    method: 'POST',
    headers: { apikey: stack.serviceKey, Authorization: `Bearer ${stack.serviceKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, email_confirm: true }),
  });
  const user = await created.json();
  if (created.status !== 200) throw new Error(`creating ${email} failed: ${created.status} ${JSON.stringify(user)}`);
  const res = await authPost('token?grant_type=password', { email, password });
  if (res.status !== 200 || !res.body.access_token) {
    throw new Error(`sign-in of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const token: string = res.body.access_token;
  return { id: user.id, email, password, token, call: (path, init) => callFunction(token, path, init) };
}

/** GoTrue's password grant; the status tells whether the credentials still work. */
export async function signIn(email: string, password: string): Promise<{ status: number; body: unknown }> {
  return await authPost('token?grant_type=password', { email, password });
}

/** Runs `fn` with a superuser connection (test set-up the API rightly refuses), then closes it. */
export async function withDb<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(stack.dbUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Creates a team workspace owned by `owner` and returns its id. */
export async function createWorkspace(owner: TestUser, name = 'Team'): Promise<string> {
  const res = await owner.call('workspaces', { method: 'POST', body: { name } });
  if (res.status !== 201) throw new Error(`creating a workspace failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.workspace.id;
}

/** The id of the user's personal workspace. */
export async function personalWorkspace(user: TestUser): Promise<string> {
  const res = await user.call('workspaces');
  const personal = res.body.workspaces.find((w: { personal: boolean }) => w.personal);
  if (!personal) throw new Error(`no personal workspace for ${user.email}: ${JSON.stringify(res.body)}`);
  return personal.id;
}

/** Invites `member` with `role` as `owner` and accepts as `member`, through the API. */
export async function addMember(owner: TestUser, workspaceId: string, member: TestUser, role: 'viewer' | 'editor' | 'owner') {
  const invited = await owner.call('invitations', { method: 'POST', body: { workspace_id: workspaceId, email: member.email, role } });
  if (invited.status !== 201) throw new Error(`invitation failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  const token = new URL(invited.body.accept_url).searchParams.get('token');
  const accepted = await member.call('invitations/accept', { method: 'POST', body: { token } });
  if (accepted.status !== 200) throw new Error(`accepting failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
}

/** The field paths a 400 validation answer names. */
export function failedPaths(answer: Answer): string[] {
  return (answer.body?.error?.details ?? []).map((d: { path: string }) => d.path).sort();
}

export const NOT_A_WORKSPACE = '00000000-0000-4000-8000-000000000000';
