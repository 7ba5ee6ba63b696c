// `npm run smoke -- --url <project url>`: the post-deploy smoke test (checks in smoke/checks.ts).
// Prints one line per check and exits 1 if any fails.
//
//   --url <url>          Supabase project URL (local: the gateway)      env SUPABASE_URL
//   --anon-key <key>     the project's public key: publishable, or legacy anon   env SUPABASE_PUBLISHABLE_KEY, SUPABASE_ANON_KEY
//   --email <email>      smoke user                                     env SMOKE_EMAIL (default: the demo user)
//   --password <pw>      its password (prefer the env var in CI)        env SMOKE_PASSWORD
//   --web-url <url>      also check the web app and its config.json     env SMOKE_WEB_URL
//   --wait <seconds>     keep retrying health this long (fresh deploys) default 0
//
// Locally, without flags, it targets `npm start`'s stack (gateway and web app) from .env.local.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { formatResult, runSmoke } from './smoke/checks.ts';

const ROOT = resolve(import.meta.dirname, '..');
// supabase/seed.sql's demo user exists on every local stack; deployed environments get their own.
const DEMO_USER = { email: 'demo@example.com', password: 'demo-password' };

/** The dev stack's env file, so a bare `npm run smoke` works right after `npm start`. */
function localStackEnv(): Record<string, string> {
  const file = resolve(ROOT, '.env.local');
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

const Options = z.object({
  url: z.url({ protocol: /^https?$/, error: 'give --url (or SUPABASE_URL): the project URL, http(s)' }),
  anonKey: z.string({ error: 'give --anon-key (or SUPABASE_PUBLISHABLE_KEY / SUPABASE_ANON_KEY)' }).trim().min(1, 'the anon key is empty'),
  email: z.email('--email (or SMOKE_EMAIL) is not an email address'),
  password: z.string().min(1, 'the smoke password is empty'),
  webUrl: z.url({ protocol: /^https?$/, error: '--web-url must be an http(s) URL' }).optional(),
  waitSeconds: z.coerce.number().int().min(0).max(600).default(0),
});

/** The smoke test's flags, for parseArgs (the uptime monitor takes them too). */
export const SMOKE_FLAGS = {
  url: { type: 'string' },
  'anon-key': { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  'web-url': { type: 'string' },
  wait: { type: 'string' },
} as const;

export type SmokeFlagValues = { [K in keyof typeof SMOKE_FLAGS]?: string };

export function parseOptions(argv: string[], env: Record<string, string | undefined>) {
  return smokeTarget(parseArgs({ args: argv, options: SMOKE_FLAGS, strict: true }).values, env);
}

/** The target from parsed flags, then env, then (without a URL) the dev stack's env file. */
export function smokeTarget(values: SmokeFlagValues, env: Record<string, string | undefined>) {
  // An unset GitHub secret or variable arrives as an empty string: the same as not set.
  const set = (name: string) => (env[name] === '' ? undefined : env[name]);
  const local = values.url || set('SUPABASE_URL') ? {} : localStackEnv();
  const parsed = Options.safeParse({
    url: values.url ?? set('SUPABASE_URL') ?? local.SUPABASE_URL,
    // The publishable key when the project has one, else the legacy anon key.
    anonKey:
      values['anon-key'] ??
      set('SUPABASE_PUBLISHABLE_KEY') ??
      set('SUPABASE_ANON_KEY') ??
      local.SUPABASE_PUBLISHABLE_KEY ??
      local.SUPABASE_ANON_KEY,
    email: values.email ?? set('SMOKE_EMAIL') ?? DEMO_USER.email,
    password: values.password ?? set('SMOKE_PASSWORD') ?? DEMO_USER.password,
    webUrl: values['web-url'] ?? set('SMOKE_WEB_URL') ?? local.WEB_URL,
    waitSeconds: values.wait ?? 0,
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`smoke: ${(err as Error).message}`);
    process.exit(2);
  }
  console.log(`smoke: ${options.url}${options.webUrl ? ` and ${options.webUrl}` : ''} as ${options.email}`);
  const results = await runSmoke({ ...options, waitMs: options.waitSeconds * 1000 });
  for (const r of results) console.log(formatResult(r));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`smoke: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

if (import.meta.filename === process.argv[1]) await main();
