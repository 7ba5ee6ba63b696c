// Evaluation of @supabase/server (README, "API keys"): main-thread CPU per caller check in one
// Deno 2.1.4 process, our path (_shared/platform/auth.ts: one jwtVerify per token, then the remembered
// claims) against @supabase/server's verifyCredentials (auth 'user' with an inline JWKS, and
// 'secret'). Not part of the product or the type check (it imports a package the functions do
// not use): DENO_TLS_CA_STORE=system npx deno run --no-lock --allow-all bench/evaluations/supabase-server-verify.ts
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'npm:jose@6.2.19';
import { verifyCredentials } from 'npm:@supabase/server@1.8.1/core';

// Main-thread CPU from the kernel (ns), as the edge runtime reads it.
const cpuNs = () => Number(Deno.readTextFileSync('/proc/thread-self/schedstat').split(' ')[0]);

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
const jwks = { keys: [jwk] };
const iss = 'http://127.0.0.1:1/auth/v1';
const sign = () =>
  new SignJWT({ sub: crypto.randomUUID(), role: 'authenticated', aud: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
    .setIssuer(iss)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
const N = 2000;
const tokens = await Promise.all(Array.from({ length: 200 }, sign));
const local = createLocalJWKSet(jwks);
const remembered = new Map<string, unknown>();
async function ours(token: string) {
  const hit = remembered.get(token);
  if (hit) return hit;
  const { payload } = await jwtVerify(token, local, {
    issuer: iss,
    audience: 'authenticated',
    algorithms: ['ES256', 'RS256'],
    requiredClaims: ['exp', 'sub'],
  });
  remembered.set(token, payload);
  return payload;
}
const env = { url: 'http://127.0.0.1:1', publishableKeys: {}, secretKeys: { default: 'sb_secret_x' }, jwks };
async function theirs(token: string) {
  const r = await verifyCredentials({ token, apikey: null }, { auth: 'user', env, issuer: iss, audience: 'authenticated' });
  if (r.error) throw r.error;
  return r.data;
}
async function secretTheirs() {
  const r = await verifyCredentials({ token: null, apikey: 'sb_secret_x' }, { auth: 'secret', env });
  if (r.error) throw r.error;
}
async function time(label: string, f: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await f(i); // warm
  const c0 = cpuNs();
  for (let i = 0; i < N; i++) await f(i);
  console.log(label.padEnd(52), ((cpuNs() - c0) / N / 1e6).toFixed(3), 'ms CPU per request');
}
await time('ours, same token repeated', () => ours(tokens[0]));
remembered.clear();
await time('ours, 200 tokens cycled (remembered after 1st)', (i) => ours(tokens[i % 200]));
await time('@supabase/server user, same token repeated', () => theirs(tokens[0]));
await time('@supabase/server user, 200 tokens cycled', (i) => theirs(tokens[i % 200]));
await time('jwtVerify alone (a never-seen token, ours)', (i) => jwtVerify(tokens[i % 200], local, { algorithms: ['ES256'] }));
await time('@supabase/server secret (apikey compare)', () => secretTheirs());
