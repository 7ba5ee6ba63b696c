// The environment every process of a local stack runs with. Product code reads only these
// names (README, "Environment variables"); the local stack differs from production by their
// values alone.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DENO_ENV } from '../deno.ts';
import type { Profile } from '../profile.ts';
import { ROOT } from '../profile.ts';
import { byokFile, planIntegrations, readDotenv } from './byok.ts';
import { activeKeys, apiKeyMode, type StackKeys } from './keys.ts';
import { tlsFiles } from './tls.ts';

/**
 * The API keys as hosted hands them to functions (SUPABASE_PUBLISHABLE_KEYS / SUPABASE_SECRET_KEYS
 * as JSON maps of key name to key, SUPABASE_JWKS, and the legacy pair while the project has it),
 * plus SUPABASE_PUBLISHABLE_KEY / SUPABASE_SECRET_KEY for clients (web app, tests, tools). A
 * legacy-only project's functions get no SUPABASE_JWKS, so they fetch the JWKS from Auth, as
 * functions of projects older than that variable do.
 */
export function apiKeyEnv(keys: StackKeys, mode = apiKeyMode()): Record<string, string> {
  const active = activeKeys(keys, mode);
  const out: Record<string, string> = { CCE_API_KEYS: mode };
  if (active.publishable && active.secret) {
    out.SUPABASE_PUBLISHABLE_KEYS = JSON.stringify({ default: active.publishable });
    out.SUPABASE_SECRET_KEYS = JSON.stringify({ default: active.secret });
    out.SUPABASE_JWKS = JSON.stringify({ keys: [keys.publicJwk] });
    out.SUPABASE_PUBLISHABLE_KEY = active.publishable;
    out.SUPABASE_SECRET_KEY = active.secret;
  }
  if (active.anon && active.serviceRole) {
    out.SUPABASE_ANON_KEY = active.anon;
    out.SUPABASE_SERVICE_ROLE_KEY = active.serviceRole;
  }
  return out;
}

