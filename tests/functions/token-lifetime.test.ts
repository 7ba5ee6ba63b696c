// A user token without exp would never expire. The functions refuse one even when it is signed
// with the project's key and reaches them without the gateway (verify_jwt can be turned off per
// function, and hosted functions must not rely on it): 401, and the same claims with an exp pass.
import { decodeJwt, importJWK, SignJWT, type JWK } from 'jose';
import { assertEquals } from './assert.ts';
import { signUp } from './helpers/users.ts';

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is required (the test runner sets it from the stack)`);
  return value;
}

async function forge(claims: Record<string, unknown>): Promise<string> {
  const { privateJwk } = JSON.parse(await Deno.readTextFile(required('LOCAL_KEY_FILE'))) as { privateJwk: JWK };
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid!, typ: 'JWT' })
    .sign(await importJWK(privateJwk, 'ES256'));
}

async function listWorkspaces(token: string): Promise<{ status: number; body: { error?: { code: string } } }> {
  // Straight to the functions, past the gateway's own verify_jwt.
  const res = await fetch(`${required('LOCAL_FUNCTIONS_URL')}/workspaces`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

Deno.test('a correctly signed user token without exp is refused with 401 by the functions themselves', async () => {
  const user = await signUp('no-exp');
  const { exp: _exp, ...claims } = decodeJwt(user.token);
  const withExp = await listWorkspaces(await forge({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }));
  assertEquals(withExp.status, 200, 'the forging itself yields tokens the functions accept');
  const withoutExp = await listWorkspaces(await forge(claims));
  assertEquals(withoutExp.status, 401);
  assertEquals(withoutExp.body.error?.code, 'unauthorized');
});
