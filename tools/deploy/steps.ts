// The deploy of one environment as a list of steps, the same ones .github/workflows/deploy.yml
// runs in its migrate and deploy jobs, in the same order, for `npm run deploy` from a person's
// machine (tools/deploy.ts). Values come from one env (a file or the shell) with the names the
// GitHub environment uses for its secrets and variables; every value is checked before the first
// step changes anything, and steps that need a secret get it in a file only this user can read,
// removed after the step.
import * as z from 'zod';
import { functionEnvFile } from './function-secrets.ts';
import { valuesFromEnv, vaultUpsertSql } from './vault-secrets.ts';

/** The Vercel CLI the workflow pins. */
export const VERCEL = 'vercel@64.0.2';

export interface Step {
  name: string;
  /** argv; `{file}` stands for the step's secret file. */
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Contents of a secret file the step reads (mode 0600, deleted after the step). */
  secretFile?: string;
  /** Runs in-process instead of argv (writing the web output). */
  inProcess?: () => void;
}

const Required = z
  .object({
    SUPABASE_ACCESS_TOKEN: z
      .string({ error: 'SUPABASE_ACCESS_TOKEN is not set (a personal access token: supabase.com/dashboard/account/tokens)' })
      .min(1),
    SUPABASE_DB_PASSWORD: z.string({ error: 'SUPABASE_DB_PASSWORD is not set' }).min(1),
    SUPABASE_URL: z.url({ protocol: /^https$/, error: 'SUPABASE_URL must be the project URL (https://<ref>.supabase.co)' }),
    // The project's public key for the web app and the smoke test: the publishable key, or the
    // legacy anon key for a project that has not created the new keys.
    SUPABASE_PUBLISHABLE_KEY: z
      .string()
      .startsWith('sb_publishable_', 'SUPABASE_PUBLISHABLE_KEY must be a publishable key (sb_publishable_…)')
      .optional(),
    SUPABASE_ANON_KEY: z.string().min(20, 'SUPABASE_ANON_KEY is too short to be a key').optional(),
    WEB_URL: z.url({ protocol: /^https$/, error: "WEB_URL must be the web app's https URL" }).transform((u) => u.replace(/\/+$/, '')),
  })
  .refine(
    (e) => e.SUPABASE_PUBLISHABLE_KEY || e.SUPABASE_ANON_KEY,
    'SUPABASE_PUBLISHABLE_KEY (or the legacy SUPABASE_ANON_KEY) is not set',
  );
const Web = z.object({
  VERCEL_TOKEN: z.string({ error: 'VERCEL_TOKEN is not set (or pass --skip-web)' }).min(1),
  VERCEL_ORG_ID: z.string({ error: 'VERCEL_ORG_ID is not set (or pass --skip-web)' }).min(1),
  VERCEL_PROJECT_ID: z.string({ error: 'VERCEL_PROJECT_ID is not set (or pass --skip-web)' }).min(1),
});

export interface DeployOptions {
  projectRef: string;
  version: string;
  skipWeb: boolean;
  skipSmoke: boolean;
  writeWebOutput: (config: { supabaseUrl: string; supabaseAnonKey: string }) => void;
}

const issues = (e: z.ZodError) => e.issues.map((i) => i.message);

/** Checks everything the steps need; errors name variables, never values. */
const SMTP_SETTINGS = ['SMTP_HOST', 'SMTP_USER', 'SMTP_PASS', 'SMTP_ADMIN_EMAIL'] as const;

