// Users for Node tests and benchmarks against a stack whose Auth requires email confirmation:
// created confirmed through the admin API (service-role key), as a hosted project allows, then
// signed in with their password.

export interface StackAuth {
  url: string;
  anonKey: string;
  serviceRoleKey: string;
}

export interface SignedInUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

async function post(url: string, key: string, body: unknown, bearer = key) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { apikey: key, authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function createConfirmedUser(
  stack: StackAuth,
  email: string,
  password: string,
  data: Record<string, unknown> = {},
): Promise<SignedInUser> {
  const base = `${stack.url.replace(/\/+$/, '')}/auth/v1`;
  const created = await post(`${base}/admin/users`, stack.serviceRoleKey, { email, password, email_confirm: true, user_metadata: data });
  if (created.status !== 200) throw new Error(`creating a user failed: ${created.status} ${JSON.stringify(created.body)}`);
  const signedIn = await post(`${base}/token?grant_type=password`, stack.anonKey, { email, password });
  if (signedIn.status !== 200) throw new Error(`signing in failed: ${signedIn.status} ${JSON.stringify(signedIn.body)}`);
  return {
    id: String(created.body.id),
    email,
    password,
    accessToken: String(signedIn.body.access_token),
    refreshToken: String(signedIn.body.refresh_token),
  };
}

/**
 * GoTrue's own limit variables, raised: a test or benchmark stack takes every call from one
 * address (127.0.0.1) and sends far more mail than a project's hour allows.
 */
export const ROOMY_AUTH_LIMITS: Record<string, string> = {
  GOTRUE_RATE_LIMIT_EMAIL_SENT: '100000',
  GOTRUE_RATE_LIMIT_OTP: '100000',
  GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '100000',
  GOTRUE_RATE_LIMIT_VERIFY: '100000',
};
