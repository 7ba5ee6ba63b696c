// The post-deploy smoke checks: what a monitor would ask a freshly deployed environment, over
// plain HTTP with fetch (no SDK), so a failure points at the deployment and not at a client
// library. Used by `npm run smoke` (tools/smoke.ts), by the deploy workflow against staging and
// production, and by `npm test` against the local test stack.
//
// Never prints or returns a token, key or password: details name statuses, codes and ids only.
import { randomUUID } from 'node:crypto';
import * as z from 'zod';

export interface SmokeTarget {
  /** The Supabase project URL (local: the gateway), without a trailing slash. */
  url: string;
  /** The project's public anon key: sent as `apikey`, as every Supabase client does. */
  anonKey: string;
  email: string;
  password: string;
  /** The web app's origin; when set, its page and its config.json are checked too. */
  webUrl?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** How long to keep retrying health before giving up (fresh deploys take a moment). */
  waitMs?: number;
  fetch?: typeof fetch;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

class CheckFailed extends Error {}
function fail(message: string): never {
  throw new CheckFailed(message);
}

const ServiceStatus = z.object({ status: z.string() });
const Health = z.object({
  status: z.string(),
  version: z.string().optional(),
  services: z.object({ database: ServiceStatus.optional(), external_apis: z.record(z.string(), ServiceStatus).optional() }).optional(),
});

/** Names of the services health reports as anything but healthy ("gemini degraded"). */
function unhealthyServices(health: z.infer<typeof Health>): string[] {
  const services: [string, { status: string } | undefined][] = [
    ['database', health.services?.database],
    ...Object.entries(health.services?.external_apis ?? {}),
  ];
  return services.filter(([, s]) => s && s.status !== 'healthy').map(([name, s]) => `${name} ${s?.status}`);
}
const Session = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  user: z.object({ id: z.string(), email: z.string().optional() }),
});
const AuthError = z.object({
  error_code: z.string().optional(),
  code: z.union([z.string(), z.number()]).optional(),
  msg: z.string().optional(),
});
const Workspaces = z.object({ workspaces: z.array(z.object({ id: z.string(), personal: z.boolean(), role: z.string() })) });
const WebConfig = z.object({ supabaseUrl: z.string(), supabaseAnonKey: z.string() });

/** The headers every function answer carries (supabase/functions/_shared/platform/http.ts). */
function securityHeaderProblems(res: Response, sentRequestId: string): string[] {
  const problems: string[] = [];
  const h = res.headers;
  if (h.get('x-content-type-options')?.toLowerCase() !== 'nosniff')
    problems.push(`X-Content-Type-Options is ${JSON.stringify(h.get('x-content-type-options'))}, want nosniff`);
  if (h.get('x-frame-options')?.toUpperCase() !== 'DENY')
    problems.push(`X-Frame-Options is ${JSON.stringify(h.get('x-frame-options'))}, want DENY`);
  if (!/(^|,)\s*no-store\s*(,|$)/i.test(h.get('cache-control') ?? ''))
    problems.push(`Cache-Control is ${JSON.stringify(h.get('cache-control'))}, want no-store`);
  const rid = h.get('x-request-id');
  if (!rid) problems.push('X-Request-Id is missing');
  else if (rid !== sentRequestId) problems.push(`X-Request-Id ${rid} does not echo the id sent (${sentRequestId})`);
  return problems;
}

async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 200);
  }
}

/** A short, secret-free description of an error answer. */
function describeError(status: number, body: unknown): string {
  const parsed = AuthError.safeParse(body);
  const nested = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).safeParse(body);
  if (nested.success) return `${status} ${nested.data.error.code}: ${nested.data.error.message}`;
  if (parsed.success && (parsed.data.error_code || parsed.data.msg))
    return `${status} ${parsed.data.error_code ?? ''} ${parsed.data.msg ?? ''}`.trim();
  return `${status}`;
}

