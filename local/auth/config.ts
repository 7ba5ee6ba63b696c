// The [auth] settings of supabase/config.toml that the emulator applies, read from the file
// itself so local Auth and hosted Auth (`supabase config push`) share one source. Values written
// env(NAME) are taken from the environment, as the Supabase CLI does.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'smol-toml';
import { z } from 'zod';

export type EmailTemplateName = 'confirmation' | 'invite' | 'recovery' | 'magic_link' | 'email_change';
export const EMAIL_TEMPLATES: EmailTemplateName[] = ['confirmation', 'invite', 'recovery', 'magic_link', 'email_change'];

export interface RateLimits {
  /** Emails Auth sends per hour, for the whole project. */
  emailSent: number;
  /** Per client address per 5 minutes: sign-ups, /otp, /magiclink, /recover, /resend, PUT /user (each its own bucket). */
  signInSignUps: number;
  /** Per client address per 5 minutes: every /token grant (GoTrue counts password sign-ins here). */
  tokenRefresh: number;
  /** Per client address per 5 minutes: GET and POST /verify. */
  tokenVerifications: number;
}

export interface AuthConfig {
  siteUrl: string;
  additionalRedirectUrls: string[];
  enableSignup: boolean;
  enableConfirmations: boolean;
  /** Secure email change: both the old and the new address must confirm. */
  doubleConfirmChanges: boolean;
  /** Shortest time between two emails of one kind to one user. */
  maxFrequencyMs: number;
  otpLength: number;
  otpExpirySeconds: number;
  rateLimits: RateLimits;
  templates: Partial<Record<EmailTemplateName, { subject?: string; contentPath?: string }>>;
  sender: { name: string; email: string };
}

const Template = z.object({ subject: z.string().optional(), content_path: z.string().optional() });
const ConfigToml = z.looseObject({
  auth: z.looseObject({
    site_url: z.string().default('http://127.0.0.1:3000'),
    additional_redirect_urls: z.array(z.string()).default([]),
    enable_signup: z.boolean().default(true),
    rate_limit: z
      .looseObject({
        email_sent: z.number().int().min(0).default(2),
        sign_in_sign_ups: z.number().int().min(0).default(30),
        token_refresh: z.number().int().min(0).default(150),
        token_verifications: z.number().int().min(0).default(30),
      })
      .prefault({}),
    email: z
      .looseObject({
        enable_signup: z.boolean().default(true),
        enable_confirmations: z.boolean().default(false),
        double_confirm_changes: z.boolean().default(true),
        max_frequency: z.string().default('1s'),
        otp_length: z.number().int().min(6).max(10).default(6),
        otp_expiry: z.number().int().min(1).max(86400).default(3600),
        template: z.record(z.string(), Template).default({}),
        smtp: z.looseObject({ admin_email: z.string().optional(), sender_name: z.string().optional() }).optional(),
      })
      .prefault({}),
  }),
});

/** env(NAME) → the variable's value (unset: the text as written, as the CLI leaves it). */
function resolveEnv(value: string, env: NodeJS.ProcessEnv): string {
  const m = /^env\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(value.trim());
  return m ? (env[m[1]!] ?? value) : value;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** config.toml durations such as "60s" or "1m0s" (Go's time.Duration text). */
export function parseDurationMs(text: string): number {
  let total = 0;
  const parts = text.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g);
  if (!parts || parts.join('') !== text) throw new Error(`invalid duration "${text}" in supabase/config.toml`);
  for (const part of parts) {
    const [, n, unit] = DURATION.exec(part)!;
    total += Number(n) * UNIT_MS[unit!]!;
  }
  return total;
}

export function readAuthConfig(configPath: string, env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const parsed = ConfigToml.parse(parse(readFileSync(configPath, 'utf8')));
  const auth = parsed.auth;
  const email = auth.email;
  const projectRoot = resolve(dirname(configPath), '..');
  const templates: AuthConfig['templates'] = {};
  for (const name of EMAIL_TEMPLATES) {
    const t = email.template[name];
    if (!t) continue;
    templates[name] = { subject: t.subject, contentPath: t.content_path ? resolve(projectRoot, t.content_path) : undefined };
  }
  const adminEmail = resolveEnv(email.smtp?.admin_email ?? '', env);
  return {
    siteUrl: resolveEnv(auth.site_url, env),
    additionalRedirectUrls: auth.additional_redirect_urls.map((u) => resolveEnv(u, env)).filter((u) => u && !u.startsWith('env(')),
    enableSignup: auth.enable_signup && email.enable_signup,
    enableConfirmations: email.enable_confirmations,
    doubleConfirmChanges: email.double_confirm_changes,
    maxFrequencyMs: parseDurationMs(email.max_frequency),
    otpLength: email.otp_length,
    otpExpirySeconds: email.otp_expiry,
    rateLimits: {
      emailSent: auth.rate_limit.email_sent,
      signInSignUps: auth.rate_limit.sign_in_sign_ups,
      tokenRefresh: auth.rate_limit.token_refresh,
      tokenVerifications: auth.rate_limit.token_verifications,
    },
    templates,
    sender: {
      name: email.smtp?.sender_name ?? 'Supabase Auth',
      // The production sender comes from the environment of `config push`; locally any address does.
      email: adminEmail && !adminEmail.startsWith('env(') ? adminEmail : 'no-reply@auth.local',
    },
  };
}

/**
 * GoTrue's own variables for its limits (a self-hosted GoTrue reads the same names); the test
 * stack raises them because all its requests come from one address.
 */
export function rateLimitsFromEnv(base: RateLimits, env: NodeJS.ProcessEnv = process.env): RateLimits {
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
    return n;
  };
  return {
    emailSent: num('GOTRUE_RATE_LIMIT_EMAIL_SENT', base.emailSent),
    signInSignUps: num('GOTRUE_RATE_LIMIT_OTP', base.signInSignUps),
    tokenRefresh: num('GOTRUE_RATE_LIMIT_TOKEN_REFRESH', base.tokenRefresh),
    tokenVerifications: num('GOTRUE_RATE_LIMIT_VERIFY', base.tokenVerifications),
  };
}
