// The runtime configuration the SPA reads from /config.json at start, so one build serves every
// environment: only the Supabase project URL and its public key, never a secret. The public key
// is the publishable key (sb_publishable_…) or, for a project with only the legacy keys, the anon
// key; the field keeps its first name so config.json files already deployed stay valid.
import * as z from 'zod/mini';

export interface RuntimeConfig {
  supabaseUrl: string;
  supabaseAnonKey: string;
}

const Shape = z.object({ supabaseUrl: z.string(), supabaseAnonKey: z.string() });

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function parseRuntimeConfig(value: unknown): RuntimeConfig {
  const parsed = Shape.safeParse(value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'config'))].join(', ');
    throw new ConfigError(`config.json must be an object with string fields supabaseUrl and supabaseAnonKey (problem with: ${fields})`);
  }
  const { supabaseUrl, supabaseAnonKey } = parsed.data;
  let url: URL;
  try {
    url = new URL(supabaseUrl);
  } catch {
    throw new ConfigError(`config.json: supabaseUrl is not a URL: ${JSON.stringify(supabaseUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('config.json: supabaseUrl must use http or https');
  }
  if (url.search || url.hash) throw new ConfigError('config.json: supabaseUrl must not have a query or fragment');
  const key = supabaseAnonKey.trim();
  if (key === '' || /\s/.test(key)) throw new ConfigError('config.json: supabaseAnonKey is empty or contains spaces');
  return { supabaseUrl: url.href.replace(/\/+$/, ''), supabaseAnonKey: key };
}

/** Fetches and checks /config.json; `fetchFn` is a parameter so tests need no network. */
export async function loadRuntimeConfig(fetchFn: typeof fetch = fetch, path = '/config.json'): Promise<RuntimeConfig> {
  let res: Response;
  try {
    res = await fetchFn(path, { cache: 'no-store', headers: { accept: 'application/json' } });
  } catch {
    throw new ConfigError(`could not load ${path}: the server did not answer`);
  }
  if (!res.ok) throw new ConfigError(`could not load ${path}: HTTP ${res.status}`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ConfigError(`${path} is not valid JSON`);
  }
  return parseRuntimeConfig(body);
}