export async function runSmoke(target: SmokeTarget): Promise<CheckResult[]> {
  const base = target.url.replace(/\/+$/, '');
  const doFetch = target.fetch ?? fetch;
  const timeoutMs = target.timeoutMs ?? 10_000;
  const results: CheckResult[] = [];
  const responses: { label: string; res: Response; requestId: string }[] = [];
  let accessToken: string | null = null;

  const request = (path: string, init: RequestInit & { requestId?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.requestId) headers.set('X-Request-Id', init.requestId);
    return doFetch(path.startsWith('http') ? path : `${base}${path}`, {
      ...init,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  };

  async function check(name: string, body: () => Promise<string>) {
    const started = performance.now();
    try {
      const detail = await body();
      results.push({ name, ok: true, detail, ms: Math.round(performance.now() - started) });
    } catch (err) {
      const detail = err instanceof CheckFailed ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      results.push({ name, ok: false, detail, ms: Math.round(performance.now() - started) });
    }
  }

  await check('health is 200', async () => {
    const deadline = Date.now() + (target.waitMs ?? 0);
    for (;;) {
      const requestId = randomUUID();
      let outcome: string;
      try {
        const res = await request('/functions/v1/health', { requestId });
        const body = await bodyOf(res);
        const health = Health.safeParse(body);
        // 200 is healthy or degraded (an external API is down, the deployment itself works);
        // 503 is unhealthy. The detail names what is not healthy either way.
        if (res.status === 200 && health.success) {
          responses.push({ label: 'health', res, requestId });
          const notes = unhealthyServices(health.data);
          return `200 ${health.data.status}${health.data.version ? `, version ${health.data.version}` : ''}${notes.length ? ` (${notes.join(', ')})` : ''}`;
        }
        outcome = `${res.status}${health.success ? ` ${health.data.status}${unhealthyServices(health.data).length ? ` (${unhealthyServices(health.data).join(', ')})` : ''}` : ''}`;
      } catch (err) {
        outcome = `no answer (${(err as Error).message})`;
      }
      if (Date.now() >= deadline) fail(`health answered ${outcome}`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  });

  await check('sign-in with the smoke user', async () => {
    const res = await request('/auth/v1/token?grant_type=password', {
      method: 'POST',
      headers: { apikey: target.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ email: target.email, password: target.password }),
    });
    const body = await bodyOf(res);
    if (res.status !== 200) fail(`token endpoint answered ${describeError(res.status, body)}`);
    const session = Session.safeParse(body);
    if (!session.success) fail('token endpoint answered 200 without a session (access_token, token_type, user)');
    const s = session.data;
    if (s.token_type.toLowerCase() !== 'bearer') fail(`token_type is ${s.token_type}, want bearer`);
    if (s.user.email && s.user.email.toLowerCase() !== target.email.toLowerCase()) fail('the session belongs to another user');
    accessToken = s.access_token;
    return `200, user ${s.user.id}`;
  });

  await check('authenticated function answers (GET workspaces)', async () => {
    if (!accessToken) fail('needs the sign-in check to pass');
    const requestId = randomUUID();
    const res = await request('/functions/v1/workspaces', {
      requestId,
      headers: { apikey: target.anonKey, Authorization: `Bearer ${accessToken}` },
    });
    const body = await bodyOf(res);
    if (res.status !== 200) fail(`workspaces answered ${describeError(res.status, body)}`);
    const parsed = Workspaces.safeParse(body);
    if (!parsed.success) fail('workspaces answered 200 with an unexpected body');
    const personal = parsed.data.workspaces.find((w) => w.personal);
    if (!personal) fail(`no personal workspace among ${parsed.data.workspaces.length}`);
    if (personal.role !== 'owner') fail(`the personal workspace has role ${personal.role}, want owner`);
    responses.push({ label: 'workspaces', res, requestId });
    return `200, ${parsed.data.workspaces.length} workspace(s), personal ${personal.id}`;
  });

  await check('security headers (nosniff, DENY, no-store, X-Request-Id)', async () => {
    if (responses.length === 0) fail('no function answered 200 to check');
    const problems = responses.flatMap(({ label, res, requestId }) => securityHeaderProblems(res, requestId).map((p) => `${label}: ${p}`));
    if (problems.length) fail(problems.join('; '));
    return `present on ${responses.map((r) => r.label).join(' and ')}`;
  });

  await check('anonymous call to a protected function is 401', async () => {
    // Both ways an anonymous client can arrive: no token at all (the gateway's verify_jwt), and
    // the anon key as bearer (what supabase-js sends signed out; the function's own check).
    const bare = await request('/functions/v1/workspaces', { headers: { apikey: target.anonKey } });
    await bare.body?.cancel();
    const anon = await request('/functions/v1/workspaces', {
      headers: { apikey: target.anonKey, Authorization: `Bearer ${target.anonKey}` },
    });
    await anon.body?.cancel();
    if (bare.status !== 401 || anon.status !== 401)
      fail(`without a token: ${bare.status}, with the anon key: ${anon.status}; want 401 for both`);
    return '401 without a token and with the anon key';
  });

  if (target.webUrl) {
    const web = target.webUrl.replace(/\/+$/, '');
    await check('web app is served with this project in config.json', async () => {
      const page = await request(`${web}/sign-in`);
      const html = await page.text();
      if (page.status !== 200 || !/<html/i.test(html))
        fail(`${web}/sign-in answered ${page.status} ${page.headers.get('content-type') ?? ''}`);
      const res = await request(`${web}/config.json`);
      const config = WebConfig.safeParse(await bodyOf(res));
      if (res.status !== 200 || !config.success) fail(`${web}/config.json answered ${res.status} without supabaseUrl and supabaseAnonKey`);
      if (config.data.supabaseUrl.replace(/\/+$/, '') !== base) fail(`config.json points at ${config.data.supabaseUrl}, not ${base}`);
      if (config.data.supabaseAnonKey !== target.anonKey) fail('config.json holds another anon key than this project’s');
      return `200, config.json → ${base}`;
    });
  }

  await check('sign-out', async () => {
    if (!accessToken) fail('needs the sign-in check to pass');
    // Ends this session only (scope=local), so repeated runs leave no refresh tokens behind and
    // other sessions of the same user (a person signed in to the dev stack) stay signed in.
    const res = await request('/auth/v1/logout?scope=local', {
      method: 'POST',
      headers: { apikey: target.anonKey, Authorization: `Bearer ${accessToken}` },
    });
    const body = await bodyOf(res);
    if (res.status !== 204 && res.status !== 200) fail(`logout answered ${describeError(res.status, body)}`);
    return `${res.status}`;
  });

  return results;
}

export function formatResult(r: CheckResult): string {
  return `${r.ok ? '✔' : '✖'} ${r.name} — ${r.detail} (${r.ms} ms)`;
}
