// Configuration of every function, validated once. A missing or malformed variable stops the
// function with a message that names it, instead of failing later on first use.
import { z } from 'zod';
import { REAL_BASES } from '../integrations/backends.ts';

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

const url = (fallback: string) =>
  z
    .url()
    .default(fallback)
    .transform((u) => u.replace(/\/+$/, ''));

/** A comma-separated list: its items trimmed, empty ones dropped (unset is an empty list). */
const commaList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    );

/** A JSON text the platform gives functions; a malformed one is named, its value never echoed. */
const jsonText = <T extends z.ZodType>(schema: T, expected: string) =>
  z.string().transform((text, ctx) => {
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data as z.infer<T>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: `must be JSON: ${expected}` });
    return z.NEVER;
  });

// SUPABASE_PUBLISHABLE_KEYS / SUPABASE_SECRET_KEYS: a JSON map of key name to key, e.g. {"default": "sb_secret_…"}.
const keyMap = (prefix: string) =>
  jsonText(
    z.record(
      z.string().min(1),
      z
        .string()
        .startsWith(prefix)
        .min(prefix.length + 16),
    ),
    `an object of key name to ${prefix}… key`,
  );

export const EnvSchema = z
  .object({
    SUPABASE_URL: z.url(),
    // The new API keys and the JWKS, as hosted gives them to every function of a project that has
    // them; the legacy pair while the project still has it. Callers are checked against both.
    SUPABASE_PUBLISHABLE_KEYS: keyMap('sb_publishable_').optional(),
    SUPABASE_SECRET_KEYS: keyMap('sb_secret_').optional(),
    SUPABASE_JWKS: jsonText(
      z.object({ keys: z.array(z.looseObject({ kty: z.string() })) }),
      'a JSON Web Key Set {"keys": [...]}',
    ).optional(),
    SUPABASE_ANON_KEY: z.string().min(20).optional(),
    SUPABASE_SERVICE_ROLE_KEY: z.string().min(20).optional(),
    SUPABASE_DB_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    // Hosted projects give functions SUPABASE_DB_URL as the direct connection, and SUPABASE_* names
    // cannot be set as secrets; this one points functions at Supavisor's transaction mode instead.
    DATABASE_POOLER_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),

    YOUTUBE_CLIENT_ID: z.string().optional(),
    YOUTUBE_CLIENT_SECRET: z.string().optional(),
    GEMINI_API_KEY: z.string().optional(),
    REVID_API_KEY: z.string().optional(),
    YOUTUBE_API_BASE: url(REAL_BASES.YOUTUBE_API_BASE),
    YOUTUBE_OAUTH_BASE: url(REAL_BASES.YOUTUBE_OAUTH_BASE),
    YOUTUBE_UPLOAD_BASE: url(REAL_BASES.YOUTUBE_UPLOAD_BASE),
    YOUTUBE_ANALYTICS_BASE: url(REAL_BASES.YOUTUBE_ANALYTICS_BASE),
    GEMINI_API_BASE: url(REAL_BASES.GEMINI_API_BASE),
    REVID_API_BASE: url(REAL_BASES.REVID_API_BASE),
    WEB_APP_URL: url('http://127.0.0.1:54323'),
    // Product email goes through Resend's HTTP API (hosted functions cannot open ports 25 or 587).
    RESEND_API_BASE: url('https://api.resend.com'),
    RESEND_API_KEY: z.string().min(1).optional(),
    // "Name <address>" or an address of a domain verified at the provider
    EMAIL_FROM: z
      .string()
      .regex(/^([^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'must be an address or "Name <address>"')
      .optional(),
    // HMAC key of the one-click unsubscribe links in notification emails
    EMAIL_LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),

    ENABLE_API_MOCKING: flag(false),
    ENABLE_RATE_LIMITING: flag(true),
    ENABLE_ANALYTICS: flag(true),
    ENABLE_ERROR_TRACKING: flag(true),
    ENABLE_DEBUG_MODE: flag(false),
    MAX_VIDEO_GENERATIONS_PER_USER: z.coerce.number().int().min(0).default(50),
    MAX_API_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(100),
    // Origins (scheme://host:port, comma-separated) that fetches of member-given URLs may reach
    // without the public-address check (_shared/platform/outbound/public-fetch.ts): the local stack's fakes.
    // Deployed environments never set it.
    OUTBOUND_TRUSTED_ORIGINS: commaList().pipe(
      z.array(z.url().refine((o) => new URL(o).origin === o.replace(/\/+$/, ''), 'must be origins (scheme://host:port), comma-separated')),
    ),
    // Origins (comma-separated) where the local stack runs its fakes of the external services.
    // Only `health` reads it, to report each service as real or fake by its base URL; deployed
    // environments never set it.
    API_FAKES_ORIGIN: commaList().pipe(z.array(z.url())),
    // calls without a verified token per client address (IPv6: per /64) and minute; 0 = no limit
    MAX_ANONYMOUS_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(100),
    // proxies that append to X-Forwarded-For after the platform's gateway (their entries are skipped)
    TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
  })
  .superRefine((env, ctx) => {
    // Workers are woken with a service key: without any, no scheduled job could ever run.
    if (!env.SUPABASE_SERVICE_ROLE_KEY && Object.keys(env.SUPABASE_SECRET_KEYS ?? {}).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['SUPABASE_SECRET_KEYS'],
        message: 'SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY is required',
      });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export class EnvError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'EnvError';
  }
}

/** Parses an env object; errors name the variable and the problem, never its value. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== '')));
  if (result.success) return result.data;
  throw new EnvError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
}

let cached: Env | undefined;

export function env(): Env {
  cached ??= parseEnv(Deno.env.toObject());
  return cached;
}
