import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authStorageKey, createAppClient, fetchWithAuth } from '../../web/src/lib/supabase-client.ts';

const URL_ = 'http://127.0.0.1:54321';
const ANON = 'anon.key.value';

function b64url(value: unknown) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
const ACCESS = `${b64url({ alg: 'ES256', typ: 'JWT' })}.${b64url({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 3600, role: 'authenticated' })}.sig`;

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

function recordingFetch() {
  const requests: { url: string; method: string; headers: Headers; body: string | null }[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    requests.push({
      url,
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : null,
    });
    if (url.includes('/auth/v1/token')) {
      const now = Math.floor(Date.now() / 1000);
      return new Response(
        JSON.stringify({
          access_token: ACCESS,
          token_type: 'bearer',
          expires_in: 3600,
          expires_at: now + 3600,
          refresh_token: 'refresh-1',
          user: {
            id: 'u1',
            aud: 'authenticated',
            role: 'authenticated',
            email: 'ada@example.com',
            app_metadata: {},
            user_metadata: {},
            created_at: new Date().toISOString(),
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    }
    return new Response(JSON.stringify({ ok: true }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { requests, fetchFn };
}

test('the session storage key is the one supabase-js uses', () => {
  assert.equal(authStorageKey('http://127.0.0.1:54321'), 'sb-127-auth-token');
  assert.equal(authStorageKey('https://abcdefgh.supabase.co'), 'sb-abcdefgh-auth-token');
});

test('fetchWithAuth keeps headers the caller set and adds the missing ones', async () => {
  const seen: Headers[] = [];
  const wrapped = fetchWithAuth(
    'anon',
    async () => null,
    async (_i, init) => {
      seen.push(new Headers(init?.headers));
      return new Response(null, { status: 204 });
    },
  );
  await wrapped('http://x/functions/v1/a', { headers: { 'x-request-id': 'r1' } });
  await wrapped('http://x/functions/v1/a', { headers: { Authorization: 'Bearer mine' } });
  assert.deepEqual([seen[0]!.get('apikey'), seen[0]!.get('authorization'), seen[0]!.get('x-request-id')], ['anon', 'Bearer anon', 'r1']);
  assert.equal(seen[1]!.get('authorization'), 'Bearer mine');
});

test('function calls carry the anon key when signed out and the user token after sign-in', async () => {
  const { requests, fetchFn } = recordingFetch();
  const storage = memoryStorage();
  const client = createAppClient({ supabaseUrl: URL_, supabaseAnonKey: ANON }, { fetch: fetchFn, storage, autoRefreshToken: false });

  const before = await client.functions.invoke('workspaces', { method: 'GET' });
  assert.equal(before.error, null);
  const first = requests.find((r) => r.url.includes('/functions/v1/'))!;
  assert.equal(first.url, `${URL_}/functions/v1/workspaces`);
  assert.equal(first.headers.get('apikey'), ANON);
  assert.equal(first.headers.get('authorization'), `Bearer ${ANON}`);

  const { error } = await client.auth.signInWithPassword({ email: 'ada@example.com', password: 'correct horse' });
  assert.equal(error, null);
  const tokenCall = requests.find((r) => r.url.includes('/auth/v1/token'))!;
  assert.equal(tokenCall.url, `${URL_}/auth/v1/token?grant_type=password`);
  assert.equal(tokenCall.headers.get('apikey'), ANON);
  assert.ok(storage.data.has('sb-127-auth-token'), 'the session is persisted under supabase-js’s key');

  await client.functions.invoke('members?workspace_id=w1', { method: 'GET' });
  const second = requests.filter((r) => r.url.includes('/functions/v1/')).at(-1)!;
  assert.equal(second.url, `${URL_}/functions/v1/members?workspace_id=w1`);
  assert.equal(second.headers.get('authorization'), `Bearer ${ACCESS}`);
  assert.equal(second.headers.get('apikey'), ANON);
});