export function deploySteps(given: Record<string, string | undefined>, o: DeployOptions): Step[] {
  const env = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  const problems: string[] = [];
  if (!/^[a-z0-9]{20}$/.test(o.projectRef)) problems.push('--project-ref must be the 20-character project id (Project Settings → General)');
  const required = Required.safeParse(env);
  if (!required.success) problems.push(...issues(required.error));
  const web = o.skipWeb ? null : Web.safeParse(env);
  if (web && !web.success) problems.push(...issues(web.error));
  let vault: string | null = null;
  let functions: string | null = null;
  try {
    vault = vaultUpsertSql(
      valuesFromEnv({
        VAULT_PROJECT_URL: env.SUPABASE_URL,
        VAULT_SECRET_API_KEY: env.SUPABASE_SECRET_KEY,
        VAULT_SERVICE_ROLE_KEY: env.SUPABASE_SERVICE_ROLE_KEY,
        VAULT_ALERT_WEBHOOK_URL: env.ALERT_WEBHOOK_URL,
      }),
    ).sql;
  } catch (err) {
    problems.push(
      `Vault: ${(err as Error).message.replaceAll('VAULT_PROJECT_URL', 'SUPABASE_URL').replaceAll('VAULT_SECRET_API_KEY', 'SUPABASE_SECRET_KEY').replaceAll('VAULT_SERVICE_ROLE_KEY', 'SUPABASE_SERVICE_ROLE_KEY').replaceAll('VAULT_ALERT_WEBHOOK_URL', 'ALERT_WEBHOOK_URL')}`,
    );
  }
  try {
    // As the workflow sets them: the web app from WEB_URL, mocking off, no trusted origins.
    functions = functionEnvFile({
      ...env,
      APP_VERSION: o.version,
      WEB_APP_URL: env.WEB_URL,
      ENABLE_API_MOCKING: 'false',
      OUTBOUND_TRUSTED_ORIGINS: '',
      API_FAKES_ORIGIN: '',
    }).text;
  } catch (err) {
    problems.push(`function secrets: ${(err as Error).message}`);
  }
  if (problems.length || !required.success) throw new Error(problems.join('\n'));
  const r = required.data;
  const publicKey = (r.SUPABASE_PUBLISHABLE_KEY ?? r.SUPABASE_ANON_KEY) as string;
  const publicKeyEnv: Record<string, string> = r.SUPABASE_PUBLISHABLE_KEY
    ? { SUPABASE_PUBLISHABLE_KEY: publicKey }
    : { SUPABASE_ANON_KEY: publicKey };
  const ref = o.projectRef;
  // What the workflow's jobs give every step.
  const job = { SUPABASE_ACCESS_TOKEN: r.SUPABASE_ACCESS_TOKEN, SUPABASE_DB_PASSWORD: r.SUPABASE_DB_PASSWORD, SUPABASE_PROJECT_REF: ref };
  const supabase = (name: string, args: string[], more: Partial<Step> = {}): Step => ({
    name,
    argv: ['npx', 'supabase', ...args],
    ...more,
    env: { ...job, ...more.env },
  });
  const steps: Step[] = [
    supabase('Link the project', ['link', '--project-ref', ref]),
    // Auth's custom SMTP ([auth.email.smtp] in config.toml): passed on only when set.
    supabase('Project settings', ['config', 'push', '--project-ref', ref, '--yes'], {
      env: {
        SITE_URL: r.WEB_URL,
        SITE_REDIRECT_URL: `${r.WEB_URL}/**`,
        ...Object.fromEntries(SMTP_SETTINGS.filter((k) => env[k]).map((k) => [k, env[k]!])),
      },
    }),
    supabase('Vault secrets for pg_cron', ['db', 'query', '--linked', '-f', '{file}'], { secretFile: vault! }),
    supabase('Pending migrations', ['db', 'push', '--dry-run']),
    supabase('Migrate', ['db', 'push', '--yes']),
    supabase('Function secrets', ['secrets', 'set', '--project-ref', ref, '--env-file', '{file}'], { secretFile: functions! }),
    supabase('Edge functions', ['functions', 'deploy', '--project-ref', ref, '--use-api', '--import-map', 'supabase/functions/deno.json']),
  ];
  if (web?.success) {
    steps.push(
      { name: 'Web build (npm ci)', argv: ['npm', 'ci'], cwd: 'web' },
      { name: 'Web build', argv: ['npm', 'run', 'build'], cwd: 'web' },
      { name: 'Web output', argv: [], inProcess: () => o.writeWebOutput({ supabaseUrl: r.SUPABASE_URL, supabaseAnonKey: publicKey }) },
      {
        name: 'Web deploy (Vercel)',
        argv: ['npx', '--yes', VERCEL, 'deploy', '--prebuilt', '--prod', '--yes', '--token', web.data.VERCEL_TOKEN],
        env: { VERCEL_ORG_ID: web.data.VERCEL_ORG_ID, VERCEL_PROJECT_ID: web.data.VERCEL_PROJECT_ID },
      },
    );
  }
  if (!o.skipSmoke) {
    steps.push({
      name: 'Smoke test',
      argv: ['npm', 'run', 'smoke', '--', '--wait', '120'],
      env: {
        SUPABASE_URL: r.SUPABASE_URL,
        ...publicKeyEnv,
        SMOKE_WEB_URL: o.skipWeb ? '' : r.WEB_URL,
        ...(env.SMOKE_EMAIL ? { SMOKE_EMAIL: env.SMOKE_EMAIL } : {}),
        ...(env.SMOKE_PASSWORD ? { SMOKE_PASSWORD: env.SMOKE_PASSWORD } : {}),
      },
    });
  }
  return steps;
}

/** A step's command line for people: the secret file by name, a token never. */
export function describeStep(s: Step, secrets: string[]): string {
  if (s.inProcess) return `${s.name}: (in-process) .vercel/output with config.json`;
  let line = s.argv.map((a) => (a === '{file}' ? '<secret file>' : a)).join(' ');
  for (const secret of secrets) if (secret.length >= 8) line = line.replaceAll(secret, '***');
  return `${s.name}: ${s.cwd ? `(in ${s.cwd}/) ` : ''}${line}`;
}