export function stackEnv(p: Profile, keys: StackKeys): Record<string, string> {
  const fakes = p.urls.fakes;
  const tls = tlsFiles(p);
  const plan = planIntegrations(fakes, readDotenv(byokFile(p)));
  return {
    CCE_PROFILE: p.name,
    SUPABASE_URL: p.urls.gateway,
    ...apiKeyEnv(keys),
    SUPABASE_DB_URL: p.dbUrl,
    // Each external service: the real one when its credential is in the env file (`.env`),
    // else the fakes with placeholders (local/stack/byok.ts).
    ...plan.env,
    WEB_APP_URL: p.urls.web,
    // Product email: the fake Resend, which delivers into the local mail catcher.
    RESEND_API_BASE: `${fakes}/resend`,
    RESEND_API_KEY: 'local-resend-key',
    // a bare address: the stack's env files are sourced by shells (`. stack.env`), where < > would not parse
    EMAIL_FROM: 'notifications@catalyst.local',
    EMAIL_LINK_SECRET: 'local-email-link-secret-only-for-the-local-stack',
    ENABLE_API_MOCKING: Object.values(plan.services).some((s) => s.backend === 'fake') ? 'true' : 'false',
    // Where the fakes are: `health` reports a service whose base URL is elsewhere as real.
    API_FAKES_ORIGIN: new URL(fakes).origin,
    // The fakes stand in for RevID's CDN, so the thumbnails of local renders are on 127.0.0.1:
    // their origin (and only it) is exempt from the public-address check of member-given URLs,
    // as is a stand-in the env file put at a loopback base URL. Real services are public and
    // pass the check itself.
    OUTBOUND_TRUSTED_ORIGINS: [new URL(fakes).origin, ...plan.loopbackOrigins].join(','),
    // Flags and limits may be overridden from the caller's environment (benchmarks, experiments).
    ENABLE_RATE_LIMITING: process.env.ENABLE_RATE_LIMITING ?? 'true',
    ENABLE_ANALYTICS: process.env.ENABLE_ANALYTICS ?? 'true',
    ENABLE_ERROR_TRACKING: process.env.ENABLE_ERROR_TRACKING ?? 'true',
    ENABLE_DEBUG_MODE: process.env.ENABLE_DEBUG_MODE ?? 'false',
    MAX_VIDEO_GENERATIONS_PER_USER: process.env.MAX_VIDEO_GENERATIONS_PER_USER ?? '50',
    MAX_API_REQUESTS_PER_MINUTE: process.env.MAX_API_REQUESTS_PER_MINUTE ?? '100',
    MAX_ANONYMOUS_REQUESTS_PER_MINUTE: process.env.MAX_ANONYMOUS_REQUESTS_PER_MINUTE ?? '100',
    // Internal wiring of the local stack (not read by product code).
    LOCAL_AUTH_PORT: String(p.ports.auth),
    LOCAL_GATEWAY_PORT: String(p.ports.gateway),
    LOCAL_FUNCTIONS_PORT: String(p.ports.functions),
    LOCAL_FAKES_PORT: String(p.ports.fakes),
    LOCAL_WEB_PORT: String(p.ports.web),
    WEB_PORT: String(p.ports.web),
    WEB_URL: p.urls.web,
    LOCAL_AUTH_URL: p.urls.auth,
    LOCAL_FUNCTIONS_URL: p.urls.functions,
    LOCAL_FUNCTIONS_ENV_FILE: resolve(p.dataRoot, 'functions.env'),
    // Function log lines past hosted's log limits, whole (README "Edge runtime").
    LOCAL_EDGE_DROPPED_LOG: resolve(p.dataRoot, 'logs', 'functions-dropped.log'),
    LOCAL_FAKES_URL: p.urls.fakes,
    // The mail catcher (local/mail): what Auth and the product send to, and its inbox.
    LOCAL_MAIL_URL: p.urls.mail,
    LOCAL_MAIL_PORT: String(p.ports.mail),
    LOCAL_MAIL_DIR: resolve(p.dataRoot, 'mail'),
    LOCAL_SMTP_HOST: '127.0.0.1',
    LOCAL_SMTP_PORT: String(p.ports.smtp),
    // supabase/config.toml's env(SITE_URL) / env(SITE_REDIRECT_URL), as `config push` gets them
    // in a deployment: Auth's links lead to the web app and may return only to it.
    SITE_URL: p.urls.web,
    SITE_REDIRECT_URL: `${p.urls.web}/**`,
    LOCAL_KEY_FILE: resolve(p.dataRoot, 'jwt-signing-key.json'),
    // For the deno runtime itself, so every deno the stack starts can fetch its npm: imports.
    ...DENO_ENV,
    LOCAL_FAKES_TLS_CERT: tls.certFile,
    LOCAL_FAKES_TLS_KEY: tls.keyFile,
    // The fakes' CA, trusted the way a deployment would trust a private CA: by the runtimes'
    // own environment variables, never by code. Deno (functions, their tests) reads DENO_CERT,
    // Node (fakes control clients, tests, benchmarks, tools) NODE_EXTRA_CA_CERTS at start-up.
    // Both name the same file: Deno's node:https (the upload path) reads NODE_EXTRA_CA_CERTS in
    // preference to DENO_CERT when both are set.
    DENO_CERT: tls.caFile,
    NODE_EXTRA_CA_CERTS: tls.caFile,
  };
}

// DENO_* and NODE_EXTRA_CA_CERTS: settings of the runtimes themselves (the edge runtime passes
// them to its isolates), not secrets.
// SUPABASE_PUBLISHABLE_KEY / SUPABASE_SECRET_KEY are the clients' names; functions get the plural JSON.
const STACK_WIRING =
  /^(LOCAL_|CCE_|DENO_|NODE_EXTRA_CA_CERTS$|WEB_PORT$|WEB_URL$|SITE_URL$|SITE_REDIRECT_URL$|SUPABASE_PUBLISHABLE_KEY$|SUPABASE_SECRET_KEY$)/;

/**
 * Writes the env as a dotenv file (for the dev profile also as the repo's `.env.local`), and
 * what the functions get, as `supabase secrets set --env-file` would give it to hosted ones.
 */
export function writeEnvFiles(p: Profile, env: Record<string, string>) {
  const dotenv = (entries: [string, string][]) => entries.map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
  const text = dotenv(Object.entries(env));
  mkdirSync(dirname(p.envFile), { recursive: true });
  writeFileSync(p.envFile, text, { mode: 0o600 });
  writeFileSync(env.LOCAL_FUNCTIONS_ENV_FILE, dotenv(Object.entries(env).filter(([k]) => !STACK_WIRING.test(k))), { mode: 0o600 });
  if (p.name === 'dev') writeFileSync(resolve(ROOT, '.env.local'), text, { mode: 0o600 });
}
