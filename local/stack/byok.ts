// Bring your own keys: which external services the local stack talks to for real. A service
// whose credential is in the env file (`.env` for the dev profile, or the file CCE_ENV_FILE names)
// gets that credential and its base URLs from the file (the real hosts when unset); every other
// service gets the fakes and their placeholder credentials. Only values change, never code.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  backends,
  INTEGRATION_VARIABLES,
  INTEGRATIONS,
  REAL_BASES,
  type Backend,
  type BaseVariable,
  type Integration,
} from '../../supabase/functions/_shared/integrations/backends.ts';
import { ROOT, type Profile } from '../profile.ts';

export const SERVICE_LABELS: Record<Integration, string> = {
  youtube: 'YouTube + Google OAuth',
  gemini: 'Gemini',
  revid: 'RevID',
};

// Placeholders the fakes accept; no real key is ever needed for a fake.
const FAKE_CREDENTIALS: Record<string, string> = {
  YOUTUBE_CLIENT_ID: 'local-client-id.apps.googleusercontent.com',
  YOUTUBE_CLIENT_SECRET: 'local-client-secret',
  GEMINI_API_KEY: 'local-gemini-key',
  REVID_API_KEY: 'local-revid-key',
};

const FAKE_PATHS: Record<BaseVariable, string> = {
  YOUTUBE_API_BASE: '/youtube',
  YOUTUBE_OAUTH_BASE: '/oauth',
  YOUTUBE_UPLOAD_BASE: '/youtube',
  YOUTUBE_ANALYTICS_BASE: '/youtube-analytics',
  GEMINI_API_BASE: '/gemini',
  REVID_API_BASE: '/revid',
};

/** The env file a profile reads credentials from: CCE_ENV_FILE, else `.env` for `dev` only. */
export function byokFile(p: Profile, from: NodeJS.ProcessEnv = process.env): string | null {
  if (from.CCE_ENV_FILE) return resolve(from.CCE_ENV_FILE);
  // Other profiles (tests, benchmarks) never pick up someone's real keys by accident.
  return p.name === 'dev' ? resolve(ROOT, '.env') : null;
}

/** A dotenv file: KEY=VALUE lines, `#` comments, optional `export `, single or double quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    value = quoted ? quoted[2]! : value.replace(/\s+#.*$/, '').trim();
    out[m[1]!] = value;
  }
  return out;
}

export function readDotenv(file: string | null): Record<string, string> {
  return file && existsSync(file) ? parseDotenv(readFileSync(file, 'utf8')) : {};
}

// `.env.example`'s placeholders ("your-gemini-api-key") copied unchanged are not credentials.
function given(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '' && !/^your-/i.test(value.trim());
}

export interface ServicePlan {
  backend: Backend;
  /** Why, in words, for the banner and the doctor (never a value). */
  reason: string;
  /** Credential names set in the file while others of the same service are missing. */
  missing: string[];
}

export interface ByokPlan {
  env: Record<string, string>;
  services: Record<Integration, ServicePlan>;
  /** Loopback origins of base URLs from the file: stand-ins the SSRF guard must let through. */
  loopbackOrigins: string[];
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** Each service's credentials and base URLs: from the file when its credential is complete there. */
export function planIntegrations(fakesUrl: string, file: Record<string, string>): ByokPlan {
  const env: Record<string, string> = {};
  const services = {} as Record<Integration, ServicePlan>;
  const loopback = new Set<string>();
  for (const service of INTEGRATIONS) {
    const { credentials, bases } = INTEGRATION_VARIABLES[service];
    const present = credentials.filter((name) => given(file[name]));
    const complete = present.length === credentials.length;
    for (const name of credentials) env[name] = complete ? file[name]!.trim() : FAKE_CREDENTIALS[name]!;
    for (const name of bases) {
      const url =
        complete && given(file[name])
          ? file[name]!.trim().replace(/\/+$/, '')
          : complete
            ? REAL_BASES[name]
            : `${fakesUrl}${FAKE_PATHS[name]}`;
      env[name] = url;
      if (complete && isLoopback(url)) loopback.add(new URL(url).origin);
    }
    if (service === 'youtube' && complete && given(file.GOOGLE_AUTH_BASE)) env.GOOGLE_AUTH_BASE = file.GOOGLE_AUTH_BASE.trim();
    const missing = present.length > 0 && !complete ? credentials.filter((name) => !present.includes(name)) : [];
    services[service] = {
      backend: 'fake',
      missing,
      reason: complete
        ? `${present.join(' and ')} from the env file`
        : missing.length
          ? `${missing.join(', ')} missing in the env file`
          : 'no credential in the env file',
    };
  }
  const decided = backends(env, [new URL(fakesUrl).origin]);
  for (const service of INTEGRATIONS) services[service].backend = decided[service];
  return { env, services, loopbackOrigins: [...loopback] };
}

/** The services as the functions were configured: real or fake, decided from base URLs alone. */
export function integrationSummary(
  env: Record<string, string | undefined>,
): { service: Integration; label: string; backend: Backend; base: string }[] {
  const fakesOrigins = (env.API_FAKES_ORIGIN ?? '').split(',').filter((o) => o !== '');
  const decided = backends(env, fakesOrigins);
  return INTEGRATIONS.map((service) => {
    const first = INTEGRATION_VARIABLES[service].bases[0]!;
    return { service, label: SERVICE_LABELS[service], backend: decided[service], base: env[first] || REAL_BASES[first] };
  });
}

/** The start banner's lines on external services (names and hosts, never a credential). */
export function integrationBanner(env: Record<string, string | undefined>): string {
  const lines = integrationSummary(env).map((s) => `  ${s.label.padEnd(24)}${s.backend === 'real' ? 'REAL' : 'fake'}  ${s.base}`);
  if (integrationSummary(env).some((s) => s.service === 'youtube' && s.backend === 'real')) {
    lines.push(`  (Google OAuth redirect URI to register: ${env.SUPABASE_URL}/functions/v1/youtube-oauth/callback)`);
  }
  return ['  External services (real when their credential is in .env; check them with npm run doctor):', ...lines].join('\n');
}
