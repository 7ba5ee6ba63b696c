// Packages the static web build for the host: Vercel's Build Output API v3 (`.vercel/output`, what
// `vercel deploy --prebuilt` uploads). `static/` is the SvelteKit build plus the environment's
// `config.json`; `config.json` (the output's own) carries the rules web/scripts/serve.mjs applies
// locally: security headers, hashed assets cached for a year, config.json never cached, a 404 for
// a missing asset, and index.html for every other path (client-side routes).
//
// Another host takes the same `static/` directory and the same rules in its own syntax
// (docs/deploy.md, "Swapping the web host").
//
//   node --import tsx tools/deploy/web-output.ts --build web/build --out .vercel/output \
//     --supabase-url https://<ref>.supabase.co --anon-key <anon key>
// (or env SUPABASE_URL / SUPABASE_ANON_KEY)
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

/** Build Output API v3 routes: headers first (continue), then files, then the SPA fallback. */
export const ROUTES = [
  {
    src: '^/_app/immutable/(.*)$',
    headers: { ...SECURITY_HEADERS, 'cache-control': 'public, max-age=31536000, immutable' },
    continue: true,
  },
  { src: '^/config\\.json$', headers: { ...SECURITY_HEADERS, 'cache-control': 'no-store' }, continue: true },
  { src: '^/(?!_app/immutable/|config\\.json$)(.*)$', headers: { ...SECURITY_HEADERS, 'cache-control': 'no-cache' }, continue: true },
  { handle: 'filesystem' },
  // Only extension-less paths outside /_app are app routes; a missing script or image stays a 404.
  { src: '^/(?!_app/)(?:[^/]*/)*[^/.]*$', dest: '/index.html' },
] as const;

/** The claims part of a JWT, or null when the key is not one (new-style sb_publishable_ keys). */
function jwtRole(key: string): string | null {
  const parts = key.split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { role?: unknown };
    return typeof claims.role === 'string' ? claims.role : null;
  } catch {
    return null;
  }
}

const isLocalHost = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

export const RuntimeConfig = z
  .object({
    supabaseUrl: z.url({ protocol: /^https?$/, error: 'the Supabase URL must be an http(s) URL' }),
    supabaseAnonKey: z.string({ error: 'the anon key is required' }).trim().min(1, 'the anon key is empty'),
  })
  .transform((c) => ({ supabaseUrl: c.supabaseUrl.replace(/\/+$/, ''), supabaseAnonKey: c.supabaseAnonKey }))
  .superRefine((c, ctx) => {
    const url = new URL(c.supabaseUrl);
    if (url.protocol !== 'https:' && !isLocalHost(url))
      ctx.addIssue({ code: 'custom', message: 'a deployed web app must reach Supabase over https' });
    if (url.search || url.hash) ctx.addIssue({ code: 'custom', message: 'the Supabase URL must not have a query or fragment' });
    // config.json is public: a key that bypasses RLS must never end up in it.
    if (jwtRole(c.supabaseAnonKey) === 'service_role' || c.supabaseAnonKey.startsWith('sb_secret_')) {
      ctx.addIssue({ code: 'custom', message: 'that is a secret (service role) key; config.json takes the public anon key' });
    }
  });
export type RuntimeConfig = z.output<typeof RuntimeConfig>;

export function writeWebOutput(opts: {
  buildDir: string;
  outDir: string;
  config: { supabaseUrl?: string; supabaseAnonKey?: string };
}): RuntimeConfig {
  const parsed = RuntimeConfig.safeParse(opts.config);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  if (!existsSync(resolve(opts.buildDir, 'index.html'))) {
    throw new Error(`${opts.buildDir}/index.html is missing: build the web app first (cd web && npm ci && npm run build)`);
  }
  rmSync(opts.outDir, { recursive: true, force: true });
  const staticDir = resolve(opts.outDir, 'static');
  mkdirSync(staticDir, { recursive: true });
  cpSync(opts.buildDir, staticDir, { recursive: true, filter: (src) => !src.endsWith('config.example.json') });
  writeFileSync(resolve(staticDir, 'config.json'), JSON.stringify(parsed.data, null, 2) + '\n');
  writeFileSync(resolve(opts.outDir, 'config.json'), JSON.stringify({ version: 3, routes: ROUTES }, null, 2) + '\n');
  return parsed.data;
}

function main() {
  const { values } = parseArgs({
    options: { build: { type: 'string' }, out: { type: 'string' }, 'supabase-url': { type: 'string' }, 'anon-key': { type: 'string' } },
    strict: true,
  });
  const buildDir = resolve(values.build ?? 'web/build');
  const outDir = resolve(values.out ?? '.vercel/output');
  const config = writeWebOutput({
    buildDir,
    outDir,
    // The publishable key when the project has one, else the legacy anon key.
    config: {
      supabaseUrl: values['supabase-url'] ?? process.env.SUPABASE_URL,
      supabaseAnonKey: values['anon-key'] ?? (process.env.SUPABASE_PUBLISHABLE_KEY || process.env.SUPABASE_ANON_KEY),
    },
  });
  console.log(`web: ${buildDir} → ${outDir} (Build Output API v3), config.json → ${config.supabaseUrl}`);
}

if (import.meta.filename === process.argv[1]) {
  try {
    main();
  } catch (err) {
    console.error(`web: ${(err as Error).message}`);
    process.exit(2);
  }
}
