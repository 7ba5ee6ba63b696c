// What an isolate's environment holds: what hosted gives every function (SUPABASE_URL & co)
// plus the project's secrets, never the local stack's own wiring. `supabase secrets set` refuses
// names starting with SUPABASE_, so a local secret named that way is refused here too instead
// of working locally and failing at deploy.
export const PLATFORM_VARIABLES = new Set([
  'SUPABASE_URL',
  'SUPABASE_ANON_KEY',
  'SUPABASE_SERVICE_ROLE_KEY',
  'SUPABASE_DB_URL',
  'SUPABASE_PUBLISHABLE_KEYS',
  'SUPABASE_SECRET_KEYS',
  'SUPABASE_JWKS',
]);

const STACK_ONLY = /^(LOCAL_|CCE_|WEB_PORT$|WEB_URL$|npm_)/;

export class SecretNameError extends Error {}

export function isolateEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const refused: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || STACK_ONLY.test(name)) continue;
    if (name.startsWith('SUPABASE_') && !PLATFORM_VARIABLES.has(name)) refused.push(name);
    out[name] = value;
  }
  if (refused.length) {
    throw new SecretNameError(`function secrets may not start with SUPABASE_ (hosted refuses them): ${refused.sort().join(', ')}`);
  }
  return out;
}
