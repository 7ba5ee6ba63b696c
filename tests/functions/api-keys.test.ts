// Functions verify their callers themselves (verify_jwt = false): each kind of key through the
// whole stack (gateway, edge runtime, _shared/platform/auth.ts), in whichever mode the stack runs
// (CCE_API_KEYS: both, legacy, new). A secret key is a service call only in `apikey`; it is never
// a user; a publishable key is nobody; legacy keys work while the project has them; a tampered
// or foreign-kid user token is refused; a pg_cron wake-up reaches its worker with the key Vault
// holds.
import { assertEquals } from './assert.ts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { callFunction, signUp, stack, withDb, type CallInit } from './helpers/users.ts';

const secret = Deno.env.get('SUPABASE_SECRET_KEY');
const publishable = Deno.env.get('SUPABASE_PUBLISHABLE_KEY');
const serviceRole = Deno.env.get('SUPABASE_SERVICE_ROLE_KEY');
const anon = Deno.env.get('SUPABASE_ANON_KEY');

/** The worker with nothing to do: 200 for the service, 401 for anyone else. */
const WORKER = 'youtube-sync/worker';
const idle = (): CallInit => ({ method: 'POST', body: { time_budget_ms: 0, run_id: crypto.randomUUID() } });

async function raw(path: string, headers: Record<string, string>, init: CallInit = {}) {
  const res = await fetch(`${stack.url}/functions/v1/${path}`, {
    method: init.method ?? 'GET',
    headers: { ...headers, ...(init.body ? { 'Content-Type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

Deno.test({
  name: 'secret key: a service call in apikey (alone, or also as the bearer); never a user, never as a bearer alone',
  ignore: !secret || !publishable,
  fn: async () => {
    assertEquals((await raw(WORKER, { apikey: secret! }, idle())).status, 200);
    assertEquals((await raw(WORKER, { apikey: secret!, Authorization: `Bearer ${secret}` }, idle())).status, 200);
    // As the bearer with the publishable key in apikey it is neither service nor user.
    assertEquals((await raw(WORKER, { apikey: publishable!, Authorization: `Bearer ${secret}` }, idle())).status, 401);
    const asUser = await raw('workspaces', { apikey: secret!, Authorization: `Bearer ${secret}` });
    assertEquals([asUser.status, asUser.body.error.code], [401, 'unauthorized']);
    // A user's own token with the secret key: the user's call, not a service call.
    const user = await signUp('keys-secret-user');
    assertEquals((await raw(WORKER, { apikey: secret!, Authorization: `Bearer ${user.token}` }, idle())).status, 401);
  },
});

Deno.test({
  name: 'publishable key: anonymous, whichever header; a signed-in user with it is that user',
  ignore: !publishable,
  fn: async () => {
    assertEquals((await raw(WORKER, { apikey: publishable! }, idle())).status, 401);
    assertEquals((await raw('workspaces', { apikey: publishable!, Authorization: `Bearer ${publishable}` })).status, 401);
    const user = await signUp('keys-publishable');
    const mine = await raw('workspaces', { apikey: publishable!, Authorization: `Bearer ${user.token}` });
    assertEquals(mine.status, 200);
    assertEquals(mine.body.workspaces.length >= 1, true);
  },
});

Deno.test('an unknown secret or publishable key is refused by the gateway before any function runs', async () => {
  const unknown = `sb_secret_${'x'.repeat(31)}`;
  const r = await raw(WORKER, { apikey: unknown }, idle());
  assertEquals([r.status, r.body.message], [401, 'Unregistered API key']);
});

Deno.test({
  name: 'legacy keys: service_role as the bearer (as legacy wake-ups send it) is a service call; anon is nobody',
  ignore: !serviceRole || !anon,
  fn: async () => {
    assertEquals((await raw(WORKER, { apikey: serviceRole!, Authorization: `Bearer ${serviceRole}` }, idle())).status, 200);
    assertEquals((await raw(WORKER, { Authorization: `Bearer ${serviceRole}` }, idle())).status, 200);
    assertEquals((await raw(WORKER, { apikey: anon!, Authorization: `Bearer ${anon}` }, idle())).status, 401);
    assertEquals((await raw('workspaces', { apikey: anon!, Authorization: `Bearer ${anon}` })).status, 401);
  },
});

Deno.test('user tokens: a tampered payload or a key the project does not have (foreign kid) is 401', async () => {
  const user = await signUp('keys-tampered');
  const [h, p, sig] = user.token.split('.');
  const claims = JSON.parse(
    new TextDecoder().decode(Uint8Array.from(atob(p.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))),
  );
  const forged = btoa(JSON.stringify({ ...claims, app_metadata: { role: 'admin' } }))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  assertEquals((await callFunction(`${h}.${forged}.${sig}`, 'admin-metrics')).status, 401);

  const other = await generateKeyPair('ES256', { extractable: true });
  const kid = (await exportJWK(other.publicKey)).x!.slice(0, 12);
  const foreign = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(other.privateKey);
  assertEquals((await callFunction(foreign, 'workspaces')).status, 401);
  assertEquals((await callFunction(user.token, 'workspaces')).status, 200, 'the genuine token still works');
});

Deno.test('a pg_cron wake-up carries the key Vault holds, and the worker takes it', async () => {
  const headers = await withDb(async (sql) => (await sql`select private.worker_auth_headers() as h`)[0].h as Record<string, string>);
  const expected = secret ? { apikey: secret } : { Authorization: `Bearer ${serviceRole}`, apikey: serviceRole! };
  for (const [k, v] of Object.entries(expected)) assertEquals(headers[k], v, k);
  if (secret) assertEquals(headers.Authorization, undefined, 'an opaque key is never a bearer');
  const { 'Content-Type': _, ...auth } = headers;
  assertEquals((await raw(WORKER, auth, idle())).status, 200);
});
