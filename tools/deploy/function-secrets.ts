// The edge functions' configuration for one environment, as the env file `supabase secrets set
// --env-file` reads. Values come from the GitHub environment (secrets and variables, passed to
// the step as env vars of the same name); this module decides which names are pushed, checks
// them before anything changes, and writes the file only the runner user can read.
//
//   APP_VERSION=v1.2.0 YOUTUBE_CLIENT_ID=… … node --import tsx tools/deploy/function-secrets.ts --out "$RUNNER_TEMP/functions.env"
//
// SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY and SUPABASE_DB_URL are set by the
// platform in every hosted function (and names starting with SUPABASE_ cannot be set), so they are
// never pushed. Unset optional names are left out: the functions' defaults (supabase/functions/
// _shared/platform/env.ts) apply. Prints names only, never a value.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as z from 'zod';

const flag = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' });
const count = z.string().regex(/^\d+$/, 'must be a whole number');
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https URL' });
const secret = z.string().trim().min(1, 'is empty');

/** Every name the functions read besides the platform's SUPABASE_* ones, with its rule. */
export const FUNCTION_ENV = {
  // Secrets of the environment: a deploy without them would break sign-in with YouTube,
  // generation or rendering, so they are required.
  YOUTUBE_CLIENT_ID: { required: true, schema: secret },
  YOUTUBE_CLIENT_SECRET: { required: true, schema: secret },
  GEMINI_API_KEY: { required: true, schema: secret },
  REVID_API_KEY: { required: true, schema: secret },
  // Where OAuth callbacks send the user back: the environment's web app.
  WEB_APP_URL: { required: true, schema: httpsUrl },
  // Reported by `health`: the release tag or commit being deployed.
  APP_VERSION: { required: true, schema: z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/, 'must be a tag or commit id') },
  // Deployed environments never talk to the local fakes.
  ENABLE_API_MOCKING: { required: false, schema: z.enum(['false', '0'], { error: 'must be false in a deployed environment' }) },
  // Lets member-given URLs reach non-public addresses (the local fakes): never in a deployment.
  OUTBOUND_TRUSTED_ORIGINS: { required: false, schema: z.never({ error: 'must not be set in a deployed environment' }) },
  // Where the local stack's fakes are (health reports services there as fakes): never deployed.
  API_FAKES_ORIGIN: { required: false, schema: z.never({ error: 'must not be set in a deployed environment' }) },
  ENABLE_RATE_LIMITING: { required: false, schema: flag },
  ENABLE_ANALYTICS: { required: false, schema: flag },
  ENABLE_ERROR_TRACKING: { required: false, schema: flag },
  ENABLE_DEBUG_MODE: { required: false, schema: flag },
  MAX_VIDEO_GENERATIONS_PER_USER: { required: false, schema: count },
  MAX_API_REQUESTS_PER_MINUTE: { required: false, schema: count },
  MAX_ANONYMOUS_REQUESTS_PER_MINUTE: { required: false, schema: count },
  TRUSTED_PROXY_HOPS: { required: false, schema: count },
  DB_POOL_MAX: { required: false, schema: count },
  // Supavisor's transaction mode; the platform's SUPABASE_DB_URL is the direct connection.
  DATABASE_POOLER_URL: {
    required: false,
    schema: z.string().regex(/^postgres(ql)?:\/\/.+:6543\//, 'must be the postgres:// URL of the transaction pooler (port 6543)'),
  },
  // Hosts of the external APIs: unset means the real services (a staging sandbox may set them).
  YOUTUBE_API_BASE: { required: false, schema: httpsUrl },
  YOUTUBE_OAUTH_BASE: { required: false, schema: httpsUrl },
  YOUTUBE_UPLOAD_BASE: { required: false, schema: httpsUrl },
  YOUTUBE_ANALYTICS_BASE: { required: false, schema: httpsUrl },
  GOOGLE_AUTH_BASE: { required: false, schema: httpsUrl },
  GEMINI_API_BASE: { required: false, schema: httpsUrl },
  REVID_API_BASE: { required: false, schema: httpsUrl },
  // Product email (Resend): without the key and sender, notification emails wait in the outbox.
  RESEND_API_BASE: { required: false, schema: httpsUrl },
  RESEND_API_KEY: { required: false, schema: secret },
  EMAIL_FROM: {
    required: false,
    schema: z.string().regex(/^([^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'must be an address or "Name <address>"'),
  },
  EMAIL_LINK_SECRET: { required: false, schema: z.string().min(32, 'must be at least 32 characters') },
} as const;
export type FunctionEnvName = keyof typeof FUNCTION_ENV;

/** A dotenv line the Supabase CLI reads back verbatim: single quotes, so `$` and `#` stay literal. */
function dotenvLine(name: string, value: string): string {
  if (value.includes("'") || /[\r\n]/.test(value)) {
    throw new Error(`${name} contains a quote or a line break; set it by hand with \`supabase secrets set\``);
  }
  return `${name}='${value}'`;
}

/** Checks the values (errors name variables, never values) and renders the env file. */
export function functionEnvFile(env: Record<string, string | undefined>): { text: string; names: FunctionEnvName[] } {
  const problems: string[] = [];
  const lines: string[] = [];
  const names: FunctionEnvName[] = [];
  for (const [name, rule] of Object.entries(FUNCTION_ENV) as [FunctionEnvName, (typeof FUNCTION_ENV)[FunctionEnvName]][]) {
    const raw = name === 'ENABLE_API_MOCKING' ? (env[name] ?? 'false') : env[name];
    if (raw === undefined || raw === '') {
      if (rule.required) problems.push(`${name} is not set`);
      continue;
    }
    const parsed = rule.schema.safeParse(raw);
    if (!parsed.success) {
      problems.push(`${name} ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
      continue;
    }
    try {
      lines.push(dotenvLine(name, raw.trim()));
      names.push(name);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length) throw new Error(problems.join('; '));
  return { text: lines.join('\n') + '\n', names };
}

if (import.meta.filename === process.argv[1]) {
  try {
    const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
    if (!values.out) throw new Error('give --out <file> (it holds secrets, so it never goes to stdout)');
    const { text, names } = functionEnvFile(process.env);
    writeFileSync(values.out, text, { mode: 0o600 });
    console.log(`function secrets: ${names.join(', ')}`);
  } catch (err) {
    console.error(`function secrets: ${(err as Error).message}`);
    process.exit(2);
  }
}
